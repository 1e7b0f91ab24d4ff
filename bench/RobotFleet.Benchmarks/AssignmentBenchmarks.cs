using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using RobotFleet.Maps;
using RobotFleet.Planning;

namespace RobotFleet.Benchmarks;

/// <summary>
/// Assigning 1,000 missions to 1,000 idle robots: the greedy baseline (<see cref="Dispatcher"/>: missions in submission
/// order, each to the nearest still-free robot) against <see cref="AssignmentPlanner.Plan"/> (optimal, LAPJV), both whole
/// calls with routes, both reading travel times from the same warm <see cref="TravelTimeTable"/>. Two generated sites
/// (see <see cref="AssignmentInstances"/>); the setup prints total costs over five seeds (mean and spread) and the cold
/// start (building the table's arrival trees for the first round).
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class AssignmentBenchmarks
{
    private const int Robots = 1000;
    private const int Missions = 1000;
    private static readonly int[] Seeds = [1, 2, 3, 4, 5];

    private TravelTimeTable _table = null!;
    private AssignmentPlanner _planner = null!;
    private Dispatcher _greedy = null!;
    private RobotSnapshot[] _robots = [];
    private PendingMission[] _missions = [];
    private DispatchRobot[] _dispatchRobots = [];
    private DispatchRequest[] _requests = [];
    private MissionCostMatrix _matrix = null!;

    /// <summary>GoodsToPerson: open 100 x 100 cell floor, pods in 2 x 5 blocks. AisleGrid: 100 rack aisles, cross-aisles every 10 rows.</summary>
    [Params("GoodsToPerson", "AisleGrid")]
    public string Site { get; set; } = "GoodsToPerson";

    /// <summary>Setup of the baseline's process: the cost figures over all seeds, then the timed instance.</summary>
    [GlobalSetup(Target = nameof(Greedy))]
    public void Setup() => Setup(costs: true);

    /// <summary>Setup of the other processes: the timed instance only (its trees built once, as for any map in use).</summary>
    [GlobalSetup(Targets = [nameof(Plan), nameof(CostMatrix), nameof(Solve)])]
    public void SetupTimedOnly() => Setup(costs: false);

    private void Setup(bool costs)
    {
        var (map, cells, pickups) = Site == "GoodsToPerson" ? AssignmentInstances.GoodsToPersonFloor() : AssignmentInstances.AisleGrid();
        _table = new TravelTimeTable(map);
        _planner = new AssignmentPlanner(_table);
        _greedy = new Dispatcher(_table);
        if (costs)
        {
            PrintCosts(cells, pickups);
        }

        // The timed instance: seed 1, TravelOnly; its trees are in the cache (warm), as for every later round on this map.
        (_robots, _missions) = AssignmentInstances.Draw(Seeds[0], cells, pickups, Robots, Missions, mixed: false);
        _dispatchRobots = [.. _robots.Select(r => new DispatchRobot(r.RobotId, r.WaypointId, true, r.MaxSpeed))];
        _requests = [.. _missions.Select(m => new DispatchRequest(m.MissionId, m.StartWaypointId, m.Priority, m.SubmittedAt))];
        var clock = Stopwatch.StartNew();
        _planner.Plan(AssignmentInstances.Now, _robots, _missions);
        if (!costs)
        {
            Console.WriteLine($"// [{Site}] first Plan call (builds the arrival trees of {Missions} mission starts on {MaxParallelism()} threads): {clock.Elapsed.TotalMilliseconds:0} ms");
        }
        _matrix = _planner.BuildCostMatrix(AssignmentInstances.Now, _robots, _missions);
        CheckTableGreedyMatchesRouteGreedy(map);
    }

    private int MaxParallelism() => _table.MaxParallelism;

    private void PrintCosts(string[] cells, string[] pickups)
    {
        var map = _table.Map;
        Console.WriteLine($"// [{Site}] map: {map.Waypoints.Count} waypoints, {map.Lanes.Count} lanes, {pickups.Length} pickup places; {Robots} robots at distinct places, {Missions} missions at distinct pickups");

        // Five seeds: total approach travel (TravelOnly) and weighted objective (Mixed), greedy vs optimal.
        var travel = new List<double>();
        var weighted = new List<double>();
        foreach (var seed in Seeds)
        {
            var (robots, missions) = AssignmentInstances.Draw(seed, cells, pickups, Robots, Missions, mixed: false);
            var clock = Stopwatch.StartNew();
            var plan = _planner.Plan(AssignmentInstances.Now, robots, missions);
            var coldMs = clock.Elapsed.TotalMilliseconds;
            var greedyCost = GreedyTravel(robots, missions);
            travel.Add(Reduction(greedyCost, plan.TotalCost));
            Console.WriteLine($"// [{Site}] seed {seed} TravelOnly: greedy {greedyCost:0} s | optimal {plan.TotalCost:0} s | optimal/greedy {plan.TotalCost / greedyCost:0.000} ({travel[^1]:0.0} % lower); first Plan call, building the arrival trees of its {Missions} mission starts: {coldMs:0} ms");

            var (_, mixed) = AssignmentInstances.Draw(seed, cells, pickups, Robots, Missions, mixed: true);
            var mixedPlan = _planner.Plan(AssignmentInstances.Now, robots, mixed);
            var mixedGreedy = GreedyObjective(robots, mixed);
            // w x duration is paid whoever does the mission: shown without it, as that part cannot be optimised.
            var constant = mixed.Sum(m => _planner.Options.PriorityWeights[m.Priority] * m.DurationSeconds);
            weighted.Add(Reduction(mixedGreedy - constant, mixedPlan.TotalCost - constant));
            Console.WriteLine($"// [{Site}] seed {seed} Mixed: weighted cost greedy {mixedGreedy:0} | optimal {mixedPlan.TotalCost:0} ({Reduction(mixedGreedy, mixedPlan.TotalCost):0.0} % lower); without the fixed w x duration: {weighted[^1]:0.0} % lower");
        }
        Console.WriteLine($"// [{Site}] TravelOnly, optimal below greedy over seeds {string.Join(",", Seeds)}: mean {travel.Average():0.0} %, sd {StandardDeviation(travel):0.0}, min {travel.Min():0.0}, max {travel.Max():0.0} (goal >= 30 %)");
        Console.WriteLine($"// [{Site}] Mixed (weighted, without fixed durations): mean {weighted.Average():0.0} %, sd {StandardDeviation(weighted):0.0}, min {weighted.Min():0.0}, max {weighted.Max():0.0}");
    }

    [Benchmark(Baseline = true, Description = "Greedy nearest robot (Dispatcher on the table)")]
    public DispatchResult Greedy() => _greedy.Assign(_dispatchRobots, _requests);

    [Benchmark(Description = "AssignmentPlanner.Plan (matrix + LAPJV + routes)")]
    public AssignmentPlan Plan() => _planner.Plan(AssignmentInstances.Now, _robots, _missions);

    [Benchmark(Description = "  phase: BuildCostMatrix (lookups)")]
    public MissionCostMatrix CostMatrix() => _planner.BuildCostMatrix(AssignmentInstances.Now, _robots, _missions);

    [Benchmark(Description = "  phase: Solve (LAPJV)")]
    public int[] Solve() => _planner.Solve(_matrix);

    private static double Reduction(double greedy, double optimal) => 100 * (1 - (optimal / greedy));

    private static double StandardDeviation(List<double> values)
    {
        var mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
    }

    /// <summary>Total approach travel time of the greedy baseline, seconds (every mission must be assigned).</summary>
    private double GreedyTravel(RobotSnapshot[] robots, PendingMission[] missions)
    {
        var result = Assign(robots, missions);
        return result.Assignments.Sum(a => a.Approach.TravelTime);
    }

    /// <summary>The greedy plan scored with the planner's objective (the pair costs of its cost matrix).</summary>
    private double GreedyObjective(RobotSnapshot[] robots, PendingMission[] missions)
    {
        var result = Assign(robots, missions);
        var matrix = _planner.BuildCostMatrix(AssignmentInstances.Now, robots, missions);
        var row = matrix.Missions.Select((m, i) => (m.MissionId, i)).ToDictionary(p => p.MissionId, p => p.i);
        var column = matrix.Robots.Select((r, i) => (r.RobotId, i)).ToDictionary(p => p.RobotId, p => p.i);
        return result.Assignments.Sum(a => matrix.Cost(row[a.MissionId], column[a.RobotId]));
    }

    private DispatchResult Assign(RobotSnapshot[] robots, PendingMission[] missions)
    {
        var result = _greedy.Assign(
            [.. robots.Select(r => new DispatchRobot(r.RobotId, r.WaypointId, true, r.MaxSpeed))],
            [.. missions.Select(m => new DispatchRequest(m.MissionId, m.StartWaypointId, m.Priority, m.SubmittedAt))]);
        if (result.Problems.Count > 0)
        {
            throw new InvalidOperationException($"Greedy left {result.Problems.Count} missions: every mission should be assigned (as many robots, all reachable).");
        }
        return result;
    }

    /// <summary>On a 40 x 40 sample, the table-based greedy must choose as the route-based (A* per pair) <see cref="Dispatcher"/> does.</summary>
    private void CheckTableGreedyMatchesRouteGreedy(SiteMap map)
    {
        var robots = _dispatchRobots.Take(40).ToArray();
        var requests = _requests.Take(40).ToArray();
        var byTable = _greedy.Assign(robots, requests).Assignments;
        var byRoute = new Dispatcher(new RouteGraph(map)).Assign(robots, requests).Assignments;
        if (byTable.Count != byRoute.Count || byTable.Zip(byRoute).Any(p => p.First.MissionId != p.Second.MissionId || Math.Abs(p.First.Approach.TravelTime - p.Second.Approach.TravelTime) > 1e-6))
        {
            throw new InvalidOperationException("The table-based greedy differs from the route-based Dispatcher on the 40 x 40 sample.");
        }
    }
}
