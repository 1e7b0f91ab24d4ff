using RobotFleet.ControlPlane.Missions;
using RobotFleet.Contracts;

namespace RobotFleet.ControlPlane.Tests;

/// <summary>
/// A robot left at a charger must take the next order: the control plane never takes a robot's order for done while the robot
/// still runs it (VDA 5050: finished once its last node is reached and all its actions are finished), and a refusal caused by
/// the control plane's own stale view does not count against the robot.
/// </summary>
public sealed class When_robots_charge_between_missions
{
    private static SubmitMission Charge(string id, RobotId? robot, double? target = null) =>
        new(id, MissionKind.Charge, null, null, 1, "tester", Location: "ch", TargetCharge: target, Robot: robot);

    private static SubmitMission Delivery(string id, RobotId? robot) => new(id, MissionKind.Delivery, "a", "d", 1, "tester", Robot: robot);

    [Fact]
    public async Task Should_complete_a_pinned_delivery_after_a_charge_mission_that_finished_its_startCharging()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Yard());
        var robot = await fleet.AddRobotAsync("r1", "A");
        robot.Battery = 50;
        await robot.ReportAsync();

        await fleet.SubmitAsync(Charge("ch1", robot.Id, 90));
        await fleet.RunUntilAsync(() => fleet.Mission("ch1").Status == MissionStatus.Completed);
        Assert.Equal("H", robot.LastNodeId);
        Assert.Contains("startCharging finished", fleet.Mission("ch1").History[^1].Reason);
        robot.Battery = 95; // it charged on at the charger

        await fleet.SubmitAsync(Delivery("m1", robot.Id));
        await fleet.RunUntilAsync(() => fleet.Mission("m1").IsFinal);
        Assert.Equal(MissionStatus.Completed, fleet.Mission("m1").Status);
        Assert.Empty(fleet.Mission("m1").FailedRobots);
        Assert.Empty(robot.Errors);
    }

    [Fact]
    public async Task Should_end_the_robots_order_when_the_target_is_reached_before_startCharging_finished_and_then_run_the_next_mission()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Yard());
        var robot = await fleet.AddRobotAsync("r1", "H");
        await fleet.SubmitAsync(Charge("ch1", robot.Id, 80));
        robot.Ingest();
        robot.Battery = 99.2;
        await robot.ReportAsync(); // at the charger, above the target, startCharging still waiting

        Assert.Equal(MissionStatus.Completed, fleet.Mission("ch1").Status);
        Assert.Contains("charged to 99.2", fleet.Mission("ch1").History[^1].Reason);
        var cancel = Assert.Single(fleet.InstantActions(robot)).Actions[0];
        Assert.Equal("cancelOrder", cancel.ActionType);

        // Pinned to it right away: it waits for the robot to end the charge order, then runs; the robot refuses nothing.
        await fleet.SubmitAsync(Delivery("m1", robot.Id));
        await fleet.RunUntilAsync(() => fleet.Mission("m1").IsFinal);
        Assert.Equal(MissionStatus.Completed, fleet.Mission("m1").Status);
        Assert.Empty(fleet.Mission("m1").FailedRobots);
        Assert.Empty(robot.Errors);
    }

    [Fact]
    public async Task Should_run_missions_after_a_low_battery_charge()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Yard());
        var robot = await fleet.AddRobotAsync("r1", "A");
        robot.Battery = 10; // below RechargeBelowPercent: the coordinator sends it to charge on its own
        await robot.ReportAsync();
        await fleet.RunUntilAsync(() => robot.LastNodeId == "H" && robot.OrderId.StartsWith("charge-", StringComparison.Ordinal)
            && robot.Actions.Values.All(a => a.Status == RobotActionStatus.Finished));

        robot.Battery = 95;
        await fleet.SubmitAsync(Delivery("m1", robot.Id));
        await fleet.SubmitAsync(Delivery("m2", null));
        await fleet.RunUntilAsync(() => fleet.Mission("m1").IsFinal && fleet.Mission("m2").IsFinal);
        Assert.Equal(MissionStatus.Completed, fleet.Mission("m1").Status);
        Assert.Equal(MissionStatus.Completed, fleet.Mission("m2").Status);
        Assert.Empty(fleet.Mission("m1").FailedRobots);
        Assert.Empty(fleet.Mission("m2").FailedRobots);
        Assert.Empty(robot.Errors);
    }

    [Fact]
    public async Task Should_wait_for_a_robot_that_refused_an_order_while_still_running_another_instead_of_holding_it_against_it()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.Yard());
        var robot = await fleet.AddRobotAsync("r1", "A");
        var at = fleet.Map.Waypoints["A"];
        robot.AcceptForeign(new DispatchRoute(robot.Id, "service-1", 0,
            [new RouteWaypoint("A", 0, true, at.X, at.Y, at.LevelId, [new RobotAction("service-1-wait", "wait", "HARD", new Dictionary<string, string>())])], []));
        await robot.ReportAsync(); // standing, no waypoints ahead, an action still waiting: looks idle, but refuses new orders

        await fleet.SubmitAsync(Delivery("m1", robot.Id)); // pinned: one refusal held against the robot would fail it
        robot.Ingest();
        await robot.ReportAsync();
        Assert.Equal(MissionStatus.Queued, fleet.Mission("m1").Status);
        Assert.Empty(fleet.Mission("m1").FailedRobots);
        Assert.Empty(fleet.InstantActions(robot)); // not ours: not cancelled, waited for
        await fleet.RunUntilAsync(() => fleet.Mission("m1").IsFinal);
        Assert.Equal(MissionStatus.Completed, fleet.Mission("m1").Status);
        Assert.Empty(fleet.Mission("m1").FailedRobots);
    }
}
