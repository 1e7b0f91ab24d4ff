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

    /// <summary>Runs the CLI's command line.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="configuration">How to invoke it; errors go to its <see cref="InvocationConfiguration.Error"/>.</param>
    /// <param name="cancellationToken">Passed to the command's action.</param>
    /// <returns>The exit code.</returns>
    internal static Task<int> RunAsync(string[] args, InvocationConfiguration configuration, CancellationToken cancellationToken = default) =>
        Build().Parse(args).InvokeAsync(configuration, cancellationToken);
}
