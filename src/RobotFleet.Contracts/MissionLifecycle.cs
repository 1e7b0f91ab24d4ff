namespace RobotFleet.Contracts;

/// <summary>
/// What every lifecycle fact of a mission carries. The fleet coordinator publishes one fact per change it committed,
/// numbered per mission without gaps (<see cref="Sequence"/> 1 is <see cref="MissionSubmitted"/>); the mission state
/// machine applies them in that order, once each.
/// </summary>
public interface IMissionLifecycleFact
{
    /// <summary>Mission id.</summary>
    string MissionId { get; }

    /// <summary>Position in the mission's history, 1-based, without gaps.</summary>
    long Sequence { get; }

    /// <summary>When it happened (UTC).</summary>
    DateTimeOffset Timestamp { get; }

    /// <summary>Who caused it: an operator name, <c>dispatcher</c>, a robot id.</summary>
    string Actor { get; }

    /// <summary>Why, in words.</summary>
    string Reason { get; }
}

/// <summary>Event: a mission was accepted and queued (Initial -> Queued).</summary>
/// <param name="MissionId">Mission id.</param>
/// <param name="Sequence">Always 1.</param>
/// <param name="Timestamp">When (UTC).</param>
/// <param name="Actor">Who submitted it.</param>
/// <param name="Reason">Why, in words.</param>
/// <param name="Priority">0 (routine) .. 3 (urgent).</param>
/// <param name="PinnedRobot">Robot it is pinned to, if any.</param>
public sealed record MissionSubmitted(string MissionId, long Sequence, DateTimeOffset Timestamp, string Actor, string Reason, int Priority, RobotId? PinnedRobot)
    : IMissionLifecycleFact;

/// <summary>Event: the planner chose a robot for a queued mission (Queued -> Assigned).</summary>
/// <param name="MissionId">Mission id.</param>
/// <param name="Sequence">Position in the mission's history.</param>
/// <param name="Timestamp">When (UTC).</param>
/// <param name="Actor">Who decided.</param>
/// <param name="Reason">Why, in words.</param>
/// <param name="Robot">The robot.</param>
/// <param name="OrderId">VDA order id the mission will run as.</param>
public sealed record MissionAssigned(string MissionId, long Sequence, DateTimeOffset Timestamp, string Actor, string Reason, RobotId Robot, string OrderId)
    : IMissionLifecycleFact;

/// <summary>Event: the mission's VDA order was sent to its robot (Assigned -> Dispatched).</summary>
/// <param name="MissionId">Mission id.</param>
/// <param name="Sequence">Position in the mission's history.</param>
/// <param name="Timestamp">When (UTC).</param>
/// <param name="Actor">Who decided.</param>
/// <param name="Reason">Why, in words.</param>
/// <param name="Robot">The robot.</param>
/// <param name="OrderId">VDA order id sent.</param>
public sealed record MissionDispatched(string MissionId, long Sequence, DateTimeOffset Timestamp, string Actor, string Reason, RobotId Robot, string OrderId)
    : IMissionLifecycleFact;

/// <summary>Event: the robot's state shows the mission's order (Dispatched -> Executing).</summary>
/// <param name="MissionId">Mission id.</param>
/// <param name="Sequence">Position in the mission's history.</param>
/// <param name="Timestamp">When (UTC).</param>
/// <param name="Actor">The robot.</param>
/// <param name="Reason">Why, in words.</param>
/// <param name="Robot">The robot.</param>
/// <param name="OrderId">VDA order id it runs.</param>
public sealed record MissionStarted(string MissionId, long Sequence, DateTimeOffset Timestamp, string Actor, string Reason, RobotId Robot, string OrderId)
    : IMissionLifecycleFact;

/// <summary>Event: an operator paused the mission's robot, VDA <c>startPause</c> (Dispatched or Executing -> Paused).</summary>
/// <param name="MissionId">Mission id.</param>
/// <param name="Sequence">Position in the mission's history.</param>
/// <param name="Timestamp">When (UTC).</param>
/// <param name="Actor">The operator.</param>
/// <param name="Reason">Why, in words.</param>
/// <param name="Robot">The robot.</param>
public sealed record MissionPaused(string MissionId, long Sequence, DateTimeOffset Timestamp, string Actor, string Reason, RobotId Robot)
    : IMissionLifecycleFact;

