using RobotFleet.Contracts;
using RobotFleet.Maps;

namespace RobotFleet.TrafficSim;

/// <summary>
/// A VDA-5050-like robot in simulated time: takes orders and order updates (stitched at the last base node) and
/// cancelOrder, drives along its released waypoints at a set speed (continuous position, interpolated on the lane),
/// never past the last released one, and runs the actions at a waypoint one after the other, each for a set time,
/// before it drives on. Messages arrive through <see cref="Inbox"/>; nothing here touches the bus.
/// </summary>
internal sealed class SimulatedRobot
{
    /// <summary>The control plane's door action, put on the waypoint before a lane through a door; it takes <see cref="ControllerSimulation.DoorOpeningSeconds"/>.</summary>
    private const string OpenDoorAction = "openDoor";

    private readonly SiteMap _map;
    private readonly double _speed;
    private readonly double _actionSeconds;
    private readonly double _timeScale;
    private readonly List<RouteWaypoint> _nodes = [];
    private readonly Dictionary<long, IReadOnlyList<RobotAction>> _laneActions = []; // by the lane's sequence id
    private readonly Dictionary<string, RobotActionProgress> _actions = [];
    private readonly List<RobotErrorInfo> _errors = [];
    private RouteWaypoint? _target;
    private double _segmentLength;
    private double _travelled;
    private bool _riding;
    private string? _runningAction;
    private double _actionLeft;
    private string? _pendingCancel;
    private readonly Func<string, string, double> _travelTime;
    private string? _destination;
    private double _bestTime = double.PositiveInfinity;

    /// <param name="travelTime">Fastest travel time in seconds from one waypoint id to another (for what counts as progress).</param>
    /// <param name="timeScale">Door openings and lift rides take their time divided by this (as the edge agent's simulated robots at <c>--time-scale</c>); speed and action seconds come scaled already.</param>
    public SimulatedRobot(RobotId id, SiteMap map, Waypoint start, double speed, double actionSeconds, DateTimeOffset now, Func<string, string, double> travelTime, double timeScale = 1)
    {
        _timeScale = timeScale;
        _travelTime = travelTime;
        Id = id;
        _map = map;
        _speed = speed;
        _actionSeconds = actionSeconds;
        At = start;
        X = start.X;
        Y = start.Y;
        LastProgress = now;
        LastMoved = now;
    }

    public RobotId Id { get; }

    /// <summary>Commands published for this robot, in publish order, not yet taken in.</summary>
    public Queue<object> Inbox { get; } = new();

    /// <summary>The waypoint it last reached.</summary>
    public Waypoint At { get; private set; }

    public long LastSequenceId { get; private set; }

    public string OrderId { get; private set; } = "";

    public long UpdateId { get; private set; }

    /// <summary>Position in site metres (interpolated while driving).</summary>
    public double X { get; private set; }

    /// <inheritdoc cref="X"/>
    public double Y { get; private set; }

    /// <summary>Something changed that the robot reports (node reached, action status, order, error).</summary>
    public bool Dirty { get; private set; } = true;

    public DateTimeOffset LastReport { get; set; }

    /// <summary>
    /// Last time it made progress: came nearer the next node of its order with an action (else its last node) than ever
    /// before (driving on a lane to, or reaching, a waypoint with a lower travel time to it than any reached so far),
    /// finished an action, or took a new order or a new node to head for. Driving back and forth without getting nearer
    /// (pushed aside and back) is no progress.
    /// </summary>
    public DateTimeOffset LastProgress { get; private set; }

    /// <summary>Last time it reached a waypoint, drove, finished an action or took a new order (nearer or not).</summary>
    public DateTimeOffset LastMoved { get; private set; }

    /// <summary>Metres driven.</summary>
    public double Odometer { get; private set; }

    /// <summary>Commands it could not follow (a new order not starting where it stands, one over an unfinished order); each refused with an error.</summary>
    public int Refusals { get; private set; }

