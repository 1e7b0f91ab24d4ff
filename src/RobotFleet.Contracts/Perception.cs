namespace RobotFleet.Contracts;

/// <summary>One object a robot's perception model detected, placed in the site frame.</summary>
/// <param name="Class">Class label (e.g. <c>obstacle</c>).</param>
/// <param name="Score">Confidence, 0..1.</param>
/// <param name="X">Metres east in the site frame.</param>
/// <param name="Y">Metres north in the site frame.</param>
public sealed record PerceivedObject(string Class, double Score, double X, double Y);

/// <summary>
/// A robot's perception report (the <c>robotfleet/v1/{manufacturer}/{serialNumber}/perception</c> extension): what its
/// active model saw in one frame. An empty <paramref name="Detections"/> list is a report too: nothing in view.
/// </summary>
/// <param name="Robot">The robot.</param>
/// <param name="Timestamp">When the frame was taken (UTC, the robot's clock).</param>
/// <param name="ModelName">The model that ran.</param>
/// <param name="ModelVersion">Its version.</param>
/// <param name="LatencyMs">Inference latency in milliseconds.</param>
/// <param name="Detections">What it saw, in site metres.</param>
/// <param name="ReceivedAt">When the gateway received it (UTC, the control plane's clock).</param>
public sealed record PerceptionReported(
    RobotId Robot,
    DateTimeOffset Timestamp,
    string ModelName,
    string ModelVersion,
    double LatencyMs,
    IReadOnlyList<PerceivedObject> Detections,
    DateTimeOffset ReceivedAt);

/// <summary>An operator closes a lane (e.g. a spill); it stays closed until opened.</summary>
/// <param name="LaneId">The lane.</param>
/// <param name="RequestedBy">Who asked.</param>
/// <param name="Reason">Why.</param>
public sealed record CloseLane(string LaneId, string RequestedBy, string Reason);

/// <summary>A lane was closed to traffic: routes avoid it and robots whose route used it are re-routed.</summary>
/// <param name="LaneIds">The lane and, for a two-way connection, its reverse.</param>
/// <param name="Reason">Why (e.g. the detection that closed it).</param>
/// <param name="ClosedAt">When.</param>
/// <param name="Until">When it reopens by itself unless seen again; null for an operator's closure.</param>
/// <param name="Robot">The robot whose perception closed it; null for an operator.</param>
public sealed record LaneClosed(IReadOnlyList<string> LaneIds, string Reason, DateTimeOffset ClosedAt, DateTimeOffset? Until, RobotId? Robot);

/// <summary>A closed lane is open again.</summary>
/// <param name="LaneIds">The lanes reopened.</param>
/// <param name="Reason">Why (cleared by perception, timed out, operator).</param>
/// <param name="OpenedAt">When.</param>
public sealed record LaneOpened(IReadOnlyList<string> LaneIds, string Reason, DateTimeOffset OpenedAt);
