namespace RobotFleet.ControlPlane.Schedules;

/// <summary>Settings of the schedules feature (Quartz): where schedules are stored, misfire threshold, robot watchdog.</summary>
public sealed class ScheduleOptions
{
    /// <summary>
    /// Data directory; schedules and their firings go to <c>{DataDirectory}/robotfleet.db</c> (SQLite, Quartz's ADO
    /// job store). Null keeps everything in memory (Quartz RAM store): nothing survives a restart.
    /// </summary>
    public string? DataDirectory { get; init; }

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

    /// <summary>The SQLite file the schedules live in, or null when kept in memory.</summary>
    public string? DatabasePath => DataDirectory is null ? null : Path.Combine(DataDirectory, "robotfleet.db");
}
