using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using RobotFleet.Contracts;
using RobotFleet.Maps;
using RobotFleet.Planning.Traffic;

namespace RobotFleet.ControlPlane.Missions;

/// <summary>
/// Release by the PIBT traffic controller (<see cref="ControlPlaneOptions.TrafficControl"/> = <see cref="TrafficControl.Pibt"/>):
/// the controller is told where every robot stands, whether it is busy and which waypoint it heads for next (its plan's next
/// target that is not a refuge, see <see cref="NextStop"/>); what it releases is sent as order updates. A release along the plan extends the base; one off it (the robot was
/// pushed aside, or the controller's fastest way differs) re-routes the plan through the released waypoints and on to its open
/// targets; a robot without a plan that is pushed aside gets a move order.
/// </summary>
public sealed partial class FleetCoordinator
{
    private PibtTrafficController? _pibt;
    private readonly HashSet<string> _pibtPlaced = new(StringComparer.Ordinal);
    private readonly HashSet<string> _pibtClosed = new(StringComparer.Ordinal);

    /// <summary>The lanes closed by operators or obstacles when the controller's last-resort lanes were last set.</summary>
    private readonly HashSet<string> _pibtObstacleClosed = new(StringComparer.Ordinal);

    /// <summary>The passing lanes last handed to the controller (<see cref="_passingLanes"/> as it was then).</summary>
    private IReadOnlySet<string>? _pibtPassing;
    private readonly Dictionary<string, double> _pibtExplained = new(StringComparer.Ordinal);

    /// <summary>The loop flow weight last logged (by density it changes as robots join and leave); NaN before the first.</summary>
    private double _loggedFlowWeight = double.NaN;

    /// <summary>The PIBT controller, made at its first use (the first release, or the first route weighted by its loop flow weight).</summary>
    private PibtTrafficController Pibt
    {
        [MemberNotNull(nameof(_pibt))]
        get => _pibt ??= new PibtTrafficController(new TrafficSpace(options.Map, options.FootprintRadius, options.RobotMaxSpeed),
            new PibtTrafficOptions { LoopFlowWeight = _loopFlowWeight });
    }

    /// <summary>
    /// The lanes against the loops' flow (the way <see cref="Planning.OneWayLoops"/> would drive them) where the PIBT controller
    /// may weight them (<see cref="ControlPlaneOptions.LoopFlowWeight"/> not 1, no one-way loops); null elsewhere. The
    /// assignment planner's travel-time table weights the same lanes (<see cref="Planning.TravelTimeTable.WeightedLaneIds"/>).
    /// </summary>
    private static IReadOnlySet<string>? AgainstFlowLanes(ControlPlaneOptions options) =>
        options.TrafficControl == TrafficControl.Pibt && !options.OneWayLoops && options.LoopFlowWeight != 1
            ? Planning.OneWayLoops.Blocks(options.Map).Against
            : null;

    /// <summary>The lanes against the loops' flow the controller's weight applies to (<see cref="AgainstFlowLanes"/>); null for none.</summary>
    private IReadOnlySet<string>? AgainstFlow => _planner.Table.WeightedLaneIds is { Count: > 0 } against ? against : null;

    /// <summary>
    /// The loop flow weight in force for plans and assignment, where some lane is weighted (else 1): the configured one, or by
    /// density (<see cref="PibtTrafficController.LoopFlowWeightFor"/>) over the robots located on the map, counted here as the
    /// controller counts the robots it places. The controller places them only at its next release (none for a few seconds
    /// after a restart), and assignment may come first (found in review).
    /// </summary>
    private double FlowWeight
    {
        get
        {
            if (AgainstFlow is null)
                return 1;
            if (_loopFlowWeight is { } configured)
                return configured;
            return PibtTrafficController.LoopFlowWeightFor(_robots.Values.Count(r => PlacedAt(r) is not null), Pibt.Space.LoopMetres);
        }
    }

    /// <summary>Where the PIBT controller places a robot: the waypoint its plan last reached, else where it reported itself; null when that is not on the map.</summary>
    private string? PlacedAt(TrackedRobot robot) =>
        (robot.Plan is { } plan ? plan.Steps[plan.ReachedIndex].WaypointId : robot.WaypointId) is { } at && options.Map.Waypoints.ContainsKey(at) ? at : null;

