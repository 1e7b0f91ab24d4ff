using System.Security.Cryptography;
using System.Text;

namespace RobotFleet.Perception;

/// <summary>
/// What a model package signature covers: the model's name and version and the SHA-256 of its <c>.onnx</c> bytes and
/// of its manifest's JSON bytes (as stored, not re-serialised). Immutable.
/// </summary>
/// <param name="Name">Model name (manifest <c>name</c>).</param>
/// <param name="Version">Model version (manifest <c>version</c>).</param>
/// <param name="ModelSha256">SHA-256 of the <c>.onnx</c> bytes, 64 lower-case hex digits.</param>
/// <param name="ManifestSha256">SHA-256 of the manifest JSON bytes, 64 lower-case hex digits.</param>
public sealed record ModelDigest(string Name, string Version, string ModelSha256, string ManifestSha256)
{
    /// <summary>Computes the digest of a package from its bytes.</summary>
    /// <param name="name">Model name.</param>
    /// <param name="version">Model version.</param>
    /// <param name="model">The <c>.onnx</c> bytes.</param>
    /// <param name="manifest">The manifest JSON bytes, exactly as stored and served.</param>
    public static ModelDigest Of(string name, string version, ReadOnlySpan<byte> model, ReadOnlySpan<byte> manifest) =>
        new(name, version, Sha256Hex(model), Sha256Hex(manifest));

    /// <summary>SHA-256 of <paramref name="bytes"/> as 64 lower-case hex digits.</summary>
    public static string Sha256Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>
    /// The exact bytes that are signed: UTF-8 of <c>robotfleet-model-v1\n{name}\n{version}\n{modelSha256}\n{manifestSha256}</c>.
    /// Binding name and version stops a signed model from being replayed under another name or version.
    /// </summary>
    public byte[] SignedBytes() => Encoding.UTF8.GetBytes($"robotfleet-model-v1\n{Name}\n{Version}\n{ModelSha256}\n{ManifestSha256}");
}

/// <summary>
/// ECDSA P-256 signatures over a <see cref="ModelDigest"/> (SHA-256, IEEE P1363 r||s, 64 bytes, carried as base64), and
/// public keys as PEM SubjectPublicKeyInfo. Both the registry (which signs every accepted model with the fleet key and
/// verifies a technician's signature) and the edge agent (which refuses unsigned or tampered models) use this one
/// definition. Stateless and thread-safe.
/// </summary>
public static class ModelSigning
{
    /// <summary>Signs <paramref name="digest"/> with <paramref name="privateKey"/> (P-256); returns the base64 signature.</summary>
    /// <exception cref="CryptographicException">The key cannot sign.</exception>
    public static string Sign(ModelDigest digest, ECDsa privateKey)
    {
        ArgumentNullException.ThrowIfNull(digest);
        ArgumentNullException.ThrowIfNull(privateKey);
        return Convert.ToBase64String(privateKey.SignData(digest.SignedBytes(), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    /// <summary>
    /// True when <paramref name="signatureBase64"/> is a valid signature of <paramref name="digest"/> by any of
    /// <paramref name="trustedKeys"/>; false for a malformed, wrong or missing signature (never throws on bad input).
    /// </summary>
    public static bool Verify(ModelDigest digest, string? signatureBase64, IEnumerable<ECDsa> trustedKeys)
    {
        ArgumentNullException.ThrowIfNull(digest);
        ArgumentNullException.ThrowIfNull(trustedKeys);
        if (string.IsNullOrWhiteSpace(signatureBase64))
            return false;
        byte[] signature;
        try
        {
            signature = Convert.FromBase64String(signatureBase64.Trim());
        }
        catch (FormatException)
        {
            return false;
        }

        var signed = digest.SignedBytes();
        foreach (var key in trustedKeys)
        {
            try
            {
                if (key.VerifyData(signed, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
                    return true;
            }
            catch (CryptographicException)
            {
                // a key of another curve or size: not this one
            }
        }

        return false;
    }

    /// <summary>Creates a new P-256 key pair.</summary>
    public static ECDsa CreateKey() => ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>The public half of <paramref name="key"/> as PEM (<c>-----BEGIN PUBLIC KEY-----</c>).</summary>
    public static string ExportPublicKeyPem(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.ExportSubjectPublicKeyInfoPem();
    }

    /// <summary>Reads a PEM public key (SubjectPublicKeyInfo, P-256).</summary>
    /// <exception cref="ArgumentException">The text holds no PEM public key, or it is not a P-256 key; the message says which.</exception>
    public static ECDsa ImportPublicKeyPem(string pem)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new ArgumentException($"not a PEM public key: {e.Message}", nameof(pem), e);
        }

        if (key.KeySize != 256)
        {
            key.Dispose();
            throw new ArgumentException($"model signing keys are ECDSA P-256; this key has {key.KeySize} bits", nameof(pem));
        }

        return key;
    }
}
