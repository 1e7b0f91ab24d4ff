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
    [InlineData("mission.pickup", "0 0 8 ? * MON-FRI", "Europe/Berlin", "nowhere", "unknown pickup location 'nowhere'")]
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

    private static object Schedule(string name, object mission, string cron = "0 0 8 ? * MON-FRI") =>
        new { name, cron, timeZone = "Europe/Berlin", mission };

    [Fact]
    public async Task A_patrol_schedule_fires_and_its_mission_has_its_locations_priority_and_relative_deadline()
    {
        var created = await _server.Http.PostAsJsonAsync("/api/schedules", new
        {
            name = "rounds", cron = "0/3 * * * * ?", timeZone = "UTC",
            mission = new { kind = "patrol", locations = new[] { "patrol_A1", "patrol_B" }, priority = 2, deadlineSeconds = 600 },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var template = (await _server.GetJsonAsync("/api/schedules/rounds")).GetProperty("mission");
        Assert.Equal("patrol", template.GetProperty("kind").GetString());
        Assert.Equal(["patrol_A1", "patrol_B"], template.GetProperty("locations").EnumerateArray().Select(l => l.GetString()));
        Assert.Equal(600, template.GetProperty("deadlineSeconds").GetDouble());

        JsonElement firings = default;
        Assert.True(await ServerHost.WaitUntilAsync(async () =>
        {
            firings = await _server.GetJsonAsync("/api/schedules/rounds/firings");
            return firings.GetArrayLength() >= 1;
        }, TimeSpan.FromSeconds(10)));
        var firing = firings[firings.GetArrayLength() - 1];
        Assert.True(firing.GetProperty("accepted").GetBoolean(), firing.ToString());

        var mission = await _server.GetJsonAsync($"/api/missions/{firing.GetProperty("missionId").GetString()}");
        Assert.Equal("patrol", mission.GetProperty("kind").GetString());
        Assert.Equal(2, mission.GetProperty("priority").GetInt32());
        var locations = (await _server.GetJsonAsync("/api/locations")).EnumerateArray()
            .ToDictionary(l => l.GetProperty("name").GetString()!, l => l.GetProperty("waypointId").GetString());
        Assert.Equal([locations["patrol_A1"], locations["patrol_B"]], mission.GetProperty("waypoints").EnumerateArray().Select(w => w.GetString()));
        var firedAt = firing.GetProperty("firedAt").GetDateTimeOffset();
        var deadline = mission.GetProperty("deadline").GetDateTimeOffset();
        Assert.InRange(deadline, firedAt.AddSeconds(599), firedAt.AddSeconds(601));
        Assert.Equal("schedule:rounds", mission.GetProperty("history")[0].GetProperty("actor").GetString());
    }

    [Fact]
    public async Task Sequence_clean_charge_and_park_templates_round_trip_through_get()
    {
        Assert.True(await ServerHost.WaitUntilAsync(async () => (await _server.GetJsonAsync("/api/robots")).GetArrayLength() >= 1, TimeSpan.FromSeconds(20)));
        var robot = (await _server.GetJsonAsync("/api/robots"))[0];
        var robotId = $"{robot.GetProperty("manufacturer").GetString()}/{robot.GetProperty("serialNumber").GetString()}";

        var sequence = await Created("seq", new { kind = "sequence", steps = new object[] { new { goTo = "pantry" }, new { goTo = "lounge" } }, requiredActions = Array.Empty<string>() });
        var steps = sequence.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("goTo").GetString());
        Assert.Equal(["pantry", "lounge"], steps);

        var clean = await Created("tidy", new { kind = "clean", locations = new[] { "patrol_C", "patrol_D1" }, priority = 3 });
        Assert.Equal(["patrol_C", "patrol_D1"], clean.GetProperty("locations").EnumerateArray().Select(l => l.GetString()));
        Assert.Equal(3, clean.GetProperty("priority").GetInt32());

        var charge = await Created("topup", new { kind = "charge", location = "tinyRobot1_charger", targetCharge = 80.0, robot = robotId });
        Assert.Equal("tinyRobot1_charger", charge.GetProperty("location").GetString());
        Assert.Equal(80.0, charge.GetProperty("targetCharge").GetDouble());
        Assert.Equal(robotId, charge.GetProperty("robot").GetString());

        var park = await Created("night", new { kind = "park", location = "supplies", deadlineSeconds = 120 });
        Assert.Equal("supplies", park.GetProperty("location").GetString());
        Assert.Equal(120, park.GetProperty("deadlineSeconds").GetDouble());

        var listed = (await _server.GetJsonAsync("/api/schedules")).EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("mission"));
        Assert.Equal("sequence", listed["seq"].GetProperty("kind").GetString());
        Assert.Equal("clean", listed["tidy"].GetProperty("kind").GetString());
        Assert.Equal(robotId, listed["topup"].GetProperty("robot").GetString());

        async Task<JsonElement> Created(string name, object mission)
        {
            var response = await _server.Http.PostAsJsonAsync("/api/schedules", Schedule(name, mission));
            Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
            return (await _server.GetJsonAsync($"/api/schedules/{name}")).GetProperty("mission");
        }
    }

    [Theory]
    [InlineData("mission.locations", "locations is required for a patrol", """{"kind":"patrol"}""")]
    [InlineData("mission.locations", "locations[1]: unknown location or waypoint 'nowhere'", """{"kind":"patrol","locations":["patrol_A1","nowhere"]}""")]
    [InlineData("mission.steps[0]", "the first step of a sequence must be a goTo", """{"kind":"sequence","steps":[{"waitSeconds":5},{"goTo":"pantry"}]}""")]
    [InlineData("mission.robot", "unknown robot 'RobotFleet/ghost'", """{"kind":"park","robot":"RobotFleet/ghost"}""")]
    [InlineData("mission.robot", "robot 'ghost' must be 'manufacturer/serialNumber'", """{"kind":"park","robot":"ghost"}""")]
    [InlineData("mission.zone", "unknown zone 'z9'", """{"kind":"clean","zone":"z9"}""")]
    [InlineData("mission.location", "'pantry' is not a charger location", """{"kind":"charge","location":"pantry"}""")]
    [InlineData("mission.requiredActions", "no robot supports action 'lift'", """{"kind":"delivery","pickup":"pantry","dropoff":"coe","requiredActions":["lift"]}""")]
    [InlineData("mission.kind", "kind is required", """{"pickup":"pantry"}""")]
    [InlineData("mission.deadline", "deadlineSeconds", """{"kind":"park","deadline":"2030-01-01T00:00:00Z"}""")]
    [InlineData("mission.deadlineSeconds", "deadlineSeconds -5 is outside", """{"kind":"park","deadlineSeconds":-5}""")]
    [InlineData("mission.rounds", "field 'mission.rounds' has a value of the wrong type", """{"kind":"patrol","locations":["patrol_A1"],"rounds":"many"}""")]
    [InlineData("mission.priorty", "unknown field 'mission.priorty'", """{"kind":"park","priorty":3}""")] // a misspelt optional field is not ignored
    public async Task An_invalid_template_gets_400_naming_the_mission_field_as_post_missions_does(string field, string message, string mission)
    {
        if (field == "mission.robot" && message.Contains("unknown"))
            Assert.True(await ServerHost.WaitUntilAsync(async () => (await _server.GetJsonAsync("/api/robots")).GetArrayLength() >= 1, TimeSpan.FromSeconds(20)));
        var body = $$"""{"name":"bad","cron":"0 0 8 ? * MON-FRI","timeZone":"Europe/Berlin","mission":{{mission}}}""";
        var response = await _server.Http.PostAsync("/api/schedules", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(field, error.GetProperty("field").GetString());
        Assert.Contains(message, error.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Http.GetAsync("/api/schedules/bad")).StatusCode);

        // The same body on POST /api/missions gets the same message, naming the field without the prefix.
        if (field == "mission.priorty")
        {
            var direct = await _server.Http.PostAsync("/api/missions", new StringContent(mission, System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, direct.StatusCode);
            Assert.Equal("priorty", (await direct.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        }
        else if (field is not ("mission.deadline" or "mission.rounds"))
        {
            var direct = await _server.Http.PostAsync("/api/missions", new StringContent(mission, System.Text.Encoding.UTF8, "application/json"));
            var directError = await direct.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(field["mission.".Length..], directError.GetProperty("field").GetString());
            Assert.Equal(error.GetProperty("error").GetString(), directError.GetProperty("error").GetString());
        }
    }
}
