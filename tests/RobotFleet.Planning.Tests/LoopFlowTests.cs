using RobotFleet.Maps;
using RobotFleet.Planning.Traffic;

namespace RobotFleet.Planning.Tests;

/// <summary>
/// The loop flow weight: lanes against a loop's flow (the way <see cref="OneWayLoops"/> would drive it) cost more in the
/// travel times PIBT routes by, more the denser the fleet, and stay open.
/// </summary>
public sealed class LoopFlowTests
{
    /// <summary>A ring a-b-c-d-e-f of two-way lanes, 4 m each (24 m of loop), a two-way tail f-t and a pocket b-p off it.</summary>
    private static SiteMap Ring() => TestMaps.Build(["a:0:0", "b:4:0", "c:8:0", "d:8:4", "e:4:4", "f:0:4", "t:-4:4", "p:4:-4"],
        "a=b", "b=c", "c=d", "d=e", "e=f", "f=a", "f=t", "b=p");

    /// <summary>The ring's lane out of <paramref name="waypoint"/> against the flow (one circulation: exactly one of its two ring lanes).</summary>
    private static Lane AgainstFlow(SiteMap map, string waypoint = "a")
    {
        var against = OneWayLoops.Blocks(map).Against;
        return map.Lanes.Single(l => l.FromWaypointId == waypoint && against.Contains(l.Id));
    }

    [Fact]
    public void The_loop_length_counts_each_two_way_connection_on_a_loop_once_and_nothing_off_the_loops()
    {
        Assert.Equal(24, new TrafficSpace(Ring(), 0.5).LoopMetres, 6);
        var chain = TestMaps.Build(["a:0:0", "b:4:0", "c:8:0"], "a=b", "b=c");
        Assert.Equal(0, new TrafficSpace(chain, 0.5).LoopMetres);
    }

