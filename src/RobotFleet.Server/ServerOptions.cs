namespace RobotFleet.Server;

/// <summary>Settings of one RobotFleet server process, from the command line.</summary>
public sealed record ServerOptions
{
    /// <summary>Run the demo driver that submits a delivery every few seconds.</summary>
    public bool Demo { get; init; }

    /// <summary>Number of simulated robots started in process (0 with <see cref="NoSimulation"/>).</summary>
    public int Robots { get; init; } = 3;

    /// <summary>Site map directory (holding <c>site.geojson</c>); relative paths are tried from the working directory, then upwards from the program.</summary>
    public string MapDirectory { get; init; } = "maps/office";

    /// <summary>Simulated seconds per real second for the simulated robots.</summary>
    public double TimeScale { get; init; } = 1;

    /// <summary>Address the HTTP API and the embedded broker listen on; default loopback only. Use 0.0.0.0 in containers.</summary>
    public string BindAddress { get; init; } = "127.0.0.1";

    /// <summary>HTTP port (0 picks a free port).</summary>
    public int HttpPort { get; init; } = 5080;

    /// <summary>Embedded MQTT broker port (0 picks a free port).</summary>
    public int MqttPort { get; init; } = 1883;

    /// <summary>
    /// External MQTT broker, <c>mqtt://host:port</c> or <c>mqtts://host:port</c> (TLS), optionally with <c>user:password@</c>
    /// (<c>--broker</c>, env <c>ROBOTFLEET_BROKER</c>): the gateway (and simulated robots) use it and no embedded broker starts.
    /// Null: the embedded broker on <see cref="MqttPort"/>. See <see cref="ExternalBroker"/>.
    /// </summary>
    public Uri? Broker { get; init; }

    /// <summary>
    /// The MassTransit transport (<c>--bus</c>, env <c>ROBOTFLEET_BUS</c>): null or <c>memory</c> is the in-memory bus;
    /// <c>rabbitmq://user:pass@host:port/vhost</c> (or <c>amqp://...</c>) is RabbitMQ (see <see cref="Hosting.RabbitMqBusAddress.Parse"/>).
    /// </summary>
    public string? Bus { get; init; }

    /// <summary>
    /// Prefix of every RabbitMQ queue and exchange name (<c>--bus-prefix</c>, env <c>ROBOTFLEET_BUS_PREFIX</c>), so several fleets or
    /// test runs can share one virtual host without seeing each other's messages; instances of one fleet use the same prefix.
    /// Null: no prefix. Ignored by the in-memory bus.
    /// </summary>
    public string? BusPrefix { get; init; }

    /// <summary>
    /// This instance's name among several control-plane instances of one fleet (<c>--instance-id</c>, env
    /// <c>ROBOTFLEET_INSTANCE_ID</c>): logged on leader/standby changes and shown by <c>GET /api/instance</c>. Default
    /// <c>{host name}-{process id}</c>.
    /// </summary>
    public string InstanceId { get; init; } = $"{Environment.MachineName}-{Environment.ProcessId}";

    /// <summary>Run only the control plane and broker, for external robots and agents.</summary>
    public bool NoSimulation { get; init; }

