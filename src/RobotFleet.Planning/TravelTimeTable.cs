using RobotFleet.Maps;

namespace RobotFleet.Planning;

/// <summary>
/// One-to-all fastest travel times on a <see cref="SiteMap"/>: one Dijkstra (binary heap, lazy deletion) from a source
/// waypoint over the directed lanes, with the same lane costs as <see cref="RouteGraph"/>: length / min(speed limit or
/// default speed, robot top speed), in seconds. Built once per map (compact adjacency arrays); immutable and thread-safe.
/// </summary>
public sealed class TravelTimeTable
{
    private readonly string[] _ids;
    private readonly Dictionary<string, int> _index;
    private readonly int[] _firstLane;  // lanes of waypoint w are [_firstLane[w], _firstLane[w + 1])
    private readonly int[] _laneSource;
    private readonly int[] _laneTarget;
    private readonly double[] _laneLength;
    private readonly double[] _laneSpeed;
    private readonly Lane[] _lanes;

    /// <summary>Builds the table for a map.</summary>
    /// <param name="map">The map.</param>
    /// <param name="defaultSpeed">Speed in metres per second on lanes without a speed limit; finite and &gt; 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="defaultSpeed"/> is not a finite positive number.</exception>
    public TravelTimeTable(SiteMap map, double defaultSpeed = 1.0)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (!double.IsFinite(defaultSpeed) || defaultSpeed <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(defaultSpeed), defaultSpeed, "Default speed must be a finite number > 0 (m/s).");
        }
        Map = map;
        _ids = map.Waypoints.Keys.Order(StringComparer.Ordinal).ToArray();
        _index = new Dictionary<string, int>(_ids.Length, StringComparer.Ordinal);
        for (var i = 0; i < _ids.Length; i++)
        {
            _index[_ids[i]] = i;
        }

        _firstLane = new int[_ids.Length + 1];
        var lanes = new List<Lane>(map.Lanes.Count);
        for (var w = 0; w < _ids.Length; w++)
        {
            _firstLane[w] = lanes.Count;
            lanes.AddRange(map.OutgoingLanes(_ids[w]));
        }
        _firstLane[_ids.Length] = lanes.Count;
        _lanes = [.. lanes];
        _laneSource = _lanes.Select(l => _index[l.FromWaypointId]).ToArray();
        _laneTarget = _lanes.Select(l => _index[l.ToWaypointId]).ToArray();
        _laneLength = _lanes.Select(l => l.Length).ToArray();
        _laneSpeed = _lanes.Select(l => l.SpeedLimit ?? defaultSpeed).ToArray();
    }

    /// <summary>The map the table covers.</summary>
    public SiteMap Map { get; }

    /// <summary>Fastest travel times from one waypoint to every waypoint (one Dijkstra run).</summary>
    /// <param name="fromWaypointId">Source waypoint id.</param>
    /// <param name="maxSpeed">The robot's top speed in metres per second (&gt; 0).</param>
    /// <returns>The shortest-time tree from the source.</returns>
    /// <exception cref="ArgumentException">The waypoint is not on the map.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSpeed"/> is not &gt; 0.</exception>
    public TravelTree From(string fromWaypointId, double maxSpeed = double.PositiveInfinity)
    {
        ArgumentNullException.ThrowIfNull(fromWaypointId);
        if (!_index.TryGetValue(fromWaypointId, out var source))
        {
            throw new ArgumentException($"Map '{Map.Id}' has no waypoint '{fromWaypointId}'.", nameof(fromWaypointId));
        }
        var tree = new TravelTree(this, source, maxSpeed);
        Run(source, maxSpeed, tree.Seconds, tree.Metres, tree.PredecessorLane);
        return tree;
    }

    internal int WaypointCount => _ids.Length;

    internal bool TryIndex(string? waypointId, out int index)
    {
        index = -1;
        return waypointId is not null && _index.TryGetValue(waypointId, out index);
    }

    internal string IdAt(int index) => _ids[index];

    /// <summary>Dijkstra into caller-owned buffers (length = waypoint count): seconds (+inf unreachable), metres, predecessor lane (-1 none).</summary>
    internal void Run(int source, double maxSpeed, double[] seconds, double[] metres, int[] predecessorLane)
    {
        if (double.IsNaN(maxSpeed) || maxSpeed <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxSpeed), maxSpeed, "Maximum speed must be > 0 (m/s).");
        }
        Array.Fill(seconds, double.PositiveInfinity);
        Array.Fill(metres, double.PositiveInfinity);
        Array.Fill(predecessorLane, -1);
        seconds[source] = 0;
        metres[source] = 0;
        var open = new PriorityQueue<int, double>();
        open.Enqueue(source, 0);
        while (open.TryDequeue(out var current, out var at))
        {
            if (at > seconds[current])
            {
                continue; // stale entry
            }
            for (var lane = _firstLane[current]; lane < _firstLane[current + 1]; lane++)
            {
                var next = _laneTarget[lane];
                var time = at + (_laneLength[lane] / Math.Min(_laneSpeed[lane], maxSpeed));
                if (time < seconds[next])
                {
                    seconds[next] = time;
                    metres[next] = metres[current] + _laneLength[lane];
                    predecessorLane[next] = lane;
                    open.Enqueue(next, time);
                }
            }
        }
    }

    /// <summary>The route from the tree's source to a waypoint, rebuilt from predecessor lanes; null when unreachable.</summary>
    internal Route? BuildRoute(int source, int target, int[] predecessorLane, double maxSpeed)
    {
        if (target == source)
        {
            return new Route([_ids[source]], [], 0, 0);
        }
        if (predecessorLane[target] < 0)
        {
            return null;
        }
        var laneIndices = new List<int>();
        for (var at = target; at != source; at = _laneSource[predecessorLane[at]])
        {
            laneIndices.Add(predecessorLane[at]);
        }
        laneIndices.Reverse();
        var lanes = laneIndices.Select(l => _lanes[l]).ToArray();
        var length = 0.0;
        var time = 0.0;
        foreach (var lane in laneIndices)
        {
            length += _laneLength[lane];
            time += _laneLength[lane] / Math.Min(_laneSpeed[lane], maxSpeed);
        }
        return new Route([.. lanes.Select(l => l.FromWaypointId), _ids[target]], lanes, length, time);
    }
}

