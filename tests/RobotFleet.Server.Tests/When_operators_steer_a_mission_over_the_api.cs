using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace RobotFleet.Server.Tests;

/// <summary>Reassign, pause and resume over the HTTP API, and the history the mission state machine serves.</summary>
public sealed class When_operators_steer_a_mission_over_the_api
{
    [Fact]
    public async Task Should_reassign_a_queued_mission_refuse_a_dispatched_one_and_serve_the_state_machines_history()
    {
        await using var server = await ServerHost.StartAsync(new ServerOptions { Robots = 2, TimeScale = 1 });
        Assert.True(await ServerHost.WaitUntilAsync(async () => (await server.GetJsonAsync("/api/robots")).EnumerateArray()
            .Count(r => r.GetProperty("connection").GetString() == "ONLINE") == 2, TimeSpan.FromSeconds(30)), "2 robots ONLINE");
        // Both pinned to sim-1: the second waits in the queue until sim-1 is free. The second is submitted once the first
        // runs (submitted together, a loaded machine's coordinator could see both in one planning cycle and give sim-1
        // the second first: CI, 2026-12-03).
        var first = await SubmitAsync(server, "pantry", "coe", "RobotFleet/sim-1");
        Assert.True(await ServerHost.WaitUntilAsync(async () => await StatusAsync(server, first) is "Dispatched" or "Executing", TimeSpan.FromSeconds(20)));
        var second = await SubmitAsync(server, "pantry", "lounge", "RobotFleet/sim-1");
        Assert.Equal("Queued", await StatusAsync(server, second));

        var reassigned = await server.Http.PostAsJsonAsync($"/api/missions/{second}/reassign", new { robot = "RobotFleet/sim-2" });

        Assert.Equal(HttpStatusCode.OK, reassigned.StatusCode);
        var body = await reassigned.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("RobotFleet/sim-2", body.GetProperty("pinnedRobot").GetString());
        Assert.True(await ServerHost.WaitUntilAsync(async () => (await server.GetJsonAsync($"/api/missions/{second}")).GetProperty("robot").GetString() == "RobotFleet/sim-2",
            TimeSpan.FromSeconds(10)), "taken by sim-2");

        var late = await server.Http.PostAsJsonAsync($"/api/missions/{first}/reassign", new { robot = "RobotFleet/sim-2" });
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Contains("only a queued or assigned mission (not yet dispatched) can be reassigned", await late.Content.ReadAsStringAsync());
        var ghost = await server.Http.PostAsJsonAsync($"/api/missions/{second}/reassign", new { robot = "RobotFleet/ghost" });
        Assert.Equal(HttpStatusCode.NotFound, ghost.StatusCode);
        Assert.Contains("unknown robot 'RobotFleet/ghost'", await ghost.Content.ReadAsStringAsync());
        var malformed = await server.Http.PostAsJsonAsync($"/api/missions/{second}/reassign", new { robot = "ghost" });
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal("robot", (await malformed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await server.Http.PostAsync($"/api/missions/{second}/reassign", new StringContent("", Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.PostAsJsonAsync("/api/missions/m-nope/reassign", new { robot = (string?)null })).StatusCode);

        var history = (await server.GetJsonAsync($"/api/missions/{second}/history")).EnumerateArray().ToList();
        Assert.True(history.Count >= 4, $"history: {string.Join("; ", history)}");
        Assert.Equal(
            [("submitted", "Initial", "Queued", "api"), ("reassigned", "Queued", "Queued", "api"), ("assigned", "Queued", "Assigned", "dispatcher")],
            history.Take(3).Select(h => (h.GetProperty("event").GetString(), h.GetProperty("from").GetString(), h.GetProperty("status").GetString(), h.GetProperty("actor").GetString())));
        Assert.Equal("RobotFleet/sim-2", history[1].GetProperty("robot").GetString());
        Assert.Equal("reassigned to RobotFleet/sim-2 by operator", history[1].GetProperty("reason").GetString());
        Assert.Equal([1L, 2L, 3L], history.Take(3).Select(h => h.GetProperty("sequence").GetInt64()));
        Assert.All(history, h => Assert.True(h.GetProperty("accepted").GetBoolean()));
        Assert.All(history, h => Assert.True(h.TryGetProperty("timestamp", out _)));
    }

    [Fact]
    public async Task Should_pause_and_resume_a_running_mission_and_refuse_to_do_either_twice()
    {
        await using var server = await ServerHost.StartAsync(new ServerOptions { Robots = 1, TimeScale = 1 });
        var id = await SubmitAsync(server, "pantry", "coe", robot: null);
        Assert.True(await ServerHost.WaitUntilAsync(async () => await StatusAsync(server, id) is "Dispatched" or "Executing", TimeSpan.FromSeconds(30)));

        var paused = await server.Http.PostAsync($"/api/missions/{id}/pause", null);
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        Assert.Equal("Paused", (await paused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        var again = await server.Http.PostAsync($"/api/missions/{id}/pause", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("only a dispatched or executing mission can be paused", await again.Content.ReadAsStringAsync());

        var resumed = await server.Http.PostAsync($"/api/missions/{id}/resume", null);
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        Assert.Contains((await resumed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString(), new[] { "Dispatched", "Executing" });
        var twice = await server.Http.PostAsync($"/api/missions/{id}/resume", null);
        Assert.Equal(HttpStatusCode.Conflict, twice.StatusCode);
        Assert.Contains("only a paused mission can be resumed", await twice.Content.ReadAsStringAsync());

        var events = (await server.GetJsonAsync($"/api/missions/{id}/history")).EnumerateArray().Select(h => h.GetProperty("event").GetString()).ToList();
        Assert.Equal(["paused", "resumed"], events.Where(e => e is "paused" or "resumed"));
    }

    private static async Task<string> SubmitAsync(ServerHost server, string pickup, string dropoff, string? robot)
    {
        var created = await server.Http.PostAsJsonAsync("/api/missions", new { kind = "delivery", pickup, dropoff, robot });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private static async Task<string?> StatusAsync(ServerHost server, string id) =>
        (await server.GetJsonAsync($"/api/missions/{id}")).GetProperty("status").GetString();
}
