using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using RobotFleet.ControlPlane.Missions.Lifecycle;

namespace RobotFleet.ControlPlane.Missions;

/// <summary>Registers the missions feature.</summary>
public static class MissionsRegistration
{
    /// <summary>The queue robot events reach the coordinator through: <c>robotfleet-robot-events</c>.</summary>
    public const string RobotEventsQueue = "robotfleet-robot-events";

    /// <summary>
    /// Adds the mission store, its repository (in the database <see cref="MissionDatabase.From"/> chooses, else in memory), the
    /// fleet coordinator and its periodic tick. Add the bus side with <see cref="AddMissionsConsumers"/>.
    /// </summary>
    public static IServiceCollection AddMissions(this IServiceCollection services, ControlPlaneOptions options)
    {
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<MissionStore>();
        services.AddSingleton<IMissionRepository>(_ => MissionDatabase.From(options) is { } database ? new EfMissionRepository(database) : new InMemoryMissionRepository());
        services.AddSingleton<FleetCoordinator>();
        services.AddSingleton<Schedules.IMissionCheck>(sp => sp.GetRequiredService<FleetCoordinator>());
        services.TryAddSingleton<IDecidingTurn, SoleInstance>();
        services.AddHostedService<CoordinatorShutdown>();
        services.AddHostedService<CoordinatorTicker>();
        return services;
    }

    /// <summary>
    /// Adds the missions consumers and the mission lifecycle state machine (<see cref="MissionLifecycleRegistration.AddMissionLifecycle"/>,
    /// stored where <paramref name="options"/> store missions). Robot events go through an endpoint that takes one message at a
    /// time, so each robot's events reach the coordinator in the order the gateway published them.
    /// </summary>
    public static void AddMissionsConsumers(this IBusRegistrationConfigurator bus, ControlPlaneOptions options)
    {
        bus.AddMissionLifecycle(options);
        bus.AddConsumer<SubmitMissionConsumer>();
        bus.AddConsumer<CancelMissionConsumer>();
        bus.AddConsumer<ReassignMissionConsumer>();
        bus.AddConsumer<RobotEventsConsumer>().Endpoint(e =>
        {
            e.Name = RobotEventsQueue;
            e.ConcurrentMessageLimit = 1;
        });
    }
}

/// <summary>
/// Calls <see cref="FleetCoordinator.StopDeciding"/> as soon as the application is stopping (before any hosted service stops),
/// so our own shutdown (robots going offline, the bus stopping) requeues, fails or persists nothing.
/// </summary>
internal sealed class CoordinatorShutdown(FleetCoordinator coordinator, IHostApplicationLifetime lifetime) : IHostedService
{
    private CancellationTokenRegistration _registration;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _registration = lifetime.ApplicationStopping.Register(coordinator.StopDeciding);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        coordinator.StopDeciding(); // a host stopped without ApplicationStopping (e.g. a test host)
        return _registration.DisposeAsync().AsTask();
    }
}

/// <summary>
/// Says when this process may start deciding: at once for a single instance (<see cref="SoleInstance"/>); when it becomes
/// the leader where several instances share one store (the server's leader lease). The coordinator's ticker, which loads
/// the stored missions on its first tick, waits for it. Implementations are thread-safe.
/// </summary>
public interface IDecidingTurn
{
    /// <summary>Completes when this process is the one that decides; never completes on a standby that never leads.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    Task WhenDecidingAsync(CancellationToken cancellationToken);
}

/// <summary>The only instance: it decides from the start.</summary>
internal sealed class SoleInstance : IDecidingTurn
{
    public Task WhenDecidingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// Calls <see cref="FleetCoordinator.TickAsync"/> once this process may decide (<see cref="IDecidingTurn"/>; the first tick
/// loads stored missions) and every <see cref="ControlPlaneOptions.TickInterval"/> after, each followed by
/// <see cref="FleetCoordinator.CatchUpLifecycleAsync"/>.
/// </summary>
internal sealed class CoordinatorTicker(FleetCoordinator coordinator, ControlPlaneOptions options, TimeProvider time, IDecidingTurn turn) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await turn.WhenDecidingAsync(stoppingToken);
            using var timer = new PeriodicTimer(options.TickInterval, time);
            await coordinator.TickAsync(stoppingToken); // loads stored missions at once
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await coordinator.TickAsync(stoppingToken);
                await coordinator.CatchUpLifecycleAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down
        }
    }
}
