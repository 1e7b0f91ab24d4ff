using RobotFleet.ControlPlane.Missions;
using RobotFleet.Contracts;
using RobotFleet.Maps;

namespace RobotFleet.ControlPlane.Tests;

public sealed class When_a_detection_is_matched_to_lanes
{
    [Fact]
    public void Should_match_the_lanes_whose_corridor_holds_it_both_ways()
    {
        var map = TestMaps.CorridorWithBypass();
        // C(10,0) - D(15,0) two-way: both directions, nothing else, within 0.5 m of the centre line.
        Assert.Equal(["CD", "CD:r"], LaneCorridor.LanesAt(map, 12.5, 0.3).Select(l => l.Id).Order(StringComparer.Ordinal));
        Assert.Empty(LaneCorridor.LanesAt(map, 11, 0.8));
        // A wider corridor (or a lane width over 1 m) takes it in.
        Assert.Equal(2, LaneCorridor.LanesAt(map, 11, 0.8, defaultHalfWidth: 1.0).Count);
        // Past the end of a segment the distance is to its end point.
        Assert.Equal(1.0, LaneCorridor.DistanceTo(map, map.Lanes.Single(l => l.Id == "CD"), 16, 0), 9);
    }
}

public sealed class When_an_obstacle_is_seen_on_a_lane
{
    private static PerceptionReported Seen(SimRobot by, DateTimeOffset at, params (double X, double Y)[] spots) =>
        new(by.Id, at, "detector", "1", 5, spots.Select(s => new PerceivedObject("obstacle", 0.9, s.X, s.Y)).ToList(), at);

    /// <summary>
    /// Robot "a" at A gets m1 (a to d) on a map with the corridor A-B-C-D and a bypass B-E-D, while robot "b" holds C, so
    /// a's base ends at B; then a sees an obstacle on C-D. The caller disposes the fleet.
    /// </summary>
    private static async Task<(Fleet Fleet, SimRobot A, DispatchRoute First)> SeeAnObstacleBeyondTheHeldWaypointAsync(SiteMap map)
    {
        var fleet = await Fleet.StartAsync(map);
        var a = await fleet.AddRobotAsync("a", "A");
        await fleet.AddRobotAsync("b", "C"); // holds C: a's base stops at B for now
        await fleet.SubmitAsync("m1", "a", "d");
        var first = Assert.Single(fleet.Routes(a));
        await fleet.Coordinator.OnPerceptionAsync(Seen(a, fleet.Time.Now, (12.5, 0.2)), CancellationToken.None);
        fleet.AfterCoordinatorCall();
        return (fleet, a, first);
    }

    [Fact]
    public async Task Should_close_it_both_ways_and_send_an_order_update_round_it_when_it_is_not_released_yet()
    {
        var (fleet, a, first) = await SeeAnObstacleBeyondTheHeldWaypointAsync(TestMaps.CorridorWithBypass());
        await using var disposeFleet = fleet;
        Assert.Equal(["A", "B", "C", "D"], first.Waypoints.Select(w => w.WaypointId));
        Assert.False(first.Waypoints[2].Released); // C is b's

        var closed = await fleet.Coordinator.ClosedLanesAsync(CancellationToken.None);
        Assert.Equal(["CD", "CD:r"], closed.Select(c => c.LaneId));
        Assert.All(closed, c => Assert.Equal(fleet.Time.Now + fleet.Options.ObstacleLaneTimeout, c.Until));
        var update = fleet.Routes(a)[^1];
        Assert.Equal(("m1", 1L), (update.OrderId, update.OrderUpdateId));
        var lastBase = first.Waypoints.Last(w => w.Released);
        Assert.Equal((lastBase.WaypointId, lastBase.SequenceId), (update.Waypoints[0].WaypointId, update.Waypoints[0].SequenceId)); // stitched at the last base node
        Assert.Equal(["B", "E", "D"], update.Waypoints.Select(w => w.WaypointId).SkipWhile(w => w != "B"));
        Assert.DoesNotContain(update.Lanes, l => l.LaneId.StartsWith("CD", StringComparison.Ordinal));
        Assert.Empty(fleet.InstantActions(a)); // no cancel needed
        Assert.Single(fleet.Harness.Published.Select<LaneClosed>());

        await fleet.RunUntilAsync(() => fleet.Mission("m1").IsFinal);
        Assert.Equal(MissionStatus.Completed, fleet.Mission("m1").Status);
        Assert.Equal(["A", "B", "E", "D"], a.Trail);
    }

