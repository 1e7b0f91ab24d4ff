using Npgsql;
using RobotFleet.Server.Hosting;

namespace RobotFleet.Server.Tests;

/// <summary>A test that needs PostgreSQL (<c>ROBOTFLEET_TEST_POSTGRES</c>); skipped otherwise.</summary>
public sealed class LeaseFactAttribute : FactAttribute
{
    public LeaseFactAttribute()
    {
        if (ConnectionString is null)
            Skip = "no PostgreSQL: set ROBOTFLEET_TEST_POSTGRES=Host=127.0.0.1;Port=54329;Database=robotfleet;Username=postgres to run";
    }

    public static string? ConnectionString => Environment.GetEnvironmentVariable("ROBOTFLEET_TEST_POSTGRES") is { Length: > 0 } cs ? cs : null;
}

/// <summary>
/// The leader lease of several control-plane instances (issue 7): a PostgreSQL session-level advisory lock, on a scratch
/// database of the test's own.
/// </summary>
public sealed class When_instances_contend_for_the_leader_lease
{
    [LeaseFact]
    public async Task Should_let_one_lead_name_it_once_ready_and_hand_over_when_its_session_ends()
    {
        var database = await CreateDatabaseAsync();
        try
        {
            await using var a = new LeaderLease(database, "A");
            await using var b = new LeaderLease(database, "B");
            Assert.True(await a.TryAcquireAsync(CancellationToken.None));
            Assert.False(await b.TryAcquireAsync(CancellationToken.None));
            Assert.Null(await b.LeaderAsync(CancellationToken.None)); // holds the lock, not ready yet
            await a.AnnounceReadyAsync(CancellationToken.None);
            Assert.Equal("A", await b.LeaderAsync(CancellationToken.None));
            Assert.True(await a.CheckAsync(CancellationToken.None));

            await a.DisposeAsync(); // the session ends: the lock is free as soon as its server process has gone (milliseconds)
            Assert.True(await AcquiresAsync(b));
            Assert.Null(await b.LeaderAsync(CancellationToken.None));
            await b.AnnounceReadyAsync(CancellationToken.None);
            Assert.Equal("B", await b.LeaderAsync(CancellationToken.None));
        }
        finally
        {
            await RobotFleet.Testing.ScratchDatabase.DropAsync(database);
        }
    }

    [LeaseFact]
    public async Task Should_notice_the_loss_when_its_session_is_terminated_and_let_another_lead()
    {
        var database = await CreateDatabaseAsync();
        try
        {
            await using var a = new LeaderLease(database, "A");
            await using var b = new LeaderLease(database, "B");
            Assert.True(await a.TryAcquireAsync(CancellationToken.None));
            await a.AnnounceReadyAsync(CancellationToken.None);

            // What a database restart or a network cut does to the leader's session. Only in this test's database:
            // pg_stat_activity lists the whole cluster, and other test processes run instances named A at the same time
            // (regression: this killed the integration test's leader A, and counted 2).
            await using (var admin = new NpgsqlConnection(database))
            {
                await admin.OpenAsync();
                await using var kill = new NpgsqlCommand(
                    $"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '{LeaderLease.ApplicationNamePrefix}A' AND datname = current_database()", admin);
                Assert.Equal(1L, await kill.ExecuteScalarAsync());
            }

            Assert.False(await a.CheckAsync(CancellationToken.None));
            Assert.False(a.IsHeld);
            Assert.True(await AcquiresAsync(b));
        }
        finally
        {
            await RobotFleet.Testing.ScratchDatabase.DropAsync(database);
        }
    }

    /// <summary>Tries the lease every 200 ms for up to 10 s, as a standby does every second.</summary>
    private static async Task<bool> AcquiresAsync(LeaderLease lease) =>
        await ServerHost.WaitUntilAsync(() => lease.TryAcquireAsync(CancellationToken.None), TimeSpan.FromSeconds(10));

    private static async Task<string> CreateDatabaseAsync()
    {
        var builder = new NpgsqlConnectionStringBuilder(LeaseFactAttribute.ConnectionString) { Database = "postgres" };
        var name = $"rf_lease_{Guid.NewGuid():N}"[..24];
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await create.ExecuteNonQueryAsync();
        builder.Database = name;
        return builder.ConnectionString;
    }
}
