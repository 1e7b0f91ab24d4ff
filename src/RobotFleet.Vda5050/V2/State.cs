using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization;

namespace RobotFleet.Vda5050.V2;

/// <summary>The VDA 5050 state message (topic <c>state</c>, §6.10): what the robot is doing.</summary>
public sealed record State : Header
{
    /// <summary>Current order id, empty when none.</summary>
    public string OrderId { get; init; } = "";

    /// <summary>Current order update id.</summary>
    public long OrderUpdateId { get; init; }

    /// <summary>Optional zone set id.</summary>
    public string? ZoneSetId { get; init; }

    /// <summary>Last node reached, empty when unknown.</summary>
    public string LastNodeId { get; init; } = "";

    /// <summary>Sequence id of the last node reached.</summary>
    public long LastNodeSequenceId { get; init; }

    /// <summary>True while moving.</summary>
    public bool Driving { get; init; }

    /// <summary>True while paused (startPause or hardware button).</summary>
    public bool? Paused { get; init; }

    /// <summary>True when the robot is close to the end of its base and asks for more.</summary>
    public bool? NewBaseRequest { get; init; }

    /// <summary>Distance since the last node, metres.</summary>
    public double? DistanceSinceLastNode { get; init; }

    /// <summary>Operating mode.</summary>
    public OperatingMode OperatingMode { get; init; } = OperatingMode.Automatic;

    /// <summary>Nodes of the current order still to traverse.</summary>
    [AllowNull] public IReadOnlyList<NodeState> NodeStates { get; init => field = value ?? []; } = [];

    /// <summary>Edges of the current order still to traverse.</summary>
    [AllowNull] public IReadOnlyList<EdgeState> EdgeStates { get; init => field = value ?? []; } = [];

    /// <summary>Current pose, when known.</summary>
    public AgvPosition? AgvPosition { get; init; }

    /// <summary>Current velocity.</summary>
    public Velocity? Velocity { get; init; }

    /// <summary>Loads carried.</summary>
    public IReadOnlyList<Load>? Loads { get; init; }

    /// <summary>Statuses of the current order's actions and instant actions.</summary>
    [AllowNull] public IReadOnlyList<ActionState> ActionStates { get; init => field = value ?? []; } = [];

    /// <summary>Battery.</summary>
    [AllowNull] public BatteryState BatteryState { get; init => field = value ?? new(); } = new();

    /// <summary>Active errors.</summary>
    [AllowNull] public IReadOnlyList<Error> Errors { get; init => field = value ?? []; } = [];

    /// <summary>Information for visualisation and debugging.</summary>
    public IReadOnlyList<Information>? Information { get; init; }

    /// <summary>Safety state.</summary>
    [AllowNull] public SafetyState SafetyState { get; init => field = value ?? new(); } = new();
}

/// <summary>Operating mode of the robot (VDA 5050 §6.10.6).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<OperatingMode>))]
public enum OperatingMode
{
    /// <summary>Fully under master control.</summary>
    [JsonStringEnumMemberName("AUTOMATIC")] Automatic,

    /// <summary>Master control, speed by a person.</summary>
    [JsonStringEnumMemberName("SEMIAUTOMATIC")] Semiautomatic,

    /// <summary>Driven by hand.</summary>
    [JsonStringEnumMemberName("MANUAL")] Manual,

    /// <summary>Service mode.</summary>
    [JsonStringEnumMemberName("SERVICE")] Service,

    /// <summary>Teach-in mode.</summary>
    [JsonStringEnumMemberName("TEACHIN")] Teachin,
}

/// <summary>A node still to traverse.</summary>
public sealed record NodeState
{
    /// <summary>Node id.</summary>
    public required string NodeId { get; init; }

    /// <summary>Sequence id.</summary>
    public required long SequenceId { get; init; }

    /// <summary>Optional description.</summary>
    public string? NodeDescription { get; init; }

    /// <summary>True when in the base.</summary>
    public required bool Released { get; init; }

    /// <summary>Position, when known.</summary>
    public NodePosition? NodePosition { get; init; }
}

/// <summary>An edge still to traverse.</summary>
public sealed record EdgeState
{
    /// <summary>Edge id.</summary>
    public required string EdgeId { get; init; }

    /// <summary>Sequence id.</summary>
    public required long SequenceId { get; init; }

    /// <summary>Optional description.</summary>
    public string? EdgeDescription { get; init; }

    /// <summary>True when in the base.</summary>
    public required bool Released { get; init; }

    /// <summary>Trajectory, when known.</summary>
    public Trajectory? Trajectory { get; init; }
}

/// <summary>The robot's pose (§6.10.4): metres and radians in the map frame.</summary>
public sealed record AgvPosition
{
    /// <summary>x in metres.</summary>
    public required double X { get; init; }

    /// <summary>y in metres.</summary>
    public required double Y { get; init; }

    /// <summary>Heading in radians, [-pi, pi].</summary>
    public required double Theta { get; init; }

    /// <summary>Map (level) id.</summary>
    public required string MapId { get; init; }

    /// <summary>Optional map description.</summary>
    public string? MapDescription { get; init; }

    /// <summary>True when the robot is localised.</summary>
    public required bool PositionInitialized { get; init; }

