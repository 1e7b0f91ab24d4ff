using Npgsql;

namespace RobotFleet.Testing;

/// <summary>Throwaway PostgreSQL databases of tests and benches (each run names its own, the product creates it).</summary>
internal static class ScratchDatabase
{
    /// <summary>Drops the database <paramref name="connectionString"/> names, closing its connections first (PostgreSQL 13+).</summary>
    public static async Task DropAsync(string connectionString)
    {
        NpgsqlConnection.ClearAllPools();
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var name = builder.Database;
        builder.Database = "postgres";
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
