using System.Text.Json;
using System.Text.Json.Nodes;
using RobotFleet.Vda5050.V2;

namespace RobotFleet.Vda5050.Tests;

/// <summary>
/// Pins the wire format against approved JSON in Fixtures/golden: camelCase names, nulls omitted,
/// timestamps UTC with milliseconds and <c>Z</c>, enums upper-case. Compared as parsed JSON, so
/// whitespace and property order do not matter.
/// </summary>
public class GoldenFileTests
{
    private static readonly Dictionary<string, Func<string>> Canonical = new()
    {
        ["order.json"] = () => Vda5050Json.Serialize(Samples.FullOrder()),
        // Sent from a +02:00 clock: must still be written as UTC.
        ["state.json"] = () => Vda5050Json.Serialize(Samples.FullState() with { Timestamp = new DateTimeOffset(2024, 5, 1, 14, 0, 0, 123, TimeSpan.FromHours(2)) }),
        ["connection.json"] = () => Vda5050Json.Serialize(Samples.Connection(ConnectionState.ConnectionBroken)),
    };

    public static TheoryData<string> GoldenFiles => [.. Canonical.Keys];

    [Theory]
    [MemberData(nameof(GoldenFiles))]
    public void Serialisation_equals_the_golden_file(string file)
    {
        var expected = JsonNode.Parse(Fixture.Read("golden", file));
        var actual = JsonNode.Parse(Canonical[file]());

        if (!JsonNode.DeepEquals(expected, actual))
        {
            var indented = new JsonSerializerOptions { WriteIndented = true };
            Assert.Fail($"{file} differs from the golden file.\nexpected:\n{expected?.ToJsonString(indented)}\nactual:\n{actual?.ToJsonString(indented)}");
        }
    }

    [Theory]
    [MemberData(nameof(GoldenFiles))]
    public void Golden_file_round_trips(string file)
    {
        var json = Fixture.Read("golden", file);
        var reserialised = file switch
        {
            "order.json" => Vda5050Json.Serialize(Vda5050Json.Deserialize<Order>(json)),
            "state.json" => Vda5050Json.Serialize(Vda5050Json.Deserialize<State>(json)),
            "connection.json" => Vda5050Json.Serialize(Vda5050Json.Deserialize<Connection>(json)),
            _ => throw new ArgumentOutOfRangeException(nameof(file)),
        };

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(json), JsonNode.Parse(reserialised)), reserialised);
    }
}
