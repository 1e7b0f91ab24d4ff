using RobotFleet.Contracts;

namespace RobotFleet.ControlPlane.Missions;

/// <summary>
/// One recorded change of a mission: when, to what, by whom and why, and the lifecycle fact it was published as (its
/// 1-based position in the history is the fact's sequence).
/// </summary>
/// <param name="Timestamp">When (UTC).</param>
/// <param name="Status">New status.</param>
/// <param name="Actor">Who caused it: an operator name, <c>dispatcher</c>, a robot id.</param>
/// <param name="Reason">Why, in words.</param>
public sealed record MissionTransition(DateTimeOffset Timestamp, MissionStatus Status, string Actor, string Reason)
{
    /// <summary>The lifecycle fact; null in histories stored before facts existed (then derived from the statuses).</summary>
    public MissionFactKind? Fact { get; init; }

    /// <summary>The robot concerned: assigned, running, lost, or (reassigned, submitted) pinned.</summary>
    public RobotId? Robot { get; init; }

    /// <summary>The VDA order concerned.</summary>
    public string? OrderId { get; init; }

    /// <summary>The priority (submitted, reprioritised).</summary>
    public int? Priority { get; init; }
}

/// <summary>The kinds of mission lifecycle fact (one contract each in <c>RobotFleet.Contracts</c>, e.g. <see cref="MissionAssigned"/>).</summary>
public enum MissionFactKind
{
    /// <summary><see cref="MissionSubmitted"/>.</summary>
    Submitted,

    /// <summary><see cref="MissionAssigned"/>.</summary>
    Assigned,

    /// <summary><see cref="MissionDispatched"/>.</summary>
    Dispatched,

    /// <summary><see cref="MissionStarted"/>.</summary>
    Started,

    /// <summary><see cref="MissionPaused"/>.</summary>
    Paused,

    /// <summary><see cref="MissionResumed"/>.</summary>
    Resumed,

    /// <summary><see cref="MissionRequeued"/>.</summary>
    Requeued,

    /// <summary><see cref="MissionCompleted"/>.</summary>
    Completed,

    /// <summary><see cref="MissionFailed"/>.</summary>
    Failed,

    /// <summary><see cref="MissionCancelled"/>.</summary>
    Cancelled,

    /// <summary><see cref="MissionReprioritised"/>.</summary>
    Reprioritised,

    /// <summary><see cref="MissionReassigned"/>.</summary>
    Reassigned,
}

/// <summary>A read-only snapshot of a mission for the API and the console. Immutable.</summary>
/// <param name="Id">Mission id.</param>
/// <param name="Kind">Kind.</param>
/// <param name="Status">Current status.</param>
/// <param name="Robot">Assigned robot, if any.</param>
/// <param name="Pickup">Pickup location name.</param>
/// <param name="Dropoff">Dropoff location name.</param>
/// <param name="Priority">0..3.</param>
/// <param name="CreatedAt">When submitted (UTC).</param>
/// <param name="UpdatedAt">Last change (UTC).</param>
/// <param name="OrderId">VDA order id sent for it, if any.</param>
/// <param name="FailureReason">Why it failed or was cancelled, if it did.</param>
/// <param name="History">Every transition, oldest first.</param>
public sealed record MissionView(
    string Id,
    MissionKind Kind,
    MissionStatus Status,
    RobotId? Robot,
    string? Pickup,
    string? Dropoff,
    int Priority,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string? OrderId,
    string? FailureReason,
    IReadOnlyList<MissionTransition> History)
{
    /// <summary>Waypoints the mission visits, in order (for a charge or park mission: its location once chosen).</summary>
    public IReadOnlyList<string> Waypoints { get; init; } = [];

    /// <summary>Robot it is pinned to, if any.</summary>
    public RobotId? PinnedRobot { get; init; }

    /// <summary>Deadline, if any (UTC).</summary>
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>Robots that lost or rejected it so far (it is not given to them again).</summary>
    public IReadOnlyList<RobotId> FailedRobots { get; init; } = [];

    /// <summary>True for Completed, Failed and Cancelled.</summary>
    public bool IsFinal => Status is MissionStatus.Completed or MissionStatus.Failed or MissionStatus.Cancelled;
}
