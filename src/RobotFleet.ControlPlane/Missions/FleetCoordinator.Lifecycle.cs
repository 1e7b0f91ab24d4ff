using Microsoft.Extensions.Logging;
using RobotFleet.Contracts;

namespace RobotFleet.ControlPlane.Missions;

/// <summary>
/// Lifecycle: every status change goes through <see cref="Transition"/>, which records it in the mission's history and puts
/// the matching lifecycle fact (e.g. <see cref="MissionAssigned"/>) in the outbox; the outbox is published only after the
/// decision committed. The mission state machine (<see cref="Lifecycle.MissionStateMachine"/>) takes the facts from there and
/// publishes <see cref="MissionStatusChanged"/>. Operator commands that change the lifecycle (pause, resume, reassign) live here too.
/// </summary>
public sealed partial class FleetCoordinator
{
    /// <summary>
    /// Missions whose lifecycle facts the state machine has not been seen to apply all of: when the latest was published, the
    /// sequence the machine had applied at the last check (-1: not checked yet), and how often they were published again.
    /// </summary>
    private readonly Dictionary<string, (DateTimeOffset PublishedAt, long Applied, int Republished)> _unconfirmedFacts = new(StringComparer.Ordinal);
    private long _nextLifecycleCatchUpTicks;

    /// <summary>
    /// Pauses (<paramref name="pause"/> true: VDA <c>startPause</c>, Dispatched or Executing -> Paused) or resumes
    /// (<c>stopPause</c>, Paused -> Executing, or Dispatched when the robot has not shown the order yet) the robot running a
    /// mission. The robot keeps its order.
    /// </summary>
    /// <returns>Done, unknown mission, not running (no robot has its order), or not in a state for it (already paused, not paused).</returns>
    public Task<PauseOutcome> PauseAsync(string missionId, bool pause, string actor, CancellationToken cancellationToken) => UnderLockAsync(() =>
    {
        if (!_missions.TryGetValue(missionId, out var mission))
            return PauseOutcome.UnknownMission;
        var robot = _robots.Values.FirstOrDefault(r => r.Plan?.MissionId == missionId);
        if (mission.IsFinal || robot is null || robot.Plan!.UpdateId < 0 || robot.Plan.CancelActionId is not null)
            return PauseOutcome.NotRunning;
        if (pause ? mission.Status is not (MissionStatus.Dispatched or MissionStatus.Executing) : mission.Status != MissionStatus.Paused)
            return PauseOutcome.WrongState;
        var type = pause ? "startPause" : "stopPause";
        robot.PausedFor = pause ? missionId : null;
        _outbox.Add(new TriggerInstantActions(robot.Id, [new RobotAction($"{type}-{missionId}-{Guid.NewGuid():N}", type, "HARD", new Dictionary<string, string>())]));
        if (pause)
        {
            Transition(mission, MissionStatus.Paused, actor, "paused by operator (startPause)", fact: MissionFactKind.Paused);
        }
        else
        {
            var acknowledged = robot.State?.OrderId == robot.Plan.OrderId;
            Transition(mission, acknowledged ? MissionStatus.Executing : MissionStatus.Dispatched, actor, "resumed by operator (stopPause)", fact: MissionFactKind.Resumed);
        }

        return PauseOutcome.Done;
    }, cancellationToken);

