namespace RobotFleet.Planning.Traffic;

/// <summary>
/// A bounded search over the joint configurations of a few robots standing in a jam, for a sequence of single-robot moves
/// (one robot drives one lane, the others stand) after which one of them, the <i>stuck</i> robot, is nearer its goal with
/// its way ahead clear of the others: what <see cref="PibtTrafficController"/> falls back on when PIBT leaves a robot
/// without progress. It is the configuration-space search of LaCAM (K. Okumura, "LaCAM: Search-Based Algorithm for Quick
/// Multi-Agent Pathfinding", AAAI 2023) cut down to a weighted A* over single moves in a small region, with a node budget,
/// and a goal that is local progress rather than every robot at its goal.
/// </summary>
/// <remarks>
/// Robots are slots 0..k-1 (at most 8) standing on waypoints of the region; two robots may never stand on conflicting
/// resources (<see cref="TrafficSpace.HardConflicts"/>: geometry, lifts, doors), and a move may not use a waypoint or lane
/// segment conflicting with another robot's waypoint or with a resource in <c>blocked</c> (held by robots outside the
/// search). The spur rule of <see cref="PibtTrafficController"/> holds here too: no robot drives into a dead-end spur
/// (<see cref="TrafficSpace.SpurArray"/>) another robot is in, of the search or outside it (<c>occupiedSpurs</c>); two
/// robots in one spur, one going in and one coming out, could only pass by a swap. Costs are seconds of driving
/// (<see cref="TrafficSpace.LaneSeconds"/>). The heuristic adds to the stuck robot's lost time to its goal, for every other robot standing on or next to its fastest way ahead, the hops that robot needs to
/// get off it (clear the way first, as in push and swap: R. Luna, K. Bekris, "Push and Swap: Fast Cooperative
/// Path-Finding with Completeness Guarantees", IJCAI 2011). Pure function of its arguments; thread-safe.
/// </remarks>
internal static class JointSearch
{
    /// <summary>Most robots one search moves (positions are packed 16 bits each into a 128-bit key).</summary>
    public const int MaxRobots = 8;

    /// <summary>One move of a plan: robot slot <paramref name="Slot"/> drives lane number <paramref name="Lane"/>.</summary>
    public readonly record struct Move(int Slot, int Lane);

