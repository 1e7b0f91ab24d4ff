using System.CommandLine;
using System.CommandLine.Parsing;
using RobotFleet.Maps;

namespace RobotFleet.Server;

/// <summary>The server's command line (<c>robotfleet --demo --robots 3 ...</c>).</summary>
public static class ServerCommand
{
    /// <summary>
    /// How the command is invoked: Ctrl+C and SIGTERM are handled by the program (Program.cs: the first stops the web host
    /// gracefully, within its shutdown timeout; later ones are ignored, also after the host has let go of its own
    /// handlers, when a second SIGTERM ended the process with 143). System.CommandLine's own handling (<see cref="InvocationConfiguration.ProcessTerminationTimeout"/>, 2 s by
    /// default) ended the process with exit code 143 when stopping took longer than 2 s, and a second signal then crashed it
    /// (exit 134: "An attempt was made to transition a task to a final state when it had already completed", 2.0.15).
    /// </summary>
    public static InvocationConfiguration Invocation => new() { ProcessTerminationTimeout = null };

    /// <summary>
    /// Runs the server's command line: a usage error (a value that does not parse or fails a check, an unknown option) is
    /// refused one line per error, <c>robotfleet: ... (see --help)</c>, with exit code 1 and without the help text, as the
    /// server's other refusals; otherwise the server runs until <paramref name="cancellationToken"/> stops it.
    /// </summary>
    /// <param name="args">The command line.</param>
    /// <param name="configuration">How to invoke it (the program passes <see cref="Invocation"/>); errors go to its <see cref="InvocationConfiguration.Error"/>.</param>
    /// <param name="cancellationToken">Stops the server gracefully.</param>
    /// <returns>The exit code: 0 after a stop, 1 for a usage error, a refusal or a background service that failed, 75 when this instance lost the leader lease.</returns>
    public static Task<int> RunAsync(string[] args, InvocationConfiguration configuration, CancellationToken cancellationToken = default) =>
        CommandLineUsage.InvokeAsync(Build().Parse(args), "robotfleet", configuration, cancellationToken);

