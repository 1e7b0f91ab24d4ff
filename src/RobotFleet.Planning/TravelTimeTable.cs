using System.Collections.Frozen;
using RobotFleet.Maps;

namespace RobotFleet.Planning;

/// <summary>
/// Fastest travel times on one <see cref="SiteMap"/>, with the same lane costs as <see cref="RouteGraph"/>:
/// length / min(speed limit or default speed, robot top speed), in seconds; a lift ride takes its <see cref="Lane.RideSeconds"/>. Two kinds of shortest-time tree, both by
/// Dijkstra's algorithm (binary heap, lazy deletion) over compact adjacency arrays built once per map:
/// <list type="bullet">
/// <item><see cref="From"/>: one source to every waypoint, computed on each call (not kept).</item>
/// <item><see cref="To"/>: every waypoint to one target (Dijkstra on the reversed lanes), kept in a cache: the table fills
/// incrementally as new targets (mission starts, chargers, parking) are asked for, so a planning round over targets seen
/// before does no graph search at all, only array lookups. <see cref="Precompute"/> fills it ahead (e.g. with every
/// location of the map); missing trees are built on up to <see cref="MaxParallelism"/> threads.</item>
/// </list>
/// Lanes named at construction (those against a loop's flow, <see cref="OneWayLoops.Blocks"/>) may be weighted: asked with a
/// lane cost factor K &gt; 1, a tree routes as if each of those lanes took K times its seconds (the routes the PIBT traffic
/// controller sends robots on under its loop flow weight), and gives the real seconds and metres of those routes.
/// The cached travel times are stored source-major, <c>seconds[waypoint x capacity + target slot]</c>, so the times from
/// one robot's waypoint to every cached target are contiguous: a 1,000 x 1,000 cost matrix reads about 8 MB instead of one
/// whole tree per mission. Per cached tree: 8 bytes per waypoint there, plus 8 (route metres as float, next lane) in the
/// tree; up to a byte budget, past which the least recently used trees are dropped (and rebuilt when asked for again).
/// Thread-safe: the adjacency is immutable; the cache is an immutable snapshot replaced under a lock (copy on grow or
/// evict; new slots are written only where no published snapshot reads), so readers never lock.
/// </summary>
public sealed class TravelTimeTable
{
    /// <summary>Default cache budget: 256 MiB (about 1,600 trees on a 10,000-waypoint map).</summary>
    public const long DefaultCacheBudgetBytes = 256L * 1024 * 1024;

    private readonly string[] _ids;
    private readonly Dictionary<string, int> _index;
    private readonly int[] _firstLane;  // lanes out of waypoint w are [_firstLane[w], _firstLane[w + 1])
    private readonly int[] _firstIn;    // lanes into waypoint w are _inLanes[_firstIn[w] .. _firstIn[w + 1])
    private readonly int[] _inLanes;
    private readonly int[] _laneSource;
    private readonly int[] _laneTarget;
    private readonly double[] _laneLength;
    private readonly double[] _laneSpeed;
    private readonly double[] _laneRide;   // a lift ride's seconds (Lane.RideSeconds), or -1 for a lane driven at speed
    private readonly double _fastestLane;
    private readonly bool[] _weighted;     // lanes a lane cost factor applies to
    private readonly bool _anyWeighted;
    private readonly Lane[] _lanes;
    private readonly long _maxCachedTrees;
    private readonly object _gate = new();
    private volatile Cache _cache = Cache.Empty;
    private long _clock;

