using System.Globalization;
using System.Text;

namespace RobotFleet.TrafficSim;

/// <summary>The figures of one simulation run.</summary>
internal sealed record SimResult(
    string MapId,
    int Waypoints,
    int Lanes,
    int Robots,
    SimSettings Settings,
    long Ticks,
    TimeSpan Simulated,
    TimeSpan Wall,
    bool StoppedEarly,
    int Submitted,
    int Completed,
    int Failed,
    int Cancelled,
    int Rejected,
    int Open,
    int Collisions,
    double MinSeparation,
    int HoldConflicts,
    int Stalls,
    int StalledAtEnd,
    double LongestStallSeconds,
    int StoodStill,
    int StandingAtEnd,
    int Refusals,
    double MetresDriven,
    LatencySummary PerTick,
    LatencySummary TickCalls,
    LatencySummary StateCalls,
    LatencySummary SubmitCalls,
    IReadOnlyList<KeyValuePair<string, int>> LogCounts,
    string EndpointRule,
    string Fingerprint,
    IReadOnlyList<string> StallNotes,
    TimeSpan SlowestTickAt,
    TimeSpan Setup,
    IReadOnlyList<string> SlowCalls,
    IReadOnlyList<string> CollisionNotes,
    IReadOnlyList<string> Rejections,
    LatencySummary PerTickCpu,
    double ProcessCpuSeconds)
{
    /// <summary>What the report says after the lane count about the coordinator's loop flow weight (<see cref="SimSettings.LoopFlowText"/>); empty where none applies.</summary>
    public string LoopFlowText { get; init; } = "";

    /// <summary>Completed missions' seconds from submission to their first assignment (simulated clock; in the summary's millisecond fields, seconds).</summary>
    public LatencySummary QueueWait { get; init; } = new(0, 0, 0, 0, 0, 0);

    /// <summary>Completed missions' seconds from submission to completion (simulated clock; in the summary's millisecond fields, seconds).</summary>
    public LatencySummary MissionTime { get; init; } = new(0, 0, 0, 0, 0, 0);

    /// <summary>The longest wait for a robot, in seconds, of a mission open at the end: still queued (until the end) or assigned (until then); 0 when none is open.</summary>
    public double LongestWaitOpenAtEnd { get; init; }

    public double MissionsPerHour => Simulated.TotalHours > 0 ? Completed / Simulated.TotalHours : 0;

    /// <summary>Simulated seconds per wall-clock second.</summary>
    public double Speedup => Wall.TotalSeconds > 0 ? Simulated.TotalSeconds / Wall.TotalSeconds : 0;

    public const string TableHeader =
        "| site | robots | sim time | ticks | wall | sim/wall | tick p50 ms | tick p99 ms | tick max ms | tick CPU p50 / p99 / max ms | coordinator.TickAsync p50 / p99 / max ms | state call p50 / p99 / max ms | collisions | hold conflicts | stalls >= T | stalled at end | longest stall s | stood still >= T | standing at end | completed | failed | missions / sim h | wait for a robot p50 / p99 / max s | submission to completion p50 / p99 / max s | longest wait of a mission open at the end s |\n" +
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

    /// <summary>One row of the table under <see cref="TableHeader"/>.</summary>
    public string TableRow() => string.Create(CultureInfo.InvariantCulture,
        $"| {MapId} | {Robots} | {Fmt(Simulated)}{(StoppedEarly ? " (stopped early)" : "")} | {Ticks} | {Wall.TotalSeconds:F0} s | {Speedup:F2} | " +
        $"{PerTick.P50:F2} | {PerTick.P99:F2} | {PerTick.Max:F1} | {PerTickCpu.P50:F2} / {PerTickCpu.P99:F2} / {PerTickCpu.Max:F1} | {TickCalls.P50:F2} / {TickCalls.P99:F2} / {TickCalls.Max:F1} | " +
        $"{StateCalls.P50:F2} / {StateCalls.P99:F2} / {StateCalls.Max:F1} | {Collisions} | {HoldConflicts} | {Stalls} | {StalledAtEnd} | {LongestStallSeconds:F0} | {StoodStill} | {StandingAtEnd} | " +
        $"{Completed} | {Failed} | {MissionsPerHour:F0} | {QueueWait.P50:F0} / {QueueWait.P99:F0} / {QueueWait.Max:F0} | {MissionTime.P50:F0} / {MissionTime.P99:F0} / {MissionTime.Max:F0} | {LongestWaitOpenAtEnd:F0} |");

    /// <summary>How the report names the coordinator's traffic control (PIBT with the controller's default settings).</summary>
    internal static string TrafficControlText(RobotFleet.ControlPlane.TrafficControl traffic)
    {
        if (traffic != RobotFleet.ControlPlane.TrafficControl.Pibt)
            return "the reservation rule (release only to free waypoints)";
        var o = new RobotFleet.Planning.Traffic.PibtTrafficOptions();
        return string.Create(CultureInfo.InvariantCulture,
            $"PIBT, jam fallback after {o.ResolveJamAfterSeconds} s without progress (sparing robots {o.JamSparesAfterSeconds} s without progress until {o.JamSparesUntilSeconds} s{(o.JamSparesNotOnTwoWayLanes ? ", not on two-way lanes" : "")}), precedence after {o.PrecedenceAfterSeconds} s without progress (at most {o.PrecedenceShare:P0} of the fleet)");
    }

    /// <summary>
    /// How a report gives the closest approach of two robots: the distance in metres (2 decimals), "never within
    /// {<paramref name="measuredWithin"/>} m" when no two robots came that close, or "- (1 robot)" with fewer than two robots.
    /// </summary>
    /// <param name="minSeparation">The smallest distance measured between two robots, m; infinity when none was measured.</param>
    /// <param name="robots">Robots in the run.</param>
    /// <param name="measuredWithin">Distance within which every pair is measured, m.</param>
    internal static string ClosestApproachText(double minSeparation, int robots, double measuredWithin) =>
        robots < 2 ? $"- ({SimSettings.RobotCount(robots)})"
        : double.IsFinite(minSeparation) ? minSeparation.ToString("F2", CultureInfo.InvariantCulture) + " m"
        : string.Create(CultureInfo.InvariantCulture, $"never within {measuredWithin:0.##} m");

    /// <summary>The whole report: settings, the table row, latencies of each kind of call, and what the coordinator logged most.</summary>
    public string ToMarkdown(string command)
    {
        var s = Settings;
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"## Traffic simulation: {MapId}, {SimSettings.RobotCount(Robots)}, {Fmt(Simulated)} simulated");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Command: `{command}`");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Site `{MapId}`: {Waypoints} waypoints, {Lanes} directed lanes{s.OneWayLoopsText}{LoopFlowText}. Seed {s.Seed}, tick {s.Tick.TotalMilliseconds:F0} ms, speed {s.Speed} m/s{(s.TimeScale != 1 ? $" (robots at time scale x{s.TimeScale}: {s.Speed * s.TimeScale:0.###} m/s, and actions, door openings and lift rides take 1/{s.TimeScale} of their time, on the coordinator's clock)" : "")}, " +
            $"footprint radius {s.Radius} m, actions {s.ActionSeconds} s each, heartbeat {s.Heartbeat.TotalSeconds} s, stall threshold T = {s.StallAfter.TotalSeconds} s, " +
            $"{s.MissionsPerRobot} open mission{(s.MissionsPerRobot == 1 ? "" : "s")} per robot; missions: {EndpointRule}; queue ageing {s.QueueAgeingWeight ?? RobotFleet.Planning.AssignmentPlannerOptions.DefaultQueueAgeingWeight:0.###} s of assignment cost per second waited; traffic control: {TrafficControlText(s.Traffic)}.");
        text.AppendLine();
        text.AppendLine(ControllerSimulation.StallDefinition);
        text.AppendLine();
        text.AppendLine(TableHeader);
        text.AppendLine(TableRow());
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Missions: {Submitted} submitted, {Completed} completed, {Failed} failed, {Cancelled} cancelled, {Rejected} rejected, {Open} open at the end. " +
            $"Robots drove {MetresDriven / 1000:F1} km. Orders refused by robots: {Refusals}. " +
            // TrafficSimulation.Observe measures every pair within one footprint diameter (neighbouring cells of that size),
            // not within two: "never within 2 m" (4 radii) was not what it checked.
            $"Closest approach of two robots: {ClosestApproachText(MinSeparation, Robots, 2 * Settings.Radius)}. Fingerprint {Fingerprint}.");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Completed missions, simulated seconds: from submission to a robot assigned p50 {QueueWait.P50:F0}, p99 {QueueWait.P99:F0}, max {QueueWait.Max:F0}, mean {QueueWait.Mean:F0}; " +
            $"from submission to completion p50 {MissionTime.P50:F0}, p99 {MissionTime.P99:F0}, max {MissionTime.Max:F0}, mean {MissionTime.Mean:F0}. " +
            $"Longest wait for a robot of a mission open at the end: {LongestWaitOpenAtEnd:F0} s.");
        text.AppendLine();
        text.AppendLine("| coordinator call (wall clock) | calls | p50 ms | p99 ms | max ms | mean ms | total s |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var (name, l) in new[] { ("all calls of one sim tick (sum)", PerTick), ("the same, process CPU time", PerTickCpu), ("TickAsync", TickCalls), ("OnStateChangedAsync", StateCalls), ("SubmitAsync", SubmitCalls) })
            text.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {l.Count} | {l.P50:F2} | {l.P99:F2} | {l.Max:F1} | {l.Mean:F2} | {l.Total / 1000:F1} |");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Slowest tick: {PerTick.Max:F0} ms at simulated {SlowestTickAt:hh\\:mm\\:ss}. Setup before the first tick (bus start, coordinator, every robot's first state): {Setup.TotalSeconds:F1} s. " +
            $"Process CPU time {ProcessCpuSeconds:F0} s over {Wall.TotalSeconds:F0} s of wall time.");
        text.AppendLine();
        text.AppendLine("What the coordinator logged most (information and up, by message template):");
        text.AppendLine();
        foreach (var (template, count) in LogCounts)
            text.AppendLine(CultureInfo.InvariantCulture, $"- {count} x `{template.Replace("`", "'", StringComparison.Ordinal)}`");
        Section(text, "Collisions as first seen", CollisionNotes);
        Section(text, "Missions the coordinator rejected", Rejections);
        if (SlowCalls.Count > 0)
        {
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"Coordinator calls of 1 s or more (the first {SlowCalls.Count}):");
            text.AppendLine();
            foreach (var note in SlowCalls)
                text.AppendLine(CultureInfo.InvariantCulture, $"- {note}");
        }

        if (StallNotes.Count > 0)
        {
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"Stalls as first seen (the first {StallNotes.Count}):");
            text.AppendLine();
            foreach (var note in StallNotes)
                text.AppendLine(CultureInfo.InvariantCulture, $"- {note}");
        }

        return text.ToString();
    }

    private static void Section(StringBuilder text, string title, IReadOnlyList<string> lines)
    {
        if (lines.Count == 0)
            return;
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"{title} (the first {lines.Count}):");
        text.AppendLine();
        foreach (var line in lines)
            text.AppendLine(CultureInfo.InvariantCulture, $"- {line}");
    }

    private static string Fmt(TimeSpan t) => t.TotalHours >= 1 ? $"{t.TotalHours:0.##} h" : $"{t.TotalMinutes:0.##} min";
}
