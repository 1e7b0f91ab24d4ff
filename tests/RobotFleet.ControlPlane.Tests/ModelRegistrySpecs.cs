using System.Security.Cryptography;
using RobotFleet.ControlPlane.Models;
using RobotFleet.Perception;
using RobotFleet.TestSupport;

namespace RobotFleet.ControlPlane.Tests;

/// <summary>The model registry: acceptance checks in order, immutable content-addressed versions, signatures, restarts.</summary>
public sealed class ModelRegistrySpecs : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), $"robotfleet-models-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dataDir))
            Directory.Delete(_dataDir, recursive: true);
    }

    private static async Task<ModelUploadResult> Upload(ModelRegistry registry, byte[] model, byte[] manifest, string? signature = null) =>
        await registry.UploadAsync(model, manifest, signature);

    private static void AssertRejected(ModelUploadResult result, ModelRejection rejection, string field, params string[] inMessage)
    {
        Assert.Equal(ModelUploadStatus.Rejected, result.Status);
        Assert.Equal(rejection, result.Rejection);
        Assert.Equal(field, result.Field);
        Assert.Null(result.Model);
        foreach (var part in inMessage)
            Assert.Contains(part, result.Message);
    }

    [Fact]
    public async Task An_accepted_model_is_stored_by_its_sha256_and_signed_with_the_fleet_key()
    {
        using var registry = new ModelRegistry(new ModelRegistryOptions());
        var manifest = ModelPackages.ClassifierManifest();

        var result = await Upload(registry, ModelPackages.Classifier, manifest);

        Assert.Equal(ModelUploadStatus.Created, result.Status);
        var entry = result.Model!;
        Assert.Equal(("colour-classifier", "1.0.0", "classification"), (entry.Name, entry.Version, entry.Task));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(ModelPackages.Classifier)), entry.Sha256);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(manifest)), entry.ManifestSha256);
        Assert.Equal(ModelPackages.Classifier.Length, entry.Size);
        Assert.Equal("image float32 [batch, 3, 8, 8]", entry.Input);
        using var fleetKey = ModelSigning.ImportPublicKeyPem(registry.SigningPublicKeyPem);
        Assert.True(ModelSigning.Verify(ModelDigest.Of(entry.Name, entry.Version, ModelPackages.Classifier, manifest), entry.Signature, [fleetKey]));
        using var blob = registry.OpenBlob(entry.Sha256)!;
        using var copy = new MemoryStream();
        blob.CopyTo(copy);
        Assert.Equal(ModelPackages.Classifier, copy.ToArray());
        Assert.Same(entry, registry.Find("colour-classifier", "1.0.0"));
        Assert.Single(registry.List());
    }

    // ------------------------------------------------------------------ the checks, in the order

    [Fact]
    public async Task A_git_lfs_pointer_is_rejected_first_even_with_a_broken_manifest()
    {
        using var registry = new ModelRegistry(new ModelRegistryOptions());
        AssertRejected(await Upload(registry, ModelPackages.LfsPointer, "{ not json"u8.ToArray()), ModelRejection.NotOnnx, "model",
            "Git LFS pointer, not an ONNX model", "git lfs pull");
    }

    [Fact]
    public async Task A_truncated_model_is_rejected_before_the_manifest_is_read()
    {
        using var registry = new ModelRegistry(new ModelRegistryOptions());
        var result = await Upload(registry, ModelPackages.Truncated, "{ not json"u8.ToArray());
        AssertRejected(result, ModelRejection.Corrupt, "model", "truncated ONNX file");
        Assert.Equal(ModelProblem.Truncated, result.Problem);
    }

    [Fact]
    public async Task A_model_whose_sha256_is_not_the_uploaders_is_rejected_as_corrupt()
    {
        using var registry = new ModelRegistry(new ModelRegistryOptions());
        var manifest = ModelPackages.ClassifierManifest();
        var sha = ModelDigest.Sha256Hex(ModelPackages.Classifier);

        AssertRejected(await registry.UploadAsync(ModelPackages.ClassifierOtherBytes, manifest, null, sha), ModelRejection.Corrupt, "sha256",
            $"but the uploader's file has sha256 {sha}: changed or cut in transit");
        Assert.Equal(ModelUploadStatus.Created, (await registry.UploadAsync(ModelPackages.Classifier, manifest, null, sha.ToUpperInvariant())).Status);
    }

    [Fact]
    public async Task An_invalid_manifest_names_its_field()
    {
        using var registry = new ModelRegistry(new ModelRegistryOptions());
        var manifest = System.Text.Encoding.UTF8.GetString(ModelPackages.ClassifierManifest()).Replace("\"NCHW\"", "\"CHWN\"");
        AssertRejected(await Upload(registry, ModelPackages.Classifier, System.Text.Encoding.UTF8.GetBytes(manifest)), ModelRejection.ManifestInvalid,
            "manifest.preprocessing.layout", "manifest field 'preprocessing.layout'");
        AssertRejected(await Upload(registry, ModelPackages.Classifier, "{ not json"u8.ToArray()), ModelRejection.ManifestInvalid, "manifest", "not valid JSON");
    }

    [Fact]
    public async Task A_wrong_input_name_is_rejected()
    {
        using var registry = new ModelRegistry(new ModelRegistryOptions());
        var result = await Upload(registry, ModelPackages.Classifier, ModelPackages.ClassifierManifest(inputName: "images"));
        AssertRejected(result, ModelRejection.Contract, "model", "input name mismatch", "'images'");
        Assert.Equal(ModelProblem.InputNameMismatch, result.Problem);
    }

    [Fact]
    public async Task A_wrong_input_element_type_is_rejected()
    {
        using var registry = new ModelRegistry(new ModelRegistryOptions());
        var result = await Upload(registry, ModelPackages.Classifier, ModelPackages.ClassifierManifest(elementType: InputElementType.UInt8));
        AssertRejected(result, ModelRejection.Contract, "model", "input element type mismatch", "the manifest says uint8");
        Assert.Equal(ModelProblem.InputTypeMismatch, result.Problem);
    }

    [Fact]
    public async Task A_failing_dry_run_is_rejected()
    {
        using var registry = new ModelRegistry(new ModelRegistryOptions());
        AssertRejected(await Upload(registry, ModelPackages.FailsDryRun, ModelPackages.FailsDryRunManifest), ModelRejection.DryRun, "model",
            "dry run on a zero input [1, 3, 8, 8] failed");
        Assert.Empty(registry.List());
    }

    // ------------------------------------------------------------------ immutable versions

    [Fact]
    public async Task The_same_version_with_the_same_bytes_is_idempotent()
    {
        using var registry = new ModelRegistry(new ModelRegistryOptions());
        var first = await Upload(registry, ModelPackages.Classifier, ModelPackages.ClassifierManifest());
        var again = await Upload(registry, ModelPackages.Classifier, ModelPackages.ClassifierManifest());

        Assert.Equal(ModelUploadStatus.Unchanged, again.Status);
        Assert.Same(first.Model, again.Model);
        Assert.Single(registry.List());
    }

    [Fact]
    public async Task The_same_version_with_other_bytes_is_a_conflict_that_names_it()
    {
        using var registry = new ModelRegistry(new ModelRegistryOptions());
        await Upload(registry, ModelPackages.Classifier, ModelPackages.ClassifierManifest());

        AssertRejected(await Upload(registry, ModelPackages.ClassifierOtherBytes, ModelPackages.ClassifierManifest()), ModelRejection.VersionConflict,
            "manifest.version", "model colour-classifier@1.0.0 already exists with other bytes (model sha256", "versions are immutable");
        AssertRejected(await Upload(registry, ModelPackages.Classifier, ModelPackages.ClassifierManifest(budgetMs: 50)), ModelRejection.VersionConflict,
            "manifest.version", "already exists with other bytes (manifest sha256");
        var other = await Upload(registry, ModelPackages.ClassifierOtherBytes, ModelPackages.ClassifierManifest(version: "1.0.1"));
        Assert.Equal(ModelUploadStatus.Created, other.Status);
        Assert.Equal(["1.0.0", "1.0.1"], registry.List().Select(e => e.Version));
    }

    [Fact]
    public async Task Concurrent_uploads_of_one_version_store_exactly_one_of_them()
    {
        using var registry = new ModelRegistry(new ModelRegistryOptions { DataDirectory = _dataDir });
        var manifest = ModelPackages.ClassifierManifest();
        var uploads = Enumerable.Range(0, 8)
            .Select(i => Task.Run(() => registry.UploadAsync(i % 2 == 0 ? ModelPackages.Classifier : ModelPackages.ClassifierOtherBytes, manifest, null)))
            .ToArray();
        var results = await Task.WhenAll(uploads);

        var created = Assert.Single(results, r => r.Status == ModelUploadStatus.Created).Model!;
        Assert.All(results.Where(r => r.Status != ModelUploadStatus.Created), r =>
            Assert.True(r.Model?.Sha256 == created.Sha256 ? r.Status == ModelUploadStatus.Unchanged : r.Rejection == ModelRejection.VersionConflict));
        Assert.Equal(4, results.Count(r => r.Accepted));
    }

    // ------------------------------------------------------------------ technicians' signatures

    private static string SignAs(ECDsa key, byte[] model, byte[] manifest, string version = "1.0.0") =>
        ModelSigning.Sign(ModelDigest.Of("colour-classifier", version, model, manifest), key);

    [Fact]
    public async Task A_required_signature_must_be_there_and_verify()
    {
        using var technician = ModelSigning.CreateKey();
        using var stranger = ModelSigning.CreateKey();
        using var registry = new ModelRegistry(new ModelRegistryOptions
        {
            RequireUploadSignature = true,
            TrustedUploadKeys = [ModelSigning.ExportPublicKeyPem(technician)],
        });
        var manifest = ModelPackages.ClassifierManifest();

        AssertRejected(await Upload(registry, ModelPackages.Classifier, manifest), ModelRejection.SignatureMissing, "signature",
            "requires a technician's signature");
        AssertRejected(await Upload(registry, ModelPackages.Classifier, manifest, SignAs(stranger, ModelPackages.Classifier, manifest)),
            ModelRejection.SignatureInvalid, "signature", "does not verify with any trusted upload key");
        // Signed, then the model was swapped: the signature no longer covers the bytes.
        AssertRejected(await Upload(registry, ModelPackages.ClassifierOtherBytes, manifest, SignAs(technician, ModelPackages.Classifier, manifest)),
            ModelRejection.SignatureInvalid, "signature", "the files were changed after signing");
        AssertRejected(await Upload(registry, ModelPackages.Classifier, manifest, "not base64!"), ModelRejection.SignatureInvalid, "signature");

        var signature = SignAs(technician, ModelPackages.Classifier, manifest);
        var accepted = await Upload(registry, ModelPackages.Classifier, manifest, signature);
        Assert.Equal(ModelUploadStatus.Created, accepted.Status);
        Assert.Equal(signature, accepted.Model!.UploadSignature);
    }

    [Fact]
    public async Task An_optional_signature_is_still_verified_when_present()
    {
        using var technician = ModelSigning.CreateKey();
        using var registry = new ModelRegistry(new ModelRegistryOptions { TrustedUploadKeys = [ModelSigning.ExportPublicKeyPem(technician)] });
        var manifest = ModelPackages.ClassifierManifest();

        AssertRejected(await Upload(registry, ModelPackages.Classifier, manifest, SignAs(technician, ModelPackages.Classifier, manifest, version: "9.9.9")),
            ModelRejection.SignatureInvalid, "signature");
        Assert.Equal(ModelUploadStatus.Created, (await Upload(registry, ModelPackages.Classifier, manifest)).Status);
    }

    // ------------------------------------------------------------------ durability

    [Fact]
    public async Task The_registry_and_its_signing_key_survive_a_restart()
    {
        var manifest = ModelPackages.ClassifierManifest();
        ModelEntry stored;
        string publicKey;
        using (var registry = new ModelRegistry(new ModelRegistryOptions { DataDirectory = _dataDir }))
        {
            stored = (await Upload(registry, ModelPackages.Classifier, manifest)).Model!;
            publicKey = registry.SigningPublicKeyPem;
        }

        var keyFile = Path.Combine(_dataDir, "keys", "fleet-model-signing.pem");
        Assert.Contains("PRIVATE KEY", File.ReadAllText(keyFile));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        Assert.Equal(ModelPackages.Classifier, File.ReadAllBytes(Path.Combine(_dataDir, "models", "sha256", stored.Sha256)));
        Assert.Equal(manifest, File.ReadAllBytes(Path.Combine(_dataDir, "models", "sha256", stored.ManifestSha256)));

        using (var reopened = new ModelRegistry(new ModelRegistryOptions { DataDirectory = _dataDir }))
        {
            Assert.Equal(publicKey, reopened.SigningPublicKeyPem);
            Assert.Equal(stored, reopened.Find("colour-classifier", "1.0.0"));
            Assert.Equal(ModelUploadStatus.Unchanged, (await Upload(reopened, ModelPackages.Classifier, manifest)).Status);
            Assert.Equal(ModelRejection.VersionConflict, (await Upload(reopened, ModelPackages.ClassifierOtherBytes, manifest)).Rejection);
            using var fleetKey = ModelSigning.ImportPublicKeyPem(reopened.SigningPublicKeyPem);
            Assert.True(ModelSigning.Verify(stored.Digest, stored.Signature, [fleetKey]));
        }
    }

    [Fact]
    public async Task A_configured_signing_key_is_used_and_a_public_one_is_refused()
    {
        using var fleet = ModelSigning.CreateKey();
        using var registry = new ModelRegistry(new ModelRegistryOptions { SigningKeyPem = fleet.ExportPkcs8PrivateKeyPem(), DataDirectory = _dataDir });
        Assert.Equal(ModelSigning.ExportPublicKeyPem(fleet), registry.SigningPublicKeyPem);
        var entry = (await Upload(registry, ModelPackages.Classifier, ModelPackages.ClassifierManifest())).Model!;
        Assert.True(ModelSigning.Verify(entry.Digest, entry.Signature, [fleet]));
        Assert.False(File.Exists(Path.Combine(_dataDir, "keys", "fleet-model-signing.pem")));

        var e = Assert.Throws<InvalidOperationException>(() => new ModelRegistry(new ModelRegistryOptions { SigningKeyPem = ModelSigning.ExportPublicKeyPem(fleet) }));
        Assert.Contains("public key", e.Message);
    }
}
