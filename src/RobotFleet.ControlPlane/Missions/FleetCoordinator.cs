using MassTransit;
using Microsoft.Extensions.Logging;
using RobotFleet.ControlPlane.Missions.Lifecycle;
using RobotFleet.Contracts;
using RobotFleet.Maps;
using RobotFleet.Planning;

namespace RobotFleet.ControlPlane.Missions;

/// <summary>
/// Runs missions of every kind on the fleet: queues them, assigns them optimally (<see cref="AssignmentPlanner"/>:
/// least total weighted completion time, priorities, deadlines, capabilities, battery), sends low robots to charge and
/// idle robots to park, builds one VDA order per mission (e.g. <c>pick</c> at the pickup, <c>drop</c> at the dropoff), releases its base only onto waypoints no
/// other robot holds (<see cref="TrafficController"/>) and extends it by order updates as the way
/// clears, and follows progress to Completed or Failed.
/// </summary>
/// <remarks>
/// All entry points serialise on one async lock, and commands leave in the order they were
/// decided, so each robot receives its order updates in sequence. Thread-safe.
/// Releases follow the dead-end branch rule (<see cref="TrafficController"/>): one robot at a time in a dead end, and no
/// waiting on its mouth. Waits are resolved so no robot waits forever: an idle robot in the way is moved aside (one shut in
/// a dead end is sent out anyway, and the idle robots on its way out are moved in turn); a circular wait (Coffman) is
/// broken by a robot giving way in it ceasing to, else by re-routing or moving aside the lowest-priority robot in it, else
/// by moving aside a robot that boxes it in;
/// a robot blocked by a lost robot's hold is re-routed around it, and its mission fails after
/// <see cref="ControlPlaneOptions.LostBlockerTimeout"/> when there is no way round. The hold of a
/// robot that went CONNECTIONBROKEN stays until it is back or an operator removes it.
/// A mission whose robot is lost (not online, or silent for <see cref="ControlPlaneOptions.SilentAfter"/>) goes back to the
/// queue; the robot gets nothing until it reports a valid position again, and is then eligible for it again. A mission whose
/// robot rejects its order goes back to the queue and is not given to that robot again; after
/// <see cref="ControlPlaneOptions.MaxAttempts"/> such robots it fails.
/// Once <see cref="StopDeciding"/> was called (the host is shutting down) robot events and ticks are ignored: the robots going
/// offline with our own shutdown change nothing.
/// Every status change is published as a lifecycle fact (e.g. <see cref="MissionAssigned"/>) once the decision committed; the
/// mission state machine checks and records it and announces <see cref="MissionStatusChanged"/>.
/// </remarks>
public sealed partial class FleetCoordinator(
    ControlPlaneOptions options,
    MissionStore store,
    IBus bus,
    TimeProvider time,
    ILogger<FleetCoordinator> logger,
    IMissionRepository? repository = null,
    IMissionHistoryReader? lifecycle = null,
    Schedules.IRobotLastSeen? lastSeen = null)
{
    private const string DispatcherActor = "dispatcher";
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly RouteGraph _graph = new(options.Map, options.RobotMaxSpeed);
    private readonly DeadEndBranches _branches = DeadEndBranches.Of(options.Map);
    private readonly Dictionary<RobotId, TrackedRobot> _robots = [];
    private readonly Dictionary<string, MissionView> _missions = [];
    private readonly List<object> _outbox = [];
    private readonly Dictionary<string, MissionSpec> _specs = [];
    private readonly OneWayLoopBlocks? _loops = options.OneWayLoops ? Planning.OneWayLoops.Blocks(options.Map) : null;

    /// <summary>The PIBT controller's loop flow weight: 1 on one-way loops (their lanes against the flow are closed), else <see cref="ControlPlaneOptions.LoopFlowWeight"/>, checked here rather than at the first release.</summary>
    private readonly double? _loopFlowWeight = options.OneWayLoops ? 1
        : options.LoopFlowWeight is null or (>= 1 and <= Planning.Traffic.PibtTrafficController.MaxLoopFlowWeight) ? options.LoopFlowWeight
        : throw new ArgumentOutOfRangeException(nameof(options), options.LoopFlowWeight, $"ControlPlaneOptions.LoopFlowWeight must be null (by density) or a factor from 1 to {Planning.Traffic.PibtTrafficController.MaxLoopFlowWeight}.");
    private readonly AssignmentPlanner _planner = new(new TravelTimeTable(options.OneWayLoops ? Planning.OneWayLoops.Orient(options.Map) : options.Map,
        options.RobotMaxSpeed, weightedLaneIds: AgainstFlowLanes(options)), new AssignmentPlannerOptions
    {
        DefaultSpeed = options.RobotMaxSpeed,
        QueueAgeingWeight = options.QueueAgeingWeight is >= 0 and <= AssignmentPlannerOptions.MaxQueueAgeingWeight ? options.QueueAgeingWeight
            : throw new ArgumentOutOfRangeException(nameof(options), options.QueueAgeingWeight, $"ControlPlaneOptions.QueueAgeingWeight must be from 0 to {AssignmentPlannerOptions.MaxQueueAgeingWeight} (seconds of cost per second waited; 0: no ageing)."),
        Battery = new BatteryPolicy(options.RechargeBelowPercent, options.ChargeTargetPercent, options.BatteryReservePercent),
    });
    private long _evadeCounter;

    private volatile bool _stopped;

    /// <summary>
    /// Stops making decisions, for good: from now on robot events (states, connection changes, silence) and ticks are
    /// ignored, so the robots going offline as the host shuts down requeue or fail nothing and nothing is persisted for it.
    /// Called when the application is stopping, before the bus and the simulated robots stop.
    /// </summary>
    public void StopDeciding()
    {
        if (!_stopped)
            logger.LogInformation("Fleet coordinator stops deciding: the host is shutting down");
        _stopped = true;
    }

    /// <summary>True once <see cref="StopDeciding"/> was called.</summary>
    public bool IsStopped => _stopped;

    /// <summary>Each robot's dispatched route (remaining waypoints, released count), for display. Updated after every decision.</summary>
    public RouteBoard Routes { get; } = new();

    /// <summary>
    /// Accepts a mission of any kind after checking it: known locations, waypoints and zone, a route between consecutive
    /// targets, a robot that supports the required actions, a known pinned robot. A rejection names the field and value,
    /// and nothing is stored.
    /// </summary>
    public Task<object> SubmitAsync(SubmitMission command, CancellationToken cancellationToken) => UnderLockAsync<object>(() =>
    {
        if (_missions.ContainsKey(command.MissionId))
            return new MissionRejected(command.MissionId, "id", $"mission '{command.MissionId}' already exists");
        var built = BuildSpec(command);
        if (built is not MissionSpec spec)
            return built;
        var now = time.GetUtcNow();
        var mission = new MissionView(command.MissionId, command.Kind, MissionStatus.Queued, null, command.Pickup, command.Dropoff,
            command.Priority, now, now, null, null,
            [new MissionTransition(now, MissionStatus.Queued, command.RequestedBy, "submitted") { Fact = MissionFactKind.Submitted, Priority = command.Priority, Robot = command.Robot }])
        {
            Waypoints = spec.Targets.Select(t => t.WaypointId).ToList(),
            PinnedRobot = command.Robot,
            Deadline = command.Deadline,
        };
        _specs[mission.Id] = spec;
        _submissions[mission.Id] = command;
        Save(mission);
        _outbox.Add(FactOf(mission.Id, mission.History, 1));
        Process();
        return new MissionAccepted(command.MissionId);
    }, cancellationToken);

    /// <summary>Changes the priority of a mission that no robot has yet (Queued); recorded in its history. The queue is re-planned at once.</summary>
    /// <returns>Done, unknown mission, or not queued (already dispatched or final).</returns>
    /// <exception cref="ArgumentOutOfRangeException">The priority is outside 0..3.</exception>
    public Task<ReprioritiseOutcome> ReprioritiseAsync(ReprioritiseMission command, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(command.Priority, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(command.Priority, 3);
        return UnderLockAsync(() =>
        {
            if (!_missions.TryGetValue(command.MissionId, out var mission))
                return ReprioritiseOutcome.UnknownMission;
            if (mission.Status != MissionStatus.Queued)
                return ReprioritiseOutcome.NotQueued;
            var old = mission.Priority;
            Save(mission with { Priority = command.Priority });
            Transition(_missions[mission.Id], MissionStatus.Queued, command.RequestedBy, $"priority {old} -> {command.Priority}",
                fact: MissionFactKind.Reprioritised, priority: command.Priority);
            Process();
            return ReprioritiseOutcome.Done;
        }, cancellationToken);
    }

    /// <summary>
    /// Takes in a watchdog's word that a robot fell silent: unless a state arrived since (a second of slack for the bus),
    /// the robot is treated as silent at once (see <see cref="ControlPlaneOptions.SilentAfter"/>; the coordinator also detects it itself).
    /// </summary>
    public Task OnRobotSilentAsync(RobotSilent silent, CancellationToken cancellationToken) => DecideAsync(() =>
    {
        if (_robots.TryGetValue(silent.Robot, out var robot) && robot.IsOnline && !robot.Silent && robot.LastStateAt <= silent.LastStateAt + TimeSpan.FromSeconds(1))
        {
            robot.Silent = true;
            logger.LogWarning("Robot {Robot} is silent (watchdog): no state for {Seconds:F0} s", robot.Id, silent.Silence.TotalSeconds);
            Process();
        }

        return true;
    }, cancellationToken);

    /// <summary>Takes in a robot's factsheet: the actions it supports and its load capacity, for capability checks.</summary>
    public Task OnFactsheetAsync(RobotFactsheetReceived factsheet, CancellationToken cancellationToken) => DecideAsync(() =>
    {
        var robot = Track(factsheet.Robot);
        robot.SupportedActions = factsheet.SupportedActions.ToHashSet(StringComparer.Ordinal);
        robot.MaxLoad = factsheet.MaxLoad;
        Process();
        return true;
    }, cancellationToken);

    /// <summary>Cancels a mission: at once when not running, by VDA cancelOrder when running. False when unknown or already final.</summary>
    public Task<bool> CancelAsync(CancelMission command, CancellationToken cancellationToken) => UnderLockAsync(() =>
    {
        if (!_missions.TryGetValue(command.MissionId, out var mission) || mission.IsFinal)
            return false;
        var robot = _robots.Values.FirstOrDefault(r => r.Plan?.MissionId == command.MissionId);
        if (robot is not null)
            StopOrder(robot);

        Transition(mission, MissionStatus.Cancelled, command.RequestedBy, "cancelled by operator");
        Process();
        return true;
    }, cancellationToken);

    /// <summary>Takes in a robot's significant state change.</summary>
    public Task OnStateChangedAsync(RobotStateChanged state, CancellationToken cancellationToken) => DecideAsync(() =>
    {
        var robot = Track(state.Robot);
        ObserveEnergy(robot, state);
        robot.State = state;
        robot.LastStateAt = time.GetUtcNow();
        robot.BusDelayLogged = false;
        if (robot.Restored)
            Reconcile(robot, state);
        if (robot.Silent && robot.WaypointId is { } at && options.Map.Waypoints.ContainsKey(at))
        {
            robot.Silent = false;
            logger.LogInformation("Robot {Robot} reports again, at '{Waypoint}'", robot.Id, at);
        }

        robot.AwaitsFreshState = false;
        if (robot.EndingOrder is { } ending && (state.OrderId != ending
            || (robot.EndingCancelId is { } cancel && state.Actions.Any(a => a.ActionId == cancel && a.Status is RobotActionStatus.Finished or RobotActionStatus.Failed))))
            robot.EndingOrder = null;
        if (robot.Connection is RobotConnectionState.Unknown)
            robot.Connection = RobotConnectionState.Online;
        FollowProgress(robot);
        Process();
        return true;
    }, cancellationToken);

    /// <summary>Takes in a robot's connection change.</summary>
    public Task OnConnectionChangedAsync(RobotConnectionChanged change, CancellationToken cancellationToken) => DecideAsync(() =>
    {
        var robot = Track(change.Robot);
        robot.Connection = change.State;
        if (change.State != RobotConnectionState.Online)
        {
            // Its last state stays (it holds its waypoint), but it gets no work until it reports afresh.
            robot.AwaitsFreshState = true;
            robot.EndingOrder = null; // it may come back without that order; a new refusal would send another cancel
            logger.LogWarning("Robot {Robot} is {State}; its waypoint stays held until it is back or removed", change.Robot, change.State);
        }
        Process();
        return true;
    }, cancellationToken);

    /// <summary>
    /// Forgets a robot on an operator's word: its holds go, and a mission it was running fails.
    /// False when the robot is unknown.
    /// </summary>
    public Task<bool> RemoveRobotAsync(RobotId robotId, string actor, CancellationToken cancellationToken) => UnderLockAsync(() =>
    {
        if (!_robots.Remove(robotId, out var robot))
            return false;
        // PIBT's holds go too (regression: the removed robot kept holding its waypoint in the controller, and the next tick
        // failed looking up the robot in the way).
        if (_pibtPlaced.Remove(robot.Key))
            _pibt?.Remove(robot.Key);
        if (robot.Plan?.MissionId is { } missionId && _missions.TryGetValue(missionId, out var mission))
            Transition(mission, MissionStatus.Failed, actor, $"robot {robotId} removed by operator");
        Process();
        return true;
    }, cancellationToken);

    /// <summary>Re-checks traffic and dispatch; called periodically.</summary>
    public Task TickAsync(CancellationToken cancellationToken) => DecideAsync(() =>
    {
        Process();
        return true;
    }, cancellationToken);

    private MissionRejected? ValidateLocation(string missionId, string field, string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
            return new MissionRejected(missionId, field, $"{field} is required");
        return options.Map.FindLocation(name) is null
            ? new MissionRejected(missionId, field, $"unknown {field} location '{name}'; known locations: {string.Join(", ", options.Map.Locations.Keys.Order(StringComparer.Ordinal))}")
            : null;
    }

    /// <summary>Runs a robot event or a tick under the lock, unless <see cref="StopDeciding"/> was called (checked again under the lock).</summary>
    private Task DecideAsync(Func<bool> action, CancellationToken cancellationToken) =>
        _stopped ? Task.CompletedTask : UnderLockAsync(() => _stopped || action(), cancellationToken);

    private async Task<T> UnderLockAsync<T>(Func<T> action, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (!_restored)
                Restore();
            var result = action();
            // Write-through: the decision's state changes commit before any command they caused is published.
            await PersistAsync();
            PublishRoutes();
            foreach (var message in _outbox)
            {
                await PublishUntilTakenAsync(message);
                if (message is IMissionLifecycleFact fact)
                    ExpectLifecycleFacts(fact.MissionId);
            }
            return result;
        }
        finally
        {
            _outbox.Clear();
            _gate.Release();
        }
    }

    /// <summary>How long one attempt to publish a decision's message may take before it is tried again: 10 s.</summary>
    private static readonly TimeSpan PublishAttemptTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Publishes a message the committed decision caused, again and again (backing off up to 5 s) until the bus takes it: the
    /// decision is already stored, so a command or lifecycle fact dropped on a broken connection (RabbitMQ restarting) would
    /// leave a robot without its order or the mission's history without a step. Holds the lock meanwhile: nothing can be
    /// decided without the bus anyway. Each attempt gets 10 s (one caught on a broken connection may otherwise never return),
    /// after which it is left behind even where it ignores its cancellation: after a broker restart RabbitMQ.Client 7.2.2 can
    /// leave a publish waiting forever, token or not (rabbitmq/rabbitmq-dotnet-client#1930), and this lock would be held with it.
    /// Gives up (throws) once <see cref="StopDeciding"/> was called. A retried message may arrive twice (also one left behind
    /// that completes after all); its consumers tolerate that.
    /// </summary>
    private async Task PublishUntilTakenAsync(object message)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // A publish caught on a connection that broke can wait forever: give each attempt 10 s.
                using var timeout = new CancellationTokenSource(PublishAttemptTimeout);
                await bus.Publish(message, message.GetType(), timeout.Token).WaitAsync(PublishAttemptTimeout + TimeSpan.FromSeconds(1));
                if (attempt > 1)
                    logger.LogInformation("Published {Message} after {Attempts} attempts", message.GetType().Name, attempt);
                return;
            }
            catch (Exception e) when (!_stopped)
            {
                if (attempt == 1)
                    logger.LogWarning("Publishing {Message} failed ({Error}); retrying until the bus takes it", message.GetType().Name, e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 250 * attempt)));
            }
        }
    }

    /// <summary>Refreshes <see cref="Routes"/> from the plans (only robots whose plan progressed get a new view).</summary>
    private void PublishRoutes()
    {
        foreach (var robot in _robots.Values)
        {
            var plan = robot.Plan is { UpdateId: >= 0 } p ? p : null;
            var current = Routes.Find(robot.Id);
            if (plan is null)
            {
                if (current is not null)
                    Routes.Set(robot.Id, null);
                continue;
            }

            var released = Math.Max(1, plan.ReleasedThrough - plan.ReachedIndex + 1);
            var remaining = plan.Steps.Count - plan.ReachedIndex;
            var acting = ActsAtReachedStep(robot, plan);
            if (current is not null && current.OrderId == plan.OrderId && current.ReleasedCount == released && current.Acting == acting
                && current.WaypointIds.Count == remaining
                && Enumerable.Range(0, remaining).All(i => current.WaypointIds[i] == plan.Steps[plan.ReachedIndex + i].WaypointId))
                continue;
            Routes.Set(robot.Id, new RouteView(robot.Id, plan.OrderId, plan.MissionId, plan.RemainingWaypoints, released, acting));
        }

        Routes.RemoveAllExcept(_robots.Keys.ToHashSet());
    }

    private TrackedRobot Track(RobotId id)
    {
        if (!_robots.TryGetValue(id, out var robot))
            _robots[id] = robot = new TrackedRobot(id) { LastStateAt = time.GetUtcNow() };
        return robot;
    }

    private void Save(MissionView mission)
    {
        _missions[mission.Id] = mission;
        _changedMissions.Add(mission.Id);
        store.Save(mission);
    }

    /// <summary>A robot as the coordinator knows it. Not thread-safe: guarded by the coordinator's lock.</summary>
    private sealed class TrackedRobot(RobotId id)
    {
        public RobotId Id { get; } = id;

        public string Key { get; } = id.ToString();

        public RobotConnectionState Connection { get; set; }

        public RobotStateChanged? State { get; set; }

        /// <summary>True after a connection loss until the robot's next state: its old state may be stale (it may have restarted elsewhere).</summary>
        public bool AwaitsFreshState { get; set; }

        public bool IsOnline => Connection == RobotConnectionState.Online;

        /// <summary>Online but no state for longer than <see cref="ControlPlaneOptions.SilentAfter"/>, and no valid position since.</summary>
        public bool Silent { get; set; }

        /// <summary>The mission an operator paused this robot for (VDA startPause); null when not paused by us.</summary>
        public string? PausedFor { get; set; }

        /// <summary>Not online, silent, or restored and not yet heard from: gets nothing released and no mission.</summary>
        public bool IsLost => !IsOnline || Silent || Restored;

        /// <summary>
        /// Loaded with its plan after a control-plane restart and no state from it yet: gets nothing released until its
        /// first state shows what it still runs (see <c>Reconcile</c>).
        /// </summary>
        public bool Restored { get; set; }

        public DateTimeOffset LastStateAt { get; set; }

        /// <summary>True once <see cref="DetectSilence"/> logged that this robot's states are held up on the bus; reset by its next state.</summary>
        public bool BusDelayLogged { get; set; }

        /// <summary>Action types from the factsheet; null before one arrived.</summary>
        public IReadOnlySet<string>? SupportedActions { get; set; }

        public double MaxLoad { get; set; }

        private readonly Queue<string> _ordersSent = new();
        private RobotPlan? _plan;

        /// <summary>
        /// An order the robot still ran when it refused a new one (VDA orderError): it gets no work until it no longer runs
        /// it, its cancel (<see cref="EndingCancelId"/>) is reported done, or, for an order not sent here, until
        /// <see cref="ControlPlaneOptions.SilentAfter"/> has passed since <see cref="EndingSince"/>. Null otherwise.
        /// </summary>
        public string? EndingOrder { get; set; }

        /// <summary>The cancelOrder sent to end <see cref="EndingOrder"/> (one sent here and taken for done); null for an order not sent here.</summary>
        public string? EndingCancelId { get; set; }

        /// <summary>When the robot refused a new order over <see cref="EndingOrder"/>.</summary>
        public DateTimeOffset EndingSince { get; set; }

        /// <summary>The robot's plan; every plan given to it is remembered as an order sent here (the last few).</summary>
        public RobotPlan? Plan
        {
            get => _plan;
            set
            {
                _plan = value;
                if (value is null || _ordersSent.Contains(value.OrderId))
                    return;
                _ordersSent.Enqueue(value.OrderId);
                if (_ordersSent.Count > 8)
                    _ordersSent.Dequeue();
            }
        }

        /// <summary>Whether <paramref name="orderId"/> is one of the last orders planned here for this robot.</summary>
        public bool WasSent(string orderId) => _ordersSent.Contains(orderId);

        /// <summary>Charger waypoint where a finished charge plan left the robot charging; it charges while it stays there.</summary>
        public string? ChargingAt { get; set; }

        /// <summary>Since when it has been available without a plan; null while not.</summary>
        public DateTimeOffset? IdleSince { get; set; }

        public bool HasFatalError => State?.Errors.Any(e => e.Level == "FATAL") ?? false;

        public string? WaypointId => State?.LastNodeId is { Length: > 0 } node ? node : null;
    }
}

/// <summary>Outcome of <see cref="FleetCoordinator.ReprioritiseAsync"/>.</summary>
public enum ReprioritiseOutcome
{
    /// <summary>Priority changed.</summary>
    Done,

    /// <summary>No such mission.</summary>
    UnknownMission,

    /// <summary>The mission is not queued (a robot has it, or it is final).</summary>
    NotQueued,
}
