using RobotFleet.Contracts;
using RobotFleet.Maps;

namespace RobotFleet.ControlPlane.Missions;

/// <summary>A place a plan must visit, with the actions to run there.</summary>
/// <param name="WaypointId">Waypoint to reach.</param>
/// <param name="Actions">Actions at it (e.g. <c>pick</c>); empty for a pass-through goal.</param>
/// <param name="Refuge">True for a place traffic sent the robot to, out of the way: dropped whenever the plan is re-routed.</param>
internal sealed record PlanTarget(string WaypointId, IReadOnlyList<RobotAction> Actions, bool Refuge = false);

/// <summary>Why a robot runs a plan.</summary>
internal enum PlanPurpose
{
    /// <summary>An operator's mission (or an internal move aside when <see cref="RobotPlan.MissionId"/> is null).</summary>
    Mission,

    /// <summary>Sent to charge because its battery is low.</summary>
    Charge,

    /// <summary>Sent to park because it was idle.</summary>
    Park,
}

/// <summary>
/// One waypoint of a plan, with its VDA sequence id, the lane that leads into it, the actions at it and those run on
/// entering that lane (VDA 5050 edge actions; null for none).
/// </summary>
internal sealed record PlanStep(string WaypointId, long SequenceId, Lane? LaneIn, IReadOnlyList<RobotAction> Actions, IReadOnlyList<RobotAction>? LaneActions = null)
{
    /// <summary>The actions at this step and on the lane into it.</summary>
    public IEnumerable<RobotAction> AllActions => LaneActions is null ? Actions : LaneActions.Concat(Actions);
}

/// <summary>
/// What one robot is asked to do: the order it runs (one VDA order, updated as traffic releases
/// more of it), which steps are reached and released, and the targets still ahead.
/// Not thread-safe: owned by the coordinator.
/// </summary>
internal sealed class RobotPlan(string orderId, string? missionId, string startWaypointId, PlanPurpose purpose = PlanPurpose.Mission)
{
    /// <summary>Why the robot runs this plan.</summary>
    public PlanPurpose Purpose { get; } = purpose;

    /// <summary>Charge plans: done once the robot reports at least this state of charge at the last step (percent).</summary>
    public double? ChargeTarget { get; init; }

    /// <summary>
    /// True for the plan of a robot that was lost or went silent: its mission went back to the queue, and the plan only keeps
    /// the waypoints released to the robot held (never sent again) until the robot reports it has stopped.
    /// </summary>
    public bool Orphaned { get; private set; }

    /// <summary>True once cancelOrder was sent again after an orphaned robot came back.</summary>
    public bool CancelResent { get; set; }

    /// <summary>VDA order id.</summary>
    public string OrderId { get; } = orderId;

    /// <summary>Mission served, or null for a move that only clears the way.</summary>
    public string? MissionId { get; private set; } = missionId;

    /// <summary>Id of the cancelOrder sent for this plan; non-null while it is being cancelled.</summary>
    public string? CancelActionId { get; set; }

    /// <summary>Last order update id sent; -1 before the first.</summary>
    public long UpdateId { get; set; } = -1;

    /// <summary>For each update id sent, the index of the last step it released (to re-stitch when a robot missed updates).</summary>
    public Dictionary<long, int> ReleasedByUpdate { get; } = [];

    /// <summary>
    /// Update ids the robot refused (VDA <c>orderUpdateError</c>) after which the next update was stitched at the base the
    /// robot has (not persisted: after a restart a refusal still shown is taken up again, once).
    /// </summary>
    public HashSet<long> RestitchedRefusals { get; } = [];

    /// <summary>
    /// How often the next update was stitched at the base the robot has after a refused or lost update (or the order sent
    /// again), since the robot's states last showed a later update.
    /// </summary>
    public int Restitches { get; set; }

    /// <summary>
    /// Step index of the last base node the robot has, where the next update starts after a refused or lost update (instead
    /// of at <see cref="ReleasedThrough"/>, which is kept: the robot may still get the late update and drive its base, so
    /// every waypoint released to it stays held for it); null when the next update starts at <see cref="ReleasedThrough"/>.
    /// </summary>
    public int? StitchAt { get; set; }

    /// <summary>The highest update id of this order the robot's states have shown (-1: none yet).</summary>
    public long TakenUpdate { get; set; } = -1;

    /// <summary>When the last order or update was sent (control-plane clock); null before the first, and after a restart.</summary>
    public DateTimeOffset? SentAt { get; set; }

    /// <summary>Steps from the robot's start (step 0, sequence id 0) to the final target.</summary>
    public List<PlanStep> Steps { get; } = [new PlanStep(startWaypointId, 0, null, [])];

    /// <summary>Index of the last released step.</summary>
    public int ReleasedThrough { get; set; }

    /// <summary>Index of the last step the robot reported reaching.</summary>
    public int ReachedIndex { get; set; }

