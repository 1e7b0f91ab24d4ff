using RobotFleet.ControlPlane.Missions;
using RobotFleet.Contracts;
using RobotFleet.Planning;

namespace RobotFleet.ControlPlane.Tests;

public sealed class When_robots_use_energy
{
    [Fact]
    public async Task Should_learn_a_robots_drain_from_its_reports_and_send_it_to_charge_instead_of_giving_it_a_long_mission()
    {
        // Yard: A - B - C - D 5 m apart, charger at H (5 m above A). The prior is the planner's old fixed 0.005 %/m.
        await using var fleet = await Fleet.StartAsync(TestMaps.Yard(), configure: o => new ControlPlaneOptions
        {
            Map = o.Map, BlockedResolveAfter = o.BlockedResolveAfter, ReplanCooldown = o.ReplanCooldown, LostBlockerTimeout = o.LostBlockerTimeout,
            ParkIdleAfter = null,
            Energy = new EnergyEstimatorOptions { PriorWeightMetres = 5, MaxPercentPerMetre = 2 },
        });
        var robot = await fleet.AddRobotAsync("r1", "A");
        robot.Battery = 60;
        robot.DrainPerMetre = 1.0; // a worn battery: 1 % per metre
        await robot.ReportAsync();
        Assert.Equal(EnergyModel.DefaultPercentPerMetre, (await fleet.Coordinator.EnergyAsync(robot.Id, CancellationToken.None))!.Value.PercentPerMetre, 9);

        // A first delivery a -> d (15 m) teaches the coordinator the drain: 45 % left.
        await fleet.SubmitAsync("m1", "a", "d");
        await fleet.RunUntilAsync(() => fleet.Mission("m1").Status == MissionStatus.Completed);
        Assert.Equal(45, robot.Battery, 9);
        var (learned, samples) = (await fleet.Coordinator.EnergyAsync(robot.Id, CancellationToken.None))!.Value;
        Assert.Equal(3, samples); // A-B, B-C, C-D; reports standing still carry nothing
        Assert.InRange(learned, 0.7, 1.0);

        // The same delivery from D: 15 m back to a, 15 m to d, 20 m on to the charger = 50 m, about 37 %: it would end below
        // its 10 % reserve (with the prior it would have looked like 0.25 %). It goes to charge instead; the mission waits.
        await fleet.SubmitAsync("m2", "a", "d");
        Assert.Equal(MissionStatus.Queued, fleet.Mission("m2").Status);
        var charge = fleet.Routes(robot)[^1];
        Assert.StartsWith("charge-", charge.OrderId);
        Assert.Equal("H", charge.Waypoints[^1].WaypointId);
        Assert.Equal("startCharging", Assert.Single(charge.Waypoints[^1].Actions).ActionType);

        // Charged, it takes the mission.
        await fleet.RunUntilAsync(() => robot.LastNodeId == "H" && robot.PendingWaypointIds.Count == 0 && robot.Actions.Values.All(a => a.Status == RobotActionStatus.Finished));
        robot.Battery = 95;
        await robot.ReportAsync();
        Assert.Equal(robot.Id, fleet.Mission("m2").Robot);
        await fleet.RunUntilAsync(() => fleet.Mission("m2").Status == MissionStatus.Completed);
    }
}
