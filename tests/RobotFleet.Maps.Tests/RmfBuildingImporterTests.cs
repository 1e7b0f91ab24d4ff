using RobotFleet.Maps;

namespace RobotFleet.Maps.Tests;

public class RmfBuildingImporterTests
{
    private static readonly SiteMap Office = TestMaps.ImportOffice();

    [Fact]
    public void Office_has_one_level_and_three_named_doors()
    {
        Assert.Equal([new Level("L1", 0)], Office.Levels);
        Assert.Equal(["coe_door", "hardware_door", "main_door"], Office.Doors.Select(d => d.Name).Order());
        Assert.All(Office.Doors, d => Assert.Equal(2, d.Span.NumPoints));
    }

    [Fact]
    public void Office_locations_have_the_kinds_of_the_vertex_flags()
    {
        Assert.Equal([LocationKind.Pickup], Office.FindLocation("pantry")!.Kinds);
        Assert.Equal([LocationKind.Dropoff], Office.FindLocation("hardware_2")!.Kinds);
        Assert.Equal([LocationKind.Dropoff], Office.FindLocation("coe")!.Kinds);
        Assert.Equal([LocationKind.Parking], Office.FindLocation("supplies")!.Kinds);
        foreach (var charger in new[] { "tinyRobot1_charger", "tinyRobot2_charger" })
        {
            Assert.True(Office.FindLocation(charger)!.Kinds.SetEquals([LocationKind.Charger, LocationKind.Parking]));
        }
        Assert.Equal(["tinyRobot1_charger", "tinyRobot2_charger"], Office.LocationsOfKind(LocationKind.Charger).Select(l => l.Name).Order());
        Assert.Empty(Office.FindLocation("lounge")!.Kinds);
        Assert.Null(Office.FindLocation("Pantry"));
    }

    [Fact]
    public void Office_thirty_two_way_lanes_become_sixty_directed_lanes()
    {
        Assert.Equal(60, Office.Lanes.Count);
        foreach (var lane in Office.Lanes)
        {
            Assert.NotNull(Office.FindLane(lane.ToWaypointId, lane.FromWaypointId));
            Assert.Null(lane.SpeedLimit);
        }
        Assert.Empty(Office.Warnings);
    }

    [Theory]
    [InlineData(1, 0, 9.315)]
    [InlineData(5, 4, 8.409)]
    [InlineData(2, 3, 20.089)]
    public void Measured_distances_reproduce_within_one_percent(int v1, int v2, double metres)
    {
        // Add a lane between the measured vertices so the import turns them into waypoints.
        var yaml = File.ReadAllText(TestMaps.Fixture("office.building.yaml"))
            .Replace("    lanes:\n", $"    lanes:\n      - [{v1}, {v2}, {{bidirectional: [4, false]}}]\n");
        var map = RmfBuildingImporter.Import(new StringReader(yaml), "office (with measured lane)", "office");

        var lane = map.FindLane($"L1_v{v1}", $"L1_v{v2}");

        Assert.NotNull(lane);
        Assert.InRange(lane.Length, metres * 0.99, metres * 1.01);
    }

    [Fact]
    public void Image_y_axis_is_flipped_to_north()
    {
        // pantry is at y = 638 px, tinyRobot1_charger further down the image at y = 658 px, so further south.
        Assert.True(Office.GetWaypoint("pantry").Y > Office.GetWaypoint("tinyRobot1_charger").Y);
        Assert.All(Office.Waypoints.Values, w => Assert.True(w.X > 0 && w.Y < 0));
    }

    [Fact]
    public void Every_office_location_reaches_every_other()
    {
        var graph = new RouteGraph(Office);
        foreach (var from in Office.Locations.Values)
        {
            foreach (var to in Office.Locations.Values)
            {
                Assert.True(graph.FindRoute(from.WaypointId, to.WaypointId) is not null, $"{from.Name} -> {to.Name}");
            }
        }
    }

