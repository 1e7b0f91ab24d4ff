using Microsoft.Extensions.Logging;
using RobotFleet.Contracts;
using RobotFleet.Maps;
using RobotFleet.Planning;

namespace RobotFleet.ControlPlane.Missions;

/// <summary>Dispatch, release and wait resolution: the coordinator's cycle, in small named phases.</summary>
public sealed partial class FleetCoordinator
{
    private static readonly HashSet<string> OrderRejections = ["validationError", "orderError", "orderUpdateError", "noRouteError"];
    private HashSet<string>? _parkedPlaces;
    private ILookup<string, string>? _neighbours;

    /// <summary>One coordination cycle: assign queued missions, release what traffic allows, resolve waits.</summary>
    private void Process()
    {
        var now = time.GetUtcNow();
        DetectSilence(now);
        RequeueLostMissions();
        ExpireClosures(now);
        UpdateLoopRule();
        AvoidClosedLanes();
        foreach (var robot in _robots.Values)
        {
            if (robot.ChargingAt is not null && robot.WaypointId != robot.ChargingAt)
                robot.ChargingAt = null;
            if (robot.EndingOrder is not null && robot.EndingCancelId is null && now - robot.EndingSince > options.SilentAfter)
                robot.EndingOrder = null; // an order not sent here: offer it work again (a new refusal is not held against it either)
            robot.IdleSince = IsAvailable(robot) ? robot.IdleSince ?? now : null;
        }

        LiftStalePauses();
        // Just restarted: robots not yet heard from hold waypoints nobody here knows of (nothing is released), and the queue
        // waits for every robot to say where it stands (else the first robot to report took the first missions, however far).
        if (now < _settleUntil)
            return;
        AssignQueuedMissions(now);
        if (options.TrafficControl == TrafficControl.Pibt)
        {
            ReleaseByPibt();
            return;
        }

        ReleaseRoutes();
        ResolveWaits(time.GetUtcNow());
    }

    /// <summary>
    /// A pause belongs to the mission an operator paused: once that mission is no longer the robot's
    /// (completed, cancelled, failed, back in the queue), the robot gets <c>stopPause</c>, so it never stays
    /// paused, holding its waypoint, for a mission that is gone. Pauses not made here (a hardware button) are left alone.
    /// </summary>
    private void LiftStalePauses()
    {
        foreach (var robot in _robots.Values.Where(r => r.PausedFor is not null && r.IsOnline && r.Plan?.MissionId != r.PausedFor))
        {
            _outbox.Add(new TriggerInstantActions(robot.Id, [new RobotAction($"stopPause-{robot.PausedFor}-{Guid.NewGuid():N}", "stopPause", "HARD", new Dictionary<string, string>())]));
            logger.LogInformation("Robot {Robot} resumed: mission {Mission} it was paused for is no longer its own", robot.Id, robot.PausedFor);
            robot.PausedFor = null;
        }
    }

    private void FollowProgress(TrackedRobot robot)
    {
        if (robot.Plan is not { } plan || robot.State is not { } state)
            return;
        if (plan.Orphaned)
        {
            FollowOrphan(robot, plan, state);
            return;
        }

        if (plan.CancelActionId is { } cancel)
        {
            FollowCancellation(robot, plan, state, cancel);
            return;
        }

        var mission = plan.MissionId is { } id ? _missions.GetValueOrDefault(id) : null;

        // Resends after refused or lost updates count again from none once the robot shows a later update.
        if (state.OrderId == plan.OrderId && state.OrderUpdateId > plan.TakenUpdate)
            (plan.TakenUpdate, plan.Restitches) = (state.OrderUpdateId, 0);
        // A refusal already taken up by re-stitching stays in the robot's errors until it takes an update: passed over.
        if (state.Errors.FirstOrDefault(e => e.OrderId == plan.OrderId && OrderRejections.Contains(e.ErrorType) && !RefusedACopy(e, state, plan)
                && !(e.OrderUpdateId is { } refused && plan.RestitchedRefusals.Contains(refused))) is { } rejection)
        {
            var reason = $"robot {robot.Id} rejected order {plan.OrderId}: {rejection.ErrorType}: {rejection.Description}";
            if (StillRunsEarlierOrder(rejection, state, plan))
            {
                // Not the robot's fault: it still runs an order that we sent (or someone did) and we took for done. It is told
                // to end that order, gets no work until it has, and the mission is tried again, on this robot too.
                EndEarlierOrder(robot, state.OrderId);
                if (mission is { IsFinal: false })
                    RetryLater(robot, mission, reason);
                else
                    robot.Plan = null;
                return;
            }

            if (RestitchesAfterRefusal(robot, plan, state, rejection))
                return;
            if (mission is { IsFinal: false })
                Requeue(robot, mission, reason, orphan: false);
            else
                Abandon(robot, mission, reason);
            return;
        }

        if (state.Errors.FirstOrDefault(e => e.Level == "FATAL") is { } fatal)
        {
            Abandon(robot, mission, $"robot {robot.Id} raised FATAL {fatal.ErrorType}: {fatal.Description}");
            return;
        }

        if (!ResendLostUpdates(robot, plan, state))
        {
            var reason = state.OrderId != plan.OrderId
                ? $"robot {robot.Id} does not take order {plan.OrderId}: sent {plan.Restitches + 1} times, its states show none"
                : $"robot {robot.Id} does not take the updates of order {plan.OrderId}: it runs update {state.OrderUpdateId}, {plan.UpdateId} was sent, after the next update was stitched at its base {plan.Restitches} times";
            // Held against the robot, as a refusal: not blamed, it would get the mission again and go round this for good.
            if (mission is { IsFinal: false })
                Requeue(robot, mission, reason, orphan: false);
            else
                Abandon(robot, mission, reason);
            return;
        }

        if (state.OrderId != plan.OrderId)
            return;

        if (mission is { Status: MissionStatus.Dispatched })
            Transition(mission, MissionStatus.Executing, robot.Key, $"robot accepted order {plan.OrderId}");

        var reached = plan.Steps.FindIndex(plan.ReachedIndex, s => s.SequenceId == state.LastNodeSequenceId && s.WaypointId == state.LastNodeId);
        if (reached >= 0)
            plan.ReachedIndex = reached;

        var ours = plan.Steps.SelectMany(s => s.AllActions).Select(a => a.ActionId).ToHashSet();
        if (state.Actions.FirstOrDefault(a => ours.Contains(a.ActionId) && a.Status == RobotActionStatus.Failed) is { } failed)
        {
            Abandon(robot, mission, $"action {failed.ActionType} ({failed.ActionId}) failed: {failed.ResultDescription}");
            return;
        }

        var finished = state.Actions.Where(a => a.Status == RobotActionStatus.Finished).Select(a => a.ActionId).ToHashSet();
        var atEnd = plan.ReachedIndex == plan.Steps.Count - 1 && state.PendingWaypointIds.Count == 0;
        var charged = plan.ChargeTarget is { } target && atEnd && state.BatteryCharge >= target;
        var orderFinished = atEnd && ours.All(finished.Contains);
        if (orderFinished || charged)
        {
            // VDA 5050: the order is finished once its last node is reached and all its actions are finished (startCharging
            // finishes once charging has started; the robot charges on). A charge that reaches its target before the robot
            // finished its order completes too, but the robot is told to end that order (cancelOrder) and counts as busy
            // until it has: it never stays on an order the control plane takes for done (it would refuse the next one).
            if (orderFinished)
                robot.Plan = null;
            else
                StopOrder(robot);
            if (plan.ChargeTarget is not null)
                robot.ChargingAt = robot.WaypointId;
            if (mission is { IsFinal: false })
                Transition(mission, MissionStatus.Completed, robot.Key, CompletionReason(mission, state, charged));
        }
    }

