using Microsoft.Extensions.Logging;
using RobotFleet.Contracts;
using RobotFleet.Maps;
using RobotFleet.Planning;

namespace RobotFleet.ControlPlane.Missions;

/// <summary>Dispatch, release and wait resolution: the coordinator's cycle, in small named phases.</summary>
public sealed partial class FleetCoordinator
{
    private static readonly HashSet<string> OrderRejections = ["validationError", "orderError", "orderUpdateError", "noRouteError"];

    /// <summary>One coordination cycle: assign queued missions, release what traffic allows, resolve waits.</summary>
    private void Process()
    {
        AssignQueuedMissions();
        ReleaseRoutes();
        ResolveWaits(time.GetUtcNow());
    }

    private void FollowProgress(TrackedRobot robot)
    {
        if (robot.Plan is not { } plan || robot.State is not { } state)
            return;
        var mission = plan.MissionId is { } id ? _missions.GetValueOrDefault(id) : null;

        if (state.Errors.FirstOrDefault(e => e.OrderId == plan.OrderId && OrderRejections.Contains(e.ErrorType)) is { } rejection)
        {
            Abandon(robot, mission, $"robot {robot.Id} rejected order {plan.OrderId}: {rejection.ErrorType}: {rejection.Description}");
            return;
        }

        if (state.Errors.FirstOrDefault(e => e.Level == "FATAL") is { } fatal)
        {
            Abandon(robot, mission, $"robot {robot.Id} raised FATAL {fatal.ErrorType}: {fatal.Description}");
            return;
        }

        if (state.OrderId != plan.OrderId)
            return;
        if (mission is { Status: MissionStatus.Assigned })
            Transition(mission, MissionStatus.Executing, robot.Key, $"robot accepted order {plan.OrderId}");

        var reached = plan.Steps.FindIndex(plan.ReachedIndex, s => s.SequenceId == state.LastNodeSequenceId && s.WaypointId == state.LastNodeId);
        if (reached >= 0)
            plan.ReachedIndex = reached;

        var ours = plan.Steps.SelectMany(s => s.Actions).Select(a => a.ActionId).ToHashSet();
        if (state.Actions.FirstOrDefault(a => ours.Contains(a.ActionId) && a.Status == RobotActionStatus.Failed) is { } failed)
        {
            Abandon(robot, mission, $"action {failed.ActionType} ({failed.ActionId}) failed: {failed.ResultDescription}");
            return;
        }

        var finished = state.Actions.Where(a => a.Status == RobotActionStatus.Finished).Select(a => a.ActionId).ToHashSet();
        if (plan.ReachedIndex == plan.Steps.Count - 1 && state.PendingWaypointIds.Count == 0 && ours.All(finished.Contains))
        {
            robot.Plan = null;
            if (mission is { IsFinal: false })
                Transition(mission, MissionStatus.Completed, robot.Key, $"drop finished at '{mission.Dropoff}'");
        }
    }

    private void Abandon(TrackedRobot robot, MissionView? mission, string reason)
    {
        var plan = robot.Plan!;
        if (robot.State?.OrderId == plan.OrderId && robot.State.PendingWaypointIds.Count > 0)
            _outbox.Add(CancelOrder(robot.Id, plan.OrderId));
        robot.Plan = null;
        if (mission is { IsFinal: false })
            Transition(mission, MissionStatus.Failed, robot.Key, reason);
        else
            logger.LogWarning("Robot {Robot} dropped move {Order}: {Reason}", robot.Id, plan.OrderId, reason);
    }

    private static TriggerInstantActions CancelOrder(RobotId robot, string orderId) =>
        new(robot, [new RobotAction($"cancel-{orderId}-{Guid.NewGuid():N}", "cancelOrder", "HARD", new Dictionary<string, string>())]);