    [Fact]
    public void Shipped_office_map_matches_a_fresh_import()
    {
        var shipped = SiteMapGeoJson.Load(TestMaps.ShippedOffice);

        Assert.Equal(Office.Levels, shipped.Levels);
        Assert.Equal(Office.Waypoints.Count, shipped.Waypoints.Count);
        Assert.Equal(Office.Lanes.Count, shipped.Lanes.Count);
        Assert.Equal(Office.Locations.Keys.Order(), shipped.Locations.Keys.Order());
        Assert.Equal(Office.Doors.Count, shipped.Doors.Count);
        Assert.Equal(Office.Drawings.Count, shipped.Drawings.Count);
        Assert.Equal(SiteMapGeoJson.Write(Office), SiteMapGeoJson.Write(shipped));
    }

    [Fact]
    public void Multi_level_hotel_imports_each_level_with_its_elevation()
    {
        var hotel = RmfBuildingImporter.Import(TestMaps.Fixture("hotel.building.yaml"));

        Assert.Equal([new Level("L1", 0), new Level("L2", 8), new Level("L3", 16)], hotel.Levels);
        Assert.All(hotel.Levels, level => Assert.Contains(hotel.Waypoints.Values, w => w.LevelId == level.Id));
        Assert.Contains(hotel.Locations.Values, l => l.Name == "Lift1@L2" && l.Kinds.Contains(LocationKind.Lift));
        Assert.Equal(4, hotel.LocationsOfKind(LocationKind.Charger).Count());
        Assert.All(hotel.Lanes, lane => Assert.Equal(hotel.GetWaypoint(lane.FromWaypointId).LevelId, lane.LevelId));
    }

    [Fact]
    public void Level_without_measurements_uses_the_other_levels_scale_and_warns()
    {
        var yaml = File.ReadAllText(TestMaps.Fixture("hotel.building.yaml"));
        var l2 = yaml.IndexOf("  L2:\n", StringComparison.Ordinal);
        var measurement = yaml.IndexOf("    measurements:\n", l2, StringComparison.Ordinal);
        var withoutL2Measurements = yaml[..measurement] + "    measurements: []\n" + yaml[yaml.IndexOf("    models:", measurement, StringComparison.Ordinal)..];

        var hotel = RmfBuildingImporter.Import(new StringReader(withoutL2Measurements), "hotel", "hotel");

        Assert.Contains(hotel.Warnings, w => w.FeatureId == "L2" && w.Rule == "rmf-scale-assumed");
    }

    [Fact]
    public void Missing_file_throws_FileNotFoundException_naming_the_path()
    {
        var e = Assert.Throws<FileNotFoundException>(() => RmfBuildingImporter.Import("/no/such/site.building.yaml"));
        Assert.Contains("/no/such/site.building.yaml", e.Message);
    }

    [Fact]
    public void Lane_to_a_missing_vertex_is_reported_with_the_lane_id()
    {
        var yaml = "levels:\n  L1:\n    elevation: 0\n    vertices:\n      - [0, 0, 0, a]\n    lanes:\n      - [0, 7, {bidirectional: [4, true]}]\n";

        var e = Assert.Throws<SiteMapValidationException>(() => RmfBuildingImporter.Import(new StringReader(yaml), "tiny.building.yaml", "tiny"));

        var problem = Assert.Single(e.Problems);
        Assert.Equal(("L1_lane0", "rmf-vertex-index"), (problem.FeatureId, problem.Rule));
        Assert.Contains("tiny.building.yaml", e.Message);
    }

    [Theory]
    [InlineData("levels: [unclosed", "yaml-invalid")]
    [InlineData("coordinate_system: wgs84\nlevels:\n  L1: {elevation: 0}\n", "rmf-coordinate-system")]
    [InlineData("name: empty\n", "rmf-structure")]
    public void Unusable_files_are_rejected_with_a_rule(string yaml, string rule)
    {
        var e = Assert.Throws<SiteMapValidationException>(() => RmfBuildingImporter.Import(new StringReader(yaml), "bad.building.yaml", "bad"));
        Assert.Equal(rule, Assert.Single(e.Problems).Rule);
    }
}
