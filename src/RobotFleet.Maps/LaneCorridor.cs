namespace RobotFleet.Maps;

/// <summary>Which lanes a point in the site frame lies on: within a lane's corridor around its centre line.</summary>
public static class LaneCorridor
{
    /// <summary>Distance in metres from a point to a lane's centre line (the segment between its waypoints).</summary>
    /// <param name="map">The map the lane is on.</param>
    /// <param name="lane">The lane.</param>
    /// <param name="x">Metres east.</param>
    /// <param name="y">Metres north.</param>
    /// <returns>The distance in metres.</returns>
    public static double DistanceTo(SiteMap map, Lane lane, double x, double y)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(lane);
        var a = map.GetWaypoint(lane.FromWaypointId);
        var b = map.GetWaypoint(lane.ToWaypointId);
        var (dx, dy) = (b.X - a.X, b.Y - a.Y);
        var lengthSquared = (dx * dx) + (dy * dy);
        var t = lengthSquared == 0 ? 0 : Math.Clamp((((x - a.X) * dx) + ((y - a.Y) * dy)) / lengthSquared, 0, 1);
        var (px, py) = (a.X + (t * dx) - x, a.Y + (t * dy) - y);
        return Math.Sqrt((px * px) + (py * py));
    }

    /// <summary>
    /// The lanes whose corridor holds the point: distance to the centre line at most half the lane's width, or
    /// <paramref name="defaultHalfWidth"/> for a lane without a width (and never less than it). Both directions of a two-way
    /// connection are separate lanes and both match.
    /// </summary>
    /// <param name="map">The map.</param>
    /// <param name="x">Metres east.</param>
    /// <param name="y">Metres north.</param>
    /// <param name="defaultHalfWidth">Half width in metres used for lanes without a width, and the least used for any.</param>
    /// <param name="levelId">Only lanes on this level; null for any.</param>
    /// <returns>The matching lanes, in map order.</returns>
    public static IReadOnlyList<Lane> LanesAt(SiteMap map, double x, double y, double defaultHalfWidth = 0.5, string? levelId = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        return map.Lanes
            .Where(l => levelId is null || l.LevelId == levelId)
            .Where(l => DistanceTo(map, l, x, y) <= Math.Max(defaultHalfWidth, (l.Width ?? 0) / 2))
            .ToList();
    }
}
