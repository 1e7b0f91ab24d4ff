using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Quartz;
using RobotFleet.ControlPlane.Schedules;
using RobotFleet.Contracts;
using RobotFleet.Maps;

namespace RobotFleet.ControlPlane.Schedules.Tests;

/// <summary>A one-level map with locations a, b, c.</summary>
internal static class TestSite
{
    public static SiteMap Map { get; } = Build();

    private static SiteMap Build()
    {
        var a = new Waypoint("A", "L1", 0, 0, null);
        var b = new Waypoint("B", "L1", 5, 0, null);
        var c = new Waypoint("C", "L1", 10, 0, null);
        return new SiteMap("t", "Test", [new Level("L1", 0)], [a, b, c],
            [Lane.Between("A-B", a, b, null), Lane.Between("B-A", b, a, null), Lane.Between("B-C", b, c, null), Lane.Between("C-B", c, b, null)],
            [new Location("a", "A", new HashSet<LocationKind> { LocationKind.Pickup }),
             new Location("b", "B", new HashSet<LocationKind> { LocationKind.Dropoff }),
             new Location("c", "C", new HashSet<LocationKind> { LocationKind.Dropoff })]);
    }
}

/// <summary>How long <see cref="FakeCoordinator"/> takes to answer (register one to slow it down).</summary>
public sealed record CoordinatorDelay(TimeSpan Delay);

/// <summary>Stands in for the fleet coordinator: accepts deliveries, rejects every other kind.</summary>
public sealed class FakeCoordinator(ConcurrentQueue<SubmitMission> received, CoordinatorDelay? delay = null) : IConsumer<SubmitMission>
{
    public async Task Consume(ConsumeContext<SubmitMission> context)
    {
        received.Enqueue(context.Message);
        if (delay is not null)
            await Task.Delay(delay.Delay);
        if (context.Message.Kind == MissionKind.Delivery)
            await context.RespondAsync(new MissionAccepted(context.Message.MissionId));
        else
            await context.RespondAsync(new MissionRejected(context.Message.MissionId, "kind", $"mission kind '{context.Message.Kind}' is not supported yet"));
    }
}

/// <summary>A generic host with MassTransit in memory, the fake coordinator and the schedules feature on a data directory.</summary>
internal sealed class ScheduleHarness : IAsyncDisposable
{
    private readonly IHost _host;

    private ScheduleHarness(IHost host) => _host = host;

    public ConcurrentQueue<SubmitMission> Received => _host.Services.GetRequiredService<ConcurrentQueue<SubmitMission>>();

    public ScheduleService Schedules => _host.Services.GetRequiredService<ScheduleService>();

    public IServiceProvider Services => _host.Services;

    public static async Task<ScheduleHarness> StartAsync(string? dataDirectory, TimeSpan? misfireThreshold = null, Action<IServiceCollection>? configure = null, ScheduleOptions? options = null, Action<IBusRegistrationConfigurator>? consumers = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(new ConcurrentQueue<SubmitMission>());
        builder.Services.AddSingleton(TestSite.Map);
        builder.Services.AddSchedules(options ?? new ScheduleOptions
        {
            DataDirectory = dataDirectory,
            MisfireThreshold = misfireThreshold ?? TimeSpan.FromSeconds(1),
            WatchdogInterval = null,
        });
        builder.Services.AddMassTransit(bus =>
        {
            bus.AddConsumer<FakeCoordinator>();
            consumers?.Invoke(bus);
            bus.UsingInMemory((context, cfg) => cfg.ConfigureEndpoints(context));
        });
        configure?.Invoke(builder.Services);
        var host = builder.Build();
        await host.StartAsync();
        await WaitForSchedulerAsync(host);
        return new ScheduleHarness(host);
    }

    // Quartz's scheduler starts in the background once the host has started (AwaitApplicationStarted), so the host's
    // StartAsync returns before it runs; a test that watches firings for a while watches from when it runs. Regression: a
    // 4 s watch of a 3 s schedule that began before the scheduler ran saw no firing (CI, 2026-12-02).
    private static async Task WaitForSchedulerAsync(IHost host)
    {
        var scheduler = await host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (scheduler.Status != SchedulerStatus.Running)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("Quartz's scheduler did not start within 30 s of the host");
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        SqliteConnection.ClearAllPools();
    }
}

/// <summary>A temp directory deleted at the end.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("robotfleet-schedules-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }
}

internal static class Wait
{
    public static async Task<bool> UntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
                return true;
            await Task.Delay(100);
        }

        return await condition();
    }
}
