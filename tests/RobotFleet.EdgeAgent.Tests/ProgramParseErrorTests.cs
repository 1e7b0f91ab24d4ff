using System.CommandLine;
using RobotFleet.TestSupport;

namespace RobotFleet.EdgeAgent.Tests;

/// <summary>The agent's command line: a value that does not parse is a usage error naming the option or the value, never an unhandled exception.</summary>
public sealed class ProgramParseErrorTests
{
    [Theory]
    [InlineData("--robots", "abc", "--robots")]
    [InlineData("--time-scale", "abc", "--time-scale")]
    [InlineData("--state-interval", "soon", "--state-interval")]
    [InlineData("--perception-hz", "fast", "--perception-hz")]
    [InlineData("--time-scale", "0,5", "--time-scale 0,5: not a number")] // was read as 5
    [InlineData("--robots", "abc", "edge-agent: --robots abc: not a whole number")] // was System.CommandLine's words, naming System.Int32
    [InlineData("--robots", "1,000", "edge-agent: --robots 1,000: not a whole number")]
    [InlineData("--robots", "3.0", "edge-agent: --robots 3.0: not a whole number")]
    [InlineData("--simulate=maybe", "--robots=2", "'maybe'")]
    [InlineData("--mqtt-version", "4", "'4'")]
    [InlineData("--mqtt-protocol", "3", "--mqtt-protocol")]
    public async Task A_value_that_does_not_parse_is_a_usage_error_naming_it(string option, string value, string named)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await Program.RunAsync(["--map", "maps/office", "--simulate", option, value], new InvocationConfiguration { Output = output, Error = error });

        Assert.Equal(1, code);
        Assert.Contains(named, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("System.Int32", error.ToString(), StringComparison.Ordinal);
        UsageRefusal.AssertOneLinePerError("edge-agent", error.ToString(), output.ToString());
    }

    [Theory]
    [InlineData("--robots", "-2")]
    [InlineData("--robots", "0")]
    [InlineData("--time-scale", "0")]
    [InlineData("--time-scale", "NaN")] // passed the old check (NaN <= 0 is false)
    [InlineData("--time-scale", "Infinity")]
    [InlineData("--state-interval", "-1")]
    [InlineData("--state-interval", "NaN")]
    public async Task A_count_scale_or_interval_that_is_not_positive_is_refused_before_anything_starts(string option, string value)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        // A real map, and a stop after 10 s: a value let through would start the robots (they run until the stop, exit 0).
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var map = Path.Combine(SimulatedFleetTests.RepoRoot(), "maps", "office");
        var code = await Program.RunAsync(["--map", map, "--simulate", "--broker", "mqtt://127.0.0.1:9", option, value], new InvocationConfiguration { Output = output, Error = error }, stop.Token);

        Assert.Equal(2, code); // the agent's own refusal (its line, naming the option and the value, goes to standard error)
    }

    /// <summary>
    /// More robots than the map has waypoints (one each) is the agent's own refusal, one line naming the option, exit 2 as its
    /// other checks: it was an unhandled exception with its stack trace, exit 1 (found by a new user). Run as a process, to see
    /// its standard error.
    /// </summary>
    [Fact]
    public async Task More_robots_than_waypoints_is_refused_in_one_line_with_exit_code_2()
    {
        var info = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "RobotFleet.EdgeAgent.dll"));
        foreach (var arg in new[] { "--simulate", "--robots", "30", "--broker", "mqtt://127.0.0.1:9", "--map", Path.Combine(SimulatedFleetTests.RepoRoot(), "maps", "office") })
            info.ArgumentList.Add(arg);
        using var process = System.Diagnostics.Process.Start(info)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("the agent still ran after 60 s: " + await output + await error);
        }

        Assert.Equal(2, process.ExitCode);
        Assert.Equal("edge-agent: --robots 30: the map 'office' has 29 waypoints, one robot each at most\n", (await error).ReplaceLineEndings("\n"));
        Assert.Empty(await output);
    }

    [Fact]
    public void The_signals_are_left_to_the_program()
    {
        // System.CommandLine's own handling ended the process 2 s after a signal and crashed it at a second one while
        // stopping took longer (2.0.15); Main handles SIGINT and SIGTERM itself.
        Assert.Null(Program.Invocation.ProcessTerminationTimeout);
    }

    [Fact]
    public async Task A_missing_required_option_is_a_usage_error()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await Program.RunAsync(["--simulate"], new InvocationConfiguration { Output = output, Error = error });

        Assert.Equal(1, code);
        Assert.Contains("--map", error.ToString(), StringComparison.Ordinal);
        UsageRefusal.AssertOneLinePerError("edge-agent", error.ToString(), output.ToString());
    }
}
