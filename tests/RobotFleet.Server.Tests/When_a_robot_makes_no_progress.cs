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

    private Stall? Look(double seconds, string waypoint, int left, string mission = "m-1") =>
        _watch.Look(Robot, mission, waypoint, left, T0.AddSeconds(seconds), After);

    [Fact]
    public void A_robot_standing_still_stalls_once_after_the_limit()
    {
        Assert.Null(Look(0, "A", 5));
        Assert.Null(Look(30, "B", 4));
        Assert.Null(Look(89, "B", 4));
        var stall = Look(90, "B", 4);
        Assert.NotNull(stall);
        Assert.Equal(T0.AddSeconds(30), stall.Since);
        Assert.Equal(["B"], stall.Waypoints);
        Assert.Null(Look(91, "B", 4));
        Assert.Null(Look(500, "B", 4));
    }

    [Fact]
    public void A_robot_pushed_back_and_forth_between_the_same_waypoints_stalls_though_it_keeps_reaching_waypoints()
    {
        // Route A-B-C-D-E; the robot reaches C (3 left), is pushed back to B (the route is re-planned from B: 4 left),
        // comes back to C, and so on every 10 s. Each look sees a waypoint other than the last one, which the old rule
        // (no new lastNodeId for 60 s) took for progress.
        Assert.Null(Look(0, "A", 5));
        Assert.Null(Look(10, "B", 4));
        Assert.Null(Look(20, "C", 3));
        Stall? stall = null;
        for (var t = 30; t <= 200 && stall is null; t += 10)
            stall = t % 20 == 10 ? Look(t, "B", 4) : Look(t, "C", 3);
        Assert.NotNull(stall);
        Assert.Equal(T0.AddSeconds(20), stall.Since);
        Assert.Equal(["C", "B"], stall.Waypoints);
    }

    [Fact]
    public void A_robot_on_a_detour_makes_progress_though_its_route_grows()
    {
        Assert.Null(Look(0, "A", 5));
        Assert.Null(Look(10, "B", 4));
        // A lane ahead closes: the route from B round it is 12 waypoints; each is new and reached within 50 s.
        for (var i = 0; i < 11; i++)
            Assert.Null(Look(60 + 50 * i, $"D{i}", 12 - i));
    }

    [Fact]
    public void A_robot_going_back_the_way_it_came_after_a_pick_up_makes_progress()
    {
        // Route A-B-C(pick)-B-A-E, one waypoint every 50 s: B and A are reached a second time, each nearer the goal.
        string[] route = ["A", "B", "C", "B", "A", "E"];
        for (var i = 0; i < route.Length; i++)
            Assert.Null(Look(50 * i, route[i], route.Length - i));
    }

    [Fact]
    public void Progress_after_a_stall_lets_the_next_stall_be_told_and_a_new_mission_starts_afresh()
    {
        Assert.Null(Look(0, "A", 3));
        Assert.NotNull(Look(60, "A", 3));
        Assert.Null(Look(70, "B", 2));
        Assert.NotNull(Look(130, "B", 2));

        // The next mission starts at B: standing there is not a stall until the limit has passed on this mission.
        Assert.Null(Look(140, "B", 4, mission: "m-2"));
        Assert.Null(Look(199, "B", 4, mission: "m-2"));
        Assert.Equal(["B"], Look(200, "B", 4, mission: "m-2")?.Waypoints);
    }

    [Fact]
    public void A_forgotten_robot_starts_afresh()
    {
        Assert.Null(Look(0, "A", 3));
        _watch.Forget(Robot);
        Assert.Empty(_watch.Robots);
        Assert.Null(Look(59, "A", 3));
        Assert.Null(Look(100, "A", 3));
        Assert.NotNull(Look(119, "A", 3));
    }
}
