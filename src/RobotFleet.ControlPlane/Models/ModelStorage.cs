using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace RobotFleet.ControlPlane.Models;

/// <summary>
/// Where the registry keeps bytes and its index: content-addressed blobs <c>{dir}/sha256/{hex}</c> (written to a temporary
/// file, flushed, then renamed, so a blob is whole or absent) and a SQLite table of entries <c>{dir}/registry.db</c>; or
/// both in memory. Reads may run at any time; writes are serialised by the registry.
/// </summary>
internal sealed class ModelStorage
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly string? _blobDirectory;
    private readonly string? _connectionString;
    private readonly ConcurrentDictionary<string, byte[]> _memoryBlobs = new(StringComparer.Ordinal);

    public ModelStorage(string? directory)
    {
        if (directory is null)
            return;
        _blobDirectory = Directory.CreateDirectory(Path.Combine(directory, "sha256")).FullName;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(directory, "registry.db"),
            DefaultTimeout = 30,
            Pooling = false,
        }.ToString();
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS models (
                name TEXT NOT NULL,
                version TEXT NOT NULL,
                model_sha256 TEXT NOT NULL,
                manifest_sha256 TEXT NOT NULL,
                entry TEXT NOT NULL,
                PRIMARY KEY (name, version));
            """;
        command.ExecuteNonQuery();
    }

    public bool InMemory => _blobDirectory is null;

    public IReadOnlyList<ModelEntry> LoadIndex()
    {
        if (_connectionString is null)
            return [];
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT entry FROM models ORDER BY name, version";
        using var reader = command.ExecuteReader();
        var entries = new List<ModelEntry>();
        while (reader.Read())
            entries.Add(JsonSerializer.Deserialize<ModelEntry>(reader.GetString(0), Json) ?? throw new InvalidDataException("model registry index: a null entry"));
        return entries;
    }

    /// <summary>Stores <paramref name="bytes"/> under <paramref name="sha256"/> unless a blob of that address and size is there.</summary>
    public void PutBlob(string sha256, byte[] bytes)
    {
        if (_blobDirectory is null)
        {
            _memoryBlobs.TryAdd(sha256, bytes);
            return;
        }

        var path = Path.Combine(_blobDirectory, sha256);
        if (File.Exists(path) && new FileInfo(path).Length == bytes.Length)
            return;
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
                File.Delete(temporary);
        }
    }

    /// <summary>Adds an entry to the index; false when its name and version are there already.</summary>
    public bool TryInsert(ModelEntry entry)
    {
        if (_connectionString is null)
            return true;
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO models (name, version, model_sha256, manifest_sha256, entry) VALUES ($name, $version, $model, $manifest, $entry)
            ON CONFLICT (name, version) DO NOTHING
            """;
        command.Parameters.AddWithValue("$name", entry.Name);
        command.Parameters.AddWithValue("$version", entry.Version);
        command.Parameters.AddWithValue("$model", entry.Sha256);
        command.Parameters.AddWithValue("$manifest", entry.ManifestSha256);
        command.Parameters.AddWithValue("$entry", JsonSerializer.Serialize(entry, Json));
        return command.ExecuteNonQuery() == 1;
    }

    /// <summary>The blob's bytes as a stream, or null when it is missing.</summary>
    public Stream? OpenBlob(string sha256)
    {
        if (_blobDirectory is null)
            return _memoryBlobs.TryGetValue(sha256, out var bytes) ? new MemoryStream(bytes, writable: false) : null;
        var path = Path.Combine(_blobDirectory, sha256);
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }
}
