using MassTransit;
using RobotFleet.ControlPlane.Missions;
using RobotFleet.Contracts;
using RobotFleet.Gateway;

namespace RobotFleet.Server.Hosting;

/// <summary>
/// Active/standby control-plane instances: decides whether this instance is the fleet's one decider, and switches the
/// decider's duties on and off. With a <see cref="LeaderLease"/> (missions in PostgreSQL) the instance starts as a standby
/// and becomes the leader when it takes the lease; without one (SQLite or in memory: one instance) it leads from the start.
/// </summary>
/// <remarks>
/// The leader alone runs the fleet coordinator (ticks, decisions), consumes the shared queues of robot events, mission
/// submit/cancel/reassign requests and robot commands (connected here, on becoming leader, through
/// <see cref="IReceiveEndpointConnector"/>: a standby never competes for them), and turns robot MQTT messages into bus
/// events (<see cref="MqttGateway.StartPublishing"/>). So each robot's messages are processed by exactly one instance at a
/// time, in order. A standby keeps its twins current from MQTT (read-only), mirrors the missions from the store every
/// second for its API, sends submits and cancels over the bus to the leader, and tries the lease every second. Taking over
/// is a restart of the coordinator: its first tick loads the stored missions and reconciles them with what the robots report.
/// A leader that loses its lease stops deciding at once and stops the process (exit code 75): a supervisor restarts it, as
/// a standby. Thread-safe.
/// </remarks>
public sealed class Leadership(
    ServerOptions options,
    LeaderLease? lease,
    FleetCoordinator coordinator,
    MqttGateway gateway,
    MissionStore missions,
    IMissionRepository repository,
    IServiceProvider services,
    IHostApplicationLifetime lifetime,
    ILogger<Leadership> logger) : BackgroundService, IHostedLifecycleService, ControlPlane.Missions.IDecidingTurn
{
    /// <summary>The process exit code after leadership was lost (EX_TEMPFAIL): restart me.</summary>
    public const int LostLeadershipExitCode = 75;

    private readonly TaskCompletionSource _leading = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private HostReceiveEndpointHandle[] _endpoints = [];
    private volatile string? _leader;

    /// <summary>This instance's id (<c>--instance-id</c>).</summary>
    public string InstanceId => options.InstanceId;

    /// <summary>True once this instance leads (the decider); false on a standby.</summary>
    public bool IsLeader => _leading.Task.IsCompleted;

    /// <summary>True when this instance shares the fleet with others (a leader lease is in use).</summary>
    public bool IsShared => lease is not null;

    /// <summary>
    /// The leader's instance id as last seen: this instance's once it leads; on a standby the id of the lease holder that took
    /// on its duties (checked every second), or null when there is none (yet).
    /// </summary>
    public string? Leader => IsLeader ? InstanceId : _leader;

    /// <summary>
    /// Waits until a leader consumes the decider's queues (this instance, or another as last seen), at most
    /// <paramref name="timeout"/>; true when there is one. A request published before any leader of a new fleet connected its
    /// queues would be lost.
    /// </summary>
    public async Task<bool> WaitForLeaderAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var until = DateTime.UtcNow + timeout;
        while (Leader is null)
        {
            if (DateTime.UtcNow >= until)
                return false;
            await Task.Delay(100, cancellationToken);
        }

        return true;
    }

    /// <inheritdoc />
    public Task WhenDecidingAsync(CancellationToken cancellationToken) => _leading.Task.WaitAsync(cancellationToken);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (lease is null)
        {
            _leading.TrySetResult(); // the only instance: its endpoints are configured with the bus, its gateway publishes
            return;
        }

        try
        {
            // Contend only once every hosted service (the bus among them) has started: the decider's endpoints connect to a
            // running bus.
            await WhenStartedAsync(stoppingToken);
            await StandbyAsync(lease, stoppingToken);
            await LeadAsync(lease, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down
        }
        finally
        {
            // Stopping (after the bus: hosted services stop in reverse order): free the lease for a standby.
            coordinator.StopDeciding();
            gateway.StopPublishing();
            await StopDeciderEndpointsAsync();
            await lease.DisposeAsync();
        }
    }

    /// <summary>
    /// As the host begins to stop, before any service stops: take nothing more from the decider's queues (what is left there
    /// waits for the next leader) and publish no more robot events.
    /// </summary>
    async Task IHostedLifecycleService.StoppingAsync(CancellationToken cancellationToken)
    {
        if (lease is null)
            return; // the only instance: its endpoints stop with the bus, as they always did
        gateway.StopPublishing();
        await StopDeciderEndpointsAsync();
    }

    Task IHostedLifecycleService.StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task StopDeciderEndpointsAsync()
    {
        var endpoints = Interlocked.Exchange(ref _endpoints, []);
        foreach (var endpoint in endpoints)
        {
            try
            {
                await endpoint.StopAsync(CancellationToken.None);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                logger.LogDebug("Stopping a receive endpoint: {Error}", e.Message);
            }
        }
    }

    private async Task WhenStartedAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await started.Task.WaitAsync(stoppingToken);
    }

    /// <summary>Until the lease is taken: mirrors the stored missions for the API and tries the lease, every second.</summary>
    private async Task StandbyAsync(LeaderLease lease, CancellationToken stoppingToken)
    {
        var loggedStandby = false;
        var databaseDown = false;
        while (true)
        {
            try
            {
                if (await lease.TryAcquireAsync(stoppingToken))
                    return;
                var leader = await lease.LeaderAsync(stoppingToken);
                if (!loggedStandby || leader != _leader)
                    logger.LogInformation("Instance {Instance} is a standby: instance {Leader} leads (PostgreSQL advisory lock lease); serving the API, taking over when it goes",
                        InstanceId, leader ?? "(none)");
                _leader = leader;
                loggedStandby = true;
                await MirrorMissionsAsync(stoppingToken);
                if (databaseDown)
                    logger.LogInformation("Instance {Instance} reaches the missions database again", InstanceId);
                databaseDown = false;
            }
            catch (Exception e) when (e is not OperationCanceledException && !stoppingToken.IsCancellationRequested)
            {
                if (!databaseDown)
                    logger.LogWarning("Instance {Instance} (standby) cannot reach the missions database: {Error}; trying again every second", InstanceId, e.Message);
                databaseDown = true;
            }

            await Task.Delay(LeaderLease.CheckInterval, stoppingToken);
        }
    }

    /// <summary>Takes on the decider's duties, then checks the lease every second; stops the process when it is lost.</summary>
    private async Task LeadAsync(LeaderLease lease, CancellationToken stoppingToken)
    {
        logger.LogWarning("Instance {Instance} is the leader now (PostgreSQL advisory lock {Key}): it decides and ingests robot messages", InstanceId, LeaderLease.LockKey);
        await WaitForBusEndpointsAsync(stoppingToken);
        await ConnectDeciderEndpointsAsync(stoppingToken);
        _leading.TrySetResult(); // the coordinator's first tick loads the stored missions (restart path)
        gateway.StartPublishing();
        await lease.AnnounceReadyAsync(stoppingToken); // standbys send requests over the bus from now on

        using var timer = new PeriodicTimer(LeaderLease.CheckInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (await lease.CheckAsync(stoppingToken))
                continue;
            coordinator.StopDeciding();
            gateway.StopPublishing();
            logger.LogCritical("Instance {Instance} lost the leader lease (its PostgreSQL session failed): it stopped deciding and exits with code {Code}; restart it to rejoin as a standby",
                InstanceId, LostLeadershipExitCode);
            Environment.ExitCode = LostLeadershipExitCode;
            lifetime.StopApplication();
            return;
        }
    }

    /// <summary>
    /// Waits, at most 60 s, until the bus's own receive endpoints are ready (their queues bound to their messages' exchanges):
    /// the host starts while MassTransit is still declaring them, and a lifecycle fact published before the mission state
    /// machine's queue is bound to its exchange is confirmed by the broker and dropped. Longer (the broker unreachable): logs a
    /// warning and goes on; the coordinator publishes again what the machine has not taken in
    /// (<see cref="FleetCoordinator.CatchUpLifecycleAsync"/>).
    /// </summary>
    private async Task WaitForBusEndpointsAsync(CancellationToken stoppingToken)
    {
        var bus = services.GetRequiredService<IBusControl>();
        if (await bus.WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(60)).WaitAsync(stoppingToken) != BusHealthStatus.Healthy)
        {
            var health = bus.CheckHealth();
            logger.LogWarning("The bus's receive endpoints are not all ready after 60 s ({Status}: {Description}); deciding anyway", health.Status, health.Description);
        }
    }

    /// <summary>Copies every stored mission into the <see cref="MissionStore"/> the API reads (a standby's coordinator holds none).</summary>
    private async Task MirrorMissionsAsync(CancellationToken stoppingToken)
    {
        var snapshot = await Task.Run(repository.Load, stoppingToken);
        foreach (var stored in snapshot.Missions)
            missions.Save(stored.Mission);
    }

    /// <summary>
    /// Connects the receive endpoints only the decider consumes from: robot events (purged first: see the comment there),
    /// mission submit/cancel/reassign, and the gateway's robot commands (both kept: requests and commands already decided);
    /// the same queue names (and <c>--bus-prefix</c>) and limits as a single instance's.
    /// </summary>
    private async Task ConnectDeciderEndpointsAsync(CancellationToken stoppingToken)
    {
        var connector = services.GetRequiredService<IReceiveEndpointConnector>();
        var prefix = options.BusPrefix ?? "";
        var names = DefaultEndpointNameFormatter.Instance;
        _endpoints =
        [
            connector.ConnectReceiveEndpoint(prefix + MissionsRegistration.RobotEventsQueue, (context, e) =>
            {
                // What the previous leader's gateway published and its coordinator did not take is stale now (a robot's state
                // from before an order it accepted since would requeue that mission): drop it. This gateway announces every
                // robot's connection and factsheet afresh and passes on each robot's next state, as after a restart.
                if (e is IRabbitMqQueueEndpointConfigurator rabbit)
                    rabbit.PurgeOnStartup = true;
                e.ConcurrentMessageLimit = 1;
                e.ConfigureConsumer<RobotEventsConsumer>(context);
            }),
            connector.ConnectReceiveEndpoint(prefix + names.Consumer<SubmitMissionConsumer>(), (context, e) => e.ConfigureConsumer<SubmitMissionConsumer>(context)),
            connector.ConnectReceiveEndpoint(prefix + names.Consumer<CancelMissionConsumer>(), (context, e) => e.ConfigureConsumer<CancelMissionConsumer>(context)),
            connector.ConnectReceiveEndpoint(prefix + names.Consumer<ReassignMissionConsumer>(), (context, e) => e.ConfigureConsumer<ReassignMissionConsumer>(context)),
            connector.ConnectReceiveEndpoint(prefix + GatewayRegistration.EndpointName, (context, e) =>
            {
                e.ConcurrentMessageLimit = 1;
                e.ConfigureConsumer<DispatchRouteConsumer>(context);
                e.ConfigureConsumer<TriggerInstantActionsConsumer>(context);
            }),
        ];
        foreach (var handle in _endpoints)
            await handle.Ready.WaitAsync(TimeSpan.FromSeconds(60), stoppingToken);
    }

    /// <summary>The consumers <see cref="ConnectDeciderEndpointsAsync"/> connects; left out of the bus's own endpoints on a shared fleet.</summary>
    public static readonly Type[] DeciderConsumers =
    [
        typeof(RobotEventsConsumer), typeof(SubmitMissionConsumer), typeof(CancelMissionConsumer), typeof(ReassignMissionConsumer),
        typeof(DispatchRouteConsumer), typeof(TriggerInstantActionsConsumer),
    ];
}

