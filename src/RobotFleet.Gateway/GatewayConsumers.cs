using MassTransit;
using RobotFleet.Contracts;

namespace RobotFleet.Gateway;

/// <summary>Sends each <see cref="DispatchRoute"/> command to its robot as a VDA 5050 order.</summary>
public sealed class DispatchRouteConsumer(MqttGateway gateway) : IConsumer<DispatchRoute>
{
    /// <inheritdoc />
    public Task Consume(ConsumeContext<DispatchRoute> context) => gateway.PublishOrderAsync(context.Message, context.CancellationToken);
}

/// <summary>Sends each <see cref="TriggerInstantActions"/> command to its robot as VDA 5050 instant actions.</summary>
public sealed class TriggerInstantActionsConsumer(MqttGateway gateway) : IConsumer<TriggerInstantActions>
{
    /// <inheritdoc />
    public Task Consume(ConsumeContext<TriggerInstantActions> context) => gateway.PublishInstantActionsAsync(context.Message, context.CancellationToken);
}
