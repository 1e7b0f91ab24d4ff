using RobotFleet.ControlPlane.Missions;
using RobotFleet.Contracts;
using RobotFleet.Maps;
using RobotFleet.Planning;

namespace RobotFleet.ControlPlane.Tests;

public sealed class When_missions_of_each_kind_run
{
    private static SubmitMission Mission(string id, MissionKind kind) => new(id, kind, null, null, 1, "tester");

    private static IReadOnlyList<(string Waypoint, string[] Actions)> Plan(DispatchRoute route) =>
        route.Waypoints.Select(w => (w.WaypointId, w.Actions.Select(a => a.ActionType).ToArray())).ToList();

    [Fact]
    public async Task Should_patrol_the_locations_in_order_for_every_round_without_actions()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Yard());
        var robot = await fleet.AddRobotAsync("r1", "A");

        Assert.IsType<MissionAccepted>(await fleet.SubmitAsync(Mission("p", MissionKind.Patrol) with { Locations = ["b", "E"], Rounds = 2 }));

        var route = Assert.Single(fleet.Routes(robot));
        Assert.Equal(["A", "B", "E", "B", "E"], route.Waypoints.Select(w => w.WaypointId));
        Assert.All(route.Waypoints, w => Assert.Empty(w.Actions));
        Assert.Equal(["B", "E", "B", "E"], fleet.Mission("p").Waypoints);
        await fleet.RunUntilAsync(() => fleet.Mission("p").Status == MissionStatus.Completed);
        Assert.Equal(["A", "B", "E", "B", "E"], robot.Trail);
        Assert.Contains("patrol finished", fleet.Mission("p").History[^1].Reason);
    }

    [Fact]
    public async Task Should_have_the_door_opened_on_the_waypoint_before_it_each_way()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.CorridorWithDoor());
        var robot = await fleet.AddRobotAsync("r1", "A");

        Assert.IsType<MissionAccepted>(await fleet.SubmitAsync(Mission("there", MissionKind.Delivery) with { Pickup = "a", Dropoff = "d" }));

        var route = Assert.Single(fleet.Routes(robot));
        Assert.Equal([("A", ["pick"]), ("B", ["openDoor"]), ("C", []), ("D", ["drop"])], Plan(route).Select(p => (p.Waypoint, p.Actions)).ToList(), new PlanComparer());
        var open = route.Waypoints[1].Actions[0];
        Assert.Equal("door1", open.Parameters["doorId"]);
        Assert.Equal("HARD", open.BlockingType);
        await fleet.RunUntilAsync(() => fleet.Mission("there").Status == MissionStatus.Completed);
        Assert.Equal(RobotActionStatus.Finished, robot.Actions[open.ActionId].Status);

        // And back through the same door the other way: opened from C.
        Assert.IsType<MissionAccepted>(await fleet.SubmitAsync(Mission("back", MissionKind.Delivery) with { Pickup = "d", Dropoff = "a" }));
        var back = fleet.Routes(robot)[^1];
        Assert.Equal([("D", ["pick"]), ("C", ["openDoor"]), ("B", []), ("A", ["drop"])], Plan(back).Select(p => (p.Waypoint, p.Actions)).ToList(), new PlanComparer());
        await fleet.RunUntilAsync(() => fleet.Mission("back").Status == MissionStatus.Completed);
        Assert.Equal(["A", "B", "C", "D", "C", "B", "A"], robot.Trail);
    }

    [Fact]
    public async Task Should_clean_every_waypoint_of_the_zone_with_a_clean_action()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Yard());
        var robot = await fleet.AddRobotAsync("r1", "A");

        Assert.IsType<MissionAccepted>(await fleet.SubmitAsync(Mission("c", MissionKind.Clean) with { Zone = "z1" }));

        var route = Assert.Single(fleet.Routes(robot));
        Assert.Equal([("A", []), ("B", []), ("E", ["clean"]), ("F", ["clean"])], Plan(route).Select(p => (p.Waypoint, p.Actions)).ToList(), new PlanComparer());
        Assert.Equal("z1", route.Waypoints[2].Actions[0].Parameters["zone"]);
        await fleet.RunUntilAsync(() => fleet.Mission("c").Status == MissionStatus.Completed);
        Assert.Equal(2, robot.Actions.Values.Count(a => a.ActionType == "clean" && a.Status == RobotActionStatus.Finished));
        Assert.Equal("F", robot.LastNodeId);
    }

    [Fact]
    public async Task Should_charge_at_a_free_charger_and_complete_when_start_charging_finishes()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Yard());
        var robot = await fleet.AddRobotAsync("r1", "C");

        Assert.IsType<MissionAccepted>(await fleet.SubmitAsync(Mission("ch", MissionKind.Charge)));

        var route = Assert.Single(fleet.Routes(robot));
        Assert.Equal("H", route.Waypoints[^1].WaypointId);
        Assert.Equal("startCharging", Assert.Single(route.Waypoints[^1].Actions).ActionType);
        await fleet.RunUntilAsync(() => fleet.Mission("ch").Status == MissionStatus.Completed);
        Assert.Equal("H", robot.LastNodeId);
        Assert.Equal(["H"], fleet.Mission("ch").Waypoints);
    }

    [Fact]
    public async Task Should_complete_a_charge_once_the_target_charge_is_reported()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Yard());
        var robot = await fleet.AddRobotAsync("r1", "H");
        await fleet.SubmitAsync(Mission("ch", MissionKind.Charge) with { Location = "ch", TargetCharge = 95 });
        robot.Ingest();
        await robot.ReportAsync(); // at the charger, startCharging still waiting
        Assert.Equal(MissionStatus.Executing, fleet.Mission("ch").Status);

        robot.Battery = 96;
        await robot.ReportAsync();

        Assert.Equal(MissionStatus.Completed, fleet.Mission("ch").Status);
        Assert.Contains("charged to 96", fleet.Mission("ch").History[^1].Reason);
    }

    [Fact]
    public async Task Should_park_at_a_free_parking_place()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Yard());
        var robot = await fleet.AddRobotAsync("r1", "A");

        await fleet.SubmitAsync(Mission("pk", MissionKind.Park));
        await fleet.RunUntilAsync(() => fleet.Mission("pk").Status == MissionStatus.Completed);

        Assert.Equal("P", robot.LastNodeId);
        Assert.Empty(robot.Actions);
    }

    [Fact]
    public async Task Should_run_a_sequence_of_go_to_action_and_wait_steps()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Yard());
        var robot = await fleet.AddRobotAsync("r1", "A");

        Assert.IsType<MissionAccepted>(await fleet.SubmitAsync(Mission("s", MissionKind.Sequence) with
        {
            Steps = [new(GoTo: "b"), new(Action: "pick"), new(WaitSeconds: 2), new(GoTo: "E"), new(Action: "drop")],
        }));

        var route = Assert.Single(fleet.Routes(robot));
        Assert.Equal([("A", []), ("B", ["pick", "wait"]), ("E", ["drop"])], Plan(route).Select(p => (p.Waypoint, p.Actions)).ToList(), new PlanComparer());
        Assert.Equal("2", route.Waypoints[1].Actions[1].Parameters["seconds"]);
        await fleet.RunUntilAsync(() => fleet.Mission("s").Status == MissionStatus.Completed);
        Assert.Equal("E", robot.LastNodeId);
        Assert.All(robot.Actions.Values, a => Assert.Equal(RobotActionStatus.Finished, a.Status));
    }

    private sealed class PlanComparer : IEqualityComparer<(string, string[])>
    {
        public bool Equals((string, string[]) x, (string, string[]) y) => x.Item1 == y.Item1 && x.Item2.SequenceEqual(y.Item2);

        public int GetHashCode((string, string[]) obj) => obj.Item1.GetHashCode();
    }
}

