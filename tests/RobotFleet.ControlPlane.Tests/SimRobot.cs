using RobotFleet.Contracts;
using RobotFleet.Gateway;
using RobotFleet.Vda5050;

namespace RobotFleet.ControlPlane.Tests;

/// <summary>
/// A VDA-5050-like robot for tests: takes orders and updates (checking them with
/// <see cref="OrderValidator"/>), drives one released waypoint per step, finishes the actions at a
/// waypoint in one step, and honours cancelOrder.
/// </summary>
internal sealed class SimRobot(Fleet fleet, RobotId id, string waypoint)
{
    private readonly List<RouteWaypoint> _nodes = [];
    private readonly Dictionary<long, IReadOnlyList<RobotAction>> _laneActions = []; // edge actions, by the lane's sequence id
    private readonly Dictionary<string, RobotActionProgress> _actions = [];
    private readonly HashSet<string> _orders = [];
    private int _routesSeen;
    private int _instantSeen;

    public RobotId Id { get; } = id;

    public bool Online { get; set; } = true;

    /// <summary>While set, orders and updates published for it never arrive (as when the control plane dies between commit and publish).</summary>
    public bool LoseRoutes { get; set; }

    /// <summary>Update ids (0: an order itself) whose next message published for it never arrives (lost on the way), once each.</summary>
    public HashSet<long> LoseUpdates { get; } = [];

    /// <summary>Update ids whose next message published for it arrives only at <see cref="DeliverDelayed"/> (late), once each.</summary>
    public HashSet<long> DelayUpdates { get; } = [];

    private readonly List<DispatchRoute> _delayed = [];

    /// <summary>
    /// When set, an update that is not newer than the one it runs, or not stitched at its last base node, is refused with
    /// VDA <c>orderUpdateError</c> naming its update id, as the edge agent does, instead of failing the test; taking an order
    /// or update clears its errors, as the edge agent's do.
    /// </summary>
    public bool RefuseUnfitUpdates { get; set; }

    /// <summary>When set, every update of the order it runs is refused with VDA <c>orderUpdateError</c> naming its update id.</summary>
    public bool RefuseUpdates { get; set; }

    /// <summary>Connected and executing, but sending no state (see the coordinator's silence detection).</summary>
    public bool Silent { get; set; }

    /// <summary>Reported as paused (not available for missions).</summary>
    public bool Paused { get; set; }

    /// <summary>State of charge, percent.</summary>
    public double Battery { get; set; } = 90;

    /// <summary>Battery used per metre driven, percent points (0: the battery stays as set).</summary>
    public double DrainPerMetre { get; set; }

    /// <summary>When it last reported (fleet clock).</summary>
    public DateTimeOffset LastReport { get; private set; }

    /// <summary>When set, every order it gets is rejected with this VDA error type.</summary>
    public string? RejectWith { get; set; }

    public string LastNodeId { get; private set; } = waypoint;

    public long LastNodeSequenceId { get; private set; }

    public string OrderId { get; private set; } = "";

    public long UpdateId { get; private set; }

    public List<RobotErrorInfo> Errors { get; } = [];

    /// <summary>Every waypoint this robot passed through, in order.</summary>
    public List<string> Trail { get; } = [waypoint];

    /// <summary>True when something changed since the last report.</summary>
    public bool Dirty { get; private set; }

    public IReadOnlyList<string> PendingWaypointIds => _nodes.Where(n => n.SequenceId > LastNodeSequenceId).Select(n => n.WaypointId).ToList();

    /// <summary>Its current waypoint and the released waypoints still ahead.</summary>
    public IReadOnlySet<string> HeldWaypoints =>
        _nodes.Where(n => n.Released && n.SequenceId > LastNodeSequenceId).Select(n => n.WaypointId).Append(LastNodeId).ToHashSet();

    public IReadOnlyDictionary<string, RobotActionProgress> Actions => _actions;

    /// <summary>Takes in the orders and instant actions published for it since last time.</summary>
    public void Ingest()
    {
        var routes = fleet.Routes(this);
        for (; _routesSeen < routes.Count; _routesSeen++)
        {
            var route = routes[_routesSeen];
            if (LoseRoutes || LoseUpdates.Remove(route.OrderUpdateId))
                continue;
            if (DelayUpdates.Remove(route.OrderUpdateId))
                _delayed.Add(route);
            else
                Apply(route);
        }
        var instant = fleet.InstantActions(this);
        for (; _instantSeen < instant.Count; _instantSeen++)
        {
            foreach (var action in instant[_instantSeen].Actions.Where(a => a.ActionType == "cancelOrder"))
                Cancel(action);
        }
    }