    /// <summary>Index into <see cref="Steps"/> of each target's step, in order.</summary>
    public List<(PlanTarget Target, int StepIndex)> TargetSteps { get; } = [];

    /// <summary>True when steps changed since the last order or update was sent.</summary>
    public bool Dirty { get; set; } = true;

    /// <summary>When the robot started waiting for a held waypoint; null while not blocked.</summary>
    public DateTimeOffset? BlockedSince { get; set; }

    /// <summary>Last time traffic re-planned this robot (rate limit).</summary>
    public DateTimeOffset LastReplan { get; set; } = DateTimeOffset.MinValue;

    /// <summary>
    /// Index of the refuge step this robot moved aside to while it gives way to <see cref="YieldTo"/>;
    /// its motion ends there until they are past. Null when not giving way; cleared by <see cref="Reroute"/>.
    /// </summary>
    public int? YieldAtStep { get; set; }

    /// <summary>How often traffic moved this plan's robot aside; among equals the one that gave way least gives way next.</summary>
    public int TimesGivenWay { get; set; }

    /// <summary>
    /// Order ids of the plans this plan gives way to while <see cref="YieldAtStep"/> is set: those plans, not their robots,
    /// so a robot does not wait at its refuge for whatever the others are sent to next.
    /// </summary>
    public IReadOnlyCollection<string> YieldTo { get; set; } = [];

    /// <summary>
    /// Targets whose steps lie after the released part, still open to re-routing; refuges are left out (a way round or a
    /// new refuge replaces them), so moving aside twice never sends the robot to the first refuge as well.
    /// </summary>
    public IReadOnlyList<PlanTarget> OpenTargets => TargetSteps.Where(t => t.StepIndex > ReleasedThrough && !t.Target.Refuge).Select(t => t.Target).ToList();

    /// <summary>Waypoint ids from the last reached step to the end.</summary>
    public IReadOnlyList<string> RemainingWaypoints => Steps.Skip(ReachedIndex).Select(s => s.WaypointId).ToList();

    /// <summary>
    /// Replaces everything after the last released step with legs through <paramref name="targets"/>,
    /// routed with <paramref name="findRoute"/>; false (and no change) when a leg has no route, or, with
    /// <paramref name="unchangedFails"/>, when the new legs pass the same waypoints as the steps they would replace.
    /// </summary>
    public bool Reroute(IReadOnlyList<PlanTarget> targets, Func<string, string, Route?> findRoute, bool unchangedFails = false)
    {
        var legs = new List<(Route Route, PlanTarget Target)>();
        var from = Steps[ReleasedThrough].WaypointId;
        foreach (var target in targets)
        {
            var route = findRoute(from, target.WaypointId);
            if (route is null)
                return false;
            legs.Add((route, target));
            from = target.WaypointId;
        }

        if (unchangedFails && legs.SelectMany(l => l.Route.WaypointIds.Skip(1)).SequenceEqual(Steps.Skip(ReleasedThrough + 1).Select(s => s.WaypointId)))
            return false;

        Steps.RemoveRange(ReleasedThrough + 1, Steps.Count - ReleasedThrough - 1);
        TargetSteps.RemoveAll(t => t.StepIndex > ReleasedThrough);
        if (UpdateId < 0 && Steps[ReleasedThrough] is var start && start.Actions.Any(a => a.ActionType == OpenDoorAction))
        {
            // Nothing sent yet: the door the old way went through may be off the new way (AppendLeg adds it back if not).
            Steps[ReleasedThrough] = start with { Actions = start.Actions.Where(a => a.ActionType != OpenDoorAction).ToList() };
        }

        foreach (var (route, target) in legs)
            AppendLeg(route, target);
        YieldAtStep = null;
        YieldTo = [];
        Dirty = true;
        return true;
    }

    /// <summary>
    /// Detaches the plan from its mission (see <see cref="Orphaned"/>): everything after the released part goes, so the
    /// robot holds only what it may still drive onto.
    /// </summary>
    public void Orphan()
    {
        Steps.RemoveRange(ReleasedThrough + 1, Steps.Count - ReleasedThrough - 1);
        TargetSteps.RemoveAll(t => t.StepIndex > ReleasedThrough);
        if (UpdateId < 0 && Steps[ReleasedThrough] is var start && start.Actions.Any(a => a.ActionType == OpenDoorAction))
        {
            // Nothing sent yet: the door the old way went through may be off the new way (AppendLeg adds it back if not).
            Steps[ReleasedThrough] = start with { Actions = start.Actions.Where(a => a.ActionType != OpenDoorAction).ToList() };
        }
        MissionId = null;
        Orphaned = true;
        YieldAtStep = null;
        YieldTo = [];
        Dirty = false;
    }

