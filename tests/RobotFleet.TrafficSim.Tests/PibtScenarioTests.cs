using NetTopologySuite.Geometries;
using RobotFleet.Maps;
using RobotFleet.Planning;
using RobotFleet.Planning.Traffic;
using RobotFleet.TestSupport;

namespace RobotFleet.TrafficSim.Tests;

/// <summary>
/// The PIBT traffic controller on small scenarios (kinematic robots, 1 m/s, 0.5 m footprint radius, 5 s actions): every
/// robot reaches every goal, no two robots ever come closer than their footprints, and no two robots hold conflicting
/// waypoints at any tick.
/// </summary>
public sealed class PibtScenarioTests
{
    private static readonly SimSettings Settings = new() { Seed = 1, ActionSeconds = 5, StallAfter = TimeSpan.FromSeconds(120) };

    /// <summary>Two rooms (square loops) joined by a single-lane two-way corridor of five waypoints.</summary>
    private static SiteMap TwoRooms(string? doorLane = null)
    {
        var map = SketchMap.Build(
            ["a1:0:0", "a2:0:4", "a3:-4:4", "a4:-4:0", "c1:2:0", "c2:4:0", "c3:6:0", "c4:8:0", "b1:10:0", "b2:10:4", "b3:14:4", "b4:14:0"],
            "a1=a2", "a2=a3", "a3=a4", "a4=a1", "a1=c1", "c1=c2", "c2=c3", "c3=c4", "c4=b1", "b1=b2", "b2=b3", "b3=b4", "b4=b1");
        if (doorLane is null)
            return map;
        var door = new Door("d1", "corridor_door", "L1", new LineString([new Coordinate(5, -1), new Coordinate(5, 1)]));
        var lanes = map.Lanes.Select(l => l.Id is "c2-c3" or "c3-c2" ? l with { DoorId = door.Id } : l);
        return new SiteMap(map.Id, map.Name, map.Levels, map.Waypoints.Values, lanes, [], doors: [door]);
    }

    [Fact]
    public void Head_on_in_a_single_lane_corridor_both_robots_get_through()
    {
        var sim = new ControllerSimulation(TwoRooms(), Settings, randomMissions: false);
        sim.AddRobot("east", "a3", "b3");
        sim.AddRobot("west", "b3", "a3");

        RunChecked(sim, 600);

        Assert.Equal(["b3"], sim.Reached["east"]);
        Assert.Equal(["a3"], sim.Reached["west"]);
    }

    /// <summary>
    /// The report's closest approach says what was measured: with one robot there is no pair to measure (it said "-", as
    /// for two robots never near each other), and robots that never came near each other are said to be so.
    /// </summary>
    [Fact]
    public void The_report_gives_no_closest_approach_for_one_robot_and_says_when_two_never_came_near()
    {
        var alone = new ControllerSimulation(TwoRooms(), Settings, randomMissions: false);
        alone.AddRobot("east", "a3", "b3");
        RunChecked(alone, 600);

        Assert.Contains("Closest approach: - (1 robot).", alone.Report("test", TimeSpan.Zero, stoppedEarly: false), StringComparison.Ordinal);

        var apart = new ControllerSimulation(TwoRooms(), Settings, randomMissions: false);
        apart.AddRobot("west-room", "a3", "a2");
        apart.AddRobot("east-room", "b3", "b2");
        RunChecked(apart, 600);

        Assert.Contains("Closest approach: never within 2 m.", apart.Report("test", TimeSpan.Zero, stoppedEarly: false), StringComparison.Ordinal);
    }

    [Fact]
    public void Four_robots_crossing_a_four_way_intersection_all_arrive()
    {
        // A plus-shaped crossing (centre x, arms two waypoints long) inside a ring road; each robot goes to the opposite arm.
        var map = SketchMap.Build(
            ["x:0:0", "n1:0:2", "n2:0:4", "s1:0:-2", "s2:0:-4", "e1:2:0", "e2:4:0", "w1:-2:0", "w2:-4:0", "ne:4:4", "se:4:-4", "sw:-4:-4", "nw:-4:4"],
            "x=n1", "n1=n2", "x=s1", "s1=s2", "x=e1", "e1=e2", "x=w1", "w1=w2", "n2=ne", "ne=e2", "e2=se", "se=s2", "s2=sw", "sw=w2", "w2=nw", "nw=n2");
        var sim = new ControllerSimulation(map, Settings, randomMissions: false);
        sim.AddRobot("from-north", "n1", "s1");
        sim.AddRobot("from-south", "s1", "n1");
        sim.AddRobot("from-east", "e1", "w1");
        sim.AddRobot("from-west", "w1", "e1");

        RunChecked(sim, 600);

        Assert.Equal(["s1"], sim.Reached["from-north"]);
        Assert.Equal(["n1"], sim.Reached["from-south"]);
        Assert.Equal(["w1"], sim.Reached["from-east"]);
        Assert.Equal(["e1"], sim.Reached["from-west"]);
    }

    [Fact]
    public void Two_robots_with_the_same_goal_reach_it_one_after_the_other()
    {
        var map = SketchMap.Build(["p1:0:0", "p2:4:0", "p3:8:0", "p4:8:4", "p5:4:4", "p6:0:4"], "p1=p2", "p2=p3", "p3=p4", "p4=p5", "p5=p6", "p6=p1");
        var sim = new ControllerSimulation(map, Settings, randomMissions: false);
        sim.AddRobot("first", "p1", "p4");
        sim.AddRobot("second", "p6", "p4");

        RunChecked(sim, 600);

        Assert.Equal(["p4"], sim.Reached["first"]);
        Assert.Equal(["p4"], sim.Reached["second"]);
    }

