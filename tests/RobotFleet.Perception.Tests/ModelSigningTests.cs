using System.Text;

namespace RobotFleet.Perception.Tests;

public sealed class ModelSigningTests
{
    private static readonly byte[] Model = [8, 7, 18, 4, 1, 2, 3, 4];
    private static readonly byte[] Manifest = Encoding.UTF8.GetBytes("{\"name\":\"m\",\"version\":\"1.0.0\"}");

    [Fact]
    public void A_signature_verifies_with_the_signing_key_and_not_another()
    {
        using var fleet = ModelSigning.CreateKey();
        using var other = ModelSigning.CreateKey();
        var digest = ModelDigest.Of("m", "1.0.0", Model, Manifest);
        var signature = ModelSigning.Sign(digest, fleet);

        using var trusted = ModelSigning.ImportPublicKeyPem(ModelSigning.ExportPublicKeyPem(fleet));
        Assert.True(ModelSigning.Verify(digest, signature, [trusted]));
        Assert.False(ModelSigning.Verify(digest, signature, [other]));
        Assert.True(ModelSigning.Verify(digest, signature, [other, trusted]));
    }

    [Fact]
    public void Tampered_bytes_name_or_version_fail_verification()
    {
        using var key = ModelSigning.CreateKey();
        var digest = ModelDigest.Of("m", "1.0.0", Model, Manifest);
        var signature = ModelSigning.Sign(digest, key);
        var tampered = (byte[])Model.Clone();
        tampered[^1] ^= 1;

        Assert.False(ModelSigning.Verify(ModelDigest.Of("m", "1.0.0", tampered, Manifest), signature, [key]));
        Assert.False(ModelSigning.Verify(ModelDigest.Of("m", "1.0.0", Model, [.. Manifest, (byte)' ']), signature, [key]));
        Assert.False(ModelSigning.Verify(digest with { Version = "1.0.1" }, signature, [key]));
        Assert.False(ModelSigning.Verify(digest with { Name = "n" }, signature, [key]));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not base64!")]
    [InlineData("AAAA")]
    public void Missing_or_malformed_signatures_are_refused_without_throwing(string? signature)
    {
        using var key = ModelSigning.CreateKey();
        Assert.False(ModelSigning.Verify(ModelDigest.Of("m", "1", Model, Manifest), signature, [key]));
    }

    [Fact]
    public void A_key_that_is_not_pem_or_not_p256_is_refused_with_the_reason()
    {
        Assert.Contains("not a PEM public key", Assert.Throws<ArgumentException>(() => ModelSigning.ImportPublicKeyPem("hello")).Message);
        using var p384 = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP384);
        Assert.Contains("P-256", Assert.Throws<ArgumentException>(() => ModelSigning.ImportPublicKeyPem(p384.ExportSubjectPublicKeyInfoPem())).Message);
    }

    [Fact]
    public void The_digest_is_lower_case_hex_sha256()
    {
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", ModelDigest.Sha256Hex([]));
    }
}
