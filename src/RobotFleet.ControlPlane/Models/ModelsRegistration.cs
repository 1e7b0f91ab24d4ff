using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace RobotFleet.ControlPlane.Models;

/// <summary>Registers the models feature.</summary>
public static class ModelsRegistration
{
    /// <summary>Adds <paramref name="options"/> and a singleton <see cref="ModelRegistry"/> (opened on first use, disposed with the container).</summary>
    public static IServiceCollection AddModels(this IServiceCollection services, ModelRegistryOptions options)
    {
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new ModelRegistry(options, sp.GetRequiredService<TimeProvider>()));
        return services;
    }
}
