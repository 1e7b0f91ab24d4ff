using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MQTTnet;
using RobotFleet.TestSupport;

namespace RobotFleet.Server.Tests;

/// <summary>
/// Staged rollouts end to end: an in-process server with 5 simulated robots (perception on), models uploaded to the
/// registry, rolled out in waves over VDA 5050 instant actions; what the robots hold is read from their own retained
/// <c>modelStatus</c> reports, not from the control plane's records.
/// </summary>
public sealed class When_models_are_rolled_out
{
    private const string Name = "colour-classifier";

    private static ServerOptions Options() => new()
    {
        Robots = 5,
        PerceptionRate = 5,
        SimulatedModelStatusInterval = TimeSpan.FromSeconds(1),
    };

    [Fact]
    public async Task A_good_version_reaches_every_robot_in_two_waves_and_a_canary_that_fails_its_gate_is_rolled_back_before_the_next_wave()
    {
        await using var server = await ServerHost.StartAsync(Options());
        await using var reports = await RobotModelReports.StartAsync(server.MqttPort, "model-reports");
        await Upload(server, "1.0.0", budgetMs: 1000);
        await Upload(server, "2.0.0", budgetMs: 0.001); // every run blows this budget
        Assert.True(await ServerHost.WaitUntilAsync(async () =>
            (await server.GetJsonAsync("/api/robots")).EnumerateArray().Count(r => r.GetProperty("connection").GetString() == "ONLINE") == 5, TimeSpan.FromSeconds(30)), "5 robots online");

        // 1. 1.0.0 in two waves: a canary, then the rest.
        var first = await Create(server, "1.0.0");
        var done = await WaitForEnd(server, first);
        Assert.True(done.GetProperty("status").GetString() == "Completed", done.ToString());
        var waves = done.GetProperty("waves").EnumerateArray().ToList();
        Assert.Equal(2, waves.Count);
        Assert.Single(waves[0].GetProperty("robots").EnumerateArray());
        Assert.Equal(4, waves[1].GetProperty("robots").GetArrayLength());
        Assert.All(waves, w => Assert.Equal("Passed", w.GetProperty("status").GetString()));
        Assert.All(done.GetProperty("robots").EnumerateArray(), r =>
        {
            Assert.Equal("Active", r.GetProperty("state").GetString());
            Assert.True(r.GetProperty("healthy").GetBoolean());
        });
        var serials = Enumerable.Range(1, 5).Select(i => $"sim-{i}").ToList();
        Assert.True(await ServerHost.WaitUntilAsync(() => Task.FromResult(serials.All(s => reports.Active(s) == "1.0.0")), TimeSpan.FromSeconds(15)),
            $"every robot reports 1.0.0 active: {reports.Describe()}");

        // 2. 2.0.0 blows its latency budget on the canary: rolled back, no later wave starts.
        var second = await Create(server, "2.0.0");
        var rolledBack = await WaitForEnd(server, second);
        Assert.True(rolledBack.GetProperty("status").GetString() == "RolledBack", rolledBack.ToString());
        Assert.Contains("latency", rolledBack.GetProperty("reason").GetString());
        var robots = rolledBack.GetProperty("robots").EnumerateArray().ToList();
        var canary = robots.Single(r => r.GetProperty("wave").GetInt32() == 0);
        Assert.Equal("RolledBack", canary.GetProperty("state").GetString());
        Assert.Equal($"{Name}@1.0.0", canary.GetProperty("previousVersion").GetString());
        Assert.All(robots.Where(r => r.GetProperty("wave").GetInt32() > 0), r => Assert.Equal("Skipped", r.GetProperty("state").GetString()));
        var canarySerial = canary.GetProperty("robot").GetString()!.Split('/')[1];

        // What the robots themselves report: the canary held 2.0.0 and is back on 1.0.0; no other robot ever stored 2.0.0.
        Assert.True(await ServerHost.WaitUntilAsync(() => Task.FromResult(serials.All(s => reports.Active(s) == "1.0.0")), TimeSpan.FromSeconds(15)),
            $"every robot back on 1.0.0: {reports.Describe()}");
        Assert.Contains("2.0.0", reports.EverStored(canarySerial));
        Assert.All(serials.Where(s => s != canarySerial), s => Assert.DoesNotContain("2.0.0", reports.EverStored(s)));
        Assert.All(serials.Where(s => s != canarySerial), s => Assert.DoesNotContain(reports.ActionIds(s), id => id.Contains(second, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Bad_requests_are_refused_with_the_field_at_fault()
    {
        await using var server = await ServerHost.StartAsync(Options() with { Robots = 2, PerceptionRate = 0 });
        await Upload(server, "1.0.0", budgetMs: 1000);
        Assert.True(await ServerHost.WaitUntilAsync(async () => (await server.GetJsonAsync("/api/robots")).GetArrayLength() == 2, TimeSpan.FromSeconds(30)));

        var unknown = await server.Http.PostAsJsonAsync("/api/rollouts", new { model = Name, version = "9.9.9", target = new { all = true } });
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("9.9.9", await unknown.Content.ReadAsStringAsync());
        var empty = await server.Http.PostAsJsonAsync("/api/rollouts", new { model = Name, version = "1.0.0", target = new { } });
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Contains("target", await empty.Content.ReadAsStringAsync());
        var short_ = await server.Http.PostAsJsonAsync("/api/rollouts", new { model = Name, version = "1.0.0", target = new { all = true }, waves = new object[] { 1 } });
        Assert.Equal(HttpStatusCode.BadRequest, short_.StatusCode);
        Assert.Contains("100%", await short_.Content.ReadAsStringAsync());
        var bad = await server.Http.PostAsJsonAsync("/api/rollouts", new { model = Name, version = "1.0.0", target = new { all = true }, waves = new object[] { "x" } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync("/api/rollouts/nope")).StatusCode);

        // Every number is checked, naming its field.
        foreach (var (field, gate, install) in new (string, object, object)[]
        {
            ("install.actionTimeoutSeconds", new { }, new { actionTimeoutSeconds = -1 }),
            ("install.waitTimeoutSeconds", new { }, new { waitTimeoutSeconds = 0 }),
            ("install.maintenanceMinutes", new { }, new { maintenanceMinutes = 1e300 }),
            ("gate.timeoutSeconds", new { timeoutSeconds = 0 }, new { }),
            ("gate.maxErrorRate", new { maxErrorRate = 1.5 }, new { }),
            ("gate.minRuns", new { minRuns = -3 }, new { }),
            ("gate.maxFailedRobots", new { maxFailedRobots = -1 }, new { }),
            ("gate.soakSeconds", new { soakSeconds = 300, timeoutSeconds = 60 }, new { }),
        })
        {
            using var refused = await server.Http.PostAsJsonAsync("/api/rollouts", new { model = Name, version = "1.0.0", target = new { all = true }, gate, install });
            var body = await refused.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(refused.StatusCode == HttpStatusCode.BadRequest, $"{field}: {(int)refused.StatusCode} {body}");
            Assert.Equal(field, body.GetProperty("field").GetString());
        }

        // One rollout per robot at a time: a second one is refused naming the first.
        var first = await Create(server, "1.0.0");
        using var second = await server.Http.PostAsJsonAsync("/api/rollouts", new { model = Name, version = "1.0.0", target = new { all = true } });
        var conflict = await second.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(second.StatusCode == HttpStatusCode.Conflict, conflict.ToString());
        Assert.Contains(first, conflict.GetProperty("error").GetString());
        Assert.Equal("target", conflict.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Rollouts_are_kept_across_a_restart_with_a_data_directory()
    {
        var data = Directory.CreateTempSubdirectory("robotfleet-rollouts-").FullName;
        try
        {
            string id;
            await using (var server = await ServerHost.StartAsync(Options() with { Robots = 1, PerceptionRate = 0, DataDirectory = data }))
            {
                await Upload(server, "1.0.0", budgetMs: 1000);
                Assert.True(await ServerHost.WaitUntilAsync(async () => (await server.GetJsonAsync("/api/robots")).GetArrayLength() == 1, TimeSpan.FromSeconds(30)));
                id = await Create(server, "1.0.0");
                using var abort = await server.Http.PostAsync($"/api/rollouts/{id}/abort", null);
                Assert.Equal(HttpStatusCode.OK, abort.StatusCode);
                using var again = await server.Http.PostAsync($"/api/rollouts/{id}/abort", null);
                Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
            }

            await using (var restarted = await ServerHost.StartAsync(Options() with { Robots = 0, NoSimulation = true, DataDirectory = data }))
            {
                var kept = await restarted.GetJsonAsync($"/api/rollouts/{id}");
                Assert.Equal("Aborted", kept.GetProperty("status").GetString());
                Assert.Single((await restarted.GetJsonAsync("/api/rollouts")).EnumerateArray());
            }
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task Upload(ServerHost server, string version, double budgetMs)
    {
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(ModelPackages.Classifier), "model", "model.onnx" },
            { new ByteArrayContent(ModelPackages.ClassifierManifest(version: version, budgetMs: budgetMs)), "manifest", "manifest.json" },
        };
        using var response = await server.Http.PostAsync("/api/models", form);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    private static async Task<string> Create(ServerHost server, string version)
    {
        using var response = await server.Http.PostAsJsonAsync("/api/rollouts", new
        {
            model = Name,
            version,
            target = new { all = true },
            waves = new object[] { 1, "100%" },
            gate = new { maxErrorRate = 0.0, minRuns = 3, timeoutSeconds = 60 },
            install = new { actionTimeoutSeconds = 60, waitTimeoutSeconds = 60 },
        });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body.ToString());
        return body.GetProperty("id").GetString()!;
    }

    private static async Task<JsonElement> WaitForEnd(ServerHost server, string id)
    {
        JsonElement last = default;
        var ended = await ServerHost.WaitUntilAsync(async () =>
        {
            last = await server.GetJsonAsync($"/api/rollouts/{id}");
            return last.GetProperty("status").GetString() is not ("Running" or "Paused");
        }, TimeSpan.FromSeconds(150));
        Assert.True(ended, $"rollout {id} did not end: {last}");
        return last;
    }
}
