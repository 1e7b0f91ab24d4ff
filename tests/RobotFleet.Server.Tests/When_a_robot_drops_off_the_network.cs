using System.Net;
using System.Text.Json;

namespace RobotFleet.Server.Tests;

/// <summary>Connection loss seen through the API: the broker's last will reaches the twin.</summary>
public sealed class When_a_robot_drops_off_the_network
{
    [Fact]
    public async Task Should_show_connectionbroken_within_ten_seconds_and_online_again_after_reconnect()
    {
        await using var server = await ServerHost.StartAsync(new ServerOptions { Robots = 2, TimeScale = 10 });
        Assert.True(await WaitForConnection(server, "sim-1", "ONLINE", TimeSpan.FromSeconds(30)), "sim-1 ONLINE");

        var agent = server.Fleet.Find("sim-1")!;
        agent.DropConnectionAbruptly();
        Assert.True(await WaitForConnection(server, "sim-1", "CONNECTIONBROKEN", TimeSpan.FromSeconds(10)), "sim-1 CONNECTIONBROKEN within 10 s");
        Assert.Equal(HttpStatusCode.Conflict, (await server.Http.DeleteAsync("/api/robots/RobotFleet/sim-2")).StatusCode);

        agent.ResumeConnection();
        Assert.True(await WaitForConnection(server, "sim-1", "ONLINE", TimeSpan.FromSeconds(30)), "sim-1 ONLINE after reconnect");
    }

    [Fact]
    public async Task Should_let_an_operator_remove_a_lost_robot()
    {
        await using var server = await ServerHost.StartAsync(new ServerOptions { Robots = 1, TimeScale = 10 });
        Assert.True(await WaitForConnection(server, "sim-1", "ONLINE", TimeSpan.FromSeconds(30)));
        server.Fleet.Find("sim-1")!.DropConnectionAbruptly();
        Assert.True(await WaitForConnection(server, "sim-1", "CONNECTIONBROKEN", TimeSpan.FromSeconds(10)));

        Assert.Equal(HttpStatusCode.NoContent, (await server.Http.DeleteAsync("/api/robots/RobotFleet/sim-1")).StatusCode);
        Assert.Empty((await server.GetJsonAsync("/api/robots")).EnumerateArray());
    }

    private static Task<bool> WaitForConnection(ServerHost server, string serial, string connection, TimeSpan timeout) =>
        ServerHost.WaitUntilAsync(async () => (await server.GetJsonAsync("/api/robots")).EnumerateArray()
            .Any(r => r.GetProperty("serialNumber").GetString() == serial && r.GetProperty("connection").GetString() == connection), timeout);
}