    /// <summary>
    /// Pins a mission to another robot (or unpins it, robot null) before it is dispatched: a Queued or Assigned mission goes
    /// (back) to the queue pinned to that robot, which is no longer excluded for having lost it before, and the planner runs at once
    /// (after a restart's settle time, <see cref="ControlPlaneOptions.RestartSettle"/>).
    /// </summary>
    /// <returns>Done; unknown mission; unknown robot (never reported); or too late (dispatched, running or final).</returns>
    public Task<ReassignOutcome> ReassignAsync(ReassignMission command, CancellationToken cancellationToken) => UnderLockAsync(() =>
    {
        if (!_missions.TryGetValue(command.MissionId, out var mission))
            return ReassignOutcome.UnknownMission;
        if (command.Robot is { } target && !_robots.ContainsKey(target))
            return ReassignOutcome.UnknownRobot;
        if (mission.Status is not (MissionStatus.Queued or MissionStatus.Assigned))
            return ReassignOutcome.TooLate;
        if (_robots.Values.FirstOrDefault(r => r.Plan?.MissionId == mission.Id) is { } holder)
        {
            if (holder.Plan!.UpdateId >= 0)
                return ReassignOutcome.TooLate; // its order left already
            holder.Plan = null;
        }

        _submissions[mission.Id] = _submissions[mission.Id] with { Robot = command.Robot };
        var reason = command.Robot is { } robot ? $"reassigned to {robot} by operator" : "unpinned by operator: the dispatcher chooses";
        Transition(mission with
        {
            PinnedRobot = command.Robot,
            FailedRobots = command.Robot is { } pinned ? mission.FailedRobots.Where(r => r != pinned).ToList() : mission.FailedRobots,
        }, MissionStatus.Queued, command.RequestedBy, reason, fact: MissionFactKind.Reassigned, subject: command.Robot);
        Process();
        return ReassignOutcome.Done;
    }, cancellationToken);

    /// <summary>
    /// Records a change: the mission gets <paramref name="status"/> (Queued clears its robot and order) and a history entry,
    /// and the lifecycle fact goes to the outbox. <paramref name="fact"/> defaults by status (Queued: Requeued);
    /// <paramref name="subject"/> is the robot the fact names (default: the new robot, or for Queued the robot it had).
    /// </summary>
    private void Transition(MissionView mission, MissionStatus status, string actor, string reason, RobotId? robot = null, string? orderId = null,
        MissionFactKind? fact = null, RobotId? subject = null, int? priority = null)
    {
        var now = time.GetUtcNow();
        var queued = status == MissionStatus.Queued;
        var kind = fact ?? status switch
        {
            MissionStatus.Queued => MissionFactKind.Requeued,
            MissionStatus.Assigned => MissionFactKind.Assigned,
            MissionStatus.Dispatched => MissionFactKind.Dispatched,
            MissionStatus.Executing => MissionFactKind.Started,
            MissionStatus.Paused => MissionFactKind.Paused,
            MissionStatus.Completed => MissionFactKind.Completed,
            MissionStatus.Failed => MissionFactKind.Failed,
            _ => MissionFactKind.Cancelled,
        };
        var updated = mission with
        {
            Status = status,
            Robot = queued ? null : robot ?? mission.Robot,
            OrderId = queued ? null : orderId ?? mission.OrderId,
            UpdatedAt = now,
            FailureReason = status is MissionStatus.Failed or MissionStatus.Cancelled ? reason : mission.FailureReason,
        };
        var entry = new MissionTransition(now, status, actor, reason)
        {
            Fact = kind,
            Robot = subject ?? (queued ? mission.Robot : updated.Robot),
            OrderId = queued ? mission.OrderId : updated.OrderId,
            Priority = priority,
        };
        // The history is append-only and only grows here: a caller holding a snapshot taken before an earlier transition in the
        // same decision (e.g. Executing, then Failed on the same robot state) must not drop that transition.
        var history = _missions.TryGetValue(mission.Id, out var stored) && stored.History.Count > mission.History.Count ? stored.History : mission.History;
        updated = updated with { History = [.. history, entry] };
        Save(updated);
        _outbox.Add(FactOf(updated.Id, updated.History, updated.History.Count));
        logger.LogInformation("Mission {Mission} {Status} ({Reason})", mission.Id, status, reason);
    }

    /// <summary>
    /// After a restart: puts in the outbox every fact of <paramref name="mission"/>'s history that the state machine has not
    /// applied (the process may have died between a commit and its publication). The machine ignores any it has already.
    /// </summary>
    private void CatchUpLifecycle(MissionView mission, IReadOnlyDictionary<string, long> applied)
    {
        var from = applied.GetValueOrDefault(mission.Id);
        if (RepublishFacts(mission, from) > 0)
            logger.LogInformation("Mission {Mission}: re-publishing lifecycle facts {From}..{To}", mission.Id, from + 1, mission.History.Count);
    }

    /// <summary>Puts in the outbox the facts of <paramref name="mission"/>'s history after sequence <paramref name="applied"/>; returns how many.</summary>
    private int RepublishFacts(MissionView mission, long applied)
    {
        for (var sequence = (int)applied + 1; sequence <= mission.History.Count; sequence++)
            _outbox.Add(FactOf(mission.Id, mission.History, sequence));
        return Math.Max(0, mission.History.Count - (int)applied);
    }

