using RobotFleet.Maps;

namespace RobotFleet.Planning;

/// <summary>
/// A traffic rule for maps drawn with two-way single lanes: every loop is driven one way round, like a roundabout, so no
/// two robots meet head-on on it; lanes that are the only link between two parts of the map (bridges: corridors into
/// dead-end wings, spurs) stay two-way, since no orientation could keep both sides reachable otherwise.
/// </summary>
/// <remarks>
/// Method: Robbins' theorem (Robbins, "A theorem on graphs, with an application to a problem of traffic control", Amer.
/// Math. Monthly 46, 1939): a connected graph has a strongly connected orientation exactly when it has no bridge, and a
/// depth-first search gives one (tree links away from the root, back links towards it). Here the undirected graph is the
/// map's two-way connections (a lane in each direction between the same two waypoints, lift rides excluded); Tarjan's
/// bridge search (Tarjan, "A note on finding the bridges of a graph", IPL 2(6), 1974) in the same search keeps bridges
/// two-way and orients every other connection by the search. Each two-edge-connected part then stays strongly connected,
/// bridges and one-way lanes are kept, so every waypoint reachable from another before stays reachable. Routes round a
/// loop may get longer: a robot whose goal lies just behind it on a loop drives the loop round. Pure and thread-safe.
/// </remarks>
public static class OneWayLoops
{
    /// <summary>
    /// The map with, for each two-way connection on a loop, the lane against the loop's direction removed; everything else
    /// (waypoints, one-way lanes, bridges, lift rides, locations, zones, doors, drawings, lifts) as it was.
    /// </summary>
    /// <param name="map">The site map.</param>
    /// <param name="keepPassing">
    /// Keep the <see cref="OneWayLoopBlocks.Passing"/> lanes, for a traffic controller that lets robots drive them only to make
    /// way (<see cref="Traffic.PibtTrafficController.SetPassingLanes"/>); routes must not use them.
    /// </param>
    /// <returns>The oriented map, or <paramref name="map"/> itself when it has no loop of two-way connections.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="map"/> is null.</exception>
    public static SiteMap Orient(SiteMap map, bool keepPassing = false)
    {
        ArgumentNullException.ThrowIfNull(map);
        var blocks = Blocks(map);
        var removed = keepPassing ? blocks.Against.Except(blocks.Passing).ToHashSet(StringComparer.Ordinal) : blocks.Against;
        if (removed.Count == 0)
        {
            return map;
        }

        // Lane-crossing warnings are found again by the new map for the lanes it keeps.
        return new SiteMap(map.Id, map.Name, map.Levels, map.Waypoints.Values, map.Lanes.Where(l => !removed.Contains(l.Id)),
            map.Locations.Values, map.Zones, map.Doors, map.Drawings, map.GeoAnchor,
            map.Warnings.Where(w => w.Rule != "lanes-cross-without-waypoint"), map.Id, map.Lifts);
    }

    /// <summary>
    /// The loops' blocks: the lanes <see cref="Orient"/> removes, and for every lane on a loop (either direction of a
    /// two-way connection that is no bridge) the block it belongs to, a two-edge-connected part of the map's two-way
    /// connections (Tarjan 1974: what is left connected once the bridges are taken out). A block minus any one of its
    /// connections stays connected, so a lane closed on a loop leaves a way round inside its block when the block is
    /// driven both ways (see <see cref="OneWayLoopBlocks.AgainstWhileClosed"/>). And the passing lanes: at every mouth (a loop
    /// waypoint where a bridge, a spur or a corridor, leaves the loop) the lanes against the loop's direction out of it, one
    /// waypoint back (see <see cref="OneWayLoopBlocks.Passing"/>).
    /// </summary>
    /// <param name="map">The site map.</param>
    /// <returns>The blocks (no lanes at all when the map has no loop of two-way connections).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="map"/> is null.</exception>
    public static OneWayLoopBlocks Blocks(SiteMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        // Two-way connections: an undirected link for each pair of waypoints with a lane each way (lift rides excluded).
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var id in map.Waypoints.Keys)
        {
            index[id] = index.Count;
        }

        var directed = new HashSet<(int, int)>();
        foreach (var lane in map.Lanes.Where(l => l.LiftId is null))
        {
            directed.Add((index[lane.FromWaypointId], index[lane.ToWaypointId]));
        }

        var links = directed.Where(d => d.Item1 < d.Item2 && directed.Contains((d.Item2, d.Item1))).OrderBy(d => d).ToArray();
        var adjacent = new List<(int To, int Link)>[index.Count];
        for (var i = 0; i < adjacent.Length; i++)
        {
            adjacent[i] = [];
        }

        for (var k = 0; k < links.Length; k++)
        {
            adjacent[links[k].Item1].Add((links[k].Item2, k));
            adjacent[links[k].Item2].Add((links[k].Item1, k));
        }

        // Iterative depth-first search: discovery order, low link, and the direction each link is first walked in.
        var discovered = new int[index.Count];
        var low = new int[index.Count];
        Array.Fill(discovered, -1);
        var along = new (int From, int To)[links.Length];
        var seen = new bool[links.Length];
        var bridge = new bool[links.Length];
        var counter = 0;
        var stack = new Stack<(int Node, int ParentLink, int Next)>();
        for (var root = 0; root < index.Count; root++)
        {
            if (discovered[root] >= 0 || adjacent[root].Count == 0)
            {
                continue;
            }

            discovered[root] = low[root] = counter++;
            stack.Push((root, -1, 0));
            while (stack.Count > 0)
            {
                var (node, parentLink, next) = stack.Pop();
                if (next < adjacent[node].Count)
                {
                    stack.Push((node, parentLink, next + 1));
                    var (to, link) = adjacent[node][next];
                    if (seen[link])
                    {
                        continue;
                    }

                    seen[link] = true;
                    along[link] = (node, to);
                    if (discovered[to] < 0)
                    {
                        discovered[to] = low[to] = counter++;
                        stack.Push((to, link, 0));
                    }
                    else
                    {
                        low[node] = Math.Min(low[node], discovered[to]);
                    }

                    continue;
                }

                if (parentLink >= 0)
                {
                    var parent = along[parentLink].From;
                    low[parent] = Math.Min(low[parent], low[node]);
                    bridge[parentLink] = low[node] > discovered[parent];
                }
            }
        }

