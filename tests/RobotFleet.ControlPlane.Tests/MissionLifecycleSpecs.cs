using MassTransit;
using RobotFleet.ControlPlane.Missions;
using RobotFleet.Contracts;
using RobotFleet.Gateway;
using RobotFleet.Vda5050;

namespace RobotFleet.ControlPlane.Tests;

public sealed class When_a_mission_is_submitted
{
    [Fact]
    public async Task Should_reject_an_unknown_pickup_naming_field_and_value()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());

        var reply = Assert.IsType<MissionRejected>(await fleet.SubmitAsync("m1", "nowhere", "d"));

        Assert.Equal("m1", reply.MissionId);
        Assert.Equal("pickup", reply.Field);
        Assert.Contains("'nowhere'", reply.Reason);
        Assert.Null(fleet.Store.Find("m1"));
    }

    [Fact]
    public async Task Should_reject_an_unknown_dropoff_naming_field_and_value()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());

        var reply = Assert.IsType<MissionRejected>(await fleet.SubmitAsync("m1", "a", "mars"));

        Assert.Equal("dropoff", reply.Field);
        Assert.Contains("'mars'", reply.Reason);
    }

    [Fact]
    public async Task Should_reject_the_same_pickup_and_dropoff()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());

        var reply = Assert.IsType<MissionRejected>(await fleet.SubmitAsync("m1", "b", "b"));

        Assert.Equal("dropoff", reply.Field);
        Assert.Contains("'b'", reply.Reason);
        Assert.Empty(fleet.Store.All);
    }

    [Fact]
    public async Task Should_reject_a_duplicate_mission_id()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());
        Assert.IsType<MissionAccepted>(await fleet.SubmitAsync("m1", "a", "d"));

        var reply = Assert.IsType<MissionRejected>(await fleet.SubmitAsync("m1", "b", "c"));

        Assert.Equal("id", reply.Field);
        Assert.Equal("a", fleet.Mission("m1").Pickup);
    }

    [Fact]
    public async Task Should_queue_it_while_no_robot_is_available()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());

        Assert.Equal(new MissionAccepted("m1"), await fleet.SubmitAsync("m1", "a", "d"));

        var mission = fleet.Mission("m1");
        Assert.Equal(MissionStatus.Queued, mission.Status);
        Assert.Null(mission.Robot);
        Assert.Equal([MissionStatus.Queued], mission.History.Select(h => h.Status));
    }

    [Fact]
    public async Task Should_assign_it_to_the_idle_robot_nearest_to_the_pickup()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());
        var far = await fleet.AddRobotAsync("far", "A");   // 10 m from C
        var near = await fleet.AddRobotAsync("near", "D"); // 5 m from C

        Assert.IsType<MissionAccepted>(await fleet.SubmitAsync("m1", "c", "a"));

        var mission = fleet.Mission("m1");
        Assert.Equal(MissionStatus.Dispatched, mission.Status); // assigned, and its order sent in the same decision
        Assert.Equal(near.Id, mission.Robot);
        Assert.Equal("m1", mission.OrderId);
        Assert.Equal([MissionStatus.Queued, MissionStatus.Assigned, MissionStatus.Dispatched], mission.History.Select(h => h.Status));
        // Every transition is published (by the mission state machine), Queued included.
        var changes = await fleet.StatusChangesAsync("m1");
        Assert.Equal([MissionStatus.Queued, MissionStatus.Assigned, MissionStatus.Dispatched], changes.Select(s => s.Status));
        Assert.Equal(near.Id, changes[1].Robot);
        Assert.Single(fleet.Routes(near));
        Assert.Empty(fleet.Routes(far));
    }

    [Fact]
    public async Task Should_assign_a_queued_mission_once_a_robot_reports()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());
        await fleet.SubmitAsync("m1", "b", "d");

        var robot = await fleet.AddRobotAsync("r1", "A");

        Assert.Equal(MissionStatus.Dispatched, fleet.Mission("m1").Status);
        Assert.Equal(robot.Id, fleet.Mission("m1").Robot);
    }
}

public sealed class When_a_mission_is_assigned
{
    [Fact]
    public async Task Should_send_one_order_from_the_robot_waypoint_through_pick_to_drop()
    {
        // Pinned to the reservation rule: it releases the whole free way at once; PIBT releases a few metres ahead.
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor(), traffic: TrafficControl.Reservation);
        var robot = await fleet.AddRobotAsync("r1", "A");

        await fleet.SubmitAsync("m1", "b", "d");

        var route = Assert.Single(fleet.Routes(robot));
        Assert.Equal("m1", route.OrderId);
        Assert.Equal(0, route.OrderUpdateId);
        Assert.Equal(["A", "B", "C", "D"], route.Waypoints.Select(w => w.WaypointId));
        Assert.Equal([0L, 2, 4, 6], route.Waypoints.Select(w => w.SequenceId));
        Assert.Equal([1L, 3, 5], route.Lanes.Select(l => l.SequenceId));
        Assert.All(route.Waypoints, w => Assert.True(w.Released)); // nobody else on the map
        Assert.All(route.Lanes, l => Assert.True(l.Released));
        for (var i = 0; i < route.Lanes.Count; i++)
        {
            Assert.Equal(route.Waypoints[i].WaypointId, route.Lanes[i].StartWaypointId);
            Assert.Equal(route.Waypoints[i + 1].WaypointId, route.Lanes[i].EndWaypointId);
        }

