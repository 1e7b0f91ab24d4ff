using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using RobotFleet.Maps;
using RobotFleet.Planning;

namespace RobotFleet.Benchmarks;

/// <summary>
/// Assigning 1,000 missions to 1,000 robots on a generated 100 x 100 warehouse grid: the walking skeleton's greedy rule
/// (missions by priority, each to the nearest free robot by travel time) against <see cref="AssignmentPlanner.Solve"/>
/// (LAPJV on priority- and deadline-weighted completion times), both on the same precomputed <see cref="MissionCostMatrix"/>.
/// The matrix construction (one Dijkstra per robot) is timed as its own benchmark. Total costs are printed by the setup.
/// </summary>
[MemoryDiagnoser]
public class AssignmentBenchmarks
{
    private const int Side = 100;         // waypoints per side
    private const int Spacing = 2;        // metres between waypoints
    private const int CrossAisleEvery = 10;
    private const int Robots = 1000;
    private const int Missions = 1000;
    private static readonly DateTimeOffset Now = new(2025, 1, 1, 8, 0, 0, TimeSpan.Zero);

    private AssignmentPlanner _planner = null!;
    private RobotSnapshot[] _robots = [];
    private PendingMission[] _missions = [];
    private MissionCostMatrix _matrix = null!;

    /// <summary>Mixed: priorities 0-3, durations 30-120 s, 30 % with deadlines. TravelOnly: one priority, no duration, no deadline (cost = approach travel time).</summary>
    [Params("Mixed", "TravelOnly")]
    public string Workload { get; set; } = "Mixed";

    [GlobalSetup]
    public void Setup()
    {
        var clock = Stopwatch.StartNew();
        var map = WarehouseGrid();
        var mapSeconds = clock.Elapsed.TotalSeconds;
        _planner = new AssignmentPlanner(map);
        var random = new Random(2025);
        var ids = map.Waypoints.Keys.Order(StringComparer.Ordinal).ToArray();
        _robots = [.. Enumerable.Range(0, Robots).Select(i => new RobotSnapshot($"r{i:0000}", ids[random.Next(ids.Length)], RobotActivity.Idle, 1.5))];
        var mixed = Workload == "Mixed";
        _missions = [.. Enumerable.Range(0, Missions).Select(i => new PendingMission(
            $"m{i:0000}",
            ids[random.Next(ids.Length)],
            mixed ? random.Next(4) : 0,
            Now.AddSeconds(-random.Next(600)),
            DurationSeconds: mixed ? random.Next(30, 121) : 0,
            Deadline: mixed && random.Next(10) < 3 ? Now.AddSeconds(random.Next(120, 600)) : null))];

        clock.Restart();
        _matrix = _planner.BuildCostMatrix(Now, _robots, _missions);
        var matrixMs = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        var optimal = Optimal();
        var optimalMs = clock.Elapsed.TotalMilliseconds;
        var greedy = Greedy();

        CheckGreedyMatchesDispatcher(map);
        if (optimal.Any(r => r < 0) || greedy.Any(r => r < 0))
        {
            throw new InvalidOperationException("Every mission should be assigned (1,000 robots, all capable).");
        }

        var (optimalCost, optimalTravel) = Totals(optimal);
        var (greedyCost, greedyTravel) = Totals(greedy);
        // w x duration is paid whoever does the mission; what assignment can change is w x (travel + lateness penalty).
        var constant = _matrix.Missions.Sum(m => _planner.Options.PriorityWeights[m.Priority] * m.DurationSeconds);
        Console.WriteLine($"// AssignmentBenchmarks [{Workload}]: map {ids.Length} waypoints, {map.Lanes.Count} lanes, built in {mapSeconds:0.00} s; cost matrix {Missions} x {Robots} in {matrixMs:0} ms (first call); LAPJV first call {optimalMs:0.0} ms");
        Console.WriteLine($"// [{Workload}] total cost (weighted s): greedy {greedyCost:0} | optimal {optimalCost:0} | {100 * (1 - (optimalCost / greedyCost)):0.0} % lower");
        Console.WriteLine($"// [{Workload}] approach travel (s):     greedy {greedyTravel:0} | optimal {optimalTravel:0} | {100 * (1 - (optimalTravel / greedyTravel)):0.0} % lower");
        Console.WriteLine($"// [{Workload}] weighted cost excluding the mission durations (the same whoever does them): greedy {greedyCost - constant:0} | optimal {optimalCost - constant:0} | {100 * (1 - ((optimalCost - constant) / (greedyCost - constant))):0.0} % lower");
    }

