using RobotFleet.Maps;

namespace RobotFleet.Planning.Tests;

public sealed class AssignmentPlannerTests
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 8, 0, 0, TimeSpan.Zero);

    // a - b - c - d - e, 10 m apart, two-way, 1 m/s: 10 s per hop.
    private static readonly SiteMap Line = TestMaps.Build(["a:0:0", "b:10:0", "c:20:0", "d:30:0", "e:40:0"], "a=b", "b=c", "c=d", "d=e");

    private static RobotSnapshot Robot(string id, string? at, RobotActivity activity = RobotActivity.Idle, double battery = 100, double energy = 0.005, string[]? actions = null, double maxLoad = 100) =>
        new(id, at, activity, 2, battery, energy, actions?.ToHashSet(), maxLoad);

    private static PendingMission Mission(string id, string start, int priority = 0, int minute = 0, double duration = 0, DateTimeOffset? deadline = null, string[]? actions = null, double load = 0, double metres = 0, string? pinned = null) =>
        new(id, start, priority, T0.AddMinutes(minute), duration, metres, deadline, actions?.ToHashSet(), load, pinned);

    private static Dictionary<string, string> Pairs(AssignmentPlan plan) => plan.Assignments.ToDictionary(a => a.MissionId, a => a.RobotId);

    [Fact]
    public void Greedy_nearest_robot_is_worse_and_the_planner_is_optimal()
    {
        // Robots at b and d; m1 (older) at c, m2 at a. Greedy: m1 -> r1 (tie, 10 s, lowest id), then m2 -> r2 from d (30 s) = 40 s.
        // Optimal: m1 -> r2 (10 s), m2 -> r1 (10 s) = 20 s.
        var greedy = new Dispatcher(new RouteGraph(Line)).Assign(
            [new DispatchRobot("r1", "b", true, 2), new DispatchRobot("r2", "d", true, 2)],
            [new DispatchRequest("m1", "c", 0, T0), new DispatchRequest("m2", "a", 0, T0.AddMinutes(1))]);
        Assert.Equal(40, greedy.Assignments.Sum(a => a.Approach.TravelTime));

        var plan = new AssignmentPlanner(Line).Plan(T0, [Robot("r1", "b"), Robot("r2", "d")], [Mission("m1", "c"), Mission("m2", "a", minute: 1)]);

        Assert.Equal(new Dictionary<string, string> { ["m1"] = "r2", ["m2"] = "r1" }, Pairs(plan));
        Assert.Equal(20, plan.TotalCost, 9);
        Assert.Empty(plan.Problems);
        var m2 = plan.Assignments.Single(a => a.MissionId == "m2");
        Assert.Equal(["b", "a"], m2.Approach.WaypointIds);
        Assert.Equal(10, m2.CompletionSeconds, 9);
    }

    [Theory]
    [InlineData(0, 0, 0)]
    [InlineData(1, 2, 3)]
    [InlineData(2, 4, 5)]
    [InlineData(3, 6, 7)]
    public void Optimal_against_brute_force_on_random_small_instances(int seed, int minSize, int maxSize)
    {
        var random = new Random(seed);
        for (var instance = 0; instance < 60; instance++)
        {
            var map = PlannerMaps.RandomGrid(random, 4, 3);
            var ids = map.Waypoints.Keys.Order(StringComparer.Ordinal).ToArray();
            var robots = Enumerable.Range(0, random.Next(Math.Max(1, minSize), maxSize + 1))
                .Select(i => new RobotSnapshot($"r{i}", ids[random.Next(ids.Length)], RobotActivity.Idle, new[] { 0.8, 1.2, 5 }[random.Next(3)],
                    SupportedActions: random.Next(3) == 0 ? new HashSet<string>() : new HashSet<string> { "lift" }))
                .ToArray();
            // Planned at minute 5: the missions have waited 0 to 5 minutes (queue ageing).
            var now = T0.AddMinutes(5);
            var missions = Enumerable.Range(0, random.Next(minSize, maxSize + 1))
                .Select(i => Mission($"m{i}", ids[random.Next(ids.Length)], random.Next(4), minute: random.Next(6), duration: random.Next(0, 60),
                    deadline: random.Next(2) == 0 ? now.AddSeconds(random.Next(-90, 90)) : null,
                    actions: random.Next(4) == 0 ? ["lift"] : null))
                .ToArray();
            var options = new AssignmentPlannerOptions();
            var planner = new AssignmentPlanner(map, options);

            var plan = planner.Plan(now, robots, missions);

            // Independent pair costs: A* travel time and the documented formula; -inf marks a forbidden pair.
            var graph = new RouteGraph(map);
            double PairCost(PendingMission m, RobotSnapshot r)
            {
                var route = graph.FindRoute(r.WaypointId!, m.StartWaypointId, r.MaxSpeed);
                if (route is null || (m.RequiredActions?.Contains("lift") == true && r.SupportedActions?.Contains("lift") != true))
                {
                    return double.PositiveInfinity;
                }
                var completion = route.TravelTime + m.DurationSeconds;
                return options.PriorityWeights[m.Priority] * (completion + (options.LatenessWeight * Late(m, completion)));
            }
            double Late(PendingMission m, double completion) => m.Deadline is { } d ? Math.Max(0, completion - (d - now).TotalSeconds) : 0;
            var costs = missions.Select(m => robots.Select(r => PairCost(m, r)).ToArray()).ToArray();
            // The lateness a mission cannot escape: that of its earliest completion over the robots that may do it.
            double Unavoidable(PendingMission m) => robots.Where(r => double.IsFinite(PairCost(m, r)))
                .Select(r => Late(m, graph.FindRoute(r.WaypointId!, m.StartWaypointId, r.MaxSpeed)!.TravelTime + m.DurationSeconds)).DefaultIfEmpty(0).Min();
            foreach (var a in plan.Assignments)
            {
                var (m, r) = (Array.FindIndex(missions, x => x.MissionId == a.MissionId), Array.FindIndex(robots, x => x.RobotId == a.RobotId));
                Assert.Equal(costs[m][r], a.Cost, 6);
            }

            // Queuing a mission costs w[priority] x (Q + ageing), ageing = waited seconds x QueueAgeingWeight + LatenessWeight x
            // unavoidable lateness, Q = (largest pair cost + switching penalty + 1 + w[3] x the largest ageing) / smallest weight
            // step (1 here); ageing over the missions some robot could do.
            var finite = costs.SelectMany(c => c).Where(double.IsFinite).DefaultIfEmpty(0).Max();
            double Ageing(PendingMission m) => (options.QueueAgeingWeight * Math.Max(0, (now - m.SubmittedAt).TotalSeconds)) + (options.LatenessWeight * Unavoidable(m));
            var maxAgeing = missions.Where((m, i) => costs[i].Any(double.IsFinite)).Select(Ageing).DefaultIfEmpty(0).Max();
            var queueUnit = finite + options.SwitchingPenalty + 1 + (options.PriorityWeights[3] * maxAgeing);
            double QueueCost(PendingMission m) => options.PriorityWeights[m.Priority] * (queueUnit + Ageing(m));
            double Objective(AssignmentPlan p) => p.TotalCost + missions.Where(m => !p.Assignments.Any(a => a.MissionId == m.MissionId) && costs[Array.IndexOf(missions, m)].Any(double.IsFinite))
                .Sum(QueueCost);
            var best = BruteForce(costs, missions.Select(QueueCost).ToArray());

            Assert.Equal(best, Objective(plan), 6);
            Assert.Equal(missions.Length, plan.Assignments.Count + plan.Problems.Count(p => p.MissionId is not null));
        }
    }

    [Fact]
    public void More_missions_than_robots_leaves_the_lowest_priorities_queued_in_priority_order()
    {
        var plan = new AssignmentPlanner(Line).Plan(T0, [Robot("r1", "a")],
            [Mission("m-low", "a", 0), Mission("m-mid", "b", 1, minute: 1), Mission("m-high", "e", 3, minute: 2), Mission("m-mid-old", "c", 1, minute: 0)]);

        Assert.Equal(("m-high", "r1"), (plan.Assignments.Single().MissionId, plan.Assignments.Single().RobotId));
        Assert.Equal(["m-mid-old", "m-mid", "m-low"], plan.Problems.Select(p => p.MissionId));
        Assert.All(plan.Problems, p => Assert.Equal(AssignmentProblemKind.NoRobotAvailable, p.Kind));
        Assert.All(plan.Problems, p => Assert.Contains(p.MissionId!, p.Message));
    }

    [Theory]
    [InlineData(0.1, 10, "m-old")] // the default: 10 minutes longer x 0.1 = 60 s, more than its robot's 30 s longer drive
    [InlineData(0.1, 4, "m-new")] // 4 minutes longer x 0.1 = 24 s: the nearer mission first
    [InlineData(1, 0.25, "m-new")] // at weight 1, waited 15 s longer only: the nearer mission first
    [InlineData(1, 1, "m-old")] // at weight 1, 60 s longer
    [InlineData(0, 60, "m-new")] // ageing off: cheapest first, however long the other waits (it starved in the demo)
    public void An_older_mission_goes_first_when_it_has_waited_longer_than_its_extra_drive(double ageing, double minutesOlder, string served)
    {
        // One robot at a; m-new starts at a (0 s away), m-old at d (30 s away), same priority.
        var now = T0.AddMinutes(90);
        var plan = new AssignmentPlanner(Line, new AssignmentPlannerOptions { QueueAgeingWeight = ageing }).Plan(now, [Robot("r1", "a")],
            [new PendingMission("m-old", "d", 1, now.AddMinutes(-1 - minutesOlder)), new PendingMission("m-new", "a", 1, now.AddMinutes(-1))]);

        Assert.Equal(served, plan.Assignments.Single().MissionId);
    }

    /// <summary>
    /// An overdue mission was charged its lateness when served but not when left queued, so it grew cheaper to leave queued
    /// with every second it got later, and a stream of fresh missions of its priority kept it waiting for ever (found in review).
    /// </summary>
    [Fact]
    public void An_overdue_mission_is_not_passed_over_for_ever_by_fresh_ones_of_its_priority()
    {
        // One robot at a; m-due starts at d (30 s away) and was due a minute ago; m-fresh starts at a, submitted 5 s ago.
        var now = T0.AddHours(1);
        AssignmentPlan Plan(double waitedMinutes) => new AssignmentPlanner(Line).Plan(now, [Robot("r1", "a")],
            [new PendingMission("m-due", "d", 1, now.AddMinutes(-waitedMinutes), Deadline: now.AddMinutes(-1)), new PendingMission("m-fresh", "a", 1, now.AddSeconds(-5))]);

        Assert.Equal("m-fresh", Plan(2).Assignments.Single().MissionId); // 30 s more drive, 2 minutes' wait: the fresh one first
        Assert.Equal("m-due", Plan(10).Assignments.Single().MissionId); // 10 minutes x 0.1 = 60 s outweigh the 30 s (before: only after about 2.6 hours)
    }

    [Fact]
    public void Ageing_never_lifts_a_mission_above_a_higher_priority()
    {
        // m-old (priority 0) has waited an hour; m-high (priority 1) was submitted now and lies farther: the higher priority goes first.
        var now = T0.AddHours(2);
        var plan = new AssignmentPlanner(Line).Plan(now, [Robot("r1", "a")],
            [new PendingMission("m-old", "a", 0, now.AddHours(-1)), new PendingMission("m-high", "e", 1, now)]);

        Assert.Equal("m-high", plan.Assignments.Single().MissionId);
    }

    [Fact]
    public void A_queue_ageing_weight_that_is_not_from_0_to_100_is_refused_naming_it()
    {
        foreach (var bad in new[] { -1, double.NaN, double.PositiveInfinity, 101, 1e306 })
        {
            var e = Assert.Throws<ArgumentException>(() => new AssignmentPlanner(Line, new AssignmentPlannerOptions { QueueAgeingWeight = bad }));
            Assert.Contains("QueueAgeingWeight", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void More_robots_than_missions_uses_the_best_robots_and_leaves_the_rest_idle()
    {
        var plan = new AssignmentPlanner(Line).Plan(T0, [Robot("r1", "a"), Robot("r2", "b"), Robot("r3", "e")], [Mission("m1", "d"), Mission("m2", "a")]);

        Assert.Equal(new Dictionary<string, string> { ["m1"] = "r3", ["m2"] = "r1" }, Pairs(plan));
        Assert.Equal(10, plan.TotalCost, 9);
        Assert.Empty(plan.Problems);
    }

    [Fact]
    public void Missing_capability_is_a_typed_problem_naming_mission_and_capability()
    {
        var plan = new AssignmentPlanner(Line).Plan(T0,
            [Robot("r1", "a", actions: ["pick", "drop"], maxLoad: 50), Robot("r2", "b", RobotActivity.Busy, actions: ["clean"], maxLoad: 80)],
            [Mission("m-lift", "c", actions: ["pick", "lift"]), Mission("m-heavy", "c", load: 120), Mission("m-both", "c", actions: ["clean"], load: 60),
             Mission("m-pinned", "c", pinned: "r9"), Mission("m-ok", "c", actions: ["pick"], load: 40)]);

        Assert.Equal(("m-ok", "r1"), (plan.Assignments.Single().MissionId, plan.Assignments.Single().RobotId));
        var byMission = plan.Problems.ToDictionary(p => p.MissionId!);
        Assert.All(["m-lift", "m-heavy", "m-pinned"], id => Assert.Equal(AssignmentProblemKind.NoCapableRobot, byMission[id].Kind));
        Assert.Contains("m-lift", byMission["m-lift"].Message);
        Assert.Contains("'lift'", byMission["m-lift"].Message);
        Assert.DoesNotContain("'pick'", byMission["m-lift"].Message);
        Assert.Contains("120 kg", byMission["m-heavy"].Message);
        Assert.Contains("80 kg", byMission["m-heavy"].Message);
        // r2 could do it but is busy: capability exists in the fleet, so the mission waits.
        Assert.Equal(AssignmentProblemKind.NoRobotAvailable, byMission["m-both"].Kind);
        Assert.Contains("'r9'", byMission["m-pinned"].Message);
    }

    [Fact]
    public void Unreachable_start_is_named()
    {
        var oneWay = TestMaps.Build(["a:0:0", "b:10:0", "c:20:0"], "a>b", "b=c");

        var plan = new AssignmentPlanner(oneWay).Plan(T0, [Robot("r1", "c")], [Mission("m-back", "a", 2), Mission("m-nowhere", "zz", 3), Mission("m-ok", "b")]);

        Assert.Equal("m-ok", plan.Assignments.Single().MissionId);
        var problems = plan.Problems.ToDictionary(p => p.MissionId!);
        Assert.Equal(AssignmentProblemKind.Unreachable, problems["m-back"].Kind);
        Assert.Contains("'a'", problems["m-back"].Message);
        Assert.Equal(AssignmentProblemKind.Unreachable, problems["m-nowhere"].Kind);
        Assert.Contains("'zz'", problems["m-nowhere"].Message);
    }

    [Theory]
    [InlineData(0, "r1")] // equal priorities: r1 (a) takes c 20 s, r2 (d) takes e 10 s = 30 s, better than 40 + 10
    [InlineData(3, "r2")] // c urgent (x8): 8 x 10 + 40 = 120 beats 8 x 20 + 10 = 170, so the closer robot goes to c
    public void Priority_weights_give_the_higher_priority_the_faster_robot(int priorityOfC, string robotForC)
    {
        var plan = new AssignmentPlanner(Line).Plan(T0, [Robot("r1", "a"), Robot("r2", "d")], [Mission("m-c", "c", priorityOfC), Mission("m-e", "e")]);

        Assert.Equal(robotForC, Pairs(plan)["m-c"]);
    }

    [Theory]
    [InlineData(null, "r1", 0)]
    [InlineData(15, "r2", 0)] // r1 would be 5 s late: 20 + 10 x 5 + 10 = 80 > 40 + 10
    [InlineData(5, "r2", 5)]  // late either way; the closer robot is 5 s late
    public void Deadline_penalises_estimated_lateness(int? deadlineSeconds, string robotForC, double expectedLateness)
    {
        DateTimeOffset? deadline = deadlineSeconds is { } s ? T0.AddSeconds(s) : null;

        var plan = new AssignmentPlanner(Line).Plan(T0, [Robot("r1", "a"), Robot("r2", "d")], [Mission("m-c", "c", deadline: deadline), Mission("m-e", "e")]);

        var c = plan.Assignments.Single(a => a.MissionId == "m-c");
        Assert.Equal(robotForC, c.RobotId);
        Assert.Equal(expectedLateness, c.LatenessSeconds, 9);
    }

    [Fact]
    public void Low_battery_robot_charges_at_the_nearest_free_charger_instead_of_taking_missions()
    {
        var map = PlannerMaps.WithLocations(Line, "ch-b@b:Charger", "ch-d@d:Charger", "ch-e@e:Charger");

        // ch-b is occupied by r-busy standing there; r-low at c: ch-d (10 s) beats ch-e (20 s).
        var plan = new AssignmentPlanner(map).Plan(T0,
            [Robot("r-low", "c", battery: 15), Robot("r-busy", "b", RobotActivity.Busy)],
            [Mission("m1", "c")]);

        var charge = plan.Charges.Single();
        Assert.Equal(("r-low", "ch-d"), (charge.RobotId, charge.ChargerName));
        Assert.Equal(["c", "d"], charge.Approach.WaypointIds);
        Assert.Empty(plan.Assignments);
        Assert.Equal(AssignmentProblemKind.NoRobotAvailable, plan.Problems.Single().Kind);
    }

    [Fact]
    public void One_robot_per_charger_lowest_battery_chooses_first_and_the_rest_get_a_problem()
    {
        var map = PlannerMaps.WithLocations(Line, "ch-c@c:Charger");

        var plan = new AssignmentPlanner(map).Plan(T0, [Robot("r1", "b", battery: 12), Robot("r2", "d", battery: 8)], []);

        Assert.Equal(("r2", "ch-c"), (plan.Charges.Single().RobotId, plan.Charges.Single().ChargerName));
        var problem = plan.Problems.Single();
        Assert.Equal((AssignmentProblemKind.NoFreeCharger, "r1"), (problem.Kind, problem.RobotId));
        Assert.Contains("r1", problem.Message);
    }

    [Theory]
    [InlineData(50, 0, false)]  // charging below its 90 % target: only urgent missions
    [InlineData(50, 3, true)]
    [InlineData(95, 0, true)]   // at target: available
    public void Charging_robot_below_target_takes_only_urgent_missions(double battery, int priority, bool assigned)
    {
        var plan = new AssignmentPlanner(Line).Plan(T0, [Robot("r1", "a", RobotActivity.Charging, battery)], [Mission("m1", "c", priority)]);

        Assert.Equal(assigned, plan.Assignments.Count == 1);
        if (!assigned)
        {
            Assert.Equal(AssignmentProblemKind.NoRobotAvailable, plan.Problems.Single().Kind);
        }
    }

    [Theory]
    [InlineData(30, true)]   // 20 m approach + 20 m mission at 0.5 %/m = 20 %: ends at 10 %, the reserve
    [InlineData(29, false)]  // would end at 9 %
    public void Robot_that_would_end_below_its_reserve_is_not_assigned(double battery, bool assigned)
    {
        var plan = new AssignmentPlanner(Line).Plan(T0, [Robot("r1", "a", battery: battery, energy: 0.5)], [Mission("m1", "c", metres: 20)]);

        Assert.Equal(assigned, plan.Assignments.Count == 1);
        if (!assigned)
        {
            var problem = plan.Problems.Single();
            Assert.Equal(AssignmentProblemKind.InsufficientBattery, problem.Kind);
            Assert.Contains("m1", problem.Message);
        }
    }

    [Fact]
    public void Idle_robots_not_at_parking_are_sent_to_the_nearest_free_parking()
    {
        var map = PlannerMaps.WithLocations(Line, "park-a@a:Parking", "park-b@b:Parking", "park-e@e:Parking");

        // r-parked stands on park-a; r-working gets the mission; r-idle at c: park-b (10 s) is nearer than park-e (20 s).
        var plan = new AssignmentPlanner(map).Plan(T0,
            [Robot("r-parked", "a"), Robot("r-idle", "c"), Robot("r-working", "d"), Robot("r-busy", "e", RobotActivity.Busy)],
            [Mission("m1", "d")]);

        Assert.Equal("r-working", plan.Assignments.Single().RobotId);
        var park = plan.Parking.Single();
        Assert.Equal(("r-idle", "park-b"), (park.RobotId, park.ParkingName));
        Assert.Equal(["c", "b"], park.Approach.WaypointIds);
    }

    [Theory]
    [InlineData(30, "r1", true)]  // switching gains 10 s < 30: keep the provisional robot
    [InlineData(5, "r2", false)]  // gains 10 s > 5: switch
    public void Hysteresis_keeps_a_provisional_assignment_unless_the_gain_beats_the_switching_penalty(double penalty, string expected, bool kept)
    {
        var planner = new AssignmentPlanner(Line, new AssignmentPlannerOptions { SwitchingPenalty = penalty });

        // r1 at a is 20 s from c; r2 at b (newly idle) is 10 s away.
        var plan = planner.Plan(T0, [Robot("r1", "a"), Robot("r2", "b")], [Mission("m1", "c")], [new ProvisionalAssignment("m1", "r1")]);

        var assignment = plan.Assignments.Single();
        Assert.Equal(expected, assignment.RobotId);
        Assert.Equal(kept, assignment.KeptProvisional);
    }

    [Fact]
    public void Same_input_in_any_order_gives_the_same_plan()
    {
        var random = new Random(3);
        var map = PlannerMaps.WithLocations(PlannerMaps.RandomGrid(random, 6, 6), "park@p0_0:Parking", "park2@p5_5:Parking");
        var ids = map.Waypoints.Keys.Order(StringComparer.Ordinal).ToArray();
        var robots = Enumerable.Range(0, 12).Select(i => Robot($"r{i}", ids[random.Next(4)])).ToList(); // crowded: many ties
        var missions = Enumerable.Range(0, 15).Select(i => Mission($"m{i}", ids[random.Next(4)], random.Next(2))).ToList();
        var planner = new AssignmentPlanner(map);

        var first = planner.Plan(T0, robots, missions);
        for (var round = 0; round < 5; round++)
        {
            var again = planner.Plan(T0, [.. robots.OrderBy(_ => random.Next())], [.. missions.OrderBy(_ => random.Next())]);

            Assert.Equal(first.Assignments.Select(a => (a.MissionId, a.RobotId)), again.Assignments.Select(a => (a.MissionId, a.RobotId)));
            Assert.Equal(first.Problems, again.Problems);
            Assert.Equal(first.Parking.Select(p => (p.RobotId, p.ParkingName)), again.Parking.Select(p => (p.RobotId, p.ParkingName)));
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
            // Queued: only missions some robot could do pay the queue cost (others are problems whatever happens).
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

    [Fact]
    public void With_a_loop_flow_weight_the_robot_whose_way_runs_with_the_flow_is_chosen()
    {
        // A ring of six 10 m two-way lanes at 2 m/s. r1 stands one lane from the mission's start against the flow (5 s, or
        // 25 s round the ring with it), r2 two lanes from it with the flow (10 s).
        var ring = TestMaps.Build(["a:0:0", "b:10:0", "c:20:0", "d:20:10", "e:10:10", "f:0:10"], "a=b", "b=c", "c=d", "d=e", "e=f", "f=a");
        var against = OneWayLoops.Blocks(ring).Against;
        var back = ring.Lanes.Single(l => l.FromWaypointId == "a" && against.Contains(l.Id));
        var start = back.ToWaypointId;
        var withFlow = ring.Lanes.Single(l => l.ToWaypointId == start && !against.Contains(l.Id) && l.FromWaypointId != "a").FromWaypointId;
        var twoBack = ring.Lanes.Single(l => l.ToWaypointId == withFlow && !against.Contains(l.Id)).FromWaypointId;
        var planner = new AssignmentPlanner(new TravelTimeTable(ring, 2, weightedLaneIds: against));
        RobotSnapshot[] robots = [Robot("r1", "a"), Robot("r2", twoBack)];

        var plain = planner.Plan(T0, robots, [Mission("m", start)]);
        var weighted = planner.Plan(T0, robots, [Mission("m", start)], laneCostFactor: 100);

        Assert.Equal("r1", plain.Assignments.Single().RobotId);
        Assert.Equal(5, plain.Assignments.Single().CompletionSeconds, 9); // 10 m at 2 m/s
        Assert.Equal("r2", weighted.Assignments.Single().RobotId);
        Assert.Equal(10, weighted.Assignments.Single().CompletionSeconds, 9); // real seconds: 20 m at 2 m/s
        Assert.Equal([twoBack, withFlow, start], weighted.Assignments.Single().Approach.WaypointIds);
        Assert.Throws<ArgumentOutOfRangeException>(() => planner.Plan(T0, robots, [Mission("m", start)], laneCostFactor: 0.5));
    }
}