    /// <summary>
    /// The cost factor of a plan's route from <paramref name="from"/>, under PIBT (null when every lane costs its seconds), so
    /// a plan goes the way the controller will release it: a lane against a loop's flow costs the controller's loop flow
    /// weight in force (<see cref="PibtTrafficController.LoopFlowWeight"/>, by density it follows the fleet) times its
    /// seconds, and driving on from a place the controller keeps robots from passing (<see cref="PibtTrafficController.IsStrandedAt"/>:
    /// held by a robot that will not move until a person acts, or too close to pass it; not <paramref name="from"/>) costs
    /// <see cref="TrafficSpace.StrandedPassSeconds"/> more. A plan routed unweighted was re-routed step by step as the
    /// controller sent the robot round with the flow, and one routed through a lost robot went round it and back through it.
    /// </summary>
    private Func<Lane, double>? RouteCost(string from)
    {
        if (options.TrafficControl != TrafficControl.Pibt)
            return null;
        var pibt = Pibt;
        var weight = FlowWeight;
        var stranded = pibt.AnyStranded;
        if (weight <= 1 && !stranded)
            return null;
        var against = AgainstFlow;
        return l => (weight > 1 && against!.Contains(l.Id) ? weight : 1)
                    + (stranded && l.FromWaypointId != from && pibt.IsStrandedAt(l.FromWaypointId)
                        ? TrafficSpace.StrandedPassSeconds / Math.Max(_graph.TravelTime(l, options.RobotMaxSpeed), 1e-3) : 0);
    }

    /// <summary>
    /// Whether a robot will not move until a person acts: in a fatal error, paused (by an operator or on the robot), or lost
    /// (offline, silent, or restored with the control plane and not heard from) with no state for
    /// <see cref="ControlPlaneOptions.SilentAfter"/> (a robot whose connection dropped a moment ago may still be driving what
    /// it was sent).
    /// </summary>
    private bool IsStranded(TrackedRobot robot) => robot.HasFatalError || robot.PausedFor is not null || robot.State is { Paused: true }
        || (robot.IsLost && time.GetUtcNow() - robot.LastStateAt >= options.SilentAfter);

