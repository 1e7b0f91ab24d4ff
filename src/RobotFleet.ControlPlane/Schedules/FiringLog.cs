using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace RobotFleet.ControlPlane.Schedules;

/// <summary>
/// The last <see cref="ScheduleOptions.FiringsKept"/> firings of each schedule, in table <c>RF_SCHEDULE_FIRINGS</c> of
/// the schedules' database: the SQLite file, the PostgreSQL database (<c>rf_schedule_firings</c>, shared by every instance
/// of the cluster), or an in-memory SQLite database when the schedules are kept in memory. Thread-safe.
/// </summary>
public sealed class FiringLog : IDisposable
{
    private const string Table = "RF_SCHEDULE_FIRINGS";
    private readonly string _connectionString;
    private readonly int _kept;
    private readonly SqliteConnection? _keepAlive;
    private readonly string? _postgres;

    /// <summary>Opens (and creates when missing) the table; on PostgreSQL also the database.</summary>
    public FiringLog(ScheduleOptions options)
    {
        _kept = Math.Max(1, options.FiringsKept);
        if (options.PostgresConnectionString is { } postgres)
        {
            _postgres = postgres;
            _connectionString = postgres;
            PostgresScheduleStore.EnsureDatabaseAsync(postgres).GetAwaiter().GetResult();
            using var pg = new NpgsqlConnection(postgres);
            pg.Open();
            using var transaction = pg.BeginTransaction();
            // CREATE TABLE IF NOT EXISTS races on PostgreSQL (both pass the check, one fails in pg_type): take turns.
            using var create = new NpgsqlCommand($"""
                SELECT pg_advisory_xact_lock({PostgresScheduleStore.SchemaLockKey + 1});
                CREATE TABLE IF NOT EXISTS {Table} (
                  id bigserial PRIMARY KEY,
                  schedule text NOT NULL,
                  fired_at timestamptz NOT NULL,
                  scheduled_for timestamptz NOT NULL,
                  mission_id text NOT NULL,
                  accepted boolean NOT NULL,
                  field text NULL,
                  reason text NULL);
                CREATE INDEX IF NOT EXISTS ix_{Table}_schedule ON {Table} (schedule, id);
                """, pg, transaction);
            create.ExecuteNonQuery();
            transaction.Commit();
            return;
        }

        if (options.DatabasePath is { } path)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            _connectionString = new SqliteConnectionStringBuilder { DataSource = path, DefaultTimeout = 30 }.ToString();
        }
        else
        {
            _connectionString = new SqliteConnectionStringBuilder { DataSource = $"robotfleet-firings-{Guid.NewGuid():N}", Mode = SqliteOpenMode.Memory, Cache = SqliteCacheMode.Shared }.ToString();
            _keepAlive = new SqliteConnection(_connectionString);
            _keepAlive.Open();
        }

        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            CREATE TABLE IF NOT EXISTS {Table} (
              ID INTEGER PRIMARY KEY AUTOINCREMENT,
              SCHEDULE TEXT NOT NULL,
              FIRED_AT TEXT NOT NULL,
              SCHEDULED_FOR TEXT NOT NULL,
              MISSION_ID TEXT NOT NULL,
              ACCEPTED INTEGER NOT NULL,
              FIELD TEXT NULL,
              REASON TEXT NULL);
            CREATE INDEX IF NOT EXISTS IX_{Table}_SCHEDULE ON {Table} (SCHEDULE, ID);
            """;
        command.ExecuteNonQuery();
    }

    /// <summary>Records a firing and drops the schedule's oldest beyond the kept number.</summary>
    public async Task RecordAsync(ScheduleFiring firing, CancellationToken cancellationToken = default)
    {
        if (_postgres is not null)
        {
            await using var pg = new NpgsqlConnection(_postgres);
            await pg.OpenAsync(cancellationToken);
            await using var pgTransaction = await pg.BeginTransactionAsync(cancellationToken);
            await using var insert = new NpgsqlCommand($"""
                INSERT INTO {Table} (schedule, fired_at, scheduled_for, mission_id, accepted, field, reason)
                VALUES (@schedule, @firedAt, @scheduledFor, @missionId, @accepted, @field, @reason);
                DELETE FROM {Table} WHERE schedule = @schedule AND id NOT IN
                  (SELECT id FROM {Table} WHERE schedule = @schedule ORDER BY id DESC LIMIT @kept);
                """, pg, pgTransaction);
            insert.Parameters.AddWithValue("schedule", firing.Schedule);
            insert.Parameters.AddWithValue("firedAt", firing.FiredAt.ToUniversalTime());
            insert.Parameters.AddWithValue("scheduledFor", firing.ScheduledFor.ToUniversalTime());
            insert.Parameters.AddWithValue("missionId", firing.MissionId);
            insert.Parameters.AddWithValue("accepted", firing.Accepted);
            insert.Parameters.AddWithValue("field", (object?)firing.Field ?? DBNull.Value);
            insert.Parameters.AddWithValue("reason", (object?)firing.Reason ?? DBNull.Value);
            insert.Parameters.AddWithValue("kept", (long)_kept);
            await insert.ExecuteNonQueryAsync(cancellationToken);
            await pgTransaction.CommitAsync(cancellationToken);
            return;
        }

        await using var connection = Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"""
            INSERT INTO {Table} (SCHEDULE, FIRED_AT, SCHEDULED_FOR, MISSION_ID, ACCEPTED, FIELD, REASON)
            VALUES ($schedule, $firedAt, $scheduledFor, $missionId, $accepted, $field, $reason);
            DELETE FROM {Table} WHERE SCHEDULE = $schedule AND ID NOT IN
              (SELECT ID FROM {Table} WHERE SCHEDULE = $schedule ORDER BY ID DESC LIMIT $kept);
            """;
        command.Parameters.AddWithValue("$schedule", firing.Schedule);
        command.Parameters.AddWithValue("$firedAt", Format(firing.FiredAt));
        command.Parameters.AddWithValue("$scheduledFor", Format(firing.ScheduledFor));
        command.Parameters.AddWithValue("$missionId", firing.MissionId);
        command.Parameters.AddWithValue("$accepted", firing.Accepted ? 1 : 0);
        command.Parameters.AddWithValue("$field", (object?)firing.Field ?? DBNull.Value);
        command.Parameters.AddWithValue("$reason", (object?)firing.Reason ?? DBNull.Value);
        command.Parameters.AddWithValue("$kept", _kept);
        await command.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>A schedule's kept firings, oldest first.</summary>
    public async Task<IReadOnlyList<ScheduleFiring>> ListAsync(string schedule, CancellationToken cancellationToken = default)
    {
        if (_postgres is not null)
        {
            await using var pg = new NpgsqlConnection(_postgres);
            await pg.OpenAsync(cancellationToken);
            await using var select = new NpgsqlCommand($"SELECT schedule, fired_at, scheduled_for, mission_id, accepted, field, reason FROM {Table} WHERE schedule = @schedule ORDER BY id", pg);
            select.Parameters.AddWithValue("schedule", schedule);
            var list = new List<ScheduleFiring>();
            await using var rows = await select.ExecuteReaderAsync(cancellationToken);
            while (await rows.ReadAsync(cancellationToken))
            {
                list.Add(new ScheduleFiring(rows.GetString(0), rows.GetFieldValue<DateTimeOffset>(1), rows.GetFieldValue<DateTimeOffset>(2), rows.GetString(3),
                    rows.GetBoolean(4), rows.IsDBNull(5) ? null : rows.GetString(5), rows.IsDBNull(6) ? null : rows.GetString(6)));
            }

            return list;
        }

        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT SCHEDULE, FIRED_AT, SCHEDULED_FOR, MISSION_ID, ACCEPTED, FIELD, REASON FROM {Table} WHERE SCHEDULE = $schedule ORDER BY ID";
        command.Parameters.AddWithValue("$schedule", schedule);
        var firings = new List<ScheduleFiring>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            firings.Add(new ScheduleFiring(reader.GetString(0), Parse(reader.GetString(1)), Parse(reader.GetString(2)), reader.GetString(3),
                reader.GetInt64(4) != 0, reader.IsDBNull(5) ? null : reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6)));
        }

        return firings;
    }

    /// <summary>Forgets a schedule's firings.</summary>
    public async Task DeleteAsync(string schedule, CancellationToken cancellationToken = default)
    {
        if (_postgres is not null)
        {
            await using var pg = new NpgsqlConnection(_postgres);
            await pg.OpenAsync(cancellationToken);
            await using var delete = new NpgsqlCommand($"DELETE FROM {Table} WHERE schedule = @schedule", pg);
            delete.Parameters.AddWithValue("schedule", schedule);
            await delete.ExecuteNonQueryAsync(cancellationToken);
            return;
        }

        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"DELETE FROM {Table} WHERE SCHEDULE = $schedule";
        command.Parameters.AddWithValue("$schedule", schedule);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <inheritdoc />
    public void Dispose() => _keepAlive?.Dispose();

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    private static string Format(DateTimeOffset t) => t.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset Parse(string s) => new(DateTime.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal), TimeSpan.Zero);
}
