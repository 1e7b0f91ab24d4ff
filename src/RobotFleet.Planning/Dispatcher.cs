using RobotFleet.Maps;

namespace RobotFleet.Planning;

/// <summary>A robot as the dispatcher sees it.</summary>
/// <param name="RobotId">Robot id (<c>manufacturer/serialNumber</c>).</param>
/// <param name="WaypointId">Waypoint the robot stands at (its last node); null when unknown.</param>
/// <param name="Available">True when online, without mission and without fatal error.</param>
/// <param name="MaxSpeed">The robot's own top speed, m/s.</param>
public sealed record DispatchRobot(string RobotId, string? WaypointId, bool Available, double MaxSpeed);

/// <summary>A mission waiting for a robot.</summary>
/// <param name="MissionId">Mission id.</param>
/// <param name="StartWaypointId">Where the robot must go first (a delivery's pickup).</param>
/// <param name="Priority">0 (routine) .. 3 (urgent); higher goes first.</param>
/// <param name="SubmittedAt">When it was submitted; earlier goes first within a priority.</param>
public sealed record DispatchRequest(string MissionId, string StartWaypointId, int Priority, DateTimeOffset SubmittedAt);

/// <summary>A mission given to a robot, with the route to the mission's start.</summary>
/// <param name="MissionId">Mission id.</param>
/// <param name="RobotId">Chosen robot.</param>
/// <param name="Approach">Route from the robot to the mission's start.</param>
public sealed record Assignment(string MissionId, string RobotId, Route Approach);

/// <summary>Why a mission could not be assigned now.</summary>
/// <param name="MissionId">Mission id.</param>
/// <param name="Reason">Kind of problem.</param>
/// <param name="Message">What is wrong, naming the mission and waypoint.</param>
public sealed record DispatchProblem(string MissionId, DispatchProblemKind Reason, string Message);

/// <summary>Kinds of dispatch problem.</summary>
public enum DispatchProblemKind
{
    /// <summary>No available robot now; the mission waits.</summary>
    NoRobotAvailable,

    /// <summary>No available robot can reach the mission's start.</summary>
    Unreachable,
}

/// <summary>The outcome of one dispatch round: assignments, and the missions left waiting with why.</summary>
/// <param name="Assignments">Missions given to robots.</param>
/// <param name="Problems">Missions not assigned, each with a reason.</param>
public sealed record DispatchResult(IReadOnlyList<Assignment> Assignments, IReadOnlyList<DispatchProblem> Problems);

/// <summary>
/// Assigns waiting missions to available robots: missions in order of priority then submission
/// time, each to the available robot with the shortest route travel time to the mission's start, ties to the lowest robot id
/// (the greedy walking-skeleton rule; the control plane now uses <see cref="AssignmentPlanner"/>, and this class stays as the
/// baseline it is measured and tested against). Travel times come from A* per pair (<see cref="RouteGraph"/>), or, built over
/// a <see cref="TravelTimeTable"/>, from its cached arrival trees (one lookup per pair; same times, the same choice up to
/// floating-point ties). Pure, immutable and thread-safe.
/// </summary>
public sealed class Dispatcher
{
    private readonly RouteGraph? _graph;
    private readonly TravelTimeTable? _table;
    private readonly SiteMap _map;

    /// <summary>A dispatcher that routes each (robot, mission) pair with A* on the graph.</summary>
    /// <param name="graph">Route graph of the site map.</param>
    public Dispatcher(RouteGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        _graph = graph;
        _map = graph.Map;
    }

    /// <summary>A dispatcher that reads travel times from the table's cached arrival trees (built on first use of a mission start).</summary>
    /// <param name="table">Travel-time table of the site map.</param>
    public Dispatcher(TravelTimeTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        _table = table;
        _map = table.Map;
    }

