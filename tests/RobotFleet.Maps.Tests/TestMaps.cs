using RobotFleet.Maps;

namespace RobotFleet.Maps.Tests;

/// <summary>Fixture paths and small hand-made maps shared by the tests.</summary>
internal static class TestMaps
{
    public static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    public static string ShippedOffice => Path.Combine(AppContext.BaseDirectory, "ShippedMaps", "office");

    public static SiteMap ImportOffice() => RmfBuildingImporter.Import(Fixture("office.building.yaml"));

    /// <summary>See <see cref="RobotFleet.TestSupport.SketchMap.Build"/>.</summary>
    public static SiteMap Build(string[] waypoints, params string[] lanes) => RobotFleet.TestSupport.SketchMap.Build(waypoints, lanes);
}
