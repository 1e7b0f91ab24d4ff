namespace RobotFleet.FirmwareBridge.Simulator;

/// <summary>
/// Settings of a <see cref="SimulatedRobot"/>: kinematics, battery model, action durations and the
/// simulation clock. All durations and rates are in simulated time unless stated otherwise.
/// </summary>
public sealed record SimulatedRobotOptions
{
    /// <summary>The robot's own top speed in m/s; lanes can only lower it.</summary>
    public double MaxSpeed { get; init; } = 1.0;

    /// <summary>Battery drain in percentage points per metre driven.</summary>
    public double BatteryDrainPerMetre { get; init; } = 0.05;

    /// <summary>Charge gained while charging, percentage points per simulated second.</summary>
    public double ChargeRatePerSecond { get; init; } = 0.5;

    /// <summary>
    /// Duration in simulated seconds per supported action type; the keys are exactly the action
    /// types <see cref="SimulatedRobot.SupportedActions"/> reports (ordinal, case-sensitive).
    /// </summary>
    public IReadOnlyDictionary<string, double> ActionDurations { get; init; } = DefaultActionDurations;

    /// <summary>Pose the robot starts in.</summary>
    public Pose InitialPose { get; init; } = new(0, 0, 0, "L1");

    /// <summary>Initial state of charge, percent 0..100.</summary>
    public double InitialBattery { get; init; } = 100;

    /// <summary>Simulated seconds per real second (1 = real time, 10 = ten times faster); must be positive.</summary>
    public double TimeScale { get; init; } = 1;

    /// <summary>Real time between two simulation steps (and telemetry samples).</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Clock for ticks, delays and timestamps; tests may substitute their own.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>The simulated forward camera (<see cref="SimulatedRobot.CaptureAsync"/>): 160 x 120, 90 degrees wide, 0.5 m above the floor.</summary>
    public CameraModel Camera { get; init; } = CameraModel.Centred(160, 120, Math.PI / 2, 0.5);

    /// <summary>Obstacles further ahead than this, metres, are not drawn; default 4 m.</summary>
    public double CameraRange { get; init; } = 4;

    /// <summary>
    /// The default action durations: pick 2 s, drop 2 s, startCharging 1 s, stopCharging 1 s, openDoor 3 s (the door
    /// opening before the robot drives through it), clean 3 s, wait 1 s (the simulator ignores a <c>wait</c> action's
    /// <c>seconds</c> parameter).
    /// </summary>
    public static IReadOnlyDictionary<string, double> DefaultActionDurations { get; } = new Dictionary<string, double>(StringComparer.Ordinal)
    {
        ["pick"] = 2,
        ["drop"] = 2,
        ["startCharging"] = 1,
        ["stopCharging"] = 1,
        ["openDoor"] = 3,
        ["clean"] = 3,
        ["wait"] = 1,
    };
}
