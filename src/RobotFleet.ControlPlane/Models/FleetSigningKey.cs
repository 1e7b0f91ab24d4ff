using System.Security.Cryptography;
using RobotFleet.Perception;

namespace RobotFleet.ControlPlane.Models;

/// <summary>
/// Loads the fleet's model signing key (ECDSA P-256): the PEM given by configuration, else the file at
/// <see cref="ModelRegistryOptions.SigningKeyPath"/>, created on first start as PKCS#8 PEM with file mode 600 (owner read
/// and write only; its folder 700), else a key that lives as long as the process. Stateless; two processes creating the
/// key at once end up with the same one (the first file written wins).
/// </summary>
public static class FleetSigningKey
{
    /// <summary>Loads or creates the key as <paramref name="options"/> say.</summary>
    /// <returns>A P-256 private key; the caller disposes it.</returns>
    /// <exception cref="InvalidOperationException">The configured PEM or the key file holds no P-256 private key; the message names the file.</exception>
    /// <exception cref="IOException">The key file cannot be read or written.</exception>
    public static ECDsa Load(ModelRegistryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.SigningKeyPem is { } pem)
            return Import(pem, "the configured fleet signing key");
        if (options.SigningKeyPath is not { } path)
            return ModelSigning.CreateKey();
        if (File.Exists(path))
            return Import(File.ReadAllText(path), $"fleet signing key file '{path}'");

        var directory = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows())
                Directory.CreateDirectory(directory);
            else
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var key = ModelSigning.CreateKey();
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temporary, fileOptions))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(key.ExportPkcs8PrivateKeyPem());
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }

        try
        {
            // Two processes starting at once: the first key written wins, and both use it.
            File.Move(temporary, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temporary);
            key.Dispose();
            return Import(File.ReadAllText(path), $"fleet signing key file '{path}'");
        }

        return key;
    }

    private static ECDsa Import(string pem, string what)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new InvalidOperationException($"{what} holds no ECDSA private key in PEM: {e.Message}", e);
        }

        try
        {
            _ = key.ExportParameters(includePrivateParameters: true);
        }
        catch (CryptographicException e)
        {
            key.Dispose();
            throw new InvalidOperationException($"{what} is a public key; the registry needs the private key to sign", e);
        }

        if (key.KeySize != 256)
        {
            key.Dispose();
            throw new InvalidOperationException($"{what} is a {key.KeySize}-bit key; model signing keys are ECDSA P-256");
        }

        return key;
    }
}