    [Fact]
    public async Task Should_have_the_door_on_the_way_round_opened_on_entering_its_lane_when_the_waypoint_before_it_was_released()
    {
        // Regression: the waypoint before the door (B) was already released to the robot, so it could not be given the
        // openDoor action (a released node is fixed), and the robot was sent through the closed door without one.
        var (fleet, a, first) = await SeeAnObstacleBeyondTheHeldWaypointAsync(TestMaps.CorridorWithDoorOnBypass());
        await using var disposeFleet = fleet;
        Assert.Equal("B", first.Waypoints.Last(w => w.Released).WaypointId);
        Assert.All(first.Waypoints, w => Assert.DoesNotContain(w.Actions, x => x.ActionType == RobotPlan.OpenDoorAction));

        var update = fleet.Routes(a)[^1];
        Assert.Equal(["B", "E", "D"], update.Waypoints.Select(w => w.WaypointId));
        Assert.Empty(update.Waypoints[0].Actions); // the stitching node is as it was sent
        var open = Assert.Single(Assert.Single(update.Lanes, l => l.LaneId == "BE").Actions ?? []);
        Assert.Equal((RobotPlan.OpenDoorAction, "HARD", "door1"), (open.ActionType, open.BlockingType, open.Parameters["doorId"]));
        Assert.All(update.Lanes.Where(l => l.LaneId != "BE"), l => Assert.Empty(l.Actions ?? []));

        await fleet.RunUntilAsync(() => a.LastNodeId == "B" || a.LastNodeId == "E");
        Assert.Equal("B", a.LastNodeId);
        await fleet.RunUntilAsync(() => a.LastNodeId != "B");
        Assert.Equal(["A", "B", "E"], a.Trail);
        Assert.Equal(RobotActionStatus.Finished, a.Actions[open.ActionId].Status); // run at B, before it drove onto the lane
        await fleet.RunUntilAsync(() => fleet.Mission("m1").IsFinal);
        Assert.Equal(MissionStatus.Completed, fleet.Mission("m1").Status);
        Assert.Single(a.Executed, open.ActionId);
    }

    [Fact]
    public async Task Should_cancel_and_re_plan_the_mission_round_it_when_it_is_in_the_released_base()
    {
        // Pinned to the reservation rule: it releases the whole free way at once, so the obstacle two lanes ahead lies in the
        // released base. The PIBT version below has it on the next lane.
        await using var fleet = await Fleet.StartAsync(TestMaps.Yard(), traffic: TrafficControl.Reservation);
        var a = await fleet.AddRobotAsync("a", "A");
        await fleet.SubmitAsync("m1", "a", "d");
        var first = Assert.Single(fleet.Routes(a));
        Assert.Equal(["A", "B", "C", "D"], first.Waypoints.Select(w => w.WaypointId));
        Assert.All(first.Waypoints, w => Assert.True(w.Released));
        await fleet.RunUntilAsync(() => a.LastNodeId == "B");

        await fleet.Coordinator.OnPerceptionAsync(Seen(a, fleet.Time.Now, (12, 0)), CancellationToken.None);
        fleet.AfterCoordinatorCall();

        Assert.Equal("cancelOrder", Assert.Single(Assert.Single(fleet.InstantActions(a)).Actions).ActionType);
        Assert.Equal(MissionStatus.Queued, fleet.Mission("m1").Status);
        Assert.Empty(fleet.Mission("m1").FailedRobots); // not held against the robot

        await fleet.RunUntilAsync(() => fleet.Mission("m1").IsFinal);
        Assert.Equal(MissionStatus.Completed, fleet.Mission("m1").Status);
        var detour = fleet.Routes(a)[^1];
        Assert.Equal("m1-r1-d1", detour.OrderId); // second assignment (r1), first detour (d1)
        Assert.DoesNotContain(detour.Lanes, l => l.LaneId.StartsWith("CD", StringComparison.Ordinal));
        Assert.DoesNotContain("CD", string.Join("-", a.Trail));
        Assert.Equal("D", a.LastNodeId);
        // The pick made at A before the detour is not made again: the new order starts at the drop.
        Assert.Equal(["m1-pick", "m1-r1-d1-drop"], a.Executed);
    }

