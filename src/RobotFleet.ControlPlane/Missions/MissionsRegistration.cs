using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using RobotFleet.ControlPlane.Missions.Lifecycle;

namespace RobotFleet.ControlPlane.Missions;

/// <summary>Registers the missions feature.</summary>
public static class MissionsRegistration
{
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
            e.Name = "robotfleet-robot-events";
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

/// <summary>Calls <see cref="FleetCoordinator.TickAsync"/> at start (which loads stored missions) and every <see cref="ControlPlaneOptions.TickInterval"/>.</summary>
internal sealed class CoordinatorTicker(FleetCoordinator coordinator, ControlPlaneOptions options, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.TickInterval, time);
        try
        {
            await coordinator.TickAsync(stoppingToken); // loads stored missions at once
            while (await timer.WaitForNextTickAsync(stoppingToken))
                await coordinator.TickAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down
        }
    }
}
