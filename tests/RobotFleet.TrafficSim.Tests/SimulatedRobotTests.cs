using RobotFleet.Contracts;
using RobotFleet.Maps;
using RobotFleet.TestSupport;

namespace RobotFleet.TrafficSim.Tests;

/// <summary>The simulator's VDA-5050-like robot on its own: order updates and what it reports.</summary>
public sealed class SimulatedRobotTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 8, 0, 0, TimeSpan.Zero);

    // a - b - c along y = 0, and b - e up: the first order heads for c through doors (openDoor on the lane b-c and at c, both
    // on its horizon); the update, stitched at b, goes to e instead.
    private static readonly SiteMap Map = SketchMap.Build(["a:0:0", "b:2:0", "c:4:0", "e:2:2"], "a=b", "b=c", "b=e");

    private static RouteWaypoint Node(string id, long sequence, bool released, params RobotAction[] actions) =>
        new(id, sequence, released, Map.Waypoints[id].X, Map.Waypoints[id].Y, Map.Levels[0].Id, actions);

    private static RouteLane Lane(string from, string to, long sequence, bool released) => new($"{from}-{to}", sequence, released, from, to, null);

    private static RobotAction Door(string id) => new(id, "openDoor", "HARD", new Dictionary<string, string>());

    [Fact]
    public void An_update_drops_the_actions_of_the_waypoints_it_replaces_and_the_robot_then_takes_a_new_order()
    {
        var robot = new SimulatedRobot(new RobotId("sim", "r1"), Map, Map.Waypoints["a"], speed: 1, actionSeconds: 1, Start, (_, _) => 0);
        robot.Inbox.Enqueue(new DispatchRoute(robot.Id, "o1", 0,
            [Node("a", 0, true), Node("b", 2, true), Node("c", 4, false, Door("door-at-c"))],
            [Lane("a", "b", 1, true), Lane("b", "c", 3, false) with { Actions = [Door("door-on-b-c")] }]));
        robot.Inbox.Enqueue(new DispatchRoute(robot.Id, "o1", 1,
            [Node("b", 2, true), Node("e", 4, true)],
            [Lane("b", "e", 3, true)]));
        var now = Start;
        for (var i = 0; i < 40 && (robot.Busy || robot.At.Id != "e"); i++)
            robot.Step(0.25, now = now.AddSeconds(0.25));

        Assert.Equal("e", robot.At.Id);
        Assert.False(robot.Busy, "the robot still counts as busy with the replaced waypoint's door action");
        Assert.DoesNotContain(robot.State(now).Actions, a => a.ActionId is "door-at-c" or "door-on-b-c");

        robot.Inbox.Enqueue(new DispatchRoute(robot.Id, "o2", 0, [Node("e", 0, true), Node("b", 2, true)], [Lane("e", "b", 1, true)]));
        robot.Step(0.25, now.AddSeconds(0.25));

        Assert.Equal(0, robot.Refusals); // before the fix: 1, "still executing order 'o1'"
        Assert.Equal("o2", robot.OrderId);
    }
}