        // Blocks: the parts left connected by the links that are no bridge (union-find over them).
        var blockRoot = new int[index.Count];
        for (var i = 0; i < blockRoot.Length; i++)
        {
            blockRoot[i] = i;
        }

        int Find(int i)
        {
            while (blockRoot[i] != i)
            {
                i = blockRoot[i] = blockRoot[blockRoot[i]];
            }

            return i;
        }

        for (var k = 0; k < links.Length; k++)
        {
            if (!bridge[k])
            {
                blockRoot[Find(links[k].Item1)] = Find(links[k].Item2);
            }
        }

        // Mouths: waypoints on a loop where a bridge leaves it.
        var onLoop = new bool[index.Count];
        for (var k = 0; k < links.Length; k++)
        {
            if (!bridge[k])
            {
                onLoop[links[k].Item1] = onLoop[links[k].Item2] = true;
            }
        }

        var mouth = new bool[index.Count];
        for (var k = 0; k < links.Length; k++)
        {
            if (bridge[k])
            {
                mouth[links[k].Item1] |= onLoop[links[k].Item1];
                mouth[links[k].Item2] |= onLoop[links[k].Item2];
            }
        }

        var ids = map.Waypoints.Keys.ToArray();
        var removed = new HashSet<string>(StringComparer.Ordinal);
        var passing = new HashSet<string>(StringComparer.Ordinal);
        var blockOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var k = 0; k < links.Length; k++)
        {
            if (bridge[k])
            {
                continue;
            }

            var (from, to) = along[k];
            var block = Find(from);
            foreach (var lane in map.OutgoingLanes(ids[to]).Where(l => l.LiftId is null && l.ToWaypointId == ids[from]))
            {
                removed.Add(lane.Id);
                if (mouth[to])
                {
                    passing.Add(lane.Id);
                }

                blockOf[lane.Id] = block;
            }

            foreach (var lane in map.OutgoingLanes(ids[from]).Where(l => l.LiftId is null && l.ToWaypointId == ids[to]))
            {
                blockOf[lane.Id] = block;
            }
        }

        return new OneWayLoopBlocks(removed, blockOf, passing);
    }
}

/// <summary>
/// The result of <see cref="OneWayLoops.Blocks"/>: the lanes against the loops' direction, the block of every lane on a
/// loop, and the passing lanes. Immutable; thread-safe.
/// </summary>
/// <param name="Against">The lanes against the loops' direction (those <see cref="OneWayLoops.Orient"/> removes; it keeps <paramref name="Passing"/> when asked).</param>
/// <param name="BlockOf">For each lane on a loop (both directions of a two-way connection that is no bridge), its block's number.</param>
/// <param name="Passing">
/// The passing lanes, a subset of <paramref name="Against"/>: those out of a mouth (a loop waypoint where a bridge leaves the
/// loop) one waypoint back against the loop. Routes never use them; a traffic controller may let a robot on the mouth back
/// up along one to make way for a robot coming out of the bridge (a spur's single lane holds one robot: without it, the
/// only way off the mouth is forward round the whole loop; measured in <c>bench/results/traffic-pibt.md</c>, eighteenth session).
/// </param>
public sealed record OneWayLoopBlocks(IReadOnlySet<string> Against, IReadOnlyDictionary<string, int> BlockOf, IReadOnlySet<string> Passing)
{
    /// <summary>
    /// The lanes against the loops' direction that stay closed while <paramref name="closed"/> lanes are closed: all of
    /// <see cref="Against"/> but those of a block with a closed lane, which is driven both ways meanwhile (one way round, a
    /// closed lane on a loop would cut off every waypoint past it until it opens).
    /// </summary>
    /// <param name="closed">Lane ids closed now (an operator, perception); ids of no loop lane are ignored.</param>
    /// <returns>Lane ids (<see cref="Against"/> itself when no closed lane is on a loop).</returns>
    public IReadOnlySet<string> AgainstWhileClosed(IEnumerable<string> closed)
    {
        ArgumentNullException.ThrowIfNull(closed);
        var opened = closed.Select(l => BlockOf.TryGetValue(l, out var b) ? b : -1).Where(b => b >= 0).ToHashSet();
        return opened.Count == 0 ? Against : Against.Where(l => !opened.Contains(BlockOf[l])).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// The <see cref="Passing"/> lanes among <paramref name="against"/>, the lanes against the loops closed now (what
    /// <see cref="AgainstWhileClosed"/> returned): those of a block driven both ways meanwhile are open lanes like any other.
    /// </summary>
    /// <param name="against">The lanes against the loops closed now.</param>
    /// <returns>Lane ids (<see cref="Passing"/> itself when <paramref name="against"/> is <see cref="Against"/>).</returns>
    public IReadOnlySet<string> PassingAmong(IReadOnlySet<string> against)
    {
        ArgumentNullException.ThrowIfNull(against);
        return ReferenceEquals(against, Against) ? Passing : Passing.Where(against.Contains).ToHashSet(StringComparer.Ordinal);
    }
}
