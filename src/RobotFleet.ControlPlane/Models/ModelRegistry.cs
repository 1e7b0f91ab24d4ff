using System.Security.Cryptography;
using RobotFleet.Perception;

namespace RobotFleet.ControlPlane.Models;

/// <summary>
/// The control plane's model registry: accepts a model package (<c>.onnx</c> bytes, manifest JSON bytes, optional
/// technician's signature), checks it, and keeps accepted versions immutable and content-addressed by SHA-256, each signed
/// with the fleet's key (<see cref="ModelSigning"/>).
/// </summary>
/// <remarks>
/// Checks run in this order and stop at the first problem: (1) not ONNX at all, (2) truncated or corrupt protobuf — both on
/// the raw bytes, before the manifest is read; then the manifest itself; then ONNX Runtime's load, (3) input and output
/// against the manifest, (4) a dry run (<see cref="ModelInspector"/>); then the technician's signature (verified when
/// present, required when <see cref="ModelRegistryOptions.RequireUploadSignature"/>); then version immutability (the same
/// name and version with the same bytes is an idempotent success, with other bytes a conflict). Blobs are written before
/// the index row, so an entry never points at missing bytes. Thread-safe: checks run concurrently, commits one at a time.
/// </remarks>
public sealed class ModelRegistry : IDisposable
{
    private readonly ModelRegistryOptions _options;
    private readonly TimeProvider _time;
    private readonly ModelStorage _storage;
    private readonly ECDsa _signingKey;
    private readonly ECDsa[] _trustedUploadKeys;
    private readonly SemaphoreSlim _commit = new(1, 1);
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Name, string Version), ModelEntry> _entries = [];

    /// <summary>Opens the registry: loads (or creates) the signing key and the index.</summary>
    /// <param name="options">Where and how; see <see cref="ModelRegistryOptions"/>.</param>
    /// <param name="time">Clock for <see cref="ModelEntry.UploadedAt"/>; null for the system clock.</param>
    /// <exception cref="ArgumentException">A trusted upload key is not a P-256 PEM public key; the message says which one.</exception>
    /// <exception cref="InvalidOperationException">The signing key is unusable (see <see cref="FleetSigningKey.Load"/>).</exception>
    /// <exception cref="IOException">The data directory cannot be read or written.</exception>
    public ModelRegistry(ModelRegistryOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _time = time ?? TimeProvider.System;
        _trustedUploadKeys = options.TrustedUploadKeys.Select((pem, i) =>
        {
            try
            {
                return ModelSigning.ImportPublicKeyPem(pem);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"trusted upload key #{i + 1}: {e.Message}", nameof(options), e);
            }
        }).ToArray();
        _signingKey = FleetSigningKey.Load(options);
        SigningPublicKeyPem = ModelSigning.ExportPublicKeyPem(_signingKey);
        _storage = new ModelStorage(options.ModelsDirectory);
        foreach (var entry in _storage.LoadIndex())
            _entries[(entry.Name, entry.Version)] = entry;
    }

    /// <summary>The fleet's public signing key (PEM SubjectPublicKeyInfo) that agents verify <see cref="ModelEntry.Signature"/> with.</summary>
    public string SigningPublicKeyPem { get; }

    /// <summary>Whether uploads must carry a technician's signature.</summary>
    public bool RequireUploadSignature => _options.RequireUploadSignature;

    /// <summary>Checks and stores a model package.</summary>
    /// <param name="model">The <c>.onnx</c> file's bytes.</param>
    /// <param name="manifest">The manifest JSON bytes; stored and served as given (the digest covers these bytes).</param>
    /// <param name="signature">A technician's signature over the package's <see cref="ModelDigest"/> (base64), or null.</param>
    /// <param name="expectedModelSha256">
    /// The SHA-256 the uploader computed of its <c>.onnx</c> file (hex), or null. A file cut between two protobuf fields is
    /// well-formed, so only this comparison (or a signature) sees it; a mismatch is rejected as <see cref="ModelRejection.Corrupt"/>.
    /// </param>
    /// <param name="cancellationToken">Cancels before the commit.</param>
    /// <returns>Created, unchanged (same bytes already stored) or rejected with the first problem.</returns>
    /// <exception cref="IOException">Storage failed; nothing was added to the index.</exception>
    public async Task<ModelUploadResult> UploadAsync(
        byte[] model, byte[] manifest, string? signature, string? expectedModelSha256 = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(manifest);

        var format = ModelInspector.CheckFormat(model);
        if (!format.Accepted)
            return ModelRejected(format);
        if (!string.IsNullOrWhiteSpace(expectedModelSha256)
            && ModelDigest.Sha256Hex(model) is var actual && !string.Equals(actual, expectedModelSha256.Trim(), StringComparison.OrdinalIgnoreCase))
        {
            return ModelUploadResult.Reject(ModelRejection.Corrupt,
                $"the model arrived with sha256 {actual} ({model.LongLength:N0} bytes), but the uploader's file has sha256 {expectedModelSha256.Trim()}: changed or cut in transit; upload it again",
                "sha256");
        }

        ModelManifest parsed;
        try
        {
            parsed = ModelManifestJson.Parse(manifest);
        }
        catch (ModelManifestException e)
        {
            return ModelUploadResult.Reject(ModelRejection.ManifestInvalid, e.Message, e.Field == "$" ? "manifest" : $"manifest.{e.Field}");
        }

        var check = await Task.Run(() => ModelInspector.Check(model, parsed, _options.DryRunOptions), cancellationToken);
        if (!check.Accepted)
            return ModelRejected(check);

        var digest = ModelDigest.Of(parsed.Name, parsed.Version, model, manifest);
        if (string.IsNullOrWhiteSpace(signature))
        {
            if (_options.RequireUploadSignature)
                return ModelUploadResult.Reject(ModelRejection.SignatureMissing,
                    $"model {parsed.Id}: this registry requires a technician's signature (form field 'signature', ECDSA P-256 over the model digest; 'robotfleet models upload --signature-key')",
                    "signature");
            signature = null;
        }
        else if (_trustedUploadKeys.Length == 0)
        {
            return ModelUploadResult.Reject(ModelRejection.SignatureInvalid,
                $"model {parsed.Id}: the upload is signed, but this registry has no trusted upload keys to verify the signature with", "signature");
        }
        else if (!ModelSigning.Verify(digest, signature, _trustedUploadKeys))
        {
            return ModelUploadResult.Reject(ModelRejection.SignatureInvalid,
                $"model {parsed.Id}: the upload signature does not verify with any trusted upload key (model sha256 {digest.ModelSha256}, manifest sha256 {digest.ManifestSha256}): the files were changed after signing, or signed by an unknown key",
                "signature");
        }

        await _commit.WaitAsync(cancellationToken);
        try
        {
            if (Find(parsed.Name, parsed.Version) is { } existing)
                return Existing(existing, digest);

            _storage.PutBlob(digest.ModelSha256, model);
            _storage.PutBlob(digest.ManifestSha256, manifest);
            var entry = new ModelEntry(
                parsed.Name,
                parsed.Version,
                parsed.Kind.ToString().ToLowerInvariant(),
                digest.ModelSha256,
                digest.ManifestSha256,
                model.LongLength,
                manifest.LongLength,
                ModelSigning.Sign(digest, _signingKey),
                signature?.Trim(),
                _time.GetUtcNow(),
                $"{parsed.Input.Name} {(parsed.Input.ElementType == InputElementType.UInt8 ? "uint8" : "float32")} [{string.Join(", ", parsed.Input.Shape)}]",
                parsed.Output.TensorName);
            if (!_storage.TryInsert(entry))
                throw new IOException($"model registry index already holds {parsed.Id}, which this process did not load; is another control plane writing the same data directory?");
            lock (_gate)
                _entries[(entry.Name, entry.Version)] = entry;
            return new ModelUploadResult(ModelUploadStatus.Created, entry);
        }
        finally
        {
            _commit.Release();
        }
    }

    /// <summary>All stored versions, ordered by name, then upload time.</summary>
    public IReadOnlyList<ModelEntry> List()
    {
        lock (_gate)
            return _entries.Values.OrderBy(e => e.Name, StringComparer.Ordinal).ThenBy(e => e.UploadedAt).ThenBy(e => e.Version, StringComparer.Ordinal).ToList();
    }

    /// <summary>The stored version, or null.</summary>
    public ModelEntry? Find(string name, string version)
    {
        lock (_gate)
            return _entries.GetValueOrDefault((name, version));
    }

    /// <summary>Opens a stored blob (model or manifest bytes) by its SHA-256; null when absent. The caller disposes the stream.</summary>
    /// <param name="sha256">64 lower-case hex digits, as in <see cref="ModelEntry.Sha256"/> or <see cref="ModelEntry.ManifestSha256"/>.</param>
    public Stream? OpenBlob(string sha256)
    {
        ArgumentNullException.ThrowIfNull(sha256);
        if (sha256.Length != 64 || !sha256.All(char.IsAsciiHexDigitLower))
            return null;
        return _storage.OpenBlob(sha256);
    }

    /// <summary>Releases the signing and trusted keys.</summary>
    public void Dispose()
    {
        _signingKey.Dispose();
        foreach (var key in _trustedUploadKeys)
            key.Dispose();
        _commit.Dispose();
    }

    private static ModelUploadResult ModelRejected(ModelCheckResult check)
    {
        var rejection = check.Stage switch
        {
            ModelCheckStage.NotOnnx => ModelRejection.NotOnnx,
            ModelCheckStage.Corrupt => ModelRejection.Corrupt,
            ModelCheckStage.Contract => ModelRejection.Contract,
            _ => ModelRejection.DryRun,
        };
        return ModelUploadResult.Reject(rejection, check.Message, "model", check.Problem);
    }

    private static ModelUploadResult Existing(ModelEntry existing, ModelDigest digest)
    {
        if (existing.Sha256 == digest.ModelSha256 && existing.ManifestSha256 == digest.ManifestSha256)
            return new ModelUploadResult(ModelUploadStatus.Unchanged, existing);
        var what = existing.Sha256 != digest.ModelSha256
            ? $"model sha256 {digest.ModelSha256}, stored {existing.Sha256}"
            : $"manifest sha256 {digest.ManifestSha256}, stored {existing.ManifestSha256}";
        return ModelUploadResult.Reject(ModelRejection.VersionConflict,
            $"model {existing.Name}@{existing.Version} already exists with other bytes ({what}); versions are immutable: upload it under a new version",
            "manifest.version");
    }
}
