using MassTransit;
using RobotFleet.ControlPlane.Missions;
using RobotFleet.Contracts;
using RobotFleet.Gateway;
using RobotFleet.Maps;

namespace RobotFleet.Server.Alerts;

/// <summary>What an alert is about.</summary>
public enum AlertKind
{
    /// <summary>A robot runs a mission but has made no progress on it for <see cref="ServerOptions.StuckAfter"/>: standing still, or going back and forth (see <see cref="ProgressWatch"/>).</summary>
    RobotStuck,

    /// <summary>A robot raised a WARNING or FATAL error.</summary>
    RobotError,

    /// <summary>A robot's connection broke (its last will, CONNECTIONBROKEN).</summary>
    RobotLost,

    /// <summary>A mission failed.</summary>
    MissionFailed,

    /// <summary>A lane was closed (an obstacle detected on it, or an operator).</summary>
    LaneClosed,

    /// <summary>A mission has waited for a robot (queued) for <see cref="ServerOptions.MissionWaitingAfter"/>: more missions than robots, or none that can do it.</summary>
    MissionWaiting,
}

/// <summary>An alert for operators. Immutable snapshot; acknowledging swaps in a new one.</summary>
/// <param name="Id">Alert id (<c>a-N</c>).</param>
/// <param name="Kind">What it is about.</param>
/// <param name="Severity"><c>warning</c> or <c>critical</c>.</param>
/// <param name="Robot">The robot concerned (<c>manufacturer/serialNumber</c>), if any.</param>
/// <param name="MissionId">The mission concerned, if any.</param>
/// <param name="Message">What happened, in words.</param>
/// <param name="RaisedAt">When (UTC).</param>
/// <param name="AcknowledgedAt">When an operator acknowledged it; null while open.</param>
/// <param name="AcknowledgedBy">Who acknowledged it.</param>
public sealed record Alert(
    string Id, AlertKind Kind, string Severity, string? Robot, string? MissionId, string Message,
    DateTimeOffset RaisedAt, DateTimeOffset? AcknowledgedAt, string? AcknowledgedBy);

/// <summary>
/// Raises operator alerts: robot stuck (on a mission, no progress for <see cref="ServerOptions.StuckAfter"/>, see <see cref="ProgressWatch"/>),
/// error raised (WARNING/FATAL), robot lost (CONNECTIONBROKEN), mission failed, and mission waiting (queued for
/// <see cref="ServerOptions.MissionWaitingAfter"/>); keeps the latest <see cref="Capacity"/> in memory, and lets operators
/// acknowledge them. Thread-safe.
/// </summary>
public sealed class AlertService(ServerOptions options, SiteMap map, RobotTwinRegistry twins, FleetCoordinator coordinator, MissionStore missions, TimeProvider time, ILogger<AlertService> logger) : BackgroundService
{
    /// <summary>How many alerts are kept (oldest dropped first).</summary>
    public const int Capacity = 500;

    private readonly Lock _lock = new();
    private readonly LinkedList<Alert> _alerts = [];
    private readonly ProgressWatch _progress = new();
    /// <summary>Queued missions already alerted as waiting (alone or counted), with the time they were queued then: one alert per wait (the timer loop only).</summary>
    private readonly Dictionary<string, DateTimeOffset> _waitingAlerted = new(StringComparer.Ordinal);
    private long _counter;

    /// <summary>Raised (on the raising thread) when an alert is added or acknowledged.</summary>
    public event Action<Alert>? Changed;

    /// <summary>Every kept alert, newest first.</summary>
    public IReadOnlyList<Alert> All
    {
        get
        {
            lock (_lock)
                return _alerts.ToList();
        }
    }

    /// <summary>Acknowledges an alert; returns it, or null when unknown. Acknowledging twice keeps the first.</summary>
    public Alert? Acknowledge(string id, string by)
    {
        Alert updated;
        lock (_lock)
        {
            var node = _alerts.First;
            while (node is not null && node.Value.Id != id)
                node = node.Next;
            if (node is null)
                return null;
            if (node.Value.AcknowledgedAt is not null)
                return node.Value;
            updated = node.Value = node.Value with { AcknowledgedAt = time.GetUtcNow(), AcknowledgedBy = by };
        }

        Changed?.Invoke(updated);
        return updated;
    }

