using RobotFleet.Contracts;
using RobotFleet.Maps;
using RobotFleet.Vda5050;
using RobotFleet.Vda5050.Tests;
using RobotFleet.Vda5050.V2;
using static RobotFleet.Gateway.Tests.Routes;

namespace RobotFleet.Gateway.Tests;

/// <summary>
/// Acceptance: every order the control plane sends validates against the official VDA 5050 2.1.0
/// order schema (and every instantActions message against its schema), and passes <see cref="OrderValidator"/>.
/// </summary>
public sealed class OrderSchemaTests
{
    private static Order AssertSendable(DispatchRoute route, long headerId = 7)
    {
        var order = OrderMapper.ToOrder(route, headerId, T0);
        var json = Vda5050Json.Serialize(order);
        SchemaValidator.AssertValid("order", json);
        Assert.Empty(OrderValidator.Validate(order));
        // What goes on the wire reads back as the same order.
        Assert.Equal(json, Vda5050Json.Serialize(Vda5050Json.Deserialize<Order>(json)));
        return order;
    }

    [Fact]
    public void New_order_with_base_horizon_and_pick_drop_actions_is_valid()
    {
        var route = Line("order-1", 0, waypoints: 5, releasedThrough: 2, actionsAt: i => i switch
        {
            0 => [Action("a-pick", "pick", "HARD", ("stationType", "floor"), ("loadType", "EPAL"), ("height", "0.1"))],
            4 => [Action("a-drop", "drop", "HARD", ("stationType", "floor")), Action("a-beep", "beep", "NONE")],
            _ => [],
        });

        var order = AssertSendable(route);

        Assert.Equal(("order-1", 0L, 7L), (order.OrderId, order.OrderUpdateId, order.HeaderId));
        Assert.Equal(("Acme", "r1", "2.1.0"), (order.Manufacturer, order.SerialNumber, order.Version));
        Assert.Equal([true, true, true, false, false], order.Nodes.Select(n => n.Released));
        Assert.Equal([true, true, false, false], order.Edges.Select(e => e.Released));
        Assert.Equal([0L, 2, 4, 6, 8], order.Nodes.Select(n => n.SequenceId));
        Assert.Equal([1L, 3, 5, 7], order.Edges.Select(e => e.SequenceId));
        var pick = Assert.Single(order.Nodes[0].Actions);
        Assert.Equal((BlockingType.Hard, "EPAL", "0.1"), (pick.BlockingType, pick.Parameter("loadType"), pick.Parameter("height")));
        Assert.Equal(BlockingType.None, order.Nodes[4].Actions[1].BlockingType);
        Assert.Equal(new NodePosition { X = 10, Y = 0, MapId = "L1", AllowedDeviationXY = OrderMapper.AllowedDeviationXY }, order.Nodes[2].NodePosition);
        Assert.Equal(0.8, order.Edges[0].MaxSpeed);
        Assert.Null(order.Edges[1].MaxSpeed);
    }

    [Fact]
    public void An_openDoor_on_a_lane_goes_out_as_a_valid_edge_action()
    {
        var line = Line("order-1", 1, waypoints: 3, releasedThrough: 2, firstWaypoint: 2, firstSequenceId: 4);
        var open = Action("order-1-openDoor-5", "openDoor", "HARD", ("doorId", "door1"));
        var route = line with { Lanes = [line.Lanes[0] with { Actions = [open] }, .. line.Lanes.Skip(1)] };

        var order = AssertSendable(route);

        var sent = Assert.Single(order.Edges[0].Actions);
        Assert.Equal(("order-1-openDoor-5", "openDoor", BlockingType.Hard, "door1"), (sent.ActionId, sent.ActionType, sent.BlockingType, sent.Parameter("doorId")));
        Assert.Empty(order.Edges[1].Actions);
    }