    /// <summary>
    /// True when a refused update is one the robot had already taken or gone past: its state shows the same order at that
    /// update id or a later one, and no later than the last update sent here (a robot further on runs an older order that
    /// had the same id, which the refusal is about). Such a refusal is of a copy that came late (the gateway sends again,
    /// on a robot's ONLINE, the updates its last state did not show, and the robot may have had them meanwhile); the order
    /// runs on (VDA 5050 §6.6.1: an update not newer than the current one is refused, the order being executed is kept).
    /// </summary>
    private static bool RefusedACopy(RobotErrorInfo rejection, RobotStateChanged state, RobotPlan plan) =>
        rejection.OrderUpdateId is { } refused && state.OrderId == rejection.OrderId
        && state.OrderUpdateId >= refused && state.OrderUpdateId <= plan.UpdateId;

    /// <summary>
    /// Takes up a refused update of the order the robot runs (VDA <c>orderUpdateError</c>: not stitched at its last base
    /// node, as when the update before it was lost on the way), where the robot still runs an earlier update sent here:
    /// it keeps running that update (VDA 5050 §6.6.1), so the next update, with a new id, is stitched at that update's
    /// last base node (<see cref="RobotPlan.StitchAt"/>) and releases again what was released since; all of it stays held
    /// for the robot meanwhile. Before, the mission was taken from the robot, which was still driving it, and given to
    /// another, the robot counted as having failed it. True when taken up (the refusal is then passed over while the robot
    /// still shows it, until it takes an update); false to give the mission up as before: another error type, a refusal
    /// naming no update, a robot not on an earlier update sent here, or after <see cref="MaxUpdateRestitches"/> resends in
    /// a row without the robot taking a later update (it refuses what it is sent, not what it missed).
    /// </summary>
    private bool RestitchesAfterRefusal(TrackedRobot robot, RobotPlan plan, RobotStateChanged state, RobotErrorInfo rejection)
    {
        if (rejection.ErrorType != "orderUpdateError" || rejection.OrderUpdateId is not { } refused || state.OrderId != plan.OrderId
            || state.OrderUpdateId >= refused || !plan.ReleasedByUpdate.TryGetValue(state.OrderUpdateId, out var had) || had < plan.ReachedIndex)
            return false;
        if (plan.Restitches >= MaxUpdateRestitches)
            return false;
        plan.RestitchedRefusals.Add(refused);
        Restitch(plan, had);
        logger.LogWarning("Robot {Robot} refused update {Refused} of order {Order} ({Description}); it runs update {Has}: the next update is stitched at its base",
            robot.Id, refused, plan.OrderId, rejection.Description, state.OrderUpdateId);
        return true;
    }

    /// <summary>
    /// Sends again what a robot has not taken: a state received <see cref="ControlPlaneOptions.SilentAfter"/> or more after
    /// the last update was sent that still shows an earlier update sent here is taken to mean the later ones were lost on
    /// the way (the robot would otherwise stand at the end of its base for good, its mission Executing); the next update, a
    /// new id, is stitched at the base the robot has, as after a refusal (<see cref="RestitchesAfterRefusal"/>). Likewise a
    /// robot that shows no order running 10 s after this plan's order was sent (it never arrived: the mission stayed
    /// Dispatched for good) gets the order again, the same id and update 0 (a late copy of the first is ignored as a
    /// repeat, VDA 5050 §6.6.1). A state received sooner may simply be one that crossed the update; nothing is done either
    /// while the next update is due anyway (<see cref="RobotPlan.Dirty"/>). The count of such resends starts again once the
    /// robot shows a later update (a late update, not a lost one, costs one more resend, not the mission).
    /// </summary>
    /// <returns>False when <see cref="MaxUpdateRestitches"/> resends in a row have gone unanswered: the mission is then given
    /// up on the robot.</returns>
    private bool ResendLostUpdates(TrackedRobot robot, RobotPlan plan, RobotStateChanged state)
    {
        if (plan.Dirty || plan.SentAt is not { } sent || (state.ReceivedAt ?? state.Timestamp) - sent < options.SilentAfter)
            return true;
        if (state.OrderId != plan.OrderId)
        {
            // The order never arrived: the robot runs nothing (an earlier order it still runs is EndEarlierOrder's case).
            if (plan.TakenUpdate >= 0 || state.PendingWaypointIds.Count > 0 || state.Driving || plan.ReachedIndex > 0)
                return true;
            if (plan.Restitches >= MaxUpdateRestitches)
                return false;
            logger.LogWarning("Robot {Robot} shows no order {Seconds:0} s after order {Order} was sent: taken for lost; sent again",
                robot.Id, (time.GetUtcNow() - sent).TotalSeconds, plan.OrderId);
            plan.Restitches++;
            plan.UpdateId = -1; // the order again from its start, update 0
            plan.Dirty = true;
            return true;
        }

        if (state.OrderUpdateId >= plan.UpdateId || !plan.ReleasedByUpdate.TryGetValue(state.OrderUpdateId, out var had) || had < plan.ReachedIndex)
            return true;
        if (plan.Restitches >= MaxUpdateRestitches)
            return false;
        logger.LogWarning("Robot {Robot} still runs update {Has} of order {Order} {Seconds:0} s after update {Sent} was sent: taken for lost; the next update is stitched at its base",
            robot.Id, state.OrderUpdateId, plan.OrderId, (time.GetUtcNow() - sent).TotalSeconds, plan.UpdateId);
        Restitch(plan, had);
        return true;
    }