    private void ReleaseByPibt()
    {
        _ = Pibt;
        // Lanes against a loop are closed to the controller but for its passing lanes, which it lets robots drive only to make
        // way; those not closed by an obstacle too are its last resort for robots standing still in a jam.
        var changed = false;
        foreach (var lane in _pibtClosed.Where(l => !_closedLanes.ContainsKey(l) && (!_againstLoops.Contains(l) || _passingLanes.Contains(l))).ToList())
        {
            _pibt.OpenLane(lane);
            _pibtClosed.Remove(lane);
            changed = true;
        }

        foreach (var lane in _closedLanes.Keys.Concat(_againstLoops.Where(l => !_passingLanes.Contains(l))).Where(_pibtClosed.Add))
        {
            _pibt.CloseLane(lane);
            changed = true;
        }

        if (!ReferenceEquals(_pibtPassing, _passingLanes))
        {
            _pibt.SetPassingLanes(_passingLanes); // only when the set changed (with no lane closed on a loop, once)
            _pibtPassing = _passingLanes;
        }

        if (changed || !_pibtObstacleClosed.SetEquals(_closedLanes.Keys))
        {
            _pibtObstacleClosed.Clear();
            _pibtObstacleClosed.UnionWith(_closedLanes.Keys);
            _pibt.SetLastResortLanes(_againstLoops.Where(l => !_passingLanes.Contains(l) && !_closedLanes.ContainsKey(l)));
        }

        foreach (var robot in _robots.Values)
        {
            if (PlacedAt(robot) is not { } at)
            {
                if (_pibtPlaced.Remove(robot.Key))
                    _pibt.Remove(robot.Key);
                continue;
            }

            // A robot first seen with a plan (after a restart) holds what was released to it: it may still be driving there.
            if (_pibtPlaced.Add(robot.Key))
                _pibt.Place(robot.Key, at, robot.Plan is { } placed ? placed.Steps.Take(placed.ReleasedThrough + 1).Skip(placed.ReachedIndex + 1).Select(s => s.WaypointId) : []);
            else
                _pibt.Reached(robot.Key, at);
            // The controller must hold no more than the robot was sent: a release whose plan was replaced before it went out
            // (the mission ended, was cancelled or re-assigned in between) is taken back, or the controller would wait for
            // the robot to drive a way it never heard of, and every robot behind it with it. An orphaned plan (a lost robot's)
            // keeps what was sent: the robot may still drive it.
            // (Counted first: this runs for every robot on every state report; the lists are built only on a difference.)
            var sentCount = robot.Plan is { } sentPlan ? Math.Max(1, sentPlan.ReleasedThrough - sentPlan.ReachedIndex + 1) : 1;
            if (_pibt.HeldCount(robot.Key) > sentCount)
            {
                var sent = robot.Plan is { } p ? p.Steps.Skip(p.ReachedIndex).Take(sentCount).Select(s => s.WaypointId).ToList() : [at];
                var held = _pibt.Held(robot.Key);
                if (held.Take(sent.Count).SequenceEqual(sent, StringComparer.Ordinal))
                    _pibt.Unrelease(robot.Key, held.Count - sent.Count);
            }
            // Stranded: it will not move until a person acts; the others are routed round what it holds where there is a way
            // (with the loop flow weight, the way round may run against a loop's flow: without this they waited behind it).
            var stranded = IsStranded(robot);
            var busy = stranded || robot.IsLost || robot.Plan is { } plan && (plan.Orphaned || plan.CancelActionId is not null || ActsAtReachedStep(robot, plan));
            _pibt.SetBusy(robot.Key, busy);
            _pibt.SetStranded(robot.Key, stranded);
            // A robot busy on its way (opening a door, an action) keeps its goal; it does not move meanwhile. Taken away and given
            // back, the goal counted as new, the robot lost its PIBT priority at every door and the robot it had pushed back
            // pushed it back in turn (regression: two robots bounced at a door for good).
            _pibt.SetGoal(robot.Key, NextStop(robot.Plan));
        }

        // By density the weight follows the fleet: said when it changes, for the operator reading why robots go round.
        if (AgainstFlow is not null && _loopFlowWeight is null && _pibt.LoopFlowWeight != _loggedFlowWeight)
        {
            _loggedFlowWeight = _pibt.LoopFlowWeight;
            logger.LogInformation("Traffic: loop flow weight {Weight:0.##} by density ({Robots} on {Metres:0} m of loop lanes)", _pibt.LoopFlowWeight,
                _pibtPlaced.Count == 1 ? "1 robot" : $"{_pibtPlaced.Count} robots", _pibt.Space.LoopMetres);
        }

        var now = (time.GetUtcNow() - DateTimeOffset.UnixEpoch).TotalSeconds;
        foreach (var release in _pibt.Step(now))
            ApplyRelease(_robots.Values.Single(r => r.Key == release.RobotId), release);
        FailMissionsBlockedByLostRobots();
        // Why a robot waits, in words, once it has stood 30 s and every 30 s after: the operator's first question at a stuck robot.
        foreach (var (key, seconds) in _pibt.StandingLongerThan(30))
        {
            if (_pibtExplained.TryGetValue(key, out var last) && now - last < 30)
                continue;
            _pibtExplained[key] = now;
            logger.LogInformation("Traffic: {Robot} has waited {Seconds:0} s: {Why}", _robots.Values.Single(r => r.Key == key).Id, seconds, _pibt.Explain(key));
        }

        // New or re-routed plans the controller released nothing to this time still get their order (base: where they stand).
        foreach (var robot in _robots.Values.Where(r => r.Plan is { Dirty: true, Orphaned: false, CancelActionId: null } && !r.IsLost))
            Send(robot, robot.Plan!, robot.Plan!.ReleasedThrough);
    }

    /// <summary>
    /// A robot that has stood still for <see cref="ControlPlaneOptions.LostBlockerTimeout"/> because a lost robot (or one
    /// whose order nobody here knows) holds the next waypoint of its plan, or stands too close to it, gives its mission up
    /// naming that robot and waypoint, as with the reservation rule: PIBT found it no way round in all that time, and the
    /// lost robot keeps its place until an operator removes it.
    /// </summary>
    private void FailMissionsBlockedByLostRobots()
    {
        foreach (var (key, _) in _pibt!.StandingLongerThan(options.LostBlockerTimeout.TotalSeconds))
        {
            var robot = _robots.Values.Single(r => r.Key == key);
            if (robot.IsLost || robot.Plan is not { Orphaned: false, CancelActionId: null } plan || plan.ReleasedThrough + 1 >= plan.Steps.Count)
                continue;
            var where = plan.Steps[plan.ReleasedThrough + 1].WaypointId;
            var lost = _pibt.HoldersInTheWay(key, where).Select(k => _robots.Values.Single(r => r.Key == k))
                .FirstOrDefault(b => b.IsLost || b.Plan is { Orphaned: true });
            if (lost is not null)
                Abandon(robot, MissionOf(robot), $"blocked for {options.LostBlockerTimeout.TotalSeconds:F0} s by lost robot {lost.Id} ({(lost.Silent ? "silent" : lost.Connection)}) holding waypoint '{where}', and no way round");
        }
    }

