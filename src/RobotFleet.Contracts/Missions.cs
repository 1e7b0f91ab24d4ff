namespace RobotFleet.Contracts;

/// <summary>Kinds of mission. The walking skeleton executes <see cref="Delivery"/>; the others follow.</summary>
public enum MissionKind
{
    /// <summary>Go to a pickup location, pick, go to a dropoff location, drop.</summary>
    Delivery,

    /// <summary>Visit waypoints in order, for a number of rounds.</summary>
    Patrol,

    /// <summary>Clean a zone.</summary>
    Clean,

    /// <summary>Go to a charger and charge.</summary>
    Charge,

    /// <summary>Go to a parking location.</summary>
    Park,

    /// <summary>A sequence of steps.</summary>
    Sequence,
}

/// <summary>Where a mission is in its life.</summary>
public enum MissionStatus
{
    /// <summary>Accepted, waiting for a robot.</summary>
    Queued,

    /// <summary>A robot is chosen; its order is being prepared.</summary>
    Assigned,

    /// <summary>The robot runs the mission's order.</summary>
    Executing,

    /// <summary>Done.</summary>
    Completed,

    /// <summary>Could not be done; see the reason.</summary>
    Failed,

    /// <summary>Cancelled by an operator.</summary>
    Cancelled,
}

/// <summary>Command: accept a delivery mission. Answered with <see cref="MissionAccepted"/> or <see cref="MissionRejected"/>.</summary>
/// <param name="MissionId">Id chosen by the caller (unique).</param>
/// <param name="Kind">Mission kind.</param>
/// <param name="Pickup">Pickup location name (delivery).</param>
/// <param name="Dropoff">Dropoff location name (delivery).</param>
/// <param name="Priority">0 (routine) .. 3 (urgent).</param>
/// <param name="RequestedBy">Actor, for the history.</param>
public sealed record SubmitMission(string MissionId, MissionKind Kind, string? Pickup, string? Dropoff, int Priority, string RequestedBy);

/// <summary>Reply: the mission was accepted and queued.</summary>
/// <param name="MissionId">Mission id.</param>
public sealed record MissionAccepted(string MissionId);

/// <summary>Reply: the mission was rejected; nothing was stored.</summary>
/// <param name="MissionId">Mission id.</param>
/// <param name="Field">The request field at fault, e.g. <c>pickup</c>.</param>
/// <param name="Reason">What is wrong, naming the value.</param>
public sealed record MissionRejected(string MissionId, string Field, string Reason);

/// <summary>Command: cancel a mission (VDA cancelOrder when it is running).</summary>
/// <param name="MissionId">Mission id.</param>
/// <param name="RequestedBy">Actor, for the history.</param>
public sealed record CancelMission(string MissionId, string RequestedBy);

/// <summary>Event: a mission changed status.</summary>
/// <param name="MissionId">Mission id.</param>
/// <param name="Status">New status.</param>
/// <param name="Robot">Robot, when assigned.</param>
/// <param name="Reason">Why, in words.</param>
/// <param name="Timestamp">When (UTC).</param>
public sealed record MissionStatusChanged(string MissionId, MissionStatus Status, RobotId? Robot, string Reason, DateTimeOffset Timestamp);
