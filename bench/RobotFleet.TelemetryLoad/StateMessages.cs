using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace RobotFleet.TelemetryLoad;

/// <summary>
/// Writes the VDA 5050 v2 <c>state</c> messages of the simulated robots: a robot driving a loop of waypoints on order
/// <c>order-{serial}</c>, pose and battery changing in every message, the last node (a significant change for the gateway)
/// every <see cref="NodeSeconds"/> seconds, 3 node states and 3 edge states ahead, velocity, safety state; about 1 KB.
/// The <c>timestamp</c> carries the send time with 100 ns resolution (ISO-8601 round-trip form, <c>...ss.fffffffZ</c>):
/// receivers take the latency from it. One instance per sending task (not thread-safe: it reuses its buffer).
/// </summary>
internal sealed class StateMessages(string manufacturer, int hz, double nodeSeconds)
{
    private readonly ArrayBufferWriter<byte> _buffer = new(2048);

    /// <summary>Seconds between two waypoints reached.</summary>
    public double NodeSeconds => nodeSeconds;

    /// <summary>The serial number of robot <paramref name="index"/>: <c>r0000</c>, <c>r0001</c>, ...</summary>
    public static string Serial(int index) => "r" + index.ToString("D4", CultureInfo.InvariantCulture);

    /// <summary>The state message number <paramref name="headerId"/> of robot <paramref name="index"/>, sent at <paramref name="now"/>.</summary>
    public byte[] Write(int index, string serial, long headerId, DateTime now)
    {
        _buffer.Clear();
        using (var w = new Utf8JsonWriter(_buffer))
        {
            var t = headerId / (double)hz; // the robot's own time, seconds
            var stagger = index * 0.37; // robots reach their waypoints at different times
            var leg = (long)Math.Floor((t + stagger) / nodeSeconds);
            var along = (t + stagger) / nodeSeconds - leg; // 0..1 along the current lane
            var angle = index * 0.1 + t * 0.05;
            w.WriteStartObject();
            w.WriteNumber("headerId", headerId);
            w.WriteString("timestamp", now.ToString("O", CultureInfo.InvariantCulture));
            w.WriteString("version", "2.1.0");
            w.WriteString("manufacturer", manufacturer);
            w.WriteString("serialNumber", serial);
            w.WriteString("orderId", "order-" + serial);
            w.WriteNumber("orderUpdateId", 0);
            w.WriteString("lastNodeId", Node(leg));
            w.WriteNumber("lastNodeSequenceId", leg * 2);
            w.WriteBoolean("driving", true);
            w.WriteBoolean("paused", false);
            w.WriteBoolean("newBaseRequest", false);
            w.WriteNumber("distanceSinceLastNode", Math.Round(along * 4.0, 3));
            w.WriteString("operatingMode", "AUTOMATIC");
            w.WriteStartArray("nodeStates");
            for (var k = 1; k <= 3; k++)
            {
                w.WriteStartObject();
                w.WriteString("nodeId", Node(leg + k));
                w.WriteNumber("sequenceId", (leg + k) * 2);
                w.WriteBoolean("released", true);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("edgeStates");
            for (var k = 1; k <= 3; k++)
            {
                w.WriteStartObject();
                w.WriteString("edgeId", Node(leg + k - 1) + "-" + Node(leg + k));
                w.WriteNumber("sequenceId", (leg + k) * 2 - 1);
                w.WriteBoolean("released", true);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartObject("agvPosition");
            w.WriteNumber("x", Math.Round(50 + 40 * Math.Cos(angle), 3));
            w.WriteNumber("y", Math.Round(50 + 40 * Math.Sin(angle), 3));
            w.WriteNumber("theta", Math.Round(Math.IEEERemainder(angle + Math.PI / 2, 2 * Math.PI), 4));
            w.WriteString("mapId", "L1");
            w.WriteBoolean("positionInitialized", true);
            w.WriteNumber("localizationScore", 0.97);
            w.WriteEndObject();
            w.WriteStartObject("velocity");
            w.WriteNumber("vx", 1.0);
            w.WriteNumber("vy", 0.0);
            w.WriteNumber("omega", 0.05);
            w.WriteEndObject();
            w.WriteStartArray("loads");
            w.WriteEndArray();
            w.WriteStartArray("actionStates");
            w.WriteEndArray();
            w.WriteStartObject("batteryState");
            w.WriteNumber("batteryCharge", Math.Round(95 - t * 0.01 % 80, 2));
            w.WriteNumber("batteryVoltage", 48.1);
            w.WriteBoolean("charging", false);
            w.WriteNumber("reach", 12000);
            w.WriteEndObject();
            w.WriteStartArray("errors");
            w.WriteEndArray();
            w.WriteStartArray("information");
            w.WriteEndArray();
            w.WriteStartObject("safetyState");
            w.WriteString("eStop", "NONE");
            w.WriteBoolean("fieldViolation", false);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return _buffer.WrittenSpan.ToArray();
    }

    private static string Node(long leg) => "w" + (leg % 64).ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Reads the <c>timestamp</c> and <c>headerId</c> of a state message without parsing the rest (the baseline subscriber's
    /// only parsing); false when either is missing.
    /// </summary>
    public static bool TryReadStamp(ReadOnlySpan<byte> json, out DateTime timestamp, out long headerId)
    {
        timestamp = default;
        headerId = -1;
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            return false;
        while (reader.Read() && reader.CurrentDepth == 1 && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("headerId"u8))
            {
                reader.Read();
                headerId = reader.GetInt64();
            }
            else if (reader.ValueTextEquals("timestamp"u8))
            {
                reader.Read();
                if (!reader.TryGetDateTime(out timestamp))
                    return false;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }

            if (headerId >= 0 && timestamp != default)
                return true;
        }

        return false;
    }
}
