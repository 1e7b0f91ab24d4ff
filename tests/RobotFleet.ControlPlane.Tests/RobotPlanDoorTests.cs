using RobotFleet.ControlPlane.Missions;
using RobotFleet.Maps;

namespace RobotFleet.ControlPlane.Tests;

/// <summary>The openDoor actions <see cref="RobotPlan"/> puts before doors when a plan not yet sent is routed again.</summary>
public sealed class RobotPlanDoorTests
{
    private static readonly SiteMap Map = TestMaps.CorridorWithDoor();
    private static readonly RouteGraph Graph = new(Map);

    private static bool Reroute(RobotPlan plan, string to) => plan.Reroute([new PlanTarget(to, [])], (a, b) => Graph.FindRoute(a, b));

    private static string Doors(RobotPlan plan) =>
        string.Join(" ", plan.Steps.Select(s => s.WaypointId + string.Concat(s.Actions.Where(a => a.ActionType == RobotPlan.OpenDoorAction).Select(a => $"[{a.ActionId}]"))));

    [Fact]
    public void Routing_an_unsent_plan_through_the_door_again_opens_it_once()
    {
        // Regression (found by a fresh-clone review): the start step kept its openDoor, and the new leg added it again.
        var plan = new RobotPlan("o1", "m1", "B");
        Assert.True(Reroute(plan, "D"));
        Assert.True(Reroute(plan, "D"));

        Assert.Equal("B[o1-openDoor-0] C D", Doors(plan));
    }

    [Fact]
    public void Routing_an_unsent_plan_away_from_the_door_drops_its_openDoor()
    {
        var plan = new RobotPlan("o1", "m1", "B");
        Assert.True(Reroute(plan, "D"));
        Assert.True(Reroute(plan, "A"));

        Assert.Equal("B A", Doors(plan));
    }

    [Fact]
    public void A_released_step_that_was_sent_keeps_what_it_was_sent_with()
    {
        var plan = new RobotPlan("o1", "m1", "B");
        Assert.True(Reroute(plan, "D"));
        plan.UpdateId = 0; // sent: step 0 (B) is released and fixed
        Assert.True(Reroute(plan, "A"));

        Assert.Equal("B[o1-openDoor-0] A", Doors(plan));
    }
}
