using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MQTTnet;
using Onnx;
using RobotFleet.Perception;
using RobotFleet.Perception.Tests;
using RobotFleet.TestSupport;
using Xunit.Abstractions;

namespace RobotFleet.Server.Tests;

/// <summary>
/// Issue 4's registry acceptance, end to end against an in-process server with a data directory, 3 simulated robots and
/// signatures verified (a trusted technician key): the real ResNet18 (NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18,
/// read from the NuGet cache) with a correct manifest is accepted; a Git LFS pointer, the model cut in half, a wrong input
/// name, a float64 input where float32 is declared, a sha256 that does not match and a signature by an unknown key are each
/// refused with a message naming the problem; and afterwards the registry, its blob directory and every robot (its own
/// retained <c>modelStatus</c>, its VDA 5050 action states and its model directory) are as they were.
/// </summary>
public sealed class When_a_technician_uploads_resnet18(ITestOutputHelper output) : IDisposable
{
    private const string Name = "resnet18-features";
    private const string Good = "0.23.1";
    private const string Bad = "0.23.2"; // every refused upload names this version, so a leak would show in the registry
    private static readonly string[] Serials = ["sim-1", "sim-2", "sim-3"];

    private readonly string _data = Directory.CreateTempSubdirectory("robotfleet-resnet18-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    [Fact]
    public async Task ResNet18_is_accepted_and_every_bad_upload_is_refused_by_name_leaving_registry_and_robots_unchanged()
    {
        var resnet = await File.ReadAllBytesAsync(ResNet18Package.ModelFile());
        var manifest = Encoding.UTF8.GetBytes(ResNet18Package.Manifest);
        using var technician = ModelSigning.CreateKey();
        using var stranger = ModelSigning.CreateKey();
        var keyFile = Path.Combine(_data, "technician.pub.pem");
        await File.WriteAllTextAsync(keyFile, ModelSigning.ExportPublicKeyPem(technician));

        await using var server = await ServerHost.StartAsync(new ServerOptions
        {
            Robots = Serials.Length,
            PerceptionRate = 0,
            SimulatedModelStatusInterval = TimeSpan.FromSeconds(1),
            DataDirectory = Path.Combine(_data, "server"),
            RequireModelSignature = true,
            TrustedModelKeyFiles = [keyFile],
        });
        await using var robots = await RobotModelReports.StartAsync(server.MqttPort, "resnet18-robot-reports");
        Assert.True(await ServerHost.WaitUntilAsync(() => Task.FromResult(Serials.All(s => robots.Reports(s) > 0)), TimeSpan.FromSeconds(20)),
            $"every robot reports its models: {robots.Describe()}");

        // 1. The real ResNet18 with a correct manifest, signed by the trusted technician: 201.
        var watch = Stopwatch.StartNew();
        var (status, created) = await Post(server, Form(resnet, manifest, Sign(Good, resnet, manifest, technician), Sha(resnet)));
        watch.Stop();
        Assert.True(status == HttpStatusCode.Created, created.ToString());
        Assert.Equal(Sha(resnet), created.GetProperty("sha256").GetString());
        output.WriteLine($"ResNet18.onnx ({resnet.Length:N0} bytes) uploaded, checked (format, contract, dry run, signature) and stored in {watch.Elapsed.TotalMilliseconds:F0} ms");

        // 2. Each bad upload: 422, with a message naming the problem. All are signed by the technician unless the signature is the problem.
        var badManifest = WithVersion(ResNet18Package.Manifest, Bad);
        var pointer = Encoding.ASCII.GetBytes($"version https://git-lfs.github.com/spec/v1\noid sha256:{Sha(resnet)}\nsize {resnet.Length}\n");
        await AssertRefused(server, Form(pointer, badManifest, Sign(Bad, pointer, badManifest, technician)),
            "model", "NotOnnx", "GitLfsPointer", "Git LFS pointer, not an ONNX model", "git lfs pull");

        var half = resnet[..(resnet.Length / 2)];
        await AssertRefused(server, Form(half, badManifest, Sign(Bad, half, badManifest, technician)),
            "model", "Corrupt", "Truncated", "truncated ONNX file", "interrupted download or upload");

        var wrongName = Encoding.UTF8.GetBytes(ResNet18Package.Manifest.Replace("\"version\": \"0.23.1\"", $"\"version\": \"{Bad}\"", StringComparison.Ordinal)
            .Replace("\"Input247\"", "\"data\"", StringComparison.Ordinal));
        await AssertRefused(server, Form(resnet, wrongName, Sign(Bad, resnet, wrongName, technician)),
            "model", "Contract", "InputNameMismatch", "input name mismatch: the manifest names input 'data'", "'Input247' float32 [1, 3, 224, 224]");

        var float64 = Float64Classifier();
        var float32Manifest = ModelPackages.ClassifierManifest(version: Bad, elementType: InputElementType.Float32);
        await AssertRefused(server, Form(float64, float32Manifest, Sign(Bad, float64, float32Manifest, technician, "colour-classifier")),
            "model", "Contract", "InputTypeMismatch", "input element type mismatch", "model input 'image' is float64 [1, 3, 8, 8]", "the manifest says float32");

        // One byte changed in transit (inside the weights, so still well-formed ONNX): only the uploader's sha256 sees it.
        var flipped = (byte[])resnet.Clone();
        flipped[flipped.Length / 2] ^= 0x01;
        await AssertRefused(server, Form(flipped, badManifest, Sign(Bad, flipped, badManifest, technician), Sha(resnet)),
            "sha256", "Corrupt", null, $"the model arrived with sha256 {Sha(flipped)}", $"the uploader's file has sha256 {Sha(resnet)}", "changed or cut in transit");

        await AssertRefused(server, Form(resnet, badManifest, Sign(Bad, resnet, badManifest, stranger), Sha(resnet)),
            "signature", "SignatureInvalid", null, $"model {Name}@{Bad}", "does not verify with any trusted upload key");

        // 3. The registry holds exactly the accepted model ...
        var listed = Assert.Single((await server.GetJsonAsync("/api/models")).EnumerateArray());
        Assert.Equal(Name, listed.GetProperty("name").GetString());
        Assert.Equal(Good, listed.GetProperty("version").GetString());
        Assert.Equal(Sha(resnet), listed.GetProperty("sha256").GetString());
        Assert.Equal(Sha(manifest), listed.GetProperty("manifestSha256").GetString());
        Assert.Equal(resnet, await server.Http.GetByteArrayAsync($"/api/models/{Name}/{Good}/model.onnx"));
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync($"/api/models/{Name}/{Bad}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync($"/api/models/colour-classifier/{Bad}")).StatusCode);

        // ... its blob directory exactly the accepted model's and manifest's bytes: no leftovers, no temporary files.
        var models = Path.Combine(_data, "server", "models");
        var blobs = Directory.GetFiles(Path.Combine(models, "sha256")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(new[] { Sha(resnet), Sha(manifest) }.Order(StringComparer.Ordinal), blobs);
        Assert.Empty(Directory.GetFiles(models, "*.tmp", SearchOption.AllDirectories));

        // ... and no robot received anything: no rollout, a fresh modelStatus from each robot still lists no model, no model
        // action ever reached a robot, and no robot's model directory holds a file.
        Assert.Empty((await server.GetJsonAsync("/api/rollouts")).EnumerateArray());
        var seen = Serials.ToDictionary(s => s, robots.Reports);
        Assert.True(await ServerHost.WaitUntilAsync(() => Task.FromResult(Serials.All(s => robots.Reports(s) > seen[s])), TimeSpan.FromSeconds(10)),
            $"every robot reports again: {robots.Describe()}");
        foreach (var serial in Serials)
        {
            Assert.True(robots.EverHeldAModel(serial) is null, $"{serial}: {robots.EverHeldAModel(serial)}");
            Assert.Empty(robots.ModelActions(serial));
        }
        Assert.Empty(Directory.GetFiles(Path.Combine(_data, "server", "simulated-robots"), "*", SearchOption.AllDirectories));
    }

    private static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static byte[] WithVersion(string manifest, string version) =>
        Encoding.UTF8.GetBytes(manifest.Replace($"\"version\": \"{Good}\"", $"\"version\": \"{version}\"", StringComparison.Ordinal));

    private static string Sign(string version, byte[] model, byte[] manifest, ECDsa key, string name = Name) =>
        ModelSigning.Sign(ModelDigest.Of(name, version, model, manifest), key);

    /// <summary>The 8 x 8 colour classifier with a float64 input (cast to float32 inside the graph).</summary>
    private static byte[] Float64Classifier()
    {
        var g = new GraphProto { Name = "colour_classifier_float64" };
        g.Input.Add(TestModels.Value("image", TensorProto.Types.DataType.Double, 1, 3, 8, 8));
        g.Node.Add(TestModels.Node("Cast", ["image"], ["as_float"], TestModels.Int("to", (long)TestModels.F32)));
        g.Node.Add(TestModels.Node("GlobalAveragePool", ["as_float"], ["pooled"]));
        g.Node.Add(TestModels.Node("Flatten", ["pooled"], ["flat"], TestModels.Int("axis", 1)));
        g.Initializer.Add(TestModels.Floats("w", [3, 4], 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0));
        g.Initializer.Add(TestModels.Floats("b", [4], 0, 0, 0, 0.5f));
        g.Node.Add(TestModels.Node("MatMul", ["flat", "w"], ["mm"]));
        g.Node.Add(TestModels.Node("Add", ["mm", "b"], ["logits"]));
        g.Output.Add(TestModels.Value("logits", TestModels.F32, 1, 4));
        return TestModels.Model(g);
    }

    private static MultipartFormDataContent Form(byte[] model, byte[] manifest, string signature, string? sha256 = null)
    {
        var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(model), "model", "model.onnx" },
            { new ByteArrayContent(manifest), "manifest", "manifest.json" },
            { new StringContent(signature), "signature" },
        };
        if (sha256 is not null)
            form.Add(new StringContent(sha256), "sha256");
        return form;
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> Post(ServerHost server, MultipartFormDataContent form)
    {
        using (form)
        {
            using var response = await server.Http.PostAsync("/api/models", form);
            return (response.StatusCode, JsonSerializer.Deserialize<JsonElement>(await response.Content.ReadAsStringAsync()));
        }
    }

    private async Task AssertRefused(ServerHost server, MultipartFormDataContent form, string field, string rejection, string? problem, params string[] inMessage)
    {
        var (status, body) = await Post(server, form);
        Assert.True(status == HttpStatusCode.UnprocessableEntity, $"{(int)status}: {body}");
        var error = body.GetProperty("error").GetString()!;
        output.WriteLine($"{rejection}/{problem ?? "-"} ({field}): {error}");
        foreach (var part in inMessage)
            Assert.Contains(part, error, StringComparison.Ordinal);
        Assert.Equal(field, body.GetProperty("field").GetString());
        Assert.Equal(rejection, body.GetProperty("rejection").GetString());
        Assert.Equal(problem, body.TryGetProperty("problem", out var p) ? p.GetString() : null);
    }
}
