using RobotFleet.Perception;

namespace RobotFleet.ControlPlane.Models;

/// <summary>
/// Settings of the model registry: where models are kept, the fleet's signing key, and which technicians' keys an upload
/// may be signed with. Set once at start; not changed afterwards.
/// </summary>
public sealed class ModelRegistryOptions
{
    /// <summary>
    /// Data directory. Model and manifest bytes go to <c>{DataDirectory}/models/sha256/{hex}</c>, the index to
    /// <c>{DataDirectory}/models/registry.db</c> (SQLite), the generated fleet signing key to
    /// <c>{DataDirectory}/keys/fleet-model-signing.pem</c> (file mode 600). Null keeps everything in memory, with a
    /// signing key that lives as long as the process (tests).
    /// </summary>
    public string? DataDirectory { get; init; }

    /// <summary>
    /// The fleet's private signing key as PEM (ECDSA P-256, PKCS#8 or SEC1), given by configuration; null uses the key at
    /// <see cref="SigningKeyPath"/>, created on first start.
    /// </summary>
    public string? SigningKeyPem { get; init; }

    /// <summary>
    /// Technicians' public keys (PEM SubjectPublicKeyInfo, P-256) that an upload's own signature is checked against. An
    /// upload that carries a signature is rejected unless one of them verifies it.
    /// </summary>
    public IReadOnlyList<string> TrustedUploadKeys { get; init; } = [];

    /// <summary>When true, an upload without a technician's signature is rejected (default false: the signature is optional).</summary>
    public bool RequireUploadSignature { get; init; }

    /// <summary>Thread settings of the dry run on upload; null for the Perception defaults (1 thread).</summary>
    public ModelSessionOptions? DryRunOptions { get; init; }

    /// <summary>Where blobs and the index live, or null in memory.</summary>
    public string? ModelsDirectory => DataDirectory is null ? null : Path.Combine(DataDirectory, "models");

    /// <summary>Where the generated fleet signing key is kept, or null in memory (or when <see cref="SigningKeyPem"/> is given).</summary>
    public string? SigningKeyPath => SigningKeyPem is null && DataDirectory is not null ? Path.Combine(DataDirectory, "keys", "fleet-model-signing.pem") : null;
}