    /// <summary>
    /// The next update starts at step <paramref name="had"/>, the robot's last base node; what was released to the robot
    /// stays held for it and is released again in that update.
    /// </summary>
    private static void Restitch(RobotPlan plan, int had)
    {
        plan.Restitches++;
        plan.StitchAt = had;
        plan.Dirty = true;
    }

    /// <summary>Refused or lost updates (or orders) of one plan taken up in a row (<see cref="RestitchesAfterRefusal"/>, <see cref="ResendLostUpdates"/>) before its mission is given up on the robot.</summary>
    private const int MaxUpdateRestitches = 3;

    /// <summary>
    /// A rejection of a new order because the robot still runs an earlier one (VDA <c>orderError</c> while its state shows
    /// another order): the control plane's own stale view, not something the robot cannot do.
    /// </summary>
    private static bool StillRunsEarlierOrder(RobotErrorInfo rejection, RobotStateChanged state, RobotPlan plan) =>
        rejection.ErrorType == "orderError" && state.OrderId.Length > 0 && state.OrderId != plan.OrderId;

    /// <summary>
    /// A robot refused a new order because it still runs <paramref name="orderId"/>: it gets no work until it has ended it.
    /// An order sent here (so taken for done here) is cancelled; one not sent here is waited for.
    /// </summary>
    private void EndEarlierOrder(TrackedRobot robot, string orderId)
    {
        if (robot.EndingOrder == orderId)
            return;
        robot.EndingOrder = orderId;
        robot.EndingSince = time.GetUtcNow();
        robot.EndingCancelId = null;
        if (!robot.WasSent(orderId))
        {
            logger.LogWarning("Robot {Robot} still runs order {Order}, not sent here: no work for it until it ends that order", robot.Id, orderId);
            return;
        }

        var cancel = CancelOrder(robot.Id, orderId);
        robot.EndingCancelId = cancel.Actions[0].ActionId;
        _outbox.Add(cancel);
        logger.LogWarning("Robot {Robot} still runs order {Order}, which is done here: cancelling it", robot.Id, orderId);
    }

    /// <summary>Puts a mission back in the queue without holding it against the robot (no <c>FailedRobots</c> entry).</summary>
    private void RetryLater(TrackedRobot robot, MissionView mission, string reason)
    {
        robot.Plan = null;
        Transition(mission, MissionStatus.Queued, DispatcherActor, $"{reason}; tried again once the robot has ended that order",
            fact: MissionFactKind.Requeued, subject: robot.Id);
        logger.LogWarning("Mission {Mission} back in the queue (robot {Robot} not held responsible): {Reason}", mission.Id, robot.Id, reason);
    }

    private static string CompletionReason(MissionView mission, RobotStateChanged state, bool charged) => mission.Kind switch
    {
        MissionKind.Delivery => $"drop finished at '{mission.Dropoff}'",
        MissionKind.Charge => charged ? $"charged to {state.BatteryCharge:0.#} %" : "startCharging finished; the robot charges on",
        MissionKind.Park => $"parked at '{state.LastNodeId}'",
        _ => $"{mission.Kind.ToString().ToLowerInvariant()} finished at '{state.LastNodeId}'",
    };

    /// <summary>
    /// An orphaned plan (its mission went back to the queue) holds the robot's released waypoints until the robot shows it has
    /// stopped; a robot that comes back still running that order is told to cancel it (once more).
    /// </summary>
    private void FollowOrphan(TrackedRobot robot, RobotPlan plan, RobotStateChanged state)
    {
        if (state.OrderId != plan.OrderId || (state.PendingWaypointIds.Count == 0 && !state.Driving))
        {
            robot.Plan = null;
            return;
        }

        var reached = plan.Steps.FindIndex(plan.ReachedIndex, s => s.SequenceId == state.LastNodeSequenceId && s.WaypointId == state.LastNodeId);
        if (reached >= 0)
            plan.ReachedIndex = reached;
        if (!robot.IsLost && !plan.CancelResent)
        {
            plan.CancelResent = true;
            _outbox.Add(CancelOrder(robot.Id, plan.OrderId));
        }
    }

    /// <summary>
    /// Marks robots that stopped reporting as silent (they keep their holds, get nothing released and no mission). A robot whose
    /// states the gateway still receives (<see cref="Schedules.IRobotLastSeen"/>, in process) is not silent: its states are held
    /// up on the bus (e.g. RabbitMQ restarting, when publishing waits for the broker) and arrive once it is back; taking its
    /// mission away would run the mission twice.
    /// </summary>
    private void DetectSilence(DateTimeOffset now)
    {
        var candidates = _robots.Values.Where(r => r.IsOnline && !r.Silent && now - r.LastStateAt > options.SilentAfter).ToList();
        if (candidates.Count == 0)
            return;
        var heard = lastSeen?.Snapshot().Where(r => r.LastStateAt is { } at && now - at <= options.SilentAfter).Select(r => r.Robot).ToHashSet() ?? [];
        foreach (var robot in candidates)
        {
            if (heard.Contains(robot.Id))
            {
                if (!robot.BusDelayLogged)
                    logger.LogWarning("Robot {Robot}: no state over the bus for {Seconds:F0} s, but the gateway hears it; waiting for the bus", robot.Id, (now - robot.LastStateAt).TotalSeconds);
                robot.BusDelayLogged = true;
                continue;
            }

            robot.Silent = true;
            logger.LogWarning("Robot {Robot} is silent: no state for {Seconds:F0} s", robot.Id, (now - robot.LastStateAt).TotalSeconds);
        }
    }

