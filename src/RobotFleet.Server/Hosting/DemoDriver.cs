using MassTransit;
using RobotFleet.ControlPlane.Missions;
using RobotFleet.Contracts;
using RobotFleet.Maps;

namespace RobotFleet.Server.Hosting;

/// <summary>
/// The <c>--demo</c> driver: every <see cref="ServerOptions.DemoInterval"/> submits a delivery
/// between two random distinct service locations (named locations that are not chargers or
/// parking), keeping at most two unfinished missions per robot.
/// </summary>
public sealed class DemoDriver(
    ServerOptions options,
    SiteMap map,
    MissionStore missions,
    FleetCoordinator coordinator,
    IRequestClient<SubmitMission> submit,
    ILogger<DemoDriver> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var places = map.Locations.Values
            .Where(l => !l.Kinds.Contains(LocationKind.Charger) && !l.Kinds.Contains(LocationKind.Parking))
            .Select(l => l.Name).Order(StringComparer.Ordinal).ToList();
        if (places.Count < 2)
        {
            logger.LogWarning("Demo driver: map '{Map}' has fewer than two service locations; no demo deliveries", map.Id);
            return;
        }

        var random = options.DemoSeed is { } seed ? new Random(seed) : new Random();
        var limit = Math.Max(1, options.Robots) * 2;
        using var timer = new PeriodicTimer(options.DemoInterval);
        try
        {
            do
            {
                // The missions of an earlier run count too: none is submitted before the control plane has loaded them
                // (regression: each restart of the demo added one unfinished mission past the limit).
                if (!coordinator.HasRestored || missions.All.Count(m => !m.IsFinal) >= limit)
                    continue;
                var pickup = places[random.Next(places.Count)];
                var dropoff = places.Where(p => p != pickup).ElementAt(random.Next(places.Count - 1));
                var id = $"demo-{Guid.NewGuid():N}"[..13];
                var response = await submit.GetResponse<MissionAccepted, MissionRejected>(
                    new SubmitMission(id, MissionKind.Delivery, pickup, dropoff, 0, "demo"), stoppingToken);
                if (response.Is(out Response<MissionRejected>? rejected))
                    logger.LogWarning("Demo delivery rejected: {Reason}", rejected.Message.Reason);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down
        }
    }
}
