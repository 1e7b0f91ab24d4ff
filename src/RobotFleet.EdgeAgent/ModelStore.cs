using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using RobotFleet.Perception;

namespace RobotFleet.EdgeAgent;

/// <summary>Why a model action failed; the message goes to the action's <c>resultDescription</c>.</summary>
internal sealed class ModelActionException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The parameters of a <c>downloadModel</c> instant action.</summary>
internal sealed record ModelPackageRequest(
    string Name, string Version, Uri ModelLink, Uri ManifestLink, string ModelSha256, string ManifestSha256, string Signature);

/// <summary>What the agent records next to a stored version (<c>package.json</c>): the signed digest, checked again on enable.</summary>
internal sealed record StoredPackage(string Name, string Version, string ModelSha256, string ManifestSha256, string Signature, DateTime StoredAt);

/// <summary>A name and version (<c>active.json</c>, status reports).</summary>
internal sealed record ModelRef(string Name, string Version);

/// <summary>
/// The agent's model directory: <c>{dir}/{name}/{version}/</c> holds <c>model.onnx</c>, <c>manifest.json</c> and
/// <c>package.json</c>; <c>{dir}/active.json</c> names the version to serve after a restart; <c>{dir}/.tmp/</c>
/// holds downloads in progress. Names and versions are checked before they touch a path.
/// </summary>
internal static partial class ModelStore
{
    public const string ModelFile = "model.onnx";
    public const string ManifestFile = "manifest.json";
    public const string PackageFile = "package.json";
    public const string ActiveFile = "active.json";
    public const string TempFolder = ".tmp";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        WriteIndented = false,
    };

    /// <summary>Throws naming the parameter when <paramref name="value"/> is not a safe model name (or version).</summary>
    public static void CheckName(string parameter, string value, bool version)
    {
        var ok = value.Length is > 0 and <= 128 && value != "." && value != ".." && (version ? VersionPattern() : NamePattern()).IsMatch(value);
        if (!ok)
        {
            throw new ModelActionException($"parameter '{parameter}' '{value}' is not a valid model {(version ? "version" : "name")} (letters, digits, '.', '_', '-'{(version ? ", '+'" : "")}; at most 128)");
        }
    }

    /// <summary>Throws naming the parameter when <paramref name="value"/> is not 64 lower-case hex digits.</summary>
    public static void CheckSha256(string parameter, string value)
    {
        if (!Sha256Pattern().IsMatch(value))
        {
            throw new ModelActionException($"parameter '{parameter}' must be 64 lower-case hex digits (SHA-256)");
        }
    }

    public static string VersionDirectory(string root, string name, string version) => Path.Combine(root, name, version);

    public static IReadOnlyList<ModelRef> List(string root)
    {
        var found = new List<ModelRef>();
        if (!Directory.Exists(root))
        {
            return found;
        }

        foreach (var nameDir in Directory.EnumerateDirectories(root))
        {
            var name = Path.GetFileName(nameDir);
            if (name == TempFolder)
            {
                continue;
            }

            foreach (var versionDir in Directory.EnumerateDirectories(nameDir))
            {
                if (File.Exists(Path.Combine(versionDir, PackageFile)))
                {
                    found.Add(new ModelRef(name, Path.GetFileName(versionDir)));
                }
            }
        }

        found.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name) is var c and not 0 ? c : string.CompareOrdinal(a.Version, b.Version));
        return found;
    }

    public static StoredPackage? ReadPackage(string versionDir)
    {
        var path = Path.Combine(versionDir, PackageFile);
        return File.Exists(path) ? JsonSerializer.Deserialize<StoredPackage>(File.ReadAllBytes(path), Json) : null;
    }

    public static ModelRef? ReadActive(string root)
    {
        var path = Path.Combine(root, ActiveFile);
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<ModelRef>(File.ReadAllBytes(path), Json) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Writes <c>active.json</c> atomically (temp file, then rename), or deletes it for null.</summary>
    public static void WriteActive(string root, ModelRef? active)
    {
        var path = Path.Combine(root, ActiveFile);
        if (active is null)
        {
            File.Delete(path);
            return;
        }

        var temp = path + ".tmp";
        File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(active, Json));
        File.Move(temp, path, overwrite: true);
    }

    public static void WritePackage(string versionDir, StoredPackage package) =>
        File.WriteAllBytes(Path.Combine(versionDir, PackageFile), JsonSerializer.SerializeToUtf8Bytes(package, Json));

    public static string Sha256Hex(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z0-9._+-]+$")]
    private static partial Regex VersionPattern();

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Pattern();
}
