using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using QuikGraph;
using QuikGraph.Algorithms;
using QuikGraph.Algorithms.Observers;
using QuikGraph.Algorithms.ShortestPath;
using RobotFleet.Maps;
using RobotFleet.Planning;

namespace RobotFleet.Benchmarks;

/// <summary>
/// One route query (fastest route between two waypoints) on generated directed aisle grids of about 10,000 and 100,000
/// waypoints: ours (<see cref="RouteGraph.FindRoute"/>, and one uncached <see cref="TravelTimeTable.From"/> tree) against
/// QuikGraph 2.5.0's Dijkstra on an equivalent <see cref="AdjacencyGraph{TVertex,TEdge}"/> with the same lane costs
/// (seconds = length / speed limit or 1.0 m/s). One operation answers the same seeded source/target pairs; the setup checks
/// that every side finds the same travel time for every pair before anything is timed.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class RouteQueryBenchmarks
{
    /// <summary>Route queries per operation: 100 on the 10,000-waypoint grid, 20 on the 100,000 one (QuikGraph takes ~0.1 s a query there).</summary>
    public static int PairsFor(int waypoints) => waypoints >= 100_000 ? 20 : 100;

    private RouteQueryWorkload _work = null!;

    /// <summary>Waypoints of the generated grid: 100 x 100 or 316 x 316 (99,856).</summary>
    [Params(10_000, 100_000)]
    public int Waypoints { get; set; } = 10_000;

    /// <summary>Builds the grid, both graphs and the pairs, and checks that all sides agree.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _work = new RouteQueryWorkload(Waypoints, seed: 1, PairsFor(Waypoints));
        _work.CheckAllAgree();
    }

    /// <summary>QuikGraph Dijkstra, stopped when the target is finished (its best case for one query).</summary>
    [Benchmark(Baseline = true, Description = "QuikGraph Dijkstra, stop at target (baseline)")]
    public double QuikGraphEarlyExit() => _work.QuikGraphEarlyExit();

    /// <summary>QuikGraph's <c>ShortestPathsDijkstra</c> extension: the whole tree from the source, then the route to the target.</summary>
    [Benchmark(Description = "QuikGraph ShortestPathsDijkstra (whole tree)")]
    public double QuikGraphWholeTree() => _work.QuikGraphWholeTree();

    /// <summary>QuikGraph A* with the same straight-line heuristic as ours (metres / fastest lane speed), stopped at the target.</summary>
    [Benchmark(Description = "QuikGraph A*, stop at target")]
    public double QuikGraphAStar() => _work.QuikGraphAStar();

    /// <summary>Ours: A* on travel time with route materialised (lanes and waypoint ids).</summary>
    [Benchmark(Description = "RouteGraph.FindRoute (A*)")]
    public double RouteGraphFindRoute() => _work.Ours();

    /// <summary>Ours: one uncached Dijkstra tree from the source (what the dispatcher computes per robot when not cached).</summary>
    [Benchmark(Description = "TravelTimeTable.From (whole tree)")]
    public double TravelTimeTableFrom() => _work.TableFrom();
}

/// <summary>The generated grid, its two graph representations and the seeded query pairs; shared by the suite and the quick run.</summary>
internal sealed class RouteQueryWorkload
{
    /// <summary>Speed in metres per second on lanes without a limit (the aisles), as the map's default.</summary>
    public const double DefaultSpeed = 1.0;

    /// <summary>Speed limit of the cross-aisles, metres per second.</summary>
    public const double CrossAisleSpeed = 1.5;

    private readonly AdjacencyGraph<int, SEquatableEdge<int>> _quik;
    private readonly Dictionary<SEquatableEdge<int>, double> _seconds;
    private readonly Func<SEquatableEdge<int>, double> _weight;
    private readonly (int From, int To)[] _pairs;
    private readonly string[] _ids;
    private readonly double[] _x;
    private readonly double[] _y;

