using System.CommandLine;

namespace RobotFleet.EdgeAgent.Tests;

/// <summary>The agent's command line: a value that does not parse is a usage error naming the option, never an unhandled exception.</summary>
public sealed class ProgramParseErrorTests
{
    [Theory]
    [InlineData("--robots", "abc")]
    [InlineData("--time-scale", "abc")]
    [InlineData("--state-interval", "soon")]
    [InlineData("--perception-hz", "fast")]
    [InlineData("--simulate=maybe", "--simulate")]
    [InlineData("--mqtt-version", "4")]
    public async Task A_value_that_does_not_parse_is_a_usage_error_naming_the_option(string option, string value)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await Program.BuildCommand().Parse(["--map", "maps/office", "--simulate", option, value])
            .InvokeAsync(new InvocationConfiguration { Output = output, Error = error });

        Assert.Equal(1, code);
        Assert.Contains(option, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_required_option_is_a_usage_error()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await Program.BuildCommand().Parse(["--simulate"]).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });

        Assert.Equal(1, code);
        Assert.Contains("--map", error.ToString(), StringComparison.Ordinal);
    }
}
