namespace RobotFleet.Contracts;

/// <summary>Identifies a robot: VDA 5050 manufacturer plus serial number. Immutable.</summary>
/// <param name="Manufacturer">Manufacturer as on the VDA 5050 topic.</param>
/// <param name="SerialNumber">Serial number as on the VDA 5050 topic.</param>
public sealed record RobotId(string Manufacturer, string SerialNumber)
{
    /// <summary>Returns <c>manufacturer/serialNumber</c>.</summary>
    public override string ToString() => $"{Manufacturer}/{SerialNumber}";
}

/// <summary>Connection of a robot as last reported (VDA 5050 connection topic) or inferred.</summary>
public enum RobotConnectionState
{
    /// <summary>Never heard of or no connection message yet.</summary>
    Unknown,

    /// <summary>Connected and reporting.</summary>
    Online,

    /// <summary>Disconnected on purpose.</summary>
    Offline,

    /// <summary>Connection lost without a goodbye (the last will).</summary>
    ConnectionBroken,
}

/// <summary>Status of one action on a robot (VDA 5050 actionStatus).</summary>
public enum RobotActionStatus
{
    /// <summary>Received, not started.</summary>
    Waiting,

    /// <summary>Being prepared.</summary>
    Initializing,

    /// <summary>Running.</summary>
    Running,

    /// <summary>Paused.</summary>
    Paused,

    /// <summary>Finished successfully.</summary>
    Finished,

    /// <summary>Failed.</summary>
    Failed,
}

/// <summary>A robot's position in the site frame.</summary>
/// <param name="X">metres east.</param>
/// <param name="Y">metres north.</param>
/// <param name="Theta">heading, radians.</param>
/// <param name="MapId">map level.</param>
public sealed record RobotPosition(double X, double Y, double Theta, string MapId);

/// <summary>One action's progress as reported by a robot.</summary>
/// <param name="ActionId">Unique action id.</param>
/// <param name="ActionType">VDA action type, e.g. <c>pick</c>.</param>
/// <param name="Status">Current status.</param>
/// <param name="ResultDescription">Result text, if any.</param>
public sealed record RobotActionProgress(string ActionId, string ActionType, RobotActionStatus Status, string? ResultDescription);

/// <summary>An error a robot reports.</summary>
/// <param name="ErrorType">VDA errorType, e.g. <c>validationError</c>, <c>noRouteError</c>.</param>
/// <param name="Level">"WARNING" or "FATAL".</param>
/// <param name="Description">Human-readable text.</param>
/// <param name="OrderId">The order the error refers to (its <c>orderId</c> error reference), if any.</param>
/// <param name="OrderUpdateId">The update of that order the error refers to (its <c>orderUpdateId</c> error reference), if any.</param>
public sealed record RobotErrorInfo(string ErrorType, string Level, string? Description, string? OrderId = null, long? OrderUpdateId = null);

/// <summary>
/// Event: something significant in a robot's state changed (order, last node, driving, paused,
/// action statuses, errors). Published by the gateway only on change, never per state message.
/// </summary>
/// <param name="Robot">The robot.</param>
/// <param name="Timestamp">Robot's state timestamp (UTC).</param>
/// <param name="OrderId">Current order id; empty when none.</param>
/// <param name="OrderUpdateId">Current order update id.</param>
/// <param name="LastNodeId">Last waypoint reached; empty when unknown.</param>
/// <param name="LastNodeSequenceId">Sequence id of that node in the order.</param>
/// <param name="Driving">True while moving.</param>
/// <param name="Paused">True while paused.</param>
/// <param name="PendingWaypointIds">Waypoints of the current order not yet traversed, in order.</param>
/// <param name="Actions">Actions of the current order and instant actions.</param>
/// <param name="Errors">Active errors.</param>
/// <param name="Position">Position, when known.</param>
/// <param name="BatteryCharge">State of charge, percent.</param>
/// <param name="ReceivedAt">
/// When the gateway received the state message (UTC, on the control plane's clock, unlike <paramref name="Timestamp"/>); null
/// when not known. A restarted control plane tells by it whether a state may predate the restart.
/// </param>
public sealed record RobotStateChanged(
    RobotId Robot,
    DateTimeOffset Timestamp,
    string OrderId,
    long OrderUpdateId,
    string LastNodeId,
    long LastNodeSequenceId,
    bool Driving,
    bool Paused,
    IReadOnlyList<string> PendingWaypointIds,
    IReadOnlyList<RobotActionProgress> Actions,
    IReadOnlyList<RobotErrorInfo> Errors,
    RobotPosition? Position,
    double BatteryCharge,
    DateTimeOffset? ReceivedAt = null);

/// <summary>Event: a robot's connection changed (VDA connection topic, or inferred by the gateway).</summary>
/// <param name="Robot">The robot.</param>
/// <param name="State">New connection state.</param>
/// <param name="Timestamp">When it changed (UTC).</param>
public sealed record RobotConnectionChanged(RobotId Robot, RobotConnectionState State, DateTimeOffset Timestamp);

/// <summary>Event: a robot reached a waypoint of its order.</summary>
/// <param name="Robot">The robot.</param>
/// <param name="OrderId">Order the node belongs to.</param>
/// <param name="WaypointId">Waypoint reached.</param>
/// <param name="SequenceId">Its sequence id.</param>
/// <param name="Timestamp">When (UTC).</param>
public sealed record RobotNodeReached(RobotId Robot, string OrderId, string WaypointId, long SequenceId, DateTimeOffset Timestamp);

/// <summary>Event: an action on a robot ended (finished or failed).</summary>
/// <param name="Robot">The robot.</param>
/// <param name="OrderId">Order, empty for instant actions.</param>
/// <param name="Action">The action and how it ended.</param>
/// <param name="Timestamp">When (UTC).</param>
public sealed record RobotActionEnded(RobotId Robot, string OrderId, RobotActionProgress Action, DateTimeOffset Timestamp);

/// <summary>Event: a robot raised a new error.</summary>
/// <param name="Robot">The robot.</param>
/// <param name="Error">The error.</param>
/// <param name="Timestamp">When (UTC).</param>
public sealed record RobotErrorRaised(RobotId Robot, RobotErrorInfo Error, DateTimeOffset Timestamp);

/// <summary>Event: a robot's factsheet arrived (published by the gateway each time one arrives).</summary>
/// <param name="Robot">The robot.</param>
/// <param name="SupportedActions">Action types the robot supports.</param>
/// <param name="MaxLoad">Heaviest load it carries, kilograms (0 when not stated).</param>
public sealed record RobotFactsheetReceived(RobotId Robot, IReadOnlyList<string> SupportedActions, double MaxLoad);