public sealed class When_a_mission_of_any_kind_is_invalid
{
    private static SubmitMission Mission(MissionKind kind) => new("m", kind, null, null, 1, "tester");

    [Theory]
    [InlineData(MissionKind.Patrol, "locations", "locations[1]: unknown location or waypoint 'nowhere'")]
    [InlineData(MissionKind.Clean, "zone", "unknown zone 'z9'")]
    [InlineData(MissionKind.Charge, "location", "'a' is not a charger location")]
    [InlineData(MissionKind.Sequence, "steps[0]", "the first step of a sequence must be a goTo")]
    public async Task Should_reject_it_naming_the_field_and_store_nothing(MissionKind kind, string field, string reason)
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Yard());
        var mission = kind switch
        {
            MissionKind.Patrol => Mission(kind) with { Locations = ["a", "nowhere"] },
            MissionKind.Clean => Mission(kind) with { Zone = "z9" },
            MissionKind.Charge => Mission(kind) with { Location = "a" },
            _ => Mission(kind) with { Steps = [new(Action: "pick")] },
        };

        var rejected = Assert.IsType<MissionRejected>(await fleet.SubmitAsync(mission));

        Assert.Equal(field, rejected.Field);
        Assert.Contains(reason, rejected.Reason);
        Assert.Empty(fleet.Store.All);
    }

    [Fact]
    public async Task Should_reject_an_unreachable_place()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Yard());

        var rejected = Assert.IsType<MissionRejected>(await fleet.SubmitAsync(Mission(MissionKind.Patrol) with { Locations = ["q", "a"] }));

        Assert.Equal("locations", rejected.Field);
        Assert.Contains("no route from waypoint 'Q' to 'A'", rejected.Reason);
        Assert.Empty(fleet.Store.All);
    }

    [Fact]
    public async Task Should_reject_a_required_action_no_robot_supports()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Yard());
        var robot = await fleet.AddRobotAsync("r1", "A");
        await fleet.FactsheetAsync(robot, "pick", "drop");

        var rejected = Assert.IsType<MissionRejected>(await fleet.SubmitAsync(new SubmitMission("m", MissionKind.Delivery, "a", "b", 1, "t", RequiredActions: ["lift"])));
        Assert.Equal(("requiredActions", "no robot supports action 'lift'"), (rejected.Field, rejected.Reason));

        var clean = Assert.IsType<MissionRejected>(await fleet.SubmitAsync(Mission(MissionKind.Clean) with { Zone = "z1" }));
        Assert.Contains("no robot supports action 'clean'", clean.Reason);
        Assert.Empty(fleet.Store.All);
    }

    [Fact]
    public async Task Should_give_a_mission_with_required_actions_only_to_a_robot_that_has_them()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Yard());
        var near = await fleet.AddRobotAsync("near", "B");
        var far = await fleet.AddRobotAsync("far", "D");
        await fleet.FactsheetAsync(near, "pick", "drop");
        await fleet.FactsheetAsync(far, "pick", "drop", "lift");

        Assert.IsType<MissionAccepted>(await fleet.SubmitAsync(new SubmitMission("m", MissionKind.Delivery, "a", "b", 1, "t", RequiredActions: ["lift"])));

        Assert.Equal(far.Id, fleet.Mission("m").Robot);
    }
}