    public RouteQueryWorkload(int waypoints, int seed, int pairs)
    {
        var side = (int)Math.Round(Math.Sqrt(waypoints));
        Map = AisleGrid(side, side);
        Graph = new RouteGraph(Map, DefaultSpeed);
        Table = new TravelTimeTable(Map, DefaultSpeed, cacheBudgetBytes: 0);
        _ids = [.. Map.Waypoints.Keys.Order(StringComparer.Ordinal)];
        var index = _ids.Select((id, i) => (id, i)).ToDictionary(x => x.id, x => x.i, StringComparer.Ordinal);
        _x = [.. _ids.Select(id => Map.Waypoints[id].X)];
        _y = [.. _ids.Select(id => Map.Waypoints[id].Y)];

        // The same graph for QuikGraph: int vertices, one edge per lane, the lane's travel time as its weight.
        // (QuikGraph's edgeCapacity is per vertex: at most 3 lanes leave a waypoint of this grid.)
        _quik = new AdjacencyGraph<int, SEquatableEdge<int>>(allowParallelEdges: false, vertexCapacity: _ids.Length, edgeCapacity: 4);
        _quik.AddVertexRange(Enumerable.Range(0, _ids.Length));
        _seconds = new Dictionary<SEquatableEdge<int>, double>(Map.Lanes.Count);
        foreach (var lane in Map.Lanes)
        {
            var edge = new SEquatableEdge<int>(index[lane.FromWaypointId], index[lane.ToWaypointId]);
            _quik.AddEdge(edge);
            _seconds[edge] = lane.Length / (lane.SpeedLimit ?? DefaultSpeed);
        }
        _weight = e => _seconds[e];

        var random = new Random(seed);
        _pairs = new (int, int)[pairs];
        for (var i = 0; i < pairs; i++)
        {
            int from, to;
            do
            {
                (from, to) = (random.Next(_ids.Length), random.Next(_ids.Length));
            }
            while (from == to);
            _pairs[i] = (from, to);
        }
    }

    public SiteMap Map { get; }

    public RouteGraph Graph { get; }

    public TravelTimeTable Table { get; }

    public int PairCount => _pairs.Length;

    /// <summary>Throws unless ours (A* and the table) and QuikGraph (both ways) find the same travel time for every pair.</summary>
    public void CheckAllAgree()
    {
        foreach (var (from, to) in _pairs)
        {
            var ours = Graph.FindRoute(_ids[from], _ids[to]);
            var table = Table.From(_ids[from]).SecondsTo(_ids[to]);
            var early = QuikEarly(from, to);
            var whole = QuikWhole(from, to);
            var astar = QuikAStar(from, to);
            if (ours is null || !Same(ours.TravelTime, early) || !Same(table, early) || !Same(whole, early) || !Same(astar, early))
            {
                throw new InvalidOperationException($"{_ids[from]} -> {_ids[to]}: A* {ours?.TravelTime} s, table {table} s, QuikGraph {early} s / {whole} s / A* {astar} s");
            }
            if (!Same(ours.Lanes.Sum(l => l.Length / (l.SpeedLimit ?? DefaultSpeed)), ours.TravelTime))
            {
                throw new InvalidOperationException($"{_ids[from]} -> {_ids[to]}: the route's lanes do not add up to its travel time");
            }
        }
    }

    public double Ours()
    {
        var total = 0.0;
        foreach (var (from, to) in _pairs)
        {
            total += Graph.FindRoute(_ids[from], _ids[to])!.TravelTime;
        }
        return total;
    }

    public double TableFrom()
    {
        var total = 0.0;
        foreach (var (from, to) in _pairs)
        {
            total += Table.From(_ids[from]).SecondsTo(_ids[to]);
        }
        return total;
    }

    public double QuikGraphEarlyExit()
    {
        var total = 0.0;
        foreach (var (from, to) in _pairs)
        {
            total += QuikEarly(from, to);
        }
        return total;
    }