/// <summary>Fastest travel times (seconds) and route lengths (metres) from one source waypoint to every waypoint; immutable and thread-safe.</summary>
public sealed class TravelTree
{
    private readonly TravelTimeTable _table;
    private readonly int _source;
    private readonly double _maxSpeed;

    internal TravelTree(TravelTimeTable table, int source, double maxSpeed)
    {
        _table = table;
        _source = source;
        _maxSpeed = maxSpeed;
        Seconds = new double[table.WaypointCount];
        Metres = new double[table.WaypointCount];
        PredecessorLane = new int[table.WaypointCount];
    }

    internal double[] Seconds { get; }

    internal double[] Metres { get; }

    internal int[] PredecessorLane { get; }

    /// <summary>Source waypoint id.</summary>
    public string FromWaypointId => _table.IdAt(_source);

    /// <summary>Fastest travel time in seconds to a waypoint; +infinity when unreachable or not on the map.</summary>
    /// <param name="waypointId">Target waypoint id.</param>
    /// <returns>Seconds.</returns>
    public double SecondsTo(string waypointId) => _table.TryIndex(waypointId, out var i) ? Seconds[i] : double.PositiveInfinity;

    /// <summary>Length in metres of the fastest route to a waypoint; +infinity when unreachable or not on the map.</summary>
    /// <param name="waypointId">Target waypoint id.</param>
    /// <returns>Metres.</returns>
    public double MetresTo(string waypointId) => _table.TryIndex(waypointId, out var i) ? Metres[i] : double.PositiveInfinity;

    /// <summary>The fastest route to a waypoint; null when unreachable or not on the map.</summary>
    /// <param name="waypointId">Target waypoint id.</param>
    /// <returns>The route or null.</returns>
    public Route? RouteTo(string waypointId) =>
        _table.TryIndex(waypointId, out var i) ? _table.BuildRoute(_source, i, PredecessorLane, _maxSpeed) : null;
}