        var pick = Assert.Single(route.Waypoints[1].Actions);
        Assert.Equal(("m1-pick", "pick", "b"), (pick.ActionId, pick.ActionType, pick.Parameters["location"]));
        var drop = Assert.Single(route.Waypoints[3].Actions);
        Assert.Equal(("m1-drop", "drop", "d"), (drop.ActionId, drop.ActionType, drop.Parameters["location"]));
        Assert.Empty(route.Waypoints[0].Actions);
        Assert.Empty(route.Waypoints[2].Actions);
        Assert.Equal((5.0, 0.0, "L1"), (route.Waypoints[1].X, route.Waypoints[1].Y, route.Waypoints[1].MapId));
        Assert.Empty(OrderValidator.Validate(OrderMapper.ToOrder(route, 1, fleet.Time.Now)));
    }

    [Fact]
    public async Task Should_put_the_pick_on_the_first_waypoint_when_the_robot_is_at_the_pickup()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());
        var robot = await fleet.AddRobotAsync("r1", "B");

        await fleet.SubmitAsync("m1", "b", "a");

        var route = Assert.Single(fleet.Routes(robot));
        Assert.Equal(["B", "A"], route.Waypoints.Select(w => w.WaypointId));
        Assert.Equal("m1-pick", Assert.Single(route.Waypoints[0].Actions).ActionId);
        Assert.Equal("m1-drop", Assert.Single(route.Waypoints[1].Actions).ActionId);
        Assert.Empty(OrderValidator.Validate(OrderMapper.ToOrder(route, 1, fleet.Time.Now)));
    }

    [Fact]
    public async Task Should_send_a_valid_vda_order_on_the_office_map()
    {
        var map = TestMaps.Office();
        await using var fleet = await Fleet.StartAsync(map);
        var robot = await fleet.AddRobotAsync("tiny1", map.Locations["tinyRobot1_charger"].WaypointId);

        Assert.IsType<MissionAccepted>(await fleet.SubmitAsync("m1", "pantry", "coe"));

        var route = Assert.Single(fleet.Routes(robot));
        Assert.Empty(OrderValidator.Validate(OrderMapper.ToOrder(route, 1, fleet.Time.Now)));
        Assert.Equal(map.Locations["tinyRobot1_charger"].WaypointId, route.Waypoints[0].WaypointId);
        Assert.Equal(route.Waypoints.Select((_, i) => 2L * i), route.Waypoints.Select(w => w.SequenceId));
        Assert.Equal(route.Lanes.Select((_, i) => (2L * i) + 1), route.Lanes.Select(l => l.SequenceId));
        for (var i = 0; i < route.Lanes.Count; i++)
        {
            Assert.Equal(route.Waypoints[i].WaypointId, route.Lanes[i].StartWaypointId);
            Assert.Equal(route.Waypoints[i + 1].WaypointId, route.Lanes[i].EndWaypointId);
            Assert.NotNull(map.FindLane(route.Lanes[i].StartWaypointId, route.Lanes[i].EndWaypointId));
        }

        Assert.Contains(route.Waypoints, w => w.WaypointId == map.Locations["pantry"].WaypointId && w.Actions.Any(a => a.ActionId == "m1-pick"));
        Assert.Equal("m1-drop", Assert.Single(route.Waypoints[^1].Actions).ActionId);
        Assert.Equal(map.Locations["coe"].WaypointId, route.Waypoints[^1].WaypointId);

        await fleet.RunUntilAsync(() => fleet.Mission("m1").Status == MissionStatus.Completed);
        Assert.Equal(map.Locations["coe"].WaypointId, robot.LastNodeId);
    }
}

public sealed class When_a_delivery_runs
{
    [Fact]
    public async Task Should_go_executing_then_completed_and_free_the_robot_for_the_next_mission()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());
        var robot = await fleet.AddRobotAsync("r1", "A");
        await fleet.SubmitAsync("m1", "b", "d");

        await fleet.RunUntilAsync(() => fleet.Mission("m1").Status == MissionStatus.Executing);
        Assert.Equal("m1", robot.OrderId);

        await fleet.RunUntilAsync(() => fleet.Mission("m1").Status == MissionStatus.Completed);

        var mission = fleet.Mission("m1");
        Assert.Equal(
            [MissionStatus.Queued, MissionStatus.Assigned, MissionStatus.Dispatched, MissionStatus.Executing, MissionStatus.Completed],
            mission.History.Select(h => h.Status));
        Assert.Equal(["tester", "dispatcher", "dispatcher", robot.Id.ToString(), robot.Id.ToString()], mission.History.Select(h => h.Actor));
        Assert.True(mission.History.Zip(mission.History.Skip(1)).All(p => p.First.Timestamp <= p.Second.Timestamp));
        Assert.Null(mission.FailureReason);
        Assert.Equal(["A", "B", "C", "D"], robot.Trail);
        Assert.Equal(RobotActionStatus.Finished, robot.Actions["m1-pick"].Status);
        Assert.Equal(RobotActionStatus.Finished, robot.Actions["m1-drop"].Status);
        Assert.Equal(
            [MissionStatus.Queued, MissionStatus.Assigned, MissionStatus.Dispatched, MissionStatus.Executing, MissionStatus.Completed],
            (await fleet.StatusChangesAsync("m1")).Select(s => s.Status));

        await fleet.SubmitAsync("m2", "c", "a");
        Assert.Equal(MissionStatus.Dispatched, fleet.Mission("m2").Status);
        Assert.Equal(robot.Id, fleet.Mission("m2").Robot);
        var second = fleet.Routes(robot)[^1];
        Assert.Equal(("m2", 0L), (second.OrderId, second.OrderUpdateId));
        Assert.Equal(["D", "C", "B", "A"], second.Waypoints.Select(w => w.WaypointId));

        await fleet.RunUntilAsync(() => fleet.Mission("m2").Status == MissionStatus.Completed);
        Assert.Equal("A", robot.LastNodeId);
    }

    [Fact]
    public async Task Should_not_complete_before_the_drop_is_finished()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());
        var robot = await fleet.AddRobotAsync("r1", "C");
        await fleet.SubmitAsync("m1", "c", "d");
        robot.Ingest();
        Assert.True(robot.Step()); // pick at C
        await robot.ReportAsync();
        Assert.True(robot.Step()); // drive to D, drop not yet done
        await robot.ReportAsync();

        Assert.Equal("D", robot.LastNodeId);
        Assert.Equal(MissionStatus.Executing, fleet.Mission("m1").Status);

        Assert.True(robot.Step()); // drop
        await robot.ReportAsync();
        Assert.Equal(MissionStatus.Completed, fleet.Mission("m1").Status);
    }
}

