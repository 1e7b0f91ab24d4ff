using System.Text.Json;
using RobotFleet.Maps;

namespace RobotFleet.Maps.Tests;

/// <summary><see cref="RmfImportOptions.NavGraph"/> (one fleet's nav graph) and <see cref="RmfImportOptions.MaxLaneLength"/> (lane splitting).</summary>
public class RmfImportOptionsTests
{
    // Two overlapping fleets' graphs, 7 cm apart, as on the airport terminal: graph 2 (start - v1 - charger, one-way and
    // two-way lanes, a speed limit) and graph 0 (other_start - v4; the lane has no graph_idx, so it is graph 0).
    // lonely is named but on no lane; v8 - v9 is a door across graph 2's first lane at x = 3.
    private const string TwoGraphs = """
        coordinate_system: cartesian_meters
        levels:
          L1:
            elevation: 0
            vertices:
              - [0, 0, 0, start]
              - [10, 0, 0, ""]
              - [10, 4, 0, charger, {is_charger: [4, true], is_parking_spot: [4, true]}]
              - [0, 0.07, 0, other_start]
              - [10, 0.07, 0, ""]
              - [5, 8, 0, lonely]
              - [10, 9, 0, ""]
              - [10, 9.4, 0, ""]
              - [3, -1, 0, ""]
              - [3, 1, 0, ""]
            lanes:
              - [0, 1, {bidirectional: [4, true], graph_idx: [2, 2], speed_limit: [3, 0.5]}]
              - [1, 2, {bidirectional: [4, true], graph_idx: [2, 2], speed_limit: [3, 0]}]
              - [3, 4, {bidirectional: [4, true]}]
              - [2, 6, {bidirectional: [4, false], graph_idx: [2, 2]}]
              - [6, 7, {bidirectional: [4, true], graph_idx: [2, 2]}]
        """;

    private const string Door = """
            doors:
              - [8, 9, {name: [1, gate], type: [1, hinged]}]
        """;

    private static SiteMap Import(RmfImportOptions options, string yaml = TwoGraphs) =>
        RmfBuildingImporter.Import(new StringReader(yaml), "two_graphs.building.yaml", "two_graphs", options);

    [Fact]
    public void A_chosen_graph_keeps_only_its_lanes_and_the_waypoints_they_use()
    {
        var graph2 = Import(new RmfImportOptions { NavGraph = 2 });
        var graph0 = Import(new RmfImportOptions { NavGraph = 0 });
        var all = Import(new RmfImportOptions());

        Assert.Equal(["L1_lane0", "L1_lane0:r", "L1_lane1", "L1_lane1:r", "L1_lane3", "L1_lane4", "L1_lane4:r"], graph2.Lanes.Select(l => l.Id));
        Assert.Equal(["L1_v1", "L1_v6", "L1_v7", "charger", "start"], graph2.Waypoints.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["charger", "start"], graph2.Locations.Keys.Order(StringComparer.Ordinal));
        // A lane without graph_idx is graph 0.
        Assert.Equal(["L1_lane2", "L1_lane2:r"], graph0.Lanes.Select(l => l.Id));
        Assert.Equal(["L1_v4", "other_start"], graph0.Waypoints.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["other_start"], graph0.Locations.Keys);
        Assert.Empty(graph2.Warnings);
        // Merged, the two graphs' lanes overlap and the named vertex on no lane is a location.
        Assert.Equal(9, all.Lanes.Count);
        Assert.Contains("lonely", all.Locations.Keys);
    }

    [Fact]
    public void A_graph_no_lane_is_on_is_an_error_naming_the_graphs_of_the_file()
    {
        var e = Assert.Throws<SiteMapValidationException>(() => Import(new RmfImportOptions { NavGraph = 1 }));

        var problem = Assert.Single(e.Problems);
        Assert.Equal("rmf-nav-graph", problem.Rule);
        Assert.Contains("nav graph 1", problem.Message);
        Assert.Contains("0, 2", problem.Message);
        Assert.Contains("two_graphs.building.yaml", e.Message);
    }