    /// <summary>Puts the missions of lost and silent robots back in the queue.</summary>
    private void RequeueLostMissions()
    {
        var now = time.GetUtcNow();
        foreach (var robot in _robots.Values.Where(r => r.IsLost && r.Plan is { Orphaned: false }).ToList())
        {
            // A robot restored from the store gets SilentAfter to report before its mission is taken away.
            if (robot.Restored && now - robot.LastStateAt <= options.SilentAfter)
                continue;
            var plan = robot.Plan!;
            var why = robot.Restored && robot.State is null
                ? $"robot {robot.Id} sent no state within {options.SilentAfter.TotalSeconds:F0} s of a control-plane restart"
                : robot.Silent
                ? $"robot {robot.Id} went silent (no state for over {options.SilentAfter.TotalSeconds:F0} s)"
                : $"robot {robot.Id} was lost ({robot.Connection})";
            if (plan.MissionId is { } id && _missions.TryGetValue(id, out var mission) && !mission.IsFinal)
            {
                Requeue(robot, mission, why, orphan: true, lost: true);
            }
            else if (plan.UpdateId >= 0)
            {
                // An internal move (aside, charge, park): forget it, but keep what was released held.
                _outbox.Add(CancelOrder(robot.Id, plan.OrderId));
                plan.Orphan();
            }
            else
            {
                robot.Plan = null;
            }
        }
    }

    /// <summary>
    /// Takes a mission away from a robot that lost or rejected it: back to Queued. A robot that rejected it (or failed it)
    /// goes into <see cref="MissionView.FailedRobots"/>: never to that robot again, and Failed once
    /// <see cref="ControlPlaneOptions.MaxAttempts"/> robots did (or at once when it is pinned to that robot). A robot that was
    /// <paramref name="lost"/> (connection lost or closed, silent, or without the order after a control-plane restart) is not
    /// to blame: the mission goes back to the queue without excluding it, so it is eligible again once it is back online with
    /// a valid position (until then it gets nothing, being lost), and the loss does not count towards the attempts.
    /// A robot whose plan is <paramref name="orphan"/>ed keeps its released waypoints held and is told to cancel the order.
    /// </summary>
    private void Requeue(TrackedRobot robot, MissionView mission, string reason, bool orphan, bool lost = false)
    {
        var plan = robot.Plan!;
        if (orphan && plan.UpdateId >= 0)
        {
            _outbox.Add(CancelOrder(robot.Id, plan.OrderId));
            plan.Orphan();
        }
        else
        {
            if (robot.State?.OrderId == plan.OrderId && robot.State.PendingWaypointIds.Count > 0)
                _outbox.Add(CancelOrder(robot.Id, plan.OrderId));
            robot.Plan = null;
        }

        if (lost)
        {
            Transition(mission, MissionStatus.Queued, DispatcherActor, reason, fact: MissionFactKind.Requeued, subject: robot.Id);
            logger.LogWarning("Mission {Mission} back in the queue: {Reason}", mission.Id, reason);
            return;
        }

        var failedRobots = mission.FailedRobots.Append(robot.Id).Distinct().ToList();
        if (mission.PinnedRobot == robot.Id)
        {
            Transition(mission with { FailedRobots = failedRobots }, MissionStatus.Failed, DispatcherActor, $"{reason}; the mission is pinned to that robot");
            return;
        }

        if (failedRobots.Count >= options.MaxAttempts)
        {
            var reasons = mission.History.Where(h => h.Status == MissionStatus.Queued && h.Actor == DispatcherActor).Select(h => h.Reason).Append(reason);
            Transition(mission with { FailedRobots = failedRobots }, MissionStatus.Failed, DispatcherActor,
                $"gave up after {failedRobots.Count} robots: {string.Join("; ", reasons)}");
            return;
        }

        Transition(mission with { FailedRobots = failedRobots }, MissionStatus.Queued, DispatcherActor, reason, fact: MissionFactKind.Requeued, subject: robot.Id);
        logger.LogWarning("Mission {Mission} back in the queue: {Reason}", mission.Id, reason);
    }

    private void Abandon(TrackedRobot robot, MissionView? mission, string reason)
    {
        var plan = robot.Plan!;
        StopOrder(robot);
        if (mission is { IsFinal: false })
            Transition(mission, MissionStatus.Failed, robot.Key, reason);
        else
            logger.LogWarning("Robot {Robot} dropped move {Order}: {Reason}", robot.Id, plan.OrderId, reason);
    }

    /// <summary>
    /// Drops a robot's plan. When its order was sent, the robot gets a VDA cancelOrder and the plan
    /// stays, cancelling, until the robot reports the cancel done: until then it keeps holding the
    /// waypoints released to it (it may still drive to the end of its current lane), so no other robot
    /// is released onto them.
    /// </summary>
    private void StopOrder(TrackedRobot robot)
    {
        var plan = robot.Plan!;
        if (plan.UpdateId < 0)
        {
            robot.Plan = null;
            return;
        }

        if (plan.CancelActionId is not null)
            return;
        var cancel = CancelOrder(robot.Id, plan.OrderId);
        plan.CancelActionId = cancel.Actions[0].ActionId;
        _outbox.Add(cancel);
    }

    private static TriggerInstantActions CancelOrder(RobotId robot, string orderId) =>
        new(robot, [new RobotAction($"cancel-{orderId}-{Guid.NewGuid():N}", "cancelOrder", "HARD", new Dictionary<string, string>())]);

    /// <summary>A cancelling plan ends when the robot reports its cancelOrder finished or failed (no order to cancel).</summary>
    private static void FollowCancellation(TrackedRobot robot, RobotPlan plan, RobotStateChanged state, string cancelActionId)
    {
        if (state.OrderId == plan.OrderId)
        {
            var reached = plan.Steps.FindIndex(plan.ReachedIndex, s => s.SequenceId == state.LastNodeSequenceId && s.WaypointId == state.LastNodeId);
            if (reached >= 0)
                plan.ReachedIndex = Math.Min(reached, plan.ReleasedThrough);
        }

        if (!state.Driving && state.Actions.Any(a => a.ActionId == cancelActionId && a.Status is RobotActionStatus.Finished or RobotActionStatus.Failed))
            robot.Plan = null;
    }

