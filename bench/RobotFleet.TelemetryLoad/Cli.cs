using System.CommandLine;
using System.Globalization;

namespace RobotFleet.TelemetryLoad;

/// <summary>
/// The command line. A wrong option prints one line <c>telemetryload: OPTION VALUE: problem</c> and exits with
/// <see cref="UsageError"/> (2); an unreachable broker prints one line and exits with <see cref="BrokerError"/> (1).
/// </summary>
internal static class Cli
{
    public const int UsageError = 2;
    public const int BrokerError = 1;

    /// <summary>The broker when neither <c>--broker</c> nor ROBOTFLEET_TEST_MQTT is set.</summary>
    public const string DefaultBroker = "mqtt://127.0.0.1:18830";

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellation)
    {
        var broker = new Option<string>("--broker")
        {
            Description = $"External MQTT broker, mqtt://host:port (default: ROBOTFLEET_TEST_MQTT, else {DefaultBroker}).",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ROBOTFLEET_TEST_MQTT") is { Length: > 0 } env ? env : DefaultBroker,
        };
        var robots = new Option<int>("--robots") { CustomParser = CommandLineUsage.WholeNumber, Description = "Simulated robots.", DefaultValueFactory = _ => 1000 };
        var hz = new Option<int>("--hz") { CustomParser = CommandLineUsage.WholeNumber, Description = "State messages a second per robot.", DefaultValueFactory = _ => 10 };
        var seconds = new Option<double>("--seconds") { CustomParser = CommandLineUsage.Number, Description = "Length of each measured phase, seconds.", DefaultValueFactory = _ => 30 };
        var connections = new Option<int?>("--connections") { CustomParser = CommandLineUsage.NullableWholeNumber, Description = "MQTT connections the robots share (robot i on connection i mod N); default one per robot." };
        var rounds = new Option<int>("--rounds") { CustomParser = CommandLineUsage.WholeNumber, Description = "Rounds of baseline and control plane (their order alternates round by round).", DefaultValueFactory = _ => 1 };
        var warmup = new Option<double>("--warmup-s") { CustomParser = CommandLineUsage.Number, Description = "Seconds of each subscriber before the first round, not counted (0: none).", DefaultValueFactory = _ => 3 };
        var nodeSeconds = new Option<double>("--node-s") { CustomParser = CommandLineUsage.Number, Description = "Seconds between two waypoints reached per robot (a significant state change).", DefaultValueFactory = _ => 5 };
        var leadIn = new Option<double>("--lead-in-s") { CustomParser = CommandLineUsage.Number, Description = "Seconds each phase publishes before it counts (the control plane's start-up burst; 0: none).", DefaultValueFactory = _ => 2 };
        var profile = new Option<bool>("--profile") { Description = "Print each phase's latency per second and its GC collections and pauses." };
        var output = new Option<FileInfo?>("--out") { Description = "Also write the report (Markdown) to this file." };
        var quiet = new Option<bool>("--quiet") { Description = "No progress lines." };
        var root = new RootCommand("Telemetry ingest bench: simulated VDA 5050 robots publish state through an external MQTT broker into the control plane " +
                                   "(the real MqttGateway + in-memory MassTransit bus), against a raw MQTTnet subscriber as the baseline, back to back in one run.")
        {
            broker, robots, hz, seconds, connections, rounds, warmup, leadIn, nodeSeconds, profile, output, quiet,
        };

        root.SetAction(async (result, token) =>
        {
            var started = DateTime.UtcNow;
            BenchSettings settings;
            try
            {
                var robotCount = Range("--robots", result.GetValue(robots), 1, 100_000);
                settings = new BenchSettings
                {
                    Broker = Broker(result.GetValue(broker)!),
                    Robots = robotCount,
                    Hz = Range("--hz", result.GetValue(hz), 1, 1000),
                    Phase = Seconds("--seconds", result.GetValue(seconds), allowZero: false),
                    Connections = result.GetValue(connections) is { } c ? Range("--connections", c, 1, robotCount) : robotCount,
                    Rounds = Range("--rounds", result.GetValue(rounds), 1, 100),
                    Warmup = Seconds("--warmup-s", result.GetValue(warmup), allowZero: true),
                    NodeSeconds = Seconds("--node-s", result.GetValue(nodeSeconds), allowZero: false).TotalSeconds,
                    LeadIn = Seconds("--lead-in-s", result.GetValue(leadIn), allowZero: true),
                    Profile = result.GetValue(profile),
                    Progress = result.GetValue(quiet) ? null : stderr,
                };
            }
            catch (UsageException e)
            {
                await stderr.WriteLineAsync($"telemetryload: {e.Message}");
                return UsageError;
            }

            List<PhaseResult> results;
            try
            {
                results = await TelemetryBench.RunAsync(settings, token);
            }
            catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or MQTTnet.Adapter.MqttConnectingFailedException or TimeoutException or System.Net.Sockets.SocketException)
            {
                await stderr.WriteLineAsync($"telemetryload: --broker {settings.Broker}: {OneLine(e.Message)}");
                return BrokerError;
            }

            var command = "dotnet run -c Release --project bench/RobotFleet.TelemetryLoad -- " + string.Join(' ', args);
            var report = TelemetryBench.Report(settings, results, command.TrimEnd(), started);
            await stdout.WriteLineAsync(report);
            if (result.GetValue(output) is { } file)
                await File.WriteAllTextAsync(file.FullName, report, CancellationToken.None);
            return 0;
        });

        return await CommandLineUsage.InvokeAsync(root.Parse(args), "telemetryload", new InvocationConfiguration { Output = stdout, Error = stderr }, cancellation, UsageError);
    }

    private static Uri Broker(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme != "mqtt" || string.IsNullOrEmpty(uri.Host))
            throw new UsageException("--broker", value, "is not an MQTT address (mqtt://host:port)");
        return uri;
    }

    private static int Range(string option, int value, int min, int max) =>
        value >= min && value <= max ? value : throw new UsageException(option, value.ToString(CultureInfo.InvariantCulture), $"must be within {min}..{max}");

    private static TimeSpan Seconds(string option, double value, bool allowZero)
    {
        var text = value.ToString(CultureInfo.InvariantCulture);
        if (!double.IsFinite(value) || value < 0 || (!allowZero && value == 0))
            throw new UsageException(option, text, allowZero ? "must be a finite number >= 0" : "must be a finite number > 0");
        if (value > 24 * 3600)
            throw new UsageException(option, text, "must be at most 86400 (a day)");
        return TimeSpan.FromSeconds(value);
    }

    private static string OneLine(string text) => string.Join(' ', text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>A wrong option: <c>OPTION VALUE: problem</c>.</summary>
    private sealed class UsageException(string option, string value, string problem) : Exception($"{option} {value}: {problem}");
}
