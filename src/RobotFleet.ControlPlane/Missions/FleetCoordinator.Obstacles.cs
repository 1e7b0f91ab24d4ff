using Microsoft.Extensions.Logging;
using RobotFleet.Contracts;
using RobotFleet.Maps;

namespace RobotFleet.ControlPlane.Missions;

/// <summary>A closed lane: why, since when, until when (null: until an operator opens it) and the spot seen on it.</summary>
/// <param name="LaneId">The lane.</param>
/// <param name="Reason">Why it is closed.</param>
/// <param name="ClosedAt">When it was closed.</param>
/// <param name="Until">When it reopens unless seen again; null for an operator's closure.</param>
/// <param name="X">The obstacle's position (metres east), when a detection closed it.</param>
/// <param name="Y">The obstacle's position (metres north), when a detection closed it.</param>
/// <param name="Robot">The robot that saw it; null for an operator.</param>
public sealed record ClosedLaneView(string LaneId, string Reason, DateTimeOffset ClosedAt, DateTimeOffset? Until, double? X, double? Y, RobotId? Robot);

/// <summary>
/// Obstacles: a detection on a lane's corridor closes that lane (both directions) until a robot looking at the spot sees it
/// clear, or <see cref="ControlPlaneOptions.ObstacleLaneTimeout"/> passes without it being seen again. Robots whose route uses
/// a closed lane are re-planned: one whose unreleased part uses it gets an order update that routes around it; one whose
/// released base uses it (the base cannot be changed, VDA 5050 stitching) is told to cancel its order (it stops at the end of
/// the lane it is on, before the closed lane) and its mission goes back to the queue, not counting against that robot, to be
/// assigned again with a new order id that avoids the lane, from the first target it had not done (a pick already made is not
/// made again). A mission with no route left waits in the queue until the lane reopens (by perception, timeout or operator),
/// without a time limit of its own. Closures, and the detour bookkeeping, live in memory only: a control-plane restart forgets them.
/// </summary>
public sealed partial class FleetCoordinator
{
    private readonly Dictionary<string, ClosedLaneView> _closedLanes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _detours = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _targetsDone = new(StringComparer.Ordinal);

    /// <summary>Whether any lane is closed; read without the lock so that empty perception reports skip it.</summary>
    private volatile bool _anyClosed;

    /// <summary>The lanes closed now.</summary>
    public Task<IReadOnlyList<ClosedLaneView>> ClosedLanesAsync(CancellationToken cancellationToken) =>
        UnderLockAsync<IReadOnlyList<ClosedLaneView>>(() => _closedLanes.Values.OrderBy(l => l.LaneId, StringComparer.Ordinal).ToList(), cancellationToken);

    /// <summary>Takes in a perception report: closes lanes with an obstacle on them, opens lanes seen clear, re-plans.</summary>
    public Task OnPerceptionAsync(PerceptionReported report, CancellationToken cancellationToken)
    {
        // Most frames see nothing, and with no lane closed there is nothing they could open: no need to take the lock.
        if (!_anyClosed && !report.Detections.Any(d => d.Score >= options.ObstacleMinScore))
            return Task.CompletedTask;
        return OnPerceptionUnderLockAsync(report, cancellationToken);
    }

