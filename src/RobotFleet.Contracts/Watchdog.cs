namespace RobotFleet.Contracts;

/// <summary>
/// Event: a robot that is not known to be offline has sent no state for longer than the configured silence.
/// Published once per silence episode (again only after the robot reported and then fell silent anew).
/// </summary>
/// <param name="Robot">The robot.</param>
/// <param name="LastStateAt">When its last state message arrived (UTC).</param>
/// <param name="Silence">How long it has been silent when detected.</param>
/// <param name="Timestamp">When the silence was detected (UTC).</param>
public sealed record RobotSilent(RobotId Robot, DateTimeOffset LastStateAt, TimeSpan Silence, DateTimeOffset Timestamp);
