using RobotFleet.Contracts;
using RobotFleet.Planning;

namespace RobotFleet.ControlPlane.Missions;

/// <summary>
/// Energy per metre learned from each robot's own reports (<see cref="EnergyEstimator"/>): every state it sends is a sample
/// against the one before (straight-line distance between the two reported positions on the same level, and the battery
/// used), except while it charges. The planner's battery check uses the learned figure (<see cref="RobotSnapshot.EnergyPercentPerMetre"/>).
/// Kept in memory: after a restart each robot starts again from the prior (<see cref="ControlPlaneOptions.Energy"/>).
/// Guarded by the coordinator's lock, as the rest of it.
/// </summary>
public sealed partial class FleetCoordinator
{
    private readonly EnergyEstimator _energyEstimator = new(options.Energy);
    private readonly Dictionary<RobotId, EnergyEstimate> _energy = [];

    /// <summary>
    /// Feeds the robot's estimator with the drive from its previous state to <paramref name="state"/>. Reports arrive at
    /// every waypoint reached (and at least every few seconds), so consecutive positions lie on one straight lane; a robot
    /// at a charger is charging (its battery rises: nothing to learn), and a charge that went unseen is rejected by the
    /// estimator as an impossible rise.
    /// </summary>
    private void ObserveEnergy(TrackedRobot robot, RobotStateChanged state)
    {
        if (robot.State?.Position is not { } from || state.Position is not { } to || from.MapId != to.MapId || robot.ChargingAt is not null)
            return;
        var metres = Math.Sqrt(((to.X - from.X) * (to.X - from.X)) + ((to.Y - from.Y) * (to.Y - from.Y)));
        _energy[robot.Id] = _energyEstimator.Observe(EnergyOf(robot.Id), metres, robot.State.BatteryCharge - state.BatteryCharge);
    }

    /// <summary>The robot's learned use, percent of battery per metre (the prior until it has driven).</summary>
    private double EnergyPercentPerMetre(TrackedRobot robot) => _energyEstimator.PercentPerMetre(EnergyOf(robot.Id));

    private EnergyEstimate EnergyOf(RobotId robot) => _energy.GetValueOrDefault(robot) ?? _energyEstimator.Initial;

    /// <summary>A robot's learned energy use, percent of battery per metre, and how many reports it was learned from; null for an unknown robot.</summary>
    /// <param name="robot">The robot.</param>
    /// <param name="cancellationToken">Cancels waiting for the coordinator's lock.</param>
    /// <returns>The figure the planner uses for it, or null.</returns>
    public Task<(double PercentPerMetre, int Samples)?> EnergyAsync(RobotId robot, CancellationToken cancellationToken) => UnderLockAsync<(double, int)?>(
        () => _robots.ContainsKey(robot) ? (EnergyPercentPerMetre(_robots[robot]), EnergyOf(robot).Accepted) : null,
        cancellationToken);
}
