using RobotFleet.ControlPlane.Missions;
using RobotFleet.Maps;

namespace RobotFleet.ControlPlane.Tests;

/// <summary>The goal the coordinator gives the PIBT traffic controller for a robot (<see cref="FleetCoordinator.NextStop"/>).</summary>
public sealed class PibtGoalTests
{
    private static readonly RouteGraph Graph = new(TestMaps.CorridorWithDoor());

    [Fact]
    public void A_robot_pushed_aside_keeps_its_missions_next_stop_as_its_goal()
    {
        // Regression: a release off the plan re-routes it through a refuge target (where the controller sent the robot), and
        // the refuge became the robot's goal until it got there, then the real stop again. Every push so changed the goal and
        // back, which restarts the controller's clock of time without progress: its jam fallback and precedence never came
        // into play through the coordinator (the same 10-minute warehouse run at 200 robots gave the same 8 stalls with both
        // switched off; with this fix none).
        var plan = new RobotPlan("o1", "m1", "B");
        Assert.True(plan.Reroute([new PlanTarget("D", [])], (a, b) => Graph.FindRoute(a, b)));
        Assert.Equal("D", FleetCoordinator.NextStop(plan));

        Assert.True(plan.Reroute([new PlanTarget("A", [], Refuge: true), .. plan.OpenTargets], (a, b) => Graph.FindRoute(a, b)));

        Assert.Equal("A", plan.TargetSteps[0].Target.WaypointId); // the refuge comes first on the way
        Assert.Equal("D", FleetCoordinator.NextStop(plan));
    }

    [Fact]
    public void A_robot_moved_aside_without_a_mission_heads_for_its_refuge()
    {
        var move = new RobotPlan("move-1", null, "B");
        Assert.True(move.Reroute([new PlanTarget("A", [], Refuge: true)], (a, b) => Graph.FindRoute(a, b)));

        Assert.Equal("A", FleetCoordinator.NextStop(move));
        move.ReachedIndex = move.Steps.Count - 1;
        Assert.Null(FleetCoordinator.NextStop(move));
    }
}