    [Fact]
    public async Task Should_cancel_and_re_plan_the_mission_round_it_when_it_is_in_the_released_base_under_pibt()
    {
        // PIBT releases a few metres ahead: the lane B - C, just ahead of the robot at B, is in its base.
        await using var fleet = await Fleet.StartAsync(TestMaps.Yard());
        var a = await fleet.AddRobotAsync("a", "A");
        await fleet.SubmitAsync("m1", "a", "d");
        await fleet.RunUntilAsync(() => a.LastNodeId == "B");
        Assert.Contains("C", a.HeldWaypoints);

        await fleet.Coordinator.OnPerceptionAsync(Seen(a, fleet.Time.Now, (7.5, 0)), CancellationToken.None);
        fleet.AfterCoordinatorCall();

        Assert.Equal("cancelOrder", Assert.Single(Assert.Single(fleet.InstantActions(a)).Actions).ActionType);
        Assert.Equal(MissionStatus.Queued, fleet.Mission("m1").Status);
        Assert.Empty(fleet.Mission("m1").FailedRobots);

        await fleet.RunUntilAsync(() => fleet.Mission("m1").IsFinal);
        Assert.Equal(MissionStatus.Completed, fleet.Mission("m1").Status);
        Assert.Equal("m1-r1-d1", fleet.Routes(a)[^1].OrderId);
        Assert.DoesNotContain(fleet.Routes(a)[^1].Lanes, l => l.LaneId.StartsWith("BC", StringComparison.Ordinal));
        Assert.Equal(["A", "B", "E", "F", "P", "D"], a.Trail); // round by the top (F - C - D is as long)
        Assert.Equal(["m1-pick", "m1-r1-d1-drop"], a.Executed);
    }

    [Fact]
    public async Task Should_keep_a_mission_with_no_way_round_queued_until_the_lane_times_out()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor(), configure: o => new ControlPlaneOptions
        {
            Map = o.Map, BlockedResolveAfter = o.BlockedResolveAfter, ReplanCooldown = o.ReplanCooldown, LostBlockerTimeout = o.LostBlockerTimeout,
            ParkIdleAfter = null, ObstacleLaneTimeout = TimeSpan.FromSeconds(10),
        });
        var a = await fleet.AddRobotAsync("a", "A");
        await fleet.Coordinator.OnPerceptionAsync(Seen(a, fleet.Time.Now, (12.5, 0)), CancellationToken.None);
        await fleet.SubmitAsync("m1", "a", "d");

        await fleet.WaitAsync(TimeSpan.FromSeconds(8));
        Assert.Equal(MissionStatus.Queued, fleet.Mission("m1").Status);
        Assert.Empty(fleet.Routes(a));

        await fleet.RunUntilAsync(() => fleet.Mission("m1").IsFinal);
        Assert.Equal(MissionStatus.Completed, fleet.Mission("m1").Status);
        Assert.Empty(await fleet.Coordinator.ClosedLanesAsync(CancellationToken.None));
        Assert.Single(fleet.Harness.Published.Select<LaneOpened>());
    }

    [Fact]
    public async Task Should_open_it_when_a_robot_looking_at_the_spot_sees_it_clear()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());
        var a = await fleet.AddRobotAsync("a", "B"); // at (5,0), facing east
        await fleet.Coordinator.OnPerceptionAsync(Seen(a, fleet.Time.Now, (7.5, 0)), CancellationToken.None);
        Assert.Equal(2, (await fleet.Coordinator.ClosedLanesAsync(CancellationToken.None)).Count);

        fleet.Time.Advance(TimeSpan.FromMilliseconds(200));
        await fleet.Coordinator.OnPerceptionAsync(Seen(a, fleet.Time.Now, (7.6, 0.1)), CancellationToken.None); // still there
        Assert.Equal(2, (await fleet.Coordinator.ClosedLanesAsync(CancellationToken.None)).Count);

        fleet.Time.Advance(TimeSpan.FromMilliseconds(200));
        await fleet.Coordinator.OnPerceptionAsync(Seen(a, fleet.Time.Now), CancellationToken.None); // gone
        Assert.Empty(await fleet.Coordinator.ClosedLanesAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Should_let_an_operator_close_and_open_a_lane()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Corridor());
        Assert.True(await fleet.Coordinator.CloseLaneAsync(new CloseLane("BC", "op", "spill"), CancellationToken.None));
        var closed = await fleet.Coordinator.ClosedLanesAsync(CancellationToken.None);
        Assert.Equal(["BC", "BC:r"], closed.Select(c => c.LaneId));
        Assert.All(closed, c => Assert.Null(c.Until));
        Assert.False(await fleet.Coordinator.CloseLaneAsync(new CloseLane("nope", "op", "x"), CancellationToken.None));
        Assert.True(await fleet.Coordinator.OpenLaneAsync("BC:r", "op", CancellationToken.None));
        Assert.Empty(await fleet.Coordinator.ClosedLanesAsync(CancellationToken.None));
    }
}

