using Npgsql;

namespace RobotFleet.Server.Hosting;

/// <summary>
/// The leader lease of several control-plane instances on one PostgreSQL missions database: whoever holds the
/// session-level advisory lock <see cref="LockKey"/> in that database is the leader (the one instance that decides and
/// ingests robot messages); the others are standbys.
/// </summary>
/// <remarks>
/// Rule (advisory lock lease): the lock is taken with <c>pg_try_advisory_lock</c> on a connection of its own, kept open
/// for as long as the instance leads. PostgreSQL releases a session-level advisory lock when its session ends, so a
/// killed process (SIGKILL, crash, host gone: the server sees the socket close, or TCP keepalive ends it) frees the lock
/// at once and a standby's next try wins. The holder checks its connection every <see cref="CheckInterval"/>
/// (<c>SELECT 1</c>); a failed check means the lock may be gone, i.e. leadership is lost. The lease's connection carries
/// <c>Application Name=robotfleet-lease:{instance}</c>, and <c>robotfleet-leader:{instance}</c> once the holder took on its
/// duties (<see cref="AnnounceReadyAsync"/>), so a standby can name the ready leader (<see cref="LeaderAsync"/>).
/// Advisory locks are per database: two fleets on two databases never contend. Not thread-safe: one caller (the
/// <see cref="Leadership"/> loop) at a time.
/// </remarks>
public sealed class LeaderLease : IAsyncDisposable
{
    /// <summary>The advisory lock key: the bytes of "RobotFlt" as a bigint, the same in every instance and version.</summary>
    public const long LockKey = 0x526F626F74466C74;

    /// <summary>Application name of the lease connection once the leader is ready (<c>robotfleet-leader:{instance}</c>, see <see cref="AnnounceReadyAsync"/>).</summary>
    public const string ApplicationNamePrefix = "robotfleet-leader:";

    /// <summary>Application name of the lease connection before its holder is ready (<c>robotfleet-lease:{instance}</c>).</summary>
    public const string PendingApplicationNamePrefix = "robotfleet-lease:";

    private readonly string _connectionString;
    private NpgsqlConnection? _connection;

    /// <summary>A lease on the database <paramref name="connectionString"/> names, for the instance <paramref name="instanceId"/>.</summary>
    /// <param name="connectionString">Npgsql connection string of the missions database.</param>
    /// <param name="instanceId">This instance's id (<c>--instance-id</c>), shown to standbys as the leader's name.</param>
    public LeaderLease(string connectionString, string instanceId)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString)
        {
            ApplicationName = PendingApplicationNamePrefix + instanceId,
            Pooling = false, // the session is the lease: never hand it back to a pool
            KeepAlive = 5, // seconds: a dead peer on a half-open socket is noticed by the check
            Timeout = 5,
            CommandTimeout = 5,
        };
        _connectionString = builder.ConnectionString;
        InstanceId = instanceId;
    }

    /// <summary>How often the holder checks its lease connection; 1 s.</summary>
    public static TimeSpan CheckInterval { get; } = TimeSpan.FromSeconds(1);

    /// <summary>This instance's id.</summary>
    public string InstanceId { get; }

    /// <summary>True while this instance holds the lock (as of the last <see cref="TryAcquireAsync"/> or <see cref="CheckAsync"/>).</summary>
    public bool IsHeld { get; private set; }

    /// <summary>Tries once to take the lock; true when this instance now holds it. A database error is thrown (the caller retries).</summary>
    /// <exception cref="NpgsqlException">The database cannot be reached.</exception>
    public async Task<bool> TryAcquireAsync(CancellationToken cancellationToken)
    {
        if (IsHeld)
            return true;
        if (_connection is not { State: System.Data.ConnectionState.Open })
        {
            await DropConnectionAsync();
            _connection = new NpgsqlConnection(_connectionString);
            await _connection.OpenAsync(cancellationToken);
        }

        await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", _connection);
        command.Parameters.AddWithValue("key", LockKey);
        IsHeld = (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
        return IsHeld;
    }

    /// <summary>
    /// Checks that the lease connection is still alive (<c>SELECT 1</c>); false (and <see cref="IsHeld"/> false) when it is
    /// not: the session, and with it the lock, may be gone.
    /// </summary>
    public async Task<bool> CheckAsync(CancellationToken cancellationToken)
    {
        if (!IsHeld || _connection is null)
            return false;
        try
        {
            await using var command = new NpgsqlCommand("SELECT 1", _connection);
            await command.ExecuteScalarAsync(cancellationToken);
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException or IOException)
        {
            IsHeld = false;
            await DropConnectionAsync();
            return false;
        }
    }

    /// <summary>
    /// Marks the lease as held by a ready leader (it consumes the decider's queues now): the lease session's application name
    /// becomes <c>robotfleet-leader:{instance}</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The lease is not held.</exception>
    public async Task AnnounceReadyAsync(CancellationToken cancellationToken)
    {
        if (!IsHeld || _connection is null)
            throw new InvalidOperationException("the leader lease is not held");
        await using var command = new NpgsqlCommand("SELECT set_config('application_name', @name, false)", _connection);
        command.Parameters.AddWithValue("name", ApplicationNamePrefix + InstanceId);
        await command.ExecuteScalarAsync(cancellationToken);
    }

    /// <summary>
    /// The instance id of the current ready leader as the database shows it (the application name of the session holding
    /// the lock), or null when no one holds it or its holder is not ready yet. Uses a short-lived connection of its own.
    /// </summary>
    public async Task<string?> LeaderAsync(CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        // A bigint key shows in pg_locks split in two: classid = high 32 bits, objid = low 32 bits, objsubid = 1.
        await using var command = new NpgsqlCommand(
            """
            SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND l.classid::bigint = @high AND l.objid::bigint = @low AND l.objsubid = 1
            """, connection);
        command.Parameters.AddWithValue("high", (long)(uint)(LockKey >> 32));
        command.Parameters.AddWithValue("low", (long)(uint)(LockKey & 0xFFFFFFFF));
        var name = await command.ExecuteScalarAsync(cancellationToken) as string;
        return name is not null && name.StartsWith(ApplicationNamePrefix, StringComparison.Ordinal) ? name[ApplicationNamePrefix.Length..] : null;
    }

    /// <summary>Closes the lease connection, which releases the lock.</summary>
    public async ValueTask DisposeAsync()
    {
        IsHeld = false;
        await DropConnectionAsync();
    }

    private async Task DropConnectionAsync()
    {
        if (_connection is null)
            return;
        try
        {
            await _connection.DisposeAsync();
        }
        catch (Exception e) when (e is NpgsqlException or IOException or InvalidOperationException)
        {
            // already broken
        }

        _connection = null;
    }
}
