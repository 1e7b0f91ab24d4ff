using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace RobotFleet.Server.Tests;

/// <summary>The HTTP API's answers to good and bad requests, on a server with no simulated robots.</summary>
public sealed class When_operators_use_the_api : IAsyncLifetime
{
    private ServerHost _server = null!;

    public async Task InitializeAsync() => _server = await ServerHost.StartAsync(new ServerOptions { NoSimulation = true }, "When_operators_use_the_api");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("nowhere", "pantry", "pickup", "unknown pickup location 'nowhere'")]
    [InlineData("pantry", "atlantis", "dropoff", "unknown dropoff location 'atlantis'")]
    [InlineData("pantry", "pantry", "dropoff", "same location as pickup")]
    [InlineData(null, "pantry", "pickup", "pickup is required")]
    public async Task Should_reject_a_delivery_naming_the_bad_location(string? pickup, string dropoff, string field, string message)
    {
        var response = await _server.Http.PostAsJsonAsync("/api/missions", new { kind = "delivery", pickup, dropoff });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(field, error.GetProperty("field").GetString());
        Assert.Contains(message, error.GetProperty("error").GetString());
        Assert.Empty((await _server.GetJsonAsync("/api/missions")).EnumerateArray());
    }

    [Theory]
    [InlineData("{\"kind\":\"delivery\",", "not valid JSON")]
    [InlineData("{\"kind\":\"teleport\",\"pickup\":\"pantry\",\"dropoff\":\"coe\"}", "unknown mission kind 'teleport'")]
    [InlineData("{\"pickup\":\"pantry\",\"dropoff\":\"coe\"}", "kind is required")]
    [InlineData("null", "request body is empty")]
    [InlineData("[]", "request body must be a JSON object")]
    public async Task Should_reject_a_malformed_request_with_a_message(string body, string message)
    {
        var response = await _server.Http.PostAsync("/api/missions", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task Should_name_a_field_of_the_wrong_type_without_internal_names()
    {
        var response = await _server.Http.PostAsync("/api/missions",
            new StringContent("{\"kind\":\"delivery\",\"pickup\":\"pantry\",\"dropoff\":\"coe\",\"priority\":\"high\"}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("priority", error.GetProperty("field").GetString());
        Assert.DoesNotContain("RobotFleet", error.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("/api/nothing")]
    [InlineData("/api/robots/sim-1")] // the manufacturer left out
    public async Task Should_answer_an_unknown_api_path_with_the_error_json(string path)
    {
        var response = await _server.Http.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal($"no such API endpoint: GET {path} (see the README's HTTP API)", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task Should_accept_json_sent_with_curls_default_form_content_type()
    {
        // curl -d '{...}' sends application/x-www-form-urlencoded; the body is still JSON.
        var response = await _server.Http.PostAsync("/api/missions",
            new StringContent("{\"kind\":\"delivery\",\"pickup\":\"pantry\",\"dropoff\":\"coe\"}", Encoding.UTF8, "application/x-www-form-urlencoded"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task Should_reject_an_unknown_status_filter()
    {
        var response = await _server.Http.GetAsync("/api/missions?status=bogus");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("unknown status 'bogus'", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("maybe")]
    [InlineData("1")]
    [InlineData("true,false")]
    public async Task Should_reject_a_bad_open_filter_with_the_error_json_naming_it(string value)
    {
        var response = await _server.Http.GetAsync($"/api/alerts?open={value}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("open", body.GetProperty("field").GetString());
        Assert.Contains($"'{value}'", body.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await _server.Http.GetAsync("/api/alerts?open=TRUE")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _server.Http.GetAsync("/api/alerts")).StatusCode);
    }

    [Fact]
    public void Should_turn_any_parameter_binding_failure_into_the_error_json_naming_it()
    {
        var query = new Microsoft.AspNetCore.Http.QueryCollection(new Dictionary<string, Microsoft.Extensions.Primitives.StringValues> { ["limit"] = "abc" });

        var error = RobotFleet.Server.Api.BadRequestJson.ToError("Failed to bind parameter \"int limit\" from \"abc\".", query);

        Assert.Equal("limit", error.Field);
        Assert.Equal("query parameter 'limit' has an invalid value 'abc' (expected int)", error.Error);
        Assert.Equal("id", RobotFleet.Server.Api.BadRequestJson.ToError("Required parameter \"string id\" was not provided from route.", query).Field);
    }

    [Fact]
    public async Task Should_queue_a_valid_delivery_and_cancel_it()
    {
        var created = await _server.Http.PostAsJsonAsync("/api/missions", new { kind = "delivery", pickup = "pantry", dropoff = "coe", priority = 2 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        Assert.Equal($"/api/missions/{id}", created.Headers.Location?.OriginalString);

        var mission = await _server.GetJsonAsync($"/api/missions/{id}");
        Assert.Equal("delivery", mission.GetProperty("kind").GetString());
        Assert.Equal("Queued", mission.GetProperty("status").GetString());
        Assert.Equal(2, mission.GetProperty("priority").GetInt32());
        Assert.Equal(JsonValueKind.Null, mission.GetProperty("robot").ValueKind);

        var cancelled = await _server.Http.PostAsync($"/api/missions/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        Assert.Equal("Cancelled", (await cancelled.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await _server.Http.PostAsync($"/api/missions/{id}/cancel", null)).StatusCode);
        Assert.Single((await _server.GetJsonAsync("/api/missions?status=cancelled")).EnumerateArray());
    }

    [Fact]
    public async Task Should_answer_unknown_ids_with_404_naming_them()
    {
        var mission = await _server.Http.GetAsync("/api/missions/m-nope");
        Assert.Equal(HttpStatusCode.NotFound, mission.StatusCode);
        Assert.Contains("m-nope", await mission.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Http.PostAsync("/api/missions/m-nope/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Http.DeleteAsync("/api/robots/Acme/ghost")).StatusCode);
    }

    [Fact]
    public async Task Should_serve_the_map_locations_and_health()
    {
        var map = await _server.GetJsonAsync("/api/map");
        Assert.Equal("FeatureCollection", map.GetProperty("type").GetString());
        Assert.Contains(map.GetProperty("features").EnumerateArray(), f => f.GetProperty("properties").GetProperty("type").GetString() == "lane");

        var locations = (await _server.GetJsonAsync("/api/locations")).EnumerateArray().ToList();
        var pantry = Assert.Single(locations, l => l.GetProperty("name").GetString() == "pantry");
        Assert.Equal(["pickup"], pantry.GetProperty("kinds").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal(14, locations.Count);

        var health = await _server.GetJsonAsync("/healthz");
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.True(await ServerHost.WaitUntilAsync(async () => (await _server.GetJsonAsync("/healthz")).GetProperty("brokerConnected").GetBoolean(), TimeSpan.FromSeconds(10)));
    }
}
