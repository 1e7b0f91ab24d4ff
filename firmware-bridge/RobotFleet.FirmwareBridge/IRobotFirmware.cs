namespace RobotFleet.FirmwareBridge;

/// <summary>
/// The robot seam: the three things the edge agent asks of a robot's firmware (navigate, stop,
/// perform an action) plus a telemetry stream of pose, velocity, battery and faults.
/// </summary>
/// <remarks>
/// <para>Integrators implement this interface once per robot model; the edge agent drives it.
/// Frame: site-local metres, x east, y north, heading <c>theta</c> in radians counter-clockwise
/// from +x, per map level (<see cref="NavigationGoal.MapId"/>). Speeds in m/s.</para>
/// <para>Call order: at most one <see cref="NavigateAsync"/> and one <see cref="PerformActionAsync"/>
/// are outstanding at a time; <see cref="StopAsync"/> may be called at any time from any thread
/// and makes an outstanding <see cref="NavigateAsync"/> end with <see cref="OperationCanceledException"/>.
/// Implementations must be thread-safe for that combination.</para>
/// </remarks>
public interface IRobotFirmware : IAsyncDisposable
{
    /// <summary>The latest telemetry sample; never null once the firmware has started.</summary>
    RobotTelemetry Telemetry { get; }

    /// <summary>
    /// Raised for every new telemetry sample (pose, velocity, battery, faults), from the firmware's
    /// own thread; handlers must be quick and must not throw.
    /// </summary>
    event Action<RobotTelemetry>? TelemetryUpdated;

    /// <summary>
    /// Drives along one lane from the current pose to <paramref name="goal"/> at no more than
    /// <see cref="NavigationGoal.MaxSpeed"/>, and completes when the goal is reached.
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled or <see cref="StopAsync"/> was called; the robot is stopped where it is.</exception>
    /// <exception cref="FirmwareException">The firmware cannot navigate (fatal fault, battery empty).</exception>
    Task NavigateAsync(NavigationGoal goal, CancellationToken cancellationToken);

    /// <summary>Stops motion at once; an outstanding navigation ends cancelled. Idempotent.</summary>
    Task StopAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Performs an action at the current pose (for example <c>pick</c>, <c>drop</c>,
    /// <c>startCharging</c>, <c>stopCharging</c>) and completes when it is done.
    /// </summary>
    /// <param name="actionType">The VDA 5050 action type.</param>
    /// <param name="parameters">Action parameters as key/value text.</param>
    /// <param name="cancellationToken">Cancels the action; the firmware aborts it.</param>
    /// <exception cref="NotSupportedException">The firmware does not know <paramref name="actionType"/>.</exception>
    /// <exception cref="FirmwareException">The action failed (message says why).</exception>
    Task PerformActionAsync(string actionType, IReadOnlyDictionary<string, string> parameters, CancellationToken cancellationToken);

    /// <summary>Tells the firmware where it is (relocalisation), without moving.</summary>
    Task InitPositionAsync(Pose pose, CancellationToken cancellationToken);

    /// <summary>The action types <see cref="PerformActionAsync"/> supports.</summary>
    IReadOnlyCollection<string> SupportedActions { get; }

    /// <summary>
    /// Optional: takes one image from the robot's forward camera for the perception loop. The default (a robot
    /// without a camera, or firmware that does not expose it) returns null.
    /// </summary>
    /// <param name="cancellationToken">Cancels the capture.</param>
    /// <returns>The image, or null when there is no camera.</returns>
    Task<CameraFrame?> CaptureAsync(CancellationToken cancellationToken) => Task.FromResult<CameraFrame?>(null);
}

/// <summary>Where to drive: the target waypoint of one lane, with the lane's speed limit.</summary>
/// <param name="WaypointId">Id of the target waypoint (VDA nodeId), for logs and telemetry.</param>
/// <param name="X">Target x in site-local metres.</param>
/// <param name="Y">Target y in site-local metres.</param>
/// <param name="Theta">Optional heading at the target, radians; null leaves heading free.</param>
/// <param name="MapId">Map level of the target.</param>
/// <param name="MaxSpeed">Speed limit on the way, m/s; the robot also never exceeds its own maximum.</param>
public sealed record NavigationGoal(string WaypointId, double X, double Y, double? Theta, string MapId, double MaxSpeed);

/// <summary>A 2-D pose in the site frame.</summary>
/// <param name="X">x in metres (east).</param>
/// <param name="Y">y in metres (north).</param>
/// <param name="Theta">Heading in radians, counter-clockwise from +x, in (-pi, pi].</param>
/// <param name="MapId">Map level the pose is on.</param>
public readonly record struct Pose(double X, double Y, double Theta, string MapId);

/// <summary>One telemetry sample from the firmware.</summary>
/// <param name="Timestamp">When the sample was taken (UTC).</param>
/// <param name="Pose">Current pose.</param>
/// <param name="LinearVelocity">Forward speed, m/s.</param>
/// <param name="AngularVelocity">Turn rate, rad/s.</param>
/// <param name="BatteryCharge">State of charge, percent 0..100.</param>
/// <param name="BatteryVoltage">Battery voltage, volts.</param>
/// <param name="Charging">True while charging.</param>
/// <param name="Driving">True while wheels move.</param>
/// <param name="Faults">Active faults; empty when healthy.</param>
public sealed record RobotTelemetry(
    DateTimeOffset Timestamp,
    Pose Pose,
    double LinearVelocity,
    double AngularVelocity,
    double BatteryCharge,
    double BatteryVoltage,
    bool Charging,
    bool Driving,
    IReadOnlyList<FirmwareFault> Faults);

/// <summary>How bad a firmware fault is, mirroring VDA 5050 error levels.</summary>
public enum FaultSeverity
{
    /// <summary>The robot can go on.</summary>
    Warning,

    /// <summary>The robot cannot go on without help.</summary>
    Fatal,
}

/// <summary>An active firmware fault.</summary>
/// <param name="Code">Machine-readable code, e.g. <c>batteryLow</c>, <c>emergencyStop</c>.</param>
/// <param name="Severity">Warning or fatal.</param>
/// <param name="Description">Human-readable description.</param>
public sealed record FirmwareFault(string Code, FaultSeverity Severity, string Description);

/// <summary>Thrown by firmware when a navigation or action cannot be carried out.</summary>
public sealed class FirmwareException : Exception
{
    /// <summary>Creates the exception with a message that says what failed and why.</summary>
    public FirmwareException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the underlying cause.</summary>
    public FirmwareException(string message, Exception innerException) : base(message, innerException) { }
}
