using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RobotFleet.TestSupport;

namespace RobotFleet.Server.Tests;

/// <summary>
/// Operator tags on robots over the API (<c>PUT /api/robots/{m}/{s}/tags</c>), kept across a restart with a data
/// directory, and rollouts that target a tag: resolved at creation to exactly the robots carrying it.
/// </summary>
public sealed class When_robots_are_tagged
{
    private static ServerOptions Options(int robots, string? data = null) => new() { Robots = robots, PerceptionRate = 0, DataDirectory = data };

    [Fact]
    public async Task Tags_are_set_shown_validated_and_kept_across_a_restart()
    {
        var data = Directory.CreateTempSubdirectory("robotfleet-tags-").FullName;
        try
        {
            await using (var server = await ServerHost.StartAsync(Options(2, data)))
            {
                await WaitForRobots(server, 2);
                using var set = await server.Http.PutAsJsonAsync("/api/robots/RobotFleet/sim-1/tags", new[] { "pilot", "floor-2", "pilot" });
                var robot = await set.Content.ReadFromJsonAsync<JsonElement>();
                Assert.True(set.StatusCode == HttpStatusCode.OK, robot.ToString());
                Assert.Equal(["floor-2", "pilot"], Tags(robot));
                Assert.Equal(["floor-2", "pilot"], Tags(await server.GetJsonAsync("/api/robots/RobotFleet/sim-1")));
                var all = (await server.GetJsonAsync("/api/robots")).EnumerateArray().ToDictionary(r => r.GetProperty("serialNumber").GetString()!);
                Assert.Equal(["floor-2", "pilot"], Tags(all["sim-1"]));
                Assert.Empty(Tags(all["sim-2"]));

                await AssertBad(server, new[] { "ok", "Floor-2" }, "Floor-2");
                await AssertBad(server, new[] { "-x" }, "'-x'");
                await AssertBad(server, new[] { "a b" }, "'a b'");
                await AssertBad(server, new[] { "" }, "''");
                var long_ = new string('a', 65);
                await AssertBad(server, new[] { long_ }, long_);
                await AssertBad(server, Enumerable.Range(0, 33).Select(i => $"t{i}").ToArray(), "at most 32");
                await AssertBad(server, new { tag = "x" }, "array");
                await AssertBad(server, new object[] { 5 }, "5");
                Assert.Equal(["floor-2", "pilot"], Tags(await server.GetJsonAsync("/api/robots/RobotFleet/sim-1"))); // nothing changed on a 400

                using var unknown = await server.Http.PutAsJsonAsync("/api/robots/RobotFleet/sim-9/tags", new[] { "pilot" });
                Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
                Assert.Contains("RobotFleet/sim-9", await unknown.Content.ReadAsStringAsync());

                using var max = await server.Http.PutAsJsonAsync("/api/robots/RobotFleet/sim-2/tags", Enumerable.Range(0, 32).Select(i => $"t{i}.x_{i}").Append(new string('z', 64)).Skip(1).ToArray());
                Assert.Equal(HttpStatusCode.OK, max.StatusCode);
                using var clear = await server.Http.PutAsJsonAsync("/api/robots/RobotFleet/sim-2/tags", Array.Empty<string>());
                Assert.Empty(Tags(await clear.Content.ReadFromJsonAsync<JsonElement>()));
            }

            await using (var restarted = await ServerHost.StartAsync(Options(2, data)))
            {
                await WaitForRobots(restarted, 2);
                Assert.Equal(["floor-2", "pilot"], Tags(await restarted.GetJsonAsync("/api/robots/RobotFleet/sim-1")));
                Assert.Empty(Tags(await restarted.GetJsonAsync("/api/robots/RobotFleet/sim-2")));
            }
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task A_rollout_to_a_tag_targets_exactly_the_robots_carrying_it()
    {
        await using var server = await ServerHost.StartAsync(Options(4));
        await WaitForRobots(server, 4);
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(ModelPackages.Classifier), "model", "model.onnx" },
            { new ByteArrayContent(ModelPackages.ClassifierManifest(version: "1.0.0", budgetMs: 1000)), "manifest", "manifest.json" },
        };
        using (var upload = await server.Http.PostAsync("/api/models", form))
            Assert.True(upload.StatusCode == HttpStatusCode.Created, await upload.Content.ReadAsStringAsync());
        foreach (var (serial, tags) in new[] { ("sim-1", new[] { "floor-2" }), ("sim-2", ["floor-3"]), ("sim-3", ["floor-2", "pilot"]) })
        {
            using var put = await server.Http.PutAsJsonAsync($"/api/robots/RobotFleet/{serial}/tags", tags);
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        using var none = await server.Http.PostAsJsonAsync("/api/rollouts", new { model = "colour-classifier", version = "1.0.0", target = new { tag = "floor-9" } });
        Assert.Equal(HttpStatusCode.BadRequest, none.StatusCode);
        Assert.Contains("no robot has tag 'floor-9'", await none.Content.ReadAsStringAsync());
        using var invalid = await server.Http.PostAsJsonAsync("/api/rollouts", new { model = "colour-classifier", version = "1.0.0", target = new { tag = "Floor 2" } });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("'Floor 2'", await invalid.Content.ReadAsStringAsync());
        using var both = await server.Http.PostAsJsonAsync("/api/rollouts", new { model = "colour-classifier", version = "1.0.0", target = new { tag = "floor-2", all = true } });
        Assert.Equal(HttpStatusCode.BadRequest, both.StatusCode);

        using var created = await server.Http.PostAsJsonAsync("/api/rollouts", new
        {
            model = "colour-classifier",
            version = "1.0.0",
            target = new { tag = "floor-2" },
            waves = new object[] { 1, "100%" },
        });
        var rollout = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(created.StatusCode == HttpStatusCode.Created, rollout.ToString());
        var id = rollout.GetProperty("id").GetString()!;
        var shown = await server.GetJsonAsync($"/api/rollouts/{id}");
        Assert.Equal(["RobotFleet/sim-1", "RobotFleet/sim-3"], shown.GetProperty("robots").EnumerateArray().Select(r => r.GetProperty("robot").GetString()!).Order(StringComparer.Ordinal).ToList());
        Assert.Equal(2, shown.GetProperty("waves").EnumerateArray().Sum(w => w.GetProperty("robots").GetArrayLength()));
        using var abort = await server.Http.PostAsync($"/api/rollouts/{id}/abort", null);
        Assert.Equal(HttpStatusCode.OK, abort.StatusCode);
    }

    private static List<string> Tags(JsonElement robot) => robot.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToList();

    private static async Task WaitForRobots(ServerHost server, int count) =>
        Assert.True(await ServerHost.WaitUntilAsync(async () => (await server.GetJsonAsync("/api/robots")).GetArrayLength() == count, TimeSpan.FromSeconds(30)), $"{count} robots known");

    private static async Task AssertBad(ServerHost server, object body, string named)
    {
        using var response = await server.Http.PutAsJsonAsync("/api/robots/RobotFleet/sim-1/tags", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
        Assert.Contains(named, text);
    }
}