    /// <summary>Finishes the waiting actions at the current waypoint, else drives to the next released waypoint.</summary>
    public bool Step()
    {
        var here = _nodes.FirstOrDefault(n => n.SequenceId == LastNodeSequenceId && n.WaypointId == LastNodeId);
        var waiting = here?.Actions.Where(a => _actions[a.ActionId].Status == RobotActionStatus.Waiting).ToList() ?? [];
        if (waiting.Count > 0)
        {
            foreach (var action in waiting)
                Executed.Add(action.ActionId);
            foreach (var action in waiting)
                _actions[action.ActionId] = _actions[action.ActionId] with { Status = RobotActionStatus.Finished, ResultDescription = "done" };
            Dirty = true;
            return true;
        }

        var next = _nodes.Where(n => n.SequenceId > LastNodeSequenceId).OrderBy(n => n.SequenceId).FirstOrDefault();
        if (next is not { Released: true })
            return false;
        // Edge actions run as it enters the lane, before it drives on (VDA 5050 HARD).
        var onLane = _laneActions.GetValueOrDefault(next.SequenceId - 1)?.Where(a => _actions[a.ActionId].Status == RobotActionStatus.Waiting).ToList() ?? [];
        if (onLane.Count > 0)
        {
            foreach (var action in onLane)
            {
                Executed.Add(action.ActionId);
                _actions[action.ActionId] = _actions[action.ActionId] with { Status = RobotActionStatus.Finished, ResultDescription = "done" };
            }

            Dirty = true;
            return true;
        }

        var (from, to) = (fleet.Map.Waypoints[LastNodeId], fleet.Map.Waypoints[next.WaypointId]);
        Battery -= DrainPerMetre * Math.Sqrt(((to.X - from.X) * (to.X - from.X)) + ((to.Y - from.Y) * (to.Y - from.Y)));
        LastNodeId = next.WaypointId;
        LastNodeSequenceId = next.SequenceId;
        Trail.Add(next.WaypointId);
        Dirty = true;
        return true;
    }

    /// <summary>Ids of the actions it executed (finished), in order; an action executed twice shows twice.</summary>
    public List<string> Executed { get; } = [];

    /// <summary>Takes in the messages held back by <see cref="DelayUpdates"/>, in the order they were published.</summary>
    public void DeliverDelayed()
    {
        foreach (var route in _delayed)
            Apply(route);
        _delayed.Clear();
    }

    /// <summary>Takes an order that did not come from the coordinator (another master control, a service tool).</summary>
    public void AcceptForeign(DispatchRoute route) => Apply(route);

    /// <summary>As after a reboot: no order, no actions, standing where it is.</summary>
    public void Reboot()
    {
        _nodes.Clear();
        _laneActions.Clear();
        _actions.Clear();
        OrderId = "";
        UpdateId = 0;
        LastNodeSequenceId = 0;
        Dirty = true;
    }

    /// <summary>How far the robot's own clock (its states' timestamps) runs ahead of the control plane's (negative: behind).</summary>
    public TimeSpan ClockSkew { get; set; }

    public RobotStateChanged State()
    {
        var at = fleet.Map.Waypoints[LastNodeId];
        return new RobotStateChanged(Id, fleet.Time.Now + ClockSkew, OrderId, UpdateId, LastNodeId, LastNodeSequenceId, false, Paused,
            PendingWaypointIds, _actions.Values.ToList(), Errors.ToList(), new(at.X, at.Y, 0, at.LevelId), Battery, ReceivedAt: fleet.Time.Now);
    }

    public async Task ReportAsync()
    {
        if (Silent)
            return;
        Dirty = false;
        LastReport = fleet.Time.Now;
        await fleet.Coordinator.OnStateChangedAsync(State(), CancellationToken.None);
        fleet.AfterCoordinatorCall();
    }

