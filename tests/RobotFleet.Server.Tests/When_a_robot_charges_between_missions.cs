using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace RobotFleet.Server.Tests;

/// <summary>A charge mission must leave its robot ready for the next order (it keeps charging; the order is finished).</summary>
public sealed class When_a_robot_charges_between_missions
{
    [Theory]
    [InlineData("tinyRobot2_charger")]
    [InlineData(null)]
    public async Task Should_complete_a_delivery_pinned_to_the_robot_right_after_its_charge_mission(string? location)
    {
        await using var server = await ServerHost.StartAsync(new ServerOptions { Robots = 1, TimeScale = 10 });
        Assert.True(await ServerHost.WaitUntilAsync(async () => (await server.GetJsonAsync("/api/robots")).EnumerateArray()
            .Any(r => r.GetProperty("connection").GetString() == "ONLINE"), TimeSpan.FromSeconds(30)), "robot ONLINE");

        var charge = await Post(server, location is null
            ? new { kind = "charge", targetCharge = 90, robot = "RobotFleet/sim-1" }
            : (object)new { kind = "charge", location, targetCharge = 90, robot = "RobotFleet/sim-1" });
        // Queued behind the charge and pinned to the same robot: it is sent the moment the charge completes, while the robot
        // is still at the charger (the charge target is reached on arrival, before startCharging has finished).
        var delivery = await Post(server, new { kind = "delivery", pickup = "pantry", dropoff = "coe", robot = "RobotFleet/sim-1" });
        Assert.True(await ServerHost.WaitUntilAsync(async () => Status(await Mission(server, charge)) == "Completed", TimeSpan.FromSeconds(60)),
            "charge completed: " + await server.Http.GetStringAsync($"/api/missions/{charge}"));
        Assert.True(await ServerHost.WaitUntilAsync(async () => Status(await Mission(server, delivery)) is "Completed" or "Failed", TimeSpan.FromSeconds(90)),
            "delivery finished: " + await server.Http.GetStringAsync($"/api/missions/{delivery}"));

        // And one more, submitted once the robot stands at the charger, charging.
        var second = await Post(server, new { kind = "delivery", pickup = "coe", dropoff = "pantry", robot = "RobotFleet/sim-1" });
        Assert.True(await ServerHost.WaitUntilAsync(async () => Status(await Mission(server, second)) is "Completed" or "Failed", TimeSpan.FromSeconds(90)),
            "second delivery finished: " + await server.Http.GetStringAsync($"/api/missions/{second}"));
        Assert.Equal("Completed", Status(await Mission(server, second)));
        var done = await Mission(server, delivery);
        Assert.True(Status(done) == "Completed", "delivery completed: " + done);
        Assert.Empty(done.GetProperty("failedRobots").EnumerateArray());
    }

    private static string? Status(JsonElement mission) => mission.GetProperty("status").GetString();

    private static Task<JsonElement> Mission(ServerHost server, string id) => server.GetJsonAsync($"/api/missions/{id}");

    private static async Task<string> Post(ServerHost server, object body)
    {
        var created = await server.Http.PostAsJsonAsync("/api/missions", body);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }
}