public sealed class When_the_dispatcher_plans
{
    [Fact]
    public async Task Should_choose_the_least_total_travel_where_greedy_nearest_first_does_worse()
    {
        var map = TestMaps.Line();
        await using var fleet = await Fleet.StartAsync(map);
        var r1 = await fleet.AddRobotAsync("r1", "L1");
        var r2 = await fleet.AddRobotAsync("r2", "L3");
        r1.Paused = r2.Paused = true;
        await r1.ReportAsync();
        await r2.ReportAsync();
        await fleet.SubmitAsync("m1", "l2", "l3"); // first: greedy gives it its nearest robot, r1 (4 m; r2 is 6 m away)
        await fleet.SubmitAsync("m2", "l0", "l1"); // then r2 must come 11 m: 15 m in all

        r1.Paused = r2.Paused = false;
        await r1.ReportAsync();
        await r2.ReportAsync();

        // Optimal: r1 takes m2 (1 m), r2 takes m1 (6 m): 7 m in all.
        Assert.Equal(r1.Id, fleet.Mission("m2").Robot);
        Assert.Equal(r2.Id, fleet.Mission("m1").Robot);
        var greedy = new Dispatcher(new RouteGraph(map)).Assign(
            [new DispatchRobot("acme/r1", "L1", true, 1), new DispatchRobot("acme/r2", "L3", true, 1)],
            [new DispatchRequest("m1", "L2", 1, fleet.Time.Now), new DispatchRequest("m2", "L0", 1, fleet.Time.Now.AddSeconds(1))]);
        Assert.Equal("acme/r1", greedy.Assignments.Single(a => a.MissionId == "m1").RobotId);
        await fleet.RunUntilAsync(() => fleet.Mission("m1").Status == MissionStatus.Completed && fleet.Mission("m2").Status == MissionStatus.Completed);
    }

