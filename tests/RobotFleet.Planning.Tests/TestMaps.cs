using RobotFleet.Maps;

namespace RobotFleet.Planning.Tests;

/// <summary>Small hand-made maps for planning tests.</summary>
internal static class TestMaps
{
    /// <summary>See <see cref="RobotFleet.TestSupport.SketchMap.Build"/>.</summary>
    public static SiteMap Build(string[] waypoints, params string[] lanes) => RobotFleet.TestSupport.SketchMap.Build(waypoints, lanes);

    /// <summary>The same kind of map read from inline GeoJSON (the shipped format).</summary>
    public static SiteMap FromGeoJson(string features) => SiteMapGeoJson.Parse(
        $$"""
        { "type": "FeatureCollection",
          "robotfleet": { "version": 1, "id": "t", "levels": [ { "id": "L1", "elevation": 0 } ] },
          "features": [ {{features}} ] }
        """, "inline test map");
}