    /// <summary>
    /// One planning round with <see cref="AssignmentPlanner"/>: queued missions to robots, low idle robots to chargers, and
    /// robots idle for <see cref="ControlPlaneOptions.ParkIdleAfter"/> to free parking. Runs only when some robot could take work.
    /// </summary>
    private void AssignQueuedMissions(DateTimeOffset now)
    {
        var snapshots = _robots.Values.Select(Snapshot).ToList();
        if (!snapshots.Any(r => r.Activity is RobotActivity.Idle or RobotActivity.Charging))
            return;
        var queued = _missions.Values.Where(m => m.Status == MissionStatus.Queued).ToList();
        var parked = _parkedPlaces ??= options.Map.Locations.Values
            .Where(l => l.Kinds.Contains(LocationKind.Parking) || l.Kinds.Contains(LocationKind.Charger)).Select(l => l.WaypointId).ToHashSet();
        var parkingDue = options.ParkIdleAfter is { } after
            && _robots.Values.Any(r => r.IdleSince is { } since && now - since >= after && !parked.Contains(r.WaypointId!));
        var lowBattery = snapshots.Any(r => r.Activity == RobotActivity.Idle && r.BatteryPercent < options.RechargeBelowPercent);
        if (queued.Count == 0 && !parkingDue && !lowBattery)
            return;

        var pending = queued.Select(m =>
        {
            var spec = _specs[m.Id];
            var start = _targetsDone.GetValueOrDefault(m.Id) is > 0 and var skip && spec.FreePlaceKind is null && skip < spec.Targets.Count ? spec.Targets[skip].WaypointId : spec.StartWaypointId;
            return new PendingMission(m.Id, start, m.Priority, m.CreatedAt, spec.DurationSeconds, spec.RouteMetres, m.Deadline,
                spec.RequiredActions, 0, m.PinnedRobot?.ToString(), m.FailedRobots.Select(r => r.ToString()).ToHashSet(), spec.Targets.LastOrDefault()?.WaypointId);
        }).ToList();
        var claimed = _robots.Values.Where(r => r.Plan is not null).Select(r => r.Plan!.Steps[^1].WaypointId).ToHashSet();
        var plan = _planner.Plan(now, snapshots, pending, null, claimed, FlowWeight);

        foreach (var charge in plan.Charges)
        {
            var robot = _robots.Values.Single(r => r.Key == charge.RobotId);
            var location = options.Map.Locations[charge.ChargerName];
            StartInternal(robot, PlanPurpose.Charge, location.WaypointId, [Action($"charge-{robot.Key.Replace('/', '-')}-{++_evadeCounter}-start", "startCharging", location.Name)]);
        }

        foreach (var assignment in plan.Assignments)
        {
            var robot = _robots.Values.Single(r => r.Key == assignment.RobotId);
            var mission = _missions[assignment.MissionId];
            var spec = _specs[mission.Id];
            var targets = spec.Targets;
            // A mission re-planned round a closed lane goes on from the first target it had not done (no step runs twice).
            if (spec.FreePlaceKind is null && _targetsDone.GetValueOrDefault(mission.Id) is > 0 and var done)
                targets = targets.Skip(Math.Min(done, targets.Count - 1)).ToList();
            if (spec.FreePlaceKind is { } kind)
            {
                if (FreePlace(robot, kind) is not { } place)
                    continue; // stays queued; the next round tries again
                targets = [new TargetTemplate(place, spec.Kind == MissionKind.Charge ? [new ActionTemplate("startCharging", NoParameters)] : [])];
            }

            // A fresh orderId per assignment: a robot's report about an earlier attempt (its rejection) never reads as one about this one.
            var attempts = mission.History.Count(h => h.Status == MissionStatus.Assigned);
            var orderId = attempts == 0 ? mission.Id : $"{mission.Id}-r{attempts}";
            if (_detours.GetValueOrDefault(mission.Id) is > 0 and var detours)
                orderId += $"-d{detours}";
            // VDA 5050 §6.6.1: a robot ignores an order with the id and update id of the order it has, as a repeat. Its last order
            // may have this id (the mission database started afresh, a client reused a mission id, another master control): the
            // new one gets a suffix of its own.
            if (robot.State?.OrderId == orderId || robot.WasSent(orderId))
                orderId += $"-{++_evadeCounter}";
            var robotPlan = new RobotPlan(orderId, mission.Id, robot.WaypointId!) { ChargeTarget = spec.TargetCharge };
            if (!robotPlan.Reroute(Materialise(spec, orderId, targets), (from, to) => FindOpenRoute(from, to)))
            {
                if (_closedLanes.Count > 0 && robotPlan.Reroute(Materialise(spec, orderId, targets), (from, to) => _graph.FindRoute(from, to, options.RobotMaxSpeed, isLaneClosed: AgainstLoopsWhenOpen, laneCostFactor: RouteCost(from))))
                {
                    logger.LogInformation("Mission {Mission} waits: no way from '{From}' while lanes {Lanes} are closed", mission.Id, robot.WaypointId,
                        string.Join(", ", _closedLanes.Keys.Order(StringComparer.Ordinal)));
                    continue; // stays queued until a lane reopens
                }

                Transition(mission, MissionStatus.Failed, DispatcherActor, $"no route from '{robot.WaypointId}' through the mission's waypoints");
                continue;
            }

            robot.Plan = robotPlan;
            robot.ChargingAt = null;
            if (spec.FreePlaceKind is not null)
                Save(mission with { Waypoints = targets.Select(t => t.WaypointId).ToList() });
            Transition(_missions[mission.Id], MissionStatus.Assigned, DispatcherActor,
                $"assigned by the planner: {assignment.Approach.TravelTime:F0} s to the start, about {assignment.CompletionSeconds:F0} s to complete", robot.Id, orderId);
        }

        if (options.ParkIdleAfter is { } idleFor)
        {
            var chargers = options.Map.LocationsOfKind(LocationKind.Charger).Select(l => l.WaypointId).ToHashSet();
            foreach (var park in plan.Parking)
            {
                var robot = _robots.Values.Single(r => r.Key == park.RobotId);
                if (robot.Plan is not null || robot.IdleSince is not { } since || now - since < idleFor || chargers.Contains(robot.WaypointId!))
                    continue;
                StartInternal(robot, PlanPurpose.Park, options.Map.Locations[park.ParkingName].WaypointId, []);
            }
        }
    }

    private void StartInternal(TrackedRobot robot, PlanPurpose purpose, string waypointId, IReadOnlyList<RobotAction> actions)
    {
        var word = purpose == PlanPurpose.Charge ? "charge" : "park";
        var plan = new RobotPlan($"{word}-{robot.Key.Replace('/', '-')}-{++_evadeCounter}", null, robot.WaypointId!, purpose)
        {
            ChargeTarget = purpose == PlanPurpose.Charge ? options.ChargeTargetPercent : null,
        };
        if (!plan.Reroute([new PlanTarget(waypointId, actions)], (from, to) => FindOpenRoute(from, to)))
            return;
        robot.Plan = plan;
        logger.LogInformation("Sending {Robot} to {Purpose} at '{Waypoint}'", robot.Id, word, waypointId);
    }

