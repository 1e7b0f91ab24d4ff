using System.Text;
using RobotFleet.Vda5050;
using RobotFleet.Vda5050.V2;
using static RobotFleet.EdgeAgent.Tests.Harness;

namespace RobotFleet.EdgeAgent.Tests;

public sealed class OrderTests
{
    [Fact]
    public async Task Three_node_order_with_pick_and_drop_runs_to_completion()
    {
        await using var h = await Harness.StartAsync();
        await h.SendAsync(h.Order("o1", 0,
            [N("n1", 0, 0), N("n2", 2, 2, actions: A("pick", "a-pick")), N("n3", 4, 4, actions: A("drop", "a-drop"))],
            [E("e1", 1, "n1", "n2"), E("e2", 3, "n2", "n3")]));

        await h.WaitForStateAsync(s => s.OrderId == "o1" && s.ActionStates.Any(a => a.ActionId == "a-pick" && a.ActionStatus == ActionStatus.Running));
        var done = await h.WaitForStateAsync(s => s.OrderId == "o1" && s.LastNodeId == "n3" &&
            s.ActionStates.Count(a => a.ActionStatus == ActionStatus.Finished) == 2);
        Assert.Equal(4, done.LastNodeSequenceId);
        Assert.Empty(done.NodeStates);
        Assert.Empty(done.EdgeStates);
        Assert.False(done.Driving);
        Assert.Empty(done.Errors);
        Assert.Equal(4, done.AgvPosition!.X, 6);
        Assert.True(done.BatteryState.BatteryCharge < 100);
    }

    [Fact]
    public async Task Open_door_on_the_node_before_a_door_holds_the_robot_there_until_the_door_is_open()
    {
        // The control plane puts a HARD openDoor action on the node before a lane through a door (RobotPlan.OpenDoorAction);
        // the simulated firmware takes 3 s for it. The robot must not drive on while it runs.
        await using var h = await Harness.StartAsync();
        await h.SendAsync(h.Order("o-door", 0,
            [N("n1", 0, 0, actions: A("openDoor", "a-door")), N("n2", 2, 2)],
            [E("e1", 1, "n1", "n2")]));

        var opening = await h.WaitForStateAsync(s => s.OrderId == "o-door" && s.ActionStates.Any(a => a.ActionId == "a-door" && a.ActionStatus == ActionStatus.Running));
        Assert.Equal("n1", opening.LastNodeId);
        Assert.False(opening.Driving);
        var done = await h.WaitForStateAsync(s => s.OrderId == "o-door" && s.LastNodeId == "n2");
        Assert.Equal(ActionStatus.Finished, Assert.Single(done.ActionStates, a => a.ActionId == "a-door").ActionStatus);
        Assert.Empty(done.Errors);
    }

    [Fact]
    public async Task Open_door_on_the_lane_of_an_update_holds_the_robot_at_the_stitching_node_until_the_door_is_open()
    {
        // A re-route from a node already released (fixed) straight through a door: the control plane puts the HARD openDoor
        // on the door's lane, new in the update, as an edge action. The robot runs it on entering the lane, before it drives.
        await using var h = await Harness.StartAsync();
        await h.SendAsync(h.Order("o-door2", 0, [N("n1", 0, 0), N("n2", 2, 2)], [E("e1", 1, "n1", "n2")]));
        await h.WaitForStateAsync(s => s.OrderId == "o-door2" && s.LastNodeId == "n2" && !s.Driving);

        await h.SendAsync(h.Order("o-door2", 1, [N("n2", 2, 2), N("n3", 4, 4)], [E("e2", 3, "n2", "n3") with { Actions = [A("openDoor", "a-door2")] }]));
        var opening = await h.WaitForStateAsync(s => s.OrderUpdateId == 1 && s.ActionStates.Any(a => a.ActionId == "a-door2" && a.ActionStatus == ActionStatus.Running));
        Assert.Equal("n2", opening.LastNodeId);
        Assert.False(opening.Driving);
        var done = await h.WaitForStateAsync(s => s.OrderUpdateId == 1 && s.LastNodeId == "n3");
        Assert.Equal(ActionStatus.Finished, Assert.Single(done.ActionStates, a => a.ActionId == "a-door2").ActionStatus);
        Assert.Empty(done.Errors);
    }