    [Fact]
    public void A_lane_against_the_flow_costs_the_weight_times_its_seconds_until_the_way_round_is_cheaper()
    {
        var map = Ring();
        var space = new TrafficSpace(map, 0.5);
        var lane = AgainstFlow(map);
        var (from, to) = (lane.FromWaypointId, lane.ToWaypointId);

        Assert.Equal(4, space.TravelTime(from, to), 3); // plain travel time: the lane itself
        Assert.Equal(4, space.TravelTime(from, to, 1), 3);
        Assert.Equal(12, space.TravelTime(from, to, 3), 3); // 3 x 4 s, cheaper than the 20 s round
        Assert.Equal(20, space.TravelTime(from, to, 100), 3); // round the other five lanes, with the flow
        Assert.Equal(4, space.TravelTime(to, from, 100), 3); // with the flow: unchanged
        Assert.Equal(4, space.TravelTime("f", "t", 100), 3); // the tail is no loop: never weighted
        Assert.Throws<ArgumentOutOfRangeException>(() => space.TravelTime(from, to, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => space.TravelTime(from, to, double.NaN));
    }

    [Theory]
    [InlineData(0, 975, 1)]
    [InlineData(1, 975, 1)] // a robot alone meets nobody head-on
    [InlineData(1, 24, 1)]
    [InlineData(2, 975, 3)]
    [InlineData(5, 975, 4)]
    [InlineData(10, 975, 7)]
    [InlineData(20, 975, 19)]
    [InlineData(50, 975, 100)]
    [InlineData(500, 975, 100)]
    [InlineData(5, 614, 5)]
    [InlineData(5, 0, 1)]
    public void The_weight_by_density_grows_with_the_square_of_the_robots_per_100_m_of_loop(int robots, double loopMetres, double expected) =>
        Assert.Equal(expected, PibtTrafficController.LoopFlowWeightFor(robots, loopMetres));

    [Fact]
    public void The_weight_by_density_refuses_negative_counts_and_lengths()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PibtTrafficController.LoopFlowWeightFor(-1, 100));
        Assert.Throws<ArgumentOutOfRangeException>(() => PibtTrafficController.LoopFlowWeightFor(1, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PibtTrafficController.LoopFlowWeightFor(1, double.NaN));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(101)]
    [InlineData(double.NaN)]
    public void A_fixed_weight_outside_1_to_100_is_refused_naming_the_setting(double weight)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new PibtTrafficController(new TrafficSpace(Ring(), 0.5), new PibtTrafficOptions { LoopFlowWeight = weight }));
        Assert.Contains("PibtTrafficOptions.LoopFlowWeight", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1.0, true)]
    [InlineData(100.0, false)]
    [InlineData(null, false)] // by density: two robots on 24 m of loop, weight 100 (a robot alone has weight 1)
    public void A_robot_whose_goal_is_two_lanes_back_against_the_flow_drives_round_with_the_flow_unless_the_weight_is_low(double? weight, bool back)
    {
        // From a, the goal two lanes back against the flow is 8 s that way and 16 s round with it.
        var map = Ring();
        var first = AgainstFlow(map);
        var goal = AgainstFlow(map, first.ToWaypointId).ToWaypointId;
        var controller = new PibtTrafficController(new TrafficSpace(map, 0.5), new PibtTrafficOptions { LoopFlowWeight = weight });
        controller.Place("r1", "a");
        controller.Place("r2", "t"); // off the loop, idle: it counts for the density only
        controller.SetGoal("r1", goal);

        var release = Assert.Single(controller.Step());

        Assert.Equal("r1", release.RobotId);
        Assert.Equal(back, release.Waypoints[0] == first.ToWaypointId);
        Assert.Equal(weight ?? 100, controller.LoopFlowWeight);
        Assert.Equal(back ? 8 : 16, controller.TimeToGoal("r1", "a"), 3);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(100.0)]
    public void A_robot_whose_goal_is_one_lane_back_against_the_flow_steps_onto_it_whatever_the_weight(double weight)
    {
        // PIBT ranks moves by the time from where they lead: 0 at the goal (charging the weight on the step cost the airport
        // more stalls, bench/results/traffic-pibt.md, twenty-sixth session).
        var map = Ring();
        var lane = AgainstFlow(map);
        var controller = new PibtTrafficController(new TrafficSpace(map, 0.5), new PibtTrafficOptions { LoopFlowWeight = weight });
        controller.Place("r1", "a");
        controller.SetGoal("r1", lane.ToWaypointId);

        Assert.Equal([lane.ToWaypointId], Assert.Single(controller.Step()).Waypoints);
        Assert.Equal(Math.Min(4 * weight, 20), controller.TimeToGoal("r1", "a"), 3);
    }

    [Fact]
    public void The_weight_by_density_follows_the_robots_placed_and_removed()
    {
        var controller = new PibtTrafficController(new TrafficSpace(Ring(), 0.5));
        Assert.Equal(1, controller.LoopFlowWeight);
        controller.Place("r1", "a");
        Assert.Equal(1, controller.LoopFlowWeight); // alone
        controller.Place("r2", "c");
        Assert.Equal(100, controller.LoopFlowWeight); // 3 + 3.75 x (200 / 24)^2 = 263, capped
        controller.Remove("r2");
        Assert.Equal(1, controller.LoopFlowWeight);
    }

    [Fact]
    public void A_robot_is_still_pushed_against_the_flow_to_make_way_when_that_is_its_only_way_off()
    {
        // r1 stands on b with nothing to do; r3 is busy on b's next waypoint with the flow; r2 comes out of the pocket p
        // for b. The only way off b left to r1 is one lane back against the flow: the weight prices that lane, it does
        // not close it (with the lane closed, r1 could not move and r2 would wait for good).
        var map = Ring();
        var back = AgainstFlow(map, "b");
        var ahead = map.Lanes.Single(l => l.FromWaypointId == "b" && l.ToWaypointId != back.ToWaypointId && l.ToWaypointId != "p").ToWaypointId;
        var controller = new PibtTrafficController(new TrafficSpace(map, 0.5), new PibtTrafficOptions { LoopFlowWeight = 100 });
        controller.Place("r1", "b");
        controller.Place("r3", ahead);
        controller.SetBusy("r3", true);
        controller.Place("r2", "p");
        controller.SetGoal("r2", "b");

        var releases = new List<TrafficRelease>();
        for (var i = 0; i < 8 && releases.All(r => r.RobotId != "r1"); i++)
            releases.AddRange(controller.Step(i * 0.25));

        var moved = Assert.Single(releases, r => r.RobotId == "r1");
        Assert.Equal(back.ToWaypointId, moved.Waypoints[0]);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public void A_robot_goes_round_a_stranded_robot_against_the_flow_and_waits_behind_a_busy_one(bool stranded, bool round)
    {
        // r0 stands on a's next waypoint with the flow, r1's goal the one after it: 8 s on with the flow, 16 s (x 100) back
        // round against it. A robot that will not move until a person acts (lost, in error, paused) is gone round at once;
        // one busy on an action is waited for (with the weight, the way round costs 200 times the wait).
        var map = Ring();
        var back = AgainstFlow(map);
        var next = map.Lanes.Single(l => l.FromWaypointId == "a" && l.Id != back.Id && l.ToWaypointId != "t").ToWaypointId;
        var goal = map.Lanes.Single(l => l.FromWaypointId == next && l.ToWaypointId != "a" && l.ToWaypointId != "p" && !OneWayLoops.Blocks(map).Against.Contains(l.Id)).ToWaypointId;
        var controller = new PibtTrafficController(new TrafficSpace(map, 0.5), new PibtTrafficOptions { LoopFlowWeight = 100 });
        controller.Place("r0", next);
        controller.SetBusy("r0", true);
        controller.SetStranded("r0", stranded);
        controller.Place("r1", "a");
        controller.SetGoal("r1", goal);

        var releases = new List<TrafficRelease>();
        for (var i = 0; i < 20; i++)
            releases.AddRange(controller.Step(i * 0.25));

        Assert.Equal(round, releases.Any(r => r.RobotId == "r1" && r.Waypoints[0] == back.ToWaypointId));
        Assert.DoesNotContain(releases, r => r.RobotId == "r1" && r.Waypoints.Contains(next));
        Assert.Equal(round ? 16 * 100 : 8, controller.TimeToGoal("r1", "a"), 3);
    }

    [Fact]
    public void A_goal_where_a_stranded_robot_stands_costs_nothing_more_and_the_times_come_back_when_it_may_move_again()
    {
        // Weight 1: plain seconds. r0 stands on c. From b: c 4 s; d 8 s through c, 16 s round by a-f-e.
        var controller = new PibtTrafficController(new TrafficSpace(Ring(), 0.5), new PibtTrafficOptions { LoopFlowWeight = 1 });
        controller.Place("r0", "c");
        controller.SetBusy("r0", true);
        controller.SetStranded("r0", true);
        controller.Place("r1", "b");
        controller.SetGoal("r1", "c");
        controller.Step(0);
        Assert.Equal(4, controller.TimeToGoal("r1", "b"), 3); // its goal: nothing more

        controller.SetGoal("r1", "d");
        controller.Step(0.25);
        Assert.Equal(16, controller.TimeToGoal("r1", "b"), 3); // round it
        Assert.Contains("c, 4 s to goal past 1 robot that will not move", controller.Explain("r1"), StringComparison.Ordinal);

        controller.SetStranded("r0", false);
        controller.Step(0.5);
        Assert.Equal(8, controller.TimeToGoal("r1", "b"), 3); // through it again
    }
}
