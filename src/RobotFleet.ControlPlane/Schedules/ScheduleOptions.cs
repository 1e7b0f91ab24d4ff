namespace RobotFleet.ControlPlane.Schedules;

/// <summary>Where the schedules feature keeps its Quartz job store and firing log.</summary>
public enum ScheduleStoreKind
{
    /// <summary>Quartz RAM store, firing log in an in-memory SQLite database: nothing survives a restart.</summary>
    Memory,

    /// <summary>Quartz ADO store on a SQLite file (single node; Quartz refuses clustering on SQLite).</summary>
    Sqlite,

    /// <summary>Quartz ADO store on PostgreSQL, clustered: every instance on the database shares the schedules, each firing runs once.</summary>
    Postgres,
}

/// <summary>Settings of the schedules feature (Quartz): where schedules are stored, misfire threshold, robot watchdog.</summary>
public sealed class ScheduleOptions
{
    /// <summary>The <see cref="Database"/> setting that keeps the schedules in memory (Quartz RAM store).</summary>
    public const string MemorySetting = "memory";

    /// <summary>
    /// Data directory; without <see cref="Database"/>, schedules and their firings go to <c>{DataDirectory}/robotfleet.db</c>
    /// (SQLite, Quartz's ADO job store). Null (and no <see cref="Database"/>) keeps everything in memory (Quartz RAM store):
    /// nothing survives a restart.
    /// </summary>
    public string? DataDirectory { get; init; }

    /// <summary>
    /// Where the schedules live instead of <c>robotfleet.db</c> in <see cref="DataDirectory"/>: <c>memory</c> (Quartz RAM store),
    /// a PostgreSQL connection string (starts with <c>Host=</c>: Quartz's ADO store, clustered across every instance on that
    /// database; the database and the <c>qrtz_*</c> tables are created when missing), or the path of a SQLite file. Null or
    /// empty: the default above. See <see cref="Kind"/>.
    /// </summary>
    public string? Database { get; init; }

    /// <summary>How late a firing may run before it counts as missed and the schedule's <see cref="MisfirePolicy"/> applies.</summary>
    public TimeSpan MisfireThreshold { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Firings kept per schedule (the oldest are dropped).</summary>
    public int FiringsKept { get; init; } = 50;

    /// <summary>How long a submission may wait for the coordinator's answer.</summary>
    public TimeSpan SubmitTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often <see cref="RobotWatchdogJob"/> runs; null: no watchdog.</summary>
    public TimeSpan? WatchdogInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>A robot that has sent no state for longer than this is reported by <c>RobotSilent</c>.</summary>
    public TimeSpan SilentAfter { get; init; } = TimeSpan.FromSeconds(8);

    /// <summary>
    /// PostgreSQL only: how often each instance records in the cluster that it is alive (Quartz cluster check-in); default 5 s.
    /// An instance that stops checking in is taken for dead after this plus <see cref="ClusterCheckinMisfireThreshold"/>, and
    /// another instance recovers the firings it held. Also how often an idle instance looks for due firings in the shared
    /// store (Quartz's idle wait, at least 1 s), so a schedule created on one instance, or left by a stopped one, is picked up
    /// by the others within about this long.
    /// </summary>
    public TimeSpan ClusterCheckinInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>PostgreSQL only: how long past a missed check-in the other instances wait before recovering a silent instance's firings; default 10 s.</summary>
    public TimeSpan ClusterCheckinMisfireThreshold { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Which store <see cref="Database"/> and <see cref="DataDirectory"/> choose.</summary>
    public ScheduleStoreKind Kind => Database is { Length: > 0 } setting
        ? setting.Trim().Equals(MemorySetting, StringComparison.OrdinalIgnoreCase) ? ScheduleStoreKind.Memory
        : IsPostgres(setting) ? ScheduleStoreKind.Postgres
        : ScheduleStoreKind.Sqlite
        : DataDirectory is null ? ScheduleStoreKind.Memory : ScheduleStoreKind.Sqlite;

    /// <summary>The SQLite file the schedules live in, or null when kept in memory or in PostgreSQL.</summary>
    public string? DatabasePath => Kind != ScheduleStoreKind.Sqlite ? null
        : Database is { Length: > 0 } file ? file.Trim()
        : Path.Combine(DataDirectory!, "robotfleet.db");

    /// <summary>The PostgreSQL connection string the schedules live in, or null when they do not.</summary>
    public string? PostgresConnectionString => Kind == ScheduleStoreKind.Postgres ? Database!.Trim() : null;

    /// <summary>True when <paramref name="setting"/> is a PostgreSQL (Npgsql) connection string: it starts with <c>Host=</c>, as <c>--missions-db</c> reads it.</summary>
    public static bool IsPostgres(string? setting) => setting?.TrimStart().StartsWith("Host=", StringComparison.OrdinalIgnoreCase) == true;
}