public sealed class When_a_lane_closes_on_a_loop_driven_one_way_round
{
    /// <summary>
    /// The loop of <see cref="TestMaps.LoopWithRoom"/> driven one way round, a robot at A, and the target next to A against
    /// the loop's direction (C when A-B runs against it, else E): the short way is two lanes against the loop, the way round
    /// four. Returns the fleet, the robot, the target's location and the first lane of the way round.
    /// </summary>
    private static async Task<(Fleet Fleet, SimRobot Robot, string Target, string WayRound)> StartAsync()
    {
        var fleet = await LoopFleetAsync();
        var map = fleet.Map;
        var robot = await fleet.AddRobotAsync("r1", "A");
        var againstAB = Planning.OneWayLoops.Blocks(map).Against.Contains(map.FindLane("A", "B")!.Id);
        return againstAB ? (fleet, robot, "c", map.FindLane("A", "F")!.Id) : (fleet, robot, "e", map.FindLane("A", "B")!.Id);
    }

    [Fact]
    public async Task Should_drive_the_loop_round_while_every_lane_is_open()
    {
        var (fleet, robot, target, _) = await StartAsync();
        await using var _ = fleet;

        Assert.IsType<MissionAccepted>(await fleet.SubmitAsync("m1", "a", target));
        await fleet.RunUntilAsync(() => fleet.Mission("m1").IsFinal);

        Assert.Equal(MissionStatus.Completed, fleet.Mission("m1").Status);
        Assert.Equal(5, robot.Trail.Distinct().Count(w => w is "A" or "B" or "C" or "D" or "E" or "F")); // all the way round but one
        var against = Planning.OneWayLoops.Blocks(fleet.Map).Against;
        Assert.DoesNotContain(fleet.Routes(robot).SelectMany(r => r.Lanes), l => against.Contains(l.LaneId));
    }

    /// <summary>A fleet on <see cref="TestMaps.LoopWithRoom"/> with its loop driven one way round, no robot yet.</summary>
    private static Task<Fleet> LoopFleetAsync() => OneWayLoopFleet.StartAsync(TestMaps.LoopWithRoom());