    private Task OnPerceptionUnderLockAsync(PerceptionReported report, CancellationToken cancellationToken) => UnderLockAsync(() =>
    {
        var now = time.GetUtcNow();
        var changed = ClearSeenSpots(report, now);
        var level = Track(report.Robot).WaypointId is { } at && options.Map.Waypoints.TryGetValue(at, out var w) ? w.LevelId : null;
        foreach (var detection in report.Detections.Where(d => d.Score >= options.ObstacleMinScore))
        {
            var lanes = LaneCorridor.LanesAt(options.Map, detection.X, detection.Y, options.ObstacleCorridorHalfWidth, level);
            if (lanes.Count == 0)
                continue;
            var reason = $"{detection.Class} ({detection.Score:0.00}) seen by {report.Robot} at ({detection.X:0.00}, {detection.Y:0.00})";
            var ids = new List<string>();
            foreach (var lane in WithReverses(lanes))
            {
                var known = _closedLanes.GetValueOrDefault(lane.Id);
                if (known is { Until: null })
                    continue; // an operator's closure stays as it is
                _closedLanes[lane.Id] = new ClosedLaneView(lane.Id, known?.Reason ?? reason, known?.ClosedAt ?? now, now + options.ObstacleLaneTimeout,
                    detection.X, detection.Y, report.Robot);
                if (known is null)
                    ids.Add(lane.Id);
            }

            if (ids.Count > 0)
            {
                changed = true;
                logger.LogWarning("Obstacle: closed lane(s) {Lanes}: {Reason} (frame at {Timestamp:O}, {Delay:F0} ms before the control plane had it)",
                    string.Join(", ", ids), reason, report.Timestamp, (now - report.Timestamp).TotalMilliseconds);
                _outbox.Add(new LaneClosed(ids, reason, now, now + options.ObstacleLaneTimeout, report.Robot));
            }
        }

        _anyClosed = _closedLanes.Count > 0;
        if (changed)
            Process();
        return true;
    }, cancellationToken);

    /// <summary>Closes a lane (and its reverse) until an operator opens it. False when the lane is unknown.</summary>
    public Task<bool> CloseLaneAsync(CloseLane command, CancellationToken cancellationToken) => UnderLockAsync(() =>
    {
        if (options.Map.Lanes.FirstOrDefault(l => l.Id == command.LaneId) is not { } lane)
            return false;
        var now = time.GetUtcNow();
        var reason = $"closed by {command.RequestedBy}: {command.Reason}";
        var ids = WithReverses([lane]).Select(l => l.Id).ToList();
        foreach (var id in ids)
            _closedLanes[id] = new ClosedLaneView(id, reason, now, null, null, null, null);
        logger.LogWarning("Lane(s) {Lanes} {Reason}", string.Join(", ", ids), reason);
        _outbox.Add(new LaneClosed(ids, reason, now, null, null));
        _anyClosed = true;
        Process();
        return true;
    }, cancellationToken);

    /// <summary>Opens a closed lane (and its reverse). False when it was not closed.</summary>
    public Task<bool> OpenLaneAsync(string laneId, string actor, CancellationToken cancellationToken) => UnderLockAsync(() =>
    {
        if (options.Map.Lanes.FirstOrDefault(l => l.Id == laneId) is not { } lane)
            return false;
        var ids = WithReverses([lane]).Select(l => l.Id).Where(_closedLanes.Remove).ToList();
        if (ids.Count == 0)
            return false;
        Opened(ids, $"opened by {actor}", time.GetUtcNow());
        Process();
        return true;
    }, cancellationToken);

    /// <summary>
    /// With <see cref="ControlPlaneOptions.OneWayLoops"/>, the lanes against the loops kept closed now: all of them but those
    /// of a block with a lane closed on it (see <see cref="UpdateLoopRule"/>); empty without the option.
    /// </summary>
    private IReadOnlySet<string> _againstLoops = new HashSet<string>();

    /// <summary>The passing lanes among <see cref="_againstLoops"/> (<see cref="Planning.OneWayLoopBlocks.Passing"/>): closed to routes, open to PIBT only to make way.</summary>
    private IReadOnlySet<string> _passingLanes = new HashSet<string>();

    /// <summary>Whether <see cref="UpdateLoopRule"/> has run (its first run sets the rule without logging a change).</summary>
    private bool _loopRuleApplied;

    /// <summary>True when the lane may not be driven now: closed (operator, perception), or against a loop driven one way round.</summary>
    private bool IsClosed(Lane lane) => _closedLanes.ContainsKey(lane.Id) || _againstLoops.Contains(lane.Id);