public sealed class When_a_robot_reports_an_error
{
    [Theory]
    [InlineData("validationError")]
    [InlineData("orderError")]
    [InlineData("noRouteError")]
    public async Task Should_requeue_the_mission_when_the_error_rejects_its_order_and_give_it_to_another_robot(string errorType)
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());
        var robot = await fleet.AddRobotAsync("r1", "A");
        await fleet.SubmitAsync("m1", "b", "d");
        robot.Ingest();

        robot.Errors.Add(new RobotErrorInfo(errorType, "WARNING", "nodes[1].sequenceId is odd", "m1"));
        await robot.ReportAsync();

        var mission = fleet.Mission("m1");
        Assert.Equal(MissionStatus.Queued, mission.Status);
        Assert.Contains(errorType, mission.History[^1].Reason);
        Assert.Contains("m1", mission.History[^1].Reason);
        Assert.Equal([robot.Id], mission.FailedRobots);
        Assert.Equal(MissionStatus.Queued, (await fleet.StatusChangesAsync("m1"))[^1].Status);
        await fleet.WaitAsync(TimeSpan.FromSeconds(2));
        Assert.Equal(MissionStatus.Queued, fleet.Mission("m1").Status); // not to the robot that rejected it

        var other = await fleet.AddRobotAsync("r2", "D");
        Assert.Equal(other.Id, fleet.Mission("m1").Robot);
        Assert.Equal("m1-r1", fleet.Mission("m1").OrderId);
        await fleet.RunUntilAsync(() => fleet.Mission("m1").Status == MissionStatus.Completed);
        Assert.Equal(RobotActionStatus.Finished, other.Actions["m1-r1-drop"].Status);
    }

    [Fact]
    public async Task Should_fail_the_mission_once_three_robots_rejected_it_naming_the_reasons()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());
        foreach (var (serial, at) in new[] { ("r1", "A"), ("r2", "C"), ("r3", "D") })
            (await fleet.AddRobotAsync(serial, at)).RejectWith = "validationError";

        await fleet.SubmitAsync("m1", "b", "d");
        await fleet.RunUntilAsync(() => fleet.Mission("m1").IsFinal, maxRounds: 20);

        var mission = fleet.Mission("m1");
        Assert.Equal(MissionStatus.Failed, mission.Status);
        Assert.Equal(3, mission.FailedRobots.Count);
        Assert.Contains("gave up after 3 robots", mission.FailureReason);
        foreach (var robot in fleet.Robots.Values)
            Assert.Contains(robot.Id.ToString(), mission.FailureReason);
        Assert.Equal(3, mission.History.Count(h => h.Status == MissionStatus.Assigned));
    }

    [Theory]
    [InlineData(-1, MissionStatus.Completed)] // an update it had taken, sent again after it (the gateway's resend on ONLINE)
    [InlineData(0, MissionStatus.Completed)] // a copy of the update it runs
    [InlineData(1, MissionStatus.Completed)] // an update it did not take: the next update is stitched at the base of the one it runs
    public async Task Should_keep_the_mission_with_the_robot_when_it_refuses_an_update(int refusedAfterCurrent, MissionStatus expected)
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());
        var robot = await fleet.AddRobotAsync("r1", "A");
        await fleet.SubmitAsync("m1", "b", "d");
        await fleet.RunUntilAsync(() => robot.OrderId == "m1" && robot.UpdateId >= 1);

        var refused = robot.UpdateId + refusedAfterCurrent;
        robot.Errors.Add(new RobotErrorInfo("orderUpdateError", "WARNING",
            $"orderUpdateId {refused} of order 'm1' is not newer than the current {robot.UpdateId}", "m1", refused));
        await robot.ReportAsync();
        await fleet.RunUntilAsync(() => fleet.Mission("m1").Status == expected);

        Assert.Equal(expected, fleet.Mission("m1").Status);
        Assert.Empty(fleet.Mission("m1").FailedRobots);
    }

    [Fact]
    public async Task Should_send_the_rest_of_the_order_again_when_an_update_was_lost()
    {
        // Regression: the last update of an order lost on the way (the robot runs the one before, standing at the end of its
        // base) left the robot standing there for good and its mission Executing. Now a state that still shows the earlier
        // update SilentAfter (10 s) after the last was sent has the rest sent again, stitched at the robot's base.
        await using var fleet = await Fleet.StartAsync(TestMaps.LongCorridor());
        var robot = await fleet.AddRobotAsync("r1", "A");
        robot.LoseUpdates.Add(2); // the last, releasing D to E (update 1 releases through D)
        await fleet.SubmitAsync("m1", "d", "e");

        await fleet.RunUntilAsync(() => fleet.Mission("m1").IsFinal || fleet.Mission("m1").FailedRobots.Count > 0, maxRounds: 400);

        Assert.Equal(MissionStatus.Completed, fleet.Mission("m1").Status);
        Assert.Empty(fleet.Mission("m1").FailedRobots);
        var routes = fleet.Routes(robot);
        Assert.Equal(["m1"], routes.Select(r => r.OrderId).Distinct());
        Assert.Equal([0L, 1, 2, 3], routes.Select(r => r.OrderUpdateId)); // update 2 lost, 3 sent again from where the robot stood
        Assert.Equal(routes[1].Waypoints.Last(w => w.Released).WaypointId, routes[3].Waypoints[0].WaypointId);
        Assert.Equal(routes[2].Waypoints.Select(w => w.WaypointId), routes[3].Waypoints.Select(w => w.WaypointId));
        Assert.Equal("E", robot.LastNodeId);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Should_take_a_late_update_that_comes_after_it_was_sent_again(bool lateBeforeResend)
    {
        // The update was late, not lost: it arrives after the coordinator sent the rest again (stitched where the robot
        // stood). Taking the late one first, the robot refuses the resend as not stitched at its base: the coordinator
        // stitches the next at the base the robot now has. Taking the resend first, it refuses the late one as not newer,
        // a copy. Either way the mission completes on this robot. (Found in review: the first version of the resend gave
        // back what the late update released, so another robot could have been sent where this one then drove.)
        await using var fleet = await Fleet.StartAsync(TestMaps.LongCorridor());
        var robot = await fleet.AddRobotAsync("r1", "A");
        robot.RefuseUnfitUpdates = true;
        robot.DelayUpdates.Add(2);
        if (lateBeforeResend)
            robot.DelayUpdates.Add(3);
        await fleet.SubmitAsync("m1", "d", "e");
        await fleet.RunUntilAsync(() => fleet.Routes(robot).Count >= 4, maxRounds: 400); // update 3: the rest sent again
        robot.DeliverDelayed();

        await fleet.RunUntilAsync(() => fleet.Mission("m1").IsFinal || fleet.Mission("m1").FailedRobots.Count > 0, maxRounds: 400);

        Assert.Equal([lateBeforeResend ? 3L : 2L], robot.Refused);
        Assert.Equal(MissionStatus.Completed, fleet.Mission("m1").Status);
        Assert.Empty(fleet.Mission("m1").FailedRobots);
        Assert.Equal("E", robot.LastNodeId);
        var routes = fleet.Routes(robot);
        Assert.Equal("D", routes[3].Waypoints[0].WaypointId); // the resend: stitched where the robot stood (update 1's base)
        if (lateBeforeResend)
            Assert.Equal("E", routes[4].Waypoints[0].WaypointId); // then at the base the late update gave it
    }

    [Fact]
    public async Task Should_send_the_order_again_when_it_was_lost()
    {
        // Regression: an order lost on the way left its mission Dispatched for good, the robot idle. Now a state that shows no
        // order SilentAfter (10 s) after it was sent has it sent again, the same order from its start.
        await using var fleet = await Fleet.StartAsync(TestMaps.LongCorridor());
        var robot = await fleet.AddRobotAsync("r1", "A");
        robot.LoseUpdates.Add(0);
        await fleet.SubmitAsync("m1", "d", "e");

        await fleet.RunUntilAsync(() => fleet.Mission("m1").IsFinal || fleet.Mission("m1").FailedRobots.Count > 0, maxRounds: 400);

        Assert.Equal(MissionStatus.Completed, fleet.Mission("m1").Status);
        Assert.Empty(fleet.Mission("m1").FailedRobots);
        var orders = fleet.Routes(robot).Where(r => r.OrderUpdateId == 0).ToList();
        Assert.Equal(2, orders.Count);
        Assert.Equal(orders[0].OrderId, orders[1].OrderId);
        Assert.Equal("E", robot.LastNodeId);
    }

    [Fact]
    public async Task Should_give_the_mission_up_on_that_robot_when_it_refuses_every_update()
    {
        // The refusals are the robot's own, not an update it missed: after three re-stitched updates refused in turn the
        // mission goes back to the queue without that robot, as for a refused order.
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());
        var robot = await fleet.AddRobotAsync("r1", "A");
        robot.RefuseUpdates = true;
        await fleet.SubmitAsync("m1", "b", "d");

        await fleet.RunUntilAsync(() => fleet.Mission("m1").FailedRobots.Count > 0 || fleet.Mission("m1").IsFinal);

        Assert.Equal(4, robot.Refused.Count); // the first refusal and three re-stitched updates
        var mission = fleet.Mission("m1");
        Assert.Equal(MissionStatus.Queued, mission.Status);
        Assert.Equal([robot.Id], mission.FailedRobots);
        Assert.Equal(robot.Refused.Distinct(), robot.Refused); // each with a new update id
    }

    [Fact]
    public async Task Should_requeue_the_mission_when_the_robot_refuses_its_new_order_because_an_older_order_had_the_same_id()
    {
        // Regression (fresh-clone review): the robot's last order, finished, had the id the new order gets (a data directory
        // started afresh, another master control) and was at update 3; it refuses the new order's update 0 as not newer.
        // Taken for a late copy, the refusal was hidden and the mission stayed Executing with the robot standing still.
        // (Since a new order never gets the id of the order the robot reports, see the next test, the robot here takes that
        // other order "m1" after the assignment: from another master control.)
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());
        var robot = await fleet.AddRobotAsync("r1", "A");
        var at = fleet.Map.Waypoints["A"];

        robot.LoseRoutes = true; // it refuses what comes (below) instead of taking it
        await fleet.SubmitAsync("m1", "b", "d");
        robot.Ingest();
        Assert.Equal("m1", fleet.Mission("m1").OrderId);
        robot.AcceptForeign(new DispatchRoute(robot.Id, "m1", 3, [new RouteWaypoint("A", 0, true, at.X, at.Y, at.LevelId, [])], []));
        robot.Errors.Add(new RobotErrorInfo("orderUpdateError", "WARNING", "orderUpdateId 0 of order 'm1' is not newer than the current 3", "m1", 0));
        await robot.ReportAsync();
        await fleet.WaitAsync(TimeSpan.FromSeconds(2));

        Assert.Equal(MissionStatus.Queued, fleet.Mission("m1").Status);
        Assert.Equal([robot.Id], fleet.Mission("m1").FailedRobots);
    }

    [Fact]
    public async Task Should_give_the_order_a_new_id_when_the_robot_reports_an_order_with_the_missions_id()
    {
        // VDA 5050 §6.6.1: a robot ignores an order with the id and update id of the order it has, as a repeat (the edge
        // agent does). The robot's last order, finished, had the new mission's id (the mission database started afresh, a
        // client reusing a mission id, another master control): the new order went out as m1/0 and could be ignored, leaving
        // the mission Executing with the robot standing still.
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());
        var robot = await fleet.AddRobotAsync("r1", "A");
        var at = fleet.Map.Waypoints["A"];
        robot.AcceptForeign(new DispatchRoute(robot.Id, "m1", 0, [new RouteWaypoint("A", 0, true, at.X, at.Y, at.LevelId, [])], []));
        await robot.ReportAsync();

        await fleet.SubmitAsync("m1", "b", "d");
        await fleet.RunUntilAsync(() => fleet.Mission("m1").IsFinal);

        Assert.Equal(MissionStatus.Completed, fleet.Mission("m1").Status);
        var order = Assert.Single(fleet.Routes(robot).Select(r => r.OrderId).Distinct());
        Assert.StartsWith("m1-", order, StringComparison.Ordinal);
        Assert.Equal(order, fleet.Mission("m1").OrderId);
    }

    [Fact]
    public async Task Should_ignore_an_order_error_about_another_order()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());
        var robot = await fleet.AddRobotAsync("r1", "A");
        await fleet.SubmitAsync("m1", "b", "d");
        robot.Ingest();

        robot.Errors.Add(new RobotErrorInfo("validationError", "WARNING", "old order", "some-older-order"));
        await robot.ReportAsync();

        Assert.Equal(MissionStatus.Executing, fleet.Mission("m1").Status);
    }

    [Fact]
    public async Task Should_fail_the_mission_on_a_fatal_error_and_not_assign_the_robot_again()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());
        var robot = await fleet.AddRobotAsync("r1", "A");
        await fleet.SubmitAsync("m1", "b", "d");
        await fleet.RunUntilAsync(() => robot.LastNodeId == "B");

        robot.Errors.Add(new RobotErrorInfo("motorFault", "FATAL", "left wheel motor overheated"));
        await robot.ReportAsync();

        var mission = fleet.Mission("m1");
        Assert.Equal(MissionStatus.Failed, mission.Status);
        Assert.Contains("FATAL", mission.FailureReason);
        Assert.Contains("motorFault", mission.FailureReason);
        var cancel = Assert.Single(fleet.InstantActions(robot)); // it still had C and D to go
        Assert.Equal("cancelOrder", Assert.Single(cancel.Actions).ActionType);

        await fleet.SubmitAsync("m2", "c", "a");
        Assert.Equal(MissionStatus.Queued, fleet.Mission("m2").Status);
    }

    [Fact]
    public async Task Should_fail_the_mission_when_its_action_fails()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());
        var robot = await fleet.AddRobotAsync("r1", "B");
        await fleet.SubmitAsync("m1", "b", "d");
        robot.Ingest();
        var state = robot.State();
        var failed = state with { Actions = [new RobotActionProgress("m1-pick", "pick", RobotActionStatus.Failed, "gripper empty")] };

        await fleet.Coordinator.OnStateChangedAsync(failed, CancellationToken.None);

        var mission = fleet.Mission("m1");
        Assert.Equal(MissionStatus.Failed, mission.Status);
        Assert.Contains("m1-pick", mission.FailureReason);
        Assert.Contains("gripper empty", mission.FailureReason);
    }
}

