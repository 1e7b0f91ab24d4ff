namespace RobotFleet.Planning;

/// <summary>
/// A robot's motion as traffic control sees it: the waypoints still ahead of it, starting with
/// the waypoint it last reached, and how far along them its order is released (the VDA base).
/// </summary>
/// <param name="RobotId">Robot id.</param>
/// <param name="Waypoints">Waypoint ids from the last reached waypoint to the goal; a robot without a route has just its current waypoint (or none when unknown).</param>
/// <param name="ReleasedThrough">Index into <paramref name="Waypoints"/> of the last released waypoint (0 when only the current one).</param>
/// <param name="Yields">True when this robot should give way (it has no mission, or is lost).</param>
public sealed record RobotMotion(string RobotId, IReadOnlyList<string> Waypoints, int ReleasedThrough, bool Yields = false)
{
    /// <summary>The waypoint the robot must hold next to go on, or null at the goal.</summary>
    public string? NextWanted => ReleasedThrough + 1 < Waypoints.Count ? Waypoints[ReleasedThrough + 1] : null;

    /// <summary>The waypoints the robot holds: from its last reached waypoint through the released ones.</summary>
    public IEnumerable<string> Held => Waypoints.Take(ReleasedThrough + 1);
}

/// <summary>
/// Walking-skeleton traffic rule: a robot holds the waypoint it last reached and every released
/// waypoint ahead of it; its base is extended only onto waypoints no other robot holds, so two
/// robots are never released onto the same waypoint. Detects waits on robots that should give way
/// and wait-for cycles (Coffman's circular-wait condition) so the caller can re-route one robot.
/// Pure and thread-safe; replaced by a deadlock-avoiding controller in a later issue.
/// </summary>
public static class TrafficController
{
    /// <summary>Who holds which waypoint.</summary>
    /// <exception cref="InvalidOperationException">Two robots hold the same waypoint (an invariant broken by the caller).</exception>
    public static IReadOnlyDictionary<string, string> Holds(IEnumerable<RobotMotion> motions)
    {
        var holds = new Dictionary<string, string>();
        foreach (var motion in motions)
        {
            foreach (var waypoint in motion.Held)
            {
                if (holds.TryGetValue(waypoint, out var other) && other != motion.RobotId)
                    throw new InvalidOperationException($"waypoint '{waypoint}' is held by both {other} and {motion.RobotId}");
                holds[waypoint] = motion.RobotId;
            }
        }

        return holds;
    }

    /// <summary>
    /// How far the robot's base can be released: extends past <see cref="RobotMotion.ReleasedThrough"/>
    /// while the next waypoint is free or already the robot's own.
    /// </summary>
    /// <returns>The new released index (never less than the current one).</returns>
    public static int Release(RobotMotion motion, IReadOnlyDictionary<string, string> holds)
    {
        var through = motion.ReleasedThrough;
        while (through + 1 < motion.Waypoints.Count
               && (!holds.TryGetValue(motion.Waypoints[through + 1], out var holder) || holder == motion.RobotId))
        {
            through++;
        }

        return through;
    }

    /// <summary>The robot holding the waypoint this robot wants next, or null when it is not blocked.</summary>
    public static string? Blocker(RobotMotion motion, IReadOnlyDictionary<string, string> holds) =>
        motion.NextWanted is { } next && holds.TryGetValue(next, out var holder) && holder != motion.RobotId ? holder : null;

    /// <summary>
    /// Finds a cycle of robots each waiting for a waypoint the next one holds, starting from
    /// <paramref name="robotId"/>; null when there is none.
    /// </summary>
    public static IReadOnlyList<string>? FindWaitCycle(string robotId, IReadOnlyDictionary<string, RobotMotion> motions, IReadOnlyDictionary<string, string> holds)
    {
        var chain = new List<string> { robotId };
        var current = robotId;
        while (motions.TryGetValue(current, out var motion) && Blocker(motion, holds) is { } next)
        {
            var index = chain.IndexOf(next);
            if (index >= 0)
                return chain.Skip(index).ToList();
            chain.Add(next);
            current = next;
        }

        return null;
    }
}
