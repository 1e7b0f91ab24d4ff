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
/// reached before on the same mission, or having fewer waypoints left on the route than ever before on it. So a
/// robot standing still and a robot going back and forth between the same waypoints (pushed back and forth in a
/// corridor, or through a door) both stall, while a robot on a detour round a closed lane, or going back the way it
/// came after a pick-up, does not. Not thread-safe: one caller (the alert service's timer).
/// </summary>
public sealed class ProgressWatch
{
    private readonly Dictionary<RobotId, Track> _tracks = [];

    /// <summary>
    /// Takes one look at a robot and returns its stall the first time it has gone <paramref name="after"/> without
    /// progress; null otherwise (also on every later look until it makes progress again, so one stall is told once).
    /// </summary>
    /// <param name="robot">The robot.</param>
    /// <param name="missionId">The mission it runs; another mission than at the last look starts afresh.</param>
    /// <param name="lastNodeId">The waypoint it last reached (VDA <c>lastNodeId</c>).</param>
    /// <param name="waypointsLeft">How many waypoints its route still has, counting the one last reached.</param>
    /// <param name="now">Time of the look (UTC).</param>
    /// <param name="after">How long without progress makes a stall.</param>
    public Stall? Look(RobotId robot, string missionId, string lastNodeId, int waypointsLeft, DateTimeOffset now, TimeSpan after)
    {
        if (!_tracks.TryGetValue(robot, out var track) || track.MissionId != missionId)
        {
            _tracks[robot] = track = new Track(missionId);
            track.Progress(lastNodeId, waypointsLeft, now);
            return null;
        }

        var newWaypoint = !track.Reached.Contains(lastNodeId);
        if (newWaypoint || waypointsLeft < track.FewestLeft)
        {
            track.Progress(lastNodeId, waypointsLeft, now);
            return null;
        }

        if (!track.SinceProgress.Contains(lastNodeId))
            track.SinceProgress.Add(lastNodeId);
        if (track.Told || now - track.Since < after)
            return null;
        track.Told = true;
        return new Stall(track.Since, [.. track.SinceProgress]);
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

        public DateTimeOffset Since { get; private set; }

        public bool Told { get; set; }

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
