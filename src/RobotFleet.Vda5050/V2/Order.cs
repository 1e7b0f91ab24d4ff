using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization;

namespace RobotFleet.Vda5050.V2;

/// <summary>
/// The VDA 5050 order message (topic <c>order</c>, §6.6): a graph of nodes and edges, released
/// (base) then not released (horizon), sent as a new order or as an update of the current one.
/// </summary>
public sealed record Order : Header
{
    /// <summary>Order id; the same for all updates of one order.</summary>
    public required string OrderId { get; init; }

    /// <summary>Update id, 0 for a new order, increasing with each update.</summary>
    public required long OrderUpdateId { get; init; }

    /// <summary>Optional zone set id.</summary>
    public string? ZoneSetId { get; init; }

    /// <summary>Nodes in travel order; an explicit null reads as empty.</summary>
    [AllowNull] public IReadOnlyList<Node> Nodes { get; init => field = value ?? []; } = [];

    /// <summary>Edges in travel order; an explicit null reads as empty.</summary>
    [AllowNull] public IReadOnlyList<Edge> Edges { get; init => field = value ?? []; } = [];
}

/// <summary>A node of an order (VDA 5050 §6.6.3); its sequence id is even.</summary>
public sealed record Node
{
    /// <summary>Node id (our waypoint id).</summary>
    public required string NodeId { get; init; }

    /// <summary>Even sequence id, unique within the order.</summary>
    public required long SequenceId { get; init; }

    /// <summary>Optional description.</summary>
    public string? NodeDescription { get; init; }

    /// <summary>True for base (released) nodes, false for horizon.</summary>
    public required bool Released { get; init; }

    /// <summary>Where the node is; optional in the protocol, always set by RobotFleet.</summary>
    public NodePosition? NodePosition { get; init; }

    /// <summary>Actions at the node.</summary>
    [AllowNull] public IReadOnlyList<Action> Actions { get; init => field = value ?? []; } = [];
}

/// <summary>An edge of an order (VDA 5050 §6.6.4); its sequence id is odd.</summary>
public sealed record Edge
{
    /// <summary>Edge id (our lane id).</summary>
    public required string EdgeId { get; init; }

    /// <summary>Odd sequence id, between its start and end nodes.</summary>
    public required long SequenceId { get; init; }

    /// <summary>Optional description.</summary>
    public string? EdgeDescription { get; init; }

    /// <summary>True for base, false for horizon.</summary>
    public required bool Released { get; init; }

    /// <summary>Start node id.</summary>
    public required string StartNodeId { get; init; }

    /// <summary>End node id.</summary>
    public required string EndNodeId { get; init; }

    /// <summary>Speed limit, m/s.</summary>
    public double? MaxSpeed { get; init; }

    /// <summary>Maximum height of the robot with load, metres.</summary>
    public double? MaxHeight { get; init; }

    /// <summary>Minimum height of the load handling device, metres.</summary>
    public double? MinHeight { get; init; }

    /// <summary>Orientation on the edge, radians.</summary>
    public double? Orientation { get; init; }

    /// <summary><c>GLOBAL</c> or <c>TANGENTIAL</c>.</summary>
    public string? OrientationType { get; init; }

    /// <summary>Direction at junctions (e.g. <c>left</c>), free text.</summary>
    public string? Direction { get; init; }

    /// <summary>Whether rotation is allowed on the edge.</summary>
    public bool? RotationAllowed { get; init; }

    /// <summary>Maximum rotation speed, rad/s.</summary>
    public double? MaxRotationSpeed { get; init; }

    /// <summary>Length, metres.</summary>
    public double? Length { get; init; }

    /// <summary>Optional trajectory.</summary>
    public Trajectory? Trajectory { get; init; }

    /// <summary>Actions on the edge.</summary>
    [AllowNull] public IReadOnlyList<Action> Actions { get; init => field = value ?? []; } = [];
}

/// <summary>The VDA 5050 instantActions message (topic <c>instantActions</c>, §6.7).</summary>
public sealed record InstantActions : Header
{
    /// <summary>Actions to run now. Some robots send these as <c>instantActions</c> (compatibility setting).</summary>
    [AllowNull] public IReadOnlyList<Action> Actions { get; init => field = value ?? []; } = [];
}

/// <summary>The VDA 5050 connection message (topic <c>connection</c>, §6.14), retained.</summary>
public sealed record Connection : Header
{
    /// <summary>Connection state.</summary>
    public required ConnectionState ConnectionState { get; init; }
}

/// <summary>Connection state on the <c>connection</c> topic.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ConnectionState>))]
public enum ConnectionState
{
    /// <summary>Connected.</summary>
    [JsonStringEnumMemberName("ONLINE")] Online,

    /// <summary>Disconnected on purpose.</summary>
    [JsonStringEnumMemberName("OFFLINE")] Offline,

    /// <summary>Connection lost (the last will).</summary>
    [JsonStringEnumMemberName("CONNECTIONBROKEN")] ConnectionBroken,
}

/// <summary>The VDA 5050 visualization message (topic <c>visualization</c>, §6.13): pose at a higher rate.</summary>
public sealed record Visualization : Header
{
    /// <summary>Current pose.</summary>
    public AgvPosition? AgvPosition { get; init; }

    /// <summary>Current velocity.</summary>
    public Velocity? Velocity { get; init; }
}