    [Fact]
    public async Task Stops_at_the_end_of_the_base_and_continues_after_an_update()
    {
        await using var h = await Harness.StartAsync();
        await h.SendAsync(h.Order("o2", 0,
            [N("n1", 0, 0), N("n2", 2, 2), N("n3", 4, 4, released: false)],
            [E("e1", 1, "n1", "n2"), E("e2", 3, "n2", "n3", released: false)]));

        var waiting = await h.WaitForStateAsync(s => s.OrderId == "o2" && s.LastNodeId == "n2" && !s.Driving);
        Assert.True(waiting.NewBaseRequest);
        Assert.Equal(["n3"], waiting.NodeStates.Select(n => n.NodeId));
        Assert.False(waiting.NodeStates[0].Released);
        Assert.Equal(["e2"], waiting.EdgeStates.Select(e => e.EdgeId));

        await Task.Delay(200);
        Assert.Equal("n2", h.Agent.CurrentState().LastNodeId);

        await h.SendAsync(h.Order("o2", 1, [N("n2", 2, 2), N("n3", 4, 4)], [E("e2", 3, "n2", "n3")]));
        var done = await h.WaitForStateAsync(s => s.OrderUpdateId == 1 && s.LastNodeId == "n3");
        Assert.Empty(done.NodeStates);
        Assert.False(done.NewBaseRequest);
    }

    [Fact]
    public async Task An_update_drops_the_actions_of_the_horizon_it_replaces()
    {
        // The horizon to n3 carries a door action on its node and one on its lane; the update, stitched at n2, goes to n4
        // instead. Those actions are no longer part of the order: they must not stay in actionStates, WAITING for good.
        await using var h = await Harness.StartAsync();
        await h.SendAsync(h.Order("o5", 0,
            [N("n1", 0, 0), N("n2", 2, 2), N("n3", 4, 4, released: false, actions: A("openDoor", "a-n3"))],
            [E("e1", 1, "n1", "n2"), E("e2", 3, "n2", "n3", released: false) with { Actions = [A("openDoor", "a-e2")] }]));
        var waiting = await h.WaitForStateAsync(s => s.OrderId == "o5" && s.LastNodeId == "n2" && !s.Driving);
        Assert.Contains(waiting.ActionStates, a => a.ActionId == "a-n3" && a.ActionStatus == ActionStatus.Waiting);

        await h.SendAsync(h.Order("o5", 1, [N("n2", 2, 2), N("n4", 4, 5, actions: A("drop", "a-n4"))], [E("e4", 3, "n2", "n4")]));
        var done = await h.WaitForStateAsync(s => s.OrderUpdateId == 1 && s.LastNodeId == "n4"
            && s.ActionStates.Any(a => a.ActionId == "a-n4" && a.ActionStatus == ActionStatus.Finished));

        Assert.DoesNotContain(done.ActionStates, a => a.ActionId is "a-n3" or "a-e2");
        Assert.Empty(done.Errors);
    }