    private void AssignQueuedMissions()
    {
        var queued = _missions.Values.Where(m => m.Status == MissionStatus.Queued).ToList();
        if (queued.Count == 0)
            return;
        var candidates = _robots.Values
            .Select(r => new DispatchRobot(r.Key, r.WaypointId, IsAvailable(r), options.RobotMaxSpeed))
            .ToList();
        var requests = queued.Select(m => new DispatchRequest(m.Id, LocationWaypoint(m.Pickup!), m.Priority, m.CreatedAt)).ToList();
        var result = new Dispatcher(_graph).Assign(candidates, requests);
        foreach (var assignment in result.Assignments)
        {
            var robot = _robots.Values.Single(r => r.Key == assignment.RobotId);
            var mission = _missions[assignment.MissionId];
            PlanTarget[] targets =
            [
                new(LocationWaypoint(mission.Pickup!), [Action($"{mission.Id}-pick", "pick", mission.Pickup!)]),
                new(LocationWaypoint(mission.Dropoff!), [Action($"{mission.Id}-drop", "drop", mission.Dropoff!)]),
            ];
            var plan = new RobotPlan(mission.Id, mission.Id, robot.WaypointId!);
            if (!plan.Reroute(targets, (from, to) => _graph.FindRoute(from, to, options.RobotMaxSpeed)))
            {
                Transition(mission, MissionStatus.Failed, DispatcherActor, $"no route from pickup '{mission.Pickup}' to dropoff '{mission.Dropoff}'");
                continue;
            }

            robot.Plan = plan;
            Transition(mission, MissionStatus.Assigned, DispatcherActor,
                $"nearest idle robot: {assignment.Approach.TravelTime:F0} s to pickup", robot.Id, plan.OrderId);
        }
    }

    private static RobotAction Action(string id, string type, string location) =>
        new(id, type, "HARD", new Dictionary<string, string> { ["location"] = location });

    private string LocationWaypoint(string location) => options.Map.Locations[location].WaypointId;

    private static bool IsAvailable(TrackedRobot robot) =>
        robot.IsOnline && robot.Plan is null && !robot.HasFatalError && robot.WaypointId is not null
        && robot.State is { Driving: false, PendingWaypointIds.Count: 0, Paused: false };

    private RobotMotion Motion(TrackedRobot robot)
    {
        if (robot.Plan is { } plan)
        {
            // A robot giving way moves (and holds) only as far as its refuge until the robots it yields to are past.
            var waypoints = IsYielding(plan) ? plan.RemainingWaypoints.Take(plan.YieldAtStep!.Value - plan.ReachedIndex + 1).ToList() : plan.RemainingWaypoints;
            return new RobotMotion(robot.Key, waypoints, Math.Max(0, plan.ReleasedThrough - plan.ReachedIndex));
        }

        // A robot without a plan holds where it is and, while it still drives out an old order, where it is going.
        var held = new List<string>();
        if (robot.WaypointId is { } current)
            held.Add(current);
        if (robot.State is { } state && (state.Driving || state.PendingWaypointIds.Count > 0))
            held.AddRange(state.PendingWaypointIds.Where(w => !held.Contains(w)));
        return new RobotMotion(robot.Key, held, Math.Max(0, held.Count - 1), Yields: true);
    }

    /// <summary>
    /// True while the plan waits at its refuge: a robot it gives way to still has a waypoint of its way
    /// on from there ahead (and does not itself need the refuge, which would be a wait no cycle check sees).
    /// </summary>
    private bool IsYielding(RobotPlan plan)
    {
        if (plan.YieldAtStep is not { } refuge || plan.ReleasedThrough > refuge || refuge < plan.ReachedIndex)
            return false;
        var onward = plan.Steps.Skip(refuge + 1).Select(s => s.WaypointId).ToHashSet();
        var theirWays = _robots.Values.Where(r => plan.YieldTo.Contains(r.Key) && r.Plan is not null).Select(r => r.Plan!.RemainingWaypoints).ToList();
        return !theirWays.Any(w => w.Contains(plan.Steps[refuge].WaypointId)) && theirWays.Any(w => w.Any(onward.Contains));
    }

    private Dictionary<string, RobotMotion> Motions() => _robots.Values.ToDictionary(r => r.Key, Motion);

    private Dictionary<string, string>? CurrentHolds(Dictionary<string, RobotMotion> motions)
    {
        try
        {
            return new Dictionary<string, string>(TrafficController.Holds(motions.Values));
        }
        catch (InvalidOperationException e)
        {
            logger.LogError("Traffic invariant broken: {Error}", e.Message);
            return null;
        }
    }

    private void ReleaseRoutes()
    {
        var motions = Motions();
        if (CurrentHolds(motions) is not { } holds)
            return;
        foreach (var robot in RobotsWithPlansByPriority().Where(r => r.IsOnline))
        {
            var plan = robot.Plan!;
            var through = plan.ReachedIndex + TrafficController.Release(motions[robot.Key], holds);
            if (through <= plan.ReleasedThrough && !plan.Dirty)
                continue;
            for (var i = plan.ReleasedThrough + 1; i <= through; i++)
                holds[plan.Steps[i].WaypointId] = robot.Key;
            Send(robot, plan, Math.Max(through, plan.ReleasedThrough));
        }
    }

