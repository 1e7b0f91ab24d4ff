using RobotFleet.Maps;

namespace RobotFleet.Planning.Tests;

/// <summary>Maps for assignment tests.</summary>
internal static class PlannerMaps
{
    /// <summary>A w x h grid, 10 m apart, two-way lanes with random speed limits (0.5..2 m/s), some lanes one-way.</summary>
    public static SiteMap RandomGrid(Random random, int width, int height)
    {
        var points = new List<string>();
        for (var x = 0; x < width; x++)
        {
            for (var y = 0; y < height; y++)
            {
                points.Add($"p{x}_{y}:{x * 10}:{y * 10}");
            }
        }
        var lanes = new List<string>();
        for (var x = 0; x < width; x++)
        {
            for (var y = 0; y < height; y++)
            {
                var speed = new[] { 0.5, 1, 1.5, 2 }[random.Next(4)];
                var kind = random.Next(6) == 0 ? ">" : "=";
                if (x + 1 < width)
                {
                    lanes.Add($"p{x}_{y}{kind}p{x + 1}_{y}:{speed}");
                }
                if (y + 1 < height)
                {
                    lanes.Add($"p{x}_{y}={"p"}{x}_{y + 1}");
                }
            }
        }
        return TestMaps.Build([.. points], [.. lanes]);
    }

    /// <summary>The same map with named locations of the given kinds: "name@waypoint:Kind".</summary>
    public static SiteMap WithLocations(SiteMap map, params string[] locations) => new(
        map.Id,
        map.Name,
        map.Levels,
        map.Waypoints.Values,
        map.Lanes,
        locations.Select(spec =>
        {
            var (name, rest) = (spec.Split('@')[0], spec.Split('@')[1]);
            var parts = rest.Split(':');
            return new Location(name, parts[0], new HashSet<LocationKind> { Enum.Parse<LocationKind>(parts[1]) });
        }));
}
