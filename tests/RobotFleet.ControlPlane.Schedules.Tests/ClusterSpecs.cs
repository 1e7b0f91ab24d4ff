using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Quartz;
using RobotFleet.ControlPlane.Schedules;
using RobotFleet.Contracts;
using RobotFleet.Testing;
using Xunit.Abstractions;

namespace RobotFleet.ControlPlane.Schedules.Tests;

/// <summary>Runs only where <c>ROBOTFLEET_TEST_POSTGRES</c> holds a PostgreSQL connection string (<c>Host=...</c>); skipped otherwise.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (ConnectionString is null)
            Skip = "no PostgreSQL: set ROBOTFLEET_TEST_POSTGRES=Host=...;Database=...;Username=...;Password=... to run";
    }

    public static string? ConnectionString => Environment.GetEnvironmentVariable("ROBOTFLEET_TEST_POSTGRES") is { Length: > 0 } cs ? cs : null;

    /// <summary>A connection string to a database of its own (not created: the product creates it), dropped by the test.</summary>
    public static string Scratch() =>
        new NpgsqlConnectionStringBuilder(ConnectionString) { Database = $"rf_sched_{Guid.NewGuid():N}" }.ConnectionString;
}

/// <summary>A job that takes longer than its trigger's period; records when each run starts and ends, and on which scheduler.</summary>
[DisallowConcurrentExecution]
public sealed class SlowProbeJob : IJob
{
    public static readonly ConcurrentQueue<(string Instance, DateTimeOffset Start, DateTimeOffset End)> Runs = new();

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var start = DateTimeOffset.UtcNow;
        await Task.Delay(TimeSpan.FromMilliseconds(1500), CancellationToken.None);
        Runs.Enqueue((context.Scheduler.SchedulerInstanceId, start, DateTimeOffset.UtcNow));
    }
}

public sealed class When_the_schedules_jobs_are_declared
{
    [Theory]
    [InlineData(typeof(RecurringMissionJob))]
    [InlineData(typeof(RobotWatchdogJob))]
    public void Each_refuses_to_run_concurrently_with_itself_across_the_cluster(Type job) =>
        Assert.NotNull(job.GetCustomAttribute<DisallowConcurrentExecutionAttribute>());

    [Theory]
    [InlineData(null, null, ScheduleStoreKind.Memory)]
    [InlineData("/data", null, ScheduleStoreKind.Sqlite)]
    [InlineData("/data", "memory", ScheduleStoreKind.Memory)]
    [InlineData("/data", "Host=db;Database=robotfleet;Username=rf", ScheduleStoreKind.Postgres)]
    [InlineData(null, "host=db;Database=robotfleet", ScheduleStoreKind.Postgres)]
    [InlineData(null, "/var/lib/schedules.db", ScheduleStoreKind.Sqlite)]
    public void The_store_follows_the_setting(string? dataDirectory, string? database, ScheduleStoreKind kind)
    {
        var options = new ScheduleOptions { DataDirectory = dataDirectory, Database = database };
        Assert.Equal(kind, options.Kind);
        Assert.Equal(kind == ScheduleStoreKind.Postgres, options.PostgresConnectionString is not null);
        Assert.Equal(kind == ScheduleStoreKind.Sqlite, options.DatabasePath is not null);
    }
}