    /// <summary>Raises an alert, unless an open one of the same kind for the same robot and mission exists.</summary>
    public Alert Raise(AlertKind kind, string severity, RobotId? robot, string? missionId, string message)
    {
        Alert alert;
        lock (_lock)
        {
            var robotKey = robot?.ToString();
            var open = _alerts.FirstOrDefault(a => a.AcknowledgedAt is null && a.Kind == kind && a.Robot == robotKey && a.MissionId == missionId && a.Message == message);
            if (open is not null)
                return open;
            alert = new Alert($"a-{++_counter}", kind, severity, robotKey, missionId, message, time.GetUtcNow(), null, null);
            _alerts.AddFirst(alert);
            while (_alerts.Count > Capacity)
                _alerts.RemoveLast();
        }

        logger.LogWarning("Alert {Id} {Kind}: {Message}", alert.Id, kind, message);
        Changed?.Invoke(alert);
        return alert;
    }

    /// <summary>Checks every robot with a mission for progress (see <see cref="ProgressWatch"/>); called every second by the service's own timer (not concurrently).</summary>
    internal void CheckStuck()
    {
        var now = time.GetUtcNow();
        var running = coordinator.Routes.All.Where(r => r.MissionId is not null).ToDictionary(r => r.Robot);
        foreach (var robot in _progress.Robots.Where(r => !running.ContainsKey(r)).ToList())
            _progress.Forget(robot);
        foreach (var (robot, route) in running)
        {
            if (twins.Find(robot) is not { Connection: RobotConnectionState.Online, Paused: false } twin)
            {
                _progress.Forget(robot);
                continue;
            }

            if (_progress.Look(robot, route.MissionId!, twin.LastNodeId, route.WaypointIds, route.Acting, MetresToNext(twin, route.WaypointIds), now, options.StuckAfter) is not { } stall)
                continue;
            var where = stall.Waypoints.Count == 1
                ? $"has not moved past waypoint '{stall.Waypoints[0]}'"
                : $"has gone back and forth between waypoints {string.Join(", ", stall.Waypoints.Select(w => $"'{w}'"))} without getting nearer its goal";
            Raise(AlertKind.RobotStuck, "warning", robot, route.MissionId,
                $"robot {robot} {where} for {(now - stall.Since).TotalSeconds:F0} s on mission {route.MissionId}");
        }
    }

    /// <summary>
    /// Raises a "mission waiting" alert, once per wait, for each mission queued for <see cref="ServerOptions.MissionWaitingAfter"/>
    /// or longer since it was last queued (submitted, or put back in the queue; a priority or pin change while queued does not
    /// restart the wait); called every second by the service's own timer loop (ticks run one at a time). The message says how
    /// many missions are queued and robots online: whether the fleet is short of robots or no robot takes this mission. At
    /// most <see cref="MaxWaitingAlertsOpen"/> such alerts naming a mission still queued are open at once; beyond that one
    /// open alert counts the rest (a new one only once it is acknowledged), so a queue piling up overnight does not push the
    /// alerts that explain it (robots lost) out of the kept list.
    /// </summary>
    internal void CheckWaiting()
    {
        if (options.MissionWaitingAfter is not { } after || after <= TimeSpan.Zero)
            return;
        var now = time.GetUtcNow();
        var queued = missions.Queued;
        var still = queued.Select(m => m.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var id in _waitingAlerted.Keys.Where(id => !still.Contains(id)).ToList())
            _waitingAlerted.Remove(id);
        var waits = queued.Select(m => (Mission: m, Since: QueuedSince(m))).ToList();
        var due = waits
            .Where(w => now - w.Since >= after && !(_waitingAlerted.TryGetValue(w.Mission.Id, out var alerted) && alerted == w.Since))
            .OrderBy(w => w.Since).ToList();
        if (due.Count == 0)
            return;
        var online = twins.All.Count(t => t.Connection == RobotConnectionState.Online);
        var context = $"{queued.Count} mission{(queued.Count == 1 ? "" : "s")} queued, {online} robot{(online == 1 ? "" : "s")} online";
        int open;
        bool counting;
        lock (_lock)
        {
            open = _alerts.Count(a => a.Kind == AlertKind.MissionWaiting && a.AcknowledgedAt is null && a.MissionId is { } id && still.Contains(id));
            counting = _alerts.Any(a => a.Kind == AlertKind.MissionWaiting && a.AcknowledgedAt is null && a.MissionId is null);
        }

        var single = Math.Max(0, MaxWaitingAlertsOpen - open);
        foreach (var (mission, since) in due.Take(single))
            Raise(AlertKind.MissionWaiting, "warning", null, mission.Id,
                $"mission {mission.Id} (priority {mission.Priority}) has waited {WaitText(now - since)} for a robot: {context}");
        if (due.Count > single && !counting)
        {
            // One open alert counts the rest; the next comes once an operator has acknowledged it.
            var longest = waits.MinBy(w => w.Since);
            var beyond = waits.Count(w => now - w.Since >= after) - Math.Min(MaxWaitingAlertsOpen, open + single);
            Raise(AlertKind.MissionWaiting, "warning", null, null,
                $"{beyond} more mission{(beyond == 1 ? " has" : "s have")} waited {WaitText(after)} or more for a robot (longest: {longest.Mission.Id}, {WaitText(now - longest.Since)}): {context}");
        }

        foreach (var (mission, since) in due)
            _waitingAlerted[mission.Id] = since;
    }