    /// <summary>The plan as persisted for <paramref name="robot"/>.</summary>
    public PersistedPlan ToPersisted(RobotId robot) => new(
        robot, OrderId, MissionId, Purpose.ToString(), ChargeTarget, UpdateId, ReleasedThrough, ReachedIndex, Orphaned, CancelActionId, CancelResent,
        Steps.Select(s => new PersistedStep(s.WaypointId, s.SequenceId, s.LaneIn?.Id, s.Actions, s.LaneActions)).ToList(),
        TargetSteps.Select(t => new PersistedTarget(t.Target.WaypointId, t.Target.Actions, t.StepIndex, t.Target.Refuge)).ToList(),
        ReleasedByUpdate.OrderBy(u => u.Key).Select(u => new PersistedUpdate(u.Key, u.Value)).ToList(),
        YieldAtStep, YieldAtStep is null ? null : YieldTo.ToList());

    /// <summary>Rebuilds a persisted plan on <paramref name="map"/> (lanes by id).</summary>
    /// <exception cref="InvalidDataException">A lane or waypoint of the plan is not on the map.</exception>
    public static RobotPlan Restore(PersistedPlan stored, SiteMap map)
    {
        var lanes = map.Lanes.ToDictionary(l => l.Id, StringComparer.Ordinal);
        var plan = new RobotPlan(stored.OrderId, stored.MissionId, stored.Steps[0].WaypointId, Enum.Parse<PlanPurpose>(stored.Purpose))
        {
            ChargeTarget = stored.ChargeTarget,
            UpdateId = stored.UpdateId,
            ReleasedThrough = stored.ReleasedThrough,
            ReachedIndex = stored.ReachedIndex,
            CancelActionId = stored.CancelActionId,
            CancelResent = stored.CancelResent,
            Orphaned = stored.Orphaned,
            Dirty = false,
            YieldAtStep = stored.YieldAtStep,
            YieldTo = stored.YieldTo ?? [],
        };
        plan.Steps.Clear();
        foreach (var step in stored.Steps)
        {
            if (!map.Waypoints.ContainsKey(step.WaypointId))
                throw new InvalidDataException($"plan {stored.OrderId}: waypoint '{step.WaypointId}' is not on the map");
            Lane? lane = null;
            if (step.LaneId is { } laneId && !lanes.TryGetValue(laneId, out lane))
                throw new InvalidDataException($"plan {stored.OrderId}: lane '{laneId}' is not on the map");
            plan.Steps.Add(new PlanStep(step.WaypointId, step.SequenceId, lane, step.Actions, step.LaneActions));
        }

        foreach (var update in stored.Updates ?? [])
            plan.ReleasedByUpdate[update.UpdateId] = update.ReleasedThrough;
        plan.TargetSteps.AddRange(stored.Targets.Select(t => (new PlanTarget(t.WaypointId, t.Actions, t.Refuge), t.StepIndex)));
        return plan;
    }

    /// <summary>
    /// Action type of the action put on the waypoint before a lane through a door: the robot waits there until the door is
    /// open (blocking type HARD: it does not drive while the action runs). Where that waypoint was already sent released, the
    /// action goes on the lane itself as a VDA 5050 edge action, which the robot runs as it enters the lane, before it drives.
    /// </summary>
    public const string OpenDoorAction = "openDoor";

    private void AppendLeg(Route route, PlanTarget target)
    {
        for (var i = 0; i < route.Lanes.Count; i++)
        {
            // A lane through a door: the robot opens it (waits for it to open) on the waypoint before. That waypoint, when
            // already sent as released, can no longer change (VDA 5050 §6.6.1: the base is fixed; a re-route starts there):
            // then the lane itself, new in the update, carries the action.
            var before = Steps[^1];
            var sequenceId = before.SequenceId + 2;
            IReadOnlyList<RobotAction>? laneActions = null;
            if (route.Lanes[i].DoorId is { } door)
            {
                var open = new Dictionary<string, string>(StringComparer.Ordinal) { ["doorId"] = door };
                var openId = $"{OrderId}-{OpenDoorAction}-{before.SequenceId}";
                if (Steps.Count - 1 > ReleasedThrough || UpdateId < 0)
                {
                    if (before.Actions.All(a => a.ActionId != openId))
                        Steps[^1] = before with { Actions = [.. before.Actions, new RobotAction(openId, OpenDoorAction, "HARD", open)] };
                }
                else if (before.Actions.All(a => a.ActionType != OpenDoorAction || !a.Parameters.TryGetValue("doorId", out var d) || d != door))
                {
                    laneActions = [new RobotAction($"{OrderId}-{OpenDoorAction}-{sequenceId - 1}", OpenDoorAction, "HARD", open)];
                }
            }

            Steps.Add(new PlanStep(route.WaypointIds[i + 1], sequenceId, route.Lanes[i], [], laneActions));
        }

        // A target's actions run at its step; when consecutive targets share a waypoint their actions add up.
        var last = Steps[^1];
        Steps[^1] = last with { Actions = [.. last.Actions, .. target.Actions] };
        TargetSteps.Add((target, Steps.Count - 1));
    }
}
