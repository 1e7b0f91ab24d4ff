using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RobotFleet.Contracts;

namespace RobotFleet.ControlPlane.Models;

/// <summary>Sends rollout actions as <see cref="TriggerInstantActions"/> on the bus; the gateway puts them on the wire.</summary>
public sealed class BusRolloutSender(IBus bus) : IRolloutSender
{
    /// <inheritdoc />
    public Task SendAsync(RobotId robot, RobotAction action, CancellationToken cancellationToken) =>
        bus.Publish(new TriggerInstantActions(robot, [action]), cancellationToken);
}

/// <summary>Feeds robots' action ends and model status reports to the <see cref="RolloutService"/>.</summary>
public sealed class RolloutEventsConsumer(RolloutService rollouts) : IConsumer<RobotActionEnded>, IConsumer<RobotModelStatusReported>
{
    /// <inheritdoc />
    public Task Consume(ConsumeContext<RobotActionEnded> context)
    {
        var m = context.Message;
        rollouts.OnActionEnded(m.Robot, m.Action.ActionId, m.Action.Status, m.Action.ResultDescription);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task Consume(ConsumeContext<RobotModelStatusReported> context)
    {
        rollouts.OnModelStatus(context.Message);
        return Task.CompletedTask;
    }
}

/// <summary>Calls <see cref="RolloutService.TickAsync"/> every second.</summary>
public sealed class RolloutTicker(RolloutService rollouts, ILogger<RolloutTicker> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await rollouts.TickAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogError(e, "Rollout tick failed");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}

/// <summary>Registers staged model rollouts.</summary>
public static class RolloutsRegistration
{
    /// <summary>
    /// Adds the <see cref="RolloutService"/> (rollouts kept in <c>rollouts.db</c> in <paramref name="dataDirectory"/>, or in
    /// memory when null) and its ticker. Needs an <see cref="IRolloutPackages"/> and an <see cref="IRolloutFleet"/>.
    /// </summary>
    public static IServiceCollection AddRollouts(this IServiceCollection services, string? dataDirectory)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IRolloutSender, BusRolloutSender>();
        services.AddSingleton(sp => new RolloutService(
            sp.GetRequiredService<IRolloutPackages>(), sp.GetRequiredService<IRolloutFleet>(), sp.GetRequiredService<IRolloutSender>(),
            dataDirectory, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<RolloutService>>()));
        services.AddHostedService<RolloutTicker>();
        return services;
    }

    /// <summary>Adds the consumer that feeds robot events to rollouts.</summary>
    public static void AddRolloutsConsumers(this IBusRegistrationConfigurator bus) => bus.AddConsumer<RolloutEventsConsumer>();
}
