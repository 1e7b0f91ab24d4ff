using System.Diagnostics;

namespace RobotFleet.Integration.Tests;

/// <summary>
/// Issue 7 with real servers: the control plane and an edge agent with 3 simulated robots, separate processes, talk
/// VDA 5050 through the external Mosquitto of <c>.ci/services</c> (<c>ROBOTFLEET_TEST_MQTT</c>), not the embedded broker.
/// </summary>
public sealed class When_robots_use_an_external_mosquitto
{
    [MosquittoFact]
    public async Task Should_complete_deliveries_submitted_over_the_api()
    {
        await using var fleet = await ExternalBrokerFleet.StartAsync(robots: 3);

        var ids = await fleet.SubmitDeliveriesAsync(6, seed: 7);

        await fleet.AssertAllCompleteAsync(ids, TimeSpan.FromSeconds(180));
        AssertNothingTwice(fleet);
    }

    [MosquittoRestartFact]
    public async Task Should_bring_every_robot_back_online_within_30_s_after_mosquitto_restarts_and_finish_the_missions()
    {
        // On a Mosquitto of its own: test projects run side by side, and others use the first broker meanwhile.
        await using var fleet = await ExternalBrokerFleet.StartAsync(robots: 3, broker: new Uri(RealServers.MqttOutage!));
        var ids = await fleet.SubmitDeliveriesAsync(8, seed: 11);
        Assert.True(await ExternalBrokerFleet.WaitUntilAsync(async () => (await fleet.MissionsAsync()).Any(m => m.Status == "Executing"), TimeSpan.FromSeconds(60)),
            "a mission executing before the restart; " + fleet.Server.LogPath);

        var restart = Stopwatch.StartNew();
        var output = await RealServers.RestartAsync("mosquitto-outage");
        var restarted = DateTimeOffset.UtcNow;
        var restartTook = restart.Elapsed;

        // ONLINE with a state that arrived after the restart: the server's twins would still say ONLINE from before it.
        var back = await ExternalBrokerFleet.WaitUntilAsync(async () =>
        {
            var robots = await fleet.OurRobotsAsync();
            return robots.Count == fleet.Robots && robots.All(r => r.Connection == "ONLINE" && r.LastStateAt > restarted);
        }, TimeSpan.FromSeconds(30));
        var robots = await fleet.OurRobotsAsync();
        Assert.True(back, $"every robot ONLINE with a fresh state within 30 s of the restart ({restartTook.TotalSeconds:0.0} s: {output.Trim()}); "
            + string.Join(", ", robots.Select(r => $"{r.SerialNumber}={r.Connection} last state {r.LastStateAt:HH:mm:ss.fff}"))
            + $"; server log {fleet.Server.LogPath}, agent log {fleet.Agent.LogPath}");

        // Order updates lost in the outage are sent again by the gateway when a robot is back ONLINE (a robot that had one
        // ignores the copy: "received again"); none may be rejected (an update out of order would be).
        await fleet.AssertAllCompleteAsync(ids, TimeSpan.FromSeconds(240));
        Assert.DoesNotContain("rejected order", fleet.Agent.Output, StringComparison.Ordinal);
    }

    private static void AssertNothingTwice(ExternalBrokerFleet fleet)
    {
        var agentLog = fleet.Agent.Output;
        Assert.DoesNotContain("received again", agentLog, StringComparison.Ordinal);
        Assert.DoesNotContain("rejected order", agentLog, StringComparison.Ordinal);
    }
}