public sealed class When_a_mission_is_cancelled
{
    [Fact]
    public async Task Should_cancel_a_queued_mission_at_once_without_a_cancel_order()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());
        await fleet.SubmitAsync("m1", "b", "d");

        Assert.True(await fleet.Coordinator.CancelAsync(new CancelMission("m1", "alice"), CancellationToken.None));

        var mission = fleet.Mission("m1");
        Assert.Equal(MissionStatus.Cancelled, mission.Status);
        Assert.Equal("alice", mission.History[^1].Actor);
        Assert.Equal("cancelled by operator", mission.FailureReason);
        Assert.Empty(fleet.Harness.Published.Select<TriggerInstantActions>());

        var robot = await fleet.AddRobotAsync("r1", "A");
        Assert.Empty(fleet.Routes(robot));
        Assert.False(await fleet.Coordinator.CancelAsync(new CancelMission("m1", "alice"), CancellationToken.None));
        Assert.False(await fleet.Coordinator.CancelAsync(new CancelMission("nope", "alice"), CancellationToken.None));
    }

    [Fact]
    public async Task Should_send_cancel_order_for_an_executing_mission_and_free_the_robot()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());
        var robot = await fleet.AddRobotAsync("r1", "A");
        await fleet.SubmitAsync("m1", "b", "d");
        await fleet.RunUntilAsync(() => robot.LastNodeId == "B");
        Assert.Equal(MissionStatus.Executing, fleet.Mission("m1").Status);

        Assert.True(await fleet.Coordinator.CancelAsync(new CancelMission("m1", "alice"), CancellationToken.None));
        fleet.AfterCoordinatorCall();

        Assert.Equal(MissionStatus.Cancelled, fleet.Mission("m1").Status);
        Assert.Equal(MissionStatus.Cancelled, (await fleet.StatusChangesAsync("m1"))[^1].Status);
        var trigger = Assert.Single(fleet.InstantActions(robot));
        var cancel = Assert.Single(trigger.Actions);
        Assert.Equal("cancelOrder", cancel.ActionType);
        Assert.Empty(robot.PendingWaypointIds);

        await robot.ReportAsync();
        await fleet.SubmitAsync("m2", "a", "c");
        Assert.Equal(robot.Id, fleet.Mission("m2").Robot);
        await fleet.RunUntilAsync(() => fleet.Mission("m2").Status == MissionStatus.Completed);
    }

    [Fact]
    public async Task Should_keep_the_released_waypoints_held_until_the_robot_reports_the_cancel_done()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.LongCorridor());
        var r1 = await fleet.AddRobotAsync("r1", "A");
        await fleet.SubmitAsync("m1", "a", "e");
        await fleet.RunUntilAsync(() => r1.LastNodeId == "B");
        Assert.Contains("D", fleet.Routes(r1).SelectMany(r => r.Waypoints).Where(w => w.Released).Select(w => w.WaypointId));

        // Cancelled, but r1 has not yet reported the cancel done: a real robot may still be driving
        // towards the end of its lane, so what was released to it stays its own.
        Assert.True(await fleet.Coordinator.CancelAsync(new CancelMission("m1", "alice"), CancellationToken.None));
        var r2 = new SimRobot(fleet, new RobotId("acme", "r2"), "F");
        await fleet.Coordinator.OnStateChangedAsync(r2.State(), CancellationToken.None);
        await fleet.SubmitAsync("m2", "d", "e");
        var first = Assert.Single(fleet.Routes(r2));
        Assert.Equal(["F"], first.Waypoints.Where(w => w.Released).Select(w => w.WaypointId));

        fleet.Robots["r2"] = r2;
        fleet.AfterCoordinatorCall(); // r1 takes in the cancelOrder and stops
        await r1.ReportAsync();
        Assert.Contains("D", fleet.Routes(r2)[^1].Waypoints.Where(w => w.Released).Select(w => w.WaypointId));
        await fleet.RunUntilAsync(() => fleet.Mission("m2").Status == MissionStatus.Completed);
        Assert.Equal(MissionStatus.Cancelled, fleet.Mission("m1").Status);
    }

    [Fact]
    public async Task Should_not_claim_the_cancelled_orders_horizon_so_traffic_goes_on()
    {
        // Regression: a cancelled robot used to be taken as holding every waypoint left in its order,
        // horizon included; one of those was another robot's, the hold table became inconsistent and
        // no robot got any release until the cancelled robot moved ("Traffic invariant broken").
        // Pinned to the reservation rule (its horizon claims; PIBT claims no horizon, so the fault cannot arise there).
        await using var fleet = await Fleet.StartAsync(TestMaps.LongCorridor(), traffic: TrafficControl.Reservation);
        var r2 = await fleet.AddRobotAsync("r2", "D");
        var r1 = await fleet.AddRobotAsync("r1", "A");
        await fleet.SubmitAsync("m1", "a", "e");
        await fleet.RunUntilAsync(() => r1.LastNodeId == "B");
        Assert.Contains("D", r1.PendingWaypointIds); // in its order's horizon: D is r2's

        // Before r1 reports the cancel done, r2 (idle on D) gets a mission and is released at once.
        Assert.True(await fleet.Coordinator.CancelAsync(new CancelMission("m1", "alice"), CancellationToken.None));
        await fleet.SubmitAsync("m2", "e", "f");

        var route = Assert.Single(fleet.Routes(r2));
        Assert.Equal(["D", "E", "D", "F"], route.Waypoints.Where(w => w.Released).Select(w => w.WaypointId));
        fleet.AfterCoordinatorCall();
        await r1.ReportAsync();
        await fleet.RunUntilAsync(() => fleet.Mission("m2").Status == MissionStatus.Completed);
    }

    [Fact]
    public async Task Should_resume_a_robot_paused_for_the_mission_once_the_mission_is_gone()
    {
        // Regression: a robot paused for a mission stayed paused (and held its waypoint) after the mission was cancelled.
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());
        var robot = await fleet.AddRobotAsync("r1", "A");
        await fleet.SubmitAsync("m1", "b", "d");
        await fleet.RunUntilAsync(() => robot.LastNodeId == "B");
        Assert.Equal(RobotFleet.ControlPlane.Missions.PauseOutcome.Done, await fleet.Coordinator.PauseAsync("m1", pause: true, "alice", CancellationToken.None));

        Assert.True(await fleet.Coordinator.CancelAsync(new CancelMission("m1", "alice"), CancellationToken.None));
        fleet.AfterCoordinatorCall();
        Assert.DoesNotContain(fleet.InstantActions(robot).SelectMany(t => t.Actions), a => a.ActionType == "stopPause");
        await robot.ReportAsync(); // the cancel is done: the mission is no longer the robot's

        var types = fleet.InstantActions(robot).SelectMany(t => t.Actions).Select(a => a.ActionType).ToList();
        Assert.Equal(["startPause", "cancelOrder", "stopPause"], types);
        await fleet.TickAsync();
        Assert.Equal(3, fleet.InstantActions(robot).SelectMany(t => t.Actions).Count()); // once only
    }
}

