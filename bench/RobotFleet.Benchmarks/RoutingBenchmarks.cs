using BenchmarkDotNet.Attributes;
using RobotFleet.Maps;

namespace RobotFleet.Benchmarks;

/// <summary>
/// Routing on the shipped office map (maps/office): <see cref="RouteGraph.FindRoute"/> (A* on travel time) against a
/// plain Dijkstra written here on the same graph and the same costs (lane length / (speed limit or 1.0 m/s)).
/// One operation routes every ordered pair of distinct locations.
/// </summary>
[MemoryDiagnoser]
public class RoutingBenchmarks
{
    private const double DefaultSpeed = 1.0;

    private SiteMap _map = null!;
    private RouteGraph _graph = null!;
    private (string From, string To)[] _pairs = [];

    [GlobalSetup]
    public void Setup()
    {
        _map = SiteMapGeoJson.Load(RepoPaths.OfficeMap);
        _graph = new RouteGraph(_map, DefaultSpeed);
        var waypoints = _map.Locations.Values.Select(l => l.WaypointId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        _pairs = [.. from a in waypoints from b in waypoints where a != b select (a, b)];

        // Both must find equally fast routes, or the comparison is meaningless.
        foreach (var (from, to) in _pairs)
        {
            var astar = _graph.FindRoute(from, to)?.TravelTime;
            var dijkstra = Dijkstra(_map, from, to)?.TravelTime;
            if (astar.HasValue != dijkstra.HasValue || (astar.HasValue && Math.Abs(astar.Value - dijkstra!.Value) > 1e-9))
            {
                throw new InvalidOperationException($"{from} -> {to}: A* {astar} s, Dijkstra {dijkstra} s");
            }
        }
    }

    [Benchmark(Baseline = true, Description = "Dijkstra (baseline)")]
    public double Dijkstra()
    {
        var total = 0.0;
        foreach (var (from, to) in _pairs)
        {
            total += Dijkstra(_map, from, to)?.TravelTime ?? 0;
        }
        return total;
    }

    [Benchmark(Description = "RouteGraph.FindRoute (A*)")]
    public double AStar()
    {
        var total = 0.0;
        foreach (var (from, to) in _pairs)
        {
            total += _graph.FindRoute(from, to)?.TravelTime ?? 0;
        }
        return total;
    }

    /// <summary>Textbook Dijkstra with a binary heap and lazy deletion; returns the lanes driven and the total time.</summary>
    internal static (IReadOnlyList<Lane> Lanes, double TravelTime)? Dijkstra(SiteMap map, string from, string to)
    {
        var cost = new Dictionary<string, double>(StringComparer.Ordinal) { [from] = 0 };
        var cameBy = new Dictionary<string, Lane>(StringComparer.Ordinal);
        var done = new HashSet<string>(StringComparer.Ordinal);
        var open = new PriorityQueue<string, double>();
        open.Enqueue(from, 0);
        while (open.TryDequeue(out var current, out var currentCost))
        {
            if (current == to)
            {
                var lanes = new List<Lane>();
                for (var at = to; at != from; at = cameBy[at].FromWaypointId)
                {
                    lanes.Add(cameBy[at]);
                }
                lanes.Reverse();
                return (lanes, currentCost);
            }
            if (!done.Add(current))
            {
                continue;
            }
            foreach (var lane in map.OutgoingLanes(current))
            {
                var next = lane.ToWaypointId;
                var tentative = currentCost + lane.Length / (lane.SpeedLimit ?? DefaultSpeed);
                if (!done.Contains(next) && tentative < cost.GetValueOrDefault(next, double.PositiveInfinity))
                {
                    cost[next] = tentative;
                    cameBy[next] = lane;
                    open.Enqueue(next, tentative);
                }
            }
        }
        return null;
    }
}
