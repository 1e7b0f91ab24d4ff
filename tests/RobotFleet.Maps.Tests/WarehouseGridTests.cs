using RobotFleet.Maps.Generated;

namespace RobotFleet.Maps.Tests;

public class WarehouseGridTests
{
    private static readonly WarehouseGridOptions Small = new() { Width = 12, Height = 21, CrossAisleEvery = 5, ParkingEvery = 2, ChargerEvery = 3, PickDensity = 0.3, Seed = 7 };

    [Fact]
    public void Has_width_times_height_grid_waypoints_plus_one_spur_per_parking_place_and_charger()
    {
        var map = WarehouseGrid.Generate(Small);

        Assert.Equal("warehouse-12x21", map.Id);
        Assert.Equal((12 * 21) + 6 + 4, map.Waypoints.Count);
        var spot = map.GetWaypoint(WarehouseGrid.Id(3, 4));
        Assert.Equal((3 * 2.0, 4 * 2.0, "L1"), (spot.X, spot.Y, spot.LevelId));
        Assert.Equal(6, map.Locations.Values.Count(l => l.Kinds.SetEquals([LocationKind.Parking])));
        Assert.Equal(4, map.Locations.Values.Count(l => l.Kinds.SetEquals([LocationKind.Charger])));
        Assert.Empty(map.Warnings);
    }

    [Fact]
    public void Aisles_are_one_way_alternating_north_and_south_and_cross_aisles_two_way()
    {
        var options = Small;
        var map = WarehouseGrid.Generate(options);

        for (var x = 0; x < options.Width; x++)
        {
            for (var y = 0; y + 1 < options.Height; y++)
            {
                var (south, north) = (WarehouseGrid.Id(x, y), WarehouseGrid.Id(x, y + 1));
                Assert.Equal(x % 2 == 0, map.FindLane(south, north) is not null);
                Assert.Equal(x % 2 == 1, map.FindLane(north, south) is not null);
            }
        }

        for (var y = 0; y < options.Height; y++)
        {
            var cross = y % 5 == 0 || y == options.Height - 1;
            Assert.Equal(cross, WarehouseGrid.IsCrossAisle(options, y));
            for (var x = 0; x + 1 < options.Width; x++)
            {
                var (west, east) = (WarehouseGrid.Id(x, y), WarehouseGrid.Id(x + 1, y));
                Assert.Equal(cross, map.FindLane(west, east) is not null);
                Assert.Equal(cross, map.FindLane(east, west) is not null);
            }
        }
    }

    [Fact]
    public void Every_waypoint_is_reachable_from_every_other()
    {
        var map = WarehouseGrid.Generate(Small);
        var graph = new RouteGraph(map);
        var hub = WarehouseGrid.Id(5, 10);

        // Strongly connected iff every waypoint reaches the hub and the hub reaches every waypoint.
        foreach (var id in map.Waypoints.Keys)
        {
            Assert.True(graph.FindRoute(id, hub) is not null, $"no route from {id} to {hub}");
            Assert.True(graph.FindRoute(hub, id) is not null, $"no route from {hub} to {id}");
        }
    }

    [Fact]
    public void The_default_100_by_100_grid_is_connected_between_distant_corners_and_locations()
    {
        var map = WarehouseGrid.Generate();
        var graph = new RouteGraph(map);

        Assert.Equal((100 * 100) + 50 + 20, map.Waypoints.Count);
        var corners = new[] { WarehouseGrid.Id(0, 0), WarehouseGrid.Id(99, 0), WarehouseGrid.Id(0, 99), WarehouseGrid.Id(99, 99), WarehouseGrid.Id(51, 55), "p_0", "c_95" };
        foreach (var from in corners)
        {
            foreach (var to in corners.Where(c => c != from))
                Assert.True(graph.FindRoute(from, to) is not null, $"no route from {from} to {to}");
        }

        // Within one aisle against its direction a robot goes round by the next cross-aisles: 3_4 -> 3_6 (column 3 runs south).
        var round = graph.FindRoute(WarehouseGrid.Id(3, 4), WarehouseGrid.Id(3, 6))!;
        Assert.True(round.Length > 2 * 2.0, $"route of {round.Length} m should go round the aisle block");
    }