    /// <summary>How many "mission waiting" alerts naming a mission may be open at once (the rest are counted in one alert).</summary>
    internal const int MaxWaitingAlertsOpen = 20;

    /// <summary>When a queued mission was last queued: submitted, put back in the queue, or reassigned before its order left (not a priority or pin change while queued).</summary>
    private static DateTimeOffset QueuedSince(MissionView mission)
    {
        for (var i = mission.History.Count - 1; i >= 0; i--)
        {
            if (mission.History[i].Status == MissionStatus.Queued && (i == 0 || mission.History[i - 1].Status != MissionStatus.Queued))
                return mission.History[i].Timestamp;
        }

        return mission.CreatedAt;
    }

    /// <summary>A wait in words: whole minutes from a minute on, else seconds.</summary>
    private static string WaitText(TimeSpan wait) => wait.TotalMinutes >= 1 ? $"{wait.TotalMinutes:F0} min" : $"{wait.TotalSeconds:F0} s";

    /// <summary>Straight-line metres from the robot's reported position to the next waypoint of its route (lanes are straight); null when either is unknown or they are on different levels.</summary>
    private double? MetresToNext(RobotTwin twin, IReadOnlyList<string> route) =>
        twin.Position is { } at && route.Count >= 2 && map.Waypoints.TryGetValue(route[1], out var next) && next.LevelId == at.MapId
            ? double.Hypot(next.X - at.X, next.Y - at.Y)
            : null;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                CheckStuck();
                CheckWaiting();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down
        }
    }
}

/// <summary>Turns robot and mission events from the bus into alerts.</summary>
public sealed class AlertConsumer(AlertService alerts) : IConsumer<RobotErrorRaised>, IConsumer<RobotConnectionChanged>, IConsumer<MissionStatusChanged>, IConsumer<LaneClosed>
{
    /// <inheritdoc />
    public Task Consume(ConsumeContext<LaneClosed> context)
    {
        var e = context.Message;
        alerts.Raise(AlertKind.LaneClosed, "warning", e.Robot, null,
            $"lane(s) {string.Join(", ", e.LaneIds)} closed: {e.Reason}{(e.Until is { } until ? $" (until {until:HH:mm:ss} unless seen again)" : "")}");
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task Consume(ConsumeContext<RobotErrorRaised> context)
    {
        var e = context.Message;
        if (e.Error.Level is "WARNING" or "FATAL")
            alerts.Raise(AlertKind.RobotError, e.Error.Level == "FATAL" ? "critical" : "warning", e.Robot, null,
                $"robot {e.Robot} raised {e.Error.Level} {e.Error.ErrorType}{(e.Error.Description is { Length: > 0 } d ? $": {d}" : "")}");
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task Consume(ConsumeContext<RobotConnectionChanged> context)
    {
        var e = context.Message;
        if (e.State == RobotConnectionState.ConnectionBroken)
            alerts.Raise(AlertKind.RobotLost, "critical", e.Robot, null, $"robot {e.Robot} lost its connection (CONNECTIONBROKEN)");
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task Consume(ConsumeContext<MissionStatusChanged> context)
    {
        var e = context.Message;
        if (e.Status == MissionStatus.Failed)
            alerts.Raise(AlertKind.MissionFailed, "warning", e.Robot, e.MissionId, $"mission {e.MissionId} failed: {e.Reason}");
        return Task.CompletedTask;
    }
}