    [Fact]
    public void A_robot_waits_for_the_door_to_open_and_two_never_share_the_doorway()
    {
        var alone = new ControllerSimulation(TwoRooms("c2-c3"), Settings, randomMissions: false, doorSeconds: 4);
        alone.AddRobot("solo", "a1", "b1");
        RunChecked(alone, 300);
        // 10 m at 1 m/s, 4 s for the door, 5 s for the action at the goal: never less than 19 s.
        Assert.True(alone.Now >= 19, $"done after {alone.Now} s: the door wait was skipped");
        Assert.Equal(1, alone.DoorWaits);

        var both = new ControllerSimulation(TwoRooms("c2-c3"), Settings, randomMissions: false, doorSeconds: 4);
        both.AddRobot("east", "a3", "b3");
        both.AddRobot("west", "b3", "a3");
        RunChecked(both, 900, tick: () =>
        {
            var inDoorway = new[] { "east", "west" }.Count(r => both.Controller.Held(r) is var held && held.Contains("c2") && held.Contains("c3"));
            Assert.True(inDoorway <= 1, $"both robots released through the doorway at t={both.Now} s");
        });
        Assert.Equal(["b3"], both.Reached["east"]);
        Assert.Equal(["a3"], both.Reached["west"]);
        Assert.True(both.DoorWaits >= 2);
    }

    [Theory]
    [InlineData("building.yaml")]
    [InlineData("geojson")] // the same building written as a GeoJSON site, lifts and all
    public void Two_robots_and_one_lift_on_the_hotel_map_ride_one_at_a_time(string format)
    {
        var map = RmfBuildingImporter.Import(Path.Combine(Sites.RepoRoot(), "maps", "hotel", "hotel.building.yaml"));
        if (format == "geojson")
            map = SiteMapGeoJson.Parse(SiteMapGeoJson.Write(map), "hotel.geojson");
        var sim = new ControllerSimulation(map, Settings, randomMissions: false);
        foreach (var ride in map.Lanes.Where(l => l.LiftId == "Lift2"))
            sim.CloseLane(ride.Id); // Lift2 out of service: both must use Lift1
        var lift1 = map.Lifts.Single(l => l.Id == "Lift1").Stops.Select(s => s.WaypointId).ToHashSet();
        sim.AddRobot("guest", "lobby", "L3_room1");
        sim.AddRobot("service", "kitchen", "L3_room15");

        var sessions = 0;
        var inLift = new HashSet<string>();
        RunChecked(sim, 1800, tick: () =>
        {
            var holding = new[] { "guest", "service" }.Where(r => sim.Controller.Held(r).Any(lift1.Contains)).ToList();
            Assert.True(holding.Count <= 1, $"{string.Join(" and ", holding)} hold Lift1 together at t={sim.Now} s");
            foreach (var robot in holding.Where(inLift.Add))
                sessions++;
            inLift.IntersectWith(holding);
        });

        Assert.Equal(["L3_room1"], sim.Reached["guest"]);
        Assert.Equal(["L3_room15"], sim.Reached["service"]);
        Assert.Equal(2, sessions);
        Assert.True(sim.LiftRides >= 2, $"{sim.LiftRides} lift rides");
    }

