using System.CommandLine;
using System.Runtime.InteropServices;
using MQTTnet.Formatter;
using RobotFleet.Maps;
using RobotFleet.Vda5050;

namespace RobotFleet.EdgeAgent;

/// <summary>
/// Command line of the standalone edge agent, e.g.
/// <c>--broker mqtt://127.0.0.1:1883 --map maps/office --simulate --robots 3</c>; Ctrl+C stops cleanly (OFFLINE).
/// </summary>
public static class Program
{
    /// <summary>
    /// Parses the arguments and runs the agent until Ctrl+C or SIGTERM; returns the process exit code. The first signal stops
    /// it cleanly (robots go OFFLINE, however long that takes: with the broker gone, MQTTnet's timeout); a second ends it at
    /// once, as without a handler (exit 130 or 143). The signals are handled here, not by System.CommandLine, whose handling
    /// ended the process 2 s after a signal and crashed it at a second one while stopping took longer (2.0.15).
    /// </summary>
    public static async Task<int> Main(string[] args)
    {
        using var stop = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            if (stop.IsCancellationRequested)
                return; // the second: the default, the process ends
            context.Cancel = true; // the agent stops by itself once cancelled
            stop.Cancel();
        }

        using var sigInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        return await RunAsync(args, Invocation, stop.Token).ConfigureAwait(false);
    }

    /// <summary>How the command is invoked: the signals are the program's (see <see cref="Main"/>), System.CommandLine's own handling is off.</summary>
    public static InvocationConfiguration Invocation => new() { ProcessTerminationTimeout = null };

    /// <summary>
    /// Runs the agent's command line: a usage error (a value that does not parse, an unknown or missing option) is refused one
    /// line per error, <c>edge-agent: ... (see --help)</c>, exit code 1, without the help text; otherwise the agent runs until
    /// <paramref name="cancellationToken"/> stops it (its own refusals, e.g. no <c>--simulate</c>, exit 2).
    /// </summary>
    /// <param name="args">The command line.</param>
    /// <param name="configuration">How to invoke it; usage errors go to its <see cref="InvocationConfiguration.Error"/>.</param>
    /// <param name="cancellationToken">Stops the agent cleanly.</param>
    /// <returns>The exit code.</returns>
    public static Task<int> RunAsync(string[] args, InvocationConfiguration configuration, CancellationToken cancellationToken = default) =>
        CommandLineUsage.InvokeAsync(BuildCommand().Parse(args), "edge-agent", configuration, cancellationToken);

    /// <summary>Builds the root command with all options.</summary>
    public static RootCommand BuildCommand()
    {
        var broker = new Option<string?>("--broker") { Description = "MQTT broker, mqtt://host:port or mqtts://host:port (TLS), optionally user:password@ before the host; default $ROBOTFLEET_BROKER or mqtt://127.0.0.1:1883",  };
        var mqttCa = new Option<string?>("--mqtt-ca") { Description = "PEM/DER file of the CA the broker's TLS certificate must chain to (mqtts:// only); default $ROBOTFLEET_MQTT_CA or the system trust store" };
        var mqttUsername = new Option<string?>("--mqtt-username") { Description = "MQTT user name (wins over the URL's); default $ROBOTFLEET_MQTT_USERNAME" };
        var mqttPassword = new Option<string?>("--mqtt-password") { Description = "MQTT password (wins over the URL's); default $ROBOTFLEET_MQTT_PASSWORD (prefer the variable: a command line is visible to other users)" };
        var map = new Option<string>("--map") { Description = "Site map directory (holding site.geojson) or file", Required = true };
        var simulate = new Option<bool>("--simulate") { Description = "Drive simulated robots (the only firmware in this build)" };
        var robots = new Option<int>("--robots") { CustomParser = CommandLineUsage.WholeNumber, Description = "Number of simulated robots", DefaultValueFactory = _ => 1 };
        var manufacturer = new Option<string>("--manufacturer") { Description = "VDA 5050 manufacturer", DefaultValueFactory = _ => "RobotFleet" };
        var serialPrefix = new Option<string>("--serial-prefix") { Description = "Serial numbers are {prefix}-1..{prefix}-N", DefaultValueFactory = _ => "sim" };
        var interfaceName = new Option<string>("--interface-name") { Description = "VDA 5050 interface name", DefaultValueFactory = _ => "uagv" };
        var timeScale = new Option<double>("--time-scale") { CustomParser = CommandLineUsage.Number, Description = "Simulated seconds per real second", DefaultValueFactory = _ => 1 };
        var stateInterval = new Option<double>("--state-interval") { CustomParser = CommandLineUsage.Number, Description = "Seconds between periodic state messages", DefaultValueFactory = _ => 1 };
        var mqttVersion = new Option<string?>("--mqtt-protocol", "--mqtt-version") { Description = "MQTT protocol version: 5 or 3.1.1; default $ROBOTFLEET_MQTT_PROTOCOL or 5",  };
        mqttVersion.Validators.Add(r =>
        {
            try
            {
                MqttBrokerSettings.ParseProtocol(r.GetValueOrDefault<string?>());
            }
            catch (ArgumentException e)
            {
                r.AddError(e.Message);
            }
        });
        var modelDir = new Option<string?>("--model-dir")
        {
            Description = "Directory of perception models (each robot uses {dir}/{serial}); turns on downloadModel/enableModel/deleteModel and modelStatus",
        };
        var trustedKey = new Option<string[]>("--trusted-key")
        {
            Description = "PEM file of a model registry's public key (ECDSA P-256) whose package signatures are trusted; repeatable. Without one every model is refused",
            AllowMultipleArgumentsPerToken = false,
        };

        var perceptionHz = new Option<double>("--perception-hz")
        {
            CustomParser = CommandLineUsage.Number,
            Description = "Perception runs per second per robot (camera frame, active model, report on robotfleet/v1/.../perception); 0 turns it off. Needs --model-dir",
            DefaultValueFactory = _ => 0,
        };

        var command = new RootCommand("RobotFleet edge agent: the AGV side of VDA 5050 v2 over MQTT")
        {
            broker, mqttCa, mqttUsername, mqttPassword, map, simulate, robots, manufacturer, serialPrefix, interfaceName, timeScale, stateInterval, mqttVersion, modelDir, trustedKey, perceptionHz,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!parse.GetValue(simulate))
            {
                await Console.Error.WriteLineAsync("edge-agent: only simulated robots are supported in this build: pass --simulate.").ConfigureAwait(false);
                return 2;
            }

            var count = parse.GetValue(robots);
            var scale = parse.GetValue(timeScale);
            var interval = parse.GetValue(stateInterval);
            var brokerUrl = parse.GetValue(broker) ?? Env("ROBOTFLEET_BROKER") ?? "mqtt://127.0.0.1:1883";
            MqttBrokerSettings brokerSettings;
            try
            {
                // Environment fallbacks read here, not as defaults: help would print them, and they may hold a password.
                brokerSettings = MqttBrokerSettings.Parse(brokerUrl, parse.GetValue(mqttCa) ?? Env("ROBOTFLEET_MQTT_CA"), parse.GetValue(mqttUsername) ?? Env("ROBOTFLEET_MQTT_USERNAME"),
                    parse.GetValue(mqttPassword) ?? Env("ROBOTFLEET_MQTT_PASSWORD"), parse.GetValue(mqttVersion) ?? Env("ROBOTFLEET_MQTT_PROTOCOL"));
            }
            catch (ArgumentException e)
            {
                await Console.Error.WriteLineAsync($"edge-agent: {e.Message}").ConfigureAwait(false);
                return 2;
            }

            var brokerUri = new Uri(brokerUrl.Trim());

            // Each named with the value given (was one line for the three, naming neither).
            var notPositive = new List<string>();
            if (count < 1)
                notPositive.Add(FormattableString.Invariant($"--robots must be 1 or more, not {count}"));
            if (!(scale > 0) || !double.IsFinite(scale))
                notPositive.Add(FormattableString.Invariant($"--time-scale must be a number above 0, not {scale}"));
            if (!(interval > 0) || !double.IsFinite(interval))
                notPositive.Add(FormattableString.Invariant($"--state-interval must be a number of seconds above 0, not {interval}"));
            if (notPositive.Count > 0)
            {
                foreach (var line in notPositive)
                    await Console.Error.WriteLineAsync($"edge-agent: {line}").ConfigureAwait(false);
                return 2;
            }

            var hz = parse.GetValue(perceptionHz);
            if (hz < 0 || hz > 100 || (hz > 0 && parse.GetValue(modelDir) is null))
            {
                await Console.Error.WriteLineAsync("edge-agent: --perception-hz must be between 0 and 100, and needs --model-dir.").ConfigureAwait(false);
                return 2;
            }

            var keys = new List<string>();
            foreach (var file in parse.GetValue(trustedKey) ?? [])
            {
                try
                {
                    var pem = await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false);
                    using var _ = RobotFleet.Perception.ModelSigning.ImportPublicKeyPem(pem);
                    keys.Add(pem);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
                {
                    await Console.Error.WriteLineAsync($"edge-agent: --trusted-key '{file}': {e.Message}").ConfigureAwait(false);
                    return 2;
                }
            }

            if (parse.GetValue(modelDir) is not null && keys.Count == 0)
            {
                await Console.Error.WriteLineAsync("edge-agent: warning: --model-dir without --trusted-key: every model download will be refused (signature not trusted).").ConfigureAwait(false);
            }

            SiteMap site;
            try
            {
                site = SiteMapGeoJson.Load(parse.GetValue(map)!);
            }
            catch (Exception e) when (e is FileNotFoundException or SiteMapValidationException)
            {
                await Console.Error.WriteLineAsync($"edge-agent: {e.Message}").ConfigureAwait(false);
                return 2;
            }

            // Each robot starts on a waypoint of its own (RobotPlacement.FromMap): refused in one line, not an unhandled
            // exception with its stack trace and exit 1 (found by a new user).
            if (RobotPlacement.TooMany(site, count) is { } tooMany)
            {
                await Console.Error.WriteLineAsync(FormattableString.Invariant($"edge-agent: --robots {count}: {tooMany}")).ConfigureAwait(false);
                return 2;
            }

            var options = new SimulatedFleetOptions
            {
                Broker = brokerUri,
                BrokerCaFile = brokerSettings.CaFile,
                BrokerUsername = brokerSettings.Username,
                BrokerPassword = brokerSettings.Password,
                ProtocolVersion = brokerSettings.Protocol == MqttProtocol.V311 ? MqttProtocolVersion.V311 : MqttProtocolVersion.V500,
                InterfaceName = parse.GetValue(interfaceName)!,
                Manufacturer = parse.GetValue(manufacturer)!,
                SerialPrefix = parse.GetValue(serialPrefix)!,
                Placements = RobotPlacement.FromMap(site, count),
                TimeScale = scale,
                Agent = new EdgeAgentOptions
                {
                    SerialNumber = "template",
                    StateInterval = TimeSpan.FromSeconds(interval),
                    IdleStateInterval = TimeSpan.FromSeconds(interval),
                    ModelDirectory = parse.GetValue(modelDir) is { } root ? Path.GetFullPath(root) : null,
                    TrustedKeys = keys,
                    PerceptionRate = hz,
                    Log = line => Console.Error.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {line}"),
                },
            };
            await using var fleet = await SimulatedFleet.StartAsync(options, cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"Started {count} simulated {(count == 1 ? "robot" : "robots")} on map '{site.Id}' against {brokerSettings}; Ctrl+C stops.");
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Console.WriteLine("Stopping: publishing OFFLINE.");
            }

            return 0;
        });
        return command;
    }

    /// <summary>An environment variable's value, or null when unset or empty.</summary>
    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
}
