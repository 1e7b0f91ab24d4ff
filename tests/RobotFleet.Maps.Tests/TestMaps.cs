using RobotFleet.Maps;

namespace RobotFleet.Maps.Tests;

/// <summary>Fixture paths and small hand-made maps shared by the tests.</summary>
internal static class TestMaps
{
    public static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    public static string ShippedOffice => Path.Combine(AppContext.BaseDirectory, "ShippedMaps", "office");

    /// <summary>An Open-RMF building shipped in the repository's maps/ folder (maps/&lt;name&gt;/&lt;name&gt;.building.yaml).</summary>
    public static string ShippedBuilding(string name) => Path.Combine(AppContext.BaseDirectory, "ShippedMaps", name, $"{name}.building.yaml");

    public static SiteMap ImportOffice() => RmfBuildingImporter.Import(Fixture("office.building.yaml"));

    /// <summary>See <see cref="RobotFleet.TestSupport.SketchMap.Build"/>.</summary>
    public static SiteMap Build(string[] waypoints, params string[] lanes) => RobotFleet.TestSupport.SketchMap.Build(waypoints, lanes);
}
