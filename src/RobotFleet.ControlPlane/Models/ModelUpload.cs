using RobotFleet.Perception;

namespace RobotFleet.ControlPlane.Models;

/// <summary>
/// One accepted, immutable model version in the registry: what it is, the SHA-256 of its bytes (the address of its blobs)
/// and the fleet's signature over its <see cref="ModelDigest"/>. Immutable.
/// </summary>
/// <param name="Name">Model name (manifest <c>name</c>).</param>
/// <param name="Version">Model version (manifest <c>version</c>).</param>
/// <param name="Task">Manifest task: <c>classification</c>, <c>detection</c> or <c>embedding</c>.</param>
/// <param name="Sha256">SHA-256 of the <c>.onnx</c> bytes, 64 lower-case hex digits.</param>
/// <param name="ManifestSha256">SHA-256 of the manifest JSON bytes as uploaded, 64 lower-case hex digits.</param>
/// <param name="Size">Size of the <c>.onnx</c> file, bytes.</param>
/// <param name="ManifestSize">Size of the manifest, bytes.</param>
/// <param name="Signature">The fleet's ECDSA P-256 signature over the digest (base64, IEEE P1363), see <see cref="ModelSigning"/>.</param>
/// <param name="UploadSignature">The technician's signature the upload carried (verified), or null.</param>
/// <param name="UploadedAt">When it was accepted (UTC).</param>
/// <param name="Input">The image input, e.g. <c>image float32 [batch, 3, 224, 224]</c>.</param>
/// <param name="Output">The decoded output's name.</param>
public sealed record ModelEntry(
    string Name,
    string Version,
    string Task,
    string Sha256,
    string ManifestSha256,
    long Size,
    long ManifestSize,
    string Signature,
    string? UploadSignature,
    DateTimeOffset UploadedAt,
    string Input,
    string Output)
{
    /// <summary>The digest the signatures cover.</summary>
    public ModelDigest Digest => new(Name, Version, Sha256, ManifestSha256);
}

/// <summary>What became of an upload.</summary>
public enum ModelUploadStatus
{
    /// <summary>A new version was accepted and stored.</summary>
    Created,

    /// <summary>The same name and version with the same bytes was already stored: nothing changed (idempotent).</summary>
    Unchanged,

    /// <summary>Rejected; <see cref="ModelUploadResult.Rejection"/> says why.</summary>
    Rejected,
}

/// <summary>Why an upload was rejected, in the order the checks run.</summary>
public enum ModelRejection
{
    /// <summary>Not rejected.</summary>
    None,

    /// <summary>1. The model file is not ONNX at all (empty, Git LFS pointer, text, HTML, another format).</summary>
    NotOnnx,

    /// <summary>2. Truncated or corrupt protobuf, ONNX Runtime cannot load it, or its SHA-256 is not the one the uploader sent.</summary>
    Corrupt,

    /// <summary>The manifest is not valid (not JSON, or a field missing or wrong; <see cref="ModelUploadResult.Field"/> names it).</summary>
    ManifestInvalid,

    /// <summary>3. The model's input or output does not match the manifest (name, element type, shape).</summary>
    Contract,

    /// <summary>4. The dry run on a zero input failed.</summary>
    DryRun,

    /// <summary>The registry requires a technician's signature and the upload has none.</summary>
    SignatureMissing,

    /// <summary>The upload's signature is malformed, or no trusted upload key verifies it (tampered, or signed by an unknown key).</summary>
    SignatureInvalid,

    /// <summary>The name and version are already stored with other bytes; versions are immutable.</summary>
    VersionConflict,
}

/// <summary>Outcome of <see cref="ModelRegistry.UploadAsync"/>: the stored entry, or the first problem with a message that names it. Immutable.</summary>
/// <param name="Status">Created, unchanged (idempotent re-upload) or rejected.</param>
/// <param name="Model">The stored entry (created or unchanged); null when rejected.</param>
/// <param name="Rejection">Why it was rejected; <see cref="ModelRejection.None"/> otherwise.</param>
/// <param name="Message">What was wrong, in words (names the problem, field or version); null when not rejected.</param>
/// <param name="Problem">The Perception check's problem for model rejections; <see cref="ModelProblem.None"/> otherwise.</param>
/// <param name="Field">The request field at fault: <c>model</c>, <c>sha256</c>, <c>manifest</c>, <c>manifest.{path}</c> or <c>signature</c>; null when not rejected.</param>
public sealed record ModelUploadResult(
    ModelUploadStatus Status,
    ModelEntry? Model,
    ModelRejection Rejection = ModelRejection.None,
    string? Message = null,
    ModelProblem Problem = ModelProblem.None,
    string? Field = null)
{
    /// <summary>True when the model is stored (created now or before).</summary>
    public bool Accepted => Status != ModelUploadStatus.Rejected;

    internal static ModelUploadResult Reject(ModelRejection rejection, string message, string field, ModelProblem problem = ModelProblem.None) =>
        new(ModelUploadStatus.Rejected, null, rejection, message, problem, field);
}