    /// <summary>The closed-lane predicate for route searches; null when every lane is open.</summary>
    private Func<Lane, bool>? ClosedOrNull => _closedLanes.Count == 0 && _againstLoops.Count == 0 ? null : IsClosed;

    /// <summary>The lanes against the loops driven one way round with no lane closed: what routes avoid once every closure has ended.</summary>
    private Func<Lane, bool>? AgainstLoopsWhenOpen => _loops is { Against.Count: > 0 } loops ? l => loops.Against.Contains(l.Id) : null;

    /// <summary>
    /// Recomputes <see cref="_againstLoops"/> from the lanes closed now: a block of loops with a closed lane on it is driven
    /// both ways until it opens (one way round, the closure would cut off every waypoint past it). Plans made meanwhile
    /// against a loop keep what they were sent; new routes follow the loops again once the block is whole. Part of every cycle.
    /// </summary>
    private void UpdateLoopRule()
    {
        if (_loops is null)
            return;
        var against = _loops.AgainstWhileClosed(_closedLanes.Keys);
        var first = !_loopRuleApplied;
        _loopRuleApplied = true;
        if (against.Count != _againstLoops.Count && !first)
        {
            logger.LogInformation(against.Count < _againstLoops.Count
                ? "One-way loops: {Lanes} lanes against the loops open while a lane on their loops is closed"
                : "One-way loops: {Lanes} lanes against the loops closed again (the closures on their loops ended)", Math.Abs(against.Count - _againstLoops.Count));
        }

        _againstLoops = against;
        _passingLanes = _loops.PassingAmong(against);
    }

    /// <summary>The fastest route that drives no closed lane (and, optionally, enters no blocked waypoint), priced as PIBT routes (<see cref="RouteCost"/>).</summary>
    private Route? FindOpenRoute(string from, string to, Func<string, bool>? blocked = null) =>
        _graph.FindRoute(from, to, options.RobotMaxSpeed, blocked, ClosedOrNull, RouteCost(from));

    private IEnumerable<Lane> WithReverses(IEnumerable<Lane> lanes) => lanes
        .SelectMany(l => options.Map.Lanes.Where(o => o == l || (o.FromWaypointId == l.ToWaypointId && o.ToWaypointId == l.FromWaypointId)))
        .DistinctBy(l => l.Id);

    /// <summary>Opens the lanes whose spot the reporting robot looks at (close, facing it) and sees nothing on.</summary>
    private bool ClearSeenSpots(PerceptionReported report, DateTimeOffset now)
    {
        if (_robots.GetValueOrDefault(report.Robot)?.State?.Position is not { } pose)
            return false;
        var cleared = _closedLanes.Values
            .Where(c => c.Until is not null && c.X is { } x && c.Y is { } y && c.ClosedAt < report.ReceivedAt)
            .Where(c =>
            {
                var (dx, dy) = (c.X!.Value - pose.X, c.Y!.Value - pose.Y);
                var distance = Math.Sqrt((dx * dx) + (dy * dy));
                var bearing = Math.Abs(Math.IEEERemainder(Math.Atan2(dy, dx) - pose.Theta, 2 * Math.PI));
                return distance <= options.ObstacleClearRange && distance > 0.3 && bearing <= Math.PI / 6
                    && !report.Detections.Any(d => Math.Abs(d.X - c.X.Value) <= 1 && Math.Abs(d.Y - c.Y.Value) <= 1);
            })
            .Select(c => c.LaneId).ToList();
        if (cleared.Count == 0)
            return false;
        foreach (var id in cleared)
            _closedLanes.Remove(id);
        Opened(cleared, $"seen clear by {report.Robot}", now);
        return true;
    }

