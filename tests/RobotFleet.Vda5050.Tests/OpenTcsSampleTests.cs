using System.Text.Json.Nodes;
using RobotFleet.Vda5050.V2;

namespace RobotFleet.Vda5050.Tests;

/// <summary>
/// Sample messages of the openTCS VDA 5050 adapter (Fixtures/opentcs-v2_0, CC-BY-4.0) parse into
/// our model; the file name says the message type.
/// </summary>
public class OpenTcsSampleTests
{
    private static readonly string[] Samples = Directory.GetFiles(Fixture.PathOf("opentcs-v2_0"))
        .Select(Path.GetFileName).OfType<string>()
        .Where(f => f.EndsWith(".approved.txt", StringComparison.Ordinal) || f.EndsWith("Fields.json", StringComparison.Ordinal))
        .Order(StringComparer.Ordinal)
        .ToArray();

    public static TheoryData<string> AllSamples => [.. Samples];

    public static TheoryData<string> NullSamples => [.. Samples.Where(f => f.Contains("WithNull", StringComparison.Ordinal))];

    [Fact]
    public void Every_sample_is_present() => Assert.Equal(15, Samples.Length);

    [Theory]
    [MemberData(nameof(AllSamples))]
    public void Sample_parses_into_its_message_type(string file)
    {
        var message = Parse(file, Read(file));

        Assert.Equal(MessageType(file), message.GetType().Name, StringComparer.OrdinalIgnoreCase);
        Assert.Equal(DateTimeOffset.UnixEpoch, message.Timestamp);
        Assert.Equal("version", message.Version);
        Assert.Equal("serial-number", message.SerialNumber);
        Assert.StartsWith("manufactur", message.Manufacturer, StringComparison.Ordinal);
    }

    /// <summary>Reading with explicit nulls gives what reading with those fields left out gives.</summary>
    [Theory]
    [MemberData(nameof(NullSamples))]
    public void Explicit_nulls_read_as_absent(string file)
    {
        var json = Read(file);
        var withoutNulls = JsonNode.Parse(json)!;
        RemoveNulls(withoutNulls);

        Assert.Equal(Write(Parse(file, withoutNulls.ToJsonString())), Write(Parse(file, json)));
    }

    [Fact]
    public void Full_order_spot_checks()
    {
        var order = Vda5050Json.Deserialize<Order>(Read("OrderTest.jsonSampleFull.approved.txt"));

        Assert.Equal(("some-order-id", 0L, "some-zone-set-id"), (order.OrderId, order.OrderUpdateId, order.ZoneSetId));
        Assert.Equal(["source-node", "destination-node"], order.Nodes.Select(n => n.NodeId));
        var position = order.Nodes[0].NodePosition!;
        Assert.Equal((1.2, 3.4, 1.3, 0.1, "some-map-id"), (position.X, position.Y, position.Theta, position.AllowedDeviationXY, position.MapId));
        Assert.Equal("some-other-value", order.Nodes[0].Actions[0].Parameter("some-other-key"));
        var edge = order.Edges.Single();
        Assert.Equal(("source-node", "destination-node", 123.0, true), (edge.StartNodeId, edge.EndNodeId, edge.MaxSpeed, edge.RotationAllowed));
        Assert.Equal(1, edge.Trajectory!.Degree);
        Assert.Equal([0.1, 0.2, 0.3], edge.Trajectory.KnotVector);
        Assert.Equal(1.0, edge.Trajectory.ControlPoints.Single().Weight);
    }

    [Fact]
    public void Full_state_spot_checks()
    {
        var state = Vda5050Json.Deserialize<State>(Read("StateTest.jsonSampleFull.approved.txt"));

        Assert.Equal(OperatingMode.Semiautomatic, state.OperatingMode);
        Assert.Equal((50.0, 70.0, false), (state.BatteryState.BatteryCharge, state.BatteryState.BatteryHealth, state.BatteryState.Charging));
        Assert.Equal(ActionStatus.Failed, state.ActionStates.Single().ActionStatus);
        var error = state.Errors.Single();
        Assert.Equal((ErrorLevel.Fatal, "some-ref-value"), (error.ErrorLevel, error.ErrorReferences!.Single().ReferenceValue));
        Assert.Equal(("AUTOACK", false), (state.SafetyState.EStop, state.SafetyState.FieldViolation));
        Assert.Equal((2.1, 5.4, true, 0.5), (state.AgvPosition!.X, state.AgvPosition.Y, state.AgvPosition.PositionInitialized, state.AgvPosition.LocalizationScore));
        Assert.Equal(0.0, state.Loads!.Single().Weight);
        Assert.Equal("DEBUG", state.Information!.Single().InfoLevel);
        Assert.Equal(2.0, state.EdgeStates.Single().Trajectory!.ControlPoints.Single().Weight);
        Assert.Equal((false, false, 12.0), (state.Paused, state.NewBaseRequest, state.DistanceSinceLastNode));
    }

