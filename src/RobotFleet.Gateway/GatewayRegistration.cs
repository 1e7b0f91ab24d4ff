using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace RobotFleet.Gateway;

/// <summary>Registers the gateway with dependency injection and MassTransit.</summary>
public static class GatewayRegistration
{
    /// <summary>The queue of the gateway's consumers (robot commands): <c>robotfleet-gateway</c>.</summary>
    public const string EndpointName = "robotfleet-gateway";

    /// <summary>Adds the twin registry and the MQTT gateway (a hosted service).</summary>
    public static IServiceCollection AddGateway(this IServiceCollection services, GatewayOptions options)
    {
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<RobotTwinRegistry>();
        services.AddSingleton<MqttGateway>();
        services.AddHostedService(sp => sp.GetRequiredService<MqttGateway>());
        return services;
    }

    /// <summary>
    /// Adds the gateway's consumers on one endpoint that handles one message at a time, so that
    /// a robot's order updates leave in the order they were issued.
    /// </summary>
    public static void AddGatewayConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<DispatchRouteConsumer>(c => c.ConcurrentMessageLimit = 1).Endpoint(ConfigureEndpoint);
        bus.AddConsumer<TriggerInstantActionsConsumer>(c => c.ConcurrentMessageLimit = 1).Endpoint(ConfigureEndpoint);
    }

    private static void ConfigureEndpoint(IEndpointRegistrationConfigurator endpoint)
    {
        endpoint.Name = EndpointName;
        endpoint.ConcurrentMessageLimit = 1;
    }
}
