namespace RobotFleet.Contracts;

/// <summary>Kinds of mission; each runs as one VDA order.</summary>
public enum MissionKind
{
    /// <summary>Go to a pickup location, pick, go to a dropoff location, drop.</summary>
    Delivery,

    /// <summary>Visit locations or waypoints in order, for a number of rounds (driving only).</summary>
    Patrol,

    /// <summary>Clean a zone: visit its waypoints with a <c>clean</c> action at each.</summary>
    Clean,

    /// <summary>Go to a free charger and run <c>startCharging</c>; done when the action finishes or the charge reaches the target.</summary>
    Charge,

    /// <summary>Go to a free parking location.</summary>
    Park,

    /// <summary>A sequence of steps: go to, action, wait.</summary>
    Sequence,
}

/// <summary>Where a mission is in its life.</summary>
public enum MissionStatus
{
    /// <summary>Accepted, waiting for a robot.</summary>
    Queued,

    /// <summary>A robot is chosen; its order is being prepared.</summary>
    Assigned,

    /// <summary>The order is sent to the robot; its state does not show the order yet.</summary>
    Dispatched,

    /// <summary>The robot runs the mission's order (its state shows the order).</summary>
    Executing,

    /// <summary>Paused by an operator (VDA <c>startPause</c>); the robot keeps its order and resumes on <c>stopPause</c>.</summary>
    Paused,

    /// <summary>Done.</summary>
    Completed,

    /// <summary>Could not be done; see the reason.</summary>
    Failed,

    /// <summary>Cancelled by an operator.</summary>
    Cancelled,
}

/// <summary>
/// Command: accept a mission of any kind. Answered with <see cref="MissionAccepted"/> or <see cref="MissionRejected"/>.
/// Which fields a kind uses: Delivery: <paramref name="Pickup"/>, <paramref name="Dropoff"/>; Patrol: <paramref name="Locations"/> x
/// <paramref name="Rounds"/>; Clean: <paramref name="Zone"/> or <paramref name="Locations"/>; Charge: optional <paramref name="Location"/>
/// (a charger) and <paramref name="TargetCharge"/>; Park: optional <paramref name="Location"/> (a parking place); Sequence: <paramref name="Steps"/>.
/// </summary>
/// <param name="MissionId">Id chosen by the caller (unique).</param>
/// <param name="Kind">Mission kind.</param>
/// <param name="Pickup">Pickup location name (delivery).</param>
/// <param name="Dropoff">Dropoff location name (delivery).</param>
/// <param name="Priority">0 (routine) .. 3 (urgent).</param>
/// <param name="RequestedBy">Actor, for the history.</param>
/// <param name="Locations">Location names or waypoint ids to visit in order (patrol; clean when the map has no zones).</param>
/// <param name="Rounds">How many times a patrol visits its locations (1 or more).</param>
/// <param name="Zone">Zone id to clean (its waypoints get a <c>clean</c> action each).</param>
/// <param name="Location">Target location: a charger (charge) or a parking place (park); null picks a free one.</param>
/// <param name="TargetCharge">Charge mission: percent at which charging counts as done (default 90).</param>
/// <param name="Robot">Pins the mission to this robot (manual assignment); null lets the dispatcher choose.</param>
/// <param name="RequiredActions">Action types the robot must support (checked against its factsheet).</param>
/// <param name="Deadline">Optional time by which it should be done (UTC); lateness weighs in dispatch.</param>
/// <param name="Steps">Sequence steps, in order.</param>
public sealed record SubmitMission(
    string MissionId,
    MissionKind Kind,
    string? Pickup,
    string? Dropoff,
    int Priority,
    string RequestedBy,
    IReadOnlyList<string>? Locations = null,
    int Rounds = 1,
    string? Zone = null,
    string? Location = null,
    double? TargetCharge = null,
    RobotId? Robot = null,
    IReadOnlyList<string>? RequiredActions = null,
    DateTimeOffset? Deadline = null,
    IReadOnlyList<MissionStep>? Steps = null);

/// <summary>One step of a <see cref="MissionKind.Sequence"/> mission: exactly one of go to, action, or wait.</summary>
/// <param name="GoTo">Location name or waypoint id to drive to.</param>
/// <param name="Action">Action type to run where the robot is (after the last go-to).</param>
/// <param name="WaitSeconds">Seconds to wait there (a <c>wait</c> action with a <c>seconds</c> parameter).</param>
public sealed record MissionStep(string? GoTo = null, string? Action = null, double? WaitSeconds = null);

/// <summary>Command: change the priority of a mission that is not dispatched yet.</summary>
/// <param name="MissionId">Mission id.</param>
/// <param name="Priority">New priority, 0..3.</param>
/// <param name="RequestedBy">Actor, for the history.</param>
public sealed record ReprioritiseMission(string MissionId, int Priority, string RequestedBy);

/// <summary>
/// Command: pin a mission to another robot, or unpin it (<paramref name="Robot"/> null), before it is dispatched (Queued or
/// Assigned); it goes back to the queue and the dispatcher plans it again. Answered with <c>ReassignMissionResult</c>.
/// </summary>
/// <param name="MissionId">Mission id.</param>
/// <param name="Robot">Robot to pin it to; null lets the dispatcher choose.</param>
/// <param name="RequestedBy">Actor, for the history.</param>
public sealed record ReassignMission(string MissionId, RobotId? Robot, string RequestedBy);

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