    /// <summary>
    /// The room off B is a spur: one robot at a time. x works in it (R2) and leaves; y stands on its mouth B, bound into it.
    /// y backs up the passing lane out of B, one waypoint against the loop, lets x out and drives in; without the passing
    /// lane (the one-way rule as it was) its only way off B was forward round the whole loop (through D, opposite B).
    /// </summary>
    [Fact]
    public async Task Should_let_the_robot_on_a_spur_mouth_back_up_one_waypoint_for_the_robot_coming_out()
    {
        await using var fleet = await LoopFleetAsync();
        var x = await fleet.AddRobotAsync("x", "R2");
        var y = await fleet.AddRobotAsync("y", "B");
        var blocks = Planning.OneWayLoops.Blocks(fleet.Map);
        var passing = fleet.Map.Lanes.Single(l => l.Id == Assert.Single(blocks.Passing));
        Assert.Equal("B", passing.FromWaypointId);

        Assert.IsType<MissionAccepted>(await fleet.SubmitAsync("m-x", "r2", passing.ToWaypointId == "A" ? "c" : "a"));
        Assert.IsType<MissionAccepted>(await fleet.SubmitAsync("m-y", "r2", "e"));
        await fleet.RunUntilAsync(() => fleet.Mission("m-x").IsFinal && fleet.Mission("m-y").IsFinal, maxRounds: 400);

        Assert.Equal((MissionStatus.Completed, MissionStatus.Completed), (fleet.Mission("m-x").Status, fleet.Mission("m-y").Status));
        Assert.Equal(x.Id, fleet.Mission("m-x").Robot);
        Assert.Equal(y.Id, fleet.Mission("m-y").Robot);
        var intoTheRoom = y.Trail.TakeWhile(w => w != "R2").ToList();
        Assert.True(intoTheRoom.SequenceEqual(["B", passing.ToWaypointId, "B", "R1"]), string.Join(" / ", y.Trail) + "\n" + string.Join("\n", fleet.Log.Take(60)));
        Assert.Contains(fleet.Routes(y).SelectMany(r => r.Lanes), l => l.LaneId == passing.Id);
        // Routes never take it: no order but the one that made way drives a lane against the loop.
        Assert.DoesNotContain(fleet.Routes(x).SelectMany(r => r.Lanes), l => blocks.Against.Contains(l.LaneId));
    }

    [Fact]
    public async Task Should_open_the_way_round_against_the_loop_while_a_lane_on_it_is_closed_and_close_it_again_after()
    {
        // Regression of the documented limit: with the lanes against the loop removed from the map, a closed lane on the loop
        // left the target unreachable until it opened (the mission waited in the queue).
        var (fleet, robot, target, wayRound) = await StartAsync();
        await using var _ = fleet;
        Assert.True(await fleet.Coordinator.CloseLaneAsync(new CloseLane(wayRound, "op", "spill"), CancellationToken.None));

        Assert.IsType<MissionAccepted>(await fleet.SubmitAsync("m1", "a", target));
        await fleet.RunUntilAsync(() => fleet.Mission("m1").IsFinal);

        Assert.Equal(MissionStatus.Completed, fleet.Mission("m1").Status);
        Assert.Equal(3, robot.Trail.Distinct().Count()); // A, then the two waypoints of the short way
        Assert.DoesNotContain(fleet.Routes(robot).SelectMany(r => r.Lanes), l => l.LaneId == wayRound);

        Assert.Contains(fleet.Log, l => l.Contains("lanes against the loops open while a lane on their loops is closed"));

        // Opened again: back to the loop's direction (from the target, the way to A against the loop is closed again).
        Assert.True(await fleet.Coordinator.OpenLaneAsync(wayRound, "op", CancellationToken.None));
        var before = fleet.Routes(robot).Count;
        Assert.IsType<MissionAccepted>(await fleet.SubmitAsync("m2", target, "a"));
        await fleet.RunUntilAsync(() => fleet.Mission("m2").IsFinal);
        Assert.Equal(MissionStatus.Completed, fleet.Mission("m2").Status);
        // (The loop is one block: every lane against it was open, and the log says they are closed again; regression, review.)
        Assert.Contains(fleet.Log, l => l.Contains("lanes against the loops closed again"));
        var against = Planning.OneWayLoops.Blocks(fleet.Map).Against;
        Assert.DoesNotContain(fleet.Routes(robot).Skip(before).SelectMany(r => r.Lanes), l => against.Contains(l.LaneId));
    }
}

