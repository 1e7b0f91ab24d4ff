using System.Collections.Concurrent;
using System.Data.Common;
using MassTransit;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using RobotFleet.ControlPlane.Missions;
using RobotFleet.ControlPlane.Missions.Lifecycle;
using RobotFleet.Contracts;
using static RobotFleet.ControlPlane.Tests.Facts;

namespace RobotFleet.ControlPlane.Tests;

public sealed class When_mission_states_are_stored_in_sqlite : IDisposable
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "robotfleet-saga-" + Guid.NewGuid().ToString("N"));

    private string DatabasePath => Path.Combine(_dataDirectory, "missions.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dataDirectory))
            Directory.Delete(_dataDirectory, recursive: true);
    }

    [Fact]
    public async Task Should_keep_instance_and_history_rows_across_a_restart_with_one_version_per_save()
    {
        await using (var bus = await LifecycleBus.StartAsync(_dataDirectory))
        {
            await bus.PublishAsync(Submitted("m1"));
            await bus.WaitForAsync("m1", 1);
            await bus.PublishAsync(Assigned("m1", 2));
            await bus.WaitForAsync("m1", 2);
        }

        Assert.Equal([("m1", "Assigned", 2L, 2L)], Query("SELECT MissionId, CurrentState, Version, LastSequence FROM mission_states",
            r => (r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetInt64(3))));
        Assert.Equal([(1L, "submitted", "Initial", "Queued"), (2L, "assigned", "Queued", "Assigned")],
            Query("SELECT \"Index\", Event, \"From\", \"To\" FROM mission_history ORDER BY \"Index\"", r => (r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3))));

        await using (var bus = await LifecycleBus.StartAsync(_dataDirectory))
        {
            await bus.PublishAsync(Assigned("m1", 2)); // redelivered after the restart: nothing to write
            await bus.PublishAsync(Dispatched("m1", 3));
            var state = await bus.WaitForAsync("m1", 3);
            Assert.Equal("Dispatched", state.CurrentState);
            Assert.Equal(["submitted", "assigned", "dispatched"], state.History.Select(h => h.Event));
        }

        Assert.Equal([3L], Query("SELECT Version FROM mission_states", r => r.GetInt64(0)));
        Assert.Equal([3L], Query("SELECT COUNT(*) FROM mission_history", r => r.GetInt64(0)));
    }

    [Fact]
    public async Task Should_retry_a_message_that_lost_a_version_conflict_and_apply_both_concurrent_facts()
    {
        var state = await ConflictAsync(DatabasePath, "m1");

        Assert.Equal(3, state.Version);
        Assert.Equal([3L], Query("SELECT Version FROM mission_states", r => r.GetInt64(0)));
    }

    [PostgresFact]
    public async Task Should_retry_a_lost_version_conflict_on_postgresql_too()
    {
        var state = await ConflictAsync(PostgresFactAttribute.ConnectionString!, $"pg-{Guid.NewGuid():N}");

        Assert.Equal(3, state.Version);
    }

    /// <summary>
    /// Two facts of one mission saved concurrently against the same version by two control-plane processes (two buses on one
    /// database; within one process a mission's facts are partitioned): one wins, the other is retried.
    /// </summary>
    private async Task<MissionState> ConflictAsync(string database, string id)
    {
        var chaos = new Chaos();
        await using var bus = await LifecycleBus.StartAsync(_dataDirectory, services: s => s.AddSingleton(chaos.Store(database)));
        await using var other = await LifecycleBus.StartAsync(_dataDirectory, services: s => s.AddSingleton(chaos.Store(database)));
        await bus.PublishAsync(Submitted(id));
        await bus.WaitForAsync(id, 1);

        // Both messages read version 1 before either writes: the first two saves wait for each other.
        chaos.Rendezvous = 2;
        await Task.WhenAll(bus.PublishAsync(Assigned(id, 2)), other.PublishAsync(Dispatched(id, 3)));
        var state = await bus.WaitForAsync(id, 3);

        Assert.True(chaos.Rendezvoused, "the two saves did not meet: the messages were not concurrent");
        Assert.Equal(1, chaos.Conflicts);
        Assert.Equal("Dispatched", state.CurrentState);
        Assert.Equal(["submitted", "assigned", "dispatched"], state.History.Select(h => h.Event));
        Assert.All(state.History, h => Assert.True(h.Accepted));
        Assert.Null(state.Parked);
        // The attempt that lost published nothing: one status change per applied fact, in order.
        await WaitForAsync(() => bus.StatusChanges(id).Count + other.StatusChanges(id).Count >= 3);
        Assert.Equal([MissionStatus.Queued, MissionStatus.Assigned, MissionStatus.Dispatched],
            bus.StatusChanges(id).Concat(other.StatusChanges(id)).OrderBy(c => c.Timestamp).Select(c => c.Status));
        return state;
    }

    [Fact]
    public async Task Should_publish_the_status_change_only_after_the_instance_was_committed()
    {
        var chaos = new Chaos { CommitDelay = TimeSpan.FromMilliseconds(150), FailSaves = 1 };
        var probe = new StatusProbe();
        await using var bus = await LifecycleBus.StartAsync(_dataDirectory, services: s =>
        {
            s.AddSingleton(chaos.Store(DatabasePath));
            s.AddSingleton(probe);
        }, bus: x => x.AddConsumer<StatusProbeConsumer>());

        // The first save fails (as a lost conflict would), every commit takes 150 ms: without the outbox the status changes
        // would be out (twice for the first) while the instance is still uncommitted.
        await bus.PublishAsync(Submitted("m1"));
        await bus.WaitForAsync("m1", 1);
        await bus.PublishAsync(Assigned("m1", 2));
        await bus.WaitForAsync("m1", 2);
        await bus.PublishAsync(Dispatched("m1", 3));
        await bus.WaitForAsync("m1", 3);
        await WaitForAsync(() => probe.Seen.Count >= 3);

        Assert.Equal(1, chaos.Failed);
        Assert.Equal([(MissionStatus.Queued, true), (MissionStatus.Assigned, true), (MissionStatus.Dispatched, true)], probe.Seen);
        Assert.Equal(3, bus.StatusChanges("m1").Count);
    }

    private List<T> Query<T>(string sql, Func<SqliteDataReader, T> read)
    {
        using var connection = new SqliteConnection($"Data Source={DatabasePath}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
            rows.Add(read(reader));
        return rows;
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition() && DateTime.UtcNow < until)
            await Task.Delay(10);
    }

    /// <summary>
    /// Interferes with the store's saves: makes the next <see cref="Rendezvous"/> saves wait for each other before their
    /// transaction starts, fails the first <see cref="FailSaves"/> saves, delays each commit, and counts version conflicts.
    /// </summary>
    private sealed class Chaos
    {
        private readonly TransactionHook _transactions;
        private readonly SaveHook _saves;
        private int _arrived;
        private TaskCompletionSource _met = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Chaos()
        {
            _transactions = new TransactionHook(this);
            _saves = new SaveHook(this);
        }

        public int Rendezvous { get; set; }

        public bool Rendezvoused { get; private set; }

        public TimeSpan CommitDelay { get; init; }

        public int FailSaves { get; init; }

        public int Failed => _saves.FailedCount;

        public int Conflicts => _saves.ConflictCount;

        public EfMissionStateStore Store(string path) => new(MissionDatabase.Parse(path), _transactions, _saves);

        private async Task BeforeTransactionAsync()
        {
            if (Rendezvous <= 0)
                return;
            if (Interlocked.Increment(ref _arrived) > Rendezvous)
                return;
            if (_arrived == Rendezvous)
            {
                Rendezvoused = true;
                _met.TrySetResult();
            }

            await _met.Task.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { });
        }

        private sealed class TransactionHook(Chaos chaos) : DbTransactionInterceptor
        {
            public override async ValueTask<InterceptionResult<DbTransaction>> TransactionStartingAsync(DbConnection connection, TransactionStartingEventData eventData,
                InterceptionResult<DbTransaction> result, CancellationToken cancellationToken = default)
            {
                // Only saves meet: a reader's snapshot transaction (IMissionHistoryReader.FindAsync, polled by the test) has
                // nothing to save and must not take a place at the rendezvous (it did under load, and the saves never met).
                if (eventData.Context?.ChangeTracker.HasChanges() == true)
                    await chaos.BeforeTransactionAsync();
                return result;
            }

            public override async ValueTask<InterceptionResult> TransactionCommittingAsync(DbTransaction transaction, TransactionEventData eventData,
                InterceptionResult result, CancellationToken cancellationToken = default)
            {
                if (chaos.CommitDelay > TimeSpan.Zero)
                    await Task.Delay(chaos.CommitDelay, cancellationToken);
                return result;
            }
        }

        private sealed class SaveHook(Chaos chaos) : SaveChangesInterceptor
        {
            private int _saves;
            private int _failed;
            private int _conflicts;

            public int FailedCount => _failed;

            public int ConflictCount => _conflicts;

            public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
            {
                if (Interlocked.Increment(ref _saves) <= chaos.FailSaves)
                {
                    Interlocked.Increment(ref _failed);
                    throw new DbUpdateConcurrencyException("simulated: the instance was saved by someone else");
                }

                return ValueTask.FromResult(result);
            }

            public override ValueTask<InterceptionResult> ThrowingConcurrencyExceptionAsync(ConcurrencyExceptionEventData eventData, InterceptionResult result,
                CancellationToken cancellationToken = default)
            {
                Interlocked.Increment(ref _conflicts);
                return ValueTask.FromResult(result);
            }
        }
    }

    /// <summary>What <see cref="StatusProbeConsumer"/> saw: each status and whether the instance already showed it committed.</summary>
    private sealed class StatusProbe
    {
        public ConcurrentQueue<(MissionStatus Status, bool Committed)> Seen { get; } = new();
    }

    /// <summary>On each status change, reads the instance from the database on its own connection.</summary>
    private sealed class StatusProbeConsumer(StatusProbe probe, IMissionHistoryReader reader) : IConsumer<MissionStatusChanged>
    {
        public async Task Consume(ConsumeContext<MissionStatusChanged> context)
        {
            var m = context.Message;
            var state = await reader.FindAsync(m.MissionId, context.CancellationToken);
            var committed = state?.History.Any(h => h.Accepted && h.To == m.Status.ToString() && h.Timestamp == m.Timestamp) ?? false;
            probe.Seen.Enqueue((m.Status, committed));
        }
    }
}
