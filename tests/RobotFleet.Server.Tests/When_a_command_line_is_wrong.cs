using System.CommandLine;
using RobotFleet.Cli;
using RobotFleet.TestSupport;

namespace RobotFleet.Server.Tests;

/// <summary>A value that does not parse is a usage error naming the option (exit code 1), never an unhandled exception.</summary>
public sealed class When_a_command_line_is_wrong
{
    [Theory]
    [InlineData("--robots", "abc")]
    [InlineData("--time-scale", "abc")]
    [InlineData("--http-port", "abc")]
    [InlineData("--mqtt-port", "x")]
    [InlineData("--model-upload-limit-mb", "lots")]
    [InlineData("--perception-hz", "fast")]
    [InlineData("--robots", "-1")]
    [InlineData("--time-scale", "0")]
    [InlineData("--http-port", "70000")]
    [InlineData("--broker", "http://x")]
    [InlineData("--broker", "mqtt://")]
    [InlineData("--broker", "mqtt://host:1883/path")]
    [InlineData("--mqtt-protocol", "4")]
    [InlineData("--mqtt-ca", "/no/such/ca.pem")]
    [InlineData("--public-url", "ftp://x")]
    [InlineData("--traffic", "fast")]
    [InlineData("--loop-flow-weight", "0.5")]
    [InlineData("--loop-flow-weight", "101")]
    [InlineData("--loop-flow-weight", "NaN")]
    [InlineData("--loop-flow-weight", "heavy")]
    [InlineData("--queue-ageing", "-0.1")]
    [InlineData("--queue-ageing", "NaN")]
    [InlineData("--queue-ageing", "101")]
    [InlineData("--queue-ageing", "0,5")] // was read as 5: ten times what was meant
    [InlineData("--time-scale", "0,5")]
    [InlineData("--queue-ageing", "fair")]
    public async Task The_server_prints_a_usage_error_naming_the_option_and_exits_1(string option, string value)
    {
        var (code, output, error) = await RunServerCommandWithOutputAsync(option, value);

        Assert.Equal(1, code);
        Assert.Contains(option, error, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        UsageRefusal.AssertOneLinePerError("robotfleet", error, output);
    }

    /// <summary>A whole number that does not parse is refused in the project's words, not System.CommandLine's naming a .NET type (found by a new user).</summary>
    [Theory]
    [InlineData("--robots", "abc", "not a whole number")]
    [InlineData("--robots", "2.5", "not a whole number")]
    [InlineData("--http-port", "5,080", "not a whole number")] // no thousands separators, whatever the culture
    [InlineData("--mqtt-port", "x", "not a whole number")]
    [InlineData("--model-upload-limit-mb", "lots", "not a whole number")]
    [InlineData("--robots", "99999999999", "out of range")]
    public async Task The_server_refuses_a_whole_number_that_does_not_parse_naming_the_option_not_a_type(string option, string value, string problem)
    {
        var (code, output, error) = await RunServerCommandWithOutputAsync(option, value);

        Assert.Equal(1, code);
        Assert.StartsWith($"robotfleet: {option} {value}: {problem}", error, StringComparison.Ordinal);
        Assert.DoesNotContain("System.Int32", error, StringComparison.Ordinal);
        UsageRefusal.AssertOneLinePerError("robotfleet", error, output);
    }

    [Fact]
    public async Task Help_wins_over_an_error_and_version_with_other_options_is_refused_in_one_line()
    {
        var (helpCode, helpError) = await RunServerCommandAsync("--robots", "abc", "--help");
        Assert.Equal(0, helpCode); // System.CommandLine's help action clears the errors: help is printed
        Assert.Empty(helpError);

        var (code, output, error) = await RunServerCommandWithOutputAsync("--version", "--robots", "3");
        Assert.Equal(1, code);
        Assert.Contains("--version", error, StringComparison.Ordinal);
        UsageRefusal.AssertOneLinePerError("robotfleet", error, output);
    }

    [Fact]
    public async Task A_number_option_followed_by_another_option_is_refused_in_one_line_saying_it_needs_a_value()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"rf-needs-value-{Guid.NewGuid():N}");
        var (code, output, error) = await RunServerCommandWithOutputAsync("--robots", "--data-dir", dir);

