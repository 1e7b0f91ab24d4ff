using RobotFleet.Maps;

namespace RobotFleet.Planning.Tests;

/// <summary>
/// The planner against the greedy baseline (<see cref="Dispatcher"/>) and against exhaustive search, on small random
/// instances: its objective is never above greedy's, and equals the brute-force optimum.
/// </summary>
public sealed class GreedyVersusOptimalTests
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 8, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(21, false)]
    [InlineData(22, false)]
    [InlineData(23, true)]
    [InlineData(24, true)]
    public void Optimal_cost_is_never_above_greedy_and_equals_brute_force(int seed, bool weighted)
    {
        var random = new Random(seed);
        var options = new AssignmentPlannerOptions();
        var strictlyBetter = 0;
        for (var instance = 0; instance < 80; instance++)
        {
            var map = PlannerMaps.RandomGrid(random, 4, 4);
            var ids = map.Waypoints.Keys.Order(StringComparer.Ordinal).ToArray();
            var robots = Enumerable.Range(0, random.Next(1, 7))
                .Select(i => new RobotSnapshot($"r{i}", ids[random.Next(ids.Length)], RobotActivity.Idle, new[] { 0.8, 1.5, 5 }[random.Next(3)]))
                .ToArray();
            var missions = Enumerable.Range(0, random.Next(1, 7))
                .Select(i => new PendingMission($"m{i}", ids[random.Next(ids.Length)],
                    weighted ? random.Next(4) : 0,
                    T0.AddSeconds(-random.Next(600)),
                    DurationSeconds: weighted ? random.Next(0, 60) : 0,
                    Deadline: weighted && random.Next(2) == 0 ? T0.AddSeconds(random.Next(-90, 90)) : null))
                .ToArray();

            // Pair costs computed independently (A* travel time and the documented formula); +inf: unreachable.
            var graph = new RouteGraph(map);
            var costs = missions.Select(m => robots.Select(r =>
            {
                var route = graph.FindRoute(r.WaypointId!, m.StartWaypointId, r.MaxSpeed);
                if (route is null)
                {
                    return double.PositiveInfinity;
                }
                var completion = route.TravelTime + m.DurationSeconds;
                return options.PriorityWeights[m.Priority] * (completion + (options.LatenessWeight * Late(m, completion)));
            }).ToArray()).ToArray();
            double Late(PendingMission m, double completion) => m.Deadline is { } d ? Math.Max(0, completion - (d - T0).TotalSeconds) : 0;
            // Queuing: w[priority] x (Q + ageing), ageing = QueueAgeingWeight x seconds waited (up to 600 s here) + LatenessWeight x
            // the lateness of the mission's earliest completion, Q over the largest pair and the largest ageing of the missions
            // some robot could do (AssignmentPlanner's documented formula).
            double Unavoidable(PendingMission m) => robots.Select(r => graph.FindRoute(r.WaypointId!, m.StartWaypointId, r.MaxSpeed)).OfType<Route>()
                .Select(route => Late(m, route.TravelTime + m.DurationSeconds)).DefaultIfEmpty(0).Min();
            double Ageing(PendingMission m) => (options.QueueAgeingWeight * Math.Max(0, (T0 - m.SubmittedAt).TotalSeconds)) + (options.LatenessWeight * Unavoidable(m));
            var maxAgeing = missions.Where((m, i) => costs[i].Any(double.IsFinite)).Select(Ageing).DefaultIfEmpty(0).Max();
            var queueUnit = costs.SelectMany(c => c).Where(double.IsFinite).DefaultIfEmpty(0).Max() + options.SwitchingPenalty + 1 + (options.PriorityWeights[3] * maxAgeing);
            var queueCost = missions.Select(m => options.PriorityWeights[m.Priority] * (queueUnit + Ageing(m))).ToArray();
            double Objective(IEnumerable<(string MissionId, string RobotId)> pairs)
            {
                var chosen = pairs.ToDictionary(p => p.MissionId, p => p.RobotId);
                return missions.Select((m, i) => chosen.TryGetValue(m.MissionId, out var robot)
                        ? costs[i][Array.FindIndex(robots, r => r.RobotId == robot)]
                        : costs[i].Any(double.IsFinite) ? queueCost[i] : 0)
                    .Sum();
            }

            var plan = new AssignmentPlanner(map, options).Plan(T0, robots, missions);
            var greedy = new Dispatcher(new RouteGraph(map)).Assign(
                [.. robots.Select(r => new DispatchRobot(r.RobotId, r.WaypointId, true, r.MaxSpeed))],
                [.. missions.Select(m => new DispatchRequest(m.MissionId, m.StartWaypointId, m.Priority, m.SubmittedAt))]);

            var optimal = Objective(plan.Assignments.Select(a => (a.MissionId, a.RobotId)));
            var baseline = Objective(greedy.Assignments.Select(a => (a.MissionId, a.RobotId)));
            Assert.True(optimal <= baseline + 1e-6, $"instance {instance}: optimal {optimal} above greedy {baseline}");
            Assert.Equal(BruteForce(costs, queueCost), optimal, 6);
            strictlyBetter += optimal < baseline - 1e-6 ? 1 : 0;
        }
        Assert.True(strictlyBetter > 0, "greedy was optimal on every instance: the test would not notice a planner that only matches it");
    }

    [Fact]
    public void Table_based_greedy_makes_the_same_choices_as_the_route_based_one()
    {
        var random = new Random(31);
        for (var instance = 0; instance < 40; instance++)
        {
            var map = PlannerMaps.RandomGrid(random, 5, 4);
            var ids = map.Waypoints.Keys.Order(StringComparer.Ordinal).ToArray();
            var robots = Enumerable.Range(0, random.Next(1, 9))
                .Select(i => new DispatchRobot($"r{i}", random.Next(10) == 0 ? "nowhere" : ids[random.Next(ids.Length)], random.Next(6) > 0, new[] { 0.8, 1.5, 5 }[random.Next(3)]))
                .ToArray();
            var requests = Enumerable.Range(0, random.Next(0, 9))
                .Select(i => new DispatchRequest($"m{i}", random.Next(12) == 0 ? "nowhere" : ids[random.Next(ids.Length)], random.Next(4), T0.AddSeconds(random.Next(600))))
                .ToArray();

            var byRoute = new Dispatcher(new RouteGraph(map)).Assign(robots, requests);
            var byTable = new Dispatcher(new TravelTimeTable(map)).Assign(robots, requests);

            Assert.Equal(byRoute.Problems, byTable.Problems);
            Assert.Equal(byRoute.Assignments.Select(a => a.MissionId), byTable.Assignments.Select(a => a.MissionId));
            foreach (var (expected, actual) in byRoute.Assignments.Zip(byTable.Assignments))
            {
                // Equal times; the robot can differ only on a floating-point tie.
                Assert.Equal(expected.Approach.TravelTime, actual.Approach.TravelTime, 9);
                Assert.Equal(robots.First(r => r.RobotId == actual.RobotId).WaypointId, actual.Approach.WaypointIds[0]);
                Assert.Equal(actual.Approach.WaypointIds[^1], requests.First(r => r.MissionId == actual.MissionId).StartWaypointId);
            }
        }
    }

    private static double BruteForce(double[][] costs, double[] queueCost)
    {
        var robots = costs.Length == 0 ? 0 : costs[0].Length;
        var used = new bool[robots];
        double Best(int m)
        {
            if (m == costs.Length)
            {
                return 0;
            }
            var best = (costs[m].Any(double.IsFinite) ? queueCost[m] : 0) + Best(m + 1);
            for (var r = 0; r < robots; r++)
            {
                if (!used[r] && double.IsFinite(costs[m][r]))
                {
                    used[r] = true;
                    best = Math.Min(best, costs[m][r] + Best(m + 1));
                    used[r] = false;
                }
            }
            return best;
        }
        return Best(0);
    }
}
