using RobotFleet.ControlPlane.Missions;
using RobotFleet.Contracts;
using RobotFleet.Gateway;

namespace RobotFleet.Server.Hosting;

/// <summary>Writes one progress line to the console every <see cref="ServerOptions.ProgressInterval"/>: robots online, missions by status.</summary>
public sealed class ProgressReporter(ServerOptions options, RobotTwinRegistry twins, MissionStore missions, ILogger<ProgressReporter> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.ProgressInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
                logger.LogInformation("{Progress}", Describe());
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down
        }
    }

    /// <summary>The progress line, e.g. <c>robots online 3/3 | missions queued 1, assigned 0, dispatched 0, executing 2, paused 0, completed 7, failed 0, cancelled 0</c>.</summary>
    public string Describe()
    {
        var robots = twins.All;
        var all = missions.All;
        int Count(MissionStatus s) => all.Count(m => m.Status == s);
        return $"robots online {robots.Count(r => r.Connection == RobotConnectionState.Online)}/{robots.Count} | missions " +
               $"queued {Count(MissionStatus.Queued)}, assigned {Count(MissionStatus.Assigned)}, dispatched {Count(MissionStatus.Dispatched)}, " +
               $"executing {Count(MissionStatus.Executing)}, paused {Count(MissionStatus.Paused)}, " +
               $"completed {Count(MissionStatus.Completed)}, failed {Count(MissionStatus.Failed)}, cancelled {Count(MissionStatus.Cancelled)}";
    }
}