    [Fact]
    public void Full_instant_actions_spot_checks()
    {
        var message = Vda5050Json.Deserialize<InstantActions>(Read("InstantActionsTest.jsonSampleFull.approved.txt"));

        Assert.Equal([("action1", BlockingType.None), ("action2", BlockingType.Soft)], message.Actions.Select(a => (a.ActionId, a.BlockingType)));
        Assert.Equal("some-value", message.Actions[1].Parameter("some-key"));
    }

    [Fact]
    public void Connection_and_visualization_spot_checks()
    {
        Assert.Equal(ConnectionState.Online, Vda5050Json.Deserialize<Connection>(Read("ConnectionTest.jsonSample.approved.txt")).ConnectionState);

        var visualization = Vda5050Json.Deserialize<Visualization>(Read("VisualizationTest.jsonSampleFull.approved.txt"));
        Assert.Equal((1.2, 0.2, 0.1), (visualization.AgvPosition!.Theta, visualization.AgvPosition.LocalizationScore, visualization.AgvPosition.DeviationRange));
        Assert.Equal((0.1, 0.2, 0.3), (visualization.Velocity!.Vx, visualization.Velocity.Vy, visualization.Velocity.Omega));
        Assert.Null(Vda5050Json.Deserialize<Visualization>(Read("VisualizationTest.jsonSampleMinimal.approved.txt")).AgvPosition);
    }

    [Fact]
    public void Null_optional_fields_read_as_absent_values_and_empty_lists()
    {
        var instant = Vda5050Json.Deserialize<InstantActions>(Read("instantActionsMessageWithNullForOptionalFields.json"));
        Assert.Null(instant.Actions[1].ActionDescription);
        Assert.NotNull(instant.Actions[1].ActionParameters);
        Assert.Empty(instant.Actions[1].ActionParameters);

        var order = Vda5050Json.Deserialize<Order>(Read("orderMessageWithNullForOptionalFields.json"));
        Assert.Null(order.ZoneSetId);
        Assert.Equal((null, null), (order.Nodes[0].NodePosition!.Theta, order.Nodes[0].NodePosition!.MapDescription));
        Assert.Null(order.Nodes[1].NodePosition);
        Assert.Empty(order.Nodes[1].Actions);
        Assert.Equal((null, null, null), (order.Edges[0].Trajectory, order.Edges[0].MaxSpeed, order.Edges[0].RotationAllowed));

        var state = Vda5050Json.Deserialize<State>(Read("stateMessageWithNullForOptionalFields.json"));
        Assert.Null(state.EdgeStates[0].Trajectory!.ControlPoints[0].Weight);
        Assert.Equal((null, null, null), (state.Velocity!.Vx, state.Velocity.Vy, state.Velocity.Omega));
        Assert.Null(state.Errors[0].ErrorReferences);
        Assert.Equal(2, state.Loads!.Count);

        var root = Vda5050Json.Deserialize<State>(Read("stateMessageWithNullForOptionalRootFields.json"));
        Assert.Equal((null, null, null, null, null), (root.AgvPosition, root.Velocity, root.Loads, root.Information, root.Paused));
        Assert.Empty(root.NodeStates);
        Assert.Empty(root.Errors);
    }

    private static string Read(string file) => Fixture.Read("opentcs-v2_0", file);

    /// <summary>Message type from the file name: <c>OrderTest…</c>, <c>stateMessage…</c>.</summary>
    private static string MessageType(string file) => file[..file.IndexOfAny(['.', 'M'])].Replace("Test", "", StringComparison.Ordinal);

    private static Header Parse(string file, string json) => MessageType(file).ToLowerInvariant() switch
    {
        "order" => Vda5050Json.Deserialize<Order>(json),
        "instantactions" => Vda5050Json.Deserialize<InstantActions>(json),
        "state" => Vda5050Json.Deserialize<State>(json),
        "connection" => Vda5050Json.Deserialize<Connection>(json),
        "visualization" => Vda5050Json.Deserialize<Visualization>(json),
        var other => throw new ArgumentException($"no message type for {file} ({other})"),
    };

    private static string Write(Header message) => message switch
    {
        Order m => Vda5050Json.Serialize(m),
        InstantActions m => Vda5050Json.Serialize(m),
        State m => Vda5050Json.Serialize(m),
        Connection m => Vda5050Json.Serialize(m),
        Visualization m => Vda5050Json.Serialize(m),
        _ => throw new ArgumentException(message.GetType().Name),
    };

    private static void RemoveNulls(JsonNode node)
    {
        if (node is JsonObject obj)
        {
            foreach (var key in obj.Where(p => p.Value is null).Select(p => p.Key).ToList())
                obj.Remove(key);
            foreach (var child in obj.Select(p => p.Value!).ToList())
                RemoveNulls(child);
        }
        else if (node is JsonArray array)
        {
            foreach (var child in array.OfType<JsonNode>())
                RemoveNulls(child);
        }
    }
}
