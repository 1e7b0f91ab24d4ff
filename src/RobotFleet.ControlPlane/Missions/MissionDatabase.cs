using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;

namespace RobotFleet.ControlPlane.Missions;

/// <summary>
/// Where missions, sent plans and the missions' state machines are stored: a SQLite file, or PostgreSQL when the setting is
/// an Npgsql connection string (it starts with <c>Host=</c>). Immutable and thread-safe.
/// </summary>
public sealed record MissionDatabase
{
    private MissionDatabase(string connectionString, bool isPostgres)
    {
        ConnectionString = connectionString;
        IsPostgres = isPostgres;
    }

    /// <summary>The ADO.NET connection string.</summary>
    public string ConnectionString { get; }

    /// <summary>True for PostgreSQL (Npgsql), false for SQLite.</summary>
    public bool IsPostgres { get; }

    /// <summary>
    /// Reads a setting: <c>Host=...</c> is a PostgreSQL connection string, <c>Data Source=...</c> a SQLite connection string,
    /// anything else the path of a SQLite file (its directory is created).
    /// </summary>
    /// <exception cref="ArgumentException">The setting is empty.</exception>
    public static MissionDatabase Parse(string setting)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(setting);
        var text = setting.Trim();
        if (text.StartsWith("Host=", StringComparison.OrdinalIgnoreCase))
            return new MissionDatabase(text, isPostgres: true);
        if (text.StartsWith("Data Source=", StringComparison.OrdinalIgnoreCase))
            return new MissionDatabase(text, isPostgres: false);
        if (Path.GetDirectoryName(Path.GetFullPath(text)) is { } directory)
            Directory.CreateDirectory(directory);
        return new MissionDatabase($"Data Source={text};Default Timeout=30", isPostgres: false);
    }

    /// <summary>
    /// The database <paramref name="options"/> choose: <see cref="ControlPlaneOptions.MissionsDatabase"/> when set, else
    /// <c>missions.db</c> in <see cref="ControlPlaneOptions.DataDirectory"/>; null when neither is set (in memory).
    /// </summary>
    public static MissionDatabase? From(ControlPlaneOptions options) =>
        options.MissionsDatabase is { Length: > 0 } setting ? Parse(setting)
        : options.MissionsDatabasePath is { } path ? Parse(path)
        : null;

    /// <summary>Options for a context of type <typeparamref name="T"/> on this database, with <paramref name="interceptors"/> if any.</summary>
    public DbContextOptions<T> Options<T>(params IInterceptor[] interceptors)
        where T : DbContext
    {
        var builder = new DbContextOptionsBuilder<T>();
        builder = IsPostgres ? builder.UseNpgsql(ConnectionString) : builder.UseSqlite(ConnectionString);
        if (interceptors.Length > 0)
            builder.AddInterceptors(interceptors);
        return builder.Options;
    }

    /// <summary>
    /// Creates the database when missing and any of <paramref name="db"/>'s tables and indexes that are missing (several
    /// contexts share one database, and an older file may lack newer tables). Idempotent; call once at start. Safe when
    /// several processes start together on one PostgreSQL database: they take turns on an advisory lock.
    /// </summary>
    public static void EnsureSchema(DbContext db)
    {
        var postgres = db.Database.ProviderName?.Contains("Npgsql", StringComparison.Ordinal) == true;
        if (postgres)
        {
            // CREATE TABLE IF NOT EXISTS is not safe against a concurrent one on PostgreSQL (both pass the check, one
            // fails on a unique violation in pg_type), and EnsureCreated creates tables without IF NOT EXISTS: create only
            // the database here, and the tables under a transaction-scoped advisory lock below.
            var creator = db.GetService<IRelationalDatabaseCreator>();
            if (!creator.Exists())
            {
                try
                {
                    creator.Create();
                }
                catch (Npgsql.PostgresException e) when (e.SqlState is Npgsql.PostgresErrorCodes.DuplicateDatabase or Npgsql.PostgresErrorCodes.UniqueViolation)
                {
                    // created by another process meanwhile
                }
            }
        }
        else
        {
            db.Database.EnsureCreated();
        }

        var script = CreateScript(db);
        var connection = db.Database.GetDbConnection();
        db.Database.OpenConnection();
        try
        {
            using var transaction = postgres ? connection.BeginTransaction() : null;
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = postgres ? $"SELECT pg_advisory_xact_lock({SchemaLockKey});\n{script}" : script;
            command.ExecuteNonQuery();
            transaction?.Commit();
        }
        finally
        {
            db.Database.CloseConnection();
        }
    }

    /// <summary>PostgreSQL advisory lock key the schema creation takes (any constant unique to this purpose).</summary>
    private const long SchemaLockKey = 0x5242_4D53_4348; // "RBMSCH"

    /// <summary>
    /// The SQL that creates <paramref name="db"/>'s tables and indexes where missing (<c>IF NOT EXISTS</c>, understood by SQLite
    /// and PostgreSQL). Needs no connection.
    /// </summary>
    public static string CreateScript(DbContext db) => db.Database.GenerateCreateScript()
        .Replace("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ", StringComparison.Ordinal)
        .Replace("CREATE UNIQUE INDEX ", "CREATE UNIQUE INDEX IF NOT EXISTS ", StringComparison.Ordinal)
        .Replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", StringComparison.Ordinal);
}