    private IEnumerable<TrackedRobot> RobotsWithPlansByPriority() => _robots.Values
        .Where(r => r.Plan is not null)
        .OrderByDescending(r => MissionOf(r)?.Priority ?? -1)
        .ThenBy(r => MissionOf(r)?.CreatedAt ?? DateTimeOffset.MaxValue)
        .ToList();

    private MissionView? MissionOf(TrackedRobot robot) => robot.Plan?.MissionId is { } id ? _missions.GetValueOrDefault(id) : null;

    /// <summary>Sends the plan from its last base node (or from the start for a new order), released through <paramref name="through"/>.</summary>
    private void Send(TrackedRobot robot, RobotPlan plan, int through)
    {
        var start = plan.UpdateId < 0 ? 0 : plan.ReleasedThrough;
        var waypoints = new List<RouteWaypoint>();
        var lanes = new List<RouteLane>();
        for (var i = start; i < plan.Steps.Count; i++)
        {
            var step = plan.Steps[i];
            var waypoint = options.Map.Waypoints[step.WaypointId];
            if (i > start && step.LaneIn is { } lane)
                lanes.Add(new RouteLane(lane.Id, step.SequenceId - 1, i <= through, lane.FromWaypointId, lane.ToWaypointId, lane.SpeedLimit ?? options.RobotMaxSpeed));
            waypoints.Add(new RouteWaypoint(step.WaypointId, step.SequenceId, i <= through, waypoint.X, waypoint.Y, waypoint.LevelId, step.Actions));
        }

        plan.UpdateId++;
        plan.ReleasedThrough = through;
        plan.Dirty = false;
        _outbox.Add(new DispatchRoute(robot.Id, plan.OrderId, plan.UpdateId, waypoints, lanes));
    }

    private void ResolveWaits(DateTimeOffset now)
    {
        var motions = Motions();
        if (CurrentHolds(motions) is not { } holds)
            return;
        foreach (var robot in RobotsWithPlansByPriority().Where(r => r.IsOnline))
        {
            var plan = robot.Plan;
            if (plan is null || TrafficController.Blocker(motions[robot.Key], holds) is not { } blockerKey)
            {
                if (plan is not null)
                    plan.BlockedSince = null;
                continue;
            }

            plan.BlockedSince ??= now;
            if (now - plan.BlockedSince < options.BlockedResolveAfter || now - plan.LastReplan < options.ReplanCooldown)
                continue;
            var blocker = _robots.Values.Single(r => r.Key == blockerKey);
            if (!blocker.IsOnline)
                ResolveLostBlocker(robot, blocker, holds, now);
            else if (blocker.Plan is null && IsAvailable(blocker))
                _ = MoveAside(blocker, holds, avoid: plan.RemainingWaypoints, now);
            else if (TrafficController.FindWaitCycle(robot.Key, motions, holds) is { } cycle)
                BreakCycle(cycle, holds, now);
            else
                continue;
            plan.LastReplan = now;
            motions = Motions();
            if (CurrentHolds(motions) is not { } updated)
                return;
            holds = updated;
        }

        ReleaseRoutes();
    }

    private void ResolveLostBlocker(TrackedRobot robot, TrackedRobot lost, Dictionary<string, string> holds, DateTimeOffset now)
    {
        if (TryRerouteAround(robot, holds))
            return;
        if (now - robot.Plan!.BlockedSince > options.LostBlockerTimeout)
        {
            var where = robot.Plan.Steps[robot.Plan.ReleasedThrough + 1].WaypointId;
            Abandon(robot, MissionOf(robot), $"blocked for {options.LostBlockerTimeout.TotalSeconds:F0} s by lost robot {lost.Id} ({lost.Connection}) holding waypoint '{where}', and no way round");
        }
    }

