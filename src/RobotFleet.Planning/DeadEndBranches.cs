using RobotFleet.Maps;

namespace RobotFleet.Planning;

/// <summary>
/// One dead-end branch of a map: a tree of waypoints hanging off the map's loops by a single lane, entered and left only
/// through its <see cref="Mouth"/> (e.g. a room off a corridor, a charger bay, a spur).
/// </summary>
/// <param name="Mouth">The waypoint on a loop where the branch hangs; not part of the branch.</param>
/// <param name="Waypoints">The branch's waypoints, nearest to the mouth first.</param>
public sealed record DeadEndBranch(string Mouth, IReadOnlyList<string> Waypoints);

/// <summary>
/// The dead-end branches of a map, found from its lanes taken as undirected links: strip waypoints with at most one
/// neighbour until none is left (what remains is the 2-core: every waypoint on or between loops); each tree stripped
/// from a loop-carrying part is a branch, hung on the core waypoint it touches. A part of the map without a loop has no
/// core, so nowhere to wait outside a branch, and gets no branches. Immutable and thread-safe.
/// </summary>
public sealed class DeadEndBranches
{
    private readonly Dictionary<string, DeadEndBranch> _byWaypoint = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<DeadEndBranch>> _byMouth = new(StringComparer.Ordinal);

    private DeadEndBranches(IReadOnlyList<DeadEndBranch> all)
    {
        All = all;
        foreach (var branch in all)
        {
            (_byMouth.TryGetValue(branch.Mouth, out var at) ? at : _byMouth[branch.Mouth] = []).Add(branch);
            foreach (var waypoint in branch.Waypoints)
                _byWaypoint[waypoint] = branch;
        }
    }

    /// <summary>No branches: traffic rules that take branches into account behave as without them.</summary>
    public static DeadEndBranches None { get; } = new([]);

    /// <summary>Every branch.</summary>
    public IReadOnlyList<DeadEndBranch> All { get; }

    /// <summary>The branches of a map's lane graph (lane directions ignored).</summary>
    public static DeadEndBranches Of(SiteMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        return FromLinks(map.Waypoints.Keys, map.Lanes.Select(l => (l.FromWaypointId, l.ToWaypointId)));
    }

    /// <summary>The branches of an undirected graph given as waypoints and links between them.</summary>
    public static DeadEndBranches FromLinks(IEnumerable<string> waypoints, IEnumerable<(string A, string B)> links)
    {
        ArgumentNullException.ThrowIfNull(waypoints);
        ArgumentNullException.ThrowIfNull(links);
        var neighbours = waypoints.Distinct(StringComparer.Ordinal).ToDictionary(w => w, _ => new SortedSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var (a, b) in links)
        {
            if (a == b)
                continue;
            (neighbours.TryGetValue(a, out var na) ? na : neighbours[a] = new SortedSet<string>(StringComparer.Ordinal)).Add(b);
            (neighbours.TryGetValue(b, out var nb) ? nb : neighbours[b] = new SortedSet<string>(StringComparer.Ordinal)).Add(a);
        }

        // The 2-core: strip waypoints of degree <= 1 until none is left.
        var degree = neighbours.ToDictionary(n => n.Key, n => n.Value.Count, StringComparer.Ordinal);
        var stripped = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<string>(degree.Where(d => d.Value <= 1).Select(d => d.Key).Order(StringComparer.Ordinal));
        while (queue.TryDequeue(out var leaf))
        {
            if (!stripped.Add(leaf))
                continue;
            foreach (var next in neighbours[leaf].Where(n => !stripped.Contains(n)))
            {
                if (--degree[next] <= 1)
                    queue.Enqueue(next);
            }
        }

        var branches = new List<DeadEndBranch>();
        foreach (var mouth in neighbours.Keys.Where(w => !stripped.Contains(w)).Order(StringComparer.Ordinal))
        {
            foreach (var first in neighbours[mouth].Where(stripped.Contains))
            {
                // Breadth-first through stripped waypoints, never back through the mouth: nearest first.
                var tree = new List<string> { first };
                var seen = new HashSet<string>(StringComparer.Ordinal) { mouth, first };
                for (var i = 0; i < tree.Count; i++)
                    tree.AddRange(neighbours[tree[i]].Where(n => seen.Add(n)));
                branches.Add(new DeadEndBranch(mouth, tree));
            }
        }

        return new DeadEndBranches(branches);
    }

    /// <summary>The branch a waypoint lies in, or null when it lies on the core (or the map has no branches there).</summary>
    public DeadEndBranch? BranchOf(string waypointId) => _byWaypoint.GetValueOrDefault(waypointId);

    /// <summary>True when at least one branch hangs on the waypoint.</summary>
    public bool IsMouth(string waypointId) => _byMouth.ContainsKey(waypointId);

    /// <summary>The branches hanging on a waypoint; empty when it is no mouth.</summary>
    public IReadOnlyList<DeadEndBranch> BranchesAt(string waypointId) => _byMouth.TryGetValue(waypointId, out var at) ? at : [];
}
