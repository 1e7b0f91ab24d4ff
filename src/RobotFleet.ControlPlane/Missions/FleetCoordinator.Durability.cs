using System.Text.Json;
using Microsoft.Extensions.Logging;
using RobotFleet.Contracts;

namespace RobotFleet.ControlPlane.Missions;

/// <summary>Durability: write-through of missions and sent plans, reload on start, reconciliation with the robots' first states.</summary>
public sealed partial class FleetCoordinator
{
    private readonly IMissionRepository _repository = repository ?? new InMemoryMissionRepository();
    private readonly Dictionary<string, SubmitMission> _submissions = [];
    private readonly HashSet<string> _changedMissions = new(StringComparer.Ordinal);
    private readonly Dictionary<RobotId, string> _savedPlans = [];
    /// <summary>Set once <see cref="Restore"/> has run to its end: a load that fails (the database down) is tried again at the next decision.</summary>
    private volatile bool _restored;

    /// <summary>
    /// Whether the stored missions and plans are loaded (at the coordinator's first decision: a robot event, a tick or a
    /// request; on a standby instance, once it leads); until then <see cref="MissionStore"/> lacks the missions of earlier
    /// runs. Safe to read from any thread.
    /// </summary>
    public bool HasRestored => _restored;

    /// <summary>Until when, after a restart, nothing is released or assigned while the robots report (see <see cref="ControlPlaneOptions.RestartSettle"/>).</summary>
    private DateTimeOffset _settleUntil = DateTimeOffset.MinValue;

    /// <summary>When <see cref="Restore"/> loaded the stored plans (control-plane clock); robots' states received before it may be old (see <see cref="Reconcile"/>).</summary>
    private DateTimeOffset _restoredAt = DateTimeOffset.MinValue;

    /// <summary>
    /// Saves the missions changed by this decision and every sent plan that changed (or is gone), in one transaction.
    /// Called inside the lock before the outbox is published: a command leaves only once the change that caused it committed.
    /// </summary>
    private async Task PersistAsync()
    {
        if (!_repository.IsDurable)
        {
            _changedMissions.Clear();
            return;
        }

        var missions = _changedMissions.Select(id => new PersistedMission(_missions[id], _submissions[id])).ToList();
        var plans = new List<(PersistedPlan Plan, string Json)>();
        foreach (var robot in _robots.Values)
        {
            if (robot.Plan is not { UpdateId: >= 0 } plan)
                continue;
            var persisted = plan.ToPersisted(robot.Id);
            var json = JsonSerializer.Serialize(persisted, MissionJson.Options);
            if (!_savedPlans.TryGetValue(robot.Id, out var saved) || saved != json)
                plans.Add((persisted, json));
        }

        var removed = _savedPlans.Keys.Where(id => !_robots.TryGetValue(id, out var r) || r.Plan is not { UpdateId: >= 0 }).ToList();
        await _repository.SaveAsync(new MissionChanges(missions, plans.Select(p => p.Plan).ToList(), removed), CancellationToken.None);
        _changedMissions.Clear();
        foreach (var (plan, json) in plans)
            _savedPlans[plan.Robot] = json;
        foreach (var id in removed)
            _savedPlans.Remove(id);
    }

    /// <summary>
    /// Loads missions and sent plans once, before the first decision. Queued missions stay queued; a mission assigned
    /// but whose order was never sent goes back to the queue; a robot with a sent plan is <see cref="TrackedRobot.Restored"/>
    /// until its first state shows what it still runs. For <see cref="ControlPlaneOptions.RestartSettle"/> after it nothing
    /// is released or assigned while the robots report.
    /// </summary>
    private void Restore()
    {
        if (!_repository.IsDurable)
        {
            _restored = true;
            return;
        }

        _restoredAt = time.GetUtcNow();
        var snapshot = _repository.Load();
        // Order and action ids of internal moves carry a counter: start it past anything an earlier run used.
        _evadeCounter = time.GetUtcNow().ToUnixTimeMilliseconds();
        var applied = lifecycle?.LastSequences() ?? new Dictionary<string, long>();
        foreach (var stored in snapshot.Missions)
        {
            var mission = stored.Mission;
            _submissions[mission.Id] = stored.Submission;
            _missions[mission.Id] = mission;
            store.Save(mission);
            CatchUpLifecycle(mission, applied);
            if (BuildSpec(stored.Submission, restoring: true) is MissionSpec spec)
                _specs[mission.Id] = spec;
            else if (!mission.IsFinal)
                Transition(mission, MissionStatus.Failed, DispatcherActor, "after a restart the mission no longer fits the map");
        }

        foreach (var stored in snapshot.Plans)
        {
            var robot = Track(stored.Robot);
            try
            {
                robot.Plan = RobotPlan.Restore(stored, options.Map);
            }
            catch (InvalidDataException e)
            {
                logger.LogError("Dropping the stored plan of {Robot}: {Error}", stored.Robot, e.Message);
                continue;
            }

            robot.Restored = true;
            robot.AwaitsFreshState = true;
            if (robot.Plan.MissionId is { } paused && _missions.GetValueOrDefault(paused)?.Status == MissionStatus.Paused)
                robot.PausedFor = paused;
            _savedPlans[stored.Robot] = JsonSerializer.Serialize(stored, MissionJson.Options);
        }

        var running = _robots.Values.Where(r => r.Plan?.MissionId is not null).Select(r => r.Plan!.MissionId!).ToHashSet(StringComparer.Ordinal);
        foreach (var mission in _missions.Values.Where(m => !m.IsFinal && m.Status != MissionStatus.Queued && !running.Contains(m.Id)).ToList())
            Transition(mission, MissionStatus.Queued, DispatcherActor, "control plane restarted before the mission's order was sent");

        _settleUntil = time.GetUtcNow() + options.RestartSettle;
        logger.LogInformation("Restored {Missions} missions ({Open} open) and {Plans} robot plans; traffic control: {Traffic}{Flow}; queue ageing {Ageing}", snapshot.Missions.Count,
            _missions.Values.Count(m => !m.IsFinal), snapshot.Plans.Count, options.TrafficControl,
            options.TrafficControl != TrafficControl.Pibt || options.OneWayLoops ? ""
            : _loopFlowWeight is { } weight ? $", loop flow weight {weight:0.##}" : ", loop flow weight by density",
            options.QueueAgeingWeight > 0 ? $"{options.QueueAgeingWeight:0.###} s of cost per second waited" : "off (cheapest first)");
        _restored = true;
    }

