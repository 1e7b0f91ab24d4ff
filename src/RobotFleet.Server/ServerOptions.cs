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
    /// External MQTT broker, <c>mqtt://host:port</c> (<c>--broker</c>): the gateway (and simulated robots) use it and no
    /// embedded broker starts. Null: the embedded broker on <see cref="MqttPort"/>.
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

    /// <summary>A robot running a mission that reaches no new waypoint for this long raises a "robot stuck" alert.</summary>
    public TimeSpan StuckAfter { get; init; } = TimeSpan.FromSeconds(60);

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
}
