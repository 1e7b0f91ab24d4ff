using RobotFleet.Contracts;

namespace RobotFleet.Server.Alerts;

/// <summary>
/// A robot that has made no progress on its mission for a while: when it last did, and the waypoints it has stood at
/// or gone between since.
/// </summary>
/// <param name="Since">When the robot last made progress (UTC).</param>
/// <param name="Waypoints">The waypoints reached since then, first seen first (at least the one it stands at).</param>
public sealed record Stall(DateTimeOffset Since, IReadOnlyList<string> Waypoints);

/// <summary>
/// Tells, for each robot on a mission, whether it is still making progress. Progress is reaching a waypoint not
/// reached before on the same route, having fewer waypoints left on the route than ever before on it, standing at
/// least <see cref="ProgressMetres"/> nearer the next waypoint of its route than at any look before on that route (a
/// robot driving a long lane, or creeping along one, between waypoints), or running an action of the mission (a long
/// wait, charging). A route is the same while one of the old and the new remaining waypoints ends the other (the robot
/// drove on, or was pushed back or aside and is routed on the same way); any other change is a new route (re-planned
/// round a closed lane, a new order), on which the count starts afresh, though the time without progress goes on. So a
/// robot standing still and a robot going back and forth between the same waypoints (pushed back and forth in a
/// corridor, or through a door) both stall, while a robot on a detour, even one that first drives back past where it
/// has been, or going back the way it came after a pick-up, does not. Not thread-safe: one caller (the alert service's
/// timer).
/// </summary>
public sealed class ProgressWatch
{
    /// <summary>How much nearer the next waypoint (metres, straight line) a robot must stand than ever before on its route for that to count as progress: more than a standing robot's reported position wanders.</summary>
    public const double ProgressMetres = 0.25;

    private readonly Dictionary<RobotId, Track> _tracks = [];

    /// <summary>
    /// Takes one look at a robot and returns its stall the first time it has gone <paramref name="after"/> without
    /// progress; null otherwise (also on every later look until it makes progress again, so one stall is told once).
    /// </summary>
    /// <param name="robot">The robot.</param>
    /// <param name="missionId">The mission it runs; another mission than at the last look starts afresh.</param>
    /// <param name="lastNodeId">The waypoint it last reached (VDA <c>lastNodeId</c>).</param>
    /// <param name="route">The waypoints its route still has, from the one last reached, in order.</param>
    /// <param name="acting">True while it runs an action of its plan at <paramref name="lastNodeId"/>: progress.</param>
    /// <param name="metresToNext">
    /// Straight-line distance in metres (site frame) from the robot's reported position to <c>route[1]</c>, the next
    /// waypoint of its route (lanes are straight); null when unknown (no position yet, the waypoint on another level, no
    /// next waypoint). Not a finite number counts as unknown.
    /// </param>
    /// <param name="now">Time of the look (UTC).</param>
    /// <param name="after">How long without progress makes a stall.</param>
    public Stall? Look(RobotId robot, string missionId, string lastNodeId, IReadOnlyList<string> route, bool acting, double? metresToNext, DateTimeOffset now, TimeSpan after)
    {
        if (!_tracks.TryGetValue(robot, out var track) || track.MissionId != missionId)
        {
            _tracks[robot] = track = new Track(missionId) { Route = route };
            track.Nearer(lastNodeId, route, metresToNext);
            track.Progress(lastNodeId, route.Count, now);
            return null;
        }

        if (!EndsWith(track.Route, route) && !EndsWith(route, track.Route))
            track.NewRoute(lastNodeId, route);
        track.Route = route;
        var nearer = track.Nearer(lastNodeId, route, metresToNext);
        if (acting || nearer || !track.Reached.Contains(lastNodeId) || route.Count < track.FewestLeft)
        {
            track.Progress(lastNodeId, route.Count, now);
            return null;
        }

        if (!track.SinceProgress.Contains(lastNodeId))
            track.SinceProgress.Add(lastNodeId);
        if (track.Told || now - track.Since < after)
            return null;
        track.Told = true;
        return new Stall(track.Since, [.. track.SinceProgress]);
    }