    /// <summary>Notes that a fact of <paramref name="missionId"/> was just published, for <see cref="CatchUpLifecycleAsync"/> to check. Under the lock.</summary>
    private void ExpectLifecycleFacts(string missionId)
    {
        if (lifecycle is null)
            return;
        var (_, applied, republished) = _unconfirmedFacts.GetValueOrDefault(missionId, (default, -1, 0));
        _unconfirmedFacts[missionId] = (time.GetUtcNow(), applied, republished);
    }

    /// <summary>
    /// Checks that the mission state machine took in the lifecycle facts published at least
    /// <see cref="ControlPlaneOptions.LifecycleCatchUpAfter"/> ago, and publishes again every fact it has not applied (it
    /// ignores one it has, and keeps one that overtook its predecessor until that comes). A fact the broker confirmed can still
    /// miss the machine: published before the machine's queue was bound to its exchange, or dropped with a connection the bus
    /// watchdog recycled. A mission leaves the check once the machine has all its facts. Where the machine applied more since
    /// the last check it is only behind (a backlog), and the check waits; each time a mission's facts are published again its
    /// next check waits twice as long (10, 20, 40 s ... up to 32 times <see cref="ControlPlaneOptions.LifecycleCatchUpAfter"/>).
    /// Reads the machine's store outside the coordinator's lock, for at most half of
    /// <see cref="ControlPlaneOptions.LifecycleCatchUpAfter"/>; a failed or slow read is logged and tried at the next check.
    /// Does nothing without an <see cref="Lifecycle.IMissionHistoryReader"/>, or after <see cref="StopDeciding"/>. Called with
    /// every tick; checks at most once every <see cref="ControlPlaneOptions.LifecycleCatchUpAfter"/> / 2. Thread-safe.
    /// </summary>
    /// <returns>How many facts were published again.</returns>
    public async Task<int> CatchUpLifecycleAsync(CancellationToken cancellationToken)
    {
        if (lifecycle is null || _stopped)
            return 0;
        var now = time.GetUtcNow();
        var interval = options.LifecycleCatchUpAfter / 2;
        var next = Interlocked.Read(ref _nextLifecycleCatchUpTicks);
        if (now.UtcTicks < next || Interlocked.CompareExchange(ref _nextLifecycleCatchUpTicks, (now + interval).UtcTicks, next) != next)
            return 0;
        var due = await UnderLockAsync(() => _unconfirmedFacts
            .Where(u => now - u.Value.PublishedAt >= options.LifecycleCatchUpAfter * (1 << Math.Min(u.Value.Republished, 5)))
            .ToDictionary(u => u.Key, u => u.Value, StringComparer.Ordinal), cancellationToken);
        if (due.Count == 0)
            return 0;
        IReadOnlyDictionary<string, long> applied;
        using var read = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        read.CancelAfter(interval);
        try
        {
            applied = await lifecycle.AppliedSequencesAsync(due.Keys, read.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The machine's store is unreachable or slow (the database restarting): the missions stay due for the next check.
            logger.LogWarning("Checking that the mission state machine took in {Count} missions' lifecycle facts failed: {Error}; trying again in {Seconds:F0} s",
                due.Count, e.Message, interval.TotalSeconds);
            return 0;
        }

        var republished = 0;
        await DecideAsync(() =>
        {
            foreach (var (id, seen) in due)
            {
                // Published again since the check began: that publication gets its own check.
                if (!_unconfirmedFacts.TryGetValue(id, out var latest) || latest.PublishedAt != seen.PublishedAt)
                    continue;
                var machine = applied.GetValueOrDefault(id);
                if (!_missions.TryGetValue(id, out var mission) || machine >= mission.History.Count)
                {
                    _unconfirmedFacts.Remove(id);
                    continue;
                }

                if (seen.Applied >= 0 && machine > seen.Applied)
                {
                    _unconfirmedFacts[id] = (now, machine, seen.Republished); // moving, only behind: check again later
                    continue;
                }

                logger.LogWarning("Mission {Mission}: the mission state machine has applied {Applied} of its {Count} lifecycle facts {Seconds:F0} s after the last was published; "
                    + "publishing facts {From}..{Count} again", id, machine, mission.History.Count, (now - seen.PublishedAt).TotalSeconds, machine + 1, mission.History.Count);
                republished += RepublishFacts(mission, machine);
                _unconfirmedFacts[id] = (now, machine, seen.Republished + 1);
            }

            return true;
        }, cancellationToken);
        return republished;
    }

    /// <summary>The lifecycle fact of history entry <paramref name="sequence"/> (1-based).</summary>
    internal static IMissionLifecycleFact FactOf(string missionId, IReadOnlyList<MissionTransition> history, int sequence)
    {
        var t = history[sequence - 1];
        var previous = sequence > 1 ? history[sequence - 2] : null;
        var kind = t.Fact ?? (t.Status, previous?.Status) switch
        {
            (MissionStatus.Queued, null) => MissionFactKind.Submitted,
            (MissionStatus.Queued, MissionStatus.Queued) => MissionFactKind.Reprioritised,
            (MissionStatus.Queued, _) => MissionFactKind.Requeued,
            (MissionStatus.Assigned, _) => MissionFactKind.Assigned,
            (MissionStatus.Dispatched, _) => MissionFactKind.Dispatched,
            (MissionStatus.Executing, MissionStatus.Paused) => MissionFactKind.Resumed,
            (MissionStatus.Executing, _) => MissionFactKind.Started,
            (MissionStatus.Paused, _) => MissionFactKind.Paused,
            (MissionStatus.Completed, _) => MissionFactKind.Completed,
            (MissionStatus.Failed, _) => MissionFactKind.Failed,
            _ => MissionFactKind.Cancelled,
        };
        var robot = t.Robot ?? Unknown;
        var order = t.OrderId ?? "";
        return kind switch
        {
            MissionFactKind.Submitted => new MissionSubmitted(missionId, sequence, t.Timestamp, t.Actor, t.Reason, t.Priority ?? 0, t.Robot),
            MissionFactKind.Assigned => new MissionAssigned(missionId, sequence, t.Timestamp, t.Actor, t.Reason, robot, order),
            MissionFactKind.Dispatched => new MissionDispatched(missionId, sequence, t.Timestamp, t.Actor, t.Reason, robot, order),
            MissionFactKind.Started => new MissionStarted(missionId, sequence, t.Timestamp, t.Actor, t.Reason, robot, order),
            MissionFactKind.Paused => new MissionPaused(missionId, sequence, t.Timestamp, t.Actor, t.Reason, robot),
            MissionFactKind.Resumed => new MissionResumed(missionId, sequence, t.Timestamp, t.Actor, t.Reason, robot, t.Status == MissionStatus.Executing),
            MissionFactKind.Requeued => new MissionRequeued(missionId, sequence, t.Timestamp, t.Actor, t.Reason, t.Robot),
            MissionFactKind.Completed => new MissionCompleted(missionId, sequence, t.Timestamp, t.Actor, t.Reason, t.Robot),
            MissionFactKind.Failed => new MissionFailed(missionId, sequence, t.Timestamp, t.Actor, t.Reason, t.Robot),
            MissionFactKind.Cancelled => new MissionCancelled(missionId, sequence, t.Timestamp, t.Actor, t.Reason, t.Robot),
            MissionFactKind.Reprioritised => new MissionReprioritised(missionId, sequence, t.Timestamp, t.Actor, t.Reason, t.Priority ?? 0),
            _ => new MissionReassigned(missionId, sequence, t.Timestamp, t.Actor, t.Reason, t.Robot),
        };
    }

    /// <summary>Stands in for the robot of a history entry stored before entries named their robot.</summary>
    private static readonly RobotId Unknown = new("unknown", "unknown");
}

/// <summary>Outcome of <see cref="FleetCoordinator.ReassignAsync"/>.</summary>
public enum ReassignOutcome
{
    /// <summary>Pinned (or unpinned) and back in the queue.</summary>
    Done,

    /// <summary>No such mission.</summary>
    UnknownMission,

    /// <summary>The robot has never reported to the control plane.</summary>
    UnknownRobot,

    /// <summary>The mission's order was sent already, or it is final.</summary>
    TooLate,
}
