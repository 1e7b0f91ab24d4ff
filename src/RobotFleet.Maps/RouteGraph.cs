namespace RobotFleet.Maps;

/// <summary>A chosen way through a map: the waypoints visited and the lanes driven, in order.</summary>
/// <param name="WaypointIds">Waypoints from start to goal; a route from a waypoint to itself has just that one.</param>
/// <param name="Lanes">Lanes driven; one fewer than waypoints.</param>
/// <param name="Length">Total length in metres.</param>
/// <param name="TravelTime">Total travel time in seconds at the speeds the route was planned with.</param>
public sealed record Route(IReadOnlyList<string> WaypointIds, IReadOnlyList<Lane> Lanes, double Length, double TravelTime);

/// <summary>
/// Finds fastest routes on a <see cref="SiteMap"/> with A* over lane travel time; immutable and safe to use from many threads at once.
/// </summary>
/// <remarks>
/// The map is copied once into compact arrays (waypoints as ints, outgoing lanes per waypoint contiguous: CSR), and each
/// thread reuses its own search buffers (stamped, so nothing is cleared between searches), so a query allocates only its
/// result. The heuristic is the straight-line distance in metres divided by the fastest lane speed (m/s), scaled by the
/// smallest lane-length-to-distance ratio (and no more per metre than any lift ride takes), so it never overestimates and
/// the route is the fastest one. Lift rides (<see cref="Lane.RideSeconds"/>) link levels: routes may change level.
/// </remarks>
public sealed class RouteGraph
{
    [ThreadStatic]
    private static SearchBuffers? t_buffers;

    private readonly SiteMap _map;
    private readonly double _defaultSpeed;
    private readonly double _fastestLaneSpeed;
    private readonly double _minLengthRatio;
    private readonly double _rideSecondsPerMetre;
    private readonly string[] _ids;
    private readonly Dictionary<string, int> _index;
    private readonly double[] _x;
    private readonly double[] _y;
    private readonly int[] _firstLane;   // lanes out of waypoint w are [_firstLane[w], _firstLane[w + 1])
    private readonly int[] _laneSource;
    private readonly int[] _laneTarget;
    private readonly double[] _laneLength;
    private readonly double[] _laneSpeed;
    private readonly double[] _laneRide;   // a lift ride's seconds, or -1 for a lane driven at speed
    private readonly Lane[] _lanes;

