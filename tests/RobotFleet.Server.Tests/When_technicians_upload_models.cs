using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using RobotFleet.Cli;
using RobotFleet.Perception;
using RobotFleet.Perception.Tests;
using RobotFleet.TestSupport;

namespace RobotFleet.Server.Tests;

/// <summary>
/// The model registry over HTTP (<c>/api/models</c>) and the CLI: uploads are checked in order and refused with a message
/// that names the problem, versions are immutable, the fleet signs every model and serves its public key, signatures of
/// technicians are verified, and the registry survives a restart.
/// </summary>
public sealed class When_technicians_upload_models : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("robotfleet-models-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static ServerOptions Options(string? dataDir = null) => new() { NoSimulation = true, Robots = 0, DataDirectory = dataDir };

    private static MultipartFormDataContent Form(byte[]? model, byte[]? manifest, string? signature = null)
    {
        var form = new MultipartFormDataContent();
        if (model is not null)
            form.Add(new ByteArrayContent(model), "model", "model.onnx");
        if (manifest is not null)
            form.Add(new ByteArrayContent(manifest), "manifest", "manifest.json");
        if (signature is not null)
            form.Add(new StringContent(signature), "signature");
        return form;
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> Post(ServerHost server, HttpContent content)
    {
        using var response = await server.Http.PostAsync("/api/models", content);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonSerializer.Deserialize<JsonElement>(text));
    }

    private static async Task AssertRefused(ServerHost server, HttpContent content, HttpStatusCode status, string? field, params string[] inMessage)
    {
        var (code, body) = await Post(server, content);
        Assert.Equal(status, code);
        var error = body.GetProperty("error").GetString()!;
        foreach (var part in inMessage)
            Assert.Contains(part, error);
        Assert.Equal(field, body.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Should_store_sign_and_serve_an_accepted_model()
    {
        await using var server = await ServerHost.StartAsync(Options());
        var manifest = ModelPackages.ClassifierManifest();

        var (status, created) = await Post(server, Form(ModelPackages.Classifier, manifest));

        Assert.Equal(HttpStatusCode.Created, status);
        var sha = Convert.ToHexStringLower(SHA256.HashData(ModelPackages.Classifier));
        Assert.Equal("colour-classifier", created.GetProperty("name").GetString());
        Assert.Equal("1.0.0", created.GetProperty("version").GetString());
        Assert.Equal("classification", created.GetProperty("task").GetString());
        Assert.Equal(sha, created.GetProperty("sha256").GetString());
        Assert.Equal(ModelPackages.Classifier.Length, created.GetProperty("size").GetInt64());
        Assert.Equal("/api/models/colour-classifier/1.0.0/model.onnx", created.GetProperty("modelUrl").GetString());

        var listed = Assert.Single((await server.GetJsonAsync("/api/models")).EnumerateArray());
        Assert.Equal(sha, listed.GetProperty("sha256").GetString());
        var meta = await server.GetJsonAsync("/api/models/colour-classifier/1.0.0");
        Assert.Equal(created.GetProperty("signature").GetString(), meta.GetProperty("signature").GetString());

        // The stored signature verifies with the served public key.
        using var fleetKey = ModelSigning.ImportPublicKeyPem(await server.Http.GetStringAsync("/api/models/signing-key"));
        Assert.True(ModelSigning.Verify(ModelDigest.Of("colour-classifier", "1.0.0", ModelPackages.Classifier, manifest), meta.GetProperty("signature").GetString(), [fleetKey]));

        using var download = await server.Http.GetAsync("/api/models/colour-classifier/1.0.0/model.onnx");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal($"\"{sha}\"", download.Headers.ETag?.Tag);
        Assert.Equal(ModelPackages.Classifier, await download.Content.ReadAsByteArrayAsync());
        using var conditional = new HttpRequestMessage(HttpMethod.Get, "/api/models/colour-classifier/1.0.0/model.onnx");
        conditional.Headers.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{sha}\""));
        using var notModified = await server.Http.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(manifest, await server.Http.GetByteArrayAsync("/api/models/colour-classifier/1.0.0/manifest.json"));

        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync("/api/models/colour-classifier/9.9.9")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync("/api/models/nope/1.0.0/model.onnx")).StatusCode);
    }

    [Fact]
    public async Task Should_refuse_bad_models_in_order_with_a_message_naming_the_problem()
    {
        await using var server = await ServerHost.StartAsync(Options());
        var brokenManifest = "{ not json"u8.ToArray();

        // 1. not ONNX at all (checked before the manifest is even read)
        await AssertRefused(server, Form(ModelPackages.LfsPointer, brokenManifest), HttpStatusCode.UnprocessableEntity, "model",
            "Git LFS pointer, not an ONNX model", "git lfs pull");
        // 2. truncated protobuf
        await AssertRefused(server, Form(ModelPackages.Truncated, brokenManifest), HttpStatusCode.UnprocessableEntity, "model", "truncated ONNX file");
        // ... or cut where the bytes cannot show it: the client's sha256 tells
        var wrongSha = Form(ModelPackages.Classifier, ModelPackages.ClassifierManifest());
        wrongSha.Add(new StringContent(new string('0', 64)), "sha256");
        await AssertRefused(server, wrongSha, HttpStatusCode.UnprocessableEntity, "sha256", "changed or cut in transit");
        // the manifest
        await AssertRefused(server, Form(ModelPackages.Classifier, brokenManifest), HttpStatusCode.UnprocessableEntity, "manifest", "not valid JSON");
        // 3. input name and element type
        await AssertRefused(server, Form(ModelPackages.Classifier, ModelPackages.ClassifierManifest(inputName: "images")), HttpStatusCode.UnprocessableEntity,
            "model", "input name mismatch: the manifest names input 'images'");
        await AssertRefused(server, Form(ModelPackages.Classifier, ModelPackages.ClassifierManifest(elementType: InputElementType.UInt8)),
            HttpStatusCode.UnprocessableEntity, "model", "input element type mismatch", "the manifest says uint8");
        // 4. dry run
        var (status, body) = await Post(server, Form(ModelPackages.FailsDryRun, ModelPackages.FailsDryRunManifest));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Contains("dry run on a zero input [1, 3, 8, 8] failed", body.GetProperty("error").GetString());
        Assert.Equal("DryRun", body.GetProperty("rejection").GetString());
        Assert.Equal("DryRunFailed", body.GetProperty("problem").GetString());

        Assert.Empty((await server.GetJsonAsync("/api/models")).EnumerateArray());
    }

    [Fact]
    public async Task Should_refuse_malformed_requests_with_400_and_oversized_ones_with_413()
    {
        await using (var server = await ServerHost.StartAsync(Options()))
        {
            await AssertRefused(server, JsonContent.Create(new { model = "x" }), HttpStatusCode.BadRequest, null, "multipart/form-data", "'application/json");
            await AssertRefused(server, Form(null, ModelPackages.ClassifierManifest()), HttpStatusCode.BadRequest, "model", "missing field 'model'");
            await AssertRefused(server, Form(ModelPackages.Classifier, null), HttpStatusCode.BadRequest, "manifest", "missing field 'manifest'");
            var broken = new ByteArrayContent("--xyz\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nabc"u8.ToArray());
            broken.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=xyz");
            await AssertRefused(server, broken, HttpStatusCode.BadRequest, null, "malformed multipart/form-data body");
        }

        await using (var small = await ServerHost.StartAsync(Options() with { ModelUploadLimit = 100 }))
        {
            await AssertRefused(small, Form(ModelPackages.Classifier, ModelPackages.ClassifierManifest()), HttpStatusCode.RequestEntityTooLarge, "model",
                "larger than this server's model size limit of 100 bytes");
        }
    }

    [Fact]
    public async Task Should_accept_a_model_larger_than_the_default_request_limits()
    {
        // ~36 MB: over Kestrel's default request body limit (30 MB); real models (ResNet18) are 45-64 MB.
        var big = TestModels.Classifier(extraWeights: 9_000_000);
        Assert.True(big.Length > 30_000_000);
        await using var server = await ServerHost.StartAsync(Options());

        var (status, body) = await Post(server, Form(big, ModelPackages.ClassifierManifest()));

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(big.Length, body.GetProperty("size").GetInt64());
        Assert.Equal(big, await server.Http.GetByteArrayAsync("/api/models/colour-classifier/1.0.0/model.onnx"));
    }

    [Fact]
    public async Task Should_answer_a_repeated_upload_with_200_and_changed_bytes_with_409()
    {
        await using var server = await ServerHost.StartAsync(Options());
        Assert.Equal(HttpStatusCode.Created, (await Post(server, Form(ModelPackages.Classifier, ModelPackages.ClassifierManifest()))).Status);

        var (again, body) = await Post(server, Form(ModelPackages.Classifier, ModelPackages.ClassifierManifest()));
        Assert.Equal(HttpStatusCode.OK, again);
        Assert.Equal("1.0.0", body.GetProperty("version").GetString());

        await AssertRefused(server, Form(ModelPackages.ClassifierOtherBytes, ModelPackages.ClassifierManifest()), HttpStatusCode.Conflict, "manifest.version",
            "model colour-classifier@1.0.0 already exists with other bytes", "versions are immutable");
    }

    [Fact]
    public async Task Should_require_and_verify_technicians_signatures_when_configured()
    {
        using var technician = ModelSigning.CreateKey();
        var keyFile = Path.Combine(_temp, "tech.pub.pem");
        await File.WriteAllTextAsync(keyFile, ModelSigning.ExportPublicKeyPem(technician));
        await using var server = await ServerHost.StartAsync(Options() with { RequireModelSignature = true, TrustedModelKeyFiles = [keyFile] });
        var manifest = ModelPackages.ClassifierManifest();
        var signature = ModelSigning.Sign(ModelDigest.Of("colour-classifier", "1.0.0", ModelPackages.Classifier, manifest), technician);

        await AssertRefused(server, Form(ModelPackages.Classifier, manifest), HttpStatusCode.UnprocessableEntity, "signature", "requires a technician's signature");
        await AssertRefused(server, Form(ModelPackages.ClassifierOtherBytes, manifest, signature), HttpStatusCode.UnprocessableEntity, "signature",
            "does not verify with any trusted upload key");
        var (status, body) = await Post(server, Form(ModelPackages.Classifier, manifest, signature));
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(signature, body.GetProperty("uploadSignature").GetString());
    }

    [Fact]
    public async Task Should_keep_models_and_the_signing_key_across_a_restart()
    {
        var dataDir = Path.Combine(_temp, "data");
        string key;
        await using (var first = await ServerHost.StartAsync(Options(dataDir), "models-restart-1"))
        {
            Assert.Equal(HttpStatusCode.Created, (await Post(first, Form(ModelPackages.Classifier, ModelPackages.ClassifierManifest()))).Status);
            key = await first.Http.GetStringAsync("/api/models/signing-key");
        }

        await using var second = await ServerHost.StartAsync(Options(dataDir), "models-restart-2");
        Assert.Equal(key, await second.Http.GetStringAsync("/api/models/signing-key"));
        var meta = await second.GetJsonAsync("/api/models/colour-classifier/1.0.0");
        using var fleetKey = ModelSigning.ImportPublicKeyPem(key);
        Assert.True(ModelSigning.Verify(ModelDigest.Of("colour-classifier", "1.0.0", ModelPackages.Classifier, ModelPackages.ClassifierManifest()),
            meta.GetProperty("signature").GetString(), [fleetKey]));
        Assert.Equal(ModelPackages.Classifier, await second.Http.GetByteArrayAsync("/api/models/colour-classifier/1.0.0/model.onnx"));
        Assert.Equal(HttpStatusCode.Conflict, (await Post(second, Form(ModelPackages.ClassifierOtherBytes, ModelPackages.ClassifierManifest()))).Status);
    }

    [Fact]
    public void Should_parse_the_cli_models_commands()
    {
        Assert.Empty(ModelsCommands.Create().Parse("upload --server http://127.0.0.1:5080 --model m.onnx --manifest m.json --signature-key t.pem").Errors);
        Assert.Empty(ModelsCommands.Create().Parse("keygen --out tech").Errors);
        var bad = ModelsCommands.Create().Parse("upload --server 127.0.0.1:5080 --model m.onnx --manifest m.json");
        Assert.Contains(bad.Errors, e => e.Message.Contains("--server must be an http:// or https:// address", StringComparison.Ordinal));
        Assert.Contains(ModelsCommands.Create().Parse("upload --server http://x").Errors, e => e.Message.Contains("--model", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Should_report_the_servers_413_when_the_cli_uploads_a_model_over_the_size_limit()
    {
        await using var server = await ServerHost.StartAsync(Options() with { ModelUploadLimit = 1024 * 1024 });
        var model = Path.Combine(_temp, "big.onnx");
        var manifest = Path.Combine(_temp, "manifest.json");
        await File.WriteAllBytesAsync(model, new byte[8 * 1024 * 1024]); // over the limit and the form allowance (limit + 4 MiB)
        await File.WriteAllBytesAsync(manifest, ModelPackages.ClassifierManifest());

        var output = new StringWriter();
        var error = new StringWriter();
        var code = await ModelsCommands.UploadAsync(server.Http.BaseAddress!, new FileInfo(model), new FileInfo(manifest), null, output, error, null, CancellationToken.None);

        Assert.Equal(1, code);
        Assert.DoesNotContain("cannot reach", error.ToString());
        Assert.Contains("413", error.ToString());
        Assert.Contains("larger than this server's model size limit of 1,048,576 bytes", error.ToString());
    }

    [Fact]
    public async Task Should_upload_signed_models_with_the_cli()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var prefix = Path.Combine(_temp, "keys", "tech");
        Assert.Equal(0, ModelsCommands.Keygen(prefix, output, error));
        Assert.Equal(1, ModelsCommands.Keygen(prefix, output, error));
        Assert.Contains("exists; not overwriting", error.ToString());
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(prefix + ".pem"));

        await using var server = await ServerHost.StartAsync(Options() with { RequireModelSignature = true, TrustedModelKeyFiles = [prefix + ".pub.pem"] });
        var model = Path.Combine(_temp, "classifier.onnx");
        var manifest = Path.Combine(_temp, "manifest.json");
        var pointer = Path.Combine(_temp, "pointer.onnx");
        await File.WriteAllBytesAsync(model, ModelPackages.Classifier);
        await File.WriteAllBytesAsync(manifest, ModelPackages.ClassifierManifest());
        await File.WriteAllBytesAsync(pointer, ModelPackages.LfsPointer);
        var url = server.Http.BaseAddress!;

        async Task<(int Code, string Out, string Err)> Upload(string modelFile, bool sign)
        {
            var o = new StringWriter();
            var e = new StringWriter();
            var code = await ModelsCommands.UploadAsync(url, new FileInfo(modelFile), new FileInfo(manifest), sign ? new FileInfo(prefix + ".pem") : null, o, e, null, CancellationToken.None);
            return (code, o.ToString(), e.ToString());
        }

        var signed = await Upload(model, sign: true);
        Assert.True(signed.Code == 0, signed.Err);
        Assert.Contains("colour-classifier@1.0.0 stored: sha256 " + Convert.ToHexStringLower(SHA256.HashData(ModelPackages.Classifier)), signed.Out);
        var again = await Upload(model, sign: true);
        Assert.Equal(0, again.Code);
        Assert.Contains("already stored with the same bytes", again.Out);

        var unsigned = await Upload(model, sign: false);
        Assert.Equal(1, unsigned.Code);
        Assert.Contains("422", unsigned.Err);
        Assert.Contains("requires a technician's signature", unsigned.Err);
        var lfs = await Upload(pointer, sign: true);
        Assert.Equal(1, lfs.Code);
        Assert.Contains("Git LFS pointer, not an ONNX model", lfs.Err);

        var meta = await server.GetJsonAsync("/api/models/colour-classifier/1.0.0");
        using var technician = ModelSigning.ImportPublicKeyPem(await File.ReadAllTextAsync(prefix + ".pub.pem"));
        Assert.True(ModelSigning.Verify(ModelDigest.Of("colour-classifier", "1.0.0", ModelPackages.Classifier, ModelPackages.ClassifierManifest()),
            meta.GetProperty("uploadSignature").GetString(), [technician]));

        var unreachable = new StringWriter();
        Assert.Equal(1, await ModelsCommands.UploadAsync(new Uri("http://127.0.0.1:1"), new FileInfo(model), new FileInfo(manifest), null, new StringWriter(), unreachable, null, CancellationToken.None));
        Assert.Contains("cannot reach http://127.0.0.1:1", unreachable.ToString());
    }
}
