using RobotFleet.Maps;

namespace RobotFleet.ControlPlane;

/// <summary>Settings of the control plane's fleet logic. Times are wall-clock.</summary>
public sealed class ControlPlaneOptions
{
    /// <summary>The site the fleet works on.</summary>
    public required SiteMap Map { get; init; }

    /// <summary>Assumed top speed of a robot, m/s, for route times (until factsheets are used).</summary>
    public double RobotMaxSpeed { get; init; } = 1.0;

    /// <summary>How often the coordinator re-checks traffic and dispatch.</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a robot waits for a held waypoint before traffic moves the holder aside or re-routes.</summary>
    public TimeSpan BlockedResolveAfter { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Least time between two re-plans of the same robot.</summary>
    public TimeSpan ReplanCooldown { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How long a mission may wait behind a lost robot's hold before it fails.</summary>
    public TimeSpan LostBlockerTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