public sealed class When_an_operator_pauses_a_mission
{
    [Fact]
    public async Task Should_pause_a_running_mission_and_resume_it_to_executing()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());
        var robot = await fleet.AddRobotAsync("r1", "A");
        await fleet.SubmitAsync("m1", "b", "d");
        await fleet.RunUntilAsync(() => robot.LastNodeId == "B");
        Assert.Equal(MissionStatus.Executing, fleet.Mission("m1").Status);

        Assert.Equal(PauseOutcome.Done, await fleet.Coordinator.PauseAsync("m1", pause: true, "alice", CancellationToken.None));
        Assert.Equal(MissionStatus.Paused, fleet.Mission("m1").Status);
        Assert.Equal(("alice", "paused by operator (startPause)"), (fleet.Mission("m1").History[^1].Actor, fleet.Mission("m1").History[^1].Reason));
        Assert.Equal(PauseOutcome.WrongState, await fleet.Coordinator.PauseAsync("m1", pause: true, "alice", CancellationToken.None));
        Assert.Equal(MissionStatus.Paused, (await fleet.StatusChangesAsync("m1"))[^1].Status);

        Assert.Equal(PauseOutcome.Done, await fleet.Coordinator.PauseAsync("m1", pause: false, "bob", CancellationToken.None));
        Assert.Equal(MissionStatus.Executing, fleet.Mission("m1").Status);
        Assert.Equal(PauseOutcome.WrongState, await fleet.Coordinator.PauseAsync("m1", pause: false, "bob", CancellationToken.None));
        Assert.Equal(["startPause", "stopPause"], fleet.InstantActions(robot).SelectMany(t => t.Actions).Select(a => a.ActionType));

        await fleet.RunUntilAsync(() => fleet.Mission("m1").Status == MissionStatus.Completed);
        Assert.Equal(
            [MissionStatus.Queued, MissionStatus.Assigned, MissionStatus.Dispatched, MissionStatus.Executing, MissionStatus.Paused, MissionStatus.Executing, MissionStatus.Completed],
            (await fleet.StatusChangesAsync("m1")).Select(s => s.Status));
    }

    [Fact]
    public async Task Should_resume_to_dispatched_when_the_robot_has_not_shown_the_order_yet()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());
        await fleet.AddRobotAsync("r1", "A");
        await fleet.SubmitAsync("m1", "b", "d");
        Assert.Equal(MissionStatus.Dispatched, fleet.Mission("m1").Status);

        Assert.Equal(PauseOutcome.Done, await fleet.Coordinator.PauseAsync("m1", pause: true, "alice", CancellationToken.None));
        Assert.Equal(PauseOutcome.Done, await fleet.Coordinator.PauseAsync("m1", pause: false, "alice", CancellationToken.None));

        Assert.Equal(MissionStatus.Dispatched, fleet.Mission("m1").Status);
        await fleet.RunUntilAsync(() => fleet.Mission("m1").Status == MissionStatus.Completed);
    }

    [Fact]
    public async Task Should_not_pause_a_mission_no_robot_runs()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());
        await fleet.SubmitAsync("m1", "b", "d");

        Assert.Equal(PauseOutcome.NotRunning, await fleet.Coordinator.PauseAsync("m1", pause: true, "alice", CancellationToken.None));
        Assert.Equal(PauseOutcome.UnknownMission, await fleet.Coordinator.PauseAsync("nope", pause: true, "alice", CancellationToken.None));
        Assert.Equal(MissionStatus.Queued, fleet.Mission("m1").Status);
    }
}