/// <summary>
/// The coordinator hands the PIBT controller the lanes against the loops (but the passing lanes) as last-resort lanes
/// (<see cref="Planning.Traffic.PibtTrafficController.SetLastResortLanes"/>): the controller's own test of the same jam is
/// <c>Robots_queued_on_a_one_way_loop_behind_a_robot_nobody_can_pass_back_up_along_last_resort_lanes</c>.
/// </summary>
public sealed class When_robots_queue_on_a_loop_driven_one_way_round_behind_a_robot_nobody_can_pass
{
    /// <summary>
    /// <see cref="TestMaps.LoopWithCloseSpur"/> driven one way round (p0 > p1 > p2 > A > p3 ...): X in C is bound for A,
    /// Y on p2 for p3, Z on p1 for p4, W on p0 for p5 (round the loop). X and Y keep each other off A and nobody may back up
    /// against the loop, so all four stand; after a minute of it (<see cref="Planning.Traffic.PibtTrafficOptions.JamLastResortAfterSeconds"/>)
    /// the jam fallback backs the queue up along lanes against the loop, X gets onto A and all four arrive. Without the
    /// last-resort lanes handed over, the four stand for the test's whole 200 s (checked by taking the hand-over out).
    /// </summary>
    [Fact]
    public async Task Should_back_the_queue_up_against_the_loop_after_a_minute()
    {
        await using var fleet = await OneWayLoopFleet.StartAsync(TestMaps.LoopWithCloseSpur());
        var blocks = Planning.OneWayLoops.Blocks(fleet.Map);
        var lastResort = blocks.Against.Except(blocks.Passing).ToHashSet();
        Assert.Contains(fleet.Map.FindLane("p2", "p1")!.Id, lastResort); // the loop runs p0 > p1 > p2 > A > p3, as the placements assume
        var robots = new List<(SimRobot Robot, string Goal)>();
        foreach (var (serial, at, goal) in new[] { ("X", "C", "A"), ("Y", "p2", "p3"), ("Z", "p1", "p4"), ("W", "p0", "p5") })
            robots.Add((await fleet.AddRobotAsync(serial, at), goal));
        foreach (var (robot, goal) in robots)
            Assert.IsType<MissionAccepted>(await fleet.SubmitAsync(new SubmitMission("m-" + robot.Id.SerialNumber, MissionKind.Patrol, null, null, 1, "tester", Locations: [goal], Robot: robot.Id)));
        var start = fleet.Time.Now;
        var firstMove = TimeSpan.MaxValue;
        bool AllDone()
        {
            if (firstMove == TimeSpan.MaxValue && robots.Any(r => r.Robot.Trail.Count > 1))
                firstMove = fleet.Time.Now - start;
            return robots.All(r => fleet.Mission("m-" + r.Robot.Id.SerialNumber).IsFinal);
        }

        await fleet.RunUntilAsync(AllDone, maxRounds: 400);

        var trails = string.Join("\n", robots.Select(r => r.Robot.Id.SerialNumber + ": " + string.Join(" ", r.Robot.Trail)));
        Assert.True(robots.All(r => fleet.Mission("m-" + r.Robot.Id.SerialNumber).Status == MissionStatus.Completed), trails);
        Assert.InRange(firstMove, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(65)); // nobody moved before the last resort
        // The queue backed up along last-resort lanes; X, the robot searched for, kept to open lanes.
        Assert.Contains(robots.Skip(1).SelectMany(r => fleet.Routes(r.Robot)).SelectMany(r => r.Lanes), l => lastResort.Contains(l.LaneId));
        Assert.DoesNotContain(fleet.Routes(robots[0].Robot).SelectMany(r => r.Lanes), l => blocks.Against.Contains(l.LaneId));
        Assert.Equal(["C", "A"], robots[0].Robot.Trail.Take(2));
    }
}

/// <summary>Fleets whose maps' loops are driven one way round (<see cref="ControlPlaneOptions.OneWayLoops"/>).</summary>
internal static class OneWayLoopFleet
{
    /// <summary>A fleet on the map with its loops driven one way round and idle robots never parked, no robot yet.</summary>
    public static Task<Fleet> StartAsync(SiteMap map) => Fleet.StartAsync(map, configure: o => new ControlPlaneOptions
    {
        Map = o.Map,
        OneWayLoops = true,
        TrafficControl = o.TrafficControl,
        BlockedResolveAfter = o.BlockedResolveAfter,
        ReplanCooldown = o.ReplanCooldown,
        LostBlockerTimeout = o.LostBlockerTimeout,
        ParkIdleAfter = null,
    });
}
