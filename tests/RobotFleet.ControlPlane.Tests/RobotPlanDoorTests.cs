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

    [Theory]
    [InlineData("D", "B[o1-openDoor-0] C D")] // through the door again: opened once
    [InlineData("A", "B A")]                  // away from the door: no openDoor left behind
    public void Routing_an_unsent_plan_again_leaves_one_openDoor_for_each_door_on_its_new_way(string to, string expected)
    {
        // Regression (found by a fresh-clone review): the start step kept the openDoor of the old way, and a new leg through
        // the same door added it a second time.
        var plan = new RobotPlan("o1", "m1", "B");
        Assert.True(Reroute(plan, "D"));
        Assert.True(Reroute(plan, to));

        Assert.Equal(expected, Doors(plan));
    }

    [Fact]
    public void A_door_right_after_a_released_step_that_was_sent_is_opened_on_entering_its_lane()
    {
        var plan = new RobotPlan("o1", "m1", "B");
        Assert.True(Reroute(plan, "A"));
        plan.UpdateId = 0; // sent: step 0 (B) is released and fixed, without an openDoor
        Assert.True(Reroute(plan, "D"));

        Assert.Equal("B C D", Doors(plan));
        var open = Assert.Single(plan.Steps[1].LaneActions ?? []);
        Assert.Equal(("o1-openDoor-1", RobotPlan.OpenDoorAction, "HARD", "door1"), (open.ActionId, open.ActionType, open.BlockingType, open.Parameters["doorId"]));
        Assert.All(plan.Steps.Skip(2), s => Assert.Null(s.LaneActions));
        Assert.Contains(open, plan.Steps[1].AllActions);
    }

    [Fact]
    public void A_released_step_that_was_sent_keeps_what_it_was_sent_with()
    {
        var plan = new RobotPlan("o1", "m1", "B");
        Assert.True(Reroute(plan, "D"));
        plan.UpdateId = 0; // sent: step 0 (B) is released and fixed
        Assert.True(Reroute(plan, "A"));

        Assert.Equal("B[o1-openDoor-0] A", Doors(plan));

        // Back through the door: the openDoor B was sent with still opens it; none goes on the lane as well.
        Assert.True(Reroute(plan, "D"));
        Assert.Equal("B[o1-openDoor-0] C D", Doors(plan));
        Assert.All(plan.Steps, s => Assert.Null(s.LaneActions));
    }
}