    /// <summary>Localisation quality 0..1.</summary>
    public double? LocalizationScore { get; init; }

    /// <summary>Deviation range, metres.</summary>
    public double? DeviationRange { get; init; }
}

/// <summary>Velocity in the robot frame: vx, vy in m/s, omega in rad/s.</summary>
public sealed record Velocity
{
    /// <summary>Forward speed, m/s.</summary>
    public double? Vx { get; init; }

    /// <summary>Sideways speed, m/s.</summary>
    public double? Vy { get; init; }

    /// <summary>Turn rate, rad/s.</summary>
    public double? Omega { get; init; }
}

/// <summary>A load on the robot (§6.10.5).</summary>
public sealed record Load
{
    /// <summary>Load id.</summary>
    public string? LoadId { get; init; }

    /// <summary>Load type.</summary>
    public string? LoadType { get; init; }

    /// <summary>Load position on the robot.</summary>
    public string? LoadPosition { get; init; }

    /// <summary>Weight, kg.</summary>
    public double? Weight { get; init; }
}

/// <summary>Status of one action (§6.10.7).</summary>
public sealed record ActionState
{
    /// <summary>Action id.</summary>
    public required string ActionId { get; init; }

    /// <summary>Action type.</summary>
    public string? ActionType { get; init; }

    /// <summary>Optional description.</summary>
    public string? ActionDescription { get; init; }

    /// <summary>Status.</summary>
    public required ActionStatus ActionStatus { get; init; }

    /// <summary>Optional result text.</summary>
    public string? ResultDescription { get; init; }
}

/// <summary>Action status (§6.10.7).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ActionStatus>))]
public enum ActionStatus
{
    /// <summary>Received, not started.</summary>
    [JsonStringEnumMemberName("WAITING")] Waiting,

    /// <summary>Preparing.</summary>
    [JsonStringEnumMemberName("INITIALIZING")] Initializing,

    /// <summary>Running.</summary>
    [JsonStringEnumMemberName("RUNNING")] Running,

    /// <summary>Paused (VDA 5050 2.0; not in the 2.1 schema, never sent by RobotFleet).</summary>
    [JsonStringEnumMemberName("PAUSED")] Paused,

    /// <summary>Finished.</summary>
    [JsonStringEnumMemberName("FINISHED")] Finished,

    /// <summary>Failed.</summary>
    [JsonStringEnumMemberName("FAILED")] Failed,
}

/// <summary>Battery (§6.10.8).</summary>
public sealed record BatteryState
{
    /// <summary>State of charge, percent 0..100.</summary>
    public double BatteryCharge { get; init; }

    /// <summary>Voltage, volts.</summary>
    public double? BatteryVoltage { get; init; }

    /// <summary>Health, percent.</summary>
    public double? BatteryHealth { get; init; }

    /// <summary>True while charging.</summary>
    public bool Charging { get; init; }

    /// <summary>Estimated reach, metres.</summary>
    public double? Reach { get; init; }
}

/// <summary>An error the robot reports (§6.10.9).</summary>
public sealed record Error
{
    /// <summary>Error type, e.g. <c>validationError</c>, <c>orderUpdateError</c>, <c>noRouteError</c>.</summary>
    public required string ErrorType { get; init; }

    /// <summary>References (e.g. <c>headerId</c>, <c>orderId</c>, <c>nodeId</c>).</summary>
    public IReadOnlyList<Reference>? ErrorReferences { get; init; }

    /// <summary>Description.</summary>
    public string? ErrorDescription { get; init; }

    /// <summary>Hint how to fix it.</summary>
    public string? ErrorHint { get; init; }

    /// <summary>Level.</summary>
    public required ErrorLevel ErrorLevel { get; init; }
}

/// <summary>A key/value reference of an error or information entry.</summary>
/// <param name="ReferenceKey">Key, e.g. <c>orderId</c>.</param>
/// <param name="ReferenceValue">Value.</param>
public sealed record Reference(string ReferenceKey, string ReferenceValue);

/// <summary>Error level.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ErrorLevel>))]
public enum ErrorLevel
{
    /// <summary>The robot can go on.</summary>
    [JsonStringEnumMemberName("WARNING")] Warning,

    /// <summary>The robot needs help.</summary>
    [JsonStringEnumMemberName("FATAL")] Fatal,
}

/// <summary>Information entry (§6.10.10).</summary>
public sealed record Information
{
    /// <summary>Type.</summary>
    public required string InfoType { get; init; }

    /// <summary>References.</summary>
    public IReadOnlyList<Reference>? InfoReferences { get; init; }

    /// <summary>Description.</summary>
    public string? InfoDescription { get; init; }

    /// <summary><c>INFO</c> or <c>DEBUG</c>.</summary>
    public required string InfoLevel { get; init; }
}

/// <summary>Safety state (§6.10.11).</summary>
public sealed record SafetyState
{
    /// <summary><c>AUTOACK</c>, <c>MANUAL</c>, <c>REMOTE</c> or <c>NONE</c>.</summary>
    public string EStop { get; init; } = "NONE";

    /// <summary>True when a protective field is violated.</summary>
    public bool FieldViolation { get; init; }
}