/// <summary>Event: an operator resumed the mission's robot, VDA <c>stopPause</c> (Paused -> Executing, or Dispatched when the robot never showed the order).</summary>
/// <param name="MissionId">Mission id.</param>
/// <param name="Sequence">Position in the mission's history.</param>
/// <param name="Timestamp">When (UTC).</param>
/// <param name="Actor">The operator.</param>
/// <param name="Reason">Why, in words.</param>
/// <param name="Robot">The robot.</param>
/// <param name="OrderAcknowledged">True when the robot's state shows the order (back to Executing), false when not yet (back to Dispatched).</param>
public sealed record MissionResumed(string MissionId, long Sequence, DateTimeOffset Timestamp, string Actor, string Reason, RobotId Robot, bool OrderAcknowledged)
    : IMissionLifecycleFact;

/// <summary>Event: the mission went back to the queue because its robot was lost or rejected the order (Assigned, Dispatched, Executing or Paused -> Queued).</summary>
/// <param name="MissionId">Mission id.</param>
/// <param name="Sequence">Position in the mission's history.</param>
/// <param name="Timestamp">When (UTC).</param>
/// <param name="Actor">Who decided.</param>
/// <param name="Reason">Why, in words.</param>
/// <param name="Robot">The robot that lost or rejected it, if any.</param>
public sealed record MissionRequeued(string MissionId, long Sequence, DateTimeOffset Timestamp, string Actor, string Reason, RobotId? Robot)
    : IMissionLifecycleFact;

/// <summary>Event: the mission is done (Executing or Paused -> Completed).</summary>
/// <param name="MissionId">Mission id.</param>
/// <param name="Sequence">Position in the mission's history.</param>
/// <param name="Timestamp">When (UTC).</param>
/// <param name="Actor">The robot.</param>
/// <param name="Reason">Why, in words.</param>
/// <param name="Robot">The robot.</param>
public sealed record MissionCompleted(string MissionId, long Sequence, DateTimeOffset Timestamp, string Actor, string Reason, RobotId? Robot)
    : IMissionLifecycleFact;

/// <summary>Event: the mission could not be done (any open status -> Failed).</summary>
/// <param name="MissionId">Mission id.</param>
/// <param name="Sequence">Position in the mission's history.</param>
/// <param name="Timestamp">When (UTC).</param>
/// <param name="Actor">Who decided.</param>
/// <param name="Reason">Why, in words.</param>
/// <param name="Robot">The robot it had, if any.</param>
public sealed record MissionFailed(string MissionId, long Sequence, DateTimeOffset Timestamp, string Actor, string Reason, RobotId? Robot)
    : IMissionLifecycleFact;

/// <summary>Event: an operator cancelled the mission (any open status -> Cancelled).</summary>
/// <param name="MissionId">Mission id.</param>
/// <param name="Sequence">Position in the mission's history.</param>
/// <param name="Timestamp">When (UTC).</param>
/// <param name="Actor">The operator.</param>
/// <param name="Reason">Why, in words.</param>
/// <param name="Robot">The robot it had, if any.</param>
public sealed record MissionCancelled(string MissionId, long Sequence, DateTimeOffset Timestamp, string Actor, string Reason, RobotId? Robot)
    : IMissionLifecycleFact;

/// <summary>Event: an operator changed the priority of a queued mission (Queued -> Queued).</summary>
/// <param name="MissionId">Mission id.</param>
/// <param name="Sequence">Position in the mission's history.</param>
/// <param name="Timestamp">When (UTC).</param>
/// <param name="Actor">The operator.</param>
/// <param name="Reason">Why, in words.</param>
/// <param name="Priority">New priority, 0..3.</param>
public sealed record MissionReprioritised(string MissionId, long Sequence, DateTimeOffset Timestamp, string Actor, string Reason, int Priority)
    : IMissionLifecycleFact;

/// <summary>Event: an operator pinned the mission to another robot, or unpinned it, before dispatch (Queued or Assigned -> Queued).</summary>
/// <param name="MissionId">Mission id.</param>
/// <param name="Sequence">Position in the mission's history.</param>
/// <param name="Timestamp">When (UTC).</param>
/// <param name="Actor">The operator.</param>
/// <param name="Reason">Why, in words.</param>
/// <param name="PinnedRobot">The robot it is pinned to now; null lets the dispatcher choose.</param>
public sealed record MissionReassigned(string MissionId, long Sequence, DateTimeOffset Timestamp, string Actor, string Reason, RobotId? PinnedRobot)
    : IMissionLifecycleFact;
