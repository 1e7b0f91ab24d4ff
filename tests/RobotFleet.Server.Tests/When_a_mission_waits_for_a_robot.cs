using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace RobotFleet.Server.Tests;

/// <summary>
/// The "mission waiting" alert end to end: with one robot busy on a 30 m lane, a second mission waits in the queue; after
/// <see cref="ServerOptions.MissionWaitingAfter"/> an alert names it, once per wait, with the queue and the robots online.
/// </summary>
public sealed class When_a_mission_waits_for_a_robot : IDisposable
{
    private readonly string _mapDirectory = Directory.CreateTempSubdirectory("robotfleet-corridor-").FullName;

    public When_a_mission_waits_for_a_robot() => File.WriteAllText(Path.Combine(_mapDirectory, "site.geojson"), When_a_robot_drives_a_long_lane.Corridor);

    public void Dispose() => Directory.Delete(_mapDirectory, recursive: true);

    [Fact]
    public async Task Should_raise_one_alert_naming_the_mission_that_waits_and_none_for_the_one_running()
    {
        await using var server = await ServerHost.StartAsync(new ServerOptions { Robots = 1, MapDirectory = _mapDirectory, MissionWaitingAfter = TimeSpan.FromSeconds(3) });
        Assert.True(await ServerHost.WaitUntilAsync(async () =>
            (await server.GetJsonAsync("/api/robots")).EnumerateArray().Count(r => r.GetProperty("connection").GetString() == "ONLINE") == 1, TimeSpan.FromSeconds(30)), "robot online");

        async Task<string> Submit(string pickup, string dropoff)
        {
            using var submitted = await server.Http.PostAsJsonAsync("/api/missions", new { kind = "delivery", pickup, dropoff });
            Assert.True(submitted.StatusCode == HttpStatusCode.Created, await submitted.Content.ReadAsStringAsync());
            return (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        }

        var running = await Submit("shelf", "dock"); // 30 m out and 30 m back: a minute or more at 1 m/s
        Assert.True(await ServerHost.WaitUntilAsync(async () =>
            (await server.GetJsonAsync($"/api/missions/{running}")).GetProperty("status").GetString() != "Queued", TimeSpan.FromSeconds(10)), "first mission assigned");
        var waiting = await Submit("shelf", "dock");

        async Task<List<JsonElement>> WaitingAlerts() => [.. (await server.GetJsonAsync("/api/alerts")).EnumerateArray().Where(a => a.GetProperty("kind").GetString() == "MissionWaiting")];
        Assert.True(await ServerHost.WaitUntilAsync(async () => (await WaitingAlerts()).Count > 0, TimeSpan.FromSeconds(20)), "a mission waiting alert");
        Assert.Equal("Queued", (await server.GetJsonAsync($"/api/missions/{waiting}")).GetProperty("status").GetString());

        var alert = Assert.Single(await WaitingAlerts());
        Assert.Equal(waiting, alert.GetProperty("missionId").GetString());
        Assert.Equal("warning", alert.GetProperty("severity").GetString());
        Assert.Matches($"^mission {waiting} \\(priority \\d\\) has waited \\d+ s for a robot: 1 mission queued, 1 robot online$", alert.GetProperty("message").GetString());

        // Acknowledged, it is not raised again for the same wait (the check runs every second), nor when an operator raises
        // the mission's priority in reply (that is no new wait: before, it restarted the clock, and a second alert came 3 s later).
        using var ack = await server.Http.PostAsync($"/api/alerts/{alert.GetProperty("id").GetString()}/ack", null);
        Assert.Equal(HttpStatusCode.OK, ack.StatusCode);
        using var priority = await server.Http.PostAsJsonAsync($"/api/missions/{waiting}/priority", new { priority = 2 });
        Assert.Equal(HttpStatusCode.OK, priority.StatusCode);
        await Task.Delay(TimeSpan.FromSeconds(4.5));
        Assert.Equal("Queued", (await server.GetJsonAsync($"/api/missions/{waiting}")).GetProperty("status").GetString());
        Assert.Single(await WaitingAlerts());
    }

    /// <summary>
    /// A queue piling up (no robot at all here) names 20 missions, then one alert counts the rest and no more come while it
    /// is open: one alert per mission filled the 500 kept alerts and pushed out those that say why (robots lost).
    /// </summary>
    [Fact]
    public async Task Should_name_at_most_20_missions_and_count_the_rest_in_one_alert()
    {
        await using var server = await ServerHost.StartAsync(new ServerOptions { NoSimulation = true, Robots = 0, MissionWaitingAfter = TimeSpan.FromSeconds(2) });
        async Task SubmitAsync(int count)
        {
            for (var i = 0; i < count; i++)
            {
                using var submitted = await server.Http.PostAsJsonAsync("/api/missions", new { kind = "delivery", pickup = "pantry", dropoff = "coe" });
                Assert.True(submitted.StatusCode == HttpStatusCode.Created, await submitted.Content.ReadAsStringAsync());
            }
        }

        async Task<List<JsonElement>> WaitingAlerts() => [.. (await server.GetJsonAsync("/api/alerts")).EnumerateArray().Where(a => a.GetProperty("kind").GetString() == "MissionWaiting")];
        await SubmitAsync(25);
        Assert.True(await ServerHost.WaitUntilAsync(async () => (await WaitingAlerts()).Any(a => a.GetProperty("missionId").ValueKind == JsonValueKind.Null), TimeSpan.FromSeconds(20)), "a counting alert");
        await SubmitAsync(3); // due 2 s later: counted by the open alert, no new one
        await Task.Delay(TimeSpan.FromSeconds(4));

        var alerts = await WaitingAlerts();
        Assert.Equal(20, alerts.Count(a => a.GetProperty("missionId").ValueKind == JsonValueKind.String));
        var counting = Assert.Single(alerts, a => a.GetProperty("missionId").ValueKind == JsonValueKind.Null);
        // It counts the missions due when it was raised beyond the 20 named: 5, or fewer when the 25 submissions straddled a
        // check (those due a second later are counted by the open alert, without a new one).
        var match = System.Text.RegularExpressions.Regex.Match(counting.GetProperty("message").GetString()!,
            "^([1-5]) more missions? ha(?:s|ve) waited 2 s or more for a robot \\(longest: m-[^,]+, \\d+ s\\): 25 missions queued, 0 robots online$");
        Assert.True(match.Success, counting.GetProperty("message").GetString());
    }
}