    private void BreakCycle(IReadOnlyList<string> cycle, Dictionary<string, string> holds, DateTimeOffset now)
    {
        // The lowest-priority, most recently submitted robot in the cycle gives way.
        var victims = cycle.Select(key => _robots.Values.Single(r => r.Key == key))
            .OrderBy(r => MissionOf(r)?.Priority ?? -1)
            .ThenByDescending(r => MissionOf(r)?.CreatedAt ?? DateTimeOffset.MaxValue)
            .ToList();
        if (victims.Any(v => TryRerouteAround(v, holds)))
            return;
        // The first victim that has somewhere to go moves aside (one stuck at a dead end cannot) and gives way to the others.
        foreach (var victim in victims)
        {
            var others = cycle.Where(k => k != victim.Key).ToList();
            var theirWay = others.SelectMany(k => _robots.Values.Single(r => r.Key == k).Plan?.RemainingWaypoints ?? []).ToList();
            if (MoveAside(victim, holds, theirWay, now, yieldTo: others))
                return;
        }
    }

    private bool TryRerouteAround(TrackedRobot robot, Dictionary<string, string> holds)
    {
        var plan = robot.Plan!;
        var open = plan.OpenTargets;
        if (open.Count == 0)
            return false;
        var ok = plan.Reroute(open, (from, to) => _graph.FindRoute(from, to, options.RobotMaxSpeed, w => holds.TryGetValue(w, out var h) && h != robot.Key));
        if (ok)
            logger.LogInformation("Traffic: re-routed {Robot} around held waypoints", robot.Id);
        return ok;
    }

    /// <summary>
    /// Sends a robot to the nearest free waypoint off the way of the robots in <paramref name="avoid"/>
    /// (preferring waypoints on no other robot's route, then parking and chargers), then on to
    /// whatever targets it still had.
    /// </summary>
    /// <returns>False when it has nowhere to go.</returns>
    private bool MoveAside(TrackedRobot robot, Dictionary<string, string> holds, IReadOnlyList<string> avoid, DateTimeOffset now, IReadOnlyCollection<string>? yieldTo = null)
    {
        var otherRoutes = _robots.Values.Where(r => r != robot && r.Plan is not null).SelectMany(r => r.Plan!.RemainingWaypoints).ToHashSet();
        var excluded = avoid.Concat(holds.Where(h => h.Value != robot.Key).Select(h => h.Key)).ToHashSet();
        var from = robot.Plan is { } current ? current.Steps[current.ReleasedThrough].WaypointId : robot.WaypointId!;
        bool Blocked(string w) => holds.TryGetValue(w, out var h) && h != robot.Key;
        var preferred = options.Map.Locations.Values
            .Where(l => l.Kinds.Contains(LocationKind.Parking) || l.Kinds.Contains(LocationKind.Charger))
            .Select(l => l.WaypointId).ToHashSet();
        var refuge = options.Map.Waypoints.Keys
            .Where(w => w != from && !excluded.Contains(w))
            .Select(w => (Waypoint: w, Route: _graph.FindRoute(from, w, options.RobotMaxSpeed, Blocked)))
            .Where(c => c.Route is not null)
            .OrderBy(c => otherRoutes.Contains(c.Waypoint) ? 1 : 0)
            .ThenBy(c => preferred.Contains(c.Waypoint) ? 0 : 1)
            .ThenBy(c => c.Route!.TravelTime)
            .FirstOrDefault();
        if (refuge.Route is null)
        {
            logger.LogWarning("Traffic: no free waypoint reachable from '{From}' to move {Robot} aside to", from, robot.Id);
            return false;
        }

        PlanTarget aside = new(refuge.Waypoint, []);
        if (robot.Plan is { } plan)
        {
            // The way to the refuge avoids others' holds; the way on from it is taken once they are past (see IsYielding).
            var legs = 0;
            if (!plan.Reroute([aside, .. plan.OpenTargets], (a, b) => legs++ == 0
                    ? _graph.FindRoute(a, b, options.RobotMaxSpeed, Blocked)
                    : _graph.FindRoute(a, b, options.RobotMaxSpeed)))
                return false;
            plan.YieldAtStep = plan.TargetSteps.First(t => ReferenceEquals(t.Target, aside)).StepIndex;
            plan.YieldTo = yieldTo ?? [];
        }
        else
        {
            plan = new RobotPlan($"move-{robot.Key.Replace('/', '-')}-{++_evadeCounter}", null, from);
            if (!plan.Reroute([aside], (a, b) => _graph.FindRoute(a, b, options.RobotMaxSpeed, Blocked)))
                return false;
            robot.Plan = plan;
        }

        plan.LastReplan = now;
        logger.LogInformation("Traffic: moving {Robot} aside to '{Waypoint}' to clear the way", robot.Id, refuge.Waypoint);
        return true;
    }
}
