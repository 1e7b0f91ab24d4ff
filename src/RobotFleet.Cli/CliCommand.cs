using System.CommandLine;

namespace RobotFleet.Cli;

/// <summary>The operator CLI's command line (<c>robotfleet maps ...</c>, <c>robotfleet models ...</c>). Stateless; thread-safe.</summary>
internal static class CliCommand
{
    /// <summary>Builds the root command with its command groups.</summary>
    internal static RootCommand Build() => new("RobotFleet operator and technician tools.")
    {
        MapsCommands.Create(),
        ModelsCommands.Create(),
    };

    /// <summary>
    /// Runs the CLI's command line: a usage error (a value that does not parse or fails a check, an unknown or missing option or
    /// command) is refused one line per error, <c>robotfleet: ... (see --help)</c>, typo suggestions indented below, exit code 1,
    /// without the help text (as the server and the edge agent); otherwise the command runs (its own failures,
    /// <c>robotfleet: error: ...</c>, exit 1 too).
    /// </summary>
    /// <param name="args">The command line.</param>
    /// <param name="configuration">How to invoke it; usage errors go to its <see cref="InvocationConfiguration.Error"/>, help to its <see cref="InvocationConfiguration.Output"/>.</param>
    /// <param name="cancellationToken">Passed to the command's action.</param>
    /// <returns>The exit code: 0 done (or help printed), 1 a usage error or a failure.</returns>
    internal static Task<int> RunAsync(string[] args, InvocationConfiguration configuration, CancellationToken cancellationToken = default) =>
        CommandLineUsage.InvokeAsync(Build().Parse(args), "robotfleet", configuration, cancellationToken);
}