    /// <summary>The nearest place of a kind that no robot stands on, holds or is heading to; null when none is reachable.</summary>
    private string? FreePlace(TrackedRobot robot, LocationKind kind)
    {
        var motions = Motions();
        var taken = motions.Values.Where(m => m.RobotId != robot.Key).SelectMany(m => m.Waypoints)
            .Concat(_robots.Values.Where(r => r != robot && r.Plan is not null).Select(r => r.Plan!.Steps[^1].WaypointId))
            .ToHashSet();
        var tree = _planner.Table.From(robot.WaypointId!, options.RobotMaxSpeed, FlowWeight);
        return options.Map.LocationsOfKind(kind).Select(l => l.WaypointId)
            .Where(w => w == robot.WaypointId || !taken.Contains(w))
            .Where(w => double.IsFinite(tree.SecondsTo(w)))
            .OrderBy(w => tree.SecondsTo(w)).ThenBy(w => w, StringComparer.Ordinal)
            .FirstOrDefault();
    }

    private RobotSnapshot Snapshot(TrackedRobot robot)
    {
        var located = robot.WaypointId is { } w && options.Map.Waypoints.ContainsKey(w);
        var activity = !located || robot.IsLost || robot.HasFatalError ? RobotActivity.Offline
            : !IsAvailable(robot) ? RobotActivity.Busy
            : robot.ChargingAt == robot.WaypointId && robot.State!.BatteryCharge < options.ChargeTargetPercent ? RobotActivity.Charging
            : RobotActivity.Idle;
        return new RobotSnapshot(robot.Key, located ? robot.WaypointId : null, activity, options.RobotMaxSpeed,
            robot.State?.BatteryCharge ?? 100, EnergyPercentPerMetre(robot), robot.SupportedActions, robot.MaxLoad);
    }

    private static RobotAction Action(string id, string type, string location) =>
        new(id, type, "HARD", new Dictionary<string, string> { ["location"] = location });

    private string LocationWaypoint(string location) => options.Map.Locations[location].WaypointId;

    private static bool IsAvailable(TrackedRobot robot) =>
        !robot.IsLost && !robot.AwaitsFreshState && robot.Plan is null && robot.EndingOrder is null && !robot.HasFatalError && robot.WaypointId is not null
        && robot.State is { Driving: false, PendingWaypointIds.Count: 0, Paused: false };

    private RobotMotion Motion(TrackedRobot robot)
    {
        if (robot.Plan is { CancelActionId: not null } cancelling)
        {
            // Holds what was released to it, nothing more, until the cancel is done.
            var released = cancelling.Steps.Skip(cancelling.ReachedIndex).Take(cancelling.ReleasedThrough - cancelling.ReachedIndex + 1).Select(s => s.WaypointId).ToList();
            return new RobotMotion(robot.Key, released, released.Count - 1);
        }

        if (robot.Plan is { } plan)
        {
            // A robot giving way moves (and holds) only as far as its refuge until the robots it yields to are past; once
            // there, it waits for them (before, it is still on its way).
            if (YieldingTo(plan) is { } waitsFor)
                return new RobotMotion(robot.Key, plan.RemainingWaypoints.Take(plan.YieldAtStep!.Value - plan.ReachedIndex + 1).ToList(),
                    Math.Max(0, plan.ReleasedThrough - plan.ReachedIndex), WaitsFor: plan.ReachedIndex == plan.YieldAtStep ? waitsFor : null);
            return new RobotMotion(robot.Key, plan.RemainingWaypoints, Math.Max(0, plan.ReleasedThrough - plan.ReachedIndex));
        }

        // A robot without a plan (e.g. running an order nobody here sent) holds where it is and, while driving, where it goes next.
        var held = new List<string>();
        if (robot.WaypointId is { } current)
            held.Add(current);
        if (robot.State is { Driving: true } state && state.PendingWaypointIds.FirstOrDefault(w => !held.Contains(w)) is { } next)
            held.Add(next);
        return new RobotMotion(robot.Key, held, Math.Max(0, held.Count - 1), Yields: true);
    }

