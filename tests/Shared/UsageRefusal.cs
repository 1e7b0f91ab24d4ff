namespace RobotFleet.TestSupport;

/// <summary>Checks a program's usage error as <c>src/Shared/CommandLineUsage.cs</c> says it.</summary>
internal static class UsageRefusal
{
    /// <summary>
    /// Asserts the refusal: every line that is not an indented typo suggestion starts "<c>{program}: </c>", the last of them
    /// ends "(see --help)", and the help text is not printed after them (it was: 60 lines of options, the error scrolled
    /// out of sight), on standard error nor on standard output, where System.CommandLine writes it.
    /// </summary>
    /// <param name="program">The name the lines start with.</param>
    /// <param name="error">What the program wrote to standard error.</param>
    /// <param name="output">What it wrote to standard output: nothing, for a refusal.</param>
    public static void AssertOneLinePerError(string program, string error, string output)
    {
        Assert.Empty(output);
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).Where(l => !l.StartsWith("  ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(lines);
        Assert.All(lines, line => Assert.StartsWith($"{program}: ", line, StringComparison.Ordinal));
        Assert.EndsWith("(see --help)", lines[^1], StringComparison.Ordinal);
        Assert.DoesNotContain("Usage:", error, StringComparison.Ordinal);
    }
}