    [Fact]
    public async Task Should_take_the_queue_in_the_new_order_after_a_priority_change()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Yard());
        var robot = await fleet.AddRobotAsync("r1", "A");
        await fleet.SubmitAsync("m0", "a", "b");
        await fleet.SubmitAsync("m-first", "c", "d", priority: 1);
        await fleet.SubmitAsync("m-later", "c", "d", priority: 1);

        Assert.Equal(ReprioritiseOutcome.Done, await fleet.Coordinator.ReprioritiseAsync(new ReprioritiseMission("m-later", 3, "alice"), CancellationToken.None));
        Assert.Equal(ReprioritiseOutcome.NotQueued, await fleet.Coordinator.ReprioritiseAsync(new ReprioritiseMission("m0", 3, "alice"), CancellationToken.None));
        Assert.Equal(ReprioritiseOutcome.UnknownMission, await fleet.Coordinator.ReprioritiseAsync(new ReprioritiseMission("nope", 3, "alice"), CancellationToken.None));
        Assert.Equal(("alice", "priority 1 -> 3"), (fleet.Mission("m-later").History[^1].Actor, fleet.Mission("m-later").History[^1].Reason));

        await fleet.RunUntilAsync(() => fleet.Mission("m0").Status == MissionStatus.Completed);
        Assert.Equal(robot.Id, fleet.Mission("m-later").Robot);
        Assert.Equal(MissionStatus.Queued, fleet.Mission("m-first").Status);
    }

    [Fact]
    public async Task Should_send_an_idle_robot_with_a_low_battery_to_charge_once_and_not_give_it_missions()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Yard());
        var low = await fleet.AddRobotAsync("low", "C");
        low.Battery = 20;
        await low.ReportAsync();

        var route = fleet.Routes(low)[0];
        Assert.StartsWith("charge-", route.OrderId);
        Assert.Equal("H", route.Waypoints[^1].WaypointId);
        Assert.Equal("startCharging", Assert.Single(route.Waypoints[^1].Actions).ActionType);
        await fleet.RunUntilAsync(() => low.LastNodeId == "H" && low.PendingWaypointIds.Count == 0 && low.Actions.Values.All(a => a.Status == RobotActionStatus.Finished));
        await fleet.WaitAsync(TimeSpan.FromSeconds(3));
        Assert.Single(fleet.Routes(low).Select(r => r.OrderId).Distinct()); // charging now: no second charge order (updates of the one are fine)

        await fleet.SubmitAsync("m1", "a", "b");
        Assert.Equal(MissionStatus.Queued, fleet.Mission("m1").Status); // below its target, not urgent
        low.Battery = 95;
        await low.ReportAsync();
        Assert.Equal(low.Id, fleet.Mission("m1").Robot);
    }

    [Fact]
    public async Task Should_park_an_idle_robot_after_a_while_and_still_give_it_the_next_mission()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Yard(), configure: o => new ControlPlaneOptions
        {
            Map = o.Map, BlockedResolveAfter = o.BlockedResolveAfter, ReplanCooldown = o.ReplanCooldown, LostBlockerTimeout = o.LostBlockerTimeout,
            ParkIdleAfter = TimeSpan.FromSeconds(10),
        });
        var robot = await fleet.AddRobotAsync("r1", "B");

        await fleet.WaitAsync(TimeSpan.FromSeconds(8));
        Assert.Empty(fleet.Routes(robot));
        await fleet.RunUntilAsync(() => robot.LastNodeId == "P", maxRounds: 40);
        Assert.StartsWith("park-", fleet.Routes(robot)[0].OrderId);

        await fleet.SubmitAsync("m1", "a", "b");
        await fleet.RunUntilAsync(() => fleet.Mission("m1").Status == MissionStatus.Completed);
        Assert.Equal(robot.Id, fleet.Mission("m1").Robot);
    }
}

public sealed class When_a_robot_goes_silent
{
    [Fact]
    public async Task Should_requeue_its_mission_to_another_robot_within_15_s_and_give_it_nothing_until_it_reports()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());
        var silent = await fleet.AddRobotAsync("r1", "B");
        var other = await fleet.AddRobotAsync("r2", "S");
        await fleet.SubmitAsync("m1", "c", "d");
        Assert.Equal(silent.Id, fleet.Mission("m1").Robot); // 5 m to C against 9 m from S
        await fleet.RunUntilAsync(() => silent.LastNodeId == "C");

        silent.Silent = true;
        var since = fleet.Time.Now;
        await fleet.RunUntilAsync(() => fleet.Mission("m1").Robot == other.Id, maxRounds: 40);

        Assert.True(fleet.Time.Now - since <= TimeSpan.FromSeconds(15), $"reassigned after {(fleet.Time.Now - since).TotalSeconds} s");
        var mission = fleet.Mission("m1");
        Assert.Contains(mission.History, h => h.Status == MissionStatus.Queued && h.Reason.Contains("acme/r1 went silent"));
        Assert.Empty(mission.FailedRobots); // lost, not at fault: eligible again once it reports a valid position
        Assert.Contains(fleet.InstantActions(silent), t => t.Actions.Any(a => a.ActionType == "cancelOrder"));

        // While silent it gets nothing, even with a mission waiting and no other robot free.
        await fleet.SubmitAsync(new SubmitMission("m2", MissionKind.Patrol, null, null, 1, "tester", Locations: ["a"]));
        var routesWhileSilent = fleet.Routes(silent).Count;
        await fleet.WaitAsync(TimeSpan.FromSeconds(3));
        Assert.Equal(MissionStatus.Queued, fleet.Mission("m2").Status);
        Assert.Equal(routesWhileSilent, fleet.Routes(silent).Count);

        silent.Silent = false;
        await silent.ReportAsync();
        Assert.Equal(silent.Id, fleet.Mission("m2").Robot);
        await fleet.RunUntilAsync(() => fleet.Mission("m1").Status == MissionStatus.Completed && fleet.Mission("m2").Status == MissionStatus.Completed);
        Assert.Equal("D", other.LastNodeId);
    }
}
