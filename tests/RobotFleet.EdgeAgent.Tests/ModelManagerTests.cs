using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RobotFleet.Perception;
using RobotFleet.Perception.Tests;
using RobotFleet.Vda5050.V2;
using VdaAction = RobotFleet.Vda5050.V2.Action;

namespace RobotFleet.EdgeAgent.Tests;

/// <summary>downloadModel, enableModel, deleteModel and modelStatus, end to end: in-process broker, HTTP server, real ONNX checks.</summary>
public sealed class ModelManagerTests : IAsyncLifetime
{
    private const string Name = "colour-classifier";
    private readonly ECDsa key = ModelSigning.CreateKey();
    private readonly TestHttpServer http = TestHttpServer.Start();
    private readonly string dir = Path.Combine(Path.GetTempPath(), "rf-agent-models-" + Guid.NewGuid().ToString("N"));
    private Harness h = null!;

    public async Task InitializeAsync() => h = await Harness.StartAsync(configure: Configure);

    public async Task DisposeAsync()
    {
        await h.DisposeAsync();
        await http.DisposeAsync();
        key.Dispose();
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private EdgeAgentOptions Configure(EdgeAgentOptions o) => o with
    {
        ModelDirectory = dir,
        TrustedKeys = [ModelSigning.ExportPublicKeyPem(key)],
        ModelDownloadAttemptTimeout = TimeSpan.FromSeconds(10),
        ModelDownloadRetries = 1,
        ModelDownloadRetryDelay = TimeSpan.FromMilliseconds(50),
        Log = line => Console.WriteLine(line),
    };

    [Fact]
    public async Task Download_then_enable_serves_the_model_and_model_status_shows_it_active()
    {
        var download = await FinalAsync(Download("d1", Publish("1.0.0")));
        Assert.Equal(ActionStatus.Finished, download.ActionStatus);
        Assert.Contains("verified and stored", download.ResultDescription);
        Assert.True(File.Exists(Path.Combine(dir, Name, "1.0.0", "model.onnx")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(dir, ".tmp")));
        Assert.Null(h.Agent.ActiveModel);
        await h.Recorder.WaitForExtensionAsync("modelStatus", s => Models(s) == "colour-classifier 1.0.0 stored" && s.GetProperty("active").ValueKind == JsonValueKind.Null);

        var enable = await FinalAsync(Enable("e1", "1.0.0"));
        Assert.Equal(ActionStatus.Finished, enable.ActionStatus);
        Assert.Equal((Name, "1.0.0"), h.Agent.ActiveModel);
        var status = await h.Recorder.WaitForExtensionAsync("modelStatus", s => Models(s) == "colour-classifier 1.0.0 active");
        Assert.Equal("1.0.0", status.GetProperty("active").GetProperty("version").GetString());
        Assert.Equal(1000, status.GetProperty("inference").GetProperty("latencyBudgetMs").GetDouble());
        Assert.Equal(0, status.GetProperty("inference").GetProperty("runs").GetInt64());
        Assert.EndsWith("Z", status.GetProperty("timestamp").GetString());
        Assert.Equal("{\"name\":\"colour-classifier\",\"version\":\"1.0.0\"}", File.ReadAllText(Path.Combine(dir, "active.json")));

        // The same package again is a no-op; other content under the same version is refused.
        Assert.Equal(ActionStatus.Finished, (await FinalAsync(Download("d2", Publish("1.0.0")))).ActionStatus);
        var clash = await FinalAsync(Download("d3", Publish("1.0.0", TestModels.Classifier(extraWeights: 8))));
        Assert.Equal(ActionStatus.Failed, clash.ActionStatus);
        Assert.Equal($"{Name} 1.0.0 is already stored with different content; delete it first", clash.ResultDescription);
        Assert.Equal((Name, "1.0.0"), h.Agent.ActiveModel);

        // The factsheet advertises the model actions.
        await h.Recorder.WaitForAsync<Factsheet>("factsheet", f => f.ProtocolFeatures.AgvActions.Any(a => a.ActionType == "downloadModel" && a.ActionParameters!.Count == 7));
    }

    [Fact]
    public async Task Tampered_model_bytes_fail_with_sha256_mismatch_and_nothing_is_stored()
    {
        var package = Publish("1.0.0");
        http.Add(package.ModelPath, TestModels.Classifier(extraWeights: 16)); // the registry's hash and signature are of other bytes
        var state = await FinalAsync(Download("d1", package));
        Assert.Equal(ActionStatus.Failed, state.ActionStatus);
        Assert.StartsWith("sha256 mismatch: model is", state.ResultDescription);
        Assert.False(Directory.Exists(Path.Combine(dir, Name)));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(dir, ".tmp")));
    }

    [Fact]
    public async Task Bad_signature_fails_and_nothing_is_stored()
    {
        var package = Publish("1.0.0");
        var signedForOtherVersion = ModelSigning.Sign(new ModelDigest(Name, "6.6.6", package.ModelSha256, package.ManifestSha256), key);
        var state = await FinalAsync(Download("d1", package with { Signature = signedForOtherVersion }));
        Assert.Equal(ActionStatus.Failed, state.ActionStatus);
        Assert.StartsWith("signature not trusted", state.ResultDescription);

        var garbage = await FinalAsync(Download("d2", package with { Signature = "bm90IGEgc2lnbmF0dXJl" }));
        Assert.Equal(ActionStatus.Failed, garbage.ActionStatus);
        Assert.StartsWith("signature not trusted", garbage.ResultDescription);
        Assert.False(Directory.Exists(Path.Combine(dir, Name)));
    }

    [Fact]
    public async Task Package_signed_by_an_untrusted_key_fails()
    {
        using var other = ModelSigning.CreateKey();
        var state = await FinalAsync(Download("d1", Publish("1.0.0", signer: other)));
        Assert.Equal(ActionStatus.Failed, state.ActionStatus);
        Assert.Equal($"signature not trusted: no trusted key verifies the signature of {Name} 1.0.0", state.ResultDescription);
        Assert.False(Directory.Exists(Path.Combine(dir, Name)));
    }

    [Fact]
    public async Task Truncated_model_fails_with_the_check_message_even_when_hash_and_signature_match()
    {
        var full = TestModels.Classifier();
        var state = await FinalAsync(Download("d1", Publish("1.0.0", model: full[..(full.Length / 2)])));
        Assert.Equal(ActionStatus.Failed, state.ActionStatus);
        Assert.Contains("truncated ONNX file", state.ResultDescription);
        Assert.False(Directory.Exists(Path.Combine(dir, Name)));

        var html = await FinalAsync(Download("d2", Publish("1.0.1", model: Encoding.UTF8.GetBytes("<!DOCTYPE html><html><body>login</body></html>"))));
        Assert.Equal(ActionStatus.Failed, html.ActionStatus);
        Assert.StartsWith("not an ONNX model:", html.ResultDescription);
    }

    [Fact]
    public async Task Missing_parameter_and_manifest_errors_fail_naming_the_field()
    {
        var package = Publish("1.0.0");
        var action = Download("d1", package);
        var missing = await FinalAsync(action with { ActionParameters = [.. action.ActionParameters.Where(p => p.Key != "signature")] });
        Assert.Equal(ActionStatus.Failed, missing.ActionStatus);
        Assert.Equal("missing parameter 'signature'", missing.ResultDescription);

        // A manifest of another version than the action names.
        var wrong = Publish("2.0.0", manifest: TestModels.ClassifierManifest(version: "3.0.0"));
        var mismatch = await FinalAsync(Download("d2", wrong));
        Assert.Equal(ActionStatus.Failed, mismatch.ActionStatus);
        Assert.StartsWith("manifest field 'name'/'version'", mismatch.ResultDescription);

        var traversal = await FinalAsync(Enable("e1", "../../etc"));
        Assert.Equal(ActionStatus.Failed, traversal.ActionStatus);
        Assert.Contains("not a valid model version", traversal.ResultDescription);
    }

    [Fact]
    public async Task Failed_enable_keeps_the_previous_version_serving_and_enable_of_the_previous_version_rolls_back()
    {
        Assert.Equal(ActionStatus.Finished, (await FinalAsync(Download("d1", Publish("1.0.0")))).ActionStatus);
        Assert.Equal(ActionStatus.Finished, (await FinalAsync(Download("d2", Publish("2.0.0")))).ActionStatus);
        Assert.Equal(ActionStatus.Finished, (await FinalAsync(Enable("e1", "1.0.0"))).ActionStatus);

        var notThere = await FinalAsync(Enable("e2", "9.9.9"));
        Assert.Equal(ActionStatus.Failed, notThere.ActionStatus);
        Assert.Equal($"{Name} 9.9.9 is not downloaded", notThere.ResultDescription);
        Assert.Equal((Name, "1.0.0"), h.Agent.ActiveModel);

        Assert.Equal(ActionStatus.Finished, (await FinalAsync(Enable("e3", "2.0.0"))).ActionStatus);
        Assert.Equal((Name, "2.0.0"), h.Agent.ActiveModel);
        Assert.Equal(ActionStatus.Finished, (await FinalAsync(Enable("e4", "1.0.0"))).ActionStatus); // rollback
        Assert.Equal((Name, "1.0.0"), h.Agent.ActiveModel);
        await h.Recorder.WaitForExtensionAsync("modelStatus", s => Models(s) == "colour-classifier 1.0.0 active, colour-classifier 2.0.0 stored");

        // The stored file of 2.0.0 changes on disk: enabling it fails, 1.0.0 keeps serving.
        var stored = Path.Combine(dir, Name, "2.0.0", "model.onnx");
        File.WriteAllBytes(stored, File.ReadAllBytes(stored)[..100]);
        var corrupt = await FinalAsync(Enable("e5", "2.0.0"));
        Assert.Equal(ActionStatus.Failed, corrupt.ActionStatus);
        Assert.Contains("changed since download", corrupt.ResultDescription);
        Assert.Equal((Name, "1.0.0"), h.Agent.ActiveModel);
    }

    [Fact]
    public async Task Delete_refuses_the_active_version_and_removes_a_stored_one()
    {
        Assert.Equal(ActionStatus.Finished, (await FinalAsync(Download("d1", Publish("1.0.0")))).ActionStatus);
        Assert.Equal(ActionStatus.Finished, (await FinalAsync(Download("d2", Publish("2.0.0")))).ActionStatus);
        Assert.Equal(ActionStatus.Finished, (await FinalAsync(Enable("e1", "2.0.0"))).ActionStatus);

        var refused = await FinalAsync(Delete("x1", "2.0.0"));
        Assert.Equal(ActionStatus.Failed, refused.ActionStatus);
        Assert.Contains("is the active model", refused.ResultDescription);
        Assert.True(File.Exists(Path.Combine(dir, Name, "2.0.0", "model.onnx")));

        Assert.Equal(ActionStatus.Finished, (await FinalAsync(Delete("x2", "1.0.0"))).ActionStatus);
        Assert.False(Directory.Exists(Path.Combine(dir, Name, "1.0.0")));
        await h.Recorder.WaitForExtensionAsync("modelStatus", s => Models(s) == "colour-classifier 2.0.0 active");

        var gone = await FinalAsync(Delete("x3", "1.0.0"));
        Assert.Equal(ActionStatus.Failed, gone.ActionStatus);
        Assert.Equal($"{Name} 1.0.0 is not stored", gone.ResultDescription);
    }

    [Fact]
    public async Task After_a_restart_the_agent_serves_the_last_enabled_version_again()
    {
        Assert.Equal(ActionStatus.Finished, (await FinalAsync(Download("d1", Publish("1.0.0")))).ActionStatus);
        Assert.Equal(ActionStatus.Finished, (await FinalAsync(Download("d2", Publish("2.0.0")))).ActionStatus);
        Assert.Equal(ActionStatus.Finished, (await FinalAsync(Enable("e1", "2.0.0"))).ActionStatus);

        await h.RestartAgentAsync(Configure(Harness.Options(h.Broker)));
        await WaitUntilAsync(() => h.Agent.ActiveModel == (Name, "2.0.0"));
        var status = await h.Recorder.WaitForExtensionAsync("modelStatus", s => Models(s) == "colour-classifier 1.0.0 stored, colour-classifier 2.0.0 active");
        Assert.Equal("2.0.0", status.GetProperty("active").GetProperty("version").GetString());
    }

    [Fact]
    public async Task Http_404_and_timeouts_fail_the_download_and_the_agent_keeps_running()
    {
        await h.RestartAgentAsync(Configure(Harness.Options(h.Broker)) with { ModelDownloadAttemptTimeout = TimeSpan.FromSeconds(1) });
        var package = Publish("1.0.0");
        var notFound = await FinalAsync(Download("d1", package with { ModelLink = new Uri(http.BaseUri, "missing.onnx") }));
        Assert.Equal(ActionStatus.Failed, notFound.ActionStatus);
        Assert.StartsWith("model download failed: HTTP 404", notFound.ResultDescription);
        Assert.Equal(1, http.Requests["missing.onnx"]); // 404 is not retried

        var timedOut = await FinalAsync(Download("d2", package with { ModelLink = http.Hang("slow.onnx") }));
        Assert.Equal(ActionStatus.Failed, timedOut.ActionStatus);
        Assert.StartsWith("model download timed out after 1 s per attempt (2 attempts)", timedOut.ResultDescription);
        Assert.Equal(2, http.Requests["slow.onnx"]); // one retry
        Assert.False(Directory.Exists(Path.Combine(dir, Name)));

        await h.SyncAsync();
        Assert.True(h.Agent.IsConnected);
        Assert.Equal(ActionStatus.Finished, (await FinalAsync(Download("d3", package))).ActionStatus);
    }

    [Fact]
    public async Task A_running_download_shows_its_progress_and_a_transient_503_is_retried()
    {
        await h.RestartAgentAsync(Configure(Harness.Options(h.Broker)) with { ModelProgressInterval = TimeSpan.FromMilliseconds(20), ModelDownloadAttemptTimeout = TimeSpan.FromSeconds(30) });
        var package = Publish("1.0.0", TestModels.Classifier(extraWeights: 500_000)); // about 2 MB
        http.Throttle(package.ModelPath, TimeSpan.FromMilliseconds(25));
        http.FailNext(package.ModelPath, 1);
        await h.SendInstantAsync(Download("d1", package));

        var running = await h.WaitForStateAsync(s => s.ActionStates.Any(a => a.ActionId == "d1" && a.ActionStatus == ActionStatus.Running
            && a.ResultDescription?.StartsWith("downloaded ", StringComparison.Ordinal) == true && a.ResultDescription.EndsWith(" of 2.0 MB", StringComparison.Ordinal)));
        Assert.Matches(@"^downloaded \d+\.\d of 2\.0 MB$", running.ActionStates.Single(a => a.ActionId == "d1").ResultDescription);
        var done = await h.WaitForStateAsync(s => s.ActionStates.Any(a => a.ActionId == "d1" && a.ActionStatus == ActionStatus.Finished), 20);
        Assert.Equal(2, http.Requests[package.ModelPath]); // 503, then 200
        Assert.True(File.Exists(Path.Combine(dir, Name, "1.0.0", "model.onnx")));
    }

    [Fact]
    public async Task Two_concurrent_downloads_of_the_same_package_both_finish_and_store_it_once()
    {
        var package = Publish("1.0.0", TestModels.Classifier(extraWeights: 100_000)); // about 400 kB: both downloads overlap
        http.Throttle(package.ModelPath, TimeSpan.FromMilliseconds(10));
        await h.SendInstantAsync(Download("d1", package));
        await h.SendInstantAsync(Download("d2", package));

        var state = await h.WaitForStateAsync(s => new[] { "d1", "d2" }.All(id => s.ActionStates.Any(a => a.ActionId == id && a.ActionStatus is ActionStatus.Finished or ActionStatus.Failed)), 30);
        foreach (var id in new[] { "d1", "d2" })
        {
            var a = state.ActionStates.Single(x => x.ActionId == id);
            Assert.True(a.ActionStatus == ActionStatus.Finished, $"{id}: {a.ActionStatus} {a.ResultDescription}");
        }

        Assert.Equal(2, http.Requests[package.ModelPath]);
        Assert.True(File.Exists(Path.Combine(dir, Name, "1.0.0", "model.onnx")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(dir, ".tmp")));
    }

    [Fact]
    public async Task Perception_loop_runs_the_active_model_on_simulated_camera_frames_and_places_detections_in_the_site_frame()
    {
        await h.RestartAgentAsync(Configure(Harness.Options(h.Broker)) with { PerceptionRate = 20, ModelStatusInterval = TimeSpan.FromSeconds(1) });

        // An obstacle 2 m ahead and 0.5 m to the left of the robot at (0, 0) heading east: the simulator draws a bright box.
        h.Robot.PlaceObstacle("crate", 2, 0.5, "L1");
        var frame = (await h.Robot.CaptureAsync(CancellationToken.None))!;
        var (w, hh) = (frame.Camera.Width, frame.Camera.Height);
        var bright = Enumerable.Range(0, w * hh).Where(i => frame.Pixels[i * 3] == 240).Select(i => (X: i % w, Y: i / w)).ToList();
        Assert.NotEmpty(bright);
        Assert.Equal(128, frame.Pixels[0]);
        var (x0, y0, x1, y1) = (bright.Min(p => p.X), bright.Min(p => p.Y), bright.Max(p => p.X) + 1, bright.Max(p => p.Y) + 1);

        // A detector that reports exactly that box (normalized coordinates), as a trained one would.
        var rows = new[] { (float)x0 / w, (float)y0 / hh, (float)x1 / w, (float)y1 / hh, 0.9f, 1f };
        var manifest = TestModels.DetectorManifest(boxes: BoxCoordinates.Normalized) with { Version = "1.0.0" };
        var package = Publish("1.0.0", TestModels.Detector(rows), manifest, name: "constant-detector");
        Assert.Equal(ActionStatus.Finished, (await FinalAsync(Download("d1", package))).ActionStatus);
        Assert.Equal(ActionStatus.Finished, (await FinalAsync(Enable("e1", "1.0.0", "constant-detector"))).ActionStatus);

        var report = await h.Recorder.WaitForExtensionAsync("perception", p => p.GetProperty("detections").GetArrayLength() == 1);
        Assert.Equal("constant-detector", report.GetProperty("modelName").GetString());
        Assert.Equal("1.0.0", report.GetProperty("modelVersion").GetString());
        Assert.True(report.GetProperty("latencyMs").GetDouble() > 0);
        var detection = report.GetProperty("detections")[0];
        Assert.Equal("cart", detection.GetProperty("class").GetString());
        Assert.Equal(0.9, detection.GetProperty("score").GetDouble(), 3);
        Assert.Equal(2, detection.GetProperty("x").GetDouble(), 0.1);
        Assert.Equal(0.5, detection.GetProperty("y").GetDouble(), 0.1);

        var status = await h.Recorder.WaitForExtensionAsync("modelStatus", s => s.GetProperty("inference").ValueKind == JsonValueKind.Object
            && s.GetProperty("inference").GetProperty("runs").GetInt64() > 0, 15);
        Assert.True(status.GetProperty("inference").GetProperty("p95LatencyMs").GetDouble() > 0);
        Assert.Equal(0, status.GetProperty("inference").GetProperty("errors").GetInt64());
    }

    private sealed record Package(string Name, string Version, Uri ModelLink, Uri ManifestLink, string ModelSha256, string ManifestSha256, string Signature)
    {
        public string ModelPath => ModelLink.AbsolutePath.TrimStart('/');
    }

    /// <summary>Puts a model package on the HTTP server as a registry would: hashes of both files, signed digest.</summary>
    private Package Publish(string version, byte[]? model = null, ModelManifest? manifest = null, ECDsa? signer = null, string name = Name)
    {
        model ??= TestModels.Classifier();
        var manifestBytes = Encoding.UTF8.GetBytes(ModelManifestJson.Serialize(manifest ?? TestModels.ClassifierManifest(version: version)));
        var digest = ModelDigest.Of(name, version, model, manifestBytes);
        var id = Guid.NewGuid().ToString("N");
        return new Package(
            name,
            version,
            http.Add($"{id}/model.onnx", model),
            http.Add($"{id}/manifest.json", manifestBytes),
            digest.ModelSha256,
            digest.ManifestSha256,
            ModelSigning.Sign(digest, signer ?? key));
    }

    private static VdaAction Download(string id, Package p) => Action("downloadModel", id,
        ("modelName", p.Name), ("modelVersion", p.Version), ("modelLink", p.ModelLink.ToString()), ("manifestLink", p.ManifestLink.ToString()),
        ("modelSha256", p.ModelSha256), ("manifestSha256", p.ManifestSha256), ("signature", p.Signature));

    private static VdaAction Enable(string id, string version, string name = Name) => Action("enableModel", id, ("modelName", name), ("modelVersion", version));

    private static VdaAction Delete(string id, string version) => Action("deleteModel", id, ("modelName", Name), ("modelVersion", version));

    private static VdaAction Action(string type, string id, params (string Key, string Value)[] parameters) => new()
    {
        ActionType = type,
        ActionId = id,
        BlockingType = BlockingType.None,
        ActionParameters = [.. parameters.Select(p => new ActionParameter(p.Key, JsonSerializer.SerializeToElement(p.Value)))],
    };

    /// <summary>Sends one instant action and waits for its final state in a published VDA state.</summary>
    private async Task<ActionState> FinalAsync(VdaAction action)
    {
        await h.SendInstantAsync(action);
        var state = await h.WaitForStateAsync(s => s.ActionStates.Any(a => a.ActionId == action.ActionId && a.ActionStatus is ActionStatus.Finished or ActionStatus.Failed), 20);
        return state.ActionStates.Single(a => a.ActionId == action.ActionId);
    }

    private static string Models(JsonElement status) => string.Join(", ", status.GetProperty("models").EnumerateArray()
        .Select(m => $"{m.GetProperty("name").GetString()} {m.GetProperty("version").GetString()} {m.GetProperty("state").GetString()}"));

    private static async Task WaitUntilAsync(Func<bool> condition, double seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(20);
        }
    }
}