    /// <summary>Runs one dispatch round.</summary>
    /// <param name="robots">All robots; unavailable ones and those with an unknown waypoint (none, or not on the map) are skipped.</param>
    /// <param name="requests">Missions waiting for a robot.</param>
    /// <returns>Assignments, and the missions left waiting with why.</returns>
    public DispatchResult Assign(IReadOnlyList<DispatchRobot> robots, IReadOnlyList<DispatchRequest> requests)
    {
        ArgumentNullException.ThrowIfNull(robots);
        ArgumentNullException.ThrowIfNull(requests);
        // A waypoint not on this map (stale report, other map) is as unknown as none at all.
        var free = robots.Where(r => r.Available && r.WaypointId is not null && _map.Waypoints.ContainsKey(r.WaypointId)).ToList();
        var located = new Dictionary<DispatchRobot, (int At, double Speed)>(ReferenceEqualityComparer.Instance);
        if (_table is not null)
        {
            foreach (var robot in free)
            {
                located[robot] = (_table.TryIndex(robot.WaypointId, out var at) ? at : -1, _table.SpeedKey(robot.MaxSpeed));
            }
        }
        var assignments = new List<Assignment>();
        var problems = new List<DispatchProblem>();
        foreach (var request in requests.OrderByDescending(r => r.Priority).ThenBy(r => r.SubmittedAt))
        {
            if (free.Count == 0)
            {
                problems.Add(new(request.MissionId, DispatchProblemKind.NoRobotAvailable, $"mission {request.MissionId}: no robot available"));
                continue;
            }

            if (!_map.Waypoints.ContainsKey(request.StartWaypointId))
            {
                problems.Add(new(request.MissionId, DispatchProblemKind.Unreachable,
                    $"mission {request.MissionId}: waypoint '{request.StartWaypointId}' is not on map '{_map.Id}'"));
                continue;
            }

            var (robot, route) = _table is null ? NearestByRoute(free, request) : NearestByTable(free, request, located);
            if (route is null)
            {
                problems.Add(new(request.MissionId, DispatchProblemKind.Unreachable,
                    $"mission {request.MissionId}: no available robot can reach waypoint '{request.StartWaypointId}'"));
                continue;
            }

            free.Remove(robot!);
            assignments.Add(new(request.MissionId, robot!.RobotId, route));
        }

        return new DispatchResult(assignments, problems);
    }

    private (DispatchRobot? Robot, Route? Route) NearestByRoute(List<DispatchRobot> free, DispatchRequest request)
    {
        var best = free
            .Select(robot => (robot, route: _graph!.FindRoute(robot.WaypointId!, request.StartWaypointId, robot.MaxSpeed)))
            .Where(c => c.route is not null)
            .OrderBy(c => c.route!.TravelTime)
            .ThenBy(c => c.robot.RobotId, StringComparer.Ordinal)
            .FirstOrDefault();
        return (best.robot, best.route);
    }

    private (DispatchRobot? Robot, Route? Route) NearestByTable(List<DispatchRobot> free, DispatchRequest request, Dictionary<DispatchRobot, (int At, double Speed)> located)
    {
        _table!.TryIndex(request.StartWaypointId, out var start);
        var trees = new Dictionary<double, ArrivalTree>();
        DispatchRobot? best = null;
        ArrivalTree? bestTree = null;
        var bestIndex = -1;
        var bestSeconds = double.PositiveInfinity;
        foreach (var robot in free)
        {
            var (at, speed) = located[robot];
            if (!trees.TryGetValue(speed, out var tree))
            {
                trees[speed] = tree = _table.Arrival(start, speed);
            }
            var seconds = tree.SecondsFrom(at);
            if (seconds < bestSeconds || (seconds == bestSeconds && best is not null && string.CompareOrdinal(robot.RobotId, best.RobotId) < 0))
            {
                (best, bestTree, bestIndex, bestSeconds) = (robot, tree, at, seconds);
            }
        }
        return (best, bestTree?.RouteFrom(bestIndex));
    }
}