    public double QuikGraphAStar()
    {
        var total = 0.0;
        foreach (var (from, to) in _pairs)
        {
            total += QuikAStar(from, to);
        }
        return total;
    }

    public double QuikGraphWholeTree()
    {
        var total = 0.0;
        foreach (var (from, to) in _pairs)
        {
            total += QuikWhole(from, to);
        }
        return total;
    }

    /// <summary>QuikGraph's Dijkstra with a predecessor recorder, aborted once the target is finished; the route's travel time.</summary>
    private double QuikEarly(int from, int to)
    {
        var dijkstra = new DijkstraShortestPathAlgorithm<int, SEquatableEdge<int>>(_quik, _weight);
        var predecessors = new VertexPredecessorRecorderObserver<int, SEquatableEdge<int>>();
        using (predecessors.Attach(dijkstra))
        {
            dijkstra.FinishVertex += v =>
            {
                if (v == to)
                {
                    dijkstra.Abort();
                }
            };
            dijkstra.Compute(from);
        }
        return predecessors.TryGetPath(to, out var route) ? route.Sum(_weight) : double.PositiveInfinity;
    }

    /// <summary>QuikGraph's A* with the straight-line distance to the target over the fastest lane speed (admissible here), aborted once the target is finished.</summary>
    private double QuikAStar(int from, int to)
    {
        var (tx, ty) = (_x[to], _y[to]);
        var astar = new AStarShortestPathAlgorithm<int, SEquatableEdge<int>>(_quik, _weight, v =>
        {
            var (dx, dy) = (_x[v] - tx, _y[v] - ty);
            return Math.Sqrt((dx * dx) + (dy * dy)) / CrossAisleSpeed;
        });
        var predecessors = new VertexPredecessorRecorderObserver<int, SEquatableEdge<int>>();
        using (predecessors.Attach(astar))
        {
            astar.FinishVertex += v =>
            {
                if (v == to)
                {
                    astar.Abort();
                }
            };
            astar.Compute(from);
        }
        return predecessors.TryGetPath(to, out var route) ? route.Sum(_weight) : double.PositiveInfinity;
    }

    /// <summary>QuikGraph's one-call API: the whole shortest-path tree from the source, then the route to the target.</summary>
    private double QuikWhole(int from, int to)
    {
        var routes = _quik.ShortestPathsDijkstra(_weight, from);
        return routes(to, out var route) ? route.Sum(_weight) : double.PositiveInfinity;
    }

    private static bool Same(double a, double b) => Math.Abs(a - b) <= 1e-9 * Math.Max(1, Math.Abs(b));

    /// <summary>
    /// A rack-aisle site, directed: <paramref name="width"/> x <paramref name="height"/> waypoints 2 m apart; every column is
    /// a one-way aisle (even columns northbound, odd southbound, no speed limit: 1.0 m/s); rows 0, 10, 20, .. and the last
    /// are two-way cross-aisles with a 1.5 m/s limit. Deterministic; every waypoint reaches every other.
    /// </summary>
    public static SiteMap AisleGrid(int width, int height)
    {
        const double Spacing = 2.0;
        var waypoints = new Waypoint[width, height];
        for (var x = 0; x < width; x++)
        {
            for (var y = 0; y < height; y++)
            {
                waypoints[x, y] = new Waypoint($"w{x:000}_{y:000}", "L1", x * Spacing, y * Spacing, null);
            }
        }
        var lanes = new List<Lane>(width * height * 2);
        for (var x = 0; x < width; x++)
        {
            for (var y = 0; y < height; y++)
            {
                if (y + 1 < height)
                {
                    var (a, b) = x % 2 == 0 ? (waypoints[x, y], waypoints[x, y + 1]) : (waypoints[x, y + 1], waypoints[x, y]);
                    lanes.Add(Lane.Between($"{a.Id}>{b.Id}", a, b));
                }
                if (x + 1 < width && (y % 10 == 0 || y == height - 1))
                {
                    var (a, b) = (waypoints[x, y], waypoints[x + 1, y]);
                    lanes.Add(Lane.Between($"{a.Id}>{b.Id}", a, b, CrossAisleSpeed));
                    lanes.Add(Lane.Between($"{b.Id}>{a.Id}", b, a, CrossAisleSpeed));
                }
            }
        }
        return new SiteMap("aisle-grid", "Generated one-way aisle grid", [new Level("L1", 0)], waypoints.Cast<Waypoint>(), lanes, []);
    }
}

