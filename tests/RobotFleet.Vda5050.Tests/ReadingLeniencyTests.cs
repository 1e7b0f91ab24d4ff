using RobotFleet.Vda5050.V2;

namespace RobotFleet.Vda5050.Tests;

/// <summary>How <see cref="Vda5050Json"/> reads what real robots send (DESIGN §5).</summary>
public class ReadingLeniencyTests
{
    private const string Header = """
        "headerId": 7, "timestamp": "2024-05-01T12:00:00.123Z", "version": "2.0.0", "manufacturer": "acme", "serialNumber": "amr-7"
        """;

    private static string OrderJson(string node = """{ "nodeId": "A", "sequenceId": 0, "released": true }""", string extra = "") =>
        $$"""{ {{Header}}, "orderId": "o-1", "orderUpdateId": 0, "nodes": [ {{node}} ], "edges": [] {{extra}} }""";

    [Fact]
    public void Unknown_fields_are_ignored_at_every_level()
    {
        var order = Vda5050Json.Deserialize<Order>(OrderJson(
            node: """{ "nodeId": "A", "sequenceId": 0, "released": true, "vendorNode": { "deep": [1, {"x": null}] } }""",
            extra: """, "corridor": { "leftWidth": 1 }, "vendorFlags": [true, "x", 3.5], "zoneSetId": "z" """));

        Assert.Equal(("o-1", "A", "z"), (order.OrderId, order.Nodes.Single().NodeId, order.ZoneSetId));
    }

    [Fact]
    public void Explicit_nulls_of_optional_fields_read_as_absent()
    {
        var order = Vda5050Json.Deserialize<Order>(OrderJson(
            node: """{ "nodeId": "A", "sequenceId": 0, "released": true, "nodeDescription": null, "nodePosition": null, "actions": null }""",
            extra: """, "zoneSetId": null """).Replace("\"edges\": []", "\"edges\": null", StringComparison.Ordinal));

        var node = order.Nodes.Single();
        Assert.Equal((null, null), (node.NodeDescription, node.NodePosition));
        Assert.Empty(node.Actions);
        Assert.Empty(order.Edges);
        Assert.Null(order.ZoneSetId);
        Assert.Equal(Vda5050Json.Serialize(Vda5050Json.Deserialize<Order>(OrderJson())), Vda5050Json.Serialize(order));
    }

    [Theory]
    [InlineData("2", 2)]
    [InlineData("2.0", 2)]
    [InlineData("\"2\"", 2)]
    [InlineData("1e1", 10)]
    public void Integer_fields_read_leniently(string written, long expected)
    {
        var order = Vda5050Json.Deserialize<Order>(OrderJson(node: $$"""{ "nodeId": "A", "sequenceId": {{written}}, "released": true }"""));

        Assert.Equal(expected, order.Nodes.Single().SequenceId);
        Assert.Contains($"\"sequenceId\":{expected}", Vda5050Json.Serialize(order), StringComparison.Ordinal);
    }

    [Fact]
    public void Instant_actions_dialect_reads_as_actions()
    {
        var message = Vda5050Json.Deserialize<InstantActions>($$"""
            { {{Header}}, "instantActions": [ { "actionType": "cancelOrder", "actionId": "c-1", "blockingType": "HARD" } ] }
            """);

        Assert.Equal(("cancelOrder", "c-1"), (message.Actions.Single().ActionType, message.Actions.Single().ActionId));
        Assert.DoesNotContain("instantActions", Vda5050Json.Serialize(message), StringComparison.Ordinal);
    }

    [Fact]
    public void Standard_actions_win_over_the_dialect()
    {
        var message = Vda5050Json.Deserialize<InstantActions>($$"""
            { {{Header}},
              "actions": [ { "actionType": "startPause", "actionId": "p-1", "blockingType": "HARD" } ],
              "instantActions": [ { "actionType": "cancelOrder", "actionId": "c-1", "blockingType": "HARD" } ] }
            """);

        Assert.Equal("p-1", message.Actions.Single().ActionId);
    }

    public static TheoryData<string, string, string> MalformedOrders => new()
    {
        { "truncated", OrderJson()[..60], "$" },
        { "not JSON", "order please", "$" },
        { "null message", "null", "$" },
        { "missing orderId", OrderJson().Replace("\"orderId\": \"o-1\",", "", StringComparison.Ordinal), "$" },
        { "null orderId", OrderJson().Replace("\"o-1\"", "null", StringComparison.Ordinal), "$.orderId" },
        { "text sequenceId", OrderJson(node: """{ "nodeId": "A", "sequenceId": "two", "released": true }"""), "$.nodes[0].sequenceId" },
        { "fractional sequenceId", OrderJson(node: """{ "nodeId": "A", "sequenceId": 2.5, "released": true }"""), "$.nodes[0].sequenceId" },
        { "bad blockingType", OrderJson(node: """{ "nodeId": "A", "sequenceId": 0, "released": true, "actions": [ { "actionType": "pick", "actionId": "p", "blockingType": "SOMETIMES" } ] }"""), "$.nodes[0].actions[0].blockingType" },
        { "bad timestamp", OrderJson().Replace("2024-05-01T12:00:00.123Z", "yesterday", StringComparison.Ordinal), "$.timestamp" },
        { "nodes not an array", OrderJson().Replace("\"edges\": []", "\"edges\": {}", StringComparison.Ordinal), "$.edges" },
    };

    [Theory]
    [MemberData(nameof(MalformedOrders))]
    public void Malformed_json_names_message_type_and_path(string name, string json, string expectedPath)
    {
        var e = Assert.Throws<Vda5050FormatException>(() => Vda5050Json.Deserialize<Order>(json));

        Assert.True(e.Path.StartsWith(expectedPath, StringComparison.Ordinal), $"{name}: path {e.Path}, expected {expectedPath}");
        Assert.Equal("Order", e.MessageType);
        Assert.Contains($"invalid VDA 5050 Order at {e.Path}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_enum_in_state_names_state()
    {
        var e = Assert.Throws<Vda5050FormatException>(() => Vda5050Json.Deserialize<State>($$"""{ {{Header}}, "operatingMode": "AUTOPILOT" }"""));

        Assert.Equal(("State", "$.operatingMode"), (e.MessageType, e.Path));
    }

    [Fact]
    public void Timestamps_in_any_iso_form_read_as_utc()
    {
        var connection = Vda5050Json.Deserialize<Connection>($$"""
            { "headerId": 1, "timestamp": "2024-05-01T14:00:00+02:00", "version": "2.1.0", "manufacturer": "m", "serialNumber": "s", "connectionState": "OFFLINE" }
            """);

        Assert.Equal(new DateTimeOffset(2024, 5, 1, 12, 0, 0, TimeSpan.Zero), connection.Timestamp);
        Assert.Contains("\"timestamp\":\"2024-05-01T12:00:00.000Z\"", Vda5050Json.Serialize(connection), StringComparison.Ordinal);
    }

    [Fact]
    public void Types_outside_the_model_are_refused() =>
        Assert.Throws<NotSupportedException>(() => Vda5050Json.Serialize(Guid.Empty));
}
