using RobotFleet.Contracts;
using RobotFleet.Server.Alerts;

namespace RobotFleet.Server.Tests;

/// <summary>
/// What the "robot stuck" alert counts as progress (<see cref="ProgressWatch"/>): a robot standing still and a robot
/// going back and forth both stall; a robot on a detour, or going back the way it came after a pick-up, does not.
/// </summary>
public sealed class When_a_robot_makes_no_progress
{
    private static readonly RobotId Robot = new("RobotFleet", "sim-1");
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 3, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan After = TimeSpan.FromSeconds(60);

    private readonly ProgressWatch _watch = new();

    /// <summary>
    /// One look at the robot at <paramref name="seconds"/>: it last reached the first waypoint of <paramref name="route"/>
    /// (what is left of its route), and stands <paramref name="metres"/> from the next one (null: position unknown).
    /// </summary>
    private Stall? Look(double seconds, string[] route, string mission = "m-1", bool acting = false, double? metres = null) =>
        _watch.Look(Robot, mission, route[0], route, acting, metres, T0.AddSeconds(seconds), After);

    [Fact]
    public void A_robot_standing_still_stalls_once_after_the_limit()
    {
        Assert.Null(Look(0, ["A", "B", "C", "D", "E"]));
        Assert.Null(Look(30, ["B", "C", "D", "E"]));
        Assert.Null(Look(89, ["B", "C", "D", "E"]));
        var stall = Look(90, ["B", "C", "D", "E"]);
        Assert.NotNull(stall);
        Assert.Equal(T0.AddSeconds(30), stall.Since);
        Assert.Equal(["B"], stall.Waypoints);
        Assert.Null(Look(91, ["B", "C", "D", "E"]));
        Assert.Null(Look(500, ["B", "C", "D", "E"]));
    }

    [Fact]
    public void A_robot_pushed_back_and_forth_between_the_same_waypoints_stalls_though_it_keeps_reaching_waypoints()
    {
        // Route A-B-C-D-E; the robot reaches C, is pushed back to B (and routed on from there the same way), comes back to
        // C, and so on every 10 s. Each look sees a waypoint other than the last one, which the old rule (no new
        // lastNodeId for 60 s) took for progress.
        Assert.Null(Look(0, ["A", "B", "C", "D", "E"]));
        Assert.Null(Look(10, ["B", "C", "D", "E"]));
        Assert.Null(Look(20, ["C", "D", "E"]));
        Stall? stall = null;
        for (var t = 30; t <= 200 && stall is null; t += 10)
            stall = t % 20 == 10 ? Look(t, ["B", "C", "D", "E"]) : Look(t, ["C", "D", "E"]);
        Assert.NotNull(stall);
        Assert.Equal(T0.AddSeconds(20), stall.Since);
        Assert.Equal(["C", "B"], stall.Waypoints);
    }

