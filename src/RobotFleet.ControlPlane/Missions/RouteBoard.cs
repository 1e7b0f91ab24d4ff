using System.Collections.Concurrent;
using RobotFleet.Contracts;

namespace RobotFleet.ControlPlane.Missions;

/// <summary>
/// What one robot has been sent to do, for display: the waypoints still ahead of it (from the one it
/// last reached) and how many of them are released (the VDA base); the rest is the horizon. Immutable.
/// </summary>
/// <param name="Robot">The robot.</param>
/// <param name="OrderId">VDA order id.</param>
/// <param name="MissionId">Mission served, or null for a move that only clears the way.</param>
/// <param name="WaypointIds">Remaining waypoint ids in route order, starting at the last one reached.</param>
/// <param name="ReleasedCount">How many of <paramref name="WaypointIds"/>, from the start, are released (at least 1).</param>
/// <param name="Acting">True while the robot runs an action of its plan at the waypoint it last reached (a pick, a wait, charging) and so is not expected to move.</param>
public sealed record RouteView(RobotId Robot, string OrderId, string? MissionId, IReadOnlyList<string> WaypointIds, int ReleasedCount, bool Acting = false);

/// <summary>
/// The routes the coordinator has dispatched, one <see cref="RouteView"/> per robot with a plan.
/// Thread-safe read model: the coordinator writes after each decision, anyone reads snapshots.
/// </summary>
public sealed class RouteBoard
{
    private readonly ConcurrentDictionary<RobotId, RouteView> _routes = new();

    /// <summary>Every current route.</summary>
    public IReadOnlyCollection<RouteView> All => _routes.Values.ToList();

    /// <summary>The route of a robot, or null when it has none.</summary>
    public RouteView? Find(RobotId robot) => _routes.GetValueOrDefault(robot);

    /// <summary>Sets (or, with null, clears) a robot's route.</summary>
    internal void Set(RobotId robot, RouteView? route)
    {
        if (route is null)
            _routes.TryRemove(robot, out _);
        else
            _routes[robot] = route;
    }

    /// <summary>Clears the routes of robots not in <paramref name="keep"/>.</summary>
    internal void RemoveAllExcept(IReadOnlySet<RobotId> keep)
    {
        foreach (var robot in _routes.Keys)
            if (!keep.Contains(robot))
                _routes.TryRemove(robot, out _);
    }
}

/// <summary>Outcome of <see cref="FleetCoordinator.PauseAsync"/>.</summary>
public enum PauseOutcome
{
    /// <summary>The instant action was sent.</summary>
    Done,

    /// <summary>No such mission.</summary>
    UnknownMission,

    /// <summary>The mission is final, being cancelled, or no robot runs its order yet.</summary>
    NotRunning,

    /// <summary>Pause asked of a mission already paused, or resume of one not paused.</summary>
    WrongState,
}
