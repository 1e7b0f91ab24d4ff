using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace RobotFleet.ControlPlane.Models;

/// <summary>
/// Keeps rollouts: a SQLite table in <c>{dataDirectory}/rollouts.db</c> (one JSON document per rollout, rewritten on each
/// change), or nothing when there is no data directory (in memory only). Called under the rollout service's lock.
/// </summary>
internal sealed class RolloutStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly string? _connectionString;

    public RolloutStore(string? dataDirectory)
    {
        if (dataDirectory is null)
            return;
        Directory.CreateDirectory(dataDirectory);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = Path.Combine(dataDirectory, "rollouts.db"), DefaultTimeout = 30, Pooling = false }.ToString();
        Execute("PRAGMA journal_mode = WAL; CREATE TABLE IF NOT EXISTS rollouts (id TEXT PRIMARY KEY, body TEXT NOT NULL)");
    }

    public IReadOnlyList<RolloutRecord> Load()
    {
        if (_connectionString is null)
            return [];
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT body FROM rollouts";
        using var reader = command.ExecuteReader();
        var list = new List<RolloutRecord>();
        while (reader.Read())
            list.Add(JsonSerializer.Deserialize<RolloutRecord>(reader.GetString(0), Json) ?? throw new InvalidDataException("rollouts.db: a null rollout"));
        return list;
    }

    public void Save(RolloutRecord rollout)
    {
        if (_connectionString is null)
            return;
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO rollouts (id, body) VALUES ($id, $body) ON CONFLICT (id) DO UPDATE SET body = excluded.body";
        command.Parameters.AddWithValue("$id", rollout.Id);
        command.Parameters.AddWithValue("$body", JsonSerializer.Serialize(rollout, Json));
        command.ExecuteNonQuery();
    }

    private void Execute(string sql)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }
}
