using RobotFleet.Maps;

namespace RobotFleet.Maps.Tests;

/// <summary>Lifts and doors from the Open-RMF hotel and clinic shipped in maps/ (unmodified rmf_demos files).</summary>
public class MultiLevelRoutingTests
{
    private static readonly SiteMap Hotel = RmfBuildingImporter.Import(TestMaps.ShippedBuilding("hotel"));
    private static readonly SiteMap Clinic = RmfBuildingImporter.Import(TestMaps.ShippedBuilding("clinic"));

    [Fact]
    public void Hotel_has_three_levels_two_lifts_serving_all_of_them_and_nineteen_doors()
    {
        Assert.Equal(["L1", "L2", "L3"], Hotel.Levels.Select(l => l.Id));
        Assert.Equal(["Lift1", "Lift2"], Hotel.Lifts.Select(l => l.Id));
        Assert.All(Hotel.Lifts, lift => Assert.Equal(["L1", "L2", "L3"], lift.Stops.Select(s => s.LevelId)));
        Assert.All(Hotel.Lifts.Single(l => l.Id == "Lift1").Stops, stop => Assert.Equal(["lift1_door"], stop.DoorNames));
        Assert.Equal(5 + 7 + 7, Hotel.Doors.Count);
        // Every stop is the lift_cabin vertex of its level, which is also a Lift location.
        Assert.All(Hotel.Lifts.SelectMany(l => l.Stops, (l, s) => (l, s)), x =>
        {
            Assert.Equal(x.s.LevelId, Hotel.GetWaypoint(x.s.WaypointId).LevelId);
            Assert.Contains(LocationKind.Lift, Hotel.FindLocation($"{x.l.Id}@{x.s.LevelId}")!.Kinds);
        });
        // A ride between every two stops of a lift: 3 x 2 directed rides per lift.
        Assert.Equal(12, Hotel.Lanes.Count(l => l.LiftId is not null));
        Assert.DoesNotContain(Hotel.Warnings, w => w.Rule.StartsWith("rmf-lift", StringComparison.Ordinal));
    }

    [Fact]
    public void Clinic_has_two_levels_four_lifts_and_the_doors_of_its_file()
    {
        Assert.Equal([new Level("L1", 0), new Level("L2", 10)], Clinic.Levels);
        Assert.Equal(["lift_1", "lift_2", "lift_24", "lift_25"], Clinic.Lifts.Select(l => l.Id).Order(StringComparer.Ordinal));
        Assert.All(Clinic.Lifts, lift => Assert.Equal(["L1", "L2"], lift.Stops.Select(s => s.LevelId)));
        Assert.Equal(["name"], Clinic.Lifts.Single(l => l.Id == "lift_2").Stops[0].DoorNames);
        Assert.Equal(76 + 56, Clinic.Doors.Count);
        Assert.Equal(4 * 2, Clinic.Lanes.Count(l => l.LiftId is not null));
    }

    [Fact]
    public void A_hotel_route_from_L1_to_L3_rides_a_lift_and_takes_its_ride_time()
    {
        var hotel = RmfBuildingImporter.Import(TestMaps.ShippedBuilding("hotel"), new RmfImportOptions { LiftRideSeconds = 45 });
        var graph = new RouteGraph(hotel);

        var route = graph.FindRoute("lobby", "L3_room1");

        Assert.NotNull(route);
        var ride = Assert.Single(route.Lanes, l => l.LiftId is not null);
        var lift = hotel.Lifts.Single(l => l.Id == ride.LiftId);
        Assert.Equal((lift.Stops[0].WaypointId, lift.Stops[2].WaypointId), (ride.FromWaypointId, ride.ToWaypointId));
        Assert.Contains(lift.Stops[0].WaypointId, route.WaypointIds);
        Assert.Contains(lift.Stops[2].WaypointId, route.WaypointIds);
        Assert.Equal(2 * 45, ride.RideSeconds);
        Assert.Equal(2 * 45, graph.TravelTime(ride, maxSpeed: 0.1));
        var driven = route.Lanes.Where(l => l.LiftId is null).Sum(l => l.Length / 1.0);
        Assert.Equal(driven + 90, route.TravelTime, 9);
        Assert.Equal(["L1", "L3"], route.WaypointIds.Select(id => hotel.GetWaypoint(id).LevelId).Distinct());
    }

    [Fact]
    public void The_default_ride_time_is_per_level_travelled()
    {
        var rides = Hotel.Lanes.Where(l => l.LiftId == "Lift2").ToDictionary(l => l.Id);

        Assert.Equal(RmfImportOptions.DefaultLiftRideSeconds, rides["Lift2:L1>L2"].RideSeconds);
        Assert.Equal(2 * RmfImportOptions.DefaultLiftRideSeconds, rides["Lift2:L3>L1"].RideSeconds);
        Assert.Equal("L3", rides["Lift2:L3>L1"].LevelId);
    }

    [Fact]
    public void A_clinic_route_from_L1_to_L2_goes_through_a_lift()
    {
        var graph = new RouteGraph(Clinic);

        var route = graph.FindRoute("L1_left_nurse_center", "L2_right_nurse_center");

        Assert.NotNull(route);
        var ride = Assert.Single(route.Lanes, l => l.LiftId is not null);
        Assert.Contains(ride.LiftId, new[] { "lift_1", "lift_25" }); // the two lifts with lanes to their cabins
        Assert.Equal(RmfImportOptions.DefaultLiftRideSeconds, ride.RideSeconds);
    }