    /// <summary>
    /// True while the robot stands on a step of its plan whose actions, or those of the released lane on from it (run before
    /// it drives onto the lane), have not all finished: it must not be moved on.
    /// </summary>
    private static bool ActsAtReachedStep(TrackedRobot robot, RobotPlan plan)
    {
        var actions = plan.Steps[plan.ReachedIndex].Actions;
        if (plan.ReachedIndex < plan.ReleasedThrough && plan.Steps[plan.ReachedIndex + 1].LaneActions is { } onLane)
            actions = [.. actions, .. onLane];
        if (actions.Count == 0 || robot.State is not { } state || state.OrderId != plan.OrderId)
            return false;
        var done = state.Actions.Where(a => a.Status is RobotActionStatus.Finished or RobotActionStatus.Failed).Select(a => a.ActionId).ToHashSet();
        return actions.Any(a => !done.Contains(a.ActionId));
    }

    /// <summary>
    /// The waypoint a plan heads for next, the goal the traffic controller steers the robot to: its next target after the
    /// step reached that is not a refuge, else its next refuge (a plan that only moves the robot aside), else its last
    /// step; null at the end or without a plan. A refuge is where the controller itself just sent the robot: taken as the
    /// goal, every push changed the robot's goal and back, and the controller's clock of time without progress (which its
    /// jam fallback and precedence wait on) started again at each one, so neither ever came into play here.
    /// </summary>
    internal static string? NextStop(RobotPlan? plan)
    {
        if (plan is null || plan.Orphaned)
            return null;
        var ahead = plan.TargetSteps.Where(t => t.StepIndex > plan.ReachedIndex).OrderBy(t => t.StepIndex).ToList();
        if (ahead.Count > 0)
        {
            var real = ahead.FindIndex(t => !t.Target.Refuge);
            return plan.Steps[ahead[real >= 0 ? real : 0].StepIndex].WaypointId;
        }

        return plan.Steps.Count - 1 > plan.ReachedIndex ? plan.Steps[^1].WaypointId : null;
    }

    private void ApplyRelease(TrackedRobot robot, TrafficRelease release)
    {
        var waypoints = release.Waypoints;
        // Nothing goes to a robot that is lost or whose order is being ended: an update of an order already cancelled would
        // reach the robot when it is back. The controller is told such a robot is busy and releases it nothing (a claim it
        // made before is dropped, not granted); this guards the same rule here, whatever the controller decides.
        if (robot.IsLost || robot.Plan is { Orphaned: true } or { CancelActionId: not null })
        {
            _pibt!.Unrelease(robot.Key, waypoints.Count);
            return;
        }

        if (robot.Plan is not { } plan)
        {
            var from = robot.WaypointId!;
            var move = new RobotPlan($"move-{robot.Key.Replace('/', '-')}-{++_evadeCounter}", null, from);
            if (!move.Reroute([new PlanTarget(waypoints[^1], [], Refuge: true)], (a, _) => RouteThrough(a, waypoints)))
            {
                _pibt!.Unrelease(robot.Key, waypoints.Count);
                return;
            }

            robot.Plan = move;
            Send(robot, move, move.Steps.Count - 1);
            logger.LogInformation("Traffic: moving {Robot} aside to '{Waypoint}' to make way", robot.Id, waypoints[^1]);
            return;
        }

        var next = plan.ReleasedThrough + 1;
        var alongPlan = next + waypoints.Count <= plan.Steps.Count && waypoints.Select((w, i) => plan.Steps[next + i].WaypointId == w).All(same => same);
        if (!alongPlan)
        {
            var legs = 0;
            var through = new PlanTarget(waypoints[^1], [], Refuge: true);
            if (!plan.Reroute([through, .. plan.OpenTargets], (a, b) => legs++ == 0 ? RouteThrough(a, waypoints) : FindOpenRoute(a, b)))
            {
                // No way on from there to the plan's targets (closures): release nothing; the controller decides again.
                _pibt!.Unrelease(robot.Key, waypoints.Count);
                return;
            }

            if (release.Detour)
                logger.LogInformation("Traffic: {Robot} makes way through '{Waypoint}'", robot.Id, waypoints[^1]);
        }

        Send(robot, plan, plan.ReleasedThrough + waypoints.Count);
    }

    /// <summary>The route from <paramref name="from"/> through <paramref name="waypoints"/> in order (lanes from the map), or null when two are not linked by a lane.</summary>
    private Route? RouteThrough(string from, IReadOnlyList<string> waypoints)
    {
        var ids = new List<string> { from };
        var lanes = new List<Lane>();
        foreach (var w in waypoints)
        {
            if (options.Map.FindLane(ids[^1], w) is not { } lane)
                return null;
            lanes.Add(lane);
            ids.Add(w);
        }

        return new Route(ids, lanes, lanes.Sum(l => l.Length), lanes.Sum(l => _graph.TravelTime(l, options.RobotMaxSpeed)));
    }
}
