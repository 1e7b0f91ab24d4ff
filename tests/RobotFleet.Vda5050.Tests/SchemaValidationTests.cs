using System.Text.Json.Nodes;
using RobotFleet.Vda5050.V2;

namespace RobotFleet.Vda5050.Tests;

/// <summary>Every message we send validates against the official VDA 5050 2.1.0 JSON schemas.</summary>
public class SchemaValidationTests
{
    private static readonly Dictionary<string, (string Schema, Func<string> Json)> Messages = new()
    {
        ["order full"] = ("order", () => Vda5050Json.Serialize(Samples.FullOrder())),
        ["order minimal"] = ("order", () => Vda5050Json.Serialize(Samples.MinimalOrder())),
        ["instantActions full"] = ("instantActions", () => Vda5050Json.Serialize(Samples.FullInstantActions())),
        ["instantActions minimal"] = ("instantActions", () => Vda5050Json.Serialize(Samples.MinimalInstantActions())),
        ["state full"] = ("state", () => Vda5050Json.Serialize(Samples.FullState())),
        ["state minimal"] = ("state", () => Vda5050Json.Serialize(Samples.MinimalState())),
        ["connection ONLINE"] = ("connection", () => Vda5050Json.Serialize(Samples.Connection(ConnectionState.Online))),
        ["connection OFFLINE"] = ("connection", () => Vda5050Json.Serialize(Samples.Connection(ConnectionState.Offline))),
        ["connection CONNECTIONBROKEN"] = ("connection", () => Vda5050Json.Serialize(Samples.Connection(ConnectionState.ConnectionBroken))),
        ["factsheet full"] = ("factsheet", () => Vda5050Json.Serialize(Samples.FullFactsheet())),
        ["factsheet minimal"] = ("factsheet", () => Vda5050Json.Serialize(Samples.MinimalFactsheet())),
        ["visualization full"] = ("visualization", () => Vda5050Json.Serialize(Samples.FullVisualization())),
        ["visualization minimal"] = ("visualization", () => Vda5050Json.Serialize(Samples.MinimalVisualization())),
    };

    public static TheoryData<string> MessageNames => [.. Messages.Keys];

    [Theory]
    [MemberData(nameof(MessageNames))]
    public void Sent_message_is_valid_against_the_schema(string name)
    {
        var (schema, json) = Messages[name];
        SchemaValidator.AssertValid(schema, json());
    }

    /// <summary>Breaks a valid order; the validator must see it (proves the schema check can fail).</summary>
    /// <remarks>Each case: a path=value edit (empty value removes the field) and a text the errors must contain.</remarks>
    public static TheoryData<string, string> BrokenOrders => new()
    {
        { "$.orderId=", "orderId" },
        { "$.nodes[0].actions[0].blockingType=SOMETIMES", "/nodes/0/actions/0/blockingType" },
        { "$.nodes[1].sequenceId=two", "/nodes/1/sequenceId" },
        { "$.timestamp=yesterday", "/timestamp" },
    };

    [Theory]
    [MemberData(nameof(BrokenOrders))]
    public void Broken_order_is_reported_invalid(string edit, string expectedInError)
    {
        var order = JsonNode.Parse(Vda5050Json.Serialize(Samples.FullOrder()))!.AsObject();
        var (path, value) = (edit[..edit.IndexOf('=')], edit[(edit.IndexOf('=') + 1)..]);
        Apply(order, path, value);

        var problems = SchemaValidator.Problems("order", order.ToJsonString());

        Assert.Contains(problems, p => p.Contains(expectedInError, StringComparison.Ordinal));
    }

    /// <summary>Sets (or, for an empty value, removes) the field at a simple path like <c>$.nodes[0].sequenceId</c>.</summary>
    private static void Apply(JsonObject root, string path, string value)
    {
        JsonNode parent = root;
        var steps = path[2..].Split('.');
        foreach (var step in steps[..^1])
        {
            var bracket = step.IndexOf('[');
            parent = bracket < 0 ? parent[step]! : parent[step[..bracket]]![int.Parse(step[(bracket + 1)..^1])]!;
        }

        var obj = parent.AsObject();
        if (value.Length == 0)
            Assert.True(obj.Remove(steps[^1]));
        else
            obj[steps[^1]] = value;
    }
}