public sealed class When_an_operator_reassigns_a_mission
{
    [Fact]
    public async Task Should_pin_a_queued_mission_to_another_robot_which_takes_it_at_once()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());
        var r1 = await fleet.AddRobotAsync("r1", "A");
        var r2 = await fleet.AddRobotAsync("r2", "D");
        await fleet.SubmitAsync(new SubmitMission("m1", MissionKind.Delivery, "b", "c", 1, "tester", Robot: r1.Id));
        await fleet.SubmitAsync(new SubmitMission("m2", MissionKind.Delivery, "c", "d", 1, "tester", Robot: r1.Id));
        Assert.Equal(MissionStatus.Queued, fleet.Mission("m2").Status); // waits for r1

        var outcome = await fleet.Coordinator.ReassignAsync(new ReassignMission("m2", r2.Id, "alice"), CancellationToken.None);

        Assert.Equal(ReassignOutcome.Done, outcome);
        var m2 = fleet.Mission("m2");
        Assert.Equal(r2.Id, m2.PinnedRobot);
        Assert.Equal(r2.Id, m2.Robot);
        Assert.Equal(MissionStatus.Dispatched, m2.Status);
        var reassigned = m2.History[1];
        Assert.Equal((MissionStatus.Queued, "alice", "reassigned to acme/r2 by operator"), (reassigned.Status, reassigned.Actor, reassigned.Reason));
        await fleet.RunUntilAsync(() => fleet.Mission("m2").Status == MissionStatus.Completed && fleet.Mission("m1").Status == MissionStatus.Completed);
        Assert.Equal(RobotActionStatus.Finished, r2.Actions["m2-drop"].Status);
    }

    [Fact]
    public async Task Should_unpin_a_queued_mission_so_the_dispatcher_chooses()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());
        var r1 = await fleet.AddRobotAsync("r1", "A");
        var r2 = await fleet.AddRobotAsync("r2", "D");
        await fleet.SubmitAsync(new SubmitMission("m1", MissionKind.Delivery, "b", "c", 1, "tester", Robot: r1.Id));
        await fleet.SubmitAsync(new SubmitMission("m2", MissionKind.Delivery, "c", "d", 1, "tester", Robot: r1.Id));

        Assert.Equal(ReassignOutcome.Done, await fleet.Coordinator.ReassignAsync(new ReassignMission("m2", null, "alice"), CancellationToken.None));

        Assert.Null(fleet.Mission("m2").PinnedRobot);
        Assert.Equal(r2.Id, fleet.Mission("m2").Robot);
    }

    [Fact]
    public async Task Should_refuse_once_dispatched_or_for_an_unknown_robot_or_mission()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());
        var r1 = await fleet.AddRobotAsync("r1", "A");
        await fleet.SubmitAsync("m1", "b", "d");
        Assert.Equal(MissionStatus.Dispatched, fleet.Mission("m1").Status);

        Assert.Equal(ReassignOutcome.TooLate, await fleet.Coordinator.ReassignAsync(new ReassignMission("m1", null, "alice"), CancellationToken.None));
        Assert.Equal(ReassignOutcome.UnknownRobot, await fleet.Coordinator.ReassignAsync(new ReassignMission("m1", new RobotId("acme", "ghost"), "alice"), CancellationToken.None));
        Assert.Equal(ReassignOutcome.UnknownMission, await fleet.Coordinator.ReassignAsync(new ReassignMission("nope", r1.Id, "alice"), CancellationToken.None));
        Assert.Equal(MissionStatus.Dispatched, fleet.Mission("m1").Status);
        Assert.Equal(3, fleet.Mission("m1").History.Count);
    }
}