    /// <summary>Has an order with waypoints still ahead or actions not finished.</summary>
    public bool Busy =>
        _target is not null || _runningAction is not null || _nodes.Any(n => n.SequenceId > LastSequenceId)
        || _actions.Values.Any(a => a.Status is RobotActionStatus.Waiting or RobotActionStatus.Running);

    /// <summary>The waypoint it last reached and the released waypoints ahead of it (what traffic control gave it).</summary>
    public IEnumerable<string> HeldWaypoints =>
        _nodes.Where(n => n.Released && n.SequenceId > LastSequenceId).Select(n => n.WaypointId).Prepend(At.Id).Distinct();

    /// <summary>The next waypoint of its order (the one it drives to, or the first one ahead), or null.</summary>
    public string? NextWaypoint => (_target ?? NextNode())?.WaypointId;

    /// <summary>The waypoints ahead of it (the one it drives to first), in order, and how many of them are released.</summary>
    public (IReadOnlyList<string> Ahead, int Released) Route()
    {
        var ahead = _nodes.Where(n => n.SequenceId > LastSequenceId).OrderBy(n => n.SequenceId).ToList();
        return (ahead.Select(n => n.WaypointId).ToList(), ahead.TakeWhile(n => n.Released).Count());
    }

    /// <summary>The waypoint it drives to, or null while standing.</summary>
    public string? Target => _target?.WaypointId;

    /// <summary>Whether <see cref="NextWaypoint"/> is released.</summary>
    public bool NextReleased => (_target ?? NextNode())?.Released ?? false;

    /// <summary>Takes in the commands waiting in <see cref="Inbox"/>, then drives and works for <paramref name="seconds"/>.</summary>
    public void Step(double seconds, DateTimeOffset now)
    {
        while (Inbox.TryDequeue(out var message))
        {
            switch (message)
            {
                case DispatchRoute route:
                    Apply(route, now);
                    break;
                case TriggerInstantActions instant:
                    foreach (var action in instant.Actions.Where(a => a.ActionType == "cancelOrder"))
                        Cancel(action);
                    break;
            }
        }

        var budget = seconds;
        while (budget > 1e-12)
        {
            if (_runningAction is { } running)
            {
                _actionLeft -= budget;
                if (_actionLeft > 0)
                    break;
                budget = -_actionLeft;
                Finish(running, RobotActionStatus.Finished, "done", now);
                continue;
            }

            if (_target is null)
            {
                if (_pendingCancel is { } cancel)
                {
                    Finish(cancel, RobotActionStatus.Finished, null, now);
                    _pendingCancel = null;
                }

                var here = _nodes.FirstOrDefault(n => n.SequenceId == LastSequenceId && n.WaypointId == At.Id);
                if (here?.Actions.FirstOrDefault(a => _actions.TryGetValue(a.ActionId, out var p) && p.Status == RobotActionStatus.Waiting) is { } next)
                {
                    _runningAction = next.ActionId;
                    _actionLeft = next.ActionType == OpenDoorAction ? ControllerSimulation.DoorOpeningSeconds / _timeScale : _actionSeconds;
                    _actions[next.ActionId] = _actions[next.ActionId] with { Status = RobotActionStatus.Running };
                    Dirty = true;
                    continue;
                }

                var ahead = NextNode();
                if (ahead is not { Released: true })
                    break;
                // Edge actions run as the robot enters the lane, before it drives (VDA 5050; the orders' are HARD).
                if (_laneActions.GetValueOrDefault(ahead.SequenceId - 1)?.FirstOrDefault(a => _actions.TryGetValue(a.ActionId, out var p) && p.Status == RobotActionStatus.Waiting) is { } onLane)
                {
                    _runningAction = onLane.ActionId;
                    _actionLeft = onLane.ActionType == OpenDoorAction ? ControllerSimulation.DoorOpeningSeconds / _timeScale : _actionSeconds;
                    _actions[onLane.ActionId] = _actions[onLane.ActionId] with { Status = RobotActionStatus.Running };
                    Dirty = true;
                    continue;
                }

                _target = ahead;
                // A lift ride takes its ride seconds, in the cabin (at the stop it left): it does not cross the floor plan.
                var lane = _map.FindLane(At.Id, ahead.WaypointId);
                _riding = lane is { LiftId: not null };
                _segmentLength = _riding ? (lane!.RideSeconds ?? 0) / _timeScale * _speed : Distance(At, _map.Waypoints[ahead.WaypointId]);
                _travelled = 0;
            }

            var remaining = _segmentLength - _travelled;
            var reach = _speed * budget;
            LastMoved = now;
            NoteProgress(_target.WaypointId, reached: false, now); // driving nearer is progress (a lane may take minutes)
            if (reach < remaining)
            {
                _travelled += reach;
                Odometer += _riding ? 0 : reach;
                break;
            }

            budget -= remaining / _speed;
            Odometer += _riding ? 0 : remaining;
            At = _map.Waypoints[_target.WaypointId];
            LastSequenceId = _target.SequenceId;
            _target = null;
            LastMoved = now;
            NoteProgress(At.Id, reached: true, now);
            Dirty = true;
        }

        UpdatePosition();
    }