        Assert.Equal(1, code);
        // Was "--robots --data-dir: not a whole number" and a second line for the directory (found by a new user).
        Assert.StartsWith("robotfleet: --robots needs a value before --data-dir", error, StringComparison.Ordinal);
        Assert.DoesNotContain(dir, error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir), "a refused command line created the data directory");
        UsageRefusal.AssertOneLinePerError("robotfleet", error, output);
    }

    [Fact]
    public async Task An_unknown_option_is_refused_in_one_line()
    {
        var (code, output, error) = await RunServerCommandWithOutputAsync("--robot", "3");

        Assert.Equal(1, code);
        Assert.Contains("robotfleet: Unrecognized command or argument '--robot'.", error, StringComparison.Ordinal);
        Assert.Contains("\n  --robots", error, StringComparison.Ordinal); // System.CommandLine's typo suggestion, kept
        Assert.DoesNotContain("'3' was not matched", error, StringComparison.Ordinal); // it suggested -h for the number: noise
        Assert.DoesNotContain("'3'", error, StringComparison.Ordinal); // the unknown option's value is no error of its own (found by a new user)
        Assert.DoesNotContain("\n  -h", error, StringComparison.Ordinal);
        UsageRefusal.AssertOneLinePerError("robotfleet", error, output);
    }

    /// <summary>A typo in ROBOTFLEET_TRAFFIC is refused at start, not silently replaced by the default (found by a new user).</summary>
    [Fact]
    public async Task The_server_refuses_a_traffic_control_from_the_environment_it_does_not_know()
    {
        var info = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "RobotFleet.Server.dll"));
        info.ArgumentList.Add("--data-dir");
        info.ArgumentList.Add(Path.Combine(Path.GetTempPath(), $"rf-traffic-{Guid.NewGuid():N}"));
        info.Environment["ROBOTFLEET_TRAFFIC"] = "PIBT-fast";
        using var process = System.Diagnostics.Process.Start(info)!;
        var error = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        var exited = process.WaitForExit(60_000);
        if (!exited)
            process.Kill(entireProcessTree: true);

        Assert.True(exited, "the server started with ROBOTFLEET_TRAFFIC=PIBT-fast");
        Assert.Equal(1, process.ExitCode);
        Assert.Contains("--traffic 'PIBT-fast' (from ROBOTFLEET_TRAFFIC)", await error, StringComparison.Ordinal);
    }

    /// <summary>
    /// Help never prints a password from the environment: the bus URL and the missions connection string were shown as
    /// the options' defaults (noticed in review).
    /// </summary>
    [Fact]
    public async Task Help_does_not_print_the_bus_or_database_passwords_from_the_environment()
    {
        var (code, output, _) = await RunServerAsync(
            new Dictionary<string, string> { ["ROBOTFLEET_BUS"] = "rabbitmq://fleet:bus-s3cret@rabbit:5672/", ["ROBOTFLEET_MISSIONS_DB"] = "Host=db;Username=fleet;Password=db-s3cret" },
            "--help");

        Assert.Equal(0, code);
        Assert.Contains("--missions-db", output, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", output, StringComparison.Ordinal);
    }

    /// <summary>A loop flow weight where it would be ignored (no PIBT, or the loops driven one way) is refused, not silently dropped (found in review).</summary>
    [Theory]
    [InlineData("does not go with --one-way-loops", "--loop-flow-weight", "auto", "--one-way-loops")]
    [InlineData("applies to --traffic pibt only (traffic control here: reservation)", "--loop-flow-weight", "10", "--traffic", "reservation")]
    public async Task The_server_refuses_a_loop_flow_weight_it_would_ignore(string expected, params string[] args)
    {
        var (code, _, error) = await RunServerAsync([], [.. args, "--data-dir", Path.Combine(Path.GetTempPath(), $"rf-flow-{Guid.NewGuid():N}")]);

        Assert.Equal(1, code);
        Assert.Contains($"robotfleet: --loop-flow-weight {args[1]}: {expected}", error, StringComparison.Ordinal);
    }

    /// <summary>A malformed ROBOTFLEET_BUS is refused at start naming the variable (its check moved from the option's default to start-up).</summary>
    [Fact]
    public async Task The_server_refuses_a_bus_from_the_environment_it_cannot_read()
    {
        var (code, _, error) = await RunServerAsync(new Dictionary<string, string> { ["ROBOTFLEET_BUS"] = "http://rabbit:5672/" }, "--data-dir", Path.Combine(Path.GetTempPath(), $"rf-bus-{Guid.NewGuid():N}"));

        Assert.Equal(1, code);
        Assert.Contains("ROBOTFLEET_BUS", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Output, string Error)> RunServerAsync(Dictionary<string, string> environment, params string[] args)
    {
        var info = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "RobotFleet.Server.dll"));
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        foreach (var (name, value) in environment)
            info.Environment[name] = value;
        using var process = System.Diagnostics.Process.Start(info)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        var exited = process.WaitForExit(60_000);
        if (!exited)
            process.Kill(entireProcessTree: true);
        Assert.True(exited, $"the server did not exit within 60 s ({string.Join(" ", args)})");
        return (process.ExitCode, await output, await error);
    }

    [Theory]
    [InlineData("--demo")]
    [InlineData("--no-sim")]
    [InlineData("--require-model-signature")]
    public async Task The_server_refuses_a_flag_value_that_is_not_a_bool_naming_the_option(string option)
    {
        var (code, error) = await RunServerCommandAsync($"{option}=maybe");

        Assert.Equal(1, code);
        Assert.Contains("maybe", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("models", "upload", "--server", "127.0.0.1:5080", "--model", "m.onnx", "--manifest", "m.json")]
    [InlineData("models", "upload", "--server", "http://x", "--manifest", "m.json")]
    [InlineData("models", "keygen")]
    [InlineData("maps", "import-rmf", "x.building.yaml")]
    public async Task The_cli_prints_a_usage_error_and_exits_1(params string[] args)
    {
        var (code, output, error) = await RunCliCommandAsync(args);

        Assert.Equal(1, code);
        Assert.NotEmpty(error);
        Assert.DoesNotContain("Exception", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        UsageRefusal.AssertOneLinePerError("robotfleet", error, output);
    }

    [Theory]
    [InlineData("long")]
    [InlineData("2,5")] // was read as 25 (the comma taken for a thousands separator)
    public async Task The_cli_refuses_a_lane_length_that_is_not_a_number_naming_the_option_not_a_type(string value)
    {
        var (code, output, error) = await RunCliCommandAsync("maps", "import-rmf", "x.building.yaml", "--out", "out", "--max-lane-length", value);

        Assert.Equal(1, code);
        Assert.Contains($"robotfleet: --max-lane-length {value}: not a number", error, StringComparison.Ordinal);
        Assert.DoesNotContain("System.Double", error, StringComparison.Ordinal);
        UsageRefusal.AssertOneLinePerError("robotfleet", error, output);
    }

    [Theory]
    [InlineData("two")]
    [InlineData("1.0")]
    public async Task The_cli_refuses_a_graph_that_is_not_a_whole_number_naming_the_option_not_a_type(string value)
    {
        var (code, output, error) = await RunCliCommandAsync("maps", "import-rmf", "x.building.yaml", "--out", "out", "--graph", value);

        Assert.Equal(1, code);
        Assert.Contains($"robotfleet: --graph {value}: not a whole number", error, StringComparison.Ordinal);
        Assert.DoesNotContain("System.Int32", error, StringComparison.Ordinal);
        UsageRefusal.AssertOneLinePerError("robotfleet", error, output);
    }

    [Fact]
    public async Task The_cli_refuses_an_unknown_option_in_one_line_with_its_suggestion()
    {
        var (code, output, error) = await RunCliCommandAsync("models", "upload", "--sever", "http://127.0.0.1:5080", "--model", "m.onnx", "--manifest", "m.json");

        Assert.Equal(1, code);
        Assert.Contains("robotfleet: Unrecognized command or argument '--sever'.", error, StringComparison.Ordinal);
        Assert.Contains("robotfleet: Option '--server' is required.", error, StringComparison.Ordinal);
        Assert.Contains("\n  --server", error, StringComparison.Ordinal); // System.CommandLine's typo suggestion, kept
        UsageRefusal.AssertOneLinePerError("robotfleet", error, output);
    }

    [Fact]
    public async Task The_cli_refuses_an_unknown_subcommand_in_one_line_with_its_suggestion()
    {
        var (code, output, error) = await RunCliCommandAsync("maps", "import-rfm", "x.building.yaml", "--out", "out");

        Assert.Equal(1, code);
        Assert.StartsWith("robotfleet: 'import-rfm' is not a maps command (see --help)\n", error.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("\n  import-rmf", error, StringComparison.Ordinal);
        Assert.DoesNotContain("x.building.yaml", error, StringComparison.Ordinal); // a line for every word after it, before
        UsageRefusal.AssertOneLinePerError("robotfleet", error, output);
    }

    /// <summary>
    /// A mistyped command is one line naming it, not "Required command was not provided." and a line for every word after
    /// it (found by a new user); System.CommandLine's suggestions for it stay below.
    /// </summary>
    [Theory]
    [InlineData("missoins", null, "missoins", "list")]
    [InlineData("mpas", "maps", "mpas", "import-rmf", "x.building.yaml")]
    [InlineData("help", "--help", "help")]
    public async Task The_cli_refuses_an_unknown_command_in_one_line_naming_it(string unknown, string? suggested, params string[] args)
    {
        var (code, output, error) = await RunCliCommandAsync(args);

        Assert.Equal(1, code);
        var lines = error.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"robotfleet: '{unknown}' is not a command (see --help)", lines[0]);
        Assert.All(lines.Skip(1), l => Assert.StartsWith("  ", l, StringComparison.Ordinal)); // only suggestions below
        if (suggested is not null)
            Assert.Contains($"  {suggested}", lines.Skip(1));
        Assert.DoesNotContain(args.Length > 1 ? $"'{args[1]}'" : "Required command", error, StringComparison.Ordinal);
        UsageRefusal.AssertOneLinePerError("robotfleet", error, output);
    }

    [Theory]
    [InlineData("3\r")] // a script with Windows line endings
    [InlineData(" 3 ")]
    [InlineData("+3")]
    public void The_server_takes_a_whole_number_with_a_sign_or_spaces_round_it_as_before(string value)
    {
        // Regression (review): the shared whole-number parser first took digits and a sign only, where System.CommandLine's
        // own parser, before it, also took the white space round them.
        var parsed = ServerCommand.Build().Parse(["--robots", value]);

        Assert.Empty(parsed.Errors);
        Assert.Equal(3, parsed.GetValue<int>("--robots"));
    }

    [Fact]
    public async Task The_server_still_refuses_a_stray_word_as_before()
    {
        // The server has no commands: a word is an unmatched argument, not a mistyped command.
        var (code, output, error) = await RunServerCommandWithOutputAsync("--robots", "3", "demo");

        Assert.Equal(1, code);
        Assert.DoesNotContain("is not a command", error, StringComparison.Ordinal);
        Assert.Contains("'demo'", error, StringComparison.Ordinal);
        UsageRefusal.AssertOneLinePerError("robotfleet", error, output);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("maps", "import-rmf", "--help")]
    [InlineData("maps", "import-rmf", "x.building.yaml", "--graph", "two", "--help")] // help wins over an error, as for the server
    public async Task The_cli_still_prints_help_with_exit_code_0(params string[] args)
    {
        var (code, output, error) = await RunCliCommandAsync(args);

        Assert.Equal(0, code);
        Assert.Contains("Usage:", output, StringComparison.Ordinal);
        Assert.Empty(error);
    }

    [Theory]
    [InlineData("--graph", "-1")]
    [InlineData("--max-lane-length", "0.1")]
    [InlineData("--max-lane-length", "NaN")]
    public async Task The_map_import_refuses_a_bad_graph_or_lane_length_before_it_writes_anything(string option, string value)
    {
        var output = Directory.CreateTempSubdirectory("robotfleet-import-");
        try
        {
            var building = Path.Combine(When_the_control_plane_restarts.FindRepoRoot(), "maps", "hotel", "hotel.building.yaml");
            var root = new RootCommand("test") { MapsCommands.Create() };
            var (code, error) = await InvokeAsync(root, "maps", "import-rmf", building, "--out", output.FullName, option, value);

            Assert.Equal(1, code);
            Assert.Contains($"{option} {value}: must be", error, StringComparison.Ordinal); // the option as typed, not the importer's setting
            Assert.False(File.Exists(Path.Combine(output.FullName, "site.geojson")));
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    /// <summary>Runs the server's command line as the program does (<see cref="ServerCommand.RunAsync"/>), its standard error captured.</summary>
    internal static async Task<(int Code, string Error)> RunServerCommandAsync(params string[] args)
    {
        var (code, _, error) = await RunServerCommandWithOutputAsync(args);
        return (code, error);
    }

    /// <summary>Runs the server's command line as the program does (<see cref="ServerCommand.RunAsync"/>), its standard output and error captured.</summary>
    internal static async Task<(int Code, string Output, string Error)> RunServerCommandWithOutputAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await ServerCommand.RunAsync(args, new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Runs the CLI's command line as the program does (<see cref="CliCommand.RunAsync"/>), its standard output and error captured.</summary>
    internal static async Task<(int Code, string Output, string Error)> RunCliCommandAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CliCommand.RunAsync(args, new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    internal static async Task<(int Code, string Error)> InvokeAsync(RootCommand command, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await command.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (code, error.ToString());
    }
}
