using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace RobotFleet.Server.Tests;

/// <summary>Recurring missions over the HTTP API, on a server with a temporary data directory.</summary>
public sealed class When_schedules_are_used : IAsyncLifetime
{
    private readonly string _dataDir = Directory.CreateTempSubdirectory("robotfleet-server-schedules-").FullName;
    private ServerHost _server = null!;

    public async Task InitializeAsync() =>
        _server = await ServerHost.StartAsync(new ServerOptions { Robots = 2, TimeScale = 20, DataDirectory = _dataDir }, "When_schedules_are_used");

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }

    private static object Body(string name, string cron = "0 0 8 ? * MON-FRI", string timeZone = "Europe/Berlin", string misfire = "skip",
        string kind = "delivery", string? pickup = "pantry", string? dropoff = "lounge", int priority = 1) =>
        new { name, cron, timeZone, misfire, mission = new { kind, pickup, dropoff, priority } };

    [Theory]
    [InlineData("cron", "0 0 25 * * ?", "Europe/Berlin", "pantry", "invalid cron '0 0 25 * * ?'")]
    [InlineData("timeZone", "0 0 8 ? * MON-FRI", "Europe/Atlantis", "pantry", "unknown time zone 'Europe/Atlantis'")]
    [InlineData("mission.pickup", "0 0 8 ? * MON-FRI", "Europe/Berlin", "nowhere", "unknown location 'nowhere'")]
    public async Task A_bad_schedule_gets_400_naming_the_field(string field, string cron, string timeZone, string pickup, string message)
    {
        var response = await _server.Http.PostAsJsonAsync("/api/schedules", Body("bad", cron, timeZone, pickup: pickup));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(field, error.GetProperty("field").GetString());
        Assert.Contains(message, error.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Http.GetAsync("/api/schedules/bad")).StatusCode);
    }

    [Fact]
    public async Task A_bad_misfire_policy_or_kind_gets_400()
    {
        var misfire = await _server.Http.PostAsJsonAsync("/api/schedules", Body("bad", misfire: "catch-up-all"));
        Assert.Equal("misfire", (await misfire.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        var kind = await _server.Http.PostAsJsonAsync("/api/schedules", Body("bad", kind: "teleport"));
        Assert.Equal("mission.kind", (await kind.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
    }

    [Fact]
    public async Task A_weekday_schedule_is_created_listed_with_its_next_fire_time_and_deleted()
    {
        var created = await _server.Http.PostAsJsonAsync("/api/schedules", Body("morning-round"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/api/schedules/morning-round", created.Headers.Location?.OriginalString);

        var schedule = await _server.GetJsonAsync("/api/schedules/morning-round");
        Assert.Equal("skip", schedule.GetProperty("misfire").GetString());
        Assert.True(schedule.GetProperty("enabled").GetBoolean());
        var nextUtc = schedule.GetProperty("nextFireUtc").GetDateTimeOffset();
        var nextLocal = DateTimeOffset.Parse(schedule.GetProperty("nextFireLocal").GetString()!);
        Assert.Equal(nextUtc, nextLocal);
        Assert.Equal(8, nextLocal.Hour);
        Assert.Contains(nextLocal.Offset, new[] { TimeSpan.FromHours(1), TimeSpan.FromHours(2) });
        Assert.Contains(nextLocal.DayOfWeek, new[] { DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday, DayOfWeek.Friday });

        Assert.Equal(HttpStatusCode.Conflict, (await _server.Http.PostAsJsonAsync("/api/schedules", Body("morning-round"))).StatusCode);
        var all = await _server.GetJsonAsync("/api/schedules");
        Assert.Contains(all.EnumerateArray(), s => s.GetProperty("name").GetString() == "morning-round");

        var disabled = await (await _server.Http.PostAsync("/api/schedules/morning-round/disable", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(disabled.GetProperty("enabled").GetBoolean());
        Assert.Equal(JsonValueKind.Null, disabled.GetProperty("nextFireUtc").ValueKind);

        Assert.Equal(HttpStatusCode.NoContent, (await _server.Http.DeleteAsync("/api/schedules/morning-round")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Http.GetAsync("/api/schedules/morning-round")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Http.DeleteAsync("/api/schedules/morning-round")).StatusCode);
    }

    [Fact]
    public async Task A_schedule_every_few_seconds_submits_deliveries_that_appear_as_missions()
    {
        var created = await _server.Http.PostAsJsonAsync("/api/schedules", Body("shuttle", cron: "0/3 * * * * ?", timeZone: "UTC"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        JsonElement firings = default;
        Assert.True(await ServerHost.WaitUntilAsync(async () =>
        {
            firings = await _server.GetJsonAsync("/api/schedules/shuttle/firings");
            return firings.GetArrayLength() >= 1;
        }, TimeSpan.FromSeconds(10)));

        var firing = firings[0];
        Assert.True(firing.GetProperty("accepted").GetBoolean(), firing.ToString());
        var missionId = firing.GetProperty("missionId").GetString()!;
        var mission = await _server.GetJsonAsync($"/api/missions/{missionId}");
        Assert.Equal("pantry", mission.GetProperty("pickup").GetString());
        Assert.Equal("lounge", mission.GetProperty("dropoff").GetString());
        Assert.Equal("schedule:shuttle", mission.GetProperty("history")[0].GetProperty("actor").GetString());
        Assert.True(await ServerHost.WaitUntilAsync(async () =>
            (await _server.GetJsonAsync($"/api/missions/{missionId}")).GetProperty("status").GetString() == "Completed", TimeSpan.FromSeconds(30)));
    }
}
