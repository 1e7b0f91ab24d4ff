using Microsoft.EntityFrameworkCore;
using Npgsql;
using RobotFleet.Contracts;
using RobotFleet.ControlPlane.Missions;
using RobotFleet.ControlPlane.Missions.Lifecycle;
using static RobotFleet.ControlPlane.Tests.Facts;

namespace RobotFleet.ControlPlane.Tests;

/// <summary>Runs only where <c>ROBOTFLEET_TEST_POSTGRES</c> holds a PostgreSQL connection string (<c>Host=...</c>); skipped otherwise.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (ConnectionString is null)
            Skip = "no PostgreSQL: set ROBOTFLEET_TEST_POSTGRES=Host=...;Database=...;Username=...;Password=... to run";
    }

    public static string? ConnectionString => Environment.GetEnvironmentVariable("ROBOTFLEET_TEST_POSTGRES") is { Length: > 0 } cs ? cs : null;
}

public sealed class When_the_missions_database_is_chosen
{
    [Theory]
    [InlineData("Host=db;Database=robotfleet;Username=rf", true)]
    [InlineData("host=db;Database=robotfleet", true)]
    [InlineData("Data Source=/tmp/x.db", false)]
    public void Should_pick_the_provider_from_the_setting(string setting, bool postgres)
    {
        var database = MissionDatabase.Parse(setting);

        Assert.Equal(postgres, database.IsPostgres);
        Assert.Equal(setting, database.ConnectionString);
    }

    [Fact]
    public void Should_prefer_the_missions_database_over_the_data_directory()
    {
        var map = TestMaps.Corridor();

        Assert.Null(MissionDatabase.From(new ControlPlaneOptions { Map = map }));
        Assert.True(MissionDatabase.From(new ControlPlaneOptions { Map = map, DataDirectory = "/tmp/x", MissionsDatabase = "Host=db" })!.IsPostgres);
        var sqlite = MissionDatabase.From(new ControlPlaneOptions { Map = map, DataDirectory = Path.GetTempPath() })!;
        Assert.False(sqlite.IsPostgres);
        Assert.Contains(Path.Combine(Path.GetTempPath(), "missions.db"), sqlite.ConnectionString);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Should_create_every_table_and_index_only_where_missing(bool postgres)
    {
        var database = MissionDatabase.Parse(postgres ? "Host=localhost;Database=robotfleet" : "Data Source=:memory:");
        using var states = new MissionStateDbContext(database.Options<MissionStateDbContext>());
        using var missions = new MissionsDbContext(database.Options<MissionsDbContext>());

        foreach (var script in new[] { MissionDatabase.CreateScript(states), MissionDatabase.CreateScript(missions) })
        {
            Assert.Contains("CREATE TABLE IF NOT EXISTS", script);
            Assert.DoesNotMatch(@"CREATE (UNIQUE )?(TABLE|INDEX) (?!IF NOT EXISTS)", script);
        }

        Assert.Contains("mission_states", MissionDatabase.CreateScript(states));
        Assert.Contains("mission_history", MissionDatabase.CreateScript(states));
    }

    [PostgresFact]
    public async Task Should_keep_missions_plans_and_state_machines_in_postgresql_across_a_restart()
    {
        // A database of its own (EnsureCreated creates it), dropped afterwards.
        var connectionString = new NpgsqlConnectionStringBuilder(PostgresFactAttribute.ConnectionString) { Database = $"rf_test_{Guid.NewGuid():N}" }.ConnectionString;
        try
        {
            await using var fleet = await Fleet.StartAsync(TestMaps.LongCorridor(), missionsDatabase: connectionString);
            var robot = await fleet.AddRobotAsync("r1", "A");
            Assert.IsType<MissionAccepted>(await fleet.SubmitAsync("m1", "a", "e"));
            await fleet.RunUntilAsync(() => fleet.Mission("m1").Status == MissionStatus.Executing && robot.Trail.Count >= 3);

            await fleet.RestartAsync();

            Assert.Equal(MissionStatus.Executing, fleet.Mission("m1").Status);
            await fleet.RunUntilAsync(() => fleet.Mission("m1").Status == MissionStatus.Completed);
            Assert.Equal(1, robot.Executed.Count(a => a.EndsWith("-drop", StringComparison.Ordinal)));
            await fleet.AssertLifecycleAgreesAsync();
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            using var db = new MissionsDbContext(MissionDatabase.Parse(connectionString).Options<MissionsDbContext>());
            db.Database.EnsureDeleted();
        }
    }

    [PostgresFact]
    public async Task Should_create_the_schema_on_postgresql_from_several_control_planes_starting_together()
    {
        // CREATE TABLE IF NOT EXISTS is not safe against a concurrent one on PostgreSQL (unique violation on pg_type):
        // instances starting together on one database (docker-compose up --scale server=2) must not fail.
        var connectionString = new NpgsqlConnectionStringBuilder(PostgresFactAttribute.ConnectionString) { Database = $"rf_test_{Guid.NewGuid():N}" }.ConnectionString;
        var database = MissionDatabase.Parse(connectionString);
        try
        {
            // The database exists and is empty, as docker-compose's postgres service creates it.
            await using (var admin = new NpgsqlConnection(PostgresFactAttribute.ConnectionString))
            {
                await admin.OpenAsync();
                await using var create = admin.CreateCommand();
                create.CommandText = $"CREATE DATABASE \"{new NpgsqlConnectionStringBuilder(connectionString).Database}\"";
                await create.ExecuteNonQueryAsync();
            }

            using var start = new Barrier(6);
            await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(() =>
            {
                using DbContext db = i % 2 == 0
                    ? new MissionStateDbContext(database.Options<MissionStateDbContext>())
                    : new MissionsDbContext(database.Options<MissionsDbContext>());
                _ = db.Model; // built and connected before the start, so that the six really run together
                Assert.True(db.Database.CanConnect());
                start.SignalAndWait();
                MissionDatabase.EnsureSchema(db);
            })));

            using var states = new MissionStateDbContext(database.Options<MissionStateDbContext>());
            Assert.Equal(0, await states.Set<MissionState>().CountAsync());
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            using var db = new MissionsDbContext(database.Options<MissionsDbContext>());
            db.Database.EnsureDeleted();
        }
    }

    [PostgresFact]
    public async Task Should_run_the_state_machine_on_postgresql_with_facts_arriving_together()
    {
        var id = $"pg-{Guid.NewGuid():N}";
        await using var bus = await LifecycleBus.StartAsync(missionsDatabase: PostgresFactAttribute.ConnectionString);

        await bus.PublishAsync(Submitted(id));
        await bus.WaitForAsync(id, 1);
        await bus.PublishAsync(Assigned(id, 2), Dispatched(id, 3), Started(id, 4));
        var state = await bus.WaitForAsync(id, 4);

        Assert.Equal("Executing", state.CurrentState);
        Assert.Equal(["submitted", "assigned", "dispatched", "started"], state.History.Select(h => h.Event));
        Assert.All(state.History, h => Assert.True(h.Accepted));
    }
}
