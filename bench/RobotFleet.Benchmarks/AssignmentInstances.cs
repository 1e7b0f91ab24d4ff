using RobotFleet.Maps;
using RobotFleet.Planning;

namespace RobotFleet.Benchmarks;

/// <summary>Generated sites and assignment instances for <see cref="AssignmentBenchmarks"/> (deterministic per seed).</summary>
internal static class AssignmentInstances
{
    public static readonly DateTimeOffset Now = new(2025, 1, 1, 8, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Goods-to-person robotic floor (the layout of Kiva-style systems): <paramref name="side"/> x <paramref name="side"/>
    /// cells 1.2 m apart, two-way lanes between every pair of adjacent cells (an unloaded robot drives under the pods, so
    /// the approach to a pod may cross the storage area). Pods stand in blocks of 2 x 5 cells with one-cell travel aisles
    /// between blocks: a cell holds a pod when x mod 3 != 2 and y mod 6 != 5 (55 % of cells).
    /// </summary>
    public static (SiteMap Map, string[] Cells, string[] Pods) GoodsToPersonFloor(int side = 100)
    {
        var map = Grid(side, side, 1.2, _ => true);
        var cells = map.Waypoints.Keys.Order(StringComparer.Ordinal).ToArray();
        var pods = cells.Where(id => { var (x, y) = XY(id); return x % 3 != 2 && y % 6 != 5; }).ToArray();
        return (map, cells, pods);
    }

    /// <summary>
    /// Rack-aisle grid (person-to-goods picking with AMRs): 100 x 100 waypoints 2 m apart; every column is a two-way aisle
    /// between racks; rows 0, 10, .., 90 and 99 are two-way cross-aisles. Pick locations are the aisle waypoints that are not
    /// on a cross-aisle.
    /// </summary>
    public static (SiteMap Map, string[] Cells, string[] Pods) AisleGrid()
    {
        const int Side = 100;
        var map = Grid(Side, Side, 2, y => y % 10 == 0 || y == Side - 1);
        var cells = map.Waypoints.Keys.Order(StringComparer.Ordinal).ToArray();
        var picks = cells.Where(id => { var y = XY(id).Y; return y % 10 != 0 && y != Side - 1; }).ToArray();
        return (map, cells, picks);
    }

    /// <summary>
    /// One instance: robots idle at distinct cells drawn uniformly from <paramref name="robotCells"/> (where their last task
    /// left them), missions starting at distinct places drawn uniformly from <paramref name="pickups"/>, submitted one per
    /// second in random order. TravelOnly: one priority, no duration or deadline (cost = approach travel time). Mixed:
    /// priorities 0-3 (60/25/10/5 %), durations 30-120 s, a deadline 120-600 s ahead on 30 %.
    /// </summary>
    public static (RobotSnapshot[] Robots, PendingMission[] Missions) Draw(int seed, string[] robotCells, string[] pickups, int robots, int missions, bool mixed)
    {
        var random = new Random(seed);
        var robotAt = Sample(random, robotCells, robots);
        var startAt = Sample(random, pickups, missions);
        var fleet = robotAt.Select((at, i) => new RobotSnapshot($"r{i:0000}", at, RobotActivity.Idle, 1.5)).ToArray();
        var queue = startAt.Select((at, i) =>
        {
            var p = random.Next(100);
            return new PendingMission(
                $"m{i:0000}",
                at,
                mixed ? (p < 60 ? 0 : p < 85 ? 1 : p < 95 ? 2 : 3) : 0,
                Now.AddSeconds(i - missions),
                DurationSeconds: mixed ? random.Next(30, 121) : 0,
                Deadline: mixed && random.Next(10) < 3 ? Now.AddSeconds(random.Next(120, 601)) : null);
        }).ToArray();
        return (fleet, queue);
    }

    /// <summary>k distinct elements in random order (partial Fisher-Yates).</summary>
    private static string[] Sample(Random random, string[] from, int k)
    {
        var copy = (string[])from.Clone();
        for (var i = 0; i < k; i++)
        {
            var j = random.Next(i, copy.Length);
            (copy[i], copy[j]) = (copy[j], copy[i]);
        }
        return copy[..k];
    }

    private static (int X, int Y) XY(string id)
    {
        var parts = id[1..].Split('_');
        return (int.Parse(parts[0]), int.Parse(parts[1]));
    }

    /// <summary>A grid: every column is two-way north-south; rows where <paramref name="crossAisle"/> holds are two-way east-west.</summary>
    private static SiteMap Grid(int width, int height, double spacing, Func<int, bool> crossAisle)
    {
        var waypoints = new Waypoint[width, height];
        for (var x = 0; x < width; x++)
        {
            for (var y = 0; y < height; y++)
            {
                waypoints[x, y] = new Waypoint($"w{x:000}_{y:000}", "L1", x * spacing, y * spacing, null);
            }
        }
        var lanes = new List<Lane>();
        void Both(Waypoint a, Waypoint b)
        {
            lanes.Add(Lane.Between($"{a.Id}>{b.Id}", a, b));
            lanes.Add(Lane.Between($"{b.Id}>{a.Id}", b, a));
        }
        for (var x = 0; x < width; x++)
        {
            for (var y = 0; y < height; y++)
            {
                if (y + 1 < height)
                {
                    Both(waypoints[x, y], waypoints[x, y + 1]);
                }
                if (x + 1 < width && crossAisle(y))
                {
                    Both(waypoints[x, y], waypoints[x + 1, y]);
                }
            }
        }
        return new SiteMap("generated", "Generated grid site", [new Level("L1", 0)], waypoints.Cast<Waypoint>(), lanes, []);
    }
}