    /// <summary>
    /// Builds the root command with every option. A value that does not parse (e.g. <c>--robots abc</c>) or fails a check is a
    /// usage error naming the option (<see cref="RunAsync"/> prints it in one line, exit code 1); no stack trace.
    /// </summary>
    public static RootCommand Build()
    {
        var demo = new Option<bool>("--demo") { Description = "Submit a delivery between random locations every few seconds" };
        var robots = new Option<int>("--robots") { CustomParser = CommandLineUsage.WholeNumber, Description = "Number of simulated robots", DefaultValueFactory = _ => 3 };
        var map = new Option<string>("--map") { Description = "Site map directory (holding site.geojson)", DefaultValueFactory = _ => "maps/office" };
        var timeScale = new Option<double>("--time-scale") { CustomParser = CommandLineUsage.Number, Description = "Simulated seconds per real second", DefaultValueFactory = _ => 1 };
        var httpPort = new Option<int>("--http-port") { CustomParser = CommandLineUsage.WholeNumber, Description = "HTTP port on 127.0.0.1", DefaultValueFactory = _ => 5080 };
        var mqttPort = new Option<int>("--mqtt-port") { CustomParser = CommandLineUsage.WholeNumber, Description = "Embedded MQTT broker port on 127.0.0.1", DefaultValueFactory = _ => 1883 };
        var noSim = new Option<bool>("--no-sim") { Description = "Control plane and broker only, for external robots and agents" };
        var bind = new Option<string>("--bind-address") { Description = "IPv4 address to listen on (HTTP and MQTT); 0.0.0.0 in containers", DefaultValueFactory = _ => "127.0.0.1" };

        robots.Validators.Add(r => { if (TryValue(r, out int v) && v < 0) r.AddError($"--robots must be 0 or more, not {v}"); });
        timeScale.Validators.Add(r =>
        {
            if (TryValue(r, out double value) && (!double.IsFinite(value) || value <= 0))
                r.AddError($"--time-scale must be a positive finite number, not {value}");
        });
        foreach (var port in new[] { httpPort, mqttPort })
        {
            port.Validators.Add(r =>
            {
                if (TryValue(r, out int value) && value is < 0 or > 65535)
                    r.AddError($"{port.Name} must be a TCP port 0..65535, not {value}");
            });
        }

        var broker = new Option<string?>("--broker") { Description = "External MQTT broker, mqtt://host:port or mqtts://host:port (TLS), optionally user:password@ before the host (no embedded broker starts); default $ROBOTFLEET_BROKER or embedded" };
        var mqttCa = new Option<string?>("--mqtt-ca") { Description = "CA file (PEM/DER) the external broker's TLS certificate must chain to (mqtts:// only); default $ROBOTFLEET_MQTT_CA or the system trust store" };
        var mqttUsername = new Option<string?>("--mqtt-username") { Description = "MQTT user name at the external broker (wins over the URL's); default $ROBOTFLEET_MQTT_USERNAME" };
        var mqttPassword = new Option<string?>("--mqtt-password") { Description = "MQTT password at the external broker (wins over the URL's); default $ROBOTFLEET_MQTT_PASSWORD (prefer the variable: a command line is visible to other users)" };
        var mqttProtocol = new Option<string?>("--mqtt-protocol") { Description = "MQTT protocol version of the gateway and simulated robots: 5 or 3.1.1; default $ROBOTFLEET_MQTT_PROTOCOL or 5" };
        broker.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } value)
                AddErrorIfThrows(r, () => Vda5050.MqttBrokerSettings.Parse(value));
        });
        mqttProtocol.Validators.Add(r => AddErrorIfThrows(r, () => Vda5050.MqttBrokerSettings.ParseProtocol(r.GetValueOrDefault<string?>())));
        mqttCa.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { Length: > 0 } file && !File.Exists(file))
                r.AddError($"--mqtt-ca '{file}': no such file");
        });
        var schedulesDb = new Option<string?>("--schedules-db") { Description = "Schedules (Quartz) store: memory, a PostgreSQL connection string (Host=...; clustered across instances) or a SQLite file; default $ROBOTFLEET_SCHEDULES_DB, else the missions database when it is PostgreSQL, else robotfleet.db in the data directory" };
        var bus = new Option<string?>("--bus") { Description = "Message bus: memory, or RabbitMQ as rabbitmq://user:pass@host:port/vhost (also amqp://); default $ROBOTFLEET_BUS or memory" };
        bus.Validators.Add(r =>
        {
            try
            {
                Hosting.RabbitMqBusAddress.Parse(r.GetValueOrDefault<string?>());
            }
            catch (ArgumentException e)
            {
                r.AddError(e.Message);
            }
        });
        var busPrefix = new Option<string?>("--bus-prefix") { Description = "Prefix of every RabbitMQ queue and exchange name, to share a virtual host between fleets; default $ROBOTFLEET_BUS_PREFIX or none", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ROBOTFLEET_BUS_PREFIX") is { Length: > 0 } env ? env : null };
        var dataDir = new Option<string>("--data-dir") { Description = "Data directory (schedules: robotfleet.db, missions: missions.db); default $ROBOTFLEET_DATA_DIR or ./data", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ROBOTFLEET_DATA_DIR") is { Length: > 0 } env ? env : "./data" };
        var instanceId = new Option<string?>("--instance-id") { Description = "This instance's name among several of one fleet (shared PostgreSQL missions database); default $ROBOTFLEET_INSTANCE_ID or host-pid", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ROBOTFLEET_INSTANCE_ID") is { Length: > 0 } env ? env : null };
        var missionsDb = new Option<string?>("--missions-db") { Description = "Missions database instead of missions.db in the data directory: a PostgreSQL connection string (Host=...;Database=...;Username=...) or a SQLite file; default $ROBOTFLEET_MISSIONS_DB" };

        var modelLimit = new Option<int>("--model-upload-limit-mb") { CustomParser = CommandLineUsage.WholeNumber, Description = "Largest .onnx file POST /api/models accepts, MiB", DefaultValueFactory = _ => 512 };
        modelLimit.Validators.Add(r => { if (TryValue(r, out int v) && v <= 0) r.AddError($"--model-upload-limit-mb must be positive, not {v}"); });
        var requireModelSignature = new Option<bool>("--require-model-signature") { Description = "Reject model uploads without a technician's signature" };
        var trustedModelKeys = new Option<string[]>("--trusted-model-key") { Description = "PEM public key of a technician whose model upload signatures are accepted (repeatable)", AllowMultipleArgumentsPerToken = false };
        var modelSigningKey = new Option<string?>("--model-signing-key") { Description = "PEM private key (ECDSA P-256) the registry signs models with; default: keys/fleet-model-signing.pem in the data directory, created on first start" };

        var publicUrl = new Option<string?>("--public-url") { Description = "Base URL robots download models from (e.g. http://fleet.example:5080/); default: the HTTP listen address" };
        publicUrl.Validators.Add(r =>
        {
            var value = r.GetValueOrDefault<string?>();
            if (value is not null && !(Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
                r.AddError($"--public-url must be an http(s) URL, not '{value}'");
        });
        var traffic = new Option<string?>("--traffic") { Description = "Traffic control: pibt (PIBT controller: footprint conflicts, lifts, doorways, robots pushed aside) or reservation (the older rule: waypoint reservations, waits detected and broken; ignores the footprint); default $ROBOTFLEET_TRAFFIC or pibt" };
        traffic.Validators.Add(r => { if (TryValue(r, out string? v) && v is not ("pibt" or "reservation")) r.AddError($"--traffic must be reservation or pibt, not '{v}'"); });
        var oneWayLoops = new Option<bool>("--one-way-loops") { Description = "Drive every loop of two-way single lanes of the map one way round (bridges into dead-end wings stay two-way): no head-on meetings on loops; routes round a loop may get longer; a lane closed on a loop opens its loops both ways until it opens again" };
        var loopFlowWeight = new Option<string?>("--loop-flow-weight") { Description = "With --traffic pibt and without --one-way-loops: how many times its seconds a lane against its loop's flow (the way --one-way-loops would drive the loop) costs in the PIBT controller's routing, 1 to 100, or auto (by the fleet's density: robots per 100 m of loop lanes; a robot alone 1), the default; 1: every lane at its seconds" };
        loopFlowWeight.Validators.Add(r => { if (TryValue(r, out string? v) && v is not null && !TryLoopFlowWeight(v, out _)) r.AddError($"--loop-flow-weight must be auto or a factor from 1 to {RobotFleet.Planning.Traffic.PibtTrafficController.MaxLoopFlowWeight}, not '{v}'"); });
        var queueAgeing = new Option<double>("--queue-ageing") { CustomParser = CommandLineUsage.Number, Description = "Ageing of the mission queue: seconds of assignment cost per second a mission has waited for a robot, so that with more missions than robots a far mission is not passed over for ever by newer, nearer ones of its priority (10 minutes of waiting outweigh 60 s more driving at 0.1); 0: cheapest first", DefaultValueFactory = _ => RobotFleet.Planning.AssignmentPlannerOptions.DefaultQueueAgeingWeight };
        queueAgeing.Validators.Add(r => { if (TryValue(r, out double v) && v is not (>= 0 and <= RobotFleet.Planning.AssignmentPlannerOptions.MaxQueueAgeingWeight)) r.AddError($"--queue-ageing must be from 0 to {RobotFleet.Planning.AssignmentPlannerOptions.MaxQueueAgeingWeight}, not {v}"); });
        var perceptionHz = new Option<double>("--perception-hz") { CustomParser = CommandLineUsage.Number, Description = "Camera frames a second each simulated robot runs its active model on (0: off)", DefaultValueFactory = _ => 0 };
        perceptionHz.Validators.Add(r => { if (TryValue(r, out double v) && (!double.IsFinite(v) || v < 0)) r.AddError($"--perception-hz must be 0 or more, not {v}"); });

        var command = new RootCommand("RobotFleet server: control plane, embedded MQTT broker, HTTP API and simulated robots in one process")
        {
            demo, robots, map, timeScale, httpPort, mqttPort, noSim, bind, dataDir, broker, missionsDb, modelLimit, requireModelSignature, trustedModelKeys, modelSigningKey,
            publicUrl, perceptionHz, bus, busPrefix, instanceId,
            mqttCa, mqttUsername, mqttPassword, mqttProtocol, schedulesDb, traffic, oneWayLoops, loopFlowWeight, queueAgeing,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            // The broker options' environment fallbacks are read here, not as the options' defaults (help would print a
            // default, and these may hold a password); a malformed value is refused naming the option, as on the command line.
            var brokerUrl = parse.GetValue(broker) ?? Env("ROBOTFLEET_BROKER");
            try
            {
                if (brokerUrl is not null)
                    Vda5050.MqttBrokerSettings.Parse(brokerUrl);
            }
            catch (ArgumentException e)
            {
                await Console.Error.WriteLineAsync($"robotfleet: {e.Message} (from ROBOTFLEET_BROKER)");
                return 1;
            }

            // Likewise the bus and the missions database (a RabbitMQ URL or a connection string may hold a password: help
            // printed them as defaults).
            var busUrl = parse.GetValue(bus) ?? Env("ROBOTFLEET_BUS");
            try
            {
                Hosting.RabbitMqBusAddress.Parse(busUrl);
            }
            catch (ArgumentException e)
            {
                await Console.Error.WriteLineAsync($"robotfleet: {e.Message} (from ROBOTFLEET_BUS)");
                return 1;
            }

            // As for the broker: the environment fallback is checked here, so a typo in ROBOTFLEET_TRAFFIC is refused, not ignored.
            var trafficName = parse.GetValue(traffic) ?? Env("ROBOTFLEET_TRAFFIC") ?? "pibt";
            if (trafficName is not ("pibt" or "reservation"))
            {
                await Console.Error.WriteLineAsync($"robotfleet: --traffic '{trafficName}' (from ROBOTFLEET_TRAFFIC): must be reservation or pibt");
                return 1;
            }

            // A loop flow weight only means something to PIBT on loops driven both ways: refused where it would be ignored.
            if (parse.GetValue(loopFlowWeight) is { } flowGiven && (trafficName != "pibt" || parse.GetValue(oneWayLoops)))
            {
                await Console.Error.WriteLineAsync($"robotfleet: --loop-flow-weight {flowGiven}: " + (trafficName != "pibt"
                    ? $"applies to --traffic pibt only (traffic control here: {trafficName})"
                    : "does not go with --one-way-loops (the lanes against the loops are closed there)"));
                return 1;
            }

            var options = new ServerOptions
            {
                Demo = parse.GetValue(demo),
                Robots = parse.GetValue(robots),
                MapDirectory = parse.GetValue(map)!,
                TimeScale = parse.GetValue(timeScale),
                HttpPort = parse.GetValue(httpPort),
                MqttPort = parse.GetValue(mqttPort),
                NoSimulation = parse.GetValue(noSim),
                BindAddress = parse.GetValue(bind)!,
                DataDirectory = parse.GetValue(dataDir)!,
                MissionsDatabase = parse.GetValue(missionsDb) ?? Env("ROBOTFLEET_MISSIONS_DB"),
                TrafficControl = trafficName == "pibt" ? RobotFleet.ControlPlane.TrafficControl.Pibt : RobotFleet.ControlPlane.TrafficControl.Reservation,
                OneWayLoops = parse.GetValue(oneWayLoops),
                LoopFlowWeight = parse.GetValue(loopFlowWeight) is { } flow && TryLoopFlowWeight(flow, out var weight) ? weight : null,
                QueueAgeingWeight = parse.GetValue(queueAgeing),
                Broker = brokerUrl is { Length: > 0 } external ? new Uri(external.Trim()) : null,
                ModelUploadLimit = parse.GetValue(modelLimit) * 1024L * 1024,
                RequireModelSignature = parse.GetValue(requireModelSignature),
                TrustedModelKeyFiles = parse.GetValue(trustedModelKeys) ?? [],
                ModelSigningKeyFile = parse.GetValue(modelSigningKey),
                PublicBaseUrl = parse.GetValue(publicUrl) is { Length: > 0 } url ? new Uri(url) : null,
                PerceptionRate = parse.GetValue(perceptionHz),
                Bus = busUrl,
                BusPrefix = parse.GetValue(busPrefix),
                MqttCaFile = parse.GetValue(mqttCa) ?? Env("ROBOTFLEET_MQTT_CA"),
                MqttUsername = parse.GetValue(mqttUsername) ?? Env("ROBOTFLEET_MQTT_USERNAME"),
                MqttPassword = parse.GetValue(mqttPassword) ?? Env("ROBOTFLEET_MQTT_PASSWORD"),
                MqttProtocol = parse.GetValue(mqttProtocol) ?? Env("ROBOTFLEET_MQTT_PROTOCOL"),
                SchedulesDatabase = parse.GetValue(schedulesDb) ?? Env("ROBOTFLEET_SCHEDULES_DB"),
            };
            if (parse.GetValue(instanceId) is { } id)
                options = options with { InstanceId = id };

            // One server per data directory: a second one on it restored the first one's missions and took them over, and the
            // first then crashed. Refused here, before anything there is read or written; held until the process ends.
            string? lockError = null;
            using var dataLock = options.DataDirectory is { Length: > 0 } dataDirectory ? TryLockDataDirectory(dataDirectory, out lockError) : null;
            if (lockError is not null)
            {
                await Console.Error.WriteLineAsync($"robotfleet: {lockError}");
                return 1;
            }

            WebApplication app;
            try
            {
                // The host logs "Hosting failed to start" with the stack trace of a failure reported in one line below: left out.
                app = RobotFleetServer.Build(options, builder => Hosting.StartupFaultLogFilter.WrapConsole(builder.Services,
                    e => IsPortError(e) || IsHttpPortInUse(e) || (cancellationToken.IsCancellationRequested && IsCancellation(e))));
            }
            catch (Exception e) when (e is FileNotFoundException or SiteMapValidationException or ArgumentException or InvalidOperationException or IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"robotfleet: {e.Message}");
                return 1;
            }

            return await RunServerAsync(app, options, Console.Error, cancellationToken);
        });
        return command;
    }

    /// <summary>
    /// Runs a built server (<see cref="RobotFleetServer.Build"/>) until <paramref name="cancellationToken"/> stops it, reporting a
    /// failure in one line on <paramref name="error"/>: a port in use (exit code 1), a background service that failed and so
    /// stopped the host (1), a stop signal while it was still starting (0).
    /// </summary>
    /// <returns>The exit code: 0 after a stop, 1 for a failure, 75 when this instance lost the leader lease.</returns>
    internal static async Task<int> RunServerAsync(WebApplication app, ServerOptions options, TextWriter error, CancellationToken cancellationToken)
    {
        var started = app.Lifetime.ApplicationStarted; // taken now: RunAsync disposes the host, and its services with it
        // Taken now as well: singletons, the very instances the host runs.
        var background = app.Services.GetServices<IHostedService>().OfType<BackgroundService>().ToList();
        // Which had failed when the host began to stop: a service that faults while the host stops (the gateway's broker link
        // or the leader lease's database gone at that moment) did not stop it, and a stop asked for stays exit 0 (review).
        List<BackgroundService> failedBeforeStop = [];
        using var stopping = app.Lifetime.ApplicationStopping.Register(() => failedBeforeStop = background.Where(s => s.ExecuteTask is { IsFaulted: true }).ToList());
        try
        {
            await app.RunAsync(cancellationToken);
        }
        catch (InvalidOperationException e) when (IsPortError(e))
        {
            await error.WriteLineAsync($"robotfleet: {e.Message}");
            return 1;
        }
        catch (IOException e) when (IsHttpPortInUse(e))
        {
            await error.WriteLineAsync($"robotfleet: HTTP port {options.HttpPort} is in use ({e.Message}); use --http-port to pick another");
            return 1;
        }
        catch (Exception e) when (cancellationToken.IsCancellationRequested && !started.IsCancellationRequested && IsCancellation(e))
        {
            // A stop signal while the host starts cancels whatever is starting (the broker, the bus, the schedules
            // database): the stop asked for, not a failure; one line and exit 0, as for a stop once running.
            await error.WriteLineAsync($"robotfleet: stopped while starting (a stop signal came before the server was up: {e.GetType().Name}: {e.Message})");
            return 0;
        }

        // A background service that failed stopped the host (BackgroundServiceExceptionBehavior.StopHost, the default):
        // RunAsync returns as after a stop (.NET 10), and the exit code was 0, so a service manager restarting on failure
        // did not. Its error was logged by the host; one line naming it, and a failure's exit code. Only a faulted task
        // counts: a service cancelled by the stop ends cancelled (the host's own rule for what it logs as a failure).
        var failed = failedBeforeStop;
        if (failed.Count > 0)
        {
            await error.WriteLineAsync("robotfleet: stopped because a background service failed: " + string.Join("; ", failed.Select(s =>
            {
                var e = s.ExecuteTask!.Exception!.InnerException ?? s.ExecuteTask.Exception; // what ExecuteAsync threw
                return $"{s.GetType().Name} ({e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")})";
            })));
            return Environment.ExitCode is 0 ? 1 : Environment.ExitCode;
        }

        return Environment.ExitCode; // 0, or the code a stop asked for (75: this instance lost the leader lease)
    }

    /// <summary>Takes the data directory's lock (<see cref="Hosting.DataDirectoryLock"/>); null and why not when it cannot (another server holds it).</summary>
    private static Hosting.DataDirectoryLock? TryLockDataDirectory(string directory, out string? error)
    {
        try
        {
            error = null;
            return Hosting.DataDirectoryLock.Acquire(directory);
        }
        catch (IOException e)
        {
            error = e.Message;
            return null;
        }
    }

    /// <summary>A socket that could not be opened, e.g. the embedded broker's port in use (its message says which).</summary>
    private static bool IsPortError(Exception e) => e is InvalidOperationException { InnerException: System.Net.Sockets.SocketException };

    /// <summary>The HTTP port in use (Kestrel's bind failure).</summary>
    private static bool IsHttpPortInUse(Exception e) => e is IOException { InnerException: Microsoft.AspNetCore.Connections.AddressInUseException };

    /// <summary>True when the exception is, or was caused by, a cancellation (Quartz wraps one in its JobPersistenceException).</summary>
    private static bool IsCancellation(Exception e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is OperationCanceledException)
                return true;
            if (inner is AggregateException aggregate && aggregate.InnerExceptions.Any(IsCancellation))
                return true;
        }

        return false;
    }

    /// <summary>An environment variable's value, or null when unset or empty (the options' fallbacks).</summary>
    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;

    /// <summary>Adds the <see cref="ArgumentException"/> message <paramref name="check"/> throws (it names the option) as the option's error.</summary>
    private static void AddErrorIfThrows(OptionResult result, Action check)
    {
        try
        {
            check();
        }
        catch (ArgumentException e)
        {
            result.AddError(e.Message);
        }
    }

    /// <summary>Reads <c>--loop-flow-weight</c>: auto (null: by density) or a factor from 1 to 100; false for anything else.</summary>
    private static bool TryLoopFlowWeight(string value, out double? weight)
    {
        weight = null;
        if (value.Equals("auto", StringComparison.OrdinalIgnoreCase))
            return true;
        if (!double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var w)
            || !(w >= 1 && w <= RobotFleet.Planning.Traffic.PibtTrafficController.MaxLoopFlowWeight))
            return false;
        weight = w;
        return true;
    }

    /// <summary>
    /// The option's value for a validator; false when the value did not convert (e.g. <c>--robots abc</c>): the parser reports
    /// that error itself, naming the option, and <see cref="OptionResult.GetValueOrDefault{T}"/> would throw.
    /// </summary>
    private static bool TryValue<T>(OptionResult result, out T value)
    {
        try
        {
            value = result.GetValueOrDefault<T>()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            value = default!;
            return false;
        }
    }
}
