using RobotFleet.Maps;

namespace RobotFleet.Planning.Tests;

/// <summary>The planner's battery check with a drain learned by <see cref="EnergyEstimator"/>.</summary>
public sealed class BatteryAwareAssignmentTests
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 8, 0, 0, TimeSpan.Zero);

    // a - b - c - d - e, 10 m apart, two-way, 1 m/s; the charger is at a.
    private static readonly SiteMap Line = PlannerMaps.WithLocations(
        TestMaps.Build(["a:0:0", "b:10:0", "c:20:0", "d:30:0", "e:40:0"], "a=b", "b=c", "c=d", "d=e"), "dock@a:Charger");

    /// <summary>The drain the robot showed over 2 km of reports (the simulator's 0.05 %/m, readings in whole percents).</summary>
    private static double LearnedDrain()
    {
        var estimator = new EnergyEstimator();
        var estimate = estimator.Initial;
        var battery = 100.0;
        for (var leg = 0; leg < 200; leg++)
        {
            var before = Math.Round(battery);
            battery -= 10 * 0.05;
            estimate = estimator.Observe(estimate, 10, before - Math.Round(battery));
        }
        return estimator.PercentPerMetre(estimate);
    }

    private static RobotSnapshot Robot(double battery, double drain) => new("r1", "b", RobotActivity.Idle, 1, battery, drain);

    [Fact]
    public void Learned_high_drain_sends_the_robot_to_charge_instead_of_a_long_mission()
    {
        var drain = LearnedDrain();
        Assert.InRange(drain, 0.048, 0.052);
        // 900 m of mission from c, ending at e: 10 + 900 + 40 (back to the charger) = 950 m.
        PendingMission[] missions = [new("m1", "c", 0, T0, DurationSeconds: 900, RouteMetres: 900, EndWaypointId: "e")];
        var planner = new AssignmentPlanner(Line);

        // With the old fixed figure (0.005 %/m: 4.75 %) a 50 % robot would take it.
        var blind = planner.Plan(T0, [Robot(50, EnergyModel.DefaultPercentPerMetre)], missions);
        Assert.Equal("r1", Assert.Single(blind.Assignments).RobotId);
        Assert.Empty(blind.Charges);

        // With what it learned (47.5 %) it would end at 2.5 %, below its 10 % reserve: it charges first (at 90 % it can).
        var plan = planner.Plan(T0, [Robot(50, drain)], missions);

        Assert.Empty(plan.Assignments);
        var charge = Assert.Single(plan.Charges);
        Assert.Equal(("r1", "dock"), (charge.RobotId, charge.ChargerName));
        Assert.Equal(["b", "a"], charge.Approach.WaypointIds);
        var problem = Assert.Single(plan.Problems);
        Assert.Equal((AssignmentProblemKind.InsufficientBattery, "m1"), (problem.Kind, problem.MissionId));
        Assert.Contains("r1", problem.Message);
        Assert.Contains("sent to charge", problem.Message);
        Assert.Empty(plan.Parking);

        // Charged to its target it takes the mission.
        var later = planner.Plan(T0, [Robot(90, drain) with { WaypointId = "a" }], missions);
        Assert.Equal("r1", Assert.Single(later.Assignments).RobotId);
    }

    [Theory]
    [InlineData("a", true)]  // ends at the charger: 10 + 760 m = 38.5 %, ends at 11.5 %
    [InlineData("e", false)] // ends 40 m from it: 40.5 %, would end at 9.5 %, below the 10 % reserve
    [InlineData(null, true)] // end not given: only the approach and the mission's own route count
    public void The_way_from_the_missions_end_to_a_charger_counts(string? end, bool assigned)
    {
        var plan = new AssignmentPlanner(Line).Plan(T0, [Robot(50, 0.05)], [new("m1", "c", 0, T0, RouteMetres: 760, EndWaypointId: end)]);

        Assert.Equal(assigned, plan.Assignments.Count == 1);
    }

    [Fact]
    public void No_charge_when_even_a_full_charge_would_not_do()
    {
        // 2,000 m at 0.05 %/m = 100 %: no charge helps; the mission waits with a problem, the robot is not sent away.
        var plan = new AssignmentPlanner(Line).Plan(T0, [Robot(50, 0.05)], [new("m1", "c", 0, T0, RouteMetres: 2000)]);

        Assert.Empty(plan.Assignments);
        Assert.Empty(plan.Charges);
        Assert.Equal(AssignmentProblemKind.InsufficientBattery, Assert.Single(plan.Problems).Kind);
    }
}
