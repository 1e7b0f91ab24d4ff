using System.Text.Json;
using RobotFleet.Contracts;

namespace RobotFleet.Gateway;

/// <summary>
/// Reads the agents' retained <c>robotfleet/v1/{manufacturer}/{serialNumber}/modelStatus</c> report (DESIGN §5 extension):
/// <c>{timestamp, models:[{name,version,state}], active:{name,version}|null, inference:{runs,errors,p95LatencyMs,latencyBudgetMs}|null}</c>.
/// Unknown fields are ignored; null optional fields count as absent.
/// </summary>
public static class ModelStatusMapper
{
    /// <summary>The extension prefix of the robots' own topics.</summary>
    public const string Prefix = "robotfleet/v1";

    /// <summary>Subscription filter for every robot's model status.</summary>
    public const string AllRobotsFilter = Prefix + "/+/+/modelStatus";

    /// <summary>Parses the robot id from a <c>robotfleet/v1/{m}/{s}/modelStatus</c> topic.</summary>
    public static bool TryParseTopic(string topic, out RobotId robot)
    {
        robot = null!;
        if (!topic.StartsWith(Prefix + "/", StringComparison.Ordinal))
            return false; // most messages are VDA 5050 state: no split, no allocation for them
        var parts = topic.Split('/');
        if (parts.Length != 5 || parts[0] != "robotfleet" || parts[1] != "v1" || parts[4] != "modelStatus" || parts[2].Length == 0 || parts[3].Length == 0)
            return false;
        robot = new RobotId(parts[2], parts[3]);
        return true;
    }

    /// <summary>Maps a report to the domain event.</summary>
    /// <exception cref="FormatException">The payload is not a model status report; the message names the field.</exception>
    public static RobotModelStatusReported ToDomain(RobotId robot, ReadOnlySpan<byte> json, DateTimeOffset receivedAt)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new FormatException("modelStatus: not a JSON object");
            var timestamp = root.TryGetProperty("timestamp", out var ts) && ts.ValueKind == JsonValueKind.String && ts.TryGetDateTimeOffset(out var t) ? t : receivedAt;
            var models = new List<RobotModelVersion>();
            if (root.TryGetProperty("models", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var m in list.EnumerateArray())
                    models.Add(new RobotModelVersion(Text(m, "models[].name"), Text(m, "models[].version"), m.TryGetProperty("state", out var s) && s.ValueKind == JsonValueKind.String && s.GetString() == "active"));
            }

            string? activeName = null, activeVersion = null;
            if (root.TryGetProperty("active", out var active) && active.ValueKind == JsonValueKind.Object)
            {
                activeName = Text(active, "active.name");
                activeVersion = Text(active, "active.version");
            }

            RobotInferenceHealth? inference = null;
            if (root.TryGetProperty("inference", out var inf) && inf.ValueKind == JsonValueKind.Object)
            {
                inference = new RobotInferenceHealth(
                    (long)Number(inf, "runs"),
                    (long)Number(inf, "errors"),
                    Number(inf, "p95LatencyMs"),
                    Number(inf, "latencyBudgetMs"));
            }

            return new RobotModelStatusReported(robot, timestamp, models, activeName, activeVersion, inference);
        }
        catch (JsonException e)
        {
            throw new FormatException($"modelStatus: malformed JSON: {e.Message}", e);
        }
    }

    private static string Text(JsonElement element, string field) =>
        element.TryGetProperty(field[(field.LastIndexOf('.') + 1)..], out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()!
            : throw new FormatException($"modelStatus: '{field}' is missing or not a string");

    private static double Number(JsonElement element, string field) =>
        element.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Number
            ? v.GetDouble()
            : throw new FormatException($"modelStatus: 'inference.{field}' is missing or not a number");
}