    [Fact]
    public void Order_update_starting_at_the_last_base_node_is_valid_and_stitches()
    {
        var first = AssertSendable(Line("order-1", 0, waypoints: 5, releasedThrough: 2), headerId: 0);
        var lastBase = first.Nodes.Last(n => n.Released);

        // Release two more waypoints and extend the horizon: starts at w2 (sequenceId 4).
        var update = AssertSendable(Line("order-1", 1, waypoints: 5, releasedThrough: 2, firstWaypoint: 2, firstSequenceId: 4), headerId: 1);

        Assert.Equal((lastBase.NodeId, lastBase.SequenceId), (update.Nodes[0].NodeId, update.Nodes[0].SequenceId));
        Assert.Empty(OrderValidator.ValidateUpdate(update, first.OrderUpdateId, lastBase.NodeId, lastBase.SequenceId));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Single_node_order_is_valid(bool withAction)
    {
        var route = Line("order-single", 0, waypoints: 1, releasedThrough: 0,
            actionsAt: _ => withAction ? [Action("a-charge", "startCharging", "HARD")] : []);

        var order = AssertSendable(route);

        Assert.Single(order.Nodes);
        Assert.Empty(order.Edges);
        Assert.Contains("\"edges\":[]", Vda5050Json.Serialize(order));
    }

    public static TheoryData<string, string> OfficeLocationPairs()
    {
        var names = Office.Locations.Keys.Order(StringComparer.Ordinal).ToList();
        var data = new TheoryData<string, string>();
        foreach (var from in names)
        {
            foreach (var to in names.Where(n => n != from))
                data.Add(from, to);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(OfficeLocationPairs))]
    public void Orders_for_real_office_routes_are_valid(string from, string to)
    {
        var graph = new RouteGraph(Office);
        var route = graph.FindRoute(Office.Locations[from].WaypointId, Office.Locations[to].WaypointId, maxSpeed: 1.0);
        Assert.NotNull(route);

        // Released prefix: roughly the first half of the route (at least the start).
        var released = Math.Max(1, (route.WaypointIds.Count + 1) / 2);
        var order = AssertSendable(FromMap(Office, route, $"order-{from}-{to}", released, [Action($"a-{to}", "drop", "HARD", ("location", to))]));

        Assert.Equal(route.WaypointIds, order.Nodes.Select(n => n.NodeId));
        Assert.Equal(route.Lanes.Select(l => l.Id), order.Edges.Select(e => e.EdgeId));
    }

    [Fact]
    public void The_office_map_offers_enough_route_pairs()
    {
        Assert.True(OfficeLocationPairs().Count >= 100, $"only {OfficeLocationPairs().Count} pairs");
    }

    [Theory]
    [InlineData("cancelOrder", "HARD")]
    [InlineData("startPause", "HARD")]
    [InlineData("stopPause", "HARD")]
    [InlineData("factsheetRequest", "NONE")]
    public void Instant_actions_are_valid(string actionType, string blocking)
    {
        var command = new TriggerInstantActions(R1, [Action($"ia-{actionType}", actionType, blocking)]);

        var message = OrderMapper.ToInstantActions(command, 3, T0);
        var json = Vda5050Json.Serialize(message);

        SchemaValidator.AssertValid("instantActions", json);
        Assert.Equal((3L, "Acme", "r1"), (message.HeaderId, message.Manufacturer, message.SerialNumber));
        Assert.Equal(actionType, Assert.Single(message.Actions).ActionType);
    }

    [Fact]
    public void Instant_actions_with_parameters_are_valid()
    {
        var command = new TriggerInstantActions(R1,
        [
            Action("ia-1", "cancelOrder", "HARD"),
            Action("ia-2", "initPosition", "HARD", ("x", "1.5"), ("y", "2"), ("theta", "0"), ("mapId", "L1"), ("lastNodeId", "w0")),
        ]);

        SchemaValidator.AssertValid("instantActions", Vda5050Json.Serialize(OrderMapper.ToInstantActions(command, 0, T0)));
    }

    [Fact]
    public void The_schema_check_itself_rejects_a_broken_order()
    {
        // Guards against a validator that accepts everything: a node without 'released' is invalid.
        var json = Vda5050Json.Serialize(OrderMapper.ToOrder(Line("o", 0, 2, 1), 0, T0)).Replace("\"released\":true,", "");

        Assert.NotEmpty(SchemaValidator.Problems("order", json));
    }
}