    [Fact]
    public void Pickups_and_dropoffs_lie_inside_aisles_and_the_draw_depends_only_on_the_seed()
    {
        var a = WarehouseGrid.Generate(Small);
        var b = WarehouseGrid.Generate(Small);
        var c = WarehouseGrid.Generate(Small with { Seed = 8 });

        var picks = a.Locations.Values.Where(l => l.Kinds.Contains(LocationKind.Pickup) || l.Kinds.Contains(LocationKind.Dropoff)).ToList();
        Assert.Contains(picks, l => l.Kinds.Contains(LocationKind.Pickup));
        Assert.Contains(picks, l => l.Kinds.Contains(LocationKind.Dropoff));
        foreach (var location in picks)
        {
            var y = int.Parse(location.WaypointId.Split('_')[1], System.Globalization.CultureInfo.InvariantCulture);
            Assert.False(WarehouseGrid.IsCrossAisle(Small, y), $"{location.Name} is on cross-aisle row {y}");
        }

        Assert.Equal(a.Locations.Keys.Order(StringComparer.Ordinal), b.Locations.Keys.Order(StringComparer.Ordinal));
        Assert.NotEqual(a.Locations.Keys.Order(StringComparer.Ordinal), c.Locations.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(1, 10, 2.0, 5)]
    [InlineData(10, 1, 2.0, 5)]
    [InlineData(10, 10, 0.0, 5)]
    [InlineData(10, 10, 2.0, 0)]
    public void Rejects_settings_out_of_range(int width, int height, double spacing, int crossEvery)
    {
        var options = new WarehouseGridOptions { Width = width, Height = height, Spacing = spacing, CrossAisleEvery = crossEvery };

        Assert.Throws<ArgumentOutOfRangeException>(() => WarehouseGrid.Generate(options));
    }

    [Fact]
    public void The_shipped_airport_terminal_loads_with_its_lanes_and_locations()
    {
        var map = SiteMapGeoJson.Load(Path.Combine(RepoRoot(), "maps", "airport_terminal"));

        Assert.Equal("airport_terminal", map.Id);
        // The tinyRobot fleet's nav graph (graph_idx 2) alone, lanes split into pieces of at most 3 m (maps/airport_terminal/ATTRIBUTION.md).
        Assert.Equal(447, map.Waypoints.Count);
        Assert.Equal(920, map.Lanes.Count);
        Assert.Equal(60, map.Locations.Count);
        Assert.Equal(30, map.Locations.Values.Count(l => l.Kinds.Contains(LocationKind.Parking)));
        Assert.Equal(8, map.Locations.Values.Count(l => l.Kinds.Contains(LocationKind.Charger)));
        Assert.All(new[] { "charger_tinyRobot_0", "charger_tinyRobot_1", "charger_tinyRobot_2", "charger_tinyRobot_3" }, n => Assert.Contains(n, map.Locations.Keys));
        Assert.DoesNotContain("charger_deliveryRobot_0", map.Locations.Keys);
        // Only the three lanes through doors (not split) are longer than 3 m.
        Assert.Equal(["L1_lane162", "L1_lane162:r", "L1_lane169", "L1_lane169:r", "L1_lane172", "L1_lane172:r"],
            map.Lanes.Where(l => l.Length > 3).Select(l => l.Id).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(map.Warnings, w => w.Rule == "lanes-cross-without-waypoint");
        Assert.True(File.Exists(Path.Combine(RepoRoot(), "maps", "airport_terminal", "LICENSE")));
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RobotFleet.sln")))
                return dir.FullName;
        }

        throw new InvalidOperationException("no RobotFleet.sln above the test binaries");
    }
}