    /// <summary>
    /// Searches for moves after which robot <paramref name="stuck"/> is on a waypoint with a lower time to its goal than where
    /// it starts, with the next <paramref name="clearAhead"/> waypoints of its fastest way (within the region) clear of the
    /// other robots; null when none is found within <paramref name="budget"/> expanded configurations.
    /// </summary>
    /// <param name="space">The traffic space.</param>
    /// <param name="region">The waypoints robots may move on (at most 65,535; every start waypoint must be one).</param>
    /// <param name="start">Waypoint of each robot (at most <see cref="MaxRobots"/>).</param>
    /// <param name="stuck">Slot of the robot that must make progress.</param>
    /// <param name="times">Travel times in seconds from every waypoint to the stuck robot's goal; with a loop flow weight
    /// (<see cref="PibtTrafficOptions.LoopFlowWeight"/>) weighted, so the heuristic may overestimate and the search is
    /// greedier along the flow.</param>
    /// <param name="blocked">Resources no robot of the search may use (held by, or too close to, robots outside it).</param>
    /// <param name="closed">True for a lane number that is closed.</param>
    /// <param name="budget">Most configurations expanded.</param>
    /// <param name="clearAhead">Waypoints of the stuck robot's way ahead that must be clear at the end.</param>
    /// <param name="occupiedSpurs">Dead-end spurs (by branch number) robots outside the search are in; null for none.</param>
    /// <param name="closedToStuck">True for a lane number closed to the stuck robot's moves and way (other robots drive what
    /// <paramref name="closed"/> leaves open); null: <paramref name="closed"/>.</param>
    /// <param name="closedToHelper">True for a robot's slot and a lane number that robot may not drive though
    /// <paramref name="closed"/> leaves it open (never asked for the stuck robot); null: none.</param>
    /// <param name="flowWeight">The loop flow weight <paramref name="times"/> were computed with (1: plain travel times).</param>
    /// <param name="goalTime">When given, the stuck robot must end on a waypoint with a time to its goal of at most this
    /// (instead of lower than where it starts).</param>
    /// <exception cref="ArgumentException">Too many robots, or a start waypoint outside the region.</exception>
    public static List<Move>? Solve(TrafficSpace space, IReadOnlyList<int> region, int[] start, int stuck, float[] times,
        HashSet<int> blocked, Func<int, bool> closed, int budget, int clearAhead, IReadOnlySet<int>? occupiedSpurs = null,
        Func<int, bool>? closedToStuck = null, Func<int, int, bool>? closedToHelper = null, double flowWeight = 1, float? goalTime = null)
    {
        var k = start.Length;
        var stuckClosed = closedToStuck ?? closed;
        if (k is < 1 or > MaxRobots || region.Count > ushort.MaxValue)
            throw new ArgumentException($"a joint search takes 1 to {MaxRobots} robots and at most {ushort.MaxValue} waypoints");
        var local = new Dictionary<int, int>(region.Count);
        for (var i = 0; i < region.Count; i++)
            local[region[i]] = i;
        var words = (region.Count + 63) / 64;

        // Which region waypoints each resource conflicts with (itself included), as bit sets over local numbers.
        var conflictBits = new Dictionary<int, ulong[]>();
        ulong[] Bits(int resource)
        {
            if (conflictBits.TryGetValue(resource, out var bits))
                return bits;
            bits = new ulong[words];
            if (resource < space.WaypointCount && local.TryGetValue(resource, out var self))
                bits[self >> 6] |= 1UL << self;
            foreach (var r in space.HardConflicts[resource])
            {
                if (r < space.WaypointCount && local.TryGetValue(r, out var l))
                    bits[l >> 6] |= 1UL << l;
            }

            conflictBits[resource] = bits;
            return bits;
        }

        var startLocal = new int[k];
        for (var i = 0; i < k; i++)
        {
            if (!local.TryGetValue(start[i], out startLocal[i]))
                throw new ArgumentException($"robot {i} starts at waypoint {space.WaypointId(start[i])}, outside the search region");
        }

        var startTime = times[start[stuck]];
        if (!float.IsFinite(startTime))
            return null;
        // The goal: a time below this (the start's, or the given one and at most that).
        double bound = goalTime is { } limit ? limit + 2e-3 : startTime - 1e-3;

        // The stuck robot's fastest way ahead from where it starts, and for every region waypoint the hops to get off it.
        var routeIndex = new int[region.Count];
        Array.Fill(routeIndex, -1);
        var w0 = start[stuck];
        var laneSum = 0.0;
        var laneCount = 0;
        for (var step = 0; step < 16 && local.TryGetValue(w0, out var l0); step++)
        {
            foreach (var r in space.HardConflicts[w0].Append(w0))
            {
                if (r < space.WaypointCount && local.TryGetValue(r, out var lr) && routeIndex[lr] < 0)
                    routeIndex[lr] = step;
            }

            routeIndex[l0] = step;
            var ahead = space.FastestLaneOut(w0, times, stuckClosed, flowWeight);
            if (ahead < 0)
                break;
            laneSum += space.LaneSecondsArray[ahead];
            laneCount++;
            w0 = space.LaneTo[ahead];
        }

        var hop = laneCount > 0 ? laneSum / laneCount : 1.0;
        var offRoute = new int[region.Count];
        Array.Fill(offRoute, int.MaxValue);
        var queue = new Queue<int>();
        for (var i = 0; i < region.Count; i++)
        {
            if (routeIndex[i] < 0)
            {
                offRoute[i] = 0;
                queue.Enqueue(i);
            }
        }

        while (queue.TryDequeue(out var x))
        {
            var wx = region[x];
            for (var e = space.InStart[wx]; e < space.InStart[wx + 1]; e++)
            {
                var lane = space.InLanes[e];
                if (closed(lane) || !local.TryGetValue(space.LaneFrom[lane], out var y) || offRoute[y] != int.MaxValue)
                    continue;
                offRoute[y] = offRoute[x] + 1;
                queue.Enqueue(y);
            }
        }

        double Heuristic(ReadOnlySpan<int> pos)
        {
            var own = region[pos[stuck]];
            var h = Math.Max(0, times[own] - bound);
            var at = routeIndex[pos[stuck]];
            for (var j = 0; j < k; j++)
            {
                if (j != stuck && routeIndex[pos[j]] > at)
                    h += Math.Min(offRoute[pos[j]], 32) * hop;
            }

            return h;
        }

        bool Occupied(ulong[] bits, ReadOnlySpan<int> pos, int except)
        {
            for (var j = 0; j < k; j++)
            {
                if (j != except && (bits[pos[j] >> 6] & (1UL << pos[j])) != 0)
                    return true;
            }

            return false;
        }

        // Into a spur only from outside it, when no other robot is in it (PibtTrafficController's spur rule).
        bool IntoTakenSpur(int from, int to, ReadOnlySpan<int> pos, int except)
        {
            var spur = space.BranchOf[to];
            if (spur < 0 || !space.SpurArray[spur] || space.BranchOf[from] == spur)
                return false;
            if (occupiedSpurs?.Contains(spur) == true)
                return true;
            for (var j = 0; j < k; j++)
            {
                if (j != except && space.BranchOf[region[pos[j]]] == spur)
                    return true;
            }

            return false;
        }

        bool IsGoal(ReadOnlySpan<int> pos)
        {
            var w = region[pos[stuck]];
            if (!(times[w] < bound))
                return false;
            for (var n = 0; n < clearAhead && times[w] > 0; n++)
            {
                var lane = space.FastestLaneOut(w, times, stuckClosed, flowWeight);
                if (lane < 0 || !local.ContainsKey(space.LaneTo[lane]))
                    return true;
                if (Occupied(Bits(space.LaneTo[lane]), pos, stuck) || Occupied(Bits(space.LaneResource[lane]), pos, stuck))
                    return false;
                w = space.LaneTo[lane];
            }

            return true;
        }

        var positions = new List<int>(k * 1024);
        var parent = new List<int>();
        var move = new List<Move>();
        var cost = new List<double>();
        var best = new Dictionary<UInt128, double>();
        var open = new PriorityQueue<int, double>();
        positions.AddRange(startLocal);
        parent.Add(-1);
        move.Add(default);
        cost.Add(0);
        best[Key(startLocal)] = 0;
        open.Enqueue(0, 2 * Heuristic(startLocal));
        var expanded = 0;
        var next = new int[k];
        while (open.TryDequeue(out var node, out _))
        {
            var pos = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(positions).Slice(node * k, k);
            var g = cost[node];
            if (g > best[Key(pos)] + 1e-9)
                continue;
            if (IsGoal(pos))
                return Plan(node, parent, move);
            if (++expanded > budget)
                return null;
            for (var i = 0; i < k; i++)
            {
                var u = region[pos[i]];
                for (var e = space.OutStart[u]; e < space.OutStart[u + 1]; e++)
                {
                    var lane = space.OutLanes[e];
                    var v = space.LaneTo[lane];
                    var segment = space.LaneResource[lane];
                    if ((i == stuck ? stuckClosed(lane) : closed(lane) || closedToHelper?.Invoke(i, lane) == true) || v == u || !local.TryGetValue(v, out var lv) || blocked.Contains(v) || blocked.Contains(segment))
                        continue;
                    pos = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(positions).Slice(node * k, k);
                    if (Occupied(Bits(v), pos, i) || Occupied(Bits(segment), pos, i) || IntoTakenSpur(u, v, pos, i))
                        continue;
                    pos.CopyTo(next);
                    next[i] = lv;
                    var ng = g + space.LaneSecondsArray[lane];
                    var key = Key(next);
                    if (best.TryGetValue(key, out var known) && known <= ng + 1e-9)
                        continue;
                    best[key] = ng;
                    var child = parent.Count;
                    positions.AddRange(next);
                    parent.Add(node);
                    move.Add(new Move(i, lane));
                    cost.Add(ng);
                    open.Enqueue(child, ng + (2 * Heuristic(next)));
                }
            }
        }

        return null;
    }

    private static UInt128 Key(ReadOnlySpan<int> pos)
    {
        UInt128 key = 0;
        foreach (var p in pos)
            key = (key << 16) | (uint)p;
        return key;
    }

    private static List<Move> Plan(int node, List<int> parent, List<Move> move)
    {
        var plan = new List<Move>();
        for (var n = node; parent[n] >= 0; n = parent[n])
            plan.Add(move[n]);
        plan.Reverse();
        return plan;
    }
}
