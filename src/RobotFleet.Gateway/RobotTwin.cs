using System.Collections.Concurrent;
using RobotFleet.Contracts;

namespace RobotFleet.Gateway;

/// <summary>
/// The live twin of one robot as last reported over VDA 5050: connection, pose, battery, order
/// progress and errors. Immutable snapshot; the registry swaps in a new one on each report.
/// </summary>
/// <param name="Robot">Robot id.</param>
/// <param name="Connection">Connection state.</param>
/// <param name="Position">Pose (site metres, radians), when known.</param>
/// <param name="BatteryCharge">State of charge, percent, when known.</param>
/// <param name="Charging">True while charging.</param>
/// <param name="OrderId">Current order id, empty when none.</param>
/// <param name="OrderUpdateId">Current order update id.</param>
/// <param name="LastNodeId">Last waypoint reached, empty when unknown.</param>
/// <param name="Driving">True while moving.</param>
/// <param name="Paused">True while paused.</param>
/// <param name="Errors">Active errors.</param>
/// <param name="LastStateAt">When the last state message arrived (UTC), null before the first.</param>
/// <param name="SupportedActions">Action types from the factsheet; empty before it arrives.</param>
public sealed record RobotTwin(
    RobotId Robot,
    RobotConnectionState Connection,
    RobotPosition? Position,
    double? BatteryCharge,
    bool Charging,
    string OrderId,
    long OrderUpdateId,
    string LastNodeId,
    bool Driving,
    bool Paused,
    IReadOnlyList<RobotErrorInfo> Errors,
    DateTimeOffset? LastStateAt,
    IReadOnlyList<string> SupportedActions)
{
    /// <summary>A twin for a robot heard of for the first time.</summary>
    public static RobotTwin New(RobotId robot) =>
        new(robot, RobotConnectionState.Unknown, null, null, false, "", 0, "", false, false, [], null, []);
}

/// <summary>
/// All robot twins, in process (DESIGN §2.4: the hot path never goes through the bus).
/// Thread-safe: the gateway writes, any thread reads consistent snapshots.
/// </summary>
public sealed class RobotTwinRegistry
{
    private readonly ConcurrentDictionary<RobotId, RobotTwin> _twins = new();

    /// <summary>Every known robot, ordered by manufacturer then serial number.</summary>
    public IReadOnlyList<RobotTwin> All =>
        _twins.Values.OrderBy(t => t.Robot.Manufacturer, StringComparer.Ordinal).ThenBy(t => t.Robot.SerialNumber, StringComparer.Ordinal).ToList();

    /// <summary>The twin of a robot, or null when unknown.</summary>
    public RobotTwin? Find(RobotId robot) => _twins.GetValueOrDefault(robot);

    /// <summary>Applies a change to a robot's twin (creating it when new) and returns the new twin.</summary>
    public RobotTwin Update(RobotId robot, Func<RobotTwin, RobotTwin> change) =>
        _twins.AddOrUpdate(robot, r => change(RobotTwin.New(r)), (_, twin) => change(twin));

    /// <summary>Forgets a robot (operator removal); false when it was unknown.</summary>
    public bool Remove(RobotId robot) => _twins.TryRemove(robot, out _);
}