public sealed class When_a_lifecycle_fact_misses_the_mission_state_machine
{
    // On RabbitMQ the broker confirms a fact published to an exchange no queue is bound to yet (the machine's endpoint still
    // starting) and drops it; the coordinator cannot tell from the publish. Here the machine's endpoint drops the mission's
    // first fact unread, the way that fact never reached it.
    [Fact]
    public async Task Should_publish_the_missing_facts_again_until_the_machine_has_every_one()
    {
        var drop = new DropFirst<MissionSubmitted>();
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor(), bus: x => x.AddConfigureEndpointsCallback((_, name, e) =>
        {
            if (name == "robotfleet-mission-lifecycle")
                e.UseFilter(drop);
        }));
        await fleet.AddRobotAsync("r1", "A");
        await fleet.SubmitAsync("m1", "b", "d");
        Assert.Equal(MissionStatus.Dispatched, fleet.Mission("m1").Status);

        // Facts 2 and 3 overtook the lost first one: the machine keeps them until it comes.
        Assert.True(await Eventually(() => drop.Dropped == 1), "the machine's endpoint dropped the submission");
        var reader = fleet.Reader;
        Assert.True(await Eventually(async () => (await reader.FindAsync("m1", CancellationToken.None))?.Parked is not null), "facts 2 and 3 parked");
        Assert.Equal(0, (await reader.FindAsync("m1", CancellationToken.None))!.LastSequence);

