using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace RobotFleet.Server.Tests;

/// <summary>Mission kinds, validation, reprioritising, history and a silent robot, end to end over the HTTP API.</summary>
public sealed class When_missions_of_every_kind_go_through_the_api
{
    [Fact]
    public async Task Should_reject_invalid_missions_with_a_400_naming_the_field_and_store_nothing()
    {
        await using var server = await ServerHost.StartAsync(new ServerOptions { Robots = 1, TimeScale = 20 });
        async Task<JsonElement> Rejected(object body)
        {
            var response = await server.Http.PostAsJsonAsync("/api/missions", body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }

        var patrol = await Rejected(new { kind = "patrol", locations = new[] { "patrol_A1", "nowhere" } });
        Assert.Equal("locations", patrol.GetProperty("field").GetString());
        Assert.Contains("'nowhere'", patrol.GetProperty("error").GetString());
        var clean = await Rejected(new { kind = "clean", zone = "z9" });
        Assert.Equal("zone", clean.GetProperty("field").GetString());
        Assert.Contains("unknown zone 'z9'", clean.GetProperty("error").GetString());
        var capability = await Rejected(new { kind = "delivery", pickup = "pantry", dropoff = "coe", requiredActions = new[] { "lift" } });
        Assert.Equal(("requiredActions", "no robot supports action 'lift'"), (capability.GetProperty("field").GetString(), capability.GetProperty("error").GetString()));
        var charge = await Rejected(new { kind = "charge", location = "pantry" });
        Assert.Equal("location", charge.GetProperty("field").GetString());
        var kind = await Rejected(new { kind = "teleport" });
        Assert.Contains("patrol", kind.GetProperty("error").GetString());
        var robot = await Rejected(new { kind = "park", robot = "nobody" });
        Assert.Equal("robot", robot.GetProperty("field").GetString());
        Assert.Empty((await server.GetJsonAsync("/api/missions")).EnumerateArray());
    }

    [Fact]
    public async Task Should_take_a_relative_deadline_in_seconds_but_not_with_an_absolute_one()
    {
        await using var server = await ServerHost.StartAsync(new ServerOptions { Robots = 1, TimeScale = 20 });
        var before = DateTimeOffset.UtcNow;
        var created = await server.Http.PostAsJsonAsync("/api/missions", new { kind = "park", deadlineSeconds = 300 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var deadline = (await server.GetJsonAsync($"/api/missions/{id}")).GetProperty("deadline").GetDateTimeOffset();
        Assert.InRange(deadline, before.AddSeconds(299), DateTimeOffset.UtcNow.AddSeconds(301));

        var both = await server.Http.PostAsJsonAsync("/api/missions", new { kind = "park", deadlineSeconds = 300, deadline = "2030-01-01T00:00:00Z" });
        Assert.Equal(HttpStatusCode.BadRequest, both.StatusCode);
        Assert.Equal("deadlineSeconds", (await both.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
    }

    [Fact]
    public async Task Should_run_a_patrol_and_show_its_history_and_refuse_a_priority_change_once_dispatched()
    {
        await using var server = await ServerHost.StartAsync(new ServerOptions { Robots = 1, TimeScale = 20 });
        var created = await server.Http.PostAsJsonAsync("/api/missions", new { kind = "patrol", locations = new[] { "patrol_A1", "patrol_B" }, rounds = 1, priority = 2 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        Assert.True(await ServerHost.WaitUntilAsync(async () => (await server.GetJsonAsync($"/api/missions/{id}")).GetProperty("status").GetString() == "Completed",
            TimeSpan.FromSeconds(90)), "patrol completed: " + await server.Http.GetStringAsync($"/api/missions/{id}"));
        var history = (await server.GetJsonAsync($"/api/missions/{id}/history")).EnumerateArray().Select(h => h.GetProperty("status").GetString()).ToList();
        Assert.Equal(["Queued", "Assigned", "Dispatched", "Executing", "Completed"], history);
        Assert.Equal(HttpStatusCode.Conflict, (await server.Http.PostAsJsonAsync($"/api/missions/{id}/priority", new { priority = 3 })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await server.Http.PostAsJsonAsync($"/api/missions/{id}/priority", new { priority = 7 })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync("/api/missions/nope/history")).StatusCode);
    }

    [Fact]
    public async Task Should_give_a_silent_robots_mission_to_another_robot_within_15_seconds()
    {
        await using var server = await ServerHost.StartAsync(new ServerOptions { Robots = 2, TimeScale = 5 });
        Assert.True(await ServerHost.WaitUntilAsync(async () => (await server.GetJsonAsync("/api/robots")).EnumerateArray()
            .Count(r => r.GetProperty("connection").GetString() == "ONLINE") == 2, TimeSpan.FromSeconds(30)), "2 robots ONLINE");
        var created = await server.Http.PostAsJsonAsync("/api/missions", new { kind = "delivery", pickup = "pantry", dropoff = "coe" });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        Task<JsonElement> Mission() => server.GetJsonAsync($"/api/missions/{id}");
        Assert.True(await ServerHost.WaitUntilAsync(async () => (await Mission()).GetProperty("status").GetString() == "Executing", TimeSpan.FromSeconds(20)));
        var first = (await Mission()).GetProperty("robot").GetString()!;

        var agent = server.Fleet.Find(first.Split('/')[1])!;
        agent.SuspendReporting();
        var clock = Stopwatch.StartNew();
        var moved = await ServerHost.WaitUntilAsync(async () => (await Mission()).GetProperty("robot").GetString() is { } r && r != first, TimeSpan.FromSeconds(20));
        var elapsed = clock.Elapsed;

        Assert.True(moved, "reassigned: " + await server.Http.GetStringAsync($"/api/missions/{id}"));
        Assert.True(elapsed <= TimeSpan.FromSeconds(15), $"reassigned after {elapsed.TotalSeconds:F1} s");
        var mission = await Mission();
        Assert.Contains(mission.GetProperty("history").EnumerateArray(), h => h.GetProperty("status").GetString() == "Queued" && h.GetProperty("reason").GetString()!.Contains("silent"));
        Assert.Empty(mission.GetProperty("failedRobots").EnumerateArray()); // lost, not at fault: eligible again once it reports

        agent.ResumeReporting();
        Assert.True(await ServerHost.WaitUntilAsync(async () => (await Mission()).GetProperty("status").GetString() == "Completed", TimeSpan.FromSeconds(90)),
            "completed by the other robot: " + await server.Http.GetStringAsync($"/api/missions/{id}"));
    }
}