/// <summary>
/// Two schedules features (as two server instances would run them) on one PostgreSQL database: Quartz clustered. Real
/// PostgreSQL, a database of its own per test.
/// </summary>
public sealed class When_two_instances_share_a_postgres_schedule_store(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _database = PostgresFactAttribute.ConnectionString is null ? "" : PostgresFactAttribute.Scratch();

    private ScheduleOptions Options => new()
    {
        Database = _database,
        MisfireThreshold = TimeSpan.FromSeconds(60), // a late firing still runs (for its own fire time): every fire time must show
        WatchdogInterval = null,
        ClusterCheckinInterval = TimeSpan.FromSeconds(1),
        ClusterCheckinMisfireThreshold = TimeSpan.FromSeconds(2),
    };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (PostgresFactAttribute.ConnectionString is not null)
            await ScratchDatabase.DropAsync(_database);
    }

    [PostgresFact]
    public async Task Each_fire_time_runs_once_on_one_of_them_and_the_other_goes_on_alone_when_one_stops()
    {
        var a = await ScheduleHarness.StartAsync(null, options: Options);
        ScheduleHarness? b = null;
        var (aStopped, bStopped) = (false, false);
        try
        {
            // Four schedules due every second: more due at once than one node takes per acquisition, so both nodes compete.
            var names = Enumerable.Range(1, 4).Select(i => $"tick-{i}").ToList();
            foreach (var name in names)
            {
                var definition = new ScheduleDefinition(name, "* * * * * ?", "UTC", MisfirePolicy.Skip, new MissionTemplate(MissionKind.Delivery, "a", "b", 2));
                Assert.NotNull((await a.Schedules.CreateAsync(definition)).Created);
            }

            var probe = JobBuilder.Create<SlowProbeJob>().WithIdentity("slow-probe", "tests").Build();
            var scheduler = await a.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
            await scheduler.ScheduleJob(probe, TriggerBuilder.Create().WithIdentity("slow-probe", "tests").StartNow()
                .WithSimpleSchedule(s => s.WithInterval(TimeSpan.FromSeconds(1)).RepeatForever()).Build());

            // The second instance joins while the first fires (holding triggers, running the probe): it must take over
            // none of what the first holds (a scheduler that is not clustered "recovers" them all at start).
            var receivedA = a.Received;
            Assert.True(await Wait.UntilAsync(() => Task.FromResult(receivedA.Count >= 8), TimeSpan.FromSeconds(30)), $"fewer than 8 firings in 30 s: {receivedA.Count}");
            b = await ScheduleHarness.StartAsync(null, options: Options);
            var receivedB = b.Received;
            var all = () => receivedA.Concat(receivedB).ToList();
            var joinedAt = all().Count;
            Assert.True(await Wait.UntilAsync(() => Task.FromResult(all().Count >= joinedAt + 32), TimeSpan.FromSeconds(40)),
                $"fewer than 32 firings in 40 s with both: {all().Count - joinedAt}");
            var together = all().Count - joinedAt;

            // The instance that fired most stops; the other must carry on alone.
            await scheduler.PauseJob(probe.Key);
            var (busy, idle) = receivedA.Count >= receivedB.Count ? (a, b!) : (b!, a);
            var (firedByBusy, firedByIdle) = (busy.Received.Count, idle.Received.Count);
            var survivor = idle.Received;
            await busy.DisposeAsync();
            if (ReferenceEquals(busy, a)) aStopped = true; else bStopped = true;
            var stoppedAt = DateTimeOffset.UtcNow;
            var countAtStop = survivor.Count;
            Assert.True(await Wait.UntilAsync(() => Task.FromResult(survivor.Count >= countAtStop + 4 * names.Count), TimeSpan.FromSeconds(20)),
                $"the surviving instance fired {survivor.Count - countAtStop} times in 20 s after the other stopped");

            var missions = all();
            output.WriteLine($"{joinedAt} firings before the second joined, {together} while both ran (at the stop: {firedByBusy} by the instance stopped, {firedByIdle} by the other), then {survivor.Count - countAtStop} by the survivor alone after {stoppedAt:HH:mm:ss.fff}");
            var ids = missions.Select(m => m.MissionId).ToList();
            Assert.True(ids.Count == ids.Distinct().Count(),
                $"a fire time ran twice: {string.Join(", ", ids.GroupBy(t => t).Where(g => g.Count() > 1).Select(g => $"{g.Key} x{g.Count()}"))}");

            foreach (var name in names)
            {
                // Every second from the schedule's first to its last firing ran (none lost, also in the hand-over).
                var seconds = ids.Where(id => id.StartsWith($"sch-{name}-", StringComparison.Ordinal)).Select(ParseFireTime).Order().ToList();
                Assert.True(seconds.Count >= 10, $"{name} fired {seconds.Count} times");
                var gaps = seconds.Zip(seconds.Skip(1)).Where(p => p.Second - p.First != TimeSpan.FromSeconds(1)).ToList();
                Assert.True(gaps.Count == 0, $"{name}: fire times missing between {string.Join(", ", gaps.Select(g => $"{g.First:HH:mm:ss}..{g.Second:HH:mm:ss}"))}");

                // The shared firing log (PostgreSQL) has them all, whichever instance ran them.
                var logged = await idle.Schedules.FiringsAsync(name) ?? [];
                Assert.True(logged.Count >= Math.Min(seconds.Count, 50) - 1, $"{name}: firing log holds {logged.Count} of {seconds.Count}");
            }

            // The probe (1.5 s per run on a 1 s trigger) never ran twice at once, on one node or across both.
            var runs = SlowProbeJob.Runs.OrderBy(r => r.Start).ToList();
            output.WriteLine($"probe: {runs.Count} runs on {runs.Select(r => r.Instance).Distinct().Count()} instance(s)");
            Assert.True(runs.Count >= 3, $"the probe ran {runs.Count} times");
            var overlaps = runs.Zip(runs.Skip(1)).Where(p => p.Second.Start < p.First.End).ToList();
            Assert.True(overlaps.Count == 0, $"probe runs overlapped: {string.Join("; ", overlaps.Select(o => $"{o.First.Instance} {o.First.Start:HH:mm:ss.fff}-{o.First.End:HH:mm:ss.fff} / {o.Second.Instance} {o.Second.Start:HH:mm:ss.fff}"))}");
        }
        finally
        {
            if (!aStopped)
                await a.DisposeAsync();
            if (!bStopped && b is not null)
                await b.DisposeAsync();
        }
    }

    [PostgresFact]
    public async Task Quartzs_tables_are_created_once_when_both_start_at_the_same_time()
    {
        // With the robot watchdog on, as in the server: both add its job and trigger at start.
        var options = new ScheduleOptions
        {
            Database = _database, WatchdogInterval = TimeSpan.FromSeconds(1),
            ClusterCheckinInterval = TimeSpan.FromSeconds(1), ClusterCheckinMisfireThreshold = TimeSpan.FromSeconds(2),
        };
        var started = await Task.WhenAll(Start(), Start());
        Task<ScheduleHarness> Start() => ScheduleHarness.StartAsync(null, options: options, configure: s => s.AddSingleton<IRobotLastSeen>(new FixedLastSeen([])));
        await using var a = started[0];
        await using var b = started[1];
        var created = new[] { a, b }.Select(h => h.Services.GetRequiredService<PostgresScheduleStore>().CreatedTables).ToList();
        Assert.Equal([true, false], created.Order().Reverse().ToList());
        foreach (var host in started)
        {
            var scheduler = await host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
            Assert.True(await Wait.UntilAsync(() => Task.FromResult(scheduler.Status == SchedulerStatus.Running), TimeSpan.FromSeconds(20)), $"scheduler {scheduler.SchedulerInstanceId} is {scheduler.Status}");
        }

        // Both see one set of schedules.
        Assert.NotNull((await a.Schedules.CreateAsync(new ScheduleDefinition("nightly", "0 0 3 * * ?", "UTC", MisfirePolicy.Skip, new MissionTemplate(MissionKind.Delivery, "a", "b", 2)))).Created);
        Assert.NotNull(await b.Schedules.FindAsync("nightly"));
    }

    private static DateTimeOffset ParseFireTime(string missionId) =>
        DateTimeOffset.ParseExact(missionId[^16..], "yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal);
}