/// <summary>
/// The route-query comparison without BenchmarkDotNet (<c>-- --routing-quick [iterations]</c>): per grid size, the five
/// sides timed in turn, rows interleaved, after the same agreement check. The first third of the iterations is warm-up;
/// over the rest it prints mean, median and min wall time and median process CPU time per operation, and the ratios of
/// mean and of median wall time to the QuikGraph early-exit baseline (on a shared machine the CPU time shows what was ours).
/// </summary>
internal static class RouteQueryQuickRun
{
    public static void Run(int iterations)
    {
        var sizes = Environment.GetEnvironmentVariable("ROUTING_QUICK_SIZES")?.Split(',').Select(int.Parse).ToArray() ?? [10_000, 100_000];
        foreach (var size in sizes)
        {
            var clock = Stopwatch.StartNew();
            var work = new RouteQueryWorkload(size, seed: 1, RouteQueryBenchmarks.PairsFor(size));
            Console.WriteLine($"// {work.Map.Waypoints.Count} waypoints, {work.Map.Lanes.Count} lanes: built in {clock.Elapsed.TotalSeconds:0.0} s");
            clock.Restart();
            work.CheckAllAgree();
            Console.WriteLine($"// all {work.PairCount} pairs agree (checked in {clock.Elapsed.TotalSeconds:0.0} s)");
            var rows = new (string Name, Func<double> Run)[]
            {
                ("QuikGraph Dijkstra, stop at target (baseline)", work.QuikGraphEarlyExit),
                ("QuikGraph ShortestPathsDijkstra (whole tree)", work.QuikGraphWholeTree),
                ("QuikGraph A*, stop at target", work.QuikGraphAStar),
                ("RouteGraph.FindRoute (A*)", work.Ours),
                ("TravelTimeTable.From (whole tree)", work.TableFrom),
            };
            var wall = rows.Select(_ => new List<double>()).ToArray();
            var cpu = rows.Select(_ => new List<double>()).ToArray();
            for (var i = 0; i < iterations; i++)
            {
                for (var r = 0; r < rows.Length; r++)
                {
                    var cpuBefore = Environment.CpuUsage.TotalTime;
                    var t = Stopwatch.StartNew();
                    rows[r].Run();
                    wall[r].Add(t.Elapsed.TotalMilliseconds);
                    cpu[r].Add((Environment.CpuUsage.TotalTime - cpuBefore).TotalMilliseconds);
                }
            }
            double[] Kept(List<double> list) => [.. list.Skip(iterations / 3).Order()];
            var means = wall.Select(w => Kept(w).Average()).ToArray();
            var medians = wall.Select(w => Kept(w)[Kept(w).Length / 2]).ToArray();
            Console.WriteLine($"| waypoints | side | mean ms / {work.PairCount} queries | median ms | min ms | CPU median ms | ratio (mean) | ratio (median) |");
            Console.WriteLine("|---:|---|---:|---:|---:|---:|---:|---:|");
            for (var r = 0; r < rows.Length; r++)
            {
                Console.WriteLine($"| {work.Map.Waypoints.Count:N0} | {rows[r].Name} | {means[r]:0.0} | {medians[r]:0.0} | {Kept(wall[r])[0]:0.0} | {Kept(cpu[r])[Kept(cpu[r]).Length / 2]:0.0} | {means[r] / means[0]:0.000} | {medians[r] / medians[0]:0.000} |");
            }
        }
    }
}
