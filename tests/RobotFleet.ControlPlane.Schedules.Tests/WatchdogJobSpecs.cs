using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using RobotFleet.ControlPlane.Schedules;
using RobotFleet.Contracts;

namespace RobotFleet.ControlPlane.Schedules.Tests;

public sealed class SilentRobots(ConcurrentQueue<RobotSilent> seen) : IConsumer<RobotSilent>
{
    public Task Consume(ConsumeContext<RobotSilent> context)
    {
        seen.Enqueue(context.Message);
        return Task.CompletedTask;
    }
}

internal sealed class FixedLastSeen(IReadOnlyList<RobotLastSeen> robots) : IRobotLastSeen
{
    public IReadOnlyList<RobotLastSeen> Snapshot() => robots;
}

public sealed class When_the_watchdog_runs_in_quartz
{
    [Fact]
    public async Task A_silent_robot_is_published_once_on_the_bus()
    {
        var quiet = new RobotId("acme", "quiet");
        var lastSeen = new FixedLastSeen([
            new(quiet, DateTimeOffset.UtcNow.AddSeconds(-30), RobotConnectionState.Online),
            new(new RobotId("acme", "gone"), DateTimeOffset.UtcNow.AddSeconds(-30), RobotConnectionState.ConnectionBroken),
        ]);
        var seen = new ConcurrentQueue<RobotSilent>();
        await using var host = await ScheduleHarness.StartAsync(null,
            options: new ScheduleOptions { WatchdogInterval = TimeSpan.FromMilliseconds(200), SilentAfter = TimeSpan.FromSeconds(8) },
            configure: services =>
            {
                services.AddSingleton<IRobotLastSeen>(lastSeen);
                services.AddSingleton(seen);
            },
            consumers: bus => bus.AddConsumer<SilentRobots>());

        Assert.True(await Wait.UntilAsync(() => Task.FromResult(!seen.IsEmpty), TimeSpan.FromSeconds(5)));
        await Task.Delay(1000); // several more ticks
        var silent = Assert.Single(seen);
        Assert.Equal(quiet, silent.Robot);
        Assert.True(silent.Silence > TimeSpan.FromSeconds(29));
    }
}