    [Fact]
    public async Task Repeated_order_is_ignored_and_older_update_is_rejected()
    {
        await using var h = await Harness.StartAsync();
        await h.SendAsync(h.Order("o3", 0, [N("n1", 0, 0), N("n2", 2, 2)], [E("e1", 1, "n1", "n2")]));
        await h.WaitForStateAsync(s => s.OrderId == "o3" && s.LastNodeId == "n2");

        // Same (orderId, orderUpdateId) with a body that would otherwise be rejected: ignored.
        await h.SendAsync(h.Order("o3", 0, [N("nX", 1, 9)], []));
        var synced = await h.SyncAsync();
        Assert.Empty(synced.Errors);
        Assert.Equal("n2", synced.LastNodeId);

        await h.SendAsync(h.Order("o3", 2, [N("n2", 2, 2), N("n3", 4, 4)], [E("e2", 3, "n2", "n3")]));
        await h.WaitForStateAsync(s => s.OrderUpdateId == 2 && s.LastNodeId == "n3");
        await h.SendAsync(h.Order("o3", 1, [N("n3", 4, 4), N("n4", 6, 6)], [E("e3", 5, "n3", "n4")]));
        var rejected = await h.WaitForStateAsync(s => s.Errors.Any(e => e.ErrorType == "orderUpdateError"));
        Assert.Equal(2, rejected.OrderUpdateId);
        Assert.Contains(rejected.Errors.Single().ErrorReferences!, r => r.ReferenceKey == "orderId" && r.ReferenceValue == "o3");
    }

    [Fact]
    public async Task Invalid_order_and_malformed_json_give_validation_errors()
    {
        await using var h = await Harness.StartAsync();
        await h.SendAsync(h.Order("bad", 0, [N("n1", 0, 0), N("n2", 3, 2)], [E("e1", 1, "n1", "n2")]));
        var state = await h.WaitForStateAsync(s => s.Errors.Any(e => e.ErrorType == "validationError"));
        var error = state.Errors.First(e => e.ErrorType == "validationError");
        Assert.Contains(error.ErrorReferences!, r => r.ReferenceKey == "orderId" && r.ReferenceValue == "bad");
        Assert.Contains("sequenceId", error.ErrorDescription);
        Assert.Equal("", state.OrderId);

        await h.Recorder.PublishAsync("order", Encoding.UTF8.GetBytes("{\"orderId\": 42, nonsense"));
        await h.WaitForStateAsync(s => s.Errors.Count(e => e.ErrorType == "validationError") == 2);

        // Still working: a valid order is accepted and clears the errors.
        await h.SendAsync(h.Order("good", 0, [N("n1", 0, 0), N("n2", 2, 2)], [E("e1", 1, "n1", "n2")]));
        var ok = await h.WaitForStateAsync(s => s.OrderId == "good" && s.LastNodeId == "n2");
        Assert.Empty(ok.Errors);
    }

    [Fact]
    public async Task Order_not_starting_at_the_robot_gives_no_route_error()
    {
        await using var h = await Harness.StartAsync();
        await h.SendAsync(h.Order("far", 0, [N("elsewhere", 0, 30), N("n2", 2, 32)], [E("e1", 1, "elsewhere", "n2")]));
        var state = await h.WaitForStateAsync(s => s.Errors.Any(e => e.ErrorType == "noRouteError"));
        Assert.Equal("", state.OrderId);
        Assert.Equal("n1", state.LastNodeId);
    }

