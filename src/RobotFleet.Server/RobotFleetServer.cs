using System.Net;
using System.Net.Sockets;
using MassTransit;
using RobotFleet.ControlPlane;
using RobotFleet.ControlPlane.Missions;
using RobotFleet.ControlPlane.Models;
using RobotFleet.ControlPlane.Robots;
using RobotFleet.ControlPlane.Schedules;
using RobotFleet.Contracts;
using RobotFleet.Gateway;
using RobotFleet.Maps;
using Microsoft.Extensions.FileProviders;
using RobotFleet.Server.Alerts;
using RobotFleet.Server.Api;
using RobotFleet.Server.Hosting;
using RobotFleet.Server.Live;

namespace RobotFleet.Server;

/// <summary>
/// Composes the one-process RobotFleet: embedded MQTT broker, MassTransit bus (in memory, or RabbitMQ with <c>--bus</c>), gateway,
/// control plane, HTTP API on 127.0.0.1, and optionally simulated robots and the demo driver.
/// </summary>
public static class RobotFleetServer
{
    /// <summary>Builds the application; call <c>RunAsync</c> or <c>StartAsync</c> on the result.</summary>
    /// <param name="options">Server settings.</param>
    /// <param name="configure">Optional last say over the builder (tests use it to capture logs).</param>
    /// <exception cref="FileNotFoundException">The map directory or a model key file cannot be found (the message names every path tried).</exception>
    /// <exception cref="SiteMapValidationException">The map is invalid (the message names each feature and rule).</exception>
    /// <exception cref="ArgumentException">The bind address is not an IPv4 address, the broker is not an <c>mqtt(s)://</c> address (or
    /// its CA file, credentials or protocol version are not usable), the
    /// bus is neither <c>memory</c> nor a <c>rabbitmq://</c> address, a trusted model key is not a P-256 PEM public key, or there are
    /// more simulated robots than the map has waypoints (one each).</exception>
    /// <exception cref="InvalidOperationException">The model signing key is not a P-256 private key.</exception>
    public static WebApplication Build(ServerOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        var drawn = SiteMapGeoJson.Load(ResolveMapDirectory(options.MapDirectory));
        // With --one-way-loops the API and the live map show the loops one way round; the coordinator gets the map as drawn
        // and keeps the lanes against the loops closed itself, so a lane closed on a loop opens the way round (ControlPlaneOptions.OneWayLoops).
        var map = options.OneWayLoops ? Planning.OneWayLoops.Orient(drawn) : drawn;
        // Each simulated robot starts on a waypoint of its own (RobotPlacement.FromMap): refused here, naming the option, not
        // when the robots start (an unhandled exception with its stack trace; found by a new user).
        if (!options.NoSimulation && EdgeAgent.RobotPlacement.TooMany(map, options.Robots) is { } tooMany)
            throw new ArgumentException(FormattableString.Invariant($"--robots {options.Robots}: {tooMany}"));
        if (!IPAddress.TryParse(options.BindAddress, out var bindAddress) || bindAddress.AddressFamily != AddressFamily.InterNetwork)
            throw new ArgumentException($"--bind-address '{options.BindAddress}' is not an IPv4 address (e.g. 127.0.0.1 or 0.0.0.0)");
        var brokerPort = options.MqttPort == 0 ? EmbeddedBroker.FreePort() : options.MqttPort;
        var externalBroker = options.ExternalBroker(); // null: the embedded broker

        var rabbitMq = RabbitMqBusAddress.Parse(options.Bus);
        if (options.BusPrefix is { Length: > 0 } busPrefix && (busPrefix.Length > 64 || !busPrefix.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_')))
            throw new ArgumentException($"--bus-prefix '{busPrefix}' must be up to 64 letters, digits, '-', '.' or '_'");
        var instance = Guid.NewGuid().ToString("N")[..12]; // random: two instances on one host never share it

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://{bindAddress}:{options.HttpPort}");
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning).AddFilter("MassTransit", LogLevel.Warning).AddFilter("Quartz", LogLevel.Warning)
            .AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information); // "Now listening on: http://…" (where the API and web console are)
        builder.Logging.AddSimpleConsole(c =>
        {
            c.SingleLine = true;
            c.TimestampFormat = "HH:mm:ss ";
        });
        builder.Services.ConfigureHttpJsonOptions(o => ApiJson.Configure(o.SerializerOptions));
        builder.Services.AddBadRequestJson();

        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(map);
        // Several instances of one fleet share its PostgreSQL missions database; the one holding the leader lease decides
        // (Leadership). SQLite and in-memory stores are one instance's own: it leads from the start.
        var sharedStore = options.MissionsDatabase is { Length: > 0 } missionsDb && MissionDatabase.Parse(missionsDb) is { IsPostgres: true } postgres ? postgres : null;
        if (string.IsNullOrWhiteSpace(options.InstanceId) || options.InstanceId.Length > 64 || options.InstanceId.Any(char.IsControl))
            throw new ArgumentException($"--instance-id '{options.InstanceId}' must be 1 to 64 printable characters");
        if (externalBroker is not null)
        {
            services.AddGateway(new GatewayOptions { Standby = sharedStore is not null }.UseBroker(externalBroker));
        }
        else
        {
            services.AddSingleton(sp => new EmbeddedBroker(bindAddress, brokerPort, sp.GetRequiredService<ILogger<EmbeddedBroker>>()));
            services.AddHostedService(sp => sp.GetRequiredService<EmbeddedBroker>());
            services.AddGateway(new GatewayOptions { BrokerPort = brokerPort, ProtocolVersion = Vda5050.MqttBrokerSettings.ParseProtocol(options.MqttProtocol) == Vda5050.MqttProtocol.V311 ? MQTTnet.Formatter.MqttProtocolVersion.V311 : MQTTnet.Formatter.MqttProtocolVersion.V500, Standby = sharedStore is not null });
        }
        services.AddSingleton(sp => new Leadership(options, sharedStore is null ? null : new LeaderLease(sharedStore.ConnectionString, options.InstanceId),
            sp.GetRequiredService<FleetCoordinator>(), sp.GetRequiredService<MqttGateway>(), sp.GetRequiredService<MissionStore>(),
            sp.GetRequiredService<IMissionRepository>(), sp, sp.GetRequiredService<IHostApplicationLifetime>(), sp.GetRequiredService<ILogger<Leadership>>()));
        services.AddSingleton<IDecidingTurn>(sp => sp.GetRequiredService<Leadership>());
        services.AddHostedService(sp => sp.GetRequiredService<Leadership>());
        services.AddSingleton<RobotEventCounter>();
        services.AddConsumeObserver(sp => sp.GetRequiredService<RobotEventCounter>());
        var controlPlane = new ControlPlaneOptions { Map = drawn, OneWayLoops = options.OneWayLoops, LoopFlowWeight = options.LoopFlowWeight, QueueAgeingWeight = options.QueueAgeingWeight, DataDirectory = options.DataDirectory, MissionsDatabase = options.MissionsDatabase, TrafficControl = options.TrafficControl };
        services.AddMissions(controlPlane);
        if (sharedStore is not null)
            services.AddSingleton<ControlPlane.Schedules.IMissionCheck>(sp => new LeaderMissionCheck(sp.GetRequiredService<Leadership>(), sp.GetRequiredService<FleetCoordinator>()));
        services.AddModels(new ModelRegistryOptions
        {
            DataDirectory = options.DataDirectory,
            SigningKeyPem = options.ModelSigningKeyFile is { } keyFile ? ReadKeyFile(keyFile, "--model-signing-key") : null,
            TrustedUploadKeys = options.TrustedModelKeyFiles.Select(f => ReadKeyFile(f, "--trusted-model-key")).ToList(),
            RequireUploadSignature = options.RequireModelSignature,
        });
        services.AddSingleton<IRobotLastSeen, TwinLastSeen>();
        services.AddSingleton<IRolloutPackages, RegistryRolloutPackages>();
        services.AddSingleton(_ => new RobotTags(options.DataDirectory));
        services.AddSingleton<IRolloutFleet, TwinRolloutFleet>();
        services.AddRollouts(options.DataDirectory);
        services.AddSchedules(new ScheduleOptions { DataDirectory = options.DataDirectory, Database = options.SchedulesDatabaseSetting });
        services.AddMassTransit(bus =>
        {
            bus.DisableUsageTelemetry(); // runs offline: never call home
            bus.AddGatewayConsumers();
            bus.AddMissionsConsumers(controlPlane);
            bus.AddRolloutsConsumers();
            // Alerts and the live stream are this process's own state (its browsers, its alert list): each instance must see
            // every event, so these two get a temporary queue of their own per instance (fan-out), not one shared queue.
            bus.AddConsumer<AlertConsumer>().Endpoint(e => PerInstance(e, instance));
            bus.AddConsumer<LiveStreamConsumer>().Endpoint(e => PerInstance(e, instance));
            bus.AddRequestClient<SubmitMission>();
            bus.AddRequestClient<CancelMission>();
            bus.AddRequestClient<ReassignMission>();
            // On a shared store the decider's consumers are connected by Leadership when this instance leads, never before.
            Action<MassTransit.DependencyInjection.Registration.IRegistrationFilterConfigurator> deciderOnly = filter =>
            {
                if (sharedStore is not null)
                    filter.Exclude(Leadership.DeciderConsumers);
            };
            if (rabbitMq is null)
            {
                bus.UsingInMemory((context, cfg) => cfg.ConfigureEndpoints(context, deciderOnly));
                return;
            }

            bus.UsingRabbitMq((context, cfg) =>
            {
                cfg.Host(rabbitMq.Host, (ushort)rabbitMq.Port, rabbitMq.VirtualHost, h =>
                {
                    h.Username(rabbitMq.Username);
                    h.Password(rabbitMq.Password);
                });
                if (options.BusPrefix is { Length: > 0 } prefix)
                {
                    cfg.MessageTopology.SetEntityNameFormatter(new PrefixedEntityNameFormatter(cfg.MessageTopology.EntityNameFormatter, prefix));
                    context.ConfigureEndpoints(new PrefixedReceiveConfigurator<IRabbitMqReceiveEndpointConfigurator>(cfg, prefix), endpointNameFormatter: null, deciderOnly);
                }
                else
                {
                    cfg.ConfigureEndpoints(context, deciderOnly);
                }
            });
        });
        if (rabbitMq is not null)
        {
            // RabbitMQ.Client 7.2.2 can hang publishing after a broker restart (rabbitmq/rabbitmq-dotnet-client#1930): the
            // watchdog notices a stalled bus and makes MassTransit reconnect.
            services.AddSingleton<BusConsumeTracker>();
            services.AddConsumeObserver(sp => sp.GetRequiredService<BusConsumeTracker>());
            services.AddSingleton(sp => new BusWatchdog(rabbitMq, sp.GetRequiredService<BusConsumeTracker>(), sp,
                sp.GetRequiredService<IHostApplicationLifetime>(), sp.GetRequiredService<ILogger<BusWatchdog>>()));
            services.AddHostedService(sp => sp.GetRequiredService<BusWatchdog>());
        }

        services.AddSingleton<SimulatedRobots>();
        services.AddHostedService(sp => sp.GetRequiredService<SimulatedRobots>());
        if (options.Demo)
            services.AddHostedService<DemoDriver>();
        services.AddSingleton<AlertService>();
        services.AddHostedService(sp => sp.GetRequiredService<AlertService>());
        services.AddSingleton<LiveStream>();
        services.AddHostedService(sp => sp.GetRequiredService<LiveStream>());
        services.AddSingleton<ProgressReporter>();
        services.AddHostedService(sp => sp.GetRequiredService<ProgressReporter>());

        configure?.Invoke(builder);
        var app = builder.Build();
        app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("RobotFleet.Server").LogInformation("Message bus: {Bus}{Prefix} (instance {Instance}, queues {Queues}); {Mode}",
            rabbitMq is null ? "in-memory" : $"RabbitMQ {rabbitMq}", options.BusPrefix is { Length: > 0 } p ? $", names prefixed '{p}'" : "", options.InstanceId, instance,
            sharedStore is null ? "single instance (it decides)" : "shared PostgreSQL store: active/standby, starting as a standby until it takes the leader lease");
        if (options.OneWayLoops)
        {
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("RobotFleet.Server").LogInformation(
                "Map {Map}: loops driven one way round (--one-way-loops): {Removed} of {Lanes} lanes against them closed, each block of loops open both ways while a lane on it is closed", map.Id, drawn.Lanes.Count - map.Lanes.Count, drawn.Lanes.Count);
        }

        app.UseBadRequestJson();
        var leadership = app.Services.GetRequiredService<Leadership>();
        if (sharedStore is not null)
        {
            if (rabbitMq is null)
                app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("RobotFleet.Server").LogWarning(
                    "Missions are in PostgreSQL but the bus is in memory: a standby instance cannot reach the leader; run every instance with --bus rabbitmq://...");
            app.Use(async (context, next) =>
            {
                // A standby's coordinator holds nothing and must decide nothing: what only the coordinator answers goes to the leader.
                if (!leadership.IsLeader && IsDeciderOnly(context.Request))
                {
                    await Results.Json(new ApiError($"instance {leadership.InstanceId} is a standby; send {context.Request.Method} {context.Request.Path} to the leader"
                        + (leadership.Leader is { } leader ? $" (instance {leader})" : " (none elected yet: try again in a few seconds)")), statusCode: StatusCodes.Status503ServiceUnavailable).ExecuteAsync(context);
                    return;
                }

                // Submit, cancel and reassign go over the bus to the leader: wait for one (a new fleet's first seconds).
                if (HttpMethods.IsPost(context.Request.Method) && context.Request.Path.StartsWithSegments("/api/missions")
                    && !await leadership.WaitForLeaderAsync(TimeSpan.FromSeconds(15), context.RequestAborted))
                {
                    await Results.Json(new ApiError($"no control-plane instance leads yet (instance {leadership.InstanceId} is a standby); try again in a few seconds"),
                        statusCode: StatusCodes.Status503ServiceUnavailable).ExecuteAsync(context);
                    return;
                }

                await next();
            });
        }

        app.MapGet("/api/instance", (MqttGateway gateway, RobotEventCounter counter) => Results.Ok(new
        {
            instance = leadership.InstanceId,
            role = leadership.IsLeader ? "leader" : "standby",
            leader = leadership.Leader,
            shared = leadership.IsShared,
            robotStatesPublished = gateway.StatesPublished,
            robotStatesHandled = counter.StatesHandled,
        }));
        var webRoot = new PhysicalFileProvider(ResolveWebRoot(options.WebRoot));
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = webRoot });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = webRoot });
        app.MapRobotFleetApi();
        app.MapScheduleApi();
        app.MapModelApi();
        app.MapRolloutApi();
        // Any other /api path: the API's error JSON, not an empty 404 (e.g. GET /api/robots/sim-1 without the manufacturer).
        app.MapFallback("/api/{**path}", (HttpContext context) =>
            Results.NotFound(new ApiError($"no such API endpoint: {context.Request.Method} {context.Request.Path} (see the README's HTTP API)")));
        // Open the model registry now: a bad key file or data directory fails the start, not the first upload.
        _ = app.Services.GetRequiredService<ModelRegistry>();
        return app;
    }

    /// <summary>
    /// True for the API requests only the fleet coordinator answers (it reads or changes its own state directly, not over the
    /// bus): pause, resume and priority of a mission, closed lanes, removing a robot. A standby refuses them (503).
    /// </summary>
    private static bool IsDeciderOnly(HttpRequest request)
    {
        var path = request.Path.Value ?? "";
        if (path.StartsWith("/api/lanes", StringComparison.OrdinalIgnoreCase))
            return true;
        if (HttpMethods.IsDelete(request.Method) && path.StartsWith("/api/robots/", StringComparison.OrdinalIgnoreCase))
            return true;
        return HttpMethods.IsPost(request.Method) && path.StartsWith("/api/missions/", StringComparison.OrdinalIgnoreCase)
            && (path.EndsWith("/pause", StringComparison.OrdinalIgnoreCase) || path.EndsWith("/resume", StringComparison.OrdinalIgnoreCase)
                || path.EndsWith("/priority", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>A temporary (auto-deleted, non-durable) endpoint of this process alone: its queue name ends with the instance id.</summary>
    private static void PerInstance(IEndpointRegistrationConfigurator endpoint, string instance)
    {
        endpoint.Temporary = true;
        endpoint.InstanceId = instance;
    }

    private static string ReadKeyFile(string path, string option) =>
        File.Exists(path) ? File.ReadAllText(path) : throw new FileNotFoundException($"{option} '{path}': no such file", path);

    /// <summary>
    /// Finds the web console's files: <paramref name="path"/> when given, else <c>wwwroot</c> next to the
    /// program (a published app), else <c>src/RobotFleet.Server/wwwroot</c> in a parent of the program's
    /// directory (a clone's build, tests and benches).
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">Nowhere found; the message names the paths tried.</exception>
    public static string ResolveWebRoot(string? path = null)
    {
        if (path is not null)
            return Directory.Exists(path) ? Path.GetFullPath(path) : throw new DirectoryNotFoundException($"web root '{path}' not found");
        var local = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        if (File.Exists(Path.Combine(local, "index.html")))
            return local;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "src", "RobotFleet.Server", "wwwroot");
            if (File.Exists(Path.Combine(candidate, "index.html")))
                return candidate;
        }

        throw new DirectoryNotFoundException($"web console files not found: no wwwroot/index.html in {AppContext.BaseDirectory} or src/RobotFleet.Server/wwwroot above it");
    }

    /// <summary>
    /// Finds a map directory: as given (absolute, or relative to the working directory), else
    /// relative to each parent of the program's directory (so a clone's <c>maps/office</c> is found
    /// from <c>bin/</c> too).
    /// </summary>
    /// <exception cref="FileNotFoundException">Nowhere found; the message names the paths tried.</exception>
    public static string ResolveMapDirectory(string path)
    {
        if (Path.IsPathRooted(path) || File.Exists(path) || Directory.Exists(path))
            return path;
        var tried = new List<string> { Path.GetFullPath(path) };
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, path);
            if (Directory.Exists(candidate) || File.Exists(candidate))
                return candidate;
            tried.Add(candidate);
        }

        throw new FileNotFoundException($"map '{path}' not found; tried: {string.Join(", ", tried.Take(4))} …", path);
    }
}
