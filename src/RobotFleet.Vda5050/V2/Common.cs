using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RobotFleet.Vda5050.V2;

/// <summary>
/// Fields every VDA 5050 message starts with (VDA 5050 2.x §6.1 "protocol header").
/// </summary>
public abstract record Header
{
    /// <summary>Per topic and sender, incremented by one for each message.</summary>
    [JsonPropertyOrder(-5)] public long HeaderId { get; init; }

    /// <summary>When the message was sent, UTC, ISO-8601 (written as <c>yyyy-MM-ddTHH:mm:ss.fffZ</c>).</summary>
    [JsonPropertyOrder(-4)] public DateTimeOffset Timestamp { get; init; }

    /// <summary>Protocol version, <c>major.minor.patch</c>, e.g. <c>2.1.0</c>.</summary>
    [JsonPropertyOrder(-3)] public string Version { get; init; } = ProtocolVersion.Current;

    /// <summary>Manufacturer of the AGV.</summary>
    [JsonPropertyOrder(-2)] public string Manufacturer { get; init; } = "";

    /// <summary>Serial number of the AGV.</summary>
    [JsonPropertyOrder(-1)] public string SerialNumber { get; init; } = "";
}

/// <summary>The protocol version this library speaks.</summary>
public static class ProtocolVersion
{
    /// <summary>The version written into messages we send: <c>2.1.0</c>.</summary>
    public const string Current = "2.1.0";

    /// <summary>The major version used in topic names: <c>v2</c>.</summary>
    public const string TopicMajor = "v2";
}

/// <summary>How an action blocks driving and other actions (VDA 5050 §6.6.2).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<BlockingType>))]
public enum BlockingType
{
    /// <summary>Driving and other actions may run in parallel.</summary>
    [JsonStringEnumMemberName("NONE")] None,

    /// <summary>Other actions may run in parallel, driving may not.</summary>
    [JsonStringEnumMemberName("SOFT")] Soft,

    /// <summary>Nothing else may run in parallel.</summary>
    [JsonStringEnumMemberName("HARD")] Hard,
}

/// <summary>A key/value action parameter; the value may be any JSON value (VDA 5050 §6.6.2).</summary>
/// <param name="Key">Parameter key.</param>
/// <param name="Value">Parameter value: string, number, boolean, array or object.</param>
public sealed record ActionParameter(string Key, JsonElement Value)
{
    /// <summary>Creates a parameter with a string value.</summary>
    public static ActionParameter Of(string key, string value) => new(key, JsonSerializer.SerializeToElement(value, Vda5050JsonContext.Default.String));

    /// <summary>Creates a parameter with a number value.</summary>
    public static ActionParameter Of(string key, double value) => new(key, JsonSerializer.SerializeToElement(value, Vda5050JsonContext.Default.Double));

    /// <summary>The value as text: strings as they are, other JSON values as raw JSON.</summary>
    public string ValueAsText() => Value.ValueKind == JsonValueKind.String ? Value.GetString() ?? "" : Value.GetRawText();
}

/// <summary>An action to perform at a node, on an edge or at once (VDA 5050 §6.6.2).</summary>
public sealed record Action
{
    /// <summary>Action type, e.g. <c>pick</c>, <c>drop</c>, <c>cancelOrder</c>.</summary>
    public required string ActionType { get; init; }

    /// <summary>Unique id of this action.</summary>
    public required string ActionId { get; init; }

    /// <summary>Optional description.</summary>
    public string? ActionDescription { get; init; }

    /// <summary>Blocking type.</summary>
    public required BlockingType BlockingType { get; init; }

    /// <summary>Parameters; an explicit null reads as empty.</summary>
    [AllowNull] public IReadOnlyList<ActionParameter> ActionParameters { get; init => field = value ?? []; } = [];

    /// <summary>Finds a parameter value as text, or null when absent.</summary>
    public string? Parameter(string key) => ActionParameters.FirstOrDefault(p => p.Key == key)?.ValueAsText();
}

/// <summary>A pose on a map in the robot's map frame (metres, radians).</summary>
public sealed record NodePosition
{
    /// <summary>x in metres.</summary>
    public required double X { get; init; }

    /// <summary>y in metres.</summary>
    public required double Y { get; init; }

    /// <summary>Heading in radians, range [-pi, pi]; absent when free.</summary>
    public double? Theta { get; init; }

    /// <summary>Allowed deviation in x/y, metres.</summary>
    public double? AllowedDeviationXY { get; init; }

    /// <summary>Allowed deviation of theta, radians.</summary>
    public double? AllowedDeviationTheta { get; init; }

    /// <summary>Map (level) id.</summary>
    public required string MapId { get; init; }

    /// <summary>Optional map description.</summary>
    public string? MapDescription { get; init; }
}

/// <summary>A NURBS trajectory of an edge (VDA 5050 §6.6.4).</summary>
public sealed record Trajectory
{
    /// <summary>Degree of the NURBS; read leniently as a number (some senders write <c>1.0</c>).</summary>
    public required double Degree { get; init; }

    /// <summary>Knot vector.</summary>
    [AllowNull] public IReadOnlyList<double> KnotVector { get; init => field = value ?? []; } = [];

    /// <summary>Control points.</summary>
    [AllowNull] public IReadOnlyList<ControlPoint> ControlPoints { get; init => field = value ?? []; } = [];
}

/// <summary>A NURBS control point (metres, weight).</summary>
public sealed record ControlPoint
{
    /// <summary>x in metres.</summary>
    public required double X { get; init; }

    /// <summary>y in metres.</summary>
    public required double Y { get; init; }

    /// <summary>Weight, default 1.</summary>
    public double? Weight { get; init; }
}