    [Fact]
    public void A_robot_pushed_aside_into_a_pocket_and_back_again_and_again_stalls()
    {
        Assert.Null(Look(0, ["B", "C", "D"]));
        Assert.Null(Look(10, ["C", "D"]));
        Stall? stall = null;
        for (var t = 20; t <= 200 && stall is null; t += 10)
            stall = t % 20 == 0 ? Look(t, ["S", "C", "D"]) : Look(t, ["C", "D"]);
        Assert.NotNull(stall);
        Assert.Equal(["C", "S"], stall!.Waypoints.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_robot_driving_a_long_lane_makes_progress_between_its_waypoints()
    {
        // A 100 m lane from A to B at 0.5 m/s takes 200 s, over three times the limit, with no waypoint reached on the way
        // (regression: waypoints alone were counted, so a robot driving a long lane slowly was told stuck after 60 s).
        for (var t = 0; t < 200; t += 5)
            Assert.Null(Look(t, ["A", "B", "C"], metres: 100 - (0.5 * t)));
        Assert.Null(Look(200, ["B", "C"], metres: 30));

        // Creeping: 0.3 m every 50 s is progress every 50 s.
        for (var t = 210; t <= 600; t += 10)
            Assert.Null(Look(t, ["B", "C"], metres: 30 - (0.3 * ((t - 200) / 50))));
    }

    [Fact]
    public void A_robot_standing_between_waypoints_stalls_though_its_reported_position_wanders()
    {
        Assert.Null(Look(0, ["A", "B"], metres: 40));
        Assert.Null(Look(10, ["A", "B"], metres: 20));
        Stall? stall = null;
        var t = 20;
        for (; t <= 200 && stall is null; t += 5)
            stall = Look(t, ["A", "B"], metres: 20 + (t % 10 == 0 ? 0.2 : -0.2));
        Assert.NotNull(stall);
        Assert.Equal(T0.AddSeconds(10), stall.Since);
        Assert.Equal(75, t);
    }

    [Fact]
    public void A_robot_pushed_back_along_a_lane_and_driving_up_it_again_stalls()
    {
        // Route A-B-C, 20 m lanes. The robot reaches B, drives to 2 m short of C, is pushed back to B and drives up again,
        // over and over; and once it has reached C, pushed back to B, driving up to C again is no progress either.
        Assert.Null(Look(0, ["A", "B", "C", "D"], metres: 20));
        Assert.Null(Look(20, ["B", "C", "D"], metres: 20));
        Assert.Null(Look(30, ["B", "C", "D"], metres: 2));
        Stall? stall = null;
        for (var t = 40; t <= 300 && stall is null; t += 10)
            stall = Look(t, ["B", "C", "D"], metres: t % 20 == 0 ? 20 : 2);
        Assert.NotNull(stall);
        Assert.Equal(T0.AddSeconds(30), stall.Since);

        Assert.Null(Look(400, ["C", "D"], metres: 20));
        stall = null;
        for (var t = 410; t <= 600 && stall is null; t += 10)
            stall = Look(t, ["B", "C", "D"], metres: 20 - (t % 40 / 2.0));
        Assert.NotNull(stall);
        Assert.Equal(T0.AddSeconds(400), stall.Since);
    }

    [Fact]
    public void A_robot_driving_back_a_long_lane_after_a_pick_up_makes_progress()
    {
        // Found by review: from A, pick-up at B, drop-off back at A, one 100 m lane at 0.5 m/s (200 s each way). A was
        // reached at the start; the way back to it is another step of the route, not a waypoint already reached.
        for (var t = 0; t < 200; t += 5)
            Assert.Null(Look(t, ["A", "B", "A"], metres: 100 - (0.5 * t)));
        Assert.Null(Look(200, ["B", "A"], acting: true, metres: 100));
        for (var t = 205; t < 400; t += 5)
            Assert.Null(Look(t, ["B", "A"], metres: 100 - (0.5 * (t - 200))));
    }

    [Fact]
    public void A_robot_going_round_a_loop_back_past_its_start_on_a_long_lane_makes_progress()
    {
        // Found by review: loop A-B-C-A-D, the lane C-A 60 m at 0.5 m/s (120 s).
        Assert.Null(Look(0, ["A", "B", "C", "A", "D"], metres: 10));
        Assert.Null(Look(20, ["B", "C", "A", "D"], metres: 10));
        Assert.Null(Look(40, ["C", "A", "D"], metres: 60));
        for (var t = 45; t < 160; t += 5)
            Assert.Null(Look(t, ["C", "A", "D"], metres: 60 - (0.5 * (t - 40))));
    }

    [Fact]
    public void A_robot_pushed_back_along_a_lane_and_re_planned_each_time_stalls()
    {
        // Found by review: B-C 20 m; the robot drives up to 2 m short of C and is pushed back, over and over, and each push
        // comes with a re-plan that alternates between two ways on from C (a new route each time). The nearest it has been
        // to C is kept over a re-plan that still heads for C.
        string[] one = ["B", "C", "D"];
        string[] other = ["B", "C", "E", "D"];
        Assert.Null(Look(0, one, metres: 20));
        Assert.Null(Look(10, one, metres: 2));
        Stall? stall = null;
        for (var t = 20; t <= 600 && stall is null; t += 10)
        {
            stall = (t % 40) switch
            {
                20 => Look(t, other, metres: 20),
                30 => Look(t, other, metres: 2),
                0 => Look(t, one, metres: 20),
                _ => Look(t, one, metres: 2),
            };
        }

        Assert.NotNull(stall);
        Assert.Equal(T0.AddSeconds(10), stall.Since);
    }

    [Fact]
    public void A_robot_re_planned_at_every_look_while_driving_a_long_lane_makes_progress()
    {
        // Found by review: re-planned at every look (two ways on after B, alternately) while it drives 100 m to B.
        for (var t = 0; t < 200; t += 5)
            Assert.Null(Look(t, t / 5 % 2 == 0 ? ["A", "B", "C", "D"] : ["A", "B", "E", "D"], metres: 100 - (0.5 * t)));
    }

    [Fact]
    public void A_robot_on_a_detour_makes_progress_though_its_route_grows()
    {
        Assert.Null(Look(0, ["A", "B", "C", "D", "E"]));
        Assert.Null(Look(10, ["B", "C", "D", "E"]));
        // A lane ahead closes: the route from B round it is 12 waypoints; each is new and reached within 50 s.
        string[] detour = ["B", "X0", "X1", "X2", "X3", "X4", "X5", "X6", "X7", "X8", "X9", "E"];
        Assert.Null(Look(20, detour));
        for (var i = 1; i < detour.Length; i++)
            Assert.Null(Look(20 + (50 * i), detour[i..]));
    }

    [Fact]
    public void A_robot_on_a_detour_that_first_drives_back_past_where_it_has_been_makes_progress()
    {
        // Found by review: A, B, C, D at 25 s a lane; the lane D - E closes and the new route from D goes back through C
        // and B to F, G and E. C and B were reached before, on the old route; on the new one each is nearer the goal.
        string[] route = ["A", "B", "C", "D", "E"];
        for (var i = 0; i < 4; i++)
            Assert.Null(Look(25 * i, route[i..]));
        string[] detour = ["D", "C", "B", "F", "G", "E"];
        for (var i = 0; i < detour.Length; i++)
            Assert.Null(Look(80 + (25 * i), detour[i..]));
    }

    [Fact]
    public void A_robot_going_back_the_way_it_came_after_a_pick_up_makes_progress()
    {
        // Route A-B-C(pick)-B-A-E, one waypoint every 50 s: B and A are reached a second time, each nearer the goal.
        string[] route = ["A", "B", "C", "B", "A", "E"];
        for (var i = 0; i < route.Length; i++)
            Assert.Null(Look(50 * i, route[i..]));
    }

    [Fact]
    public void A_robot_running_a_long_action_makes_progress_until_it_is_done()
    {
        // A 120 s wait at C: no alarm while it runs; standing 60 s after it is done is a stall.
        Assert.Null(Look(0, ["B", "C", "D"]));
        Assert.Null(Look(5, ["C", "D"], acting: true));
        for (var t = 10; t <= 125; t += 5)
            Assert.Null(Look(t, ["C", "D"], acting: true));
        Assert.Null(Look(184, ["C", "D"]));
        Assert.Equal(["C"], Look(185, ["C", "D"])?.Waypoints);
    }

    [Fact]
    public void Progress_after_a_stall_lets_the_next_stall_be_told_and_a_new_mission_starts_afresh()
    {
        Assert.Null(Look(0, ["A", "B", "C"]));
        Assert.NotNull(Look(60, ["A", "B", "C"]));
        Assert.Null(Look(70, ["B", "C"]));
        Assert.NotNull(Look(130, ["B", "C"]));

        // The next mission starts at B: standing there is not a stall until the limit has passed on this mission.
        Assert.Null(Look(140, ["B", "C", "D", "E"], mission: "m-2"));
        Assert.Null(Look(199, ["B", "C", "D", "E"], mission: "m-2"));
        Assert.Equal(["B"], Look(200, ["B", "C", "D", "E"], mission: "m-2")?.Waypoints);
    }

    [Fact]
    public void A_new_route_where_the_robot_stands_is_not_progress()
    {
        // Re-planned while it stands (a new order from the same waypoint): the time without progress goes on.
        Assert.Null(Look(0, ["A", "B", "C"]));
        Assert.Null(Look(30, ["A", "F", "C"]));
        Assert.NotNull(Look(60, ["A", "F", "C"]));
    }

    [Fact]
    public void A_forgotten_robot_starts_afresh()
    {
        Assert.Null(Look(0, ["A", "B", "C"]));
        _watch.Forget(Robot);
        Assert.Empty(_watch.Robots);
        Assert.Null(Look(59, ["A", "B", "C"]));
        Assert.Null(Look(100, ["A", "B", "C"]));
        Assert.NotNull(Look(119, ["A", "B", "C"]));
    }
}