    private static bool EndsWith(IReadOnlyList<string> list, IReadOnlyList<string> end)
    {
        if (end.Count > list.Count)
            return false;
        for (var i = 1; i <= end.Count; i++)
        {
            if (!string.Equals(list[^i], end[^i], StringComparison.Ordinal))
                return false;
        }

        return true;
    }

    /// <summary>Forgets a robot (it finished its mission, was paused or went offline): its next look starts afresh.</summary>
    public void Forget(RobotId robot) => _tracks.Remove(robot);

    /// <summary>The robots being watched.</summary>
    public IReadOnlyCollection<RobotId> Robots => _tracks.Keys;

    private sealed class Track(string missionId)
    {
        public string MissionId { get; } = missionId;

        public HashSet<string> Reached { get; } = [];

        public List<string> SinceProgress { get; } = [];

        public int FewestLeft { get; private set; } = int.MaxValue;

        public IReadOnlyList<string> Route { get; set; } = [];

        public DateTimeOffset Since { get; private set; }

        public bool Told { get; set; }

        /// <summary>
        /// The nearest (metres) the robot has stood to each step of this route, a step being a waypoint and the waypoints left
        /// from it (a route may pass one waypoint twice: out to a pick-up and back), 0 for one it reached.
        /// </summary>
        private Dictionary<(string Waypoint, int Left), double> Nearest { get; } = [];

        /// <summary>
        /// A new route: what was reached, the fewest left and the nearest to each step count afresh on it, from where the robot
        /// stands; the time without progress goes on, and so does the nearest it has been to its next waypoint when the new
        /// route heads for the same one (a robot re-planned each time it is pushed back along a lane still stalls).
        /// </summary>
        public void NewRoute(string lastNodeId, IReadOnlyList<string> route)
        {
            var kept = Route.Count >= 2 && route.Count >= 2 && string.Equals(Route[1], route[1], StringComparison.Ordinal)
                && Nearest.TryGetValue(Next(Route), out var nearest) ? nearest : (double?)null;
            Reached.Clear();
            Reached.Add(lastNodeId);
            FewestLeft = route.Count;
            Nearest.Clear();
            if (kept is { } metres)
                Nearest[Next(route)] = metres;
        }

        /// <summary>
        /// True when the robot stands at least <see cref="ProgressMetres"/> nearer the next waypoint of its route than at any
        /// look before on this route (the first look towards a step only notes the distance); remembers the nearest, and 0 for
        /// the step it last reached, so driving back up to a waypoint it was pushed back from is no progress.
        /// </summary>
        public bool Nearer(string lastNodeId, IReadOnlyList<string> route, double? metresToNext)
        {
            Nearest[(lastNodeId, route.Count)] = 0;
            if (route.Count < 2 || metresToNext is not { } metres || !double.IsFinite(metres))
                return false;
            if (!Nearest.TryGetValue(Next(route), out var nearest))
            {
                Nearest[Next(route)] = metres;
                return false;
            }

            if (metres > nearest - ProgressMetres)
                return false;
            Nearest[Next(route)] = metres;
            return true;
        }

        /// <summary>The next step of a route (at least two waypoints long): its second waypoint and the waypoints left from there.</summary>
        private static (string, int) Next(IReadOnlyList<string> route) => (route[1], route.Count - 1);

        public void Progress(string lastNodeId, int waypointsLeft, DateTimeOffset now)
        {
            Reached.Add(lastNodeId);
            FewestLeft = Math.Min(FewestLeft, waypointsLeft);
            Since = now;
            Told = false;
            SinceProgress.Clear();
            SinceProgress.Add(lastNodeId);
        }
    }
}