    [Fact]
    public void Hotel_and_clinic_keep_the_lifts_their_chosen_graph_reaches()
    {
        // Hotel: graph 2 (deliverybot) and graph 0 reach both lifts on all three levels; graph 1 (cleanerbot) stays on L1.
        var delivery = RmfBuildingImporter.Import(TestMaps.ShippedBuilding("hotel"), new RmfImportOptions { NavGraph = 2 });
        var cleaner = RmfBuildingImporter.Import(TestMaps.ShippedBuilding("hotel"), new RmfImportOptions { NavGraph = 1 });
        // Clinic graph 0 reaches lift_1 and lift_25; lift_2 and lift_24 have no lane to their cabins on any graph.
        var clinic = RmfBuildingImporter.Import(TestMaps.ShippedBuilding("clinic"), new RmfImportOptions { NavGraph = 0 });

        Assert.Equal(["Lift1", "Lift2"], delivery.Lifts.Select(l => l.Id));
        Assert.All(delivery.Lifts, lift => Assert.Equal(["L1", "L2", "L3"], lift.Stops.Select(s => s.LevelId)));
        Assert.Equal(12, delivery.Lanes.Count(l => l.LiftId is not null));
        var route = new RouteGraph(delivery).FindRoute("deliverybot_charger", "L3_room1");
        Assert.NotNull(route);
        Assert.Single(route.Lanes, l => l.LiftId is not null);
        Assert.Contains("deliverybot_charger", delivery.Locations.Keys);
        Assert.DoesNotContain("tinybot_charger", delivery.Locations.Keys);

        Assert.Empty(cleaner.Lifts);
        Assert.Equal(["Lift1", "Lift2"], cleaner.Warnings.Where(w => w.Rule == "rmf-lift-off-graph").Select(w => w.FeatureId));
        Assert.DoesNotContain(cleaner.Locations.Values, l => l.Kinds.Contains(LocationKind.Lift));

        Assert.Equal(["lift_1", "lift_25"], clinic.Lifts.Select(l => l.Id).Order(StringComparer.Ordinal));
        Assert.NotNull(new RouteGraph(clinic).FindRoute("L1_left_nurse_center", "L2_right_nurse_center"));
    }

    [Fact]
    public void Long_lanes_split_into_equal_pieces_no_longer_than_the_maximum()
    {
        var whole = Import(new RmfImportOptions { NavGraph = 2 });
        var split = Import(new RmfImportOptions { NavGraph = 2, MaxLaneLength = 3 });

        // 10 m -> 4 pieces of 2.5 m; 4 m -> 2 of 2 m; the one-way 5 m lane -> 2 of 2.5 m; 0.4 m stays.
        Assert.Equal(
            ["L1_lane0_p1", "L1_lane0_p1:r", "L1_lane0_p2", "L1_lane0_p2:r", "L1_lane0_p3", "L1_lane0_p3:r", "L1_lane0_p4", "L1_lane0_p4:r",
             "L1_lane1_p1", "L1_lane1_p1:r", "L1_lane1_p2", "L1_lane1_p2:r", "L1_lane3_p1", "L1_lane3_p2", "L1_lane4", "L1_lane4:r"],
            split.Lanes.Select(l => l.Id));
        Assert.All(split.Lanes, l => Assert.True(l.Length <= 3, $"{l.Id}: {l.Length} m"));
        Assert.Equal(whole.Lanes.Sum(l => l.Length), split.Lanes.Sum(l => l.Length), 6);

        // The inserted waypoints lie on the lane, unnamed and without locations; both directions use them.
        Assert.Equal([(2.5, 0), (5, 0), (7.5, 0)], new[] { "L1_lane0_1", "L1_lane0_2", "L1_lane0_3" }.Select(id => (split.GetWaypoint(id).X, split.GetWaypoint(id).Y)));
        Assert.All(new[] { "L1_lane0_1", "L1_lane0_2", "L1_lane0_3", "L1_lane1_1", "L1_lane3_1" }, id =>
        {
            Assert.Null(split.GetWaypoint(id).Name);
            Assert.Equal("L1", split.GetWaypoint(id).LevelId);
        });
        Assert.Equal(whole.Locations.Keys.Order(), split.Locations.Keys.Order());
        Assert.Equal(whole.Waypoints.Count + 3 + 1 + 1, split.Waypoints.Count);
        Assert.Equal(("L1_lane0_2", "L1_lane0_1"), (split.Lanes.Single(l => l.Id == "L1_lane0_p2:r").FromWaypointId, split.Lanes.Single(l => l.Id == "L1_lane0_p2:r").ToWaypointId));
        Assert.Equal(("L1_lane0_1", "L1_lane0_2"), (split.Lanes.Single(l => l.Id == "L1_lane0_p2").FromWaypointId, split.Lanes.Single(l => l.Id == "L1_lane0_p2").ToWaypointId));
        Assert.Null(split.FindLane("L1_lane3_1", "L1_v2")); // one-way stays one-way

        // Speed limits carry over to every piece, both ways.
        Assert.All(split.Lanes.Where(l => l.Id.StartsWith("L1_lane0_", StringComparison.Ordinal)), l => Assert.Equal(0.5, l.SpeedLimit));
        Assert.All(split.Lanes.Where(l => !l.Id.StartsWith("L1_lane0_", StringComparison.Ordinal)), l => Assert.Null(l.SpeedLimit));
        Assert.Equal(10 / 0.5, new RouteGraph(split).FindRoute("start", "L1_v1")!.TravelTime, 6);
    }

