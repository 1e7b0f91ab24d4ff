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
public sealed class RouteGraph
{
    private readonly SiteMap _map;
    private readonly double _defaultSpeed;
    private readonly double _fastestLaneSpeed;
    private readonly double _minLengthRatio;

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
        _fastestLaneSpeed = map.Lanes.Select(LaneSpeed).DefaultIfEmpty(defaultSpeed).Max();

        // Lane lengths equal the straight distance within a millimetre; scale the heuristic by the worst ratio so it stays admissible.
        _minLengthRatio = map.Lanes
            .Select(l => (Lane: l, Straight: Lane.StraightDistance(map.GetWaypoint(l.FromWaypointId), map.GetWaypoint(l.ToWaypointId))))
            .Where(x => x.Straight > 0)
            .Select(x => Math.Min(1.0, x.Lane.Length / x.Straight))
            .DefaultIfEmpty(1.0)
            .Min();
    }

    /// <summary>The map this graph routes on.</summary>
    public SiteMap Map => _map;

    /// <summary>Seconds to drive a lane at min(lane speed limit or default speed, <paramref name="maxSpeed"/>).</summary>
    /// <param name="lane">The lane.</param>
    /// <param name="maxSpeed">The robot's top speed in metres per second (> 0).</param>
    /// <returns>Travel time in seconds.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSpeed"/> is not > 0.</exception>
    public double TravelTime(Lane lane, double maxSpeed = double.PositiveInfinity)
    {
        ArgumentNullException.ThrowIfNull(lane);
        CheckMaxSpeed(maxSpeed);
        return lane.Length / Math.Min(LaneSpeed(lane), maxSpeed);
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
    /// <returns>The route, or null when none exists.</returns>
    /// <exception cref="ArgumentException">A waypoint id is unknown; the message names it.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSpeed"/> is not > 0.</exception>
    public Route? FindRoute(string fromWaypointId, string toWaypointId, double maxSpeed = double.PositiveInfinity, Func<string, bool>? isWaypointBlocked = null, Func<Lane, bool>? isLaneClosed = null)
    {
        CheckMaxSpeed(maxSpeed);
        var start = RequireWaypoint(fromWaypointId, nameof(fromWaypointId));
        var goal = RequireWaypoint(toWaypointId, nameof(toWaypointId));
        if (start.Id == goal.Id)
        {
            return new Route([start.Id], [], 0, 0);
        }
        if (isWaypointBlocked?.Invoke(goal.Id) == true)
        {
            return null;
        }

        var secondsPerMetre = _minLengthRatio / Math.Min(_fastestLaneSpeed, maxSpeed);
        double Heuristic(Waypoint w) => Lane.StraightDistance(w, goal) * secondsPerMetre;

        var cost = new Dictionary<string, double>(StringComparer.Ordinal) { [start.Id] = 0 };
        var cameBy = new Dictionary<string, Lane>(StringComparer.Ordinal);
        var closed = new HashSet<string>(StringComparer.Ordinal);
        var blocked = new Dictionary<string, bool>(StringComparer.Ordinal);
        var open = new PriorityQueue<string, double>();
        open.Enqueue(start.Id, Heuristic(start));

        while (open.TryDequeue(out var current, out _))
        {
            if (current == goal.Id)
            {
                return BuildRoute(start.Id, goal.Id, cameBy, maxSpeed);
            }
            if (!closed.Add(current))
            {
                continue;
            }
            foreach (var lane in _map.OutgoingLanes(current))
            {
                var next = lane.ToWaypointId;
                if (closed.Contains(next) || IsBlocked(next, isWaypointBlocked, blocked) || isLaneClosed?.Invoke(lane) == true)
                {
                    continue;
                }
                var tentative = cost[current] + TravelTime(lane, maxSpeed);
                if (tentative < cost.GetValueOrDefault(next, double.PositiveInfinity))
                {
                    cost[next] = tentative;
                    cameBy[next] = lane;
                    open.Enqueue(next, tentative + Heuristic(_map.Waypoints[next]));
                }
            }
        }
        return null;
    }

    private static bool IsBlocked(string waypointId, Func<string, bool>? isWaypointBlocked, Dictionary<string, bool> cache)
    {
        if (isWaypointBlocked is null)
        {
            return false;
        }
        if (!cache.TryGetValue(waypointId, out var value))
        {
            value = isWaypointBlocked(waypointId);
            cache[waypointId] = value;
        }
        return value;
    }

    private Route BuildRoute(string startId, string goalId, Dictionary<string, Lane> cameBy, double maxSpeed)
    {
        var lanes = new List<Lane>();
        for (var at = goalId; at != startId; at = cameBy[at].FromWaypointId)
        {
            lanes.Add(cameBy[at]);
        }
        lanes.Reverse();
        var waypointIds = lanes.Select(l => l.FromWaypointId).Append(goalId).ToArray();
        return new Route(waypointIds, lanes, lanes.Sum(l => l.Length), lanes.Sum(l => TravelTime(l, maxSpeed)));
    }

    private Waypoint RequireWaypoint(string id, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(id, parameterName);
        return _map.Waypoints.TryGetValue(id, out var waypoint)
            ? waypoint
            : throw new ArgumentException($"Map '{_map.Id}' has no waypoint '{id}'.", parameterName);
    }

    private double LaneSpeed(Lane lane) => lane.SpeedLimit ?? _defaultSpeed;

    private static void CheckMaxSpeed(double maxSpeed)
    {
        if (double.IsNaN(maxSpeed) || maxSpeed <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxSpeed), maxSpeed, "Maximum speed must be > 0 (m/s).");
        }
    }

}
