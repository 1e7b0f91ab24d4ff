using NetTopologySuite.Geometries;
using NetTopologySuite.Index.Strtree;
using RobotFleet.Maps;

namespace RobotFleet.Planning.Traffic;

/// <summary>
/// The space traffic control reserves, derived once from a <see cref="SiteMap"/> and the robots' footprint: every waypoint
/// and every lane segment (a two-way lane's two directions are one segment) is a <i>resource</i> one robot at a time may
/// hold, and two resources <i>conflict</i> when a robot on one would come closer than the footprint diameter to a robot on
/// the other (same level, geometric distance below 2 x radius; a waypoint conflicts with the lanes that end at it, lanes
/// that cross or meet conflict; two waypoints conflict below 3 x radius, so that a robot can always drive off past a robot
/// standing on the other). On top of geometry: all stops and rides of one lift conflict (the lift is one session,
/// whoever holds any part of it holds all of it), all lanes through one door conflict (one robot in a doorway), and all
/// waypoints and lanes of one dead-end spur (a <see cref="DeadEndBranches"/> branch, a tree hanging off the map's loops, of
/// at most <see cref="MaxSpurWaypoints"/> waypoints, or a single chain of any length: a long dead-end lane split into
/// pieces, where nobody can pass) conflict (one robot in a spur at a time: <see cref="PibtTrafficController"/> applies that
/// to robots going in; robots already in one spur together move apart by the other conflicts).
/// Also the directed graph (outgoing lanes per waypoint) and fastest travel times to a goal (seconds, reverse Dijkstra,
/// cached per goal, lane-closure set and loop flow weight: lanes against a loop's flow may be made to cost more).
/// </summary>
/// <remarks>
/// Waypoints are numbered 0..<see cref="WaypointCount"/>-1; resource ids are waypoint numbers, then segments after them.
/// Immutable after construction apart from the travel-time cache, which is guarded by a lock: safe to share between threads.
/// </remarks>
public sealed class TrafficSpace
{
    private readonly string[] _ids;
    private readonly Dictionary<string, int> _index;
    private readonly Dictionary<string, int> _laneIndex;
    private readonly object _cacheLock = new();
    private readonly Dictionary<(int Goal, int Closures, double FlowWeight), LinkedListNode<(int Goal, int Closures, double FlowWeight, float[] Times)>> _cache = [];
    private readonly LinkedList<(int Goal, int Closures, double FlowWeight, float[] Times)> _lru = [];
    private readonly int _cacheCapacity;

