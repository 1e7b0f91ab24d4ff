using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Quartz;

namespace RobotFleet.ControlPlane.Schedules;

/// <summary>
/// The schedules' PostgreSQL database: creates it when missing, and serialises the creation of Quartz's tables between
/// instances that start at the same time. Quartz creates its own <c>qrtz_*</c> tables (<see cref="IPersistentStoreBuilder.ProvisionSchema"/>,
/// the DDL Quartz.NET ships for PostgreSQL in its own assembly, so the schema always matches the Quartz version in use);
/// this holds a PostgreSQL advisory lock from before the scheduler is built until it has started, so of several instances
/// starting together exactly one creates the tables and the others find them. Thread-safe.
/// </summary>
public sealed class PostgresScheduleStore : IDisposable
{
    /// <summary>PostgreSQL advisory lock key held while Quartz's schema is checked and created (any constant unique to this purpose).</summary>
    public const long SchemaLockKey = 0x5246_5152_545A; // "RFQRTZ"

    /// <summary>How long an instance waits for another instance's schema creation before it gives up.</summary>
    public static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(60);

    private readonly string _connectionString;
    private readonly ILogger<PostgresScheduleStore> _logger;
    private readonly Lock _gate = new();
    private NpgsqlConnection? _lockConnection;
    private bool _tablesExistedBefore;

    /// <summary>A store on <paramref name="options"/>' PostgreSQL database.</summary>
    /// <exception cref="ArgumentException">The options do not name a PostgreSQL database.</exception>
    public PostgresScheduleStore(ScheduleOptions options, ILogger<PostgresScheduleStore> logger)
    {
        _connectionString = options.PostgresConnectionString ?? throw new ArgumentException("the schedules store is not PostgreSQL", nameof(options));
        _logger = logger;
    }

    /// <summary>
    /// True once this instance has found Quartz's tables missing at start and they existed after its scheduler started:
    /// this instance created them. Null before the start finished.
    /// </summary>
    public bool? CreatedTables { get; private set; }

    /// <summary>
    /// Creates the database <paramref name="connectionString"/> names when it does not exist (connecting to the server's
    /// <c>postgres</c> database for that). Safe when several processes do it at once.
    /// </summary>
    /// <exception cref="NpgsqlException">The server cannot be reached or refuses the login.</exception>
    public static async Task EnsureDatabaseAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var name = builder.Database;
        if (string.IsNullOrEmpty(name))
            return;
        builder.Database = "postgres";
        builder.Pooling = false;
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection);
        exists.Parameters.AddWithValue(name);
        if (await exists.ExecuteScalarAsync(cancellationToken) is not null)
            return;
        try
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation)
        {
            // created by another instance meanwhile
        }
    }

    /// <summary>
    /// Creates the database when missing, then takes the schema lock (waiting up to <see cref="LockTimeout"/> for an
    /// instance creating the tables) and notes whether Quartz's tables exist. Held until <see cref="ReleaseSchemaLockAsync"/>.
    /// </summary>
    /// <exception cref="TimeoutException">Another instance held the lock for longer than <see cref="LockTimeout"/>.</exception>
    public async Task AcquireSchemaLockAsync(CancellationToken cancellationToken)
    {
        await EnsureDatabaseAsync(_connectionString, cancellationToken);
        var builder = new NpgsqlConnectionStringBuilder(_connectionString) { Pooling = false };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            var deadline = DateTime.UtcNow + LockTimeout;
            while (!await TryLockAsync(connection, cancellationToken))
            {
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException($"schedules database: waited {LockTimeout.TotalSeconds:0} s for another instance creating Quartz's tables (advisory lock {SchemaLockKey})");
                await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
            }

            var existed = await TablesExistAsync(connection, cancellationToken);
            lock (_gate)
            {
                _lockConnection = connection;
                _tablesExistedBefore = existed;
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Notes whether this instance created Quartz's tables and lets the next instance go on (no-op when not held).</summary>
    public async Task ReleaseSchemaLockAsync(CancellationToken cancellationToken)
    {
        NpgsqlConnection? connection;
        lock (_gate)
        {
            connection = _lockConnection;
            _lockConnection = null;
        }

        if (connection is null)
            return;
        try
        {
            var existNow = await TablesExistAsync(connection, cancellationToken);
            CreatedTables = !_tablesExistedBefore && existNow;
            if (CreatedTables == true)
                _logger.LogInformation("Created Quartz's tables in the schedules database {Database}", connection.Database);
            await using var unlock = new NpgsqlCommand($"SELECT pg_advisory_unlock({SchemaLockKey})", connection);
            await unlock.ExecuteNonQueryAsync(cancellationToken);
        }
        finally
        {
            await connection.DisposeAsync(); // closing the session releases the lock too
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        NpgsqlConnection? connection;
        lock (_gate)
        {
            connection = _lockConnection;
            _lockConnection = null;
        }

        connection?.Dispose();
    }

    private static async Task<bool> TryLockAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT pg_try_advisory_lock({SchemaLockKey})", connection);
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }

    private static async Task<bool> TablesExistAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT to_regclass('qrtz_locks') IS NOT NULL AND to_regclass('qrtz_job_details') IS NOT NULL", connection);
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }
}

/// <summary>Takes <see cref="PostgresScheduleStore"/>'s schema lock before Quartz's hosted service builds and starts the scheduler.</summary>
internal sealed class ScheduleSchemaLockAcquire(PostgresScheduleStore store, ISchedulerFactory schedulers) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.AcquireSchemaLockAsync(cancellationToken);
        // Build the scheduler now, under the lock: its job store creates the missing tables and validates them here.
        await schedulers.GetScheduler(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => store.ReleaseSchemaLockAsync(cancellationToken);
}

/// <summary>Releases <see cref="PostgresScheduleStore"/>'s schema lock once Quartz's hosted service has started.</summary>
internal sealed class ScheduleSchemaLockRelease(PostgresScheduleStore store) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => store.ReleaseSchemaLockAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