    [Benchmark(Baseline = true, Description = "Greedy nearest robot (baseline)")]
    public int[] Greedy()
    {
        int n = _matrix.Missions.Count, k = _matrix.Robots.Count;
        var taken = new bool[k];
        var result = new int[n];
        for (var m = 0; m < n; m++)
        {
            var best = -1;
            var bestSeconds = double.PositiveInfinity;
            for (var r = 0; r < k; r++)
            {
                var seconds = _matrix.TravelSeconds(m, r);
                if (!taken[r] && seconds < bestSeconds && double.IsFinite(_matrix.Cost(m, r)))
                {
                    best = r;
                    bestSeconds = seconds;
                }
            }
            result[m] = best;
            if (best >= 0)
            {
                taken[best] = true;
            }
        }
        return result;
    }

    [Benchmark(Description = "AssignmentPlanner.Solve (LAPJV)")]
    public int[] Optimal() => _planner.Solve(_matrix);

    [Benchmark(Description = "AssignmentPlanner.BuildCostMatrix (1,000 Dijkstras)")]
    public MissionCostMatrix CostMatrix() => _planner.BuildCostMatrix(Now, _robots, _missions);

    private (double Cost, double Travel) Totals(int[] robotOfMission)
    {
        double cost = 0, travel = 0;
        for (var m = 0; m < robotOfMission.Length; m++)
        {
            cost += _matrix.Cost(m, robotOfMission[m]);
            travel += _matrix.TravelSeconds(m, robotOfMission[m]);
        }
        return (cost, travel);
    }

    /// <summary>On a 40 x 40 sample, the matrix greedy must pick exactly what the shipped <see cref="Dispatcher"/> picks.</summary>
    private void CheckGreedyMatchesDispatcher(SiteMap map)
    {
        var robots = _robots.Take(40).ToArray();
        var missions = _missions.Take(40).ToArray();
        var sample = _planner.BuildCostMatrix(Now, robots, missions);
        var saved = _matrix;
        _matrix = sample;
        var greedy = Greedy();
        _matrix = saved;
        var ours = sample.Missions.Select((m, i) => (m.MissionId, sample.Robots[greedy[i]].RobotId)).ToHashSet();
        var shipped = new Dispatcher(new RouteGraph(map)).Assign(
            [.. robots.Select(r => new DispatchRobot(r.RobotId, r.WaypointId, true, r.MaxSpeed))],
            [.. missions.Select(m => new DispatchRequest(m.MissionId, m.StartWaypointId, m.Priority, m.SubmittedAt))]);
        if (!ours.SetEquals(shipped.Assignments.Select(a => (a.MissionId, a.RobotId))))
        {
            throw new InvalidOperationException("The bench's greedy differs from Dispatcher on the 40 x 40 sample.");
        }
    }

    /// <summary>100 x 100 waypoints 2 m apart: every column is a two-way aisle; rows 0, 10, .., 90 and 99 are two-way cross-aisles.</summary>
    internal static SiteMap WarehouseGrid()
    {
        var waypoints = new Waypoint[Side, Side];
        for (var x = 0; x < Side; x++)
        {
            for (var y = 0; y < Side; y++)
            {
                waypoints[x, y] = new Waypoint($"w{x:00}_{y:00}", "L1", x * Spacing, y * Spacing, null);
            }
        }
        var lanes = new List<Lane>();
        void Both(Waypoint a, Waypoint b)
        {
            lanes.Add(Lane.Between($"{a.Id}>{b.Id}", a, b));
            lanes.Add(Lane.Between($"{b.Id}>{a.Id}", b, a));
        }
        for (var x = 0; x < Side; x++)
        {
            for (var y = 0; y < Side; y++)
            {
                if (y + 1 < Side)
                {
                    Both(waypoints[x, y], waypoints[x, y + 1]);
                }
                if (x + 1 < Side && (y % CrossAisleEvery == 0 || y == Side - 1))
                {
                    Both(waypoints[x, y], waypoints[x + 1, y]);
                }
            }
        }
        return new SiteMap("warehouse", "Generated warehouse grid", [new Level("L1", 0)], waypoints.Cast<Waypoint>(), lanes, []);
    }
}