    /// <summary>
    /// The first state of a robot whose plan was restored: a robot still running the plan's order keeps it (updates go on
    /// after the persisted update id); one that finished it while the control plane was down completes it (through the
    /// usual progress check); one that runs another order or none loses the mission, which goes back to the queue (the robot
    /// is not excluded from it: it lost the order to a restart, not by rejecting it).
    /// A state that shows less than the stored plan (another order, or an earlier update of it) may be older than what the
    /// robot has: one the old process's bus queue still held, one the bus delivers again after the process died
    /// (at-least-once), or one sent while the old process's last update was on its way. It is taken at its word only when
    /// it was received (<see cref="RobotStateChanged.ReceivedAt"/>, the gateway's clock; the robot's own stamp when not
    /// known) <see cref="ControlPlaneOptions.RestartSettle"/> or more after the restore (nothing is released before then
    /// anyway), or once <see cref="ControlPlaneOptions.SilentAfter"/> has passed since the restore (clocks apart); until
    /// then the robot stays restored. Regression (a leader killed in CI): taken at its word, an old
    /// state re-queued a running mission, or had an update stitched at a base the robot had driven past (rejected, so the
    /// mission went to another robot), and the mission's pick ran twice.
    /// </summary>
    private void Reconcile(TrackedRobot robot, RobotStateChanged state)
    {
        if (robot.Plan is not { } plan)
        {
            robot.Restored = false;
            return;
        }

        var behind = state.OrderId != plan.OrderId || state.OrderUpdateId < plan.UpdateId;
        var heard = state.ReceivedAt ?? state.Timestamp;
        if (behind && heard < _restoredAt + options.RestartSettle && time.GetUtcNow() - _restoredAt < options.SilentAfter)
        {
            logger.LogDebug("Robot {Robot} reports order {Order}/{Update} (received {Heard:O}), behind its stored plan {Plan}/{PlanUpdate}: maybe an old state; waiting for a later one",
                robot.Id, state.OrderId, state.OrderUpdateId, heard, plan.OrderId, plan.UpdateId);
            return;
        }

        robot.Restored = false;
        var runsIt = state.OrderId == plan.OrderId;
        var busy = runsIt && (state.PendingWaypointIds.Count > 0 || state.Driving);
        if (plan.CancelActionId is not null)
        {
            if (!busy)
            {
                robot.Plan = null;
            }
            else
            {
                // The cancel may never have left before the restart: send it again under a new id.
                var cancel = CancelOrder(robot.Id, plan.OrderId);
                plan.CancelActionId = cancel.Actions[0].ActionId;
                _outbox.Add(cancel);
            }

            return;
        }

        if (plan.Orphaned)
        {
            plan.CancelResent = false; // FollowOrphan sends cancelOrder once more if the robot still runs it
            return;
        }

        if (runsIt && state.OrderUpdateId < plan.UpdateId)
        {
            // Updates committed here but never published (the process died in between): the robot's base ends where the
            // update it has released through; the next update (a new, higher id) stitches there.
            if (plan.ReleasedByUpdate.TryGetValue(state.OrderUpdateId, out var had) && had >= plan.ReachedIndex)
            {
                logger.LogWarning("Robot {Robot} has update {Has} of order {Order}, not {Sent}: re-stitching at its base", robot.Id, state.OrderUpdateId, plan.OrderId, plan.UpdateId);
                plan.ReleasedThrough = had;
                plan.Dirty = true;
                return;
            }

            runsIt = false;
        }

        if (runsIt)
        {
            logger.LogInformation("Robot {Robot} still runs order {Order} (update {Update}) after the restart; it keeps it", robot.Id, plan.OrderId, state.OrderUpdateId);
            return;
        }

        var reason = $"after a control-plane restart robot {robot.Id} reports order '{state.OrderId}' (update {state.OrderUpdateId}), not {plan.OrderId} (update {plan.UpdateId})";
        if (MissionOf(robot) is { IsFinal: false } mission)
            Requeue(robot, mission, reason, orphan: false, lost: true);
        else
            robot.Plan = null;
    }
}
