using System.Collections.Concurrent;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RobotFleet.ControlPlane.Missions.Lifecycle;
using RobotFleet.Contracts;

namespace RobotFleet.ControlPlane.Tests;

/// <summary>The mission state machine alone on the MassTransit test harness, in memory or on a SQLite file; facts are published by hand.</summary>
internal sealed class LifecycleBus : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private LifecycleBus(ServiceProvider services, LogCollector logs)
    {
        _services = services;
        Logs = logs;
        Harness = services.GetRequiredService<ITestHarness>();
        Reader = services.GetRequiredService<IMissionHistoryReader>();
    }

    public ITestHarness Harness { get; }

    public IMissionHistoryReader Reader { get; }

    public LogCollector Logs { get; }

    /// <summary>Starts the bus; <paramref name="dataDirectory"/> puts the instances in <c>missions.db</c> there (EF Core repository).</summary>
    public static async Task<LifecycleBus> StartAsync(string? dataDirectory = null, Action<IServiceCollection>? services = null, Action<IBusRegistrationConfigurator>? bus = null,
        string? missionsDatabase = null, TimeSpan? attemptTimeout = null)
    {
        var options = new ControlPlaneOptions
        {
            Map = TestMaps.Corridor(), DataDirectory = dataDirectory, MissionsDatabase = missionsDatabase,
            LifecycleAttemptTimeout = attemptTimeout ?? TimeSpan.FromSeconds(30),
        };
        var collection = new ServiceCollection();
        var logs = new LogCollector();
        collection.AddLogging(b => b.AddProvider(logs));
        services?.Invoke(collection);
        collection.AddMassTransitTestHarness(x =>
        {
            x.AddMissionLifecycle(options);
            bus?.Invoke(x);
        });
        var provider = collection.BuildServiceProvider(true);
        // MassTransit keeps the current log context in an async-local; a bus started earlier in this test left its (disposed) one.
        LogContext.ConfigureCurrentLogContext(provider.GetRequiredService<ILoggerFactory>());
        var lifecycle = new LifecycleBus(provider, logs);
        await lifecycle.Harness.Start();
        return lifecycle;
    }

    public Task PublishAsync(params IMissionLifecycleFact[] facts) => Task.WhenAll(facts.Select(f => Harness.Bus.Publish(f, f.GetType())));

    /// <summary>The mission's instance once it has taken in fact <paramref name="sequence"/>.</summary>
    public async Task<MissionState> WaitForAsync(string missionId, long sequence, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var state = await Reader.FindAsync(missionId, CancellationToken.None);
            if (state is not null && state.LastSequence >= sequence)
                return state;
            if (DateTime.UtcNow > until)
                throw new TimeoutException($"mission {missionId} did not reach fact {sequence}; it is at {state?.LastSequence.ToString() ?? "(none)"} in {state?.CurrentState}");
            await Task.Delay(10);
        }
    }

    /// <summary>The mission's instance once <paramref name="until"/> holds for it.</summary>
    public async Task<MissionState> WaitUntilAsync(string missionId, Func<MissionState, bool> until)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var state = await Reader.FindAsync(missionId, CancellationToken.None);
            if (state is not null && until(state))
                return state;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"mission {missionId}: condition not reached; instance {state?.CurrentState ?? "(none)"} at {state?.LastSequence}");
            await Task.Delay(10);
        }
    }

    /// <summary>
    /// The status changes published for a mission, once no new one has come for 300 ms (at most 10 s): the outbox
    /// publishes after the instance's commit, so a reader that saw the commit may be ahead of the publication.
    /// </summary>
    public IReadOnlyList<MissionStatusChanged> StatusChanges(string missionId)
    {
        List<MissionStatusChanged> Read() => Harness.Published.Select<MissionStatusChanged>().Select(m => m.Context.Message).Where(m => m.MissionId == missionId).ToList();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        var changes = Read();
        var stableSince = DateTime.UtcNow;
        while (DateTime.UtcNow - stableSince < TimeSpan.FromMilliseconds(300) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
            var now = Read();
            if (now.Count != changes.Count)
                stableSince = DateTime.UtcNow;
            changes = now;
        }

        return changes;
    }

    public async ValueTask DisposeAsync()
    {
        await Harness.Stop();
        await _services.DisposeAsync();
    }
}

/// <summary>Facts as the coordinator would publish them: time is 08:00 plus the sequence in seconds.</summary>
internal static class Facts
{
    public static readonly RobotId R1 = new("acme", "r1");
    public static readonly RobotId R2 = new("acme", "r2");

    private static DateTimeOffset At(long sequence) => new DateTimeOffset(2026, 1, 1, 8, 0, 0, TimeSpan.Zero).AddSeconds(sequence);

    public static MissionSubmitted Submitted(string id, int priority = 1) => new(id, 1, At(1), "tester", "submitted", priority, null);

    public static MissionAssigned Assigned(string id, long seq, RobotId? robot = null) => new(id, seq, At(seq), "dispatcher", "assigned by the planner", robot ?? R1, id);

    public static MissionDispatched Dispatched(string id, long seq, RobotId? robot = null) => new(id, seq, At(seq), "dispatcher", $"order {id} sent", robot ?? R1, id);

    public static MissionStarted Started(string id, long seq) => new(id, seq, At(seq), R1.ToString(), $"robot accepted order {id}", R1, id);

    public static MissionPaused Paused(string id, long seq) => new(id, seq, At(seq), "alice", "paused by operator (startPause)", R1);

    public static MissionResumed Resumed(string id, long seq, bool acknowledged) => new(id, seq, At(seq), "alice", "resumed by operator (stopPause)", R1, acknowledged);

    public static MissionRequeued Requeued(string id, long seq) => new(id, seq, At(seq), "dispatcher", "robot acme/r1 was lost", R1);

    public static MissionCompleted Completed(string id, long seq) => new(id, seq, At(seq), R1.ToString(), "drop finished", R1);

    public static MissionFailed Failed(string id, long seq) => new(id, seq, At(seq), "dispatcher", "no route", null);

    public static MissionCancelled Cancelled(string id, long seq) => new(id, seq, At(seq), "alice", "cancelled by operator", null);

    public static MissionReprioritised Reprioritised(string id, long seq, int priority) => new(id, seq, At(seq), "alice", $"priority -> {priority}", priority);

    public static MissionReassigned Reassigned(string id, long seq, RobotId? robot) => new(id, seq, At(seq), "alice", $"reassigned to {robot}", robot);
}

/// <summary>Keeps every log entry written (thread-safe).</summary>
internal sealed class LogCollector : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, string Category, string Message)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCollector owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
                owner.Entries.Enqueue((logLevel, category, formatter(state, exception)));
        }
    }
}
