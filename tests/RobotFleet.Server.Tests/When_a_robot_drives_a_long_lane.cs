using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace RobotFleet.Server.Tests;

/// <summary>
/// The "robot stuck" alert end to end: a robot driving a lane that takes longer than the alert's limit (a 30 m corridor
/// at 1 m/s, against a 6 s limit) is making progress, read off its reported position, and no alert is raised.
/// </summary>
public sealed class When_a_robot_drives_a_long_lane : IDisposable
{
    // One level: a dock at (0, 0) and a shelf at (30, 0), joined by one two-way 30 m lane; the robot starts at the dock.
    internal const string Corridor = """
        {"type": "FeatureCollection", "robotfleet": {"version": 1, "id": "corridor", "name": "corridor", "levels": [{"id": "L1", "elevation": 0}]},
         "features": [
          {"type": "Feature", "id": "dock", "geometry": {"type": "Point", "coordinates": [0, 0]}, "properties": {"type": "waypoint", "level": "L1", "name": "dock"}},
          {"type": "Feature", "id": "shelf", "geometry": {"type": "Point", "coordinates": [30, 0]}, "properties": {"type": "waypoint", "level": "L1", "name": "shelf"}},
          {"type": "Feature", "id": "corridor", "geometry": {"type": "LineString", "coordinates": [[0, 0], [30, 0]]}, "properties": {"type": "lane", "level": "L1", "from": "dock", "to": "shelf", "direction": "two-way"}},
          {"type": "Feature", "id": "loc:dock", "geometry": {"type": "Point", "coordinates": [0, 0]}, "properties": {"type": "location", "level": "L1", "name": "dock", "waypoint": "dock", "kinds": ["parking"]}},
          {"type": "Feature", "id": "loc:shelf", "geometry": {"type": "Point", "coordinates": [30, 0]}, "properties": {"type": "location", "level": "L1", "name": "shelf", "waypoint": "shelf", "kinds": []}}
         ]}
        """;

    private readonly string _mapDirectory = Directory.CreateTempSubdirectory("robotfleet-corridor-").FullName;

    public When_a_robot_drives_a_long_lane() => File.WriteAllText(Path.Combine(_mapDirectory, "site.geojson"), Corridor);

    public void Dispose() => Directory.Delete(_mapDirectory, recursive: true);

    [Theory]
    [InlineData("dock", "shelf")]
    [InlineData("shelf", "dock")] // out to the shelf and back down the same lane to the dock, where it started (found by review)
    public async Task No_stuck_alert_is_raised_while_it_drives_between_waypoints(string pickup, string dropoff)
    {
        // Regression: waypoints alone were counted, so a lane taking longer than the limit to drive raised "robot stuck".
        await using var server = await ServerHost.StartAsync(new ServerOptions { Robots = 1, MapDirectory = _mapDirectory, StuckAfter = TimeSpan.FromSeconds(6) });
        Assert.True(await ServerHost.WaitUntilAsync(async () =>
            (await server.GetJsonAsync("/api/robots")).EnumerateArray().Count(r => r.GetProperty("connection").GetString() == "ONLINE") == 1, TimeSpan.FromSeconds(30)), "robot online");

        using var submitted = await server.Http.PostAsJsonAsync("/api/missions", new { kind = "delivery", pickup, dropoff });
        Assert.True(submitted.StatusCode == HttpStatusCode.Created, await submitted.Content.ReadAsStringAsync());
        var mission = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var last = await server.WaitForMissionEndAsync(mission, TimeSpan.FromSeconds(120));
        Assert.Equal("Completed", last.GetProperty("status").GetString());

        var stuck = (await server.GetJsonAsync("/api/alerts")).EnumerateArray()
            .Where(a => a.GetProperty("kind").GetString() == "RobotStuck").Select(a => a.GetProperty("message").GetString()).ToList();
        Assert.True(stuck.Count == 0, string.Join("\n", stuck));
    }
}