    /// <summary>Opens lanes whose closure timed out; part of every cycle.</summary>
    private void ExpireClosures(DateTimeOffset now)
    {
        var expired = _closedLanes.Values.Where(c => c.Until is { } until && until <= now).Select(c => c.LaneId).ToList();
        if (expired.Count == 0)
            return;
        foreach (var id in expired)
            _closedLanes.Remove(id);
        Opened(expired, $"not seen for {options.ObstacleLaneTimeout.TotalSeconds:F0} s", now);
    }

    private void Opened(IReadOnlyList<string> ids, string reason, DateTimeOffset now)
    {
        _anyClosed = _closedLanes.Count > 0;
        logger.LogInformation("Lane(s) {Lanes} open again: {Reason}", string.Join(", ", ids), reason);
        _outbox.Add(new LaneOpened(ids, reason, now));
    }

    /// <summary>
    /// Re-plans every robot whose remaining route drives a closed lane (see the class remarks); part of every cycle, so a
    /// plan made before a closure, or restored, is caught too.
    /// </summary>
    private void AvoidClosedLanes()
    {
        if (_closedLanes.Count == 0)
            return;
        foreach (var robot in _robots.Values.Where(r => r.Plan is { Orphaned: false, CancelActionId: null }).ToList())
        {
            var plan = robot.Plan!;
            // Closures only: a plan sent against a loop while its block was open both ways keeps what it was sent.
            var ahead = plan.Steps.Skip(plan.ReachedIndex + 1).Where(s => s.LaneIn is { } l && _closedLanes.ContainsKey(l.Id)).Select(s => plan.Steps.IndexOf(s)).ToList();
            if (ahead.Count == 0)
                continue;
            var lane = plan.Steps[ahead[0]].LaneIn!.Id;
            if (ahead[0] > plan.ReleasedThrough || plan.UpdateId < 0)
            {
                if (plan.Reroute(plan.OpenTargets, (a, b) => FindOpenRoute(a, b)))
                {
                    logger.LogInformation("Obstacle: re-routed {Robot} ({Order}) around closed lane {Lane} by an order update", robot.Id, plan.OrderId, lane);
                    continue;
                }
            }

            var mission = MissionOf(robot);
            var reason = $"lane {lane} on its route is closed ({_closedLanes[lane].Reason})";
            if (mission is { IsFinal: false })
            {
                // The released base cannot be changed: the robot cancels (stopping at the end of the lane it drives) and the
                // mission is planned afresh, with a new order id, on a way round.
                if (plan.UpdateId >= 0)
                {
                    _outbox.Add(CancelOrder(robot.Id, plan.OrderId));
                    plan.Orphan();
                }
                else
                {
                    robot.Plan = null;
                }

                // Targets reached with their actions finished are done: the new order starts at the next one.
                var finished = robot.State?.Actions.Where(a => a.Status == RobotActionStatus.Finished).Select(a => a.ActionId).ToHashSet() ?? [];
                var done = plan.TargetSteps.Where(t => !t.Target.Refuge)
                    .TakeWhile(t => t.StepIndex <= plan.ReachedIndex && t.Target.Actions.All(a => finished.Contains(a.ActionId))).Count();
                _targetsDone[mission.Id] = _targetsDone.GetValueOrDefault(mission.Id) + done;
                _detours[mission.Id] = _detours.GetValueOrDefault(mission.Id) + 1;
                Transition(mission, MissionStatus.Queued, DispatcherActor, $"{reason}; re-planning", fact: MissionFactKind.Requeued, subject: robot.Id);
                logger.LogWarning("Obstacle: cancelled {Robot}'s order {Order} and re-planning mission {Mission}: {Reason}", robot.Id, plan.OrderId, mission.Id, reason);
            }
            else if (plan.UpdateId >= 0)
            {
                _outbox.Add(CancelOrder(robot.Id, plan.OrderId));
                plan.Orphan();
                logger.LogWarning("Obstacle: cancelled {Robot}'s move {Order}: {Reason}", robot.Id, plan.OrderId, reason);
            }
            else
            {
                robot.Plan = null;
            }
        }
    }
}
