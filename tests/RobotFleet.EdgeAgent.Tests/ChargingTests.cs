using RobotFleet.Vda5050.V2;
using static RobotFleet.EdgeAgent.Tests.Harness;

namespace RobotFleet.EdgeAgent.Tests;

/// <summary>VDA 5050 startCharging: FINISHED once charging has started (the robot charges on); the order is then finished.</summary>
public sealed class ChargingTests
{
    [Fact]
    public async Task StartCharging_finishes_once_charging_and_the_next_order_is_accepted_while_charging()
    {
        await using var h = await Harness.StartAsync(battery: 40);
        await h.SendAsync(h.Order("charge-1", 0, [N("n1", 0, 0), N("n2", 2, 4, true, A("startCharging", "c1"))], [E("e1", 1, "n1", "n2")]));

        var charging = await h.WaitForStateAsync(s => s.OrderId == "charge-1"
            && s.ActionStates.Any(a => a.ActionId == "c1" && a.ActionStatus == ActionStatus.Finished));
        Assert.True(charging.BatteryState.Charging);
        Assert.Empty(charging.NodeStates);

        await h.SendAsync(h.Order("next-1", 0, [N("n2", 0, 4), N("n3", 2, 6)], [E("e2", 1, "n2", "n3")]));
        var done = await h.WaitForStateAsync(s => s.OrderId == "next-1" && s.LastNodeId == "n3" && !s.Driving);
        Assert.DoesNotContain(done.Errors, e => e.ErrorType == "orderError");
        Assert.False(done.BatteryState.Charging); // driving off ends charging
    }
}
