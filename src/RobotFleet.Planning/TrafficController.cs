namespace RobotFleet.Planning;

/// <summary>
/// A robot's motion as traffic control sees it: the waypoints still ahead of it, starting with
/// the waypoint it last reached, and how far along them its order is released (the VDA base).
/// </summary>
/// <param name="RobotId">Robot id.</param>
/// <param name="Waypoints">Waypoint ids from the last reached waypoint to the goal; a robot without a route has just its current waypoint (or none when unknown).</param>
/// <param name="ReleasedThrough">Index into <paramref name="Waypoints"/> of the last released waypoint (0 when only the current one).</param>
/// <param name="Yields">True when this robot should give way (it has no mission, or is lost).</param>
/// <param name="WaitsFor">
/// A robot this one waits for at the end of its <paramref name="Waypoints"/> although nothing there is held: one it gives
/// way to. Reported by <see cref="TrafficController.Blocker"/> so that a wait for a robot that gives way is never hidden
/// from <see cref="TrafficController.FindWaitCycle"/>.
/// </param>
public sealed record RobotMotion(string RobotId, IReadOnlyList<string> Waypoints, int ReleasedThrough, bool Yields = false, string? WaitsFor = null)
{
    /// <summary>The waypoint the robot must hold next to go on, or null at the goal.</summary>
    public string? NextWanted => ReleasedThrough + 1 < Waypoints.Count ? Waypoints[ReleasedThrough + 1] : null;

    /// <summary>The waypoints the robot holds: from its last reached waypoint through the released ones.</summary>
    public IEnumerable<string> Held => Waypoints.Take(ReleasedThrough + 1);
}

