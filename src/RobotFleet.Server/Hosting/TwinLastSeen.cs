using RobotFleet.ControlPlane.Schedules;
using RobotFleet.Gateway;

namespace RobotFleet.Server.Hosting;

/// <summary>Gives the control plane's robot watchdog the gateway twins' last state times.</summary>
public sealed class TwinLastSeen(RobotTwinRegistry twins) : IRobotLastSeen
{
    /// <inheritdoc />
    public IReadOnlyList<RobotLastSeen> Snapshot() =>
        twins.All.Select(t => new RobotLastSeen(t.Robot, t.LastStateAt, t.Connection)).ToList();
}