    [Fact]
    public async Task Cancel_order_stops_on_the_next_node_clears_and_without_order_fails()
    {
        await using var h = await Harness.StartAsync();
        await h.SendAsync(h.Order("long", 0,
            [N("n1", 0, 0), N("n2", 2, 60, actions: A("pick", "never")), N("n3", 4, 500)],
            [E("e1", 1, "n1", "n2"), E("e2", 3, "n2", "n3")]));
        await h.WaitForStateAsync(s => s.OrderId == "long" && s.Driving);

        await h.SendInstantAsync(A("cancelOrder", "c1"));
        var cancelled = await h.WaitForStateAsync(s => s.ActionStates.Any(a => a.ActionId == "c1" && a.ActionStatus == ActionStatus.Finished));
        Assert.Empty(cancelled.NodeStates);
        Assert.Empty(cancelled.EdgeStates);
        Assert.Equal("n2", cancelled.LastNodeId); // finished the edge it was on, went no further
        Assert.Equal(2, cancelled.LastNodeSequenceId);
        Assert.Equal(ActionStatus.Failed, cancelled.ActionStates.Single(a => a.ActionId == "never").ActionStatus);
        Assert.False(h.Robot.Telemetry.Driving);
        Assert.Equal(60, h.Robot.Telemetry.Pose.X, 1e-6);
        await Task.Delay(100);
        Assert.Equal(60, h.Robot.Telemetry.Pose.X, 1e-6);

        // Standing on a waypoint, it takes the next order from there.
        await h.SendAsync(h.Order("next", 0, [N("n2", 0, 60), N("n1", 2, 0)], [E("e1r", 1, "n2", "n1")]));
        var next = await h.WaitForStateAsync(s => s.OrderId == "next" && s.LastNodeId == "n1" && s.NodeStates.Count == 0);
        Assert.DoesNotContain(next.Errors, e => e.ErrorType == "noRouteError");

        await h.SendInstantAsync(A("cancelOrder", "c2"));
        var failed = await h.WaitForStateAsync(s => s.ActionStates.Any(a => a.ActionId == "c2" && a.ActionStatus == ActionStatus.Failed));
        Assert.Contains(failed.Errors, e => e.ErrorType == "noOrderToCancel");
    }

    [Fact]
    public async Task Pause_stops_the_robot_and_resume_continues_the_order()
    {
        await using var h = await Harness.StartAsync();
        await h.SendAsync(h.Order("p", 0, [N("n1", 0, 0), N("n2", 2, 40)], [E("e1", 1, "n1", "n2")]));
        await h.WaitForStateAsync(s => s.OrderId == "p" && s.Driving);

        await h.SendInstantAsync(A("startPause", "pause"));
        var paused = await h.WaitForStateAsync(s => s.Paused == true && !s.Driving);
        Assert.Equal("n1", paused.LastNodeId);
        var x = h.Robot.Telemetry.Pose.X;
        await Task.Delay(150);
        Assert.Equal(x, h.Robot.Telemetry.Pose.X);

        await h.SendInstantAsync(A("stopPause", "resume"));
        var done = await h.WaitForStateAsync(s => s.LastNodeId == "n2" && s.Paused == false);
        Assert.Empty(done.NodeStates);
    }

    [Fact]
    public async Task Init_position_relocates_an_idle_robot()
    {
        await using var h = await Harness.StartAsync();
        await h.SendInstantAsync(new Vda5050.V2.Action
        {
            ActionType = "initPosition",
            ActionId = "init",
            BlockingType = BlockingType.Hard,
            ActionParameters = [ActionParameter.Of("x", 5), ActionParameter.Of("y", 6), ActionParameter.Of("theta", 0), ActionParameter.Of("mapId", "L1"), ActionParameter.Of("lastNodeId", "w5")],
        });
        var state = await h.WaitForStateAsync(s => s.ActionStates.Any(a => a.ActionId == "init" && a.ActionStatus == ActionStatus.Finished));
        Assert.Equal("w5", state.LastNodeId);
        Assert.Equal(5, h.Robot.Telemetry.Pose.X);
    }

    [Fact]
    public async Task Empty_battery_reports_a_fatal_navigation_error_and_keeps_the_order()
    {
        await using var h = await Harness.StartAsync(battery: 0);
        await h.SendAsync(h.Order("flat", 0, [N("n1", 0, 0), N("n2", 2, 2)], [E("e1", 1, "n1", "n2")]));
        var state = await h.WaitForStateAsync(s => s.Errors.Any(e => e.ErrorType == "navigationError"));
        Assert.Equal(ErrorLevel.Fatal, state.Errors.First(e => e.ErrorType == "navigationError").ErrorLevel);
        Assert.Contains(state.Errors, e => e.ErrorType == "batteryEmpty");
        Assert.Equal("n1", state.LastNodeId);
        Assert.Equal(["n2"], state.NodeStates.Select(n => n.NodeId));
    }
}