        // Not before LifecycleCatchUpAfter (10 s) has passed since the last fact was published.
        Assert.Equal(0, await fleet.Coordinator.CatchUpLifecycleAsync(CancellationToken.None));
        fleet.Time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(3, await fleet.Coordinator.CatchUpLifecycleAsync(CancellationToken.None));
        Assert.True(await Eventually(async () => (await reader.FindAsync("m1", CancellationToken.None))?.LastSequence == 3), "the machine took in facts 1..3");
        Assert.Equal(["Queued", "Assigned", "Dispatched"], (await reader.FindAsync("m1", CancellationToken.None))!.History.Select(h => h.To));
        Assert.Contains(fleet.Log, l => l.Contains("Mission m1: the mission state machine has applied 0 of its 3 lifecycle facts 10 s after the last was published; publishing facts 1..3 again"));

        // The mission runs to its end; once the machine has every fact, nothing is published again.
        await fleet.RunUntilAsync(() => fleet.Mission("m1").Status == MissionStatus.Completed);
        await fleet.AssertLifecycleAgreesAsync();
        var logged = fleet.Log.Count(l => l.Contains("publishing facts"));
        await fleet.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(logged, fleet.Log.Count(l => l.Contains("publishing facts")));
        Assert.Equal(1, drop.Dropped);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the machine's instances in SQLite (EfMissionStateStore.AppliedSequencesAsync)
    public async Task Should_publish_a_lost_submission_again_while_the_mission_waits_in_the_queue(bool sqlite)
    {
        var drop = new DropFirst<MissionSubmitted>();
        using var dir = new TempDataDir();
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor(), dataDirectory: sqlite ? dir.Path : null, bus: x => x.AddConfigureEndpointsCallback((_, name, e) =>
        {
            if (name == "robotfleet-mission-lifecycle")
                e.UseFilter(drop);
        }));
        await fleet.SubmitAsync("m1", "b", "d"); // no robot: the mission stays Queued, with no later fact to show the gap
        Assert.True(await Eventually(() => drop.Dropped == 1), "the machine's endpoint dropped the submission");

        await fleet.WaitAsync(TimeSpan.FromSeconds(12));

        Assert.True(await Eventually(async () => (await fleet.Reader.FindAsync("m1", CancellationToken.None))?.CurrentState == "Queued"), "the machine has the mission queued");
        Assert.Single(fleet.Log, l => l.Contains("Mission m1: the mission state machine has applied 0 of its 1 lifecycle facts"));
    }

    private static async Task<bool> Eventually(Func<bool> condition) => await Eventually(() => Task.FromResult(condition()));

    private static async Task<bool> Eventually(Func<Task<bool>> condition)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!await condition())
        {
            if (DateTime.UtcNow > until)
                return false;
            await Task.Delay(10);
        }

        return true;
    }

    /// <summary>Drops the first <typeparamref name="T"/> to reach the endpoint, unread (as if it never arrived).</summary>
    private sealed class DropFirst<T> : IFilter<ConsumeContext>
        where T : class
    {
        private int _dropped;

        public int Dropped => Volatile.Read(ref _dropped);

        public Task Send(ConsumeContext context, IPipe<ConsumeContext> next) =>
            context.TryGetMessage<T>(out _) && Interlocked.CompareExchange(ref _dropped, 1, 0) == 0 ? Task.CompletedTask : next.Send(context);

        public void Probe(ProbeContext context)
        {
        }
    }
}
