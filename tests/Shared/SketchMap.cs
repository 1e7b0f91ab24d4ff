using RobotFleet.Maps;

namespace RobotFleet.TestSupport;

/// <summary>Small hand-made one-level maps for tests, linked into the test projects that need them.</summary>
internal static class SketchMap
{
    /// <summary>Builds a one-level map from waypoints "id:x:y" and lanes "from>to[:speed]" (one-way) or "from=to[:speed]" (two-way).</summary>
    public static SiteMap Build(string[] waypoints, params string[] lanes)
    {
        var points = waypoints.Select(w => w.Split(':'))
            .Select(p => new Waypoint(p[0], "L1", double.Parse(p[1]), double.Parse(p[2]), null))
            .ToDictionary(w => w.Id);
        var built = new List<Lane>();
        foreach (var spec in lanes)
        {
            var twoWay = spec.Contains('=');
            var parts = spec.Split('>', '=', ':');
            double? speed = parts.Length > 2 ? double.Parse(parts[2]) : null;
            var (a, b) = (points[parts[0]], points[parts[1]]);
            built.Add(Lane.Between($"{a.Id}-{b.Id}", a, b, speed));
            if (twoWay)
                built.Add(Lane.Between($"{b.Id}-{a.Id}", b, a, speed));
        }

        return new SiteMap("test", "Test", [new Level("L1", 0)], points.Values, built, []);
    }
}
