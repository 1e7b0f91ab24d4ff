using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RobotFleet.ControlPlane.Missions;
using RobotFleet.ControlPlane.Missions.Lifecycle;
using RobotFleet.Contracts;
using RobotFleet.Maps;

namespace RobotFleet.ControlPlane.Tests;

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualTime : TimeProvider
{
    public DateTimeOffset Now { get; set; } = new(2026, 1, 1, 8, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => Now;

    public void Advance(TimeSpan by) => Now += by;
}

/// <summary>
/// A coordinator on the MassTransit test harness bus, a manual clock and simulated robots that
/// execute the published orders step by step. Every step checks the traffic invariant.
/// </summary>
internal sealed class Fleet : IAsyncDisposable
{
    public static readonly TimeSpan Round = TimeSpan.FromMilliseconds(500);
    private readonly ServiceProvider _services;

    private Fleet(SiteMap map, ServiceProvider services, ITestHarness harness, ControlPlaneOptions options)
    {
        Map = map;
        _services = services;
        Harness = harness;
        Options = options;
        Coordinator = NewCoordinator();
    }

    private FleetCoordinator NewCoordinator() => new(Options, Store, _services.GetRequiredService<IBus>(), Time, new ListLogger(this),
        MissionDatabase.From(Options) is { } database ? new EfMissionRepository(database) : null, _services.GetRequiredService<IMissionHistoryReader>());

    /// <summary>
    /// Drops the coordinator (as a crash would: nothing is flushed or said to anyone) and starts a new one with a fresh
    /// mission store on the same data directory, and lets it load (one tick). Messages published before stay in the harness.
    /// </summary>
    public async Task RestartAsync()
    {
        Store = new MissionStore();
        Coordinator = NewCoordinator();
        await TickAsync();
    }

    public SiteMap Map { get; }

    public ControlPlaneOptions Options { get; }

    public ManualTime Time { get; } = new();

    public MissionStore Store { get; private set; } = new();

    public ITestHarness Harness { get; }

    public FleetCoordinator Coordinator { get; private set; }

    /// <summary>Reads the mission state machine's instances.</summary>
    public IMissionHistoryReader Reader => _services.GetRequiredService<IMissionHistoryReader>();

    public Dictionary<string, SimRobot> Robots { get; } = [];

    /// <summary>The coordinator's log lines (information and up), stamped with the fleet clock.</summary>
    public List<string> Log { get; } = [];

    /// <summary>Invariant violations seen so far (asserted empty at the end of each run).</summary>
    public List<string> Violations { get; } = [];

    /// <summary>
    /// Starts a fleet on the map with the test timings; <paramref name="traffic"/> picks the traffic control (null: the
    /// product's default), for tests of behaviour that belongs to one of them.
    /// </summary>
    public static async Task<Fleet> StartAsync(SiteMap map, TimeSpan? lostBlockerTimeout = null, Func<ControlPlaneOptions, ControlPlaneOptions>? configure = null, string? dataDirectory = null,
        string? missionsDatabase = null, Action<IBusRegistrationConfigurator>? bus = null, TrafficControl? traffic = null)
    {
        var options = new ControlPlaneOptions
        {
            Map = map,
            TrafficControl = traffic ?? new ControlPlaneOptions { Map = map }.TrafficControl,
            BlockedResolveAfter = TimeSpan.FromSeconds(2),
            ReplanCooldown = TimeSpan.FromSeconds(3),
            LostBlockerTimeout = lostBlockerTimeout ?? TimeSpan.FromSeconds(20),
            ParkIdleAfter = null,
            DataDirectory = dataDirectory,
            MissionsDatabase = missionsDatabase,
        };
        options = configure?.Invoke(options) ?? options;
        var services = new ServiceCollection();
        services.AddMassTransitTestHarness(x =>
        {
            x.AddMissionLifecycle(options); // the mission state machine publishes MissionStatusChanged
            bus?.Invoke(x);
        });
        var provider = services.BuildServiceProvider(true);
        var harness = provider.GetRequiredService<ITestHarness>();
        await harness.Start();
        return new Fleet(map, provider, harness, options);
    }

    /// <summary>Adds a robot standing on <paramref name="waypoint"/> and reports its first state.</summary>
    public async Task<SimRobot> AddRobotAsync(string serial, string waypoint)
    {
        var robot = new SimRobot(this, new RobotId("acme", serial), waypoint);
        Robots[serial] = robot;
        await robot.ReportAsync();
        return robot;
    }

    public Task<object> SubmitAsync(string id, string? pickup, string? dropoff, int priority = 1) =>
        Coordinator.SubmitAsync(new SubmitMission(id, MissionKind.Delivery, pickup, dropoff, priority, "tester"), CancellationToken.None);

    public Task<object> SubmitAsync(SubmitMission mission) => Coordinator.SubmitAsync(mission, CancellationToken.None);

    /// <summary>Reports the factsheet of a robot (the actions it supports).</summary>
    public async Task FactsheetAsync(SimRobot robot, params string[] actions)
    {
        await Coordinator.OnFactsheetAsync(new RobotFactsheetReceived(robot.Id, actions, 100), CancellationToken.None);
        AfterCoordinatorCall();
    }

    public MissionView Mission(string id) => Store.Find(id) ?? throw new InvalidOperationException($"no mission {id}");

    public IReadOnlyList<DispatchRoute> Routes(SimRobot robot) =>
        Harness.Published.Select<DispatchRoute>().Select(m => m.Context.Message).Where(r => r.Robot == robot.Id).ToList();

    public IReadOnlyList<TriggerInstantActions> InstantActions(SimRobot robot) =>
        Harness.Published.Select<TriggerInstantActions>().Select(m => m.Context.Message).Where(r => r.Robot == robot.Id).ToList();

    /// <summary>
    /// The status changes the mission state machine published for a mission, once it has published one for every entry of
    /// the mission's history so far (it runs behind the coordinator, on the bus); what is there after 20 s otherwise.
    /// </summary>
    public async Task<IReadOnlyList<MissionStatusChanged>> StatusChangesAsync(string missionId)
    {
        List<MissionStatusChanged> Published() =>
            Harness.Published.Select<MissionStatusChanged>().Select(m => m.Context.Message).Where(m => m.MissionId == missionId).ToList();
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(20); // the machine retries a conflict for up to ~6 s; a loaded CI run needed more than 5 s
        while (Published().Count < (Store.Find(missionId)?.History.Count ?? 0) && DateTime.UtcNow < until)
            await Task.Delay(10);
        return Published();
    }

    /// <summary>One tick of the coordinator, followed by its lifecycle catch-up, as the server's ticker runs them.</summary>
    public async Task TickAsync()
    {
        await Coordinator.TickAsync(CancellationToken.None);
        await Coordinator.CatchUpLifecycleAsync(CancellationToken.None);
        AfterCoordinatorCall();
    }

    /// <summary>Advances the clock by <paramref name="by"/> in rounds, ticking, without robots moving.</summary>
    public async Task WaitAsync(TimeSpan by)
    {
        for (var waited = TimeSpan.Zero; waited < by; waited += Round)
        {
            Time.Advance(Round);
            await HeartbeatAsync();
            await TickAsync();
        }
    }

    /// <summary>Robots report at least every second, as real ones do (silent and offline ones excepted).</summary>
    private async Task HeartbeatAsync()
    {
        foreach (var robot in Robots.Values.Where(r => r.Online && Time.Now - r.LastReport >= TimeSpan.FromSeconds(1)).ToList())
            await robot.ReportAsync();
    }

    /// <summary>
    /// Runs rounds until <paramref name="done"/>: each online robot takes in new commands, takes one
    /// step (finish an action at its waypoint or drive to the next released waypoint) and reports;
    /// then the clock moves on by <see cref="Round"/> and the coordinator ticks.
    /// </summary>
    public async Task RunUntilAsync(Func<bool> done, int maxRounds = 200)
    {
        for (var round = 0; round < maxRounds && !done(); round++)
        {
            foreach (var robot in Robots.Values.Where(r => r.Online).ToList())
            {
                robot.Ingest();
                if (robot.Silent)
                    continue; // hung: takes in commands, neither moves nor reports
                if (robot.Step() | robot.Dirty)
                    await robot.ReportAsync();
            }

            Time.Advance(Round);
            await HeartbeatAsync();
            await TickAsync();
        }

        Assert.Empty(Violations);
        Assert.True(done(), $"condition not reached; missions: {string.Join("; ", Store.All.Select(m => $"{m.Id} {m.Status} {m.FailureReason}"))}; " +
                            $"robots: {string.Join("; ", Robots.Values.Select(r => $"{r.Id} at {r.LastNodeId} order {r.OrderId}/{r.UpdateId} pending [{string.Join(",", r.PendingWaypointIds)}]"))}");
    }

    /// <summary>Lets every robot take in what was published, then checks that no two robots hold the same waypoint.</summary>
    internal void AfterCoordinatorCall()
    {
        foreach (var robot in Robots.Values)
            robot.Ingest();
        var robots = Robots.Values.ToList();
        for (var i = 0; i < robots.Count; i++)
        {
            for (var j = i + 1; j < robots.Count; j++)
            {
                var shared = robots[i].HeldWaypoints.Intersect(robots[j].HeldWaypoints).ToList();
                if (shared.Count > 0)
                    Violations.Add($"{Time.Now:HH:mm:ss.f}: {robots[i].Id} and {robots[j].Id} both hold {string.Join(",", shared)}");
            }
        }
    }

    /// <summary>
    /// Checks that every mission's state machine agrees with the coordinator: it took in every fact of the mission's history
    /// (waiting up to 20 s for the bus), rejected none, and is in the mission's status.
    /// </summary>
    public async Task AssertLifecycleAgreesAsync()
    {
        var reader = Reader;
        foreach (var mission in Store.All)
        {
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(20); // the machine retries a conflict for up to ~6 s; a loaded CI run needed more than 5 s
            var state = await reader.FindAsync(mission.Id, CancellationToken.None);
            while ((state is null || state.LastSequence < mission.History.Count) && DateTime.UtcNow < until)
            {
                await Task.Delay(10);
                state = await reader.FindAsync(mission.Id, CancellationToken.None);
            }

            Assert.True(state is not null, $"mission {mission.Id} has no state machine instance");
            Assert.Equal(mission.History.Count, state.LastSequence);
            Assert.Empty(state.History.Where(h => !h.Accepted).Select(h => $"{mission.Id} fact {h.Sequence}: {h.Reason}"));
            Assert.True(mission.Status.ToString() == state.CurrentState && mission.History.Select(h => h.Status.ToString()).SequenceEqual(state.History.Select(h => h.To)),
                $"mission {mission.Id} is {mission.Status} ({string.Join(", ", mission.History.Select(h => h.Status))}); its state machine is {state.CurrentState} " +
                $"({string.Join(", ", state.History.Select(h => $"{h.Sequence}:{h.Event}:{h.From}->{h.To}"))})");
        }
    }

    /// <summary>Checks <see cref="AssertLifecycleAgreesAsync"/> for every test, then stops the bus.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await AssertLifecycleAgreesAsync();
        }
        finally
        {
            await Harness.Stop();
            await _services.DisposeAsync();
        }
    }
}

/// <summary>Keeps a coordinator's log lines in <see cref="Fleet.Log"/>.</summary>
internal sealed class ListLogger(Fleet fleet) : ILogger<FleetCoordinator>
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
            fleet.Log.Add($"{fleet.Time.Now:HH:mm:ss.f} {logLevel}: {formatter(state, exception)}");
    }
}