    /// <summary>Its state as the gateway would report it.</summary>
    public RobotStateChanged State(DateTimeOffset now)
    {
        Dirty = false;
        LastReport = now;
        return new RobotStateChanged(Id, now, OrderId, UpdateId, At.Id, LastSequenceId, _target is not null, false,
            _nodes.Where(n => n.SequenceId > LastSequenceId).Select(n => n.WaypointId).ToList(),
            _actions.Values.ToList(), _errors.ToList(), new RobotPosition(X, Y, 0, At.LevelId), 100);
    }

    private RouteWaypoint? NextNode()
    {
        RouteWaypoint? next = null;
        foreach (var node in _nodes)
        {
            if (node.SequenceId > LastSequenceId && (next is null || node.SequenceId < next.SequenceId))
                next = node;
        }

        return next;
    }

    private void DropWaiting(IEnumerable<RobotAction> actions)
    {
        foreach (var action in actions)
        {
            if (_actions.TryGetValue(action.ActionId, out var progress) && progress.Status == RobotActionStatus.Waiting)
                _actions.Remove(action.ActionId);
        }
    }

    private void Apply(DispatchRoute route, DateTimeOffset now)
    {
        if (route.Waypoints.Count == 0)
            return;
        if (route.OrderId == OrderId)
        {
            if (route.OrderUpdateId <= UpdateId)
                return; // the same update twice is ignored (VDA 5050)
            // The update replaces what lies past its first waypoint (VDA 5050 §6.6.1): the actions there that have not started
            // go with it (else a door on a way given up would wait for good, and the robot count as still busy).
            var from = route.Waypoints[0].SequenceId;
            foreach (var node in _nodes.Where(n => n.SequenceId > from))
                DropWaiting(node.Actions);
            _nodes.RemoveAll(n => n.SequenceId >= from);
            foreach (var replaced in _laneActions.Keys.Where(k => k > from).ToList())
            {
                DropWaiting(_laneActions[replaced]);
                _laneActions.Remove(replaced);
            }
        }
        else
        {
            if (Busy || route.Waypoints[0].WaypointId != At.Id)
            {
                Refusals++;
                var why = Busy ? $"still executing order '{OrderId}'" : $"it starts at '{route.Waypoints[0].WaypointId}', the robot stands at '{At.Id}'";
                _errors.Add(new RobotErrorInfo("orderError", "WARNING", $"order '{route.OrderId}' rejected: {why}", route.OrderId));
                Dirty = true;
                return;
            }

            _nodes.Clear();
            _laneActions.Clear();
            _actions.Clear();
            _errors.Clear();
            LastSequenceId = route.Waypoints[0].SequenceId;
            LastProgress = now;
            LastMoved = now;
        }

        _nodes.AddRange(route.Waypoints);
        NoteProgress(At.Id, reached: true, now);
        foreach (var lane in route.Lanes.Where(l => l.Actions is { Count: > 0 }))
            _laneActions[lane.SequenceId] = lane.Actions!;
        foreach (var action in route.Waypoints.SelectMany(w => w.Actions).Concat(route.Lanes.SelectMany(l => l.Actions ?? [])))
            _actions.TryAdd(action.ActionId, new RobotActionProgress(action.ActionId, action.ActionType, RobotActionStatus.Waiting, null));
        OrderId = route.OrderId;
        UpdateId = route.OrderUpdateId;
        Dirty = true;
    }

