using RobotFleet.Maps;

namespace RobotFleet.Planning.Tests;

public sealed class DispatcherTests
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 8, 0, 0, TimeSpan.Zero);

    // G is the mission start. A is 10 m away on a slow lane (0.5 m/s: 20 s); B is 15 m away on a fast lane (3 m/s: 5 s).
    private static readonly SiteMap SlowNearFastFar = TestMaps.FromGeoJson("""
        { "type": "Feature", "id": "G", "geometry": { "type": "Point", "coordinates": [0, 0] }, "properties": { "type": "waypoint", "level": "L1" } },
        { "type": "Feature", "id": "A", "geometry": { "type": "Point", "coordinates": [10, 0] }, "properties": { "type": "waypoint", "level": "L1" } },
        { "type": "Feature", "id": "B", "geometry": { "type": "Point", "coordinates": [0, 15] }, "properties": { "type": "waypoint", "level": "L1" } },
        { "type": "Feature", "id": "ag", "geometry": { "type": "LineString", "coordinates": [[10, 0], [0, 0]] },
          "properties": { "type": "lane", "level": "L1", "from": "A", "to": "G", "direction": "two-way", "speedLimit": 0.5 } },
        { "type": "Feature", "id": "bg", "geometry": { "type": "LineString", "coordinates": [[0, 15], [0, 0]] },
          "properties": { "type": "lane", "level": "L1", "from": "B", "to": "G", "direction": "two-way", "speedLimit": 3 } }
        """);

    // A line a - b - c - d - e, 10 m apart, two-way, no speed limits (default 1 m/s).
    private static readonly SiteMap Line = TestMaps.Build(
        ["a:0:0", "b:10:0", "c:20:0", "d:30:0", "e:40:0"], "a=b", "b=c", "c=d", "d=e");

    private static DispatchRobot Robot(string id, string? at, bool available = true, double maxSpeed = 2) => new(id, at, available, maxSpeed);

    private static DispatchRequest Mission(string id, string start, int priority = 0, int minutes = 0) => new(id, start, priority, T0.AddMinutes(minutes));

    [Theory]
    [InlineData(5.0, "r-far-fast", 5.0)]   // 15 m at 3 m/s beats 10 m at 0.5 m/s
    [InlineData(0.4, "r-near-slow", 25.0)] // the far robot's own top speed (0.4) makes its fast lane slow: 37.5 s vs 25 s
    public void Nearest_is_by_travel_time_not_straight_distance(double maxSpeed, string expected, double expectedSeconds)
    {
        var dispatcher = new Dispatcher(new RouteGraph(SlowNearFastFar));

        var result = dispatcher.Assign(
            [Robot("r-near-slow", "A", maxSpeed: maxSpeed), Robot("r-far-fast", "B", maxSpeed: maxSpeed)],
            [Mission("m1", "G")]);

        var assignment = Assert.Single(result.Assignments);
        Assert.Empty(result.Problems);
        Assert.Equal(("m1", expected), (assignment.MissionId, assignment.RobotId));
        Assert.Equal("G", assignment.Approach.WaypointIds[^1]);
        Assert.Equal(expectedSeconds, assignment.Approach.TravelTime, 6);
    }

    [Theory]
    [InlineData(0, 3, "m-new")] // higher priority first, even though submitted later
    [InlineData(3, 0, "m-old")]
    [InlineData(1, 1, "m-old")] // same priority: earlier submission first
    public void Priority_before_age(int oldPriority, int newPriority, string expectedFirst)
    {
        var dispatcher = new Dispatcher(new RouteGraph(Line));

        // Listed newest first so that input order cannot be what decides.
        var result = dispatcher.Assign(
            [Robot("r1", "a")],
            [Mission("m-new", "c", newPriority, minutes: 60), Mission("m-old", "e", oldPriority, minutes: 0)]);

        Assert.Equal(expectedFirst, Assert.Single(result.Assignments).MissionId);
        var problem = Assert.Single(result.Problems);
        Assert.NotEqual(expectedFirst, problem.MissionId);
        Assert.Equal(DispatchProblemKind.NoRobotAvailable, problem.Reason);
    }

    [Fact]
    public void Unavailable_robots_and_robots_with_unknown_waypoint_are_skipped()
    {
        var dispatcher = new Dispatcher(new RouteGraph(Line));

        var result = dispatcher.Assign(
            [Robot("r-busy", "c", available: false), Robot("r-lost", null), Robot("r-off-map", "nowhere"), Robot("r-far", "a")],
            [Mission("m1", "c")]);

        Assert.Empty(result.Problems);
        Assert.Equal("r-far", Assert.Single(result.Assignments).RobotId);
    }

    [Fact]
    public void Only_skipped_robots_means_no_robot_available()
    {
        var dispatcher = new Dispatcher(new RouteGraph(Line));

        var result = dispatcher.Assign([Robot("r-busy", "c", available: false), Robot("r-lost", null)], [Mission("m1", "c")]);

        Assert.Empty(result.Assignments);
        var problem = Assert.Single(result.Problems);
        Assert.Equal(("m1", DispatchProblemKind.NoRobotAvailable), (problem.MissionId, problem.Reason));
        Assert.Contains("m1", problem.Message);
    }

    [Fact]
    public void Each_robot_gets_at_most_one_mission_per_round()
    {
        var dispatcher = new Dispatcher(new RouteGraph(Line));

        var result = dispatcher.Assign(
            [Robot("r1", "c"), Robot("r2", "e")],
            [Mission("m1", "c", minutes: 1), Mission("m2", "c", minutes: 2), Mission("m3", "c", minutes: 3)]);

        Assert.Equal(["m1", "m2"], result.Assignments.Select(a => a.MissionId));
        Assert.Equal(["r1", "r2"], result.Assignments.Select(a => a.RobotId));
        var problem = Assert.Single(result.Problems);
        Assert.Equal(("m3", DispatchProblemKind.NoRobotAvailable), (problem.MissionId, problem.Reason));
        Assert.Contains("m3", problem.Message);
    }

    [Fact]
    public void Mission_behind_a_one_way_lane_is_unreachable_and_named()
    {
        var oneWay = TestMaps.Build(["a:0:0", "b:10:0", "c:20:0"], "a>b", "b=c");
        var dispatcher = new Dispatcher(new RouteGraph(oneWay));

        var result = dispatcher.Assign([Robot("r1", "c")], [Mission("m-unreachable", "a", priority: 2), Mission("m-ok", "b")]);

        var problem = Assert.Single(result.Problems);
        Assert.Equal(("m-unreachable", DispatchProblemKind.Unreachable), (problem.MissionId, problem.Reason));
        Assert.Contains("m-unreachable", problem.Message);
        Assert.Contains("'a'", problem.Message);
        // The robot that could not reach the first mission is still free for the next one.
        var assignment = Assert.Single(result.Assignments);
        Assert.Equal(("m-ok", "r1"), (assignment.MissionId, assignment.RobotId));
    }

    [Fact]
    public void Mission_start_not_on_the_map_is_unreachable_and_named()
    {
        var dispatcher = new Dispatcher(new RouteGraph(Line));

        var result = dispatcher.Assign([Robot("r1", "a")], [Mission("m-bad", "nowhere"), Mission("m-ok", "b", minutes: 1)]);

        var problem = Assert.Single(result.Problems);
        Assert.Equal(("m-bad", DispatchProblemKind.Unreachable), (problem.MissionId, problem.Reason));
        Assert.Contains("m-bad", problem.Message);
        Assert.Contains("nowhere", problem.Message);
        Assert.Equal("m-ok", Assert.Single(result.Assignments).MissionId);
    }

    [Theory]
    [InlineData("r-b", "r-a")]
    [InlineData("r-a", "r-b")]
    public void Equal_travel_times_go_to_the_lowest_robot_id_whatever_the_input_order(string first, string second)
    {
        var dispatcher = new Dispatcher(new RouteGraph(Line));
        // b and d are both 10 s from c.
        var at = new Dictionary<string, string> { ["r-a"] = "d", ["r-b"] = "b" };

        var result = dispatcher.Assign([Robot(first, at[first]), Robot(second, at[second])], [Mission("m1", "c")]);

        Assert.Equal("r-a", Assert.Single(result.Assignments).RobotId);
    }

    [Fact]
    public void Robot_already_at_the_start_gets_an_empty_approach()
    {
        var dispatcher = new Dispatcher(new RouteGraph(Line));

        var result = dispatcher.Assign([Robot("r1", "a"), Robot("r2", "c")], [Mission("m1", "c")]);

        var assignment = Assert.Single(result.Assignments);
        Assert.Equal("r2", assignment.RobotId);
        Assert.Equal(["c"], assignment.Approach.WaypointIds);
        Assert.Equal(0, assignment.Approach.TravelTime);
    }

    [Fact]
    public void No_requests_no_work()
    {
        var result = new Dispatcher(new RouteGraph(Line)).Assign([Robot("r1", "a")], []);

        Assert.Empty(result.Assignments);
        Assert.Empty(result.Problems);
    }
}