    /// <summary>Derives the traffic space of a map.</summary>
    /// <param name="map">The site map.</param>
    /// <param name="footprintRadius">Radius of the circle that holds a robot, in metres (> 0); two robots closer than twice this collide.</param>
    /// <param name="maxSpeed">Robot top speed in metres per second (> 0), for travel times on lanes without a lower limit.</param>
    /// <param name="cacheBytes">Most memory the per-goal travel-time cache may use, in bytes (at least 64 goals are kept).</param>
    /// <exception cref="ArgumentOutOfRangeException">The radius or speed is not a finite positive number.</exception>
    public TrafficSpace(SiteMap map, double footprintRadius, double maxSpeed = 1.0, long cacheBytes = 128L << 20)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (!double.IsFinite(footprintRadius) || footprintRadius <= 0)
            throw new ArgumentOutOfRangeException(nameof(footprintRadius), footprintRadius, "Footprint radius must be a finite number > 0 (m).");
        if (!double.IsFinite(maxSpeed) || maxSpeed <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxSpeed), maxSpeed, "Top speed must be a finite number > 0 (m/s).");
        Map = map;
        FootprintRadius = footprintRadius;
        _ids = map.Waypoints.Keys.Order(StringComparer.Ordinal).ToArray();
        _index = new Dictionary<string, int>(_ids.Length, StringComparer.Ordinal);
        for (var i = 0; i < _ids.Length; i++)
            _index[_ids[i]] = i;
        WaypointCount = _ids.Length;

        Lanes = map.Lanes.ToArray();
        _laneIndex = new Dictionary<string, int>(Lanes.Length, StringComparer.Ordinal);
        LaneFrom = new int[Lanes.Length];
        LaneTo = new int[Lanes.Length];
        _laneSeconds = new double[Lanes.Length];
        LaneResource = new int[Lanes.Length];
        var segments = new Dictionary<(int, int), int>();
        for (var l = 0; l < Lanes.Length; l++)
        {
            var lane = Lanes[l];
            _laneIndex[lane.Id] = l;
            LaneFrom[l] = _index[lane.FromWaypointId];
            LaneTo[l] = _index[lane.ToWaypointId];
            _laneSeconds[l] = lane.RideSeconds ?? lane.Length / Math.Min(lane.SpeedLimit ?? maxSpeed, maxSpeed);
            var key = (Math.Min(LaneFrom[l], LaneTo[l]), Math.Max(LaneFrom[l], LaneTo[l]));
            if (!segments.TryGetValue(key, out var segment))
                segments[key] = segment = segments.Count;
            LaneResource[l] = WaypointCount + segment;
        }

        ResourceCount = WaypointCount + segments.Count;
        OutStart = new int[WaypointCount + 1];
        InStart = new int[WaypointCount + 1];
        foreach (var l in Enumerable.Range(0, Lanes.Length))
        {
            OutStart[LaneFrom[l] + 1]++;
            InStart[LaneTo[l] + 1]++;
        }

        for (var w = 0; w < WaypointCount; w++)
        {
            OutStart[w + 1] += OutStart[w];
            InStart[w + 1] += InStart[w];
        }

        OutLanes = new int[Lanes.Length];
        InLanes = new int[Lanes.Length];
        var outFill = (int[])OutStart.Clone();
        var inFill = (int[])InStart.Clone();
        for (var l = 0; l < Lanes.Length; l++)
        {
            OutLanes[outFill[LaneFrom[l]]++] = l;
            InLanes[inFill[LaneTo[l]]++] = l;
        }

        _isLiftWaypoint = new bool[WaypointCount];
        foreach (var stop in map.Lifts.SelectMany(lift => lift.Stops))
            _isLiftWaypoint[_index[stop.WaypointId]] = true;
        var branches = DeadEndBranches.Of(map);
        BranchOf = new int[WaypointCount];
        Array.Fill(BranchOf, -1);
        BranchWaypoints = branches.All.Select(b => b.Waypoints.Select(w => _index[w]).ToArray()).ToArray();
        BranchMouth = branches.All.Select(b => _index[b.Mouth]).ToArray();
        for (var b = 0; b < BranchWaypoints.Length; b++)
        {
            foreach (var w in BranchWaypoints[b])
                BranchOf[w] = b;
        }

        var neighbours = new List<int>[WaypointCount];
        for (var w = 0; w < WaypointCount; w++)
            neighbours[w] = [];
        for (var l = 0; l < Lanes.Length; l++)
        {
            if (LaneFrom[l] == LaneTo[l] || Lanes[l].LiftId is not null)
                continue;
            if (!neighbours[LaneFrom[l]].Contains(LaneTo[l]))
                neighbours[LaneFrom[l]].Add(LaneTo[l]);
            if (!neighbours[LaneTo[l]].Contains(LaneFrom[l]))
                neighbours[LaneTo[l]].Add(LaneFrom[l]);
        }

        var lanePairs = new HashSet<(int, int)>();
        for (var l = 0; l < Lanes.Length; l++)
            lanePairs.Add((LaneFrom[l], LaneTo[l]));
        TwoWayArray = new bool[WaypointCount];
        Array.Fill(TwoWayArray, true);
        for (var l = 0; l < Lanes.Length; l++)
        {
            if (!lanePairs.Contains((LaneTo[l], LaneFrom[l])))
                TwoWayArray[LaneFrom[l]] = false;
        }

        SpurArray = BranchWaypoints.Select(b => b.Length <= MaxSpurWaypoints || b.All(w => neighbours[w].Count <= 2)).ToArray();
        (ChainExit, ChainExitHops, ChainFirst) = ChainExits(neighbours);
        IsChainExit = new bool[WaypointCount];
        foreach (var exit in ChainExit.Where(e => e >= 0))
            IsChainExit[exit] = true;
        (Conflicts, HardConflicts, SpurParts, SpurOfResource) = BuildConflicts(map, segments);
        AgainstFlowArray = new bool[Lanes.Length];
        var loops = OneWayLoops.Blocks(map);
        foreach (var id in loops.Against)
            AgainstFlowArray[_laneIndex[id]] = true;
        LoopMetres = loops.BlockOf.Keys.Where(id => !loops.Against.Contains(id)).Sum(id => Lanes[_laneIndex[id]].Length);
        _cacheCapacity = (int)Math.Max(64, Math.Min(int.MaxValue, cacheBytes / Math.Max(1, 4L * WaypointCount)));
    }

    /// <summary>The map this space is derived from.</summary>
    public SiteMap Map { get; }

    /// <summary>Footprint radius in metres.</summary>
    public double FootprintRadius { get; }

    /// <summary>Number of waypoints (resource ids 0..WaypointCount-1).</summary>
    public int WaypointCount { get; }

    /// <summary>Number of resources: waypoints, then lane segments.</summary>
    public int ResourceCount { get; }

    internal Lane[] Lanes { get; }
    internal int[] LaneFrom { get; }
    internal int[] LaneTo { get; }
    /// <summary>Seconds to drive each lane (by lane number, the order of <see cref="SiteMap.Lanes"/>): a lift ride's seconds, else length over the lower of its limit and the top speed.</summary>
    public IReadOnlyList<double> LaneSeconds => _laneSeconds;

    private readonly double[] _laneSeconds;

    internal double[] LaneSecondsArray => _laneSeconds;

    /// <summary>
    /// Per lane number: whether the lane runs against its loop's flow, the direction <see cref="OneWayLoops"/> drives the loop
    /// round (<see cref="OneWayLoopBlocks.Against"/>); such lanes cost a flow weight times their seconds in
    /// <see cref="TimesTo"/> (Cohen, Uras, Koenig, "Feasibility study: Using highways for bounded-suboptimal multi-agent path
    /// finding", SoCS 2015: edges against a highway's direction cost w times more).
    /// </summary>
    internal bool[] AgainstFlowArray { get; }

    /// <summary>Metres of lane on the map's loops of two-way lanes (each two-way connection of a <see cref="OneWayLoopBlocks"/> block once); 0 when the map has none.</summary>
    public double LoopMetres { get; }

    /// <summary>
    /// What driving on through a waypoint a stranded robot holds (one that will not move until a person acts) adds to the
    /// travel times PIBT routes by, in seconds: more than any way round (even at the highest loop flow weight), small enough
    /// that a float still tells the waypoints behind it apart (a queue behind it keeps its order).
    /// </summary>
    public const double StrandedPassSeconds = 1e6;

    /// <summary>A lane's routing cost in seconds: its seconds, times <paramref name="flowWeight"/> when it runs against its loop's flow.</summary>
    internal double LaneCost(int lane, double flowWeight) => AgainstFlowArray[lane] ? _laneSeconds[lane] * flowWeight : _laneSeconds[lane];

    internal bool[] LiftArray => _isLiftWaypoint;
    internal int[] LaneResource { get; }
    internal int[] OutStart { get; }
    internal int[] OutLanes { get; }
    internal int[] InStart { get; }
    internal int[] InLanes { get; }
    /// <summary>Whether each waypoint (by number) is a lift stop.</summary>
    public IReadOnlyList<bool> IsLiftWaypoint => _isLiftWaypoint;

    private readonly bool[] _isLiftWaypoint;

    /// <summary>For each waypoint (by number), whether every lane leaving it has a lane back (no one-way lane leaves it).</summary>
    internal bool[] TwoWayArray { get; }

    /// <summary>For each waypoint, the dead-end branch (<see cref="DeadEndBranches"/>) it lies in, or -1 on the loops.</summary>
    internal int[] BranchOf { get; }

    /// <summary>The waypoints of each dead-end branch.</summary>
    internal int[][] BranchWaypoints { get; }

    /// <summary>For each dead-end branch, the waypoint on the loops it hangs off (its way out).</summary>
    internal int[] BranchMouth { get; }

    /// <summary>
    /// Dead-end branches of at most this many waypoints (spurs: chargers, docks, pick faces) are one resource each; so is a
    /// dead-end branch of any length that is a single chain (a dead-end corridor: nobody can pass in it).
    /// </summary>
    public const int MaxSpurWaypoints = 4;

    /// <summary>For each dead-end branch, whether it is a spur: one resource, one robot in it at a time (see <see cref="MaxSpurWaypoints"/>).</summary>
    internal bool[] SpurArray { get; }

    /// <summary>
    /// For each waypoint inside a dead-end branch that is no spur (a wing: a dead-end tree), the first waypoint on its way
    /// to the branch's mouth that is a fork (two ways on besides the one it came by, neither a single dead-end waypoint:
    /// a room or a parking place off a corridor, often taken, is no room for a queue to step aside) or the mouth itself;
    /// -1 elsewhere, and on a fork. Where a robot at the closed end of a dead-end chain inside a wing (a room at the end of
    /// a hotel corridor) must get to before robots queued behind it can let it pass, or it them.
    /// </summary>
    internal int[] ChainExit { get; }

    /// <summary>For each waypoint with a <see cref="ChainExit"/>, how many lanes away that exit is; 0 elsewhere.</summary>
    internal int[] ChainExitHops { get; }

    /// <summary>
    /// For each waypoint with a <see cref="ChainExit"/>, the waypoint of its chain next to that exit (the same for every
    /// waypoint of one chain: the chain's name); -1 elsewhere.
    /// </summary>
    internal int[] ChainFirst { get; }

    /// <summary>For each waypoint, whether it is the <see cref="ChainExit"/> of some waypoint.</summary>
    internal bool[] IsChainExit { get; }

    /// <summary>For each resource, the other resources it conflicts with (geometry, lifts, doors and dead-end spurs).</summary>
    internal int[][] Conflicts { get; }

    /// <summary>
    /// For each resource, the resources it conflicts with by geometry, lift or door: what two robots may never hold at once.
    /// <see cref="Conflicts"/> without the spur rule, which only keeps robots from going into a spur another robot is in: two
    /// robots already in one spur (parked there, or placed there at start) may move in it and out of it apart from these.
    /// </summary>
    internal int[][] HardConflicts { get; }

    /// <summary>For each spur (by dead-end branch number; empty for a branch that is no spur), its resources: its waypoints and every lane segment touching them.</summary>
    internal int[][] SpurParts { get; }

    /// <summary>For each resource, the spur it is a part of (<see cref="SpurParts"/>), or -1.</summary>
    internal int[] SpurOfResource { get; }

    private (int[] Exit, int[] Hops, int[] First) ChainExits(List<int>[] neighbours)
    {
        var exit = new int[WaypointCount];
        Array.Fill(exit, -1);
        var first = new int[WaypointCount];
        Array.Fill(first, -1);
        var exitHops = new int[WaypointCount];
        var towardMouth = new int[WaypointCount];
        for (var b = 0; b < BranchWaypoints.Length; b++)
        {
            if (SpurArray[b])
                continue;
            // Breadth first from the mouth over the branch: each waypoint's neighbour one hop nearer the mouth.
            var mouth = BranchMouth[b];
            towardMouth[mouth] = -1;
            var queue = new Queue<int>([mouth]);
            var seen = new HashSet<int> { mouth };
            while (queue.TryDequeue(out var at))
            {
                foreach (var next in neighbours[at])
                {
                    if (BranchOf[next] == b && seen.Add(next))
                    {
                        towardMouth[next] = at;
                        queue.Enqueue(next);
                    }
                }
            }

            foreach (var w in BranchWaypoints[b])
            {
                if (!seen.Contains(w) || neighbours[w].Count(n => neighbours[n].Count >= 2) >= 3)
                    continue;
                var (from, at) = (w, towardMouth[w]);
                var hops = 1;
                for (; at != mouth && !Fork(at, from); hops++)
                    (from, at) = (at, towardMouth[at]);
                exit[w] = at;
                exitHops[w] = hops;
                first[w] = from;
            }
        }

        return (exit, exitHops, first);

        // Room to step aside on the way out of a chain: two ways on from here that are not dead-end waypoints (a parking
        // place or a room off the chain, often taken, is no room for a queue).
        bool Fork(int at, int from) => neighbours[at].Count(n => n != from && neighbours[n].Count >= 2) >= 2;
    }

    /// <summary>The waypoint id of waypoint number <paramref name="waypoint"/>.</summary>
    public string WaypointId(int waypoint) => _ids[waypoint];

    /// <summary>The number of a waypoint.</summary>
    /// <exception cref="ArgumentException">No waypoint has that id; the message names it.</exception>
    public int IndexOf(string waypointId) =>
        _index.TryGetValue(waypointId, out var i) ? i : throw new ArgumentException($"waypoint '{waypointId}' is not on map '{Map.Id}'", nameof(waypointId));

    /// <summary>The number of a lane.</summary>
    /// <exception cref="ArgumentException">No lane has that id; the message names it.</exception>
    public int LaneIndexOf(string laneId) =>
        _laneIndex.TryGetValue(laneId, out var i) ? i : throw new ArgumentException($"lane '{laneId}' is not on map '{Map.Id}'", nameof(laneId));

    /// <summary>True when resources <paramref name="a"/> and <paramref name="b"/> conflict (never for a resource with itself).</summary>
    public bool ConflictsWith(int a, int b) => Conflicts[a].Contains(b);

    /// <summary>The number of the lane from waypoint <paramref name="from"/> to waypoint <paramref name="to"/> (numbers as in <see cref="SiteMap.Lanes"/>), or -1 when there is none.</summary>
    public int LaneBetween(int from, int to)
    {
        for (var k = OutStart[from]; k < OutStart[from + 1]; k++)
        {
            if (LaneTo[OutLanes[k]] == to)
                return OutLanes[k];
        }

        return -1;
    }

    /// <summary>
    /// The lane out of <paramref name="waypoint"/> on the fastest way to a goal: the one, among lanes that are not closed and
    /// lower the travel time (<paramref name="times"/>, seconds to the goal, as <see cref="TimesTo"/> gives them), with the
    /// lowest time to the goal plus its own cost (<see cref="LaneCost"/>; the first of equals); -1 when none lowers it (at the
    /// goal, or no way). <paramref name="flowWeight"/> must be the one <paramref name="times"/> were computed with. (PIBT's
    /// own choice of move ranks by the time from where a move leads alone, so where the goal is one lane back against the
    /// flow PIBT steps onto it while this looks round; pricing the lane at its seconds here too cost the airport terminal
    /// stalls: 5 to 8 over seeds 1 to 58, twenty-sixth session.)
    /// </summary>
    internal int FastestLaneOut(int waypoint, float[] times, Func<int, bool> closed, double flowWeight)
    {
        var best = -1;
        var bestKey = double.PositiveInfinity;
        for (var e = OutStart[waypoint]; e < OutStart[waypoint + 1]; e++)
        {
            var lane = OutLanes[e];
            var to = LaneTo[lane];
            if (closed(lane) || !(times[to] < times[waypoint]))
                continue;
            var key = times[to] + LaneCost(lane, flowWeight);
            if (key < bestKey - 1e-9)
            {
                best = lane;
                bestKey = key;
            }
        }

        return best;
    }

    /// <summary>Fastest travel time in seconds from one waypoint to another with no lane closed; +infinity when there is no way.</summary>
    /// <exception cref="ArgumentException">A waypoint is not on the map.</exception>
    public double TravelTime(string fromWaypointId, string toWaypointId) => TravelTime(fromWaypointId, toWaypointId, 1);

    /// <summary>
    /// Travel cost in seconds from one waypoint to another with no lane closed, lanes against a loop's flow counted
    /// <paramref name="flowWeight"/> times their seconds (see <see cref="PibtTrafficOptions.LoopFlowWeight"/>): what a traffic
    /// controller with that weight measures progress by; +infinity when there is no way.
    /// </summary>
    /// <exception cref="ArgumentException">A waypoint is not on the map.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="flowWeight"/> is not a finite number >= 1.</exception>
    public double TravelTime(string fromWaypointId, string toWaypointId, double flowWeight) =>
        !double.IsFinite(flowWeight) || flowWeight < 1
            ? throw new ArgumentOutOfRangeException(nameof(flowWeight), flowWeight, "Flow weight must be a finite number >= 1.")
            : TimesTo(IndexOf(toWaypointId), 0, static _ => false, flowWeight)[IndexOf(fromWaypointId)];

    /// <summary>
    /// Fastest travel time in seconds from every waypoint to <paramref name="goal"/> (reverse Dijkstra over lane times; lanes
    /// for which <paramref name="closed"/> is true are not driven; +infinity where the goal cannot be reached); lanes against a
    /// loop's flow cost <paramref name="flowWeight"/> times their seconds (<see cref="LaneCost"/>; 1: plain travel time).
    /// Driving on from a waypoint <paramref name="stranded"/> is true for (but the goal) costs <see cref="StrandedPassSeconds"/>
    /// more: the time from it, and through it, has that added.
    /// Cached per goal, <paramref name="closures"/> generation (callers bump it whenever the closed or stranded set changes)
    /// and flow weight, least recently used first out. The array is shared: do not change it.
    /// </summary>
    internal float[] TimesTo(int goal, int closures, Func<int, bool> closed, double flowWeight, Func<int, bool>? stranded = null)
    {
        lock (_cacheLock)
        {
            if (_cache.TryGetValue((goal, closures, flowWeight), out var node))
            {
                _lru.Remove(node);
                _lru.AddFirst(node);
                return node.Value.Times;
            }
        }

        var times = new float[WaypointCount];
        Array.Fill(times, float.PositiveInfinity);
        var best = new double[WaypointCount];
        Array.Fill(best, double.PositiveInfinity);
        var open = new PriorityQueue<int, double>();
        best[goal] = 0;
        open.Enqueue(goal, 0);
        while (open.TryDequeue(out var w, out var cost))
        {
            if (cost > best[w])
                continue;
            if (w != goal && stranded?.Invoke(w) == true)
                cost += StrandedPassSeconds; // from it, and through it
            times[w] = (float)cost;
            for (var k = InStart[w]; k < InStart[w + 1]; k++)
            {
                var lane = InLanes[k];
                if (closed(lane))
                    continue;
                var from = LaneFrom[lane];
                var next = cost + LaneCost(lane, flowWeight);
                if (next < best[from])
                {
                    best[from] = next;
                    open.Enqueue(from, next);
                }
            }
        }

        lock (_cacheLock)
        {
            if (!_cache.ContainsKey((goal, closures, flowWeight)))
            {
                _cache[(goal, closures, flowWeight)] = _lru.AddFirst((goal, closures, flowWeight, times));
                while (_cache.Count > _cacheCapacity && _lru.Last is { } last)
                {
                    _cache.Remove((last.Value.Goal, last.Value.Closures, last.Value.FlowWeight));
                    _lru.RemoveLast();
                }
            }
        }

        return times;
    }

    private (int[][] All, int[][] Hard, int[][] SpurParts, int[] SpurOf) BuildConflicts(SiteMap map, Dictionary<(int, int), int> segments)
    {
        var sets = new HashSet<int>[ResourceCount];
        for (var r = 0; r < ResourceCount; r++)
            sets[r] = [];
        void Link(int a, int b)
        {
            if (a == b)
                return;
            sets[a].Add(b);
            sets[b].Add(a);
        }

        var factory = new GeometryFactory();
        var geometry = new Geometry?[ResourceCount];
        var level = new string[ResourceCount];
        for (var w = 0; w < WaypointCount; w++)
        {
            var waypoint = map.Waypoints[_ids[w]];
            geometry[w] = factory.CreatePoint(new Coordinate(waypoint.X, waypoint.Y));
            level[w] = waypoint.LevelId;
        }

        var rides = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var doors = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var l = 0; l < Lanes.Length; l++)
        {
            var r = LaneResource[l];
            if (Lanes[l].LiftId is { } lift)
            {
                (rides.TryGetValue(lift, out var list) ? list : rides[lift] = []).Add(r);
                continue; // a ride is not on one floor: it conflicts through its lift, not by geometry
            }

            if (Lanes[l].DoorId is { } door)
                (doors.TryGetValue(door, out var list) ? list : doors[door] = []).Add(r);
            if (geometry[r] is not null)
                continue;
            var from = map.Waypoints[_ids[LaneFrom[l]]];
            var to = map.Waypoints[_ids[LaneTo[l]]];
            geometry[r] = factory.CreateLineString([new Coordinate(from.X, from.Y), new Coordinate(to.X, to.Y)]);
            level[r] = from.LevelId;
        }

        // Geometry: anything closer than the footprint diameter on the same level conflicts (an STR-tree finds the candidates).
        var diameter = 2 * FootprintRadius;
        var tree = new STRtree<int>();
        for (var r = 0; r < ResourceCount; r++)
        {
            if (geometry[r] is { } g)
                tree.Insert(g.EnvelopeInternal, r);
        }

        tree.Build();
        for (var r = 0; r < ResourceCount; r++)
        {
            if (geometry[r] is not { } g)
                continue;
            var search = new Envelope(g.EnvelopeInternal);
            search.ExpandBy(diameter + FootprintRadius);
            foreach (var other in tree.Query(search))
            {
                // Two robots standing on waypoints closer than 3 radii are too close for either to drive off without
                // brushing the other (found on the airport terminal: junctions 1.005 m apart): such waypoints conflict too.
                var limit = r < WaypointCount && other < WaypointCount ? diameter + FootprintRadius : diameter;
                if (other > r && level[other] == level[r] && g.Distance(geometry[other]) < limit - 1e-9)
                    Link(r, other);
            }
        }

        // A lift is one session: its stops and rides all conflict. A doorway takes one robot at a time.
        foreach (var lift in map.Lifts)
        {
            var parts = lift.Stops.Select(s => _index[s.WaypointId]).Concat(rides.GetValueOrDefault(lift.Id) ?? []).Distinct().ToList();
            foreach (var a in parts)
            {
                foreach (var b in parts)
                    Link(a, b);
            }
        }

        foreach (var lanes in doors.Values)
        {
            foreach (var a in lanes)
            {
                foreach (var b in lanes)
                    Link(a, b);
            }
        }

        // A ride also conflicts with its two stops' neighbourhoods through the stops (a robot on a stop holds the lift).
        for (var l = 0; l < Lanes.Length; l++)
        {
            if (Lanes[l].LiftId is null)
                continue;
            Link(LaneResource[l], LaneFrom[l]);
            Link(LaneResource[l], LaneTo[l]);
        }

        var hard = sets.Select(s => s.Order().ToArray()).ToArray();

        // A dead-end spur takes one robot at a time (a robot in it can only come out the way the next one goes in): its
        // waypoints and every lane touching them conflict. Larger dead-end trees (a hotel wing hanging off the loop through
        // two lifts) are left to PIBT's pushes: as one resource they would take one robot per wing.
        var spurParts = new int[BranchWaypoints.Length][];
        var spurOf = new int[ResourceCount];
        Array.Fill(spurOf, -1);
        for (var b = 0; b < BranchWaypoints.Length; b++)
        {
            if (!SpurArray[b])
            {
                spurParts[b] = [];
                continue;
            }

            var parts = BranchWaypoints[b].ToList();
            for (var l = 0; l < Lanes.Length; l++)
            {
                if (BranchOf[LaneFrom[l]] == b || BranchOf[LaneTo[l]] == b)
                    parts.Add(LaneResource[l]);
            }

            spurParts[b] = parts.Distinct().Order().ToArray();
            foreach (var a in spurParts[b])
            {
                spurOf[a] = b;
                foreach (var c in spurParts[b])
                    Link(a, c);
            }
        }

        return (sets.Select(s => s.Order().ToArray()).ToArray(), hard, spurParts, spurOf);
    }
}