    [Theory]
    [InlineData("clinic", 1)]
    [InlineData("clinic", 2)]
    [InlineData("clinic", 3)]
    [InlineData("clinic", 10)]
    [InlineData("hotel", 2)]
    public void Random_deliveries_on_a_building_with_lifts_and_doors_leave_no_robot_standing_for_good(string site, int seed)
    {
        // Clinic seeds 2 and 10 also hold the jam plan's circular wait: a robot outside a plan standing in the way of the
        // plan's next move, itself wanting through a plan robot's waypoint; the plan now ends at once instead of after its
        // 30 s patience (without that, 2 robots stood still for 120 s on seed 2 and on seed 10).
        // Regression: with PIBT alone, 3 to 4 of 5 robots on the clinic (seeds 1 to 3) and 2 of 5 on the hotel (seed 2) stood
        // for good within minutes round a dead-end corridor ending at a lift stop, and the others were pushed back and forth:
        // 2 to 14 deliveries in 30 minutes. The jam fallback (a joint search over the robots standing round one that has made
        // no progress for 30 s) frees them: 30 or more.
        // No loop flow weight: the seeds above were traced without it (the clinic's loops get K = 5 by density).
        var sim = new ControllerSimulation(Sites.Load(site, seed), new SimSettings { Robots = 5, Duration = TimeSpan.FromMinutes(30), Seed = seed, LoopFlowWeight = 1 }, randomMissions: true);
        sim.AddRandomRobots(5);
        while (sim.Now < 1800)
            sim.Tick();

        Assert.Equal(0, sim.Collisions);
        Assert.True(sim.StoodStill == 0 && sim.StandingNow == 0, string.Join(Environment.NewLine, sim.StallNotes));
        Assert.True(sim.Completed >= 20, $"only {sim.Completed} deliveries completed");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void On_a_warehouse_at_200_robots_the_robots_longest_without_progress_take_precedence(int seed)
    {
        // A robot of low priority that meets robots head-on in the two-way cross-aisles loses every meeting and is sent
        // round a one-way aisle loop (40 s) each time: PIBT's priority (time since the goal was given) does not grow faster
        // for it than for robots that drove well. Giving precedence to the few robots longest without progress (30 s or
        // more; then 2 % of the fleet) lets them through. Measured over an hour, seeds 1 / 2 / 3: 10 / 14 / 30 stalls
        // without, 3 / 1 / 5 with. (Precedence off also turns off PushDetourLimitSeconds, which needs it; on this grid that
        // limit changes nothing: the figures of seeds 1 to 10 are the same with and without it.)
        var with = WarehouseHalfHour(new PibtTrafficOptions { Seed = seed, PrecedenceAfterSeconds = 30 });
        var without = WarehouseHalfHour(new PibtTrafficOptions { Seed = seed, PrecedenceAfterSeconds = 0 });
        Assert.Equal(0, with.Collisions);
        Assert.Equal(0, with.StalledNow);
        Assert.True(with.Stalls < without.Stalls, $"{with.Stalls} stalls with precedence, {without.Stalls} without");
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    public void On_a_warehouse_at_200_robots_jam_plans_leave_robots_that_are_held_up_themselves_where_they_stand(int seed)
    {
        // A jam plan for one robot cleared its way by moving the robots round it, whatever that cost them: traced on seed 3,
        // a robot waiting on a two-way cross-aisle to go west was sent south into a one-way aisle (from 98 to 136 s to its
        // goal in one move) so that a robot coming east could pass, three times in a row, and stalled. Robots that have
        // gone 10 s without progress are now left out of another robot's plan until that robot has gone 60 s without it (and
        // then, since the eighth session, only those that have not gone longer without it than that robot). Measured over an
        // hour, seeds 1 to 10, when added: 27 stalls without, 6 with; over these 30 minutes 2 and 2 without, 0 with.
        // (Measured with retreats priced at their drive time, PushedRetreatPace = 1; since that pricing these seeds no
        // longer stall either way.)
        var spared = WarehouseHalfHour(new PibtTrafficOptions { Seed = seed, JamSparesAfterSeconds = 10, PushedRetreatPace = 1 });
        var not = WarehouseHalfHour(new PibtTrafficOptions { Seed = seed, JamSparesAfterSeconds = 0, PushedRetreatPace = 1 });
        Assert.Equal(0, spared.Collisions);
        Assert.True(spared.Stalls == 0, string.Join(Environment.NewLine, spared.StallNotes));
        Assert.True(not.Stalls > 0, "without sparing the seed stalls (2 on both seeds when measured)");
    }

    [Fact]
    public void On_a_warehouse_at_200_robots_five_percent_of_the_fleet_may_take_precedence()
    {
        // With 2 % (4 robots) the robot that stalled on seed 1 (t = 1245 s) had gone 38 s without progress, pushed back along
        // a cross-aisle by a platoon coming the other way, and was still not among the 4 longest waiting. Measured over an
        // hour, seeds 1 to 10: 5 stalls with 2 %, none with 5 %; seeds 1 to 60: 1 with 5 %.
        // (Measured with retreats priced at their drive time, PushedRetreatPace = 1; since that pricing the seed no longer
        // stalls either way.)
        var five = WarehouseHalfHour(new PibtTrafficOptions { Seed = 1, PushedRetreatPace = 1 });
        var two = WarehouseHalfHour(new PibtTrafficOptions { Seed = 1, PrecedenceShare = 0.02, PushedRetreatPace = 1 });
        Assert.Equal(0.05, new PibtTrafficOptions().PrecedenceShare);
        Assert.Equal(0, five.Collisions);
        Assert.True(five.Stalls == 0, string.Join(Environment.NewLine, five.StallNotes));
        Assert.True(two.Stalls > 0, "with 2 % the seed stalls (once, when measured)");
    }

    [Fact]
    public void On_a_warehouse_at_200_robots_a_jam_plan_never_moves_a_robot_held_up_longer_than_the_one_it_is_for()
    {
        // Regression, traced on seed 5: a robot 73 s without progress stood behind a robot going its way that had gone 88 s
        // without it (waiting for the waypoint ahead to clear). Past JamSparesUntilSeconds its jam plan could move every robot
        // round it, so it sent that robot south into a one-way aisle to take its place; that robot went round the loop, met
        // the same traffic and stalled (146 s; 139 s at t = 1887 s with the 5 % share). Such a robot is now left where it is.
        var sim = Warehouse(new PibtTrafficOptions { Seed = 5 }, seconds: 1920);
        Assert.Equal(0, sim.Collisions);
        Assert.True(sim.Stalls == 0, string.Join(Environment.NewLine, sim.StallNotes));
    }

    [Fact]
    public void On_a_warehouse_at_200_robots_a_pushed_robot_steps_into_an_aisle_rather_than_retreat_along_a_cross_aisle()
    {
        // Regression, traced on seed 79 (t = 416 s): a robot heading east on the two-way cross-aisle 30, 88 s from its goal,
        // met one coming west and was pushed back west one waypoint at a time (6 s each: it waits at each for the pusher's
        // claim), 7 waypoints in 43 s, instead of stepping into the one-way aisle beside it (126 s from its goal): the
        // retreat was priced at its drive time, 2 s a lane, to a place to step aside 5 waypoints back (114 s). It then went
        // 130 s without progress. The retreat is now priced at twice its drive (PushedRetreatPace). Seeds 1 to 100, an hour
        // each: 3 stalls at 1 (seeds 79, 83, 99), none at 2.
        var paced = Warehouse(new PibtTrafficOptions { Seed = 79 }, seconds: 600);
        var driveTime = Warehouse(new PibtTrafficOptions { Seed = 79, PushedRetreatPace = 1 }, seconds: 600);
        Assert.Equal(2, new PibtTrafficOptions().PushedRetreatPace);
        Assert.Equal(0, paced.Collisions);
        Assert.True(paced.Stalls == 0, string.Join(Environment.NewLine, paced.StallNotes));
        Assert.True(driveTime.Stalls > 0, "priced at its drive time the seed stalls (once, at t = 536 s, when measured)");
    }

    /// <summary>The office with its loops driven one way round (<see cref="SimSettings.WithOneWayLoops"/>), no robots yet, for scenarios (no random missions).</summary>
    private static ControllerSimulation OfficeOneWayRound()
    {
        var drawn = Sites.Load("office", 1);
        return new(drawn, Settings.WithOneWayLoops(drawn), randomMissions: false);
    }

    /// <summary>200 robots with random deliveries for 30 simulated minutes on the generated 100 x 100 warehouse of the options' seed.</summary>
    private static ControllerSimulation WarehouseHalfHour(PibtTrafficOptions options) => Warehouse(options, 1800);

    /// <summary>200 robots with random deliveries for <paramref name="seconds"/> simulated seconds on the generated 100 x 100 warehouse of the options' seed.</summary>
    private static ControllerSimulation Warehouse(PibtTrafficOptions options, double seconds) =>
        Simulate(Sites.Load("warehouse:100x100", options.Seed), 200, options, seconds);

    /// <summary>50 robots with random deliveries for <paramref name="seconds"/> simulated seconds on the Open-RMF airport terminal, its loops driven one way round or not.</summary>
    private static ControllerSimulation Airport(PibtTrafficOptions options, bool oneWayLoops, double seconds)
    {
        var map = Sites.Load("airport", options.Seed);
        return Simulate(map, 50, options, seconds, oneWayLoops);
    }

    /// <summary>
    /// The robots with random deliveries for <paramref name="seconds"/> simulated seconds on the map, with the options' seed;
    /// with <paramref name="oneWayLoops"/>, its loops driven one way round as <c>trafficsim --controller pibt --one-way-loops</c>
    /// and the control plane drive them (<see cref="SimSettings.WithOneWayLoops"/>: the map as drawn, lanes against the loops closed).
    /// </summary>
    private static ControllerSimulation Simulate(SiteMap map, int robots, PibtTrafficOptions options, double seconds, bool oneWayLoops = false)
    {
        var settings = new SimSettings { Robots = robots, Duration = TimeSpan.FromSeconds(seconds), Seed = options.Seed };
        var sim = new ControllerSimulation(map, oneWayLoops ? settings.WithOneWayLoops(map) : settings, randomMissions: true, options: options);
        sim.AddRandomRobots(robots);
        while (sim.Now < seconds)
            sim.Tick();
        return sim;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void On_the_airport_terminal_at_50_robots_one_way_loops_or_the_loop_flow_weight_end_the_head_on_meetings(int seed)
    {
        // The terminal's corridors are long two-way single lanes on loops: with 50 robots PIBT pushed robots back along them
        // head-on, 221 to 282 times an hour a robot went 2 minutes without progress (seeds 1 to 3), and dozens were stalled at
        // the end of the hour. Driving each loop one way round (OneWayLoops, Robbins' orientation) leaves head-on meetings
        // only on the bridges into dead-end wings; weighting the lanes against the flow by the fleet's density (the default,
        // 100 here) keeps robots to the flow with every lane open.
        var oneWay = Airport(new PibtTrafficOptions { Seed = seed }, oneWayLoops: true, 1800);
        var flow = Airport(new PibtTrafficOptions { Seed = seed }, oneWayLoops: false, 1800);
        var plain = Airport(new PibtTrafficOptions { Seed = seed, LoopFlowWeight = 1 }, oneWayLoops: false, 1800);
        Assert.Equal(0, oneWay.Collisions);
        Assert.Equal(0, flow.Collisions);
        Assert.Equal(100, flow.Controller.LoopFlowWeight);
        Assert.True(oneWay.Stalls == 0, string.Join(Environment.NewLine, oneWay.StallNotes));
        Assert.True(flow.Stalls == 0, string.Join(Environment.NewLine, flow.StallNotes));
        Assert.True(plain.Stalls > 20, $"{plain.Stalls} stalls with two-way loops and no flow weight: the comparison shows nothing");
        Assert.True(oneWay.Completed > 2 * plain.Completed, $"{oneWay.Completed} deliveries with one-way loops, {plain.Completed} with two-way");
        Assert.True(flow.Completed > 2 * plain.Completed, $"{flow.Completed} deliveries with the loop flow weight, {plain.Completed} without");
    }

    [Theory]
    [InlineData(20)]
    [InlineData(19)]
    public void On_the_airport_terminal_a_robot_moved_one_lane_past_its_goals_spur_waits_for_a_way_back_rather_than_go_round(int seed)
    {
        // Traced on seed 20: r0048, done at the mouth of the spur its next goal is in (s15_1), had to leave it for a robot
        // coming out; the lane back against the loop's flow was held, so it went one lane on with the flow, where the lane
        // back costs 100 times its seconds, and the robot that came out followed it: it drove round the whole terminal
        // (some 200 s), 2 minutes without progress. Now it steps into a side lane off that robot's way, waits, and a jam plan
        // brings it back once the way is clear (PibtTrafficOptions.FarMoveWaitSeconds). Seed 19: a robot bound for s15_0 too,
        // in the first two minutes. (Seed 94, a robot bound for s20, was here until the wing-mouth rule of WaitsAtMouth kept
        // it from stalling without the wait too.)
        var with = Airport(new PibtTrafficOptions { Seed = seed }, oneWayLoops: false, 3600);
        var without = Airport(new PibtTrafficOptions { Seed = seed, FarMoveWaitSeconds = 0 }, oneWayLoops: false, 3600);
        Assert.Equal(0, with.Collisions);
        Assert.True(with.Stalls == 0, string.Join(Environment.NewLine, with.StallNotes));
        Assert.True(without.Stalls > 0, "no robot went 2 minutes without progress without the wait either: the comparison shows nothing");
    }

    [Fact]
    public void On_the_airport_terminal_a_robot_bound_into_the_charger_wing_waits_off_its_mouth_while_a_robot_comes_out()
    {
        // Traced on seed 69: robots leaving the chargers of the wing behind s20 came out through its mouth L1_v691 while
        // robots bound for s20 queued onto it. A robot standing on the mouth had to make way for the one coming out, and the
        // only way off it was on along the loop's flow: it went round the terminal, 2 minutes without progress at t = 155 s.
        // Now a robot bound into a wing (a dead-end tree, no spur) does not take the wing's mouth while the wing's first
        // waypoint holds a robot on its way out and it could not back off the mouth the way it came (here the lane back runs
        // against the loop's flow). With that rule disabled this run stalls (checked by hand: there is no switch for it).
        // Seed 64 was traced the same way; its later stalls are the next test's.
        var sim = Airport(new PibtTrafficOptions { Seed = 69 }, oneWayLoops: false, 300);
        Assert.Equal(0, sim.Collisions);
        Assert.True(sim.Stalls == 0, string.Join(Environment.NewLine, sim.StallNotes));
    }

    [Fact]
    public void On_the_airport_terminal_a_jam_plan_moves_no_robot_onto_the_wing_mouth_a_robot_comes_out_of()
    {
        // Traced on seed 64: r0036, bound for s20, waited off the mouth L1_v691 of the charger wing behind s20 while r0002
        // came out of it (the wing-mouth rule of WaitsAtMouth), and a jam plan moved it onto the mouth all the same (t = 30.25 s):
        // the search sees only the robots standing round the stuck one, not r0002 driving out. The two met face to face on
        // the mouth, with robots queued behind r0036 on the corridor to L1_v690; the jam that followed stalled r0028 and r0018
        // (2 minutes without progress, first seen at t = 169 s and 173 s). Now a plan's move along a robot's own way onto a
        // mouth it must wait off ends the plan, and a robot waiting off such a mouth is not picked for a plan. With both
        // taken out this run stalls; either alone clears it (checked by hand: there is no switch for them).
        var sim = Airport(new PibtTrafficOptions { Seed = 64 }, oneWayLoops: false, 300);
        Assert.Equal(0, sim.Collisions);
        Assert.True(sim.Stalls == 0, string.Join(Environment.NewLine, sim.StallNotes));
    }

    [Fact]
    public void On_the_airport_terminal_a_jam_plan_parks_no_robot_in_the_spur_ahead_of_the_robot_bound_into_it()
    {
        // Traced on seed 27: r0048, bound for s15_0 at the end of the dead-end spur behind s15_1, was pushed off the mouth
        // s15_1 by a robot coming out and waited to return (FarMoveWaitSeconds). The jam plan that brought it back parked the
        // robot in its way, r0029, in that spur ahead of it; r0029 had to come out again through the mouth, and the plan that
        // let it out sent r0048 round the terminal: 2 minutes without progress from t = 1015 s (first seen at 1134.8 s). Now
        // no other robot of a plan drives into the spur the stuck robot's goal lies in. With that rule taken out (and the
        // rest as it is) this run stalls (checked by hand: there is no switch for it).
        var sim = Airport(new PibtTrafficOptions { Seed = 27 }, oneWayLoops: false, 1200);
        Assert.Equal(0, sim.Collisions);
        Assert.True(sim.Stalls == 0, string.Join(Environment.NewLine, sim.StallNotes));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void On_the_office_with_one_way_loops_no_robot_waits_where_it_keeps_a_robot_in_a_spur_from_coming_out(int seed)
    {
        // Regression (traced on seed 1): a robot bound for patrol_A1 waited at L1_v60, whose only lane on, one way, leads to
        // patrol_A1, and which stands too close to it for the robot in the charger spur off patrol_A1 to come out; that robot
        // in turn stood too close to patrol_A1 for the first to go on. Both stood for good, and the two behind them: 4 robots,
        // 30 minutes, seeds 1 to 10, all four stuck at the end of 9 runs. Now a robot passing a spur's mouth does not stop
        // in the way out of a robot in the spur with a target outside it: 0 stalls over those 10 runs.
        var sim = Simulate(Sites.Load("office", seed), 4, new PibtTrafficOptions { Seed = seed }, 1800, oneWayLoops: true);
        Assert.Equal(0, sim.Collisions);
        Assert.True(sim.StalledNow == 0 && sim.StoodStill == 0, string.Join(Environment.NewLine, sim.StallNotes));
        Assert.True(sim.Completed > 80, $"{sim.Completed} deliveries in 30 minutes");
    }

    /// <summary>
    /// A jam plan moves the robots round the stuck one on their floor: none of them rides a lift to make way but in the
    /// last resort (<see cref="PibtTrafficOptions.JamLastResortAfterSeconds"/>, which no robot needs in these runs) (regression,
    /// the clinic through the controller alone, seed 19 one way round: r0003, just down by the lift and 21 s from its goal,
    /// was sent back up in another robot's plan and round the second floor, 124 s from its goal). Five half-hours on the
    /// clinic, every robot in another robot's jam plan checked at every tick for holding waypoints on two floors (stricter
    /// than the rule, which lets them ride on their own way: no plan in these runs has one ride so; with helpers allowed
    /// to ride, seed 4 fails: r0003 rides down in r0005's plan at t = 1667.75 s).
    /// </summary>
    [Fact]
    public void On_the_clinic_no_robot_rides_a_lift_to_make_way_in_another_robots_jam_plan()
    {
        var (helperTicks, rides) = (0, new List<string>());
        foreach (var seed in new[] { 1, 2, 3, 4, 5 })
        {
            var map = Sites.Load("clinic", seed);
            var sim = new ControllerSimulation(map, new SimSettings { Robots = 5, Duration = TimeSpan.FromMinutes(30), Seed = seed },
                randomMissions: true, options: new PibtTrafficOptions { Seed = seed, LoopFlowWeight = 1 }); // traced without the loop flow weight
            sim.AddRandomRobots(5);
            var robots = sim.Reached.Keys.ToArray();
            while (sim.Now < 1800)
            {
                sim.Tick();
                foreach (var robot in robots)
                {
                    if (sim.Controller.JamPlanFor(robot) is not { } stuck || stuck == robot)
                        continue;
                    helperTicks++;
                    var held = sim.Controller.Held(robot);
                    if (held.Select(w => map.Waypoints[w].LevelId).Distinct().Count() > 1)
                        rides.Add($"seed {seed}, t={sim.Now} s: {robot} holds {string.Join(" ", held)} in {stuck}'s plan");
                }
            }
        }

        Assert.True(helperTicks > 0, "no robot made way in another robot's jam plan: the test checks nothing");
        Assert.True(rides.Count == 0, string.Join(Environment.NewLine, rides.Take(10)));
    }

    /// <summary>
    /// Regression (twenty-third session; the office one way round through the controller alone, seed 24): four robots
    /// placed nose to tail behind a robot in the charger spur off <c>patrol_A1</c> stood for the whole half-hour, nobody
    /// allowed to back up against the loop. Run as the trafficsim runs it (the office as drawn, the lanes against its loops
    /// closed, those at bridge mouths kept as passing lanes, the rest given as last-resort lanes): with the jam fallback's
    /// last resort no robot stands still for T; with it off (<see cref="PibtTrafficOptions.JamLastResortAfterSeconds"/> 0)
    /// the four stand to the end.
    /// </summary>
    [Fact]
    public void On_the_office_one_way_round_the_last_resort_backs_up_a_queue_that_stood_for_good()
    {
        var withIt = Simulate(Sites.Load("office", 24), 4, new PibtTrafficOptions { Seed = 24 }, 1800, oneWayLoops: true);
        var without = Simulate(Sites.Load("office", 24), 4, new PibtTrafficOptions { Seed = 24, JamLastResortAfterSeconds = 0 }, 1800, oneWayLoops: true);
        Assert.Equal(0, withIt.Collisions);
        Assert.True(withIt.StoodStill == 0 && withIt.StalledNow == 0, string.Join(Environment.NewLine, withIt.StallNotes));
        Assert.True(withIt.Completed > 80, $"{withIt.Completed} deliveries in 30 minutes");
        Assert.True(without.StoodStill > 0 && without.StalledNow > 0, $"without the last resort: {without.StoodStill} stood still, {without.StalledNow} stalled at the end: the test shows nothing");
    }

    [Theory]
    [InlineData("patrol_A1")]
    [InlineData("coe")]
    public void On_the_office_with_one_way_loops_a_robot_passes_an_idle_robot_parked_in_the_charger_spur(string goal)
    {
        // Regression (the office one way round through the control plane, seed 1): an idle robot parked at
        // tinyRobot1_charger stands too close to the spur's mouth, patrol_A1, for a robot to pass it; a robot bound there or
        // past it waited at L1_v60, whose only lane on leads to patrol_A1 and which stands too close to it for the parked
        // robot to come out: both stood for good (4 robots, 30 minutes, seeds 1 to 30: 9 of 30 runs locked up, none now).
        // Now the robot waits further back and the parked robot is asked out of the spur, through the mouth, and pushed on.
        var sim = OfficeOneWayRound();
        sim.AddRobot("parked", "tinyRobot1_charger");
        sim.AddRobot("courier", "patrol_D1", goal);

        RunChecked(sim, 600);

        Assert.Equal([goal], sim.Reached["courier"]);
        Assert.NotEqual("tinyRobot1_charger", sim.At("parked"));
    }

    [Fact]
    public void On_the_office_with_one_way_loops_robots_pass_idle_robots_parked_in_both_charger_spurs_and_one_goes_into_a_spur()
    {
        // The same rule with more robots (from the session's review; every case locked up before the rule): idle robots in
        // both charger spurs, three couriers round the loop, and a robot bound into a spur an idle robot is parked in.
        var sim = OfficeOneWayRound();
        sim.AddRobot("parked1", "tinyRobot1_charger");
        sim.AddRobot("parked2", "tinyRobot2_charger");
        sim.AddRobot("c1", "patrol_D1", "coe", "patrol_A1", "pantry");
        sim.AddRobot("c2", "patrol_B", "patrol_A1", "coe", "supplies");
        sim.AddRobot("c3", "patrol_C", "patrol_A2", "patrol_D2", "coe");

        RunChecked(sim, 1200);

        var into = OfficeOneWayRound();
        into.AddRobot("parked", "tinyRobot1_charger");
        into.AddRobot("in", "patrol_D1", "tinyRobot1_charger", "coe");
        into.AddRobot("past", "patrol_D2", "coe", "patrol_A1");

        RunChecked(into, 900);

        Assert.Equal(["tinyRobot1_charger", "coe"], into.Reached["in"]);
    }

    [Fact]
    public void On_the_airport_terminal_with_one_way_loops_a_robot_without_precedence_does_not_push_another_round_a_loop()
    {
        // Regression, traced on seed 2 (t = 2850 s): r0015, 26 s from its goal, stood at a junction whose only ways out
        // were its own (held) and, off a dead-end branch it may not be pushed into, forward round a 190 s one-way loop. A
        // robot that had waited a few seconds pushed it there; it went round, met the same traffic and went 238 s without
        // progress. Pushes that cost more than 60 s now need a pusher with precedence. Seeds 1 to 10, an hour each: 2 stalls
        // without the limit, none with it.
        var limited = Airport(new PibtTrafficOptions { Seed = 2, PushDetourLimitSeconds = 60 }, oneWayLoops: true, 3000);
        var unlimited = Airport(new PibtTrafficOptions { Seed = 2, PushDetourLimitSeconds = 0 }, oneWayLoops: true, 3000);
        Assert.Equal(60, new PibtTrafficOptions().PushDetourLimitSeconds);
        Assert.Equal(0, limited.Collisions);
        Assert.True(limited.Stalls == 0, string.Join(Environment.NewLine, limited.StallNotes));
        Assert.True(unlimited.Stalls > 0, "without the limit the seed stalls (once by t = 3000 s, when measured)");
    }

    [Theory]
    [InlineData("airport")]
    [InlineData("clinic")]
    [InlineData("hotel")]
    [InlineData("office")]
    public void One_way_loops_on_the_shipped_sites_keep_every_waypoint_reachable_and_every_lift_and_door(string site)
    {
        var map = Sites.Load(site, 1);
        var oriented = OneWayLoops.Orient(map);
        var before = new TrafficSpace(map, 0.5);
        var after = new TrafficSpace(oriented, 0.5);

        foreach (var from in map.Waypoints.Keys)
        {
            foreach (var to in map.Waypoints.Keys)
                Assert.True(double.IsFinite(before.TravelTime(from, to)) == double.IsFinite(after.TravelTime(from, to)), $"{from} to {to}");
        }

        Assert.Equal(map.Lanes.Where(l => l.LiftId is not null), oriented.Lanes.Where(l => l.LiftId is not null));
        Assert.Equal(map.Doors, oriented.Doors);
        Assert.Equal(map.Lifts, oriented.Lifts);
        Assert.Equal(map.Locations.Values, oriented.Locations.Values);
        if (site == "airport")
            Assert.True(map.Lanes.Count - oriented.Lanes.Count > 300, $"{map.Lanes.Count - oriented.Lanes.Count} lanes removed");
    }

    [Theory]
    [InlineData("clinic", 2)]
    [InlineData("airport", 1)]
    public void No_robot_ever_holds_more_than_the_horizon_ahead_while_jam_plans_run(string site, int seed)
    {
        // Regression: a jam plan's moves were released as soon as nothing conflicting was held, so a plan that sent a robot a
        // long way round gave it the whole way at once: on the clinic (seed 2, t = 748 s) one robot held 21 waypoints of a
        // loop ending beside two waiting robots, who stood for two minutes while it drove it.
        var options = new PibtTrafficOptions();
        // No loop flow weight: the airport at 20 robots then needs jam plans (with it, none ran in these 20 minutes).
        var sim = new ControllerSimulation(Sites.Load(site, seed), new SimSettings { Robots = 10, Duration = TimeSpan.FromMinutes(20), Seed = seed, LoopFlowWeight = 1 }, randomMissions: true);
        sim.AddRandomRobots(site == "clinic" ? 5 : 20);
        var robots = sim.Reached.Keys.ToList();
        var plans = 0;
        while (sim.Now < 1200)
        {
            sim.Tick();
            foreach (var robot in robots)
            {
                var held = sim.Controller.Held(robot);
                Assert.True(held.Count - 1 <= options.HorizonWaypoints, $"t={sim.Now} s: {robot} holds {held.Count - 1} waypoints ahead: {string.Join(" ", held)}");
                if (sim.Controller.Explain(robot).Contains("in a jam plan", StringComparison.Ordinal))
                    plans++;
            }
        }

        Assert.True(plans > 0, "no jam plan ran: the test checks nothing");
    }

    [Fact]
    public void No_two_robots_ever_hold_one_waypoint_while_jam_plans_move_robots_there_and_back()
    {
        // Regression: a jam plan may send a robot from u to v and back to u; both moves were released at once, so reaching v
        // gave up u (and the lane) while the robot still had to come back over them, and another robot was released onto u:
        // a collision on the airport terminal, 20 robots, seed 1, at t = 875 s (L1_lane79_1).
        // No loop flow weight: with it (K = 19 here) no jam plan runs in these 20 minutes, and the fault could not show.
        var sim = new ControllerSimulation(Sites.Load("airport", 1), new SimSettings { Robots = 20, Duration = TimeSpan.FromMinutes(20), Seed = 1, LoopFlowWeight = 1 }, randomMissions: true);
        sim.AddRandomRobots(20);
        var robots = sim.Reached.Keys.ToList();
        while (sim.Now < 1200)
        {
            sim.Tick();
            var holders = new Dictionary<string, string>();
            foreach (var robot in robots)
            {
                foreach (var waypoint in sim.Controller.Held(robot))
                {
                    Assert.False(holders.TryGetValue(waypoint, out var other) && other != robot, $"t={sim.Now} s: {robot} and {other} both hold {waypoint}");
                    holders[waypoint] = robot;
                }
            }
        }

        Assert.Equal(0, sim.Collisions);
    }

    [Fact]
    public void A_lane_closed_ahead_of_a_moving_robot_is_never_released_again_and_the_robot_goes_round()
    {
        // A ring of ten waypoints 4 m apart; from r0 to r4 the short way is r0-r1-r2-r3-r4 (16 m), the long way 24 m. Once the
        // runner is on its way (released up to r3: 6 m ahead and one waypoint more), r3-r4 is closed.
        var map = SketchMap.Build(["r0:0:0", "r1:4:0", "r2:8:0", "r3:12:0", "r4:12:4", "r5:12:8", "r6:8:8", "r7:4:8", "r8:0:8", "r9:0:4"],
            "r0=r1", "r1=r2", "r2=r3", "r3=r4", "r4=r5", "r5=r6", "r6=r7", "r7=r8", "r8=r9", "r9=r0");
        var sim = new ControllerSimulation(map, Settings, randomMissions: false);
        sim.AddRobot("runner", "r0", "r4");
        while (sim.At("runner") == "r0")
            sim.Tick();
        Assert.Equal("r1", sim.At("runner"));
        Assert.DoesNotContain("r4", sim.Controller.Held("runner"));
        sim.CloseLane("r3-r4");
        var visited = new List<string> { "r1" };

        RunChecked(sim, 300, tick: () =>
        {
            if (visited[^1] != sim.At("runner"))
                visited.Add(sim.At("runner"));
            var held = sim.Controller.Held("runner");
            for (var i = 1; i < held.Count; i++)
                Assert.False(held[i - 1] == "r3" && held[i] == "r4", "released over the closed lane r3-r4");
        });

        Assert.Equal(["r4"], sim.Reached["runner"]);
        Assert.Equal("r4", visited[^1]);
        Assert.Contains("r5", visited); // came round the long way
    }

    [Fact]
    public void A_robot_heading_into_a_busy_spur_off_a_one_way_loop_waits_clear_of_its_way_out_instead_of_going_round()
    {
        // A one-way loop e > r1 > m > b > c > d > e with a dead-end spur m = s1 = s2. r1 is 0.9 m before the spur's mouth m:
        // a robot standing there keeps the robot in the spur from coming out onto m. Regression (airport terminal with
        // one-way loops, seeds 2 and 3: robots 5 s from the west_koi_pond spur sent round a 380 s loop): the visitor waited
        // on r1, was made to make way for the robot coming out, and the loop's only way on is forward: round the loop.
        var map = SketchMap.Build(["e:-6:0", "r1:-0.9:0", "m:0:0", "b:6:0", "c:6:6", "d:-6:6", "s1:0:-2", "s2:0:-4"],
            "e>r1", "r1>m", "m>b", "b>c", "c>d", "d>e", "m=s1", "s1=s2");
        var sim = new ControllerSimulation(map, Settings, randomMissions: false);
        sim.AddRobot("inside", "s1", "s2", "b");
        sim.AddRobot("visitor", "e", "s2");

        RunChecked(sim, 300, tick: () => Assert.DoesNotContain("b", sim.Controller.Held("visitor")));

        Assert.Equal(["s2", "b"], sim.Reached["inside"]);
        Assert.Equal(["s2"], sim.Reached["visitor"]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)] // PIBT's own rules alone: no jam fallback, no precedence
    public void Four_robots_queued_into_a_dead_end_corridor_for_the_room_at_its_end_let_the_robot_in_the_room_out(bool fallbacks)
    {
        // The hotel's L2_master_suite ends a dead-end corridor of four waypoints (L2_v97 to L2_v100) inside a wing; the guest
        // in the suite wants out while four robots queue into the corridor for the suite, each going in once the one before
        // it is done. The queue's push failed at the guest every step (the robot at the tail decides first), and the robots
        // done in the suite could not be pushed out past the next one: for good (hotel through the coordinator, seed 23,
        // five robots stalled at the end). A robot boxed in at the end goes first out to the fork; an idle one in the room
        // leaves for the fork when pushed.
        var map = RmfBuildingImporter.Import(Path.Combine(Sites.RepoRoot(), "maps", "hotel", "hotel.building.yaml"));
        var sim = new ControllerSimulation(map, Settings, randomMissions: false,
            options: fallbacks ? null : new PibtTrafficOptions { Seed = 1, ResolveJamAfterSeconds = 0, PrecedenceAfterSeconds = 0 });
        sim.AddRobot("guest", "L2_master_suite", "L3_room1");
        sim.AddRobot("q1", "L2_v100", "L2_master_suite");
        sim.AddRobot("q2", "L2_v99", "L2_master_suite");
        sim.AddRobot("q3", "L2_v98", "L2_master_suite");
        sim.AddRobot("q4", "L2_v97", "L2_master_suite");

        while (!sim.AllDone && sim.Now < 1800)
        {
            sim.Tick();
            AssertNoConflictingHolds(sim);
        }

        Assert.True(sim.AllDone, $"not done after {sim.Now} s: " + string.Join("; ", sim.Reached.Keys.Select(sim.Controller.Explain)));
        Assert.Equal(0, sim.Collisions);
        Assert.True(sim.Now < 900, $"done only after {sim.Now} s");
    }

    /// <summary>Runs to the end, checking after every tick that nobody collided, nobody holds what conflicts with another's hold, and nothing stalled.</summary>
    private static void RunChecked(ControllerSimulation sim, double seconds, Action? tick = null)
    {
        var end = sim.Now + seconds;
        while (!sim.AllDone && sim.Now < end)
        {
            sim.Tick();
            tick?.Invoke();
            AssertNoConflictingHolds(sim);
            Assert.Equal(0, sim.Collisions);
        }

        Assert.True(sim.AllDone, $"not done after {seconds} s: " + string.Join("; ", sim.Reached.Keys.Select(sim.Controller.Explain)));
        Assert.Equal(0, sim.Stalls);
    }

    private static void AssertNoConflictingHolds(ControllerSimulation sim)
    {
        var holds = sim.Reached.Keys.SelectMany(r => sim.Controller.Held(r).Select(w => (Robot: r, Waypoint: sim.Space.IndexOf(w)))).ToList();
        foreach (var a in holds)
        {
            foreach (var b in holds.Where(b => b.Robot != a.Robot))
            {
                Assert.False(a.Waypoint == b.Waypoint || sim.Space.ConflictsWith(a.Waypoint, b.Waypoint),
                    $"t={sim.Now} s: {a.Robot} holds {sim.Space.WaypointId(a.Waypoint)}, {b.Robot} holds {sim.Space.WaypointId(b.Waypoint)}");
            }
        }
    }
}