    /// <summary>Counts progress towards where the order heads (see <see cref="LastProgress"/>); a new place to head for starts afresh.</summary>
    private void NoteProgress(string waypointId, bool reached, DateTimeOffset now)
    {
        // Where it heads: the next node ahead with an action to run (a pickup before the dropoff), else the order's last node.
        RouteWaypoint? heading = null;
        foreach (var node in _nodes)
        {
            if (node.SequenceId <= LastSequenceId)
                continue;
            var stop = node.Actions.Count > 0;
            var headingStop = heading is { Actions.Count: > 0 };
            if (heading is null || (stop && !headingStop) || (stop == headingStop && (stop ? node.SequenceId < heading.SequenceId : node.SequenceId > heading.SequenceId)))
                heading = node;
        }

        if (heading is null)
            return;
        if (heading.WaypointId != _destination)
        {
            _destination = heading.WaypointId;
            _bestTime = _travelTime(At.Id, _destination);
            LastProgress = now;
        }

        var time = _travelTime(waypointId, _destination);
        if (time < _bestTime - 1e-6)
        {
            LastProgress = now;
            if (reached)
                _bestTime = time;
        }
    }

    private void Cancel(RobotAction cancel)
    {
        // Stops at the waypoint it is driving to (or where it stands); everything after it is dropped.
        var keepThrough = _target?.SequenceId ?? LastSequenceId;
        _nodes.RemoveAll(n => n.SequenceId > keepThrough);
        foreach (var dropped in _laneActions.Keys.Where(k => k > keepThrough).ToList())
            _laneActions.Remove(dropped);
        foreach (var (key, progress) in _actions.Where(a => a.Value.Status is RobotActionStatus.Waiting or RobotActionStatus.Running).ToList())
            _actions[key] = progress with { Status = RobotActionStatus.Failed, ResultDescription = "cancelled" };
        _runningAction = null;
        _actions[cancel.ActionId] = new RobotActionProgress(cancel.ActionId, cancel.ActionType, RobotActionStatus.Running, null);
        _pendingCancel = cancel.ActionId;
        if (_target is null)
        {
            _actions[cancel.ActionId] = _actions[cancel.ActionId] with { Status = RobotActionStatus.Finished };
            _pendingCancel = null;
        }

        Dirty = true;
    }

    private void Finish(string actionId, RobotActionStatus status, string? result, DateTimeOffset now)
    {
        if (_runningAction == actionId)
            _runningAction = null;
        if (_actions.TryGetValue(actionId, out var progress))
            _actions[actionId] = progress with { Status = status, ResultDescription = result };
        LastProgress = now;
        LastMoved = now;
        Dirty = true;
    }

    private void UpdatePosition()
    {
        if (_target is null || _segmentLength <= 0 || _riding)
        {
            (X, Y) = (At.X, At.Y);
            return;
        }

        var to = _map.Waypoints[_target.WaypointId];
        var f = _travelled / _segmentLength;
        (X, Y) = (At.X + ((to.X - At.X) * f), At.Y + ((to.Y - At.Y) * f));
    }

    private static double Distance(Waypoint a, Waypoint b) => Math.Sqrt(((a.X - b.X) * (a.X - b.X)) + ((a.Y - b.Y) * (a.Y - b.Y)));
}