    [Fact]
    public void No_piece_is_longer_than_the_maximum_after_rounding_to_micrometres()
    {
        // The midpoint of this lane is rounded to the micrometre in x, which makes one half a little longer than half the lane.
        const string yaml = """
            coordinate_system: cartesian_meters
            levels:
              L1:
                elevation: 0
                vertices:
                  - [0, 0, 0, a]
                  - [4.000001, 3, 0, b]
                lanes:
                  - [0, 1, {bidirectional: [4, true]}]
            """;
        var whole = Import(new RmfImportOptions(), yaml).Lanes[0].Length;

        var split = Import(new RmfImportOptions { MaxLaneLength = whole / 2 }, yaml);

        Assert.All(split.Lanes, l => Assert.True(l.Length <= whole / 2, $"{l.Id}: {l.Length} m > {whole / 2} m"));
        Assert.Equal(3 * 2, split.Lanes.Count);
    }

    [Fact]
    public void A_lift_the_chosen_graph_reaches_on_one_level_still_stops_at_its_cabin_on_every_level()
    {
        // Graph 1 reaches lift L's cabin on L1 only; graph 0 reaches it nowhere. Lift M is on no graph.
        const string yaml = """
            coordinate_system: cartesian_meters
            levels:
              L1:
                elevation: 0
                vertices:
                  - [0, 0, 0, dock]
                  - [5, 0, 0, "", {lift_cabin: [1, L]}]
                  - [0, 5, 0, desk]
                  - [5, 5, 0, ""]
                  - [9, 9, 0, "", {lift_cabin: [1, M]}]
                lanes:
                  - [0, 1, {bidirectional: [4, true], graph_idx: [2, 1]}]
                  - [2, 3, {bidirectional: [4, true], graph_idx: [2, 0]}]
              L2:
                elevation: 4
                vertices:
                  - [5, 0, 0, "", {lift_cabin: [1, L]}]
                  - [9, 9, 0, "", {lift_cabin: [1, M]}]
            lifts:
              L: {lowest_floor: L1, highest_floor: L2}
              M: {lowest_floor: L1, highest_floor: L2}
            """;

        var graph1 = Import(new RmfImportOptions { NavGraph = 1 }, yaml);
        var graph0 = Import(new RmfImportOptions { NavGraph = 0 }, yaml);

        var lift = Assert.Single(graph1.Lifts);
        Assert.Equal("L", lift.Id);
        Assert.Equal(["L1", "L2"], lift.Stops.Select(s => s.LevelId));
        Assert.Equal(["L1_v1", "L2_v0", "dock"], graph1.Waypoints.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["L@L1", "L@L2", "dock"], graph1.Locations.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["M"], graph1.Warnings.Where(w => w.Rule == "rmf-lift-off-graph").Select(w => w.FeatureId));
        Assert.Empty(graph0.Lifts);
        Assert.Equal(["L1_v3", "desk"], graph0.Waypoints.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_lane_through_a_door_is_not_split()
    {
        var map = Import(new RmfImportOptions { NavGraph = 2, MaxLaneLength = 3 }, TwoGraphs + "\n" + Door);

        var throughDoor = map.Lanes.Where(l => l.DoorId is not null).ToList();
        Assert.Equal(["L1_lane0", "L1_lane0:r"], throughDoor.Select(l => l.Id));
        Assert.All(throughDoor, l => Assert.Equal(10, l.Length, 6));
        Assert.DoesNotContain(map.Waypoints.Keys, id => id.StartsWith("L1_lane0_", StringComparison.Ordinal));
        Assert.Contains(map.Lanes, l => l.Id == "L1_lane1_p2");
    }

    [Fact]
    public void A_split_map_reads_back_from_GeoJSON_with_the_same_lanes_and_two_way_pieces()
    {
        var split = Import(new RmfImportOptions { NavGraph = 2, MaxLaneLength = 3 });

        var geoJson = SiteMapGeoJson.Write(split);
        var reloaded = SiteMapGeoJson.Parse(geoJson, "two_graphs.geojson");

        Assert.Equal(split.Lanes, reloaded.Lanes);
        Assert.Equal(split.Waypoints.Values, reloaded.Waypoints.Values);
        Assert.Equal(geoJson, SiteMapGeoJson.Write(reloaded));
        // A two-way lane's pieces are written once each, as two-way features.
        var directions = JsonDocument.Parse(geoJson).RootElement.GetProperty("features").EnumerateArray()
            .Where(f => f.GetProperty("properties").GetProperty("type").GetString() == "lane")
            .ToDictionary(f => f.GetProperty("id").GetString()!, f => f.GetProperty("properties").GetProperty("direction").GetString());
        Assert.Equal("two-way", directions["L1_lane0_p3"]);
        Assert.Equal("one-way", directions["L1_lane3_p1"]);
        Assert.Equal(4 + 2 + 2 + 1, directions.Count);
    }

    [Theory]
    [InlineData(0.49)]
    [InlineData(0)]
    [InlineData(-3)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_maximum_lane_length_under_half_a_metre_or_not_finite_is_refused_naming_the_setting(double max)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Import(new RmfImportOptions { MaxLaneLength = max }));

        Assert.Contains(nameof(RmfImportOptions.MaxLaneLength), e.Message);
        Assert.NotNull(Import(new RmfImportOptions { MaxLaneLength = 0.5 }));
    }
}