    /// <summary>Builds the table for a map (adjacency only; arrival trees are built when first asked for).</summary>
    /// <param name="map">The map.</param>
    /// <param name="defaultSpeed">Speed in metres per second on lanes without a speed limit; finite and &gt; 0.</param>
    /// <param name="cacheBudgetBytes">Most bytes the cached arrival trees may take (16 per waypoint per tree); &gt;= 0, 0 keeps none.</param>
    /// <param name="maxParallelism">Most threads <see cref="Precompute"/> and the planner use to build missing trees; &gt;= 1, or -1 for the processor count.</param>
    /// <param name="weightedLaneIds">Lanes a lane cost factor applies to (e.g. those against a loop's flow); null or empty for none.</param>
    /// <exception cref="ArgumentOutOfRangeException">A speed, budget or parallelism is out of range.</exception>
    /// <exception cref="ArgumentException">A weighted lane is not on the map (the message names it).</exception>
    public TravelTimeTable(SiteMap map, double defaultSpeed = 1.0, long cacheBudgetBytes = DefaultCacheBudgetBytes, int maxParallelism = -1,
        IEnumerable<string>? weightedLaneIds = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (!double.IsFinite(defaultSpeed) || defaultSpeed <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(defaultSpeed), defaultSpeed, "Default speed must be a finite number > 0 (m/s).");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(cacheBudgetBytes);
        if (maxParallelism is 0 or < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxParallelism), maxParallelism, "Parallelism must be >= 1, or -1 for the processor count.");
        }
        Map = map;
        MaxParallelism = maxParallelism == -1 ? Environment.ProcessorCount : maxParallelism;
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
        _laneRide = _lanes.Select(l => l.RideSeconds ?? -1).ToArray();
        _fastestLane = _laneSpeed.DefaultIfEmpty(defaultSpeed).Max();
        _weighted = new bool[_lanes.Length];
        if (weightedLaneIds is not null)
        {
            var laneIndex = new Dictionary<string, int>(_lanes.Length, StringComparer.Ordinal);
            for (var lane = 0; lane < _lanes.Length; lane++)
            {
                laneIndex.TryAdd(_lanes[lane].Id, lane);
            }
            foreach (var id in weightedLaneIds)
            {
                if (id is null || !laneIndex.TryGetValue(id, out var lane))
                {
                    throw new ArgumentException($"Map '{map.Id}' has no lane '{id}' to weight.", nameof(weightedLaneIds));
                }
                _weighted[lane] = true;
            }
        }
        _anyWeighted = _weighted.Any(w => w);
        WeightedLaneIds = _lanes.Where((_, lane) => _weighted[lane]).Select(l => l.Id).ToFrozenSet(StringComparer.Ordinal);

        // Incoming lanes per waypoint (counting sort by target), for the reversed searches.
        _firstIn = new int[_ids.Length + 1];
        foreach (var target in _laneTarget)
        {
            _firstIn[target + 1]++;
        }
        for (var w = 0; w < _ids.Length; w++)
        {
            _firstIn[w + 1] += _firstIn[w];
        }
        _inLanes = new int[_lanes.Length];
        var fill = _firstIn[..^1];
        for (var lane = 0; lane < _lanes.Length; lane++)
        {
            _inLanes[fill[_laneTarget[lane]]++] = lane;
        }

        _maxCachedTrees = Math.Min(int.MaxValue / Math.Max(1, _ids.Length), cacheBudgetBytes / (16L * Math.Max(1, _ids.Length)));
    }

    /// <summary>The map the table covers.</summary>
    public SiteMap Map { get; }

    /// <summary>The lanes a lane cost factor applies to (given at construction); empty for none.</summary>
    public IReadOnlySet<string> WeightedLaneIds { get; }

    /// <summary>Most threads used to build missing arrival trees.</summary>
    public int MaxParallelism { get; }

    /// <summary>Number of arrival trees in the cache now.</summary>
    public int CachedTrees => _cache.Trees.Count;

    /// <summary>Fastest travel times from one waypoint to every waypoint (one Dijkstra run, not cached); with a lane cost factor above 1, the real times of the routes chosen with weighted lanes at that factor.</summary>
    /// <param name="fromWaypointId">Source waypoint id.</param>
    /// <param name="maxSpeed">The robot's top speed in metres per second (&gt; 0).</param>
    /// <param name="laneCostFactor">How many times its seconds a weighted lane counts in the choice of route (finite, &gt;= 1); the times given are the routes' real seconds.</param>
    /// <returns>The shortest-time tree from the source.</returns>
    /// <exception cref="ArgumentException">The waypoint is not on the map.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSpeed"/> is not &gt; 0, or the factor is not finite and &gt;= 1.</exception>
    public TravelTree From(string fromWaypointId, double maxSpeed = double.PositiveInfinity, double laneCostFactor = 1)
    {
        ArgumentNullException.ThrowIfNull(fromWaypointId);
        if (!_index.TryGetValue(fromWaypointId, out var source))
        {
            throw new ArgumentException($"Map '{Map.Id}' has no waypoint '{fromWaypointId}'.", nameof(fromWaypointId));
        }
        var tree = new TravelTree(this, source, maxSpeed);
        Run(source, maxSpeed, tree.Seconds, tree.Metres, tree.PredecessorLane, FactorKey(laneCostFactor));
        return tree;
    }

    /// <summary>Fastest travel times from every waypoint to one waypoint, from the cache (built by one reversed Dijkstra run on first use per speed and factor); with a lane cost factor above 1, the real times of the routes chosen with weighted lanes at that factor.</summary>
    /// <param name="toWaypointId">Target waypoint id.</param>
    /// <param name="maxSpeed">The robot's top speed in metres per second (&gt; 0).</param>
    /// <param name="laneCostFactor">How many times its seconds a weighted lane counts in the choice of route (finite, &gt;= 1); the times given are the routes' real seconds.</param>
    /// <returns>The shortest-time tree into the target.</returns>
    /// <exception cref="ArgumentException">The waypoint is not on the map.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSpeed"/> is not &gt; 0, or the factor is not finite and &gt;= 1.</exception>
    public ArrivalTree To(string toWaypointId, double maxSpeed = double.PositiveInfinity, double laneCostFactor = 1)
    {
        ArgumentNullException.ThrowIfNull(toWaypointId);
        if (!_index.TryGetValue(toWaypointId, out var target))
        {
            throw new ArgumentException($"Map '{Map.Id}' has no waypoint '{toWaypointId}'.", nameof(toWaypointId));
        }
        return Arrival(target, maxSpeed, laneCostFactor);
    }

    /// <summary>Fills the cache with the arrival trees of the given waypoints (unknown ids are skipped), on up to <see cref="MaxParallelism"/> threads.</summary>
    /// <param name="waypointIds">Targets, e.g. the waypoints of every location.</param>
    /// <param name="maxSpeed">The robots' top speed in metres per second (&gt; 0).</param>
    /// <param name="laneCostFactor">How many times its seconds a weighted lane counts in the choice of route (finite, &gt;= 1).</param>
    /// <returns>How many trees were built (the others were cached already).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSpeed"/> is not &gt; 0, or the factor is not finite and &gt;= 1.</exception>
    public int Precompute(IEnumerable<string> waypointIds, double maxSpeed = double.PositiveInfinity, double laneCostFactor = 1)
    {
        ArgumentNullException.ThrowIfNull(waypointIds);
        var targets = waypointIds.Select(id => TryIndex(id, out var i) ? i : -1).Where(i => i >= 0).Distinct().ToArray();
        return Arrivals(targets, maxSpeed, new ArrivalTree[targets.Length], laneCostFactor);
    }

    internal int WaypointCount => _ids.Length;

    internal bool TryIndex(string? waypointId, out int index)
    {
        index = -1;
        return waypointId is not null && _index.TryGetValue(waypointId, out index);
    }

    internal string IdAt(int index) => _ids[index];

    /// <summary>The cache key's speed: every top speed at or above the fastest lane gives the same tree.</summary>
    internal double SpeedKey(double maxSpeed)
    {
        if (double.IsNaN(maxSpeed) || maxSpeed <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxSpeed), maxSpeed, "Maximum speed must be > 0 (m/s).");
        }
        return Math.Min(maxSpeed, _fastestLane);
    }

    /// <summary>
    /// The cache key's lane cost factor: 1 when no lane is weighted (every factor gives the same tree).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The factor is not finite and &gt;= 1.</exception>
    internal double FactorKey(double laneCostFactor)
    {
        if (!double.IsFinite(laneCostFactor) || laneCostFactor < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(laneCostFactor), laneCostFactor, "Lane cost factor must be a finite number >= 1.");
        }
        return _anyWeighted ? laneCostFactor : 1;
    }

    /// <summary>One cached arrival tree (built now if missing).</summary>
    internal ArrivalTree Arrival(int target, double maxSpeed, double laneCostFactor = 1)
    {
        var trees = new ArrivalTree[1];
        Arrivals([target], maxSpeed, trees, laneCostFactor);
        return trees[0];
    }

    /// <summary>
    /// The arrival trees of many targets at one speed and one lane cost factor into <paramref name="trees"/> (same order); missing ones are built
    /// (in parallel) and cached. All trees that fit in the cache come from one snapshot, so they share one seconds block.
    /// Returns how many were built.
    /// </summary>
    internal int Arrivals(int[] targets, double maxSpeed, ArrivalTree[] trees, double laneCostFactor = 1)
    {
        var speed = SpeedKey(maxSpeed);
        var factor = FactorKey(laneCostFactor);
        var stamp = Interlocked.Increment(ref _clock);
        var cache = _cache;
        var missing = new List<int>();
        for (var i = 0; i < targets.Length; i++)
        {
            if (cache.Trees.TryGetValue((targets[i], speed, factor), out var tree))
            {
                tree.LastUsed = stamp;
                trees[i] = tree;
            }
            else if (!missing.Contains(targets[i]))
            {
                missing.Add(targets[i]);
            }
        }
        if (missing.Count == 0)
        {
            return 0;
        }

        var built = new ArrivalTree[missing.Count];
        if (MaxParallelism == 1 || missing.Count < 4)
        {
            for (var i = 0; i < built.Length; i++)
            {
                built[i] = BuildArrival(missing[i], speed, factor);
            }
        }
        else
        {
            Parallel.For(0, built.Length, new ParallelOptions { MaxDegreeOfParallelism = MaxParallelism }, i => built[i] = BuildArrival(missing[i], speed, factor));
        }
        foreach (var tree in built)
        {
            tree.LastUsed = stamp;
        }

        lock (_gate)
        {
            cache = Add(_cache, built, stamp);
            _cache = cache;
        }
        var standalone = built.ToDictionary(t => t.Target);
        for (var i = 0; i < targets.Length; i++)
        {
            trees[i] = cache.Trees.TryGetValue((targets[i], speed, factor), out var tree) ? tree : standalone[targets[i]];
            trees[i].LastUsed = stamp;
        }
        return built.Length;
    }

    /// <summary>
    /// A new cache snapshot with the built trees added (those already there are skipped). Writes into the current block when
    /// its free slots suffice (slots no published snapshot reads); otherwise copies the kept trees, least recently used
    /// dropped first, into a new block. Trees that do not fit within the budget stay standalone. Called under the lock.
    /// </summary>
    private Cache Add(Cache cache, ArrivalTree[] built, long stamp)
    {
        var fresh = built.Where(t => !cache.Trees.ContainsKey(t.Key)).ToList();
        if (fresh.Count == 0 || _maxCachedTrees == 0)
        {
            return cache;
        }
        var w = _ids.Length;
        var trees = new Dictionary<(int, double, double), ArrivalTree>(cache.Trees);
        if (cache.Used + fresh.Count <= cache.Capacity)
        {
            var slot = cache.Used;
            foreach (var tree in fresh)
            {
                trees[tree.Key] = tree.MoveTo(cache.Block, cache.Capacity, slot++);
            }
            return new Cache(trees, cache.Block, cache.Capacity, slot);
        }

        // New block: keep the most recently used trees (this call's first), within the budget.
        var room = (int)Math.Min(_maxCachedTrees, int.MaxValue);
        var keep = cache.Trees.Values.Where(t => t.LastUsed == stamp)
            .Concat(cache.Trees.Values.Where(t => t.LastUsed != stamp).OrderByDescending(t => t.LastUsed))
            .Take(Math.Max(0, room - fresh.Count))
            .ToList();
        var added = fresh.Take(room).ToList();
        var capacity = (int)Math.Min(room, Math.Max(keep.Count + added.Count, 2L * cache.Capacity));
        capacity = Math.Max(capacity, keep.Count + added.Count);
        var block = new double[(long)w * capacity];
        var old = cache.Block;
        var oldSlots = keep.Select(t => t.Slot).ToArray();
        for (var v = 0; v < w; v++)
        {
            var from = (long)v * cache.Capacity;
            var to = (long)v * capacity;
            for (var s = 0; s < oldSlots.Length; s++)
            {
                block[to + s] = old[from + oldSlots[s]];
            }
        }
        trees.Clear();
        var next = 0;
        foreach (var tree in keep)
        {
            trees[tree.Key] = tree.Relocated(block, capacity, next++);
        }
        foreach (var tree in added)
        {
            trees[tree.Key] = tree.MoveTo(block, capacity, next++);
        }
        return new Cache(trees, block, capacity, next);
    }

    /// <summary>An immutable cache snapshot: trees by (target, speed key, factor key) and the source-major seconds block they live in.</summary>
    private sealed class Cache(Dictionary<(int, double, double), ArrivalTree> trees, double[] block, int capacity, int used)
    {
        public static readonly Cache Empty = new([], [], 0, 0);

        public Dictionary<(int, double, double), ArrivalTree> Trees { get; } = trees;

        public double[] Block { get; } = block;

        public int Capacity { get; } = capacity;

        public int Used { get; } = used;
    }

    /// <summary>Seconds to take a lane: length / min(lane speed, top speed), or a lift ride's own time (as <see cref="RouteGraph.TravelTime"/>).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private double LaneSeconds(int lane, double maxSpeed)
    {
        var ride = _laneRide[lane];
        return ride >= 0 ? ride : _laneLength[lane] / Math.Min(_laneSpeed[lane], maxSpeed);
    }

    /// <summary>What a lane costs in the choice of route: its seconds, times the factor when it is a weighted lane.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private double LaneCost(int lane, double seconds, double laneCostFactor) => _weighted[lane] ? seconds * laneCostFactor : seconds;

    /// <summary>Dijkstra on the reversed lanes from the target, by lane cost; the tree keeps its routes' real seconds.</summary>
    private ArrivalTree BuildArrival(int target, double maxSpeed, double laneCostFactor)
    {
        var n = _ids.Length;
        var cost = new double[n];
        Array.Fill(cost, double.PositiveInfinity);
        cost[target] = 0;
        var seconds = new double[n];
        var metres = new float[n];
        var next = new int[n];
        Array.Fill(seconds, double.PositiveInfinity);
        Array.Fill(metres, float.PositiveInfinity);
        Array.Fill(next, -1);
        var length = new double[n];
        seconds[target] = 0;
        metres[target] = 0;
        var open = new PriorityQueue<int, double>();
        open.Enqueue(target, 0);
        var farthest = 0.0;
        while (open.TryDequeue(out var current, out var at))
        {
            if (at > cost[current])
            {
                continue; // stale entry
            }
            farthest = Math.Max(farthest, length[current]);
            for (var k = _firstIn[current]; k < _firstIn[current + 1]; k++)
            {
                var lane = _inLanes[k];
                var previous = _laneSource[lane];
                var laneSeconds = LaneSeconds(lane, maxSpeed);
                var through = at + LaneCost(lane, laneSeconds, laneCostFactor);
                if (through < cost[previous])
                {
                    cost[previous] = through;
                    seconds[previous] = seconds[current] + laneSeconds;
                    length[previous] = length[current] + _laneLength[lane];
                    next[previous] = lane;
                    open.Enqueue(previous, through);
                }
            }
        }
        for (var w = 0; w < n; w++)
        {
            if (double.IsFinite(seconds[w]))
            {
                metres[w] = (float)length[w];
            }
        }
        return new ArrivalTree(this, target, maxSpeed, laneCostFactor, seconds, 1, 0, metres, next, farthest);
    }

    /// <summary>
    /// Dijkstra by lane cost (<paramref name="laneCostFactor"/> on weighted lanes, a checked factor key) into caller-owned
    /// buffers (length = waypoint count): the routes' real seconds (+inf unreachable), metres, predecessor lane (-1 none).
    /// </summary>
    internal void Run(int source, double maxSpeed, double[] seconds, double[] metres, int[] predecessorLane, double laneCostFactor = 1)
    {
        if (double.IsNaN(maxSpeed) || maxSpeed <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxSpeed), maxSpeed, "Maximum speed must be > 0 (m/s).");
        }
        Array.Fill(seconds, double.PositiveInfinity);
        Array.Fill(metres, double.PositiveInfinity);
        Array.Fill(predecessorLane, -1);
        var cost = laneCostFactor == 1 ? seconds : new double[seconds.Length];
        if (cost != seconds)
        {
            Array.Fill(cost, double.PositiveInfinity);
        }
        cost[source] = 0;
        seconds[source] = 0;
        metres[source] = 0;
        var open = new PriorityQueue<int, double>();
        open.Enqueue(source, 0);
        while (open.TryDequeue(out var current, out var at))
        {
            if (at > cost[current])
            {
                continue; // stale entry
            }
            for (var lane = _firstLane[current]; lane < _firstLane[current + 1]; lane++)
            {
                var next = _laneTarget[lane];
                var laneSeconds = LaneSeconds(lane, maxSpeed);
                var through = at + LaneCost(lane, laneSeconds, laneCostFactor);
                if (through < cost[next])
                {
                    cost[next] = through;
                    seconds[next] = seconds[current] + laneSeconds;
                    metres[next] = metres[current] + _laneLength[lane];
                    predecessorLane[next] = lane;
                    open.Enqueue(next, through);
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
        return RouteOf(laneIndices, source, target, maxSpeed);
    }

    /// <summary>The route from a waypoint to an arrival tree's target, following next lanes; null when unreachable.</summary>
    internal Route? BuildRouteTo(int source, int target, int[] nextLane, double maxSpeed)
    {
        if (target == source)
        {
            return new Route([_ids[source]], [], 0, 0);
        }
        if (nextLane[source] < 0)
        {
            return null;
        }
        var laneIndices = new List<int>();
        for (var at = source; at != target; at = _laneTarget[nextLane[at]])
        {
            laneIndices.Add(nextLane[at]);
        }
        return RouteOf(laneIndices, source, target, maxSpeed);
    }

    private Route RouteOf(List<int> laneIndices, int source, int target, double maxSpeed)
    {
        var lanes = new Lane[laneIndices.Count];
        var waypoints = new string[laneIndices.Count + 1];
        waypoints[0] = _ids[source];
        var length = 0.0;
        var time = 0.0;
        for (var i = 0; i < lanes.Length; i++)
        {
            var lane = laneIndices[i];
            lanes[i] = _lanes[lane];
            waypoints[i + 1] = _ids[_laneTarget[lane]];
            length += _laneLength[lane];
            time += LaneSeconds(lane, maxSpeed);
        }
        waypoints[^1] = _ids[target];
        return new Route(waypoints, lanes, length, time);
    }
}

/// <summary>Fastest travel times (seconds) and route lengths (metres) from one source waypoint to every waypoint (with a lane cost factor above 1: those of the routes chosen with weighted lanes at that factor); immutable and thread-safe.</summary>
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

    /// <summary>Travel time in seconds of the tree's route to a waypoint (the fastest, unless weighted); +infinity when unreachable or not on the map.</summary>
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

/// <summary>
/// Fastest travel times (seconds) and route lengths (metres, float precision) from every waypoint to one target waypoint,
/// at one top speed; built by <see cref="TravelTimeTable.To"/> and shared through its cache. With a lane cost factor above 1
/// the routes are the cheapest with the table's weighted lanes at that factor, and the times and lengths are those routes'
/// real ones. Immutable and thread-safe.
/// </summary>
public sealed class ArrivalTree
{
    private readonly TravelTimeTable _table;

    internal ArrivalTree(TravelTimeTable table, int target, double maxSpeed, double laneCostFactor, double[] block, int capacity, int slot, float[] metres, int[] nextLane, double farthestMetres)
    {
        _table = table;
        Target = target;
        MaxSpeed = maxSpeed;
        LaneCostFactor = laneCostFactor;
        Block = block;
        Capacity = capacity;
        Slot = slot;
        Metres = metres;
        NextLane = nextLane;
        FarthestMetres = farthestMetres;
    }

    internal int Target { get; }

    internal double MaxSpeed { get; }

    /// <summary>The lane cost factor its routes were chosen by (the cache's factor key).</summary>
    internal double LaneCostFactor { get; }

    /// <summary>Its key in the table's cache: target, speed key, factor key.</summary>
    internal (int, double, double) Key => (Target, MaxSpeed, LaneCostFactor);

    /// <summary>Seconds block the times live in: the time from waypoint w is <c>Block[w x Capacity + Slot]</c>.</summary>
    internal double[] Block { get; }

    internal int Capacity { get; }

    internal int Slot { get; }

    internal float[] Metres { get; }

    internal int[] NextLane { get; }

    /// <summary>Largest finite route length into the target, metres (for quick energy checks).</summary>
    internal double FarthestMetres { get; }

    /// <summary>Recency stamp for the cache's eviction; written without a lock (a lost update only ages the tree).</summary>
    internal long LastUsed { get; set; }

    /// <summary>Target waypoint id.</summary>
    public string ToWaypointId => _table.IdAt(Target);

    /// <summary>Travel time in seconds of the tree's route from a waypoint to the target (the fastest, unless weighted); +infinity when unreachable or not on the map.</summary>
    /// <param name="waypointId">Source waypoint id.</param>
    /// <returns>Seconds.</returns>
    public double SecondsFrom(string waypointId) => _table.TryIndex(waypointId, out var i) ? SecondsFrom(i) : double.PositiveInfinity;

    /// <summary>Length in metres of the fastest route from a waypoint to the target; +infinity when unreachable or not on the map.</summary>
    /// <param name="waypointId">Source waypoint id.</param>
    /// <returns>Metres.</returns>
    public double MetresFrom(string waypointId) => _table.TryIndex(waypointId, out var i) ? Metres[i] : double.PositiveInfinity;

    /// <summary>The fastest route from a waypoint to the target; null when unreachable or not on the map.</summary>
    /// <param name="waypointId">Source waypoint id.</param>
    /// <returns>The route or null.</returns>
    public Route? RouteFrom(string waypointId) =>
        _table.TryIndex(waypointId, out var i) ? RouteFrom(i) : null;

    internal double SecondsFrom(int source) => Block[((long)source * Capacity) + Slot];

    internal Route? RouteFrom(int source) => _table.BuildRouteTo(source, Target, NextLane, MaxSpeed);

    /// <summary>This standalone tree's times copied into a cache block slot (strided writes), as a tree reading from there.</summary>
    internal ArrivalTree MoveTo(double[] block, int capacity, int slot)
    {
        for (var w = 0; w < Metres.Length; w++)
        {
            block[((long)w * capacity) + slot] = SecondsFrom(w);
        }
        return Relocated(block, capacity, slot);
    }

    /// <summary>The same tree reading its times from another block (already filled).</summary>
    internal ArrivalTree Relocated(double[] block, int capacity, int slot) =>
        new(_table, Target, MaxSpeed, LaneCostFactor, block, capacity, slot, Metres, NextLane, FarthestMetres) { LastUsed = LastUsed };
}