    [Fact]
    public void A_lane_through_a_door_names_it()
    {
        // Hotel L1 lane 47 runs into the kitchen through the fourth door of L1 (index 3, named L1_door4).
        var lane = Hotel.Lanes.Single(l => l.Id == "L1_lane47");
        var door = Hotel.Doors.Single(d => d.Id == lane.DoorId);

        Assert.Equal(("L1_door3", "L1_door4", "L1"), (door.Id, door.Name, door.LevelId));
        Assert.Equal("kitchen", lane.ToWaypointId);
        Assert.Null(Hotel.Lanes.Single(l => l.Id == "L1_lane46").DoorId);
        Assert.All(Hotel.Lanes.Concat(Clinic.Lanes).Where(l => l.DoorId is not null), l =>
        {
            var map = Hotel.Lanes.Contains(l) ? Hotel : Clinic;
            var (a, b) = (map.GetWaypoint(l.FromWaypointId), map.GetWaypoint(l.ToWaypointId));
            var line = new NetTopologySuite.Geometries.GeometryFactory().CreateLineString([new(a.X, a.Y), new(b.X, b.Y)]);
            Assert.True(map.Doors.Single(d => d.Id == l.DoorId).Span.Intersects(line), l.Id);
        });
        Assert.Equal(6, Hotel.Lanes.Where(l => l.DoorId is not null).Select(l => l.DoorId).Distinct().Count());
        Assert.Equal(13, Clinic.Lanes.Where(l => l.DoorId is not null).Select(l => l.DoorId).Distinct().Count());
    }

    [Fact]
    public void A_ride_of_an_unknown_lift_or_a_lane_through_an_unknown_door_is_rejected()
    {
        var a = new Waypoint("a", "L1", 0, 0, null);
        var b = new Waypoint("b", "L2", 0, 0, null);
        var c = new Waypoint("c", "L1", 5, 0, null);
        Lane[] lanes =
        [
            Lane.Between("ride", a, b) with { LiftId = "nolift", RideSeconds = 10 },
            Lane.Between("ac", a, c) with { DoorId = "nodoor" },
            Lane.Between("ca", c, a) with { RideSeconds = 3 },
        ];

        var e = Assert.Throws<SiteMapValidationException>(() =>
            new SiteMap("m", "m", [new Level("L1", 0), new Level("L2", 4)], [a, b, c], lanes, []));

        Assert.Equal(
            [("ac", "lane-door-unknown"), ("ca", "property-invalid"), ("ride", "lift-unknown")],
            e.Problems.Select(p => (p.FeatureId, p.Rule)).Order());
    }

    [Fact]
    public void A_lift_ride_between_its_stops_is_valid_and_routable_at_any_robot_speed()
    {
        var a = new Waypoint("a", "L1", 0, 0, null);
        var b = new Waypoint("b", "L2", 1, 0, null);
        var lift = new Lift("lift", [new LiftStop("L1", "a", ["d"]), new LiftStop("L2", "b", ["d"])]);
        var map = new SiteMap("m", "m", [new Level("L1", 0), new Level("L2", 4)], [a, b],
            [Lane.Between("up", a, b) with { LiftId = "lift", RideSeconds = 12 }], [], lifts: [lift]);

        Assert.Equal(12, new RouteGraph(map).FindRoute("a", "b", maxSpeed: 0.01)!.TravelTime, 9);
        Assert.Null(new RouteGraph(map).FindRoute("b", "a"));
    }

    [Fact]
    public void GeoJSON_of_a_multi_level_map_keeps_its_lifts_and_rides()
    {
        // Until 2026-12-01 the GeoJSON format had no lifts: the hotel read back with its levels unlinked.
        var reloaded = SiteMapGeoJson.Parse(SiteMapGeoJson.Write(Hotel), "hotel.geojson");

        Assert.Equal(Hotel.Lanes.Count, reloaded.Lanes.Count);
        Assert.Equal(["Lift1", "Lift2"], reloaded.Lifts.Select(l => l.Id));
        Assert.Equal(Hotel.Waypoints.Count, reloaded.Waypoints.Count);
        Assert.NotNull(new RouteGraph(reloaded).FindRoute("lobby", "L3_room1"));
    }

    [Fact]
    public void A_vertex_named_like_a_lift_does_not_take_the_lift_id_and_the_GeoJSON_reads_back()
    {
        // Regression (review): a vertex named "Lift1" became waypoint "Lift1", the lift's id too; the import loaded, but
        // its GeoJSON (one id namespace) was refused with id-duplicate.
        var yaml = File.ReadAllText(TestMaps.ShippedBuilding("hotel"))
            .Replace("- [355, 340, 0, \"\", {lift_cabin: [1, Lift1]}]", "- [355, 340, 0, \"Lift1\", {lift_cabin: [1, Lift1]}]", StringComparison.Ordinal);
        var hotel = RmfBuildingImporter.Import(new StringReader(yaml), "hotel.building.yaml", "hotel");

        var cabin = Assert.Single(hotel.Waypoints.Values, w => w.Name == "Lift1");
        Assert.NotEqual("Lift1", cabin.Id);
        Assert.Equal(["Lift1", "Lift2"], SiteMapGeoJson.Parse(SiteMapGeoJson.Write(hotel), "hotel.geojson").Lifts.Select(l => l.Id));
    }

    [Fact]
    public void Lift_ride_time_must_be_positive()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            RmfBuildingImporter.Import(TestMaps.ShippedBuilding("hotel"), new RmfImportOptions { LiftRideSeconds = 0 }));
    }
}