    /// <summary>Creates a route graph over a map.</summary>
    /// <param name="map">The map to route on.</param>
    /// <param name="defaultSpeed">Speed in metres per second used on lanes without a speed limit; must be finite and > 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="defaultSpeed"/> is not a finite positive number.</exception>
    public RouteGraph(SiteMap map, double defaultSpeed = 1.0)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (!double.IsFinite(defaultSpeed) || defaultSpeed <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(defaultSpeed), defaultSpeed, "Default speed must be a finite number > 0 (m/s).");
        }
        _map = map;
        _defaultSpeed = defaultSpeed;
        var driven = map.Lanes.Where(l => l.RideSeconds is null).ToArray();
        _fastestLaneSpeed = driven.Select(LaneSpeed).DefaultIfEmpty(defaultSpeed).Max();

        // Lane lengths equal the straight distance within a millimetre; scale the heuristic by the worst ratio so it stays admissible.
        _minLengthRatio = driven
            .Select(l => (Lane: l, Straight: Lane.StraightDistance(map.GetWaypoint(l.FromWaypointId), map.GetWaypoint(l.ToWaypointId))))
            .Where(x => x.Straight > 0)
            .Select(x => Math.Min(1.0, x.Lane.Length / x.Straight))
            .DefaultIfEmpty(1.0)
            .Min();

        // A lift ride takes its ride time whatever the robot's speed: the heuristic may charge at most that per metre it moves sideways.
        _rideSecondsPerMetre = map.Lanes
            .Where(l => l.RideSeconds is not null)
            .Select(l => (Seconds: l.RideSeconds!.Value, Straight: Lane.StraightDistance(map.GetWaypoint(l.FromWaypointId), map.GetWaypoint(l.ToWaypointId))))
            .Where(x => x.Straight > 0)
            .Select(x => x.Seconds / x.Straight)
            .DefaultIfEmpty(double.PositiveInfinity)
            .Min();

        var count = map.Waypoints.Count;
        _ids = new string[count];
        _x = new double[count];
        _y = new double[count];
        _index = new Dictionary<string, int>(count, StringComparer.Ordinal);
        foreach (var waypoint in map.Waypoints.Values)
        {
            var w = _index.Count;
            _index[waypoint.Id] = w;
            (_ids[w], _x[w], _y[w]) = (waypoint.Id, waypoint.X, waypoint.Y);
        }
        _firstLane = new int[count + 1];
        var lanes = new List<Lane>(map.Lanes.Count);
        for (var w = 0; w < count; w++)
        {
            _firstLane[w] = lanes.Count;
            lanes.AddRange(map.OutgoingLanes(_ids[w])); // same order as the map's, so ties break as they always did
        }
        _firstLane[count] = lanes.Count;
        _lanes = [.. lanes];
        _laneSource = new int[_lanes.Length];
        _laneTarget = new int[_lanes.Length];
        _laneLength = new double[_lanes.Length];
        _laneSpeed = new double[_lanes.Length];
        _laneRide = new double[_lanes.Length];
        for (var i = 0; i < _lanes.Length; i++)
        {
            _laneSource[i] = _index[_lanes[i].FromWaypointId];
            _laneTarget[i] = _index[_lanes[i].ToWaypointId];
            _laneLength[i] = _lanes[i].Length;
            _laneSpeed[i] = LaneSpeed(_lanes[i]);
            _laneRide[i] = _lanes[i].RideSeconds ?? -1;
        }
    }

    /// <summary>The map this graph routes on.</summary>
    public SiteMap Map => _map;

    /// <summary>
    /// Seconds to drive a lane at min(lane speed limit or default speed, <paramref name="maxSpeed"/>); for a lift ride, its
    /// <see cref="Lane.RideSeconds"/>.
    /// </summary>
    /// <param name="lane">The lane.</param>
    /// <param name="maxSpeed">The robot's top speed in metres per second (> 0).</param>
    /// <returns>Travel time in seconds.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSpeed"/> is not > 0.</exception>
    public double TravelTime(Lane lane, double maxSpeed = double.PositiveInfinity)
    {
        ArgumentNullException.ThrowIfNull(lane);
        CheckMaxSpeed(maxSpeed);
        return Seconds(lane, maxSpeed);
    }

    /// <summary>
    /// The fastest route between two waypoints (A* on travel time), never entering a blocked waypoint
    /// (the start may be blocked); null when the goal is unreachable or blocked.
    /// </summary>
    /// <param name="fromWaypointId">Start waypoint id.</param>
    /// <param name="toWaypointId">Goal waypoint id.</param>
    /// <param name="maxSpeed">The robot's top speed in metres per second (> 0).</param>
    /// <param name="isWaypointBlocked">Optional predicate; called on the caller's thread for waypoints the search would enter.</param>
    /// <param name="isLaneClosed">Optional predicate; lanes it is true for are never driven (e.g. closed by an obstacle).</param>
    /// <param name="laneCostFactor">
    /// Optional: how many times its seconds a lane costs in the search (finite, >= 1; e.g. a lane against a loop's flow, see
    /// RobotFleet.Planning's loop flow weight), so the route is the cheapest one rather than the fastest; null: every lane at
    /// its seconds. The route's <see cref="Route.TravelTime"/> is still its real seconds.
    /// </param>
    /// <returns>The route, or null when none exists.</returns>
    /// <exception cref="ArgumentException">A waypoint id is unknown; the message names it.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSpeed"/> is not > 0, or <paramref name="laneCostFactor"/> gave a lane less than 1 (NaN, infinity).</exception>
    public Route? FindRoute(string fromWaypointId, string toWaypointId, double maxSpeed = double.PositiveInfinity, Func<string, bool>? isWaypointBlocked = null, Func<Lane, bool>? isLaneClosed = null,
        Func<Lane, double>? laneCostFactor = null)
    {
        CheckMaxSpeed(maxSpeed);
        var start = RequireWaypoint(fromWaypointId, nameof(fromWaypointId));
        var goal = RequireWaypoint(toWaypointId, nameof(toWaypointId));
        if (start == goal)
        {
            return new Route([_ids[start]], [], 0, 0);
        }
        if (isWaypointBlocked?.Invoke(_ids[goal]) == true)
        {
            return null;
        }

        // A predicate may itself route on this thread: then this search gets buffers of its own.
        var buffers = t_buffers is { InUse: false } b && b.Cost.Length >= _ids.Length ? b : null;
        if (buffers is null)
        {
            buffers = new SearchBuffers(_ids.Length);
            if (t_buffers is not { InUse: true })
            {
                t_buffers = buffers;
            }
        }
        buffers.InUse = true;
        try
        {
            return Search(start, goal, maxSpeed, isWaypointBlocked, isLaneClosed, laneCostFactor, buffers);
        }
        finally
        {
            buffers.InUse = false;
        }
    }

    /// <summary>
    /// The fastest travel time in seconds from one waypoint to every waypoint reachable from it (Dijkstra, one search),
    /// with the same rules as <see cref="FindRoute"/>: blocked waypoints are never entered (nor reported), closed lanes never
    /// driven. The start is included with 0. For choosing among many goals at once; <see cref="FindRoute"/> then gives the
    /// route to the chosen one with the same travel time.
    /// </summary>
    /// <param name="fromWaypointId">Start waypoint id.</param>
    /// <param name="maxSpeed">The robot's top speed in metres per second (> 0).</param>
    /// <param name="isWaypointBlocked">Optional predicate, asked at most once per waypoint on the caller's thread.</param>
    /// <param name="isLaneClosed">Optional predicate; lanes it is true for are never driven.</param>
    /// <param name="laneCostFactor">Optional, as for <see cref="FindRoute"/>: the times are then the cheapest routes' costs (weighted seconds).</param>
    /// <returns>Waypoint id to travel time (s), for every reachable waypoint.</returns>
    /// <exception cref="ArgumentException">The start waypoint id is unknown; the message names it.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSpeed"/> is not > 0, or <paramref name="laneCostFactor"/> gave a lane less than 1 (NaN, infinity).</exception>
    public IReadOnlyDictionary<string, double> TravelTimesFrom(string fromWaypointId, double maxSpeed = double.PositiveInfinity, Func<string, bool>? isWaypointBlocked = null,
        Func<Lane, bool>? isLaneClosed = null, Func<Lane, double>? laneCostFactor = null)
    {
        CheckMaxSpeed(maxSpeed);
        var start = RequireWaypoint(fromWaypointId, nameof(fromWaypointId));
        var cost = new double[_ids.Length];
        Array.Fill(cost, double.PositiveInfinity);
        var done = new bool[_ids.Length];
        var blocked = new sbyte[_ids.Length]; // 0 not asked, 1 blocked, -1 free
        var open = new PriorityQueue<int, double>();
        var times = new Dictionary<string, double>(StringComparer.Ordinal);
        cost[start] = 0;
        open.Enqueue(start, 0);
        while (open.TryDequeue(out var current, out var at))
        {
            if (done[current] || at > cost[current])
            {
                continue;
            }
            done[current] = true;
            times[_ids[current]] = at;
            for (var lane = _firstLane[current]; lane < _firstLane[current + 1]; lane++)
            {
                var next = _laneTarget[lane];
                if (done[next] || isLaneClosed?.Invoke(_lanes[lane]) == true)
                {
                    continue;
                }
                if (isWaypointBlocked is not null)
                {
                    if (blocked[next] == 0)
                    {
                        blocked[next] = isWaypointBlocked(_ids[next]) ? (sbyte)1 : (sbyte)-1;
                    }
                    if (blocked[next] == 1)
                    {
                        continue;
                    }
                }
                var tentative = at + Cost(lane, maxSpeed, laneCostFactor);
                if (tentative < cost[next])
                {
                    cost[next] = tentative;
                    open.Enqueue(next, tentative);
                }
            }
        }
        return times;
    }

    private Route? Search(int start, int goal, double maxSpeed, Func<string, bool>? isWaypointBlocked, Func<Lane, bool>? isLaneClosed, Func<Lane, double>? laneCostFactor,
        SearchBuffers buffers)
    {
        var secondsPerMetre = Math.Min(_minLengthRatio / Math.Min(_fastestLaneSpeed, maxSpeed), _rideSecondsPerMetre);
        var (goalX, goalY) = (_x[goal], _y[goal]);
        var stamp = buffers.NextStamp();
        var (cost, cameBy, seen, closed, blockedAt, open) = (buffers.Cost, buffers.CameBy, buffers.Seen, buffers.Closed, buffers.Blocked, buffers.Open);
        open.Clear();
        cost[start] = 0;
        seen[start] = stamp;
        open.Enqueue(start, Heuristic(start));

        while (open.TryDequeue(out var current, out _))
        {
            if (current == goal)
            {
                return BuildRoute(start, goal, cameBy, maxSpeed);
            }
            if (closed[current] == stamp)
            {
                continue;
            }
            closed[current] = stamp;
            var costHere = cost[current];
            for (var lane = _firstLane[current]; lane < _firstLane[current + 1]; lane++)
            {
                var next = _laneTarget[lane];
                if (closed[next] == stamp || (isWaypointBlocked is not null && IsBlocked(next)) || isLaneClosed?.Invoke(_lanes[lane]) == true)
                {
                    continue;
                }
                var tentative = costHere + Cost(lane, maxSpeed, laneCostFactor);
                if (seen[next] != stamp || tentative < cost[next])
                {
                    seen[next] = stamp;
                    cost[next] = tentative;
                    cameBy[next] = lane;
                    open.Enqueue(next, tentative + Heuristic(next));
                }
            }
        }
        return null;

        double Heuristic(int w)
        {
            var (dx, dy) = (_x[w] - goalX, _y[w] - goalY);
            return Math.Sqrt((dx * dx) + (dy * dy)) * secondsPerMetre;
        }

        // The predicate is asked once per waypoint and search: +stamp blocked, -stamp free.
        bool IsBlocked(int w)
        {
            if (blockedAt[w] == stamp)
            {
                return true;
            }
            if (blockedAt[w] == -stamp)
            {
                return false;
            }
            var value = isWaypointBlocked!(_ids[w]);
            blockedAt[w] = value ? stamp : -stamp;
            return value;
        }
    }

    /// <summary>A lane's seconds (its ride, or length over speed), times its cost factor when there is one (checked >= 1: the heuristic stays admissible).</summary>
    private double Cost(int lane, double maxSpeed, Func<Lane, double>? laneCostFactor)
    {
        var ride = _laneRide[lane];
        var seconds = ride >= 0 ? ride : _laneLength[lane] / Math.Min(_laneSpeed[lane], maxSpeed);
        if (laneCostFactor is null)
        {
            return seconds;
        }
        var factor = laneCostFactor(_lanes[lane]);
        return factor >= 1 && double.IsFinite(factor)
            ? seconds * factor
            : throw new ArgumentOutOfRangeException(nameof(laneCostFactor), factor, $"Lane cost factor of lane '{_lanes[lane].Id}' must be a finite number >= 1.");
    }

    private Route BuildRoute(int start, int goal, int[] cameBy, double maxSpeed)
    {
        var count = 0;
        for (var at = goal; at != start; at = _laneSource[cameBy[at]])
        {
            count++;
        }
        var lanes = new Lane[count];
        var waypointIds = new string[count + 1];
        waypointIds[count] = _ids[goal];
        for (var (at, i) = (goal, count - 1); at != start; at = _laneSource[cameBy[at]], i--)
        {
            lanes[i] = _lanes[cameBy[at]];
            waypointIds[i] = _lanes[cameBy[at]].FromWaypointId;
        }
        double length = 0, time = 0;
        foreach (var lane in lanes)
        {
            length += lane.Length;
            time += Seconds(lane, maxSpeed);
        }
        return new Route(waypointIds, lanes, length, time);
    }

    private int RequireWaypoint(string id, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(id, parameterName);
        return _index.TryGetValue(id, out var index)
            ? index
            : throw new ArgumentException($"Map '{_map.Id}' has no waypoint '{id}'.", parameterName);
    }

    private double LaneSpeed(Lane lane) => lane.SpeedLimit ?? _defaultSpeed;

    private double Seconds(Lane lane, double maxSpeed) => lane.RideSeconds ?? (lane.Length / Math.Min(LaneSpeed(lane), maxSpeed));

    private static void CheckMaxSpeed(double maxSpeed)
    {
        if (double.IsNaN(maxSpeed) || maxSpeed <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxSpeed), maxSpeed, "Maximum speed must be > 0 (m/s).");
        }
    }

    /// <summary>
    /// One thread's search state, sized for the largest map it has searched; entries count only where their stamp is the
    /// current search's, so nothing is cleared between searches.
    /// </summary>
    private sealed class SearchBuffers(int size)
    {
        private int _stamp;

        public double[] Cost { get; } = new double[size];

        public int[] CameBy { get; } = new int[size];

        public int[] Seen { get; } = new int[size];

        public int[] Closed { get; } = new int[size];

        public int[] Blocked { get; } = new int[size];

        public PriorityQueue<int, double> Open { get; } = new();

        public bool InUse { get; set; }

        public int NextStamp()
        {
            if (_stamp == int.MaxValue)
            {
                Array.Clear(Seen);
                Array.Clear(Closed);
                Array.Clear(Blocked);
                _stamp = 0;
            }
            return ++_stamp;
        }
    }
}
