using System.Text.Json;
using RobotFleet.Contracts;

namespace RobotFleet.Gateway;

/// <summary>
/// Reads the agents' <c>robotfleet/v1/{manufacturer}/{serialNumber}/perception</c> report (DESIGN §5 extension):
/// <c>{timestamp, modelName, modelVersion, latencyMs, detections:[{class, score, x, y}]}</c>, x and y in site metres.
/// Unknown fields are ignored; null optional fields count as absent; detections without a position are left out.
/// </summary>
public static class PerceptionMapper
{
    /// <summary>Subscription filter for every robot's perception reports.</summary>
    public const string AllRobotsFilter = ModelStatusMapper.Prefix + "/+/+/perception";

    /// <summary>Parses the robot id from a <c>robotfleet/v1/{m}/{s}/perception</c> topic.</summary>
    public static bool TryParseTopic(string topic, out RobotId robot)
    {
        robot = null!;
        if (!topic.StartsWith(ModelStatusMapper.Prefix + "/", StringComparison.Ordinal))
            return false; // most messages are VDA 5050 state: no split, no allocation for them
        var parts = topic.Split('/');
        if (parts.Length != 5 || parts[0] != "robotfleet" || parts[1] != "v1" || parts[4] != "perception" || parts[2].Length == 0 || parts[3].Length == 0)
            return false;
        robot = new RobotId(parts[2], parts[3]);
        return true;
    }

    /// <summary>Maps a report to the domain event.</summary>
    /// <exception cref="FormatException">The payload is not a perception report; the message names the field.</exception>
    public static PerceptionReported ToDomain(RobotId robot, ReadOnlySpan<byte> json, DateTimeOffset receivedAt)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new FormatException("perception: not a JSON object");
            var timestamp = root.TryGetProperty("timestamp", out var ts) && ts.ValueKind == JsonValueKind.String && ts.TryGetDateTimeOffset(out var t) ? t : receivedAt;
            var detections = new List<PerceivedObject>();
            if (root.TryGetProperty("detections", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var d in list.EnumerateArray())
                {
                    // A classification result has no position: nothing to place on the map.
                    if (!d.TryGetProperty("x", out var px) || px.ValueKind == JsonValueKind.Null || !d.TryGetProperty("y", out var py) || py.ValueKind == JsonValueKind.Null)
                        continue;
                    var cls = d.TryGetProperty("class", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : "object";
                    var score = d.TryGetProperty("score", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetDouble() : 1.0;
                    detections.Add(new PerceivedObject(cls, score, Number(d, "detections[].x"), Number(d, "detections[].y")));
                }
            }

            var name = root.TryGetProperty("modelName", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : "";
            var version = root.TryGetProperty("modelVersion", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
            var latency = root.TryGetProperty("latencyMs", out var l) && l.ValueKind == JsonValueKind.Number ? l.GetDouble() : 0;
            return new PerceptionReported(robot, timestamp, name, version, latency, detections, receivedAt);
        }
        catch (JsonException e)
        {
            throw new FormatException($"perception: malformed JSON: {e.Message}", e);
        }
    }

    private static double Number(JsonElement element, string field) =>
        element.TryGetProperty(field[(field.LastIndexOf('.') + 1)..], out var value) && value.ValueKind == JsonValueKind.Number && double.IsFinite(value.GetDouble())
            ? value.GetDouble()
            : throw new FormatException($"perception: '{field}' is missing or not a number");
}