/// <summary>
/// Traffic rule: a robot holds the waypoint it last reached and every released waypoint ahead of it; its base (the VDA
/// released part) is extended only onto waypoints no other robot holds, so two robots are never released onto the same
/// waypoint. On maps with loops it also applies the <b>dead-end branch rule</b> (see <see cref="DeadEndBranches"/>):
/// <list type="number">
/// <item><b>One robot per branch.</b> A robot is released into a dead-end branch (from its mouth) only when no other
/// robot holds any waypoint of the branch. The branch is reserved as a whole by whoever is in it.</item>
/// <item><b>No waiting on a mouth.</b> A robot is released onto the mouth of a branch only together with the next
/// waypoint of its route (into the branch it enters, which must then be free, or on along the loop), so it never stops
/// on a mouth to wait; where its route ends on a mouth, only while no other robot is in a branch hung there.</item>
/// </list>
/// Why this cannot gridlock robots in or at a dead end (the argument): a deadlock is a cycle of robots each waiting for
/// what the next one holds (Coffman's circular wait), a branch counting as held by the robot in it. Take a robot X in a
/// branch B in such a cycle. By rule 1 no other robot is in B, so X waits for the mouth or the waypoint after it. By
/// rule 2 a robot on the mouth either passes through (the waypoint after it is released to it too) or stopped there
/// while B was empty, and then X could not have got into B past it; so whoever X waits for stands on the loops, next
/// to the mouth, and so does whoever waits to enter B (it waits before the mouth, for X). Hence no two robots ever face each other inside a dead end, and every circular wait through one
/// has all its other robots on the loops, where there is a way round or aside: re-routing one of them, or moving it
/// aside, breaks it. Every wait the rule makes is reported by <see cref="Blocker"/> (the wait for a reserved branch names
/// the robot in it; a robot giving way names the one it gives way to, see <see cref="RobotMotion.WaitsFor"/>), so
/// <see cref="FindWaitCycle"/> sees each such cycle for the caller to break.
/// Limits: a branch is a whole tree hanging off the loops, so a large dead-end wing takes one robot at a time; a map
/// (or a part of one) without any loop has no branches, and waits there are left to re-routing and moving aside; waits
/// between robots on the loops are detected and broken, not prevented, so loops packed so full that no robot of a cycle
/// has a free waypoint to step to can still hold robots up; robots that start (or come back) inside one branch together
/// are not kept apart.
/// Pure and thread-safe.
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
    /// while the next waypoint is free or already the robot's own, and the dead-end branch rule allows it.
    /// </summary>
    /// <param name="motion">The robot's motion.</param>
    /// <param name="holds">Who holds which waypoint (see <see cref="Holds"/>).</param>
    /// <param name="branches">The map's dead-end branches; null or <see cref="DeadEndBranches.None"/> for none.</param>
    /// <returns>The new released index (never less than the current one).</returns>
    public static int Release(RobotMotion motion, IReadOnlyDictionary<string, string> holds, DeadEndBranches? branches = null)
    {
        ArgumentNullException.ThrowIfNull(motion);
        var through = motion.ReleasedThrough;
        while (through + 1 < motion.Waypoints.Count && Obstacle(motion, through + 1, holds, branches) is null)
            through++;
        return through;
    }

    /// <summary>
    /// The robot that keeps this robot from being released onto the waypoint it wants next: the one holding that
    /// waypoint, or, under the dead-end branch rule, the one in the branch it would enter (or the one holding the
    /// waypoint after a mouth); at the end of its waypoints, the one it gives way to (<see cref="RobotMotion.WaitsFor"/>);
    /// null when it is not blocked.
    /// </summary>
    public static string? Blocker(RobotMotion motion, IReadOnlyDictionary<string, string> holds, DeadEndBranches? branches = null)
    {
        ArgumentNullException.ThrowIfNull(motion);
        return motion.NextWanted is null ? motion.WaitsFor : Obstacle(motion, motion.ReleasedThrough + 1, holds, branches);
    }

    /// <summary>
    /// Finds a cycle of robots each waiting for a waypoint (or a dead-end branch) the next one holds, starting from
    /// <paramref name="robotId"/>; null when there is none.
    /// </summary>
    public static IReadOnlyList<string>? FindWaitCycle(string robotId, IReadOnlyDictionary<string, RobotMotion> motions, IReadOnlyDictionary<string, string> holds, DeadEndBranches? branches = null)
    {
        ArgumentNullException.ThrowIfNull(motions);
        var chain = new List<string> { robotId };
        var current = robotId;
        while (motions.TryGetValue(current, out var motion) && Blocker(motion, holds, branches) is { } next)
        {
            var index = chain.IndexOf(next);
            if (index >= 0)
                return chain.Skip(index).ToList();
            chain.Add(next);
            current = next;
        }

        return null;
    }

    /// <summary>The robot keeping <paramref name="motion"/> off <c>Waypoints[index]</c>, or null when it may be released onto it.</summary>
    private static string? Obstacle(RobotMotion motion, int index, IReadOnlyDictionary<string, string> holds, DeadEndBranches? branches)
    {
        if (HeldByOther(motion, motion.Waypoints[index], holds) is { } holder)
            return holder;
        if (branches is null)
            return null;
        if (Occupant(motion, index, holds, branches) is { } occupant)
            return occupant;
        if (!branches.IsMouth(motion.Waypoints[index]))
            return null;
        // No waiting on a mouth: it is released only with the waypoint after it, or, where the route ends, only while
        // no other robot is in a branch hung on it (which would have to leave through it).
        if (index + 1 < motion.Waypoints.Count)
            return HeldByOther(motion, motion.Waypoints[index + 1], holds) ?? Occupant(motion, index + 1, holds, branches);
        return branches.BranchesAt(motion.Waypoints[index]).SelectMany(b => b.Waypoints).Select(w => HeldByOther(motion, w, holds)).FirstOrDefault(h => h is not null);
    }

    private static string? HeldByOther(RobotMotion motion, string waypoint, IReadOnlyDictionary<string, string> holds) =>
        holds.TryGetValue(waypoint, out var holder) && holder != motion.RobotId ? holder : null;

    /// <summary>When the step onto <c>Waypoints[index]</c> enters a dead-end branch, another robot in it (nearest the mouth first).</summary>
    private static string? Occupant(RobotMotion motion, int index, IReadOnlyDictionary<string, string> holds, DeadEndBranches branches)
    {
        if (branches.BranchOf(motion.Waypoints[index]) is not { } branch)
            return null;
        if (index > 0 && ReferenceEquals(branches.BranchOf(motion.Waypoints[index - 1]), branch))
            return null; // moving within the branch
        return branch.Waypoints.Select(w => HeldByOther(motion, w, holds)).FirstOrDefault(h => h is not null);
    }
}
