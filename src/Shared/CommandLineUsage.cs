using System.CommandLine;

namespace RobotFleet;

/// <summary>
/// Runs a parsed command line the way the RobotFleet programs refuse usage errors: each error (a value that does not parse
/// or fails a check, an unknown or missing option) on one line, "<c>program: message</c>", the last followed by
/// "(see --help)", and exit code 1, without System.CommandLine's default of the whole help text after them (the error
/// scrolled out of sight above 60 lines of options). Stateless; thread-safe.
/// </summary>
internal static class CommandLineUsage
{
    /// <summary>Invokes <paramref name="parsed"/>, or refuses it as above when it has errors.</summary>
    /// <param name="parsed">The parse result.</param>
    /// <param name="program">The name the errors start with (<c>robotfleet</c>, <c>edge-agent</c>).</param>
    /// <param name="configuration">How to invoke it; its <see cref="InvocationConfiguration.Error"/> (standard error when null) receives the errors.</param>
    /// <param name="cancellationToken">Passed to the command's action.</param>
    /// <returns>1 for a usage error, else the action's exit code.</returns>
    public static async Task<int> InvokeAsync(ParseResult parsed, string program, InvocationConfiguration configuration, CancellationToken cancellationToken = default)
    {
        if (parsed.Errors.Count == 0)
            return await parsed.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
        var error = configuration.Error ?? Console.Error;
        for (var i = 0; i < parsed.Errors.Count; i++)
            await error.WriteLineAsync($"{program}: {parsed.Errors[i].Message}{(i == parsed.Errors.Count - 1 ? " (see --help)" : "")}").ConfigureAwait(false);
        return 1;
    }
}