    /// <summary>Real seconds between demo deliveries.</summary>
    public TimeSpan DemoInterval { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>Real seconds between console progress lines.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Seed for the demo driver's choice of locations; null for a random seed.</summary>
    public int? DemoSeed { get; init; }

    /// <summary>A robot running a mission that makes no progress for this long (stands still, or goes back and forth between the same waypoints; driving along a lane is progress) raises a "robot stuck" alert.</summary>
    public TimeSpan StuckAfter { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A mission queued this long since it was last queued (submitted, or put back in the queue) raises a "mission waiting"
    /// alert, once per wait (default 10 minutes; null, zero or negative: never). With more missions than robots, the queue's ageing
    /// (<see cref="QueueAgeingWeight"/>) bounds how long a far mission waits, but under sustained overload it may be many minutes.
    /// </summary>
    public TimeSpan? MissionWaitingAfter { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How often the live stream (<c>GET /api/stream</c>) sends robot changes: 100 ms = at most 10 Hz per robot.</summary>
    public TimeSpan StreamInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Data directory (<c>--data-dir</c>, env <c>ROBOTFLEET_DATA_DIR</c>, default <c>./data</c> on the command line):
    /// schedules live in <c>robotfleet.db</c> there, missions and the robots' sent plans in <c>missions.db</c>. Null keeps
    /// both in memory (tests): nothing survives a restart.
    /// </summary>
    public string? DataDirectory { get; init; }

    /// <summary>
    /// Where missions, sent plans and the missions' state machines are stored instead of <c>missions.db</c> in
    /// <see cref="DataDirectory"/> (<c>--missions-db</c>, env <c>ROBOTFLEET_MISSIONS_DB</c>): a PostgreSQL connection string
    /// (<c>Host=...</c>) or a SQLite file. Null: <c>missions.db</c> in the data directory.
    /// </summary>
    public string? MissionsDatabase { get; init; }

    /// <summary>Which traffic control releases orders (<c>--traffic</c>, env <c>ROBOTFLEET_TRAFFIC</c>, default the PIBT controller); see <see cref="RobotFleet.ControlPlane.TrafficControl"/>.</summary>
    public RobotFleet.ControlPlane.TrafficControl TrafficControl { get; init; } = RobotFleet.ControlPlane.TrafficControl.Pibt;

    /// <summary>
    /// Whether the map's loops of two-way lanes are driven one way round (<c>--one-way-loops</c>; default off): the API serves
    /// the map passed through <see cref="RobotFleet.Planning.OneWayLoops.Orient"/>, and the control plane gets it as drawn with
    /// <see cref="RobotFleet.ControlPlane.ControlPlaneOptions.OneWayLoops"/> (routing and traffic control keep to the one-way
    /// lanes, and a lane closed on a loop opens its block both ways until it opens again).
    /// </summary>
    public bool OneWayLoops { get; init; }

    /// <summary>
    /// The PIBT controller's loop flow weight (<c>--loop-flow-weight</c>: 1 to 100; auto, the default, null here: by the
    /// fleet's density); see <see cref="RobotFleet.ControlPlane.ControlPlaneOptions.LoopFlowWeight"/>.
    /// </summary>
    public double? LoopFlowWeight { get; init; }

    /// <summary>
    /// Ageing of the mission queue (<c>--queue-ageing</c>): seconds of assignment cost per second a mission has waited; see
    /// <see cref="RobotFleet.ControlPlane.ControlPlaneOptions.QueueAgeingWeight"/> (default 0.1; 0: cheapest first).
    /// </summary>
    public double QueueAgeingWeight { get; init; } = RobotFleet.Planning.AssignmentPlannerOptions.DefaultQueueAgeingWeight;

    /// <summary>The web console's static files; null finds <c>wwwroot</c> next to the program, else <c>src/RobotFleet.Server/wwwroot</c> upwards from it.</summary>
    public string? WebRoot { get; init; }

    /// <summary>Largest <c>.onnx</c> file <c>POST /api/models</c> accepts, bytes (<c>--model-upload-limit-mb</c>, default 512 MiB); larger uploads get 413.</summary>
    public long ModelUploadLimit { get; init; } = 512L * 1024 * 1024;

    /// <summary>Reject model uploads that carry no technician's signature (<c>--require-model-signature</c>).</summary>
    public bool RequireModelSignature { get; init; }

    /// <summary>PEM files of technicians' public keys that model upload signatures are verified with (<c>--trusted-model-key</c>, repeatable).</summary>
    public IReadOnlyList<string> TrustedModelKeyFiles { get; init; } = [];

    /// <summary>
    /// PEM file of the fleet's private model signing key (<c>--model-signing-key</c>); null: <c>keys/fleet-model-signing.pem</c>
    /// in the data directory, created on first start (in memory when there is no data directory).
    /// </summary>
    public string? ModelSigningKeyFile { get; init; }

    /// <summary>
    /// Base address robots download models from (<c>--public-url</c>), e.g. <c>http://fleet.example:5080/</c>; null: the
    /// server's own HTTP listen address (with 0.0.0.0 replaced by the host name).
    /// </summary>
    public Uri? PublicBaseUrl { get; init; }

    /// <summary>Camera frames a second each simulated robot runs its active model on (<c>--perception-hz</c>; 0 turns perception off).</summary>
    public double PerceptionRate { get; init; }

    /// <summary>How often simulated robots report their models (<c>modelStatus</c>) besides on every change.</summary>
    public TimeSpan SimulatedModelStatusInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>With an external <c>mqtts://</c> <see cref="Broker"/>: CA file its certificate must chain to (<c>--mqtt-ca</c>, env <c>ROBOTFLEET_MQTT_CA</c>); null: the system trust store.</summary>
    public string? MqttCaFile { get; init; }

    /// <summary>MQTT user name at the external broker (<c>--mqtt-username</c>, env <c>ROBOTFLEET_MQTT_USERNAME</c>); wins over the URL's.</summary>
    public string? MqttUsername { get; init; }

    /// <summary>MQTT password at the external broker (<c>--mqtt-password</c>, env <c>ROBOTFLEET_MQTT_PASSWORD</c>); wins over the URL's. Never logged.</summary>
    public string? MqttPassword { get; init; }

    /// <summary>MQTT protocol version of the gateway and the simulated robots (<c>--mqtt-protocol</c>, env <c>ROBOTFLEET_MQTT_PROTOCOL</c>): <c>5</c> (null) or <c>3.1.1</c>.</summary>
    public string? MqttProtocol { get; init; }

    /// <summary>
    /// Where the schedules (Quartz) live (<c>--schedules-db</c>, env <c>ROBOTFLEET_SCHEDULES_DB</c>): <c>memory</c>, a PostgreSQL
    /// connection string (Quartz clustered across every instance on it) or a SQLite file. Null: the missions database when
    /// that is PostgreSQL (<see cref="MissionsDatabase"/>), else <c>robotfleet.db</c> in the data directory (see <see cref="SchedulesDatabaseSetting"/>).
    /// </summary>
    public string? SchedulesDatabase { get; init; }

    /// <summary>The schedules store actually used: <see cref="SchedulesDatabase"/>, else the missions database when it is PostgreSQL, else null (SQLite in the data directory).</summary>
    public string? SchedulesDatabaseSetting => SchedulesDatabase is { Length: > 0 } setting ? setting
        : RobotFleet.ControlPlane.Schedules.ScheduleOptions.IsPostgres(MissionsDatabase) ? MissionsDatabase
        : null;

    /// <summary>
    /// The external broker's settings (<see cref="Broker"/> with <see cref="MqttCaFile"/>, the credentials and
    /// <see cref="MqttProtocol"/>); null when the embedded broker runs.
    /// </summary>
    /// <exception cref="ArgumentException">A setting is malformed, or broker-only settings are given without <c>--broker</c>; the message names the option.</exception>
    public Vda5050.MqttBrokerSettings? ExternalBroker()
    {
        var protocol = Vda5050.MqttBrokerSettings.ParseProtocol(MqttProtocol);
        if (Broker is null)
        {
            if (MqttCaFile is { Length: > 0 } || MqttUsername is { Length: > 0 } || MqttPassword is { Length: > 0 })
                throw new ArgumentException("--mqtt-ca, --mqtt-username and --mqtt-password (ROBOTFLEET_MQTT_CA/_USERNAME/_PASSWORD) need an external broker (--broker): the embedded broker has no users and no TLS");
            return null;
        }

        return Vda5050.MqttBrokerSettings.Parse(Broker.OriginalString, MqttCaFile, MqttUsername, MqttPassword) with { Protocol = protocol };
    }
}