    /// <summary>
    /// While the plan waits at its refuge, the robot it gives way to (the first by key): a plan it gives way to still has a
    /// waypoint of its way on from there ahead, and none of them needs the refuge itself, nor the dead-end branch the refuge
    /// lies in, nor ends on that branch's mouth (each a wait for this robot while it waits for them). Null when it does not give way (any more).
    /// </summary>
    private string? YieldingTo(RobotPlan plan)
    {
        if (plan.YieldAtStep is not { } refuge || plan.ReleasedThrough > refuge || refuge < plan.ReachedIndex)
            return null;
        var onward = plan.Steps.Skip(refuge + 1).Select(s => s.WaypointId).ToHashSet();
        var refugeWaypoint = plan.Steps[refuge].WaypointId;
        var branch = _branches.BranchOf(refugeWaypoint);
        IReadOnlyCollection<string> taken = branch?.Waypoints ?? [refugeWaypoint];
        var them = _robots.Values.Where(r => r.Plan is { } p && plan.YieldTo.Contains(p.OrderId)).OrderBy(r => r.Key, StringComparer.Ordinal).ToList();
        if (them.Any(r => r.Plan!.RemainingWaypoints.Any(taken.Contains) || r.Plan.Steps[^1].WaypointId == branch?.Mouth))
            return null;
        return them.FirstOrDefault(r => r.Plan!.RemainingWaypoints.Any(onward.Contains))?.Key;
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
        foreach (var robot in RobotsWithPlansByPriority().Where(r => !r.IsLost && !r.Plan!.Orphaned && r.Plan.CancelActionId is null))
        {
            var plan = robot.Plan!;
            var through = plan.ReachedIndex + TrafficController.Release(motions[robot.Key], holds, _branches);
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
        var start = plan.UpdateId < 0 ? 0 : plan.StitchAt ?? plan.ReleasedThrough;
        var waypoints = new List<RouteWaypoint>();
        var lanes = new List<RouteLane>();
        for (var i = start; i < plan.Steps.Count; i++)
        {
            var step = plan.Steps[i];
            var waypoint = options.Map.Waypoints[step.WaypointId];
            if (i > start && step.LaneIn is { } lane)
                lanes.Add(new RouteLane(lane.Id, step.SequenceId - 1, i <= through, lane.FromWaypointId, lane.ToWaypointId, lane.SpeedLimit ?? options.RobotMaxSpeed, step.LaneActions));
            waypoints.Add(new RouteWaypoint(step.WaypointId, step.SequenceId, i <= through, waypoint.X, waypoint.Y, waypoint.LevelId, step.Actions));
        }

        plan.UpdateId++;
        plan.SentAt = time.GetUtcNow();
        plan.StitchAt = null;
        plan.ReleasedThrough = through;
        plan.ReleasedByUpdate[plan.UpdateId] = through;
        plan.Dirty = false;
        _outbox.Add(new DispatchRoute(robot.Id, plan.OrderId, plan.UpdateId, waypoints, lanes));
        if (MissionOf(robot) is { Status: MissionStatus.Assigned } mission && mission.OrderId == plan.OrderId)
            Transition(mission, MissionStatus.Dispatched, DispatcherActor, $"order {plan.OrderId} sent to {robot.Id}");
    }

    private void ResolveWaits(DateTimeOffset now)
    {
        var motions = Motions();
        if (CurrentHolds(motions) is not { } holds)
            return;
        foreach (var robot in RobotsWithPlansByPriority().Where(r => !r.IsLost && !r.Plan!.Orphaned && r.Plan.CancelActionId is null))
        {
            var plan = robot.Plan;
            if (plan is null || TrafficController.Blocker(motions[robot.Key], holds, _branches) is not { } blockerKey)
            {
                if (plan is not null)
                    plan.BlockedSince = null;
                continue;
            }

            plan.BlockedSince ??= now;
            if (now - plan.BlockedSince < options.BlockedResolveAfter || now - plan.LastReplan < options.ReplanCooldown)
                continue;
            var blocker = _robots.Values.Single(r => r.Key == blockerKey);
            if (blocker.IsLost || blocker.Plan is { Orphaned: true })
                ResolveLostBlocker(robot, blocker, holds, now);
            else if (blocker.Plan is null && IsAvailable(blocker))
                _ = MoveAside(blocker, holds, [plan.RemainingWaypoints], now);
            else if (TrafficController.FindWaitCycle(robot.Key, motions, holds, _branches) is { } cycle)
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
            Abandon(robot, MissionOf(robot), $"blocked for {options.LostBlockerTimeout.TotalSeconds:F0} s by lost robot {lost.Id} ({(lost.Silent ? "silent" : lost.Connection)}) holding waypoint '{where}', and no way round");
        }
    }

    private void BreakCycle(IReadOnlyList<string> cycle, Dictionary<string, string> holds, DateTimeOffset now)
    {
        logger.LogInformation("Traffic: circular wait {Cycle}", string.Join(" -> ", cycle.Append(cycle[0])));
        // Giving way to a robot that (through others) waits for you helps nobody: such robots stop giving way.
        var yielding = cycle.Select(key => _robots.Values.Single(r => r.Key == key)).Where(r => r.Plan is { } p && YieldingTo(p) is not null).ToList();
        if (yielding.Count > 0)
        {
            foreach (var robot in yielding)
            {
                robot.Plan!.YieldAtStep = null;
                robot.Plan.YieldTo = [];
                robot.Plan.LastReplan = now;
                logger.LogInformation("Traffic: {Robot} stops giving way: a robot it gives way to waits for it", robot.Id);
            }

            return;
        }

        // The lowest-priority robot in the cycle gives way; among equals the one that gave way least often (so two cycles
        // do not send one robot back and forth between them forever), then the most recently submitted.
        var victims = cycle.Select(key => _robots.Values.Single(r => r.Key == key))
            .OrderBy(r => MissionOf(r)?.Priority ?? -1)
            .ThenBy(r => r.Plan?.TimesGivenWay ?? 0)
            .ThenByDescending(r => MissionOf(r)?.CreatedAt ?? DateTimeOffset.MaxValue)
            .ToList();
        if (victims.Any(v => TryRerouteAround(v, holds)))
            return;
        // The first victim that has somewhere to go moves aside (one stuck at a dead end cannot) and gives way to the others.
        foreach (var victim in victims)
        {
            var others = cycle.Where(k => k != victim.Key).ToList();
            var theirPlans = others.Select(k => _robots.Values.Single(r => r.Key == k).Plan).OfType<RobotPlan>().ToList();
            if (MoveAside(victim, holds, theirPlans.Select(p => p.RemainingWaypoints).ToList(), now, yieldTo: theirPlans.Select(p => p.OrderId).ToList()))
                return;
        }

        // No robot in the cycle can move: the ones boxing it in (waiting for one of them, or idle next to one) step aside,
        // off the cycle's way, so that next time one in the cycle has room to.
        var cyclePlans = victims.Select(v => v.Plan).OfType<RobotPlan>().ToList();
        var motions = Motions();
        var cycleHolds = holds.Where(h => cycle.Contains(h.Value)).Select(h => h.Key).ToHashSet();
        var boxing = _robots.Values
            .Where(r => !cycle.Contains(r.Key) && !r.IsLost)
            .Where(r => r.Plan is { Orphaned: false, CancelActionId: null } && TrafficController.Blocker(motions[r.Key], holds, _branches) is { } b && cycle.Contains(b)
                        || r.Plan is null && IsAvailable(r) && Neighbours(r.WaypointId!).Any(cycleHolds.Contains))
            .OrderBy(r => MissionOf(r)?.Priority ?? -1)
            .ThenByDescending(r => MissionOf(r)?.CreatedAt ?? DateTimeOffset.MaxValue)
            .ToList();
        foreach (var robot in boxing)
        {
            if (MoveAside(robot, holds, cyclePlans.Select(p => p.RemainingWaypoints).ToList(), now, yieldTo: cyclePlans.Select(p => p.OrderId).ToList()))
                return;
        }
    }

    /// <summary>The waypoints one lane away from a waypoint, either way.</summary>
    private IEnumerable<string> Neighbours(string waypointId)
    {
        _neighbours ??= options.Map.Lanes.SelectMany(l => new[] { (l.FromWaypointId, l.ToWaypointId), (l.ToWaypointId, l.FromWaypointId) })
            .ToLookup(p => p.Item1, p => p.Item2);
        return _neighbours[waypointId];
    }

    /// <summary>
    /// Re-routes a robot's open targets around the waypoints others hold and the dead-end branches others are in; false
    /// (and no change) when there is no such way, or it is the way the robot already has (which would re-route it forever).
    /// </summary>
    private bool TryRerouteAround(TrackedRobot robot, Dictionary<string, string> holds)
    {
        var plan = robot.Plan!;
        var open = plan.OpenTargets;
        if (open.Count == 0)
            return false;
        var taken = holds.Where(h => h.Value != robot.Key).Select(h => h.Key).ToHashSet();
        foreach (var branch in _branches.All.Where(b => b.Waypoints.Any(taken.Contains)))
            taken.UnionWith(branch.Waypoints);
        var ok = plan.Reroute(open, (from, to) => FindOpenRoute(from, to, taken.Contains), unchangedFails: true);
        if (ok)
            logger.LogInformation("Traffic: re-routed {Robot} around held waypoints", robot.Id);
        return ok;
    }

    /// <summary>
    /// Sends a robot to the nearest free waypoint off the <paramref name="ways"/> of the robots it clears the way for
    /// (preferring waypoints on no other robot's route, then parking and chargers, then any but a branch mouth), then on to
    /// whatever targets it still had. Never into a dead-end branch another robot is in, nor into one a way
    /// enters or ends at the mouth of. An idle robot with no free way to any such refuge (one shut in a dead end by the
    /// robots waiting outside it) is still sent to the nearest one, by the way with the fewest robots to wait for: its wait
    /// is then one the wait checks see, so the idle robots in that way are moved aside in turn and a circular wait with
    /// the robots waiting to come in is broken.
    /// </summary>
    /// <returns>False when it has nowhere to go.</returns>
    private bool MoveAside(TrackedRobot robot, Dictionary<string, string> holds, IReadOnlyList<IReadOnlyList<string>> ways, DateTimeOffset now, IReadOnlyCollection<string>? yieldTo = null)
    {
        var otherRoutes = _robots.Values.Where(r => r != robot && r.Plan is not null).SelectMany(r => r.Plan!.RemainingWaypoints).ToHashSet();
        var avoid = ways.SelectMany(w => w).ToHashSet();
        var excluded = avoid.Concat(holds.Where(h => h.Value != robot.Key).Select(h => h.Key)).ToHashSet();
        // No refuge in a branch another robot is in, or a way enters, or that hangs where a way ends (a robot stops on a
        // mouth only while its branches are empty).
        var ends = ways.Where(w => w.Count > 0).Select(w => w[^1]).ToHashSet();
        foreach (var branch in _branches.All.Where(b => ends.Contains(b.Mouth) || b.Waypoints.Any(w => avoid.Contains(w) || (holds.TryGetValue(w, out var h) && h != robot.Key))))
            excluded.UnionWith(branch.Waypoints);
        var from = robot.Plan is { } current ? current.Steps[current.ReleasedThrough].WaypointId : robot.WaypointId!;
        bool Blocked(string w) => holds.TryGetValue(w, out var h) && h != robot.Key;
        var preferred = options.Map.Locations.Values
            .Where(l => l.Kinds.Contains(LocationKind.Parking) || l.Kinds.Contains(LocationKind.Charger))
            .Select(l => l.WaypointId).ToHashSet();
        // One search from the robot ranks every candidate (was one route search per waypoint of the map: O(V^2) a call,
        // seconds on a 10,000-waypoint grid, found by the traffic simulation); the route is then found to the chosen one.
        (string Waypoint, Route? Route) Nearest(Func<string, bool> blocked)
        {
            var best = _graph.TravelTimesFrom(from, options.RobotMaxSpeed, blocked, ClosedOrNull, RouteCost(from))
                .Where(c => c.Key != from && !excluded.Contains(c.Key))
                .OrderBy(c => otherRoutes.Contains(c.Key) ? 1 : 0)
                .ThenBy(c => preferred.Contains(c.Key) ? 0 : 1)
                .ThenBy(c => _branches.IsMouth(c.Key) ? 1 : 0)
                .ThenBy(c => c.Value)
                .ThenBy(c => c.Key, StringComparer.Ordinal)
                .Select(c => c.Key)
                .FirstOrDefault();
            return best is null ? (null!, null) : (best, FindOpenRoute(from, best, blocked));
        }
        var refuge = Nearest(Blocked);
        var shutIn = false;
        if (refuge.Route is null && robot.Plan is null)
        {
            // Shut in: through idle robots only (they can be moved aside), else through anyone.
            var byKey = _robots.Values.ToDictionary(r => r.Key, StringComparer.Ordinal);
            bool BlockedByBusy(string w) => holds.TryGetValue(w, out var h) && h != robot.Key && byKey.TryGetValue(h, out var other) && !IsAvailable(other);
            refuge = Nearest(BlockedByBusy);
            if (refuge.Route is null)
                refuge = Nearest(_ => false);
            shutIn = refuge.Route is not null;
        }

        if (refuge.Route is null)
        {
            logger.LogWarning("Traffic: no free waypoint reachable from '{From}' to move {Robot} aside to", from, robot.Id);
            return false;
        }

        PlanTarget aside = new(refuge.Waypoint, [], Refuge: true);
        if (robot.Plan is { } plan)
        {
            // The way to the refuge avoids others' holds; the way on from it is taken once they are past (see YieldingTo).
            var legs = 0;
            if (!plan.Reroute([aside, .. plan.OpenTargets], (a, b) => legs++ == 0
                    ? FindOpenRoute(a, b, Blocked)
                    : FindOpenRoute(a, b)))
                return false;
            plan.YieldAtStep = plan.TargetSteps.First(t => ReferenceEquals(t.Target, aside)).StepIndex;
            plan.YieldTo = yieldTo ?? [];
            plan.TimesGivenWay++;
        }
        else
        {
            plan = new RobotPlan($"move-{robot.Key.Replace('/', '-')}-{++_evadeCounter}", null, from);
            if (!plan.Reroute([aside], (a, b) => shutIn ? refuge.Route : FindOpenRoute(a, b, Blocked)))
                return false;
            robot.Plan = plan;
        }

        plan.LastReplan = now;
        if (shutIn)
            logger.LogInformation("Traffic: moving {Robot} aside to '{Waypoint}' to clear the way, waiting for the robots on its way out", robot.Id, refuge.Waypoint);
        else
            logger.LogInformation("Traffic: moving {Robot} aside to '{Waypoint}' to clear the way", robot.Id, refuge.Waypoint);
        return true;
    }
}