    private void Apply(DispatchRoute route)
    {
        if (RejectWith is { } error)
        {
            Errors.Add(new RobotErrorInfo(error, "WARNING", "rejected by test", route.OrderId));
            Dirty = true;
            return;
        }

        var order = OrderMapper.ToOrder(route, 1, fleet.Time.Now);
        Assert.Empty(OrderValidator.Validate(order));
        if (route.OrderId == OrderId)
        {
            if (RefuseUpdates)
            {
                Errors.Add(new RobotErrorInfo("orderUpdateError", "WARNING", "refused by test", route.OrderId, route.OrderUpdateId));
                Refused.Add(route.OrderUpdateId);
                Dirty = true;
                return;
            }

            var lastBase = _nodes.Last(n => n.Released);
            var unfit = OrderValidator.ValidateUpdate(order, UpdateId, lastBase.WaypointId, lastBase.SequenceId);
            if (RefuseUnfitUpdates && unfit.Count > 0)
            {
                Errors.Add(new RobotErrorInfo("orderUpdateError", "WARNING", unfit[0].Message, route.OrderId, route.OrderUpdateId));
                Refused.Add(route.OrderUpdateId);
                Dirty = true;
                return;
            }

            Assert.True(route.OrderUpdateId > UpdateId, $"{Id} got update {route.OrderUpdateId} of order {OrderId} after update {UpdateId}");
            Assert.Empty(unfit);
            _nodes.RemoveAll(n => n.SequenceId >= route.Waypoints[0].SequenceId);
            foreach (var replaced in _laneActions.Keys.Where(k => k > route.Waypoints[0].SequenceId).ToList())
                _laneActions.Remove(replaced);
        }
        else
        {
            Assert.True(PendingWaypointIds.Count == 0, $"{Id} got order {route.OrderId} while order {OrderId} still has pending waypoints");
            if (_nodes.SelectMany(n => n.Actions).Concat(_laneActions.Values.SelectMany(a => a)).Any(a => _actions[a.ActionId].Status is RobotActionStatus.Waiting or RobotActionStatus.Running))
            {
                // VDA 5050: an order is finished only once all its actions are; a new order before that is refused (as the edge agent does).
                Errors.Add(new RobotErrorInfo("orderError", "WARNING", $"order '{route.OrderId}' rejected: still executing order '{OrderId}'; cancel it first", route.OrderId));
                Dirty = true;
                return;
            }

            Assert.Equal(LastNodeId, route.Waypoints[0].WaypointId);
            Assert.True(_orders.Add(route.OrderId), $"{Id} got order {route.OrderId} a second time");
            _nodes.Clear();
            _laneActions.Clear();
            _actions.Clear();
            LastNodeSequenceId = route.Waypoints[0].SequenceId;
        }

        _nodes.AddRange(route.Waypoints);
        foreach (var lane in route.Lanes.Where(l => l.Actions is { Count: > 0 }))
            _laneActions[lane.SequenceId] = lane.Actions!;
        foreach (var action in route.Waypoints.SelectMany(w => w.Actions).Concat(route.Lanes.SelectMany(l => l.Actions ?? [])))
            _actions.TryAdd(action.ActionId, new RobotActionProgress(action.ActionId, action.ActionType, RobotActionStatus.Waiting, null));
        OrderId = route.OrderId;
        UpdateId = route.OrderUpdateId;
        if (RefuseUnfitUpdates)
            Errors.Clear();
        Dirty = true;
    }

    /// <summary>Update ids it refused (<see cref="RefuseUpdates"/>, <see cref="RefuseUnfitUpdates"/>), in order.</summary>
    public List<long> Refused { get; } = [];

    private void Cancel(RobotAction cancel)
    {
        _nodes.RemoveAll(n => n.SequenceId > LastNodeSequenceId);
        foreach (var dropped in _laneActions.Keys.Where(k => k > LastNodeSequenceId).ToList())
            _laneActions.Remove(dropped);
        foreach (var (key, progress) in _actions.Where(a => a.Value.Status == RobotActionStatus.Waiting).ToList())
            _actions[key] = progress with { Status = RobotActionStatus.Failed, ResultDescription = "cancelled" };
        _actions[cancel.ActionId] = new RobotActionProgress(cancel.ActionId, cancel.ActionType, RobotActionStatus.Finished, null);
        Dirty = true;
    }
}