/// <summary>
/// Counts what this instance's coordinator took from the shared robot-events queue (not the per-instance live stream's
/// copies): the <see cref="RobotStateChanged"/> events it handled, for <c>GET /api/instance</c>, and every message delivered
/// and in its consumer now, for the <see cref="BusWatchdog"/>. Thread-safe.
/// </summary>
public sealed class RobotEventCounter : IConsumeObserver
{
    private long _states;
    private long _received;
    private long _inConsumer;

    /// <summary>Robot states consumed by the coordinator since start (its consumer finished with them).</summary>
    public long StatesHandled => Interlocked.Read(ref _states);

    /// <summary>Messages of any type delivered to the coordinator's consumer from the robot-events queue since start.</summary>
    public long EventsReceived => Interlocked.Read(ref _received);

    /// <summary>Messages from the robot-events queue in the coordinator's consumer now (it takes one at a time).</summary>
    public long EventsInConsumer => Interlocked.Read(ref _inConsumer);

    /// <inheritdoc />
    public Task PreConsume<T>(ConsumeContext<T> context)
        where T : class
    {
        if (FromRobotEventsQueue(context))
        {
            Interlocked.Increment(ref _inConsumer);
            Interlocked.Increment(ref _received);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task PostConsume<T>(ConsumeContext<T> context)
        where T : class
    {
        if (FromRobotEventsQueue(context))
        {
            Interlocked.Decrement(ref _inConsumer);
            if (context.Message is RobotStateChanged)
                Interlocked.Increment(ref _states);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception)
        where T : class
    {
        if (FromRobotEventsQueue(context))
            Interlocked.Decrement(ref _inConsumer);
        return Task.CompletedTask;
    }

    private static bool FromRobotEventsQueue(ConsumeContext context) =>
        context.ReceiveContext.InputAddress?.AbsolutePath.EndsWith(MissionsRegistration.RobotEventsQueue, StringComparison.Ordinal) == true;
}

/// <summary>
/// The schedules' mission check on a shared fleet: the coordinator's on the leader; on a standby none (null: the leader
/// checks the mission when the schedule submits it), since a standby's coordinator must not load or decide anything.
/// </summary>
internal sealed class LeaderMissionCheck(Leadership leadership, FleetCoordinator coordinator) : ControlPlane.Schedules.IMissionCheck
{
    public Task<MissionRejected?> CheckAsync(SubmitMission mission, CancellationToken cancellationToken) =>
        leadership.IsLeader ? coordinator.CheckAsync(mission, cancellationToken) : Task.FromResult<MissionRejected?>(null);
}
