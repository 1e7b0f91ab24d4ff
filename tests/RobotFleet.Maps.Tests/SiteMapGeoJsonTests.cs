using NetTopologySuite.Geometries;
using RobotFleet.Maps;

namespace RobotFleet.Maps.Tests;

public class SiteMapGeoJsonTests
{
    private const string A = """{"type":"Feature","id":"a","geometry":{"type":"Point","coordinates":[0,0]},"properties":{"type":"waypoint","level":"L1","name":"Alpha"}}""";
    private const string B = """{"type":"Feature","id":"b","geometry":{"type":"Point","coordinates":[10,0]},"properties":{"type":"waypoint","level":"L1"}}""";
    private const string C = """{"type":"Feature","id":"c","geometry":{"type":"Point","coordinates":[10,10]},"properties":{"type":"waypoint","level":"L1"}}""";
    private const string D = """{"type":"Feature","id":"d","geometry":{"type":"Point","coordinates":[0,10]},"properties":{"type":"waypoint","level":"L1"}}""";

    private static string Doc(params string[] features) => Header("""{"version":1,"id":"t","name":"Test","levels":[{"id":"L1","elevation":0},{"id":"L2","elevation":4}]}""", features);

    private static string Header(string robotfleet, params string[] features) =>
        $$"""{"type":"FeatureCollection","robotfleet":{{robotfleet}},"features":[{{string.Join(",", [A, B, C, D, .. features])}}]}""";

    private static string Feature(string id, string geometry, string properties) =>
        $$"""{"type":"Feature","id":"{{id}}","geometry":{{geometry}},"properties":{{properties}}}""";

    private static string LaneAB(string id = "ab", string direction = "two-way", string extra = "") =>
        Feature(id, """{"type":"LineString","coordinates":[[0,0],[10,0]]}""", $$"""{"type":"lane","level":"L1","from":"a","to":"b","direction":"{{direction}}"{{extra}}}""");

    private static SiteMapValidationException Invalid(string geoJson) =>
        Assert.Throws<SiteMapValidationException>(() => SiteMapGeoJson.Parse(geoJson, "inline.geojson"));

    [Fact]
    public void Parses_every_feature_type()
    {
        var map = SiteMapGeoJson.Parse(Doc(
            LaneAB(extra: ""","speedLimit":0.5,"width":1.2"""),
            Feature("bc", """{"type":"LineString","coordinates":[[10,0],[10,10]]}""", """{"type":"lane","level":"L1","from":"b","to":"c","direction":"one-way"}"""),
            Feature("dock", """{"type":"Point","coordinates":[10,10]}""", """{"type":"location","name":"Dock 1","waypoint":"c","kinds":["dock","charger"]}"""),
            Feature("slow", """{"type":"Polygon","coordinates":[[[0,0],[5,0],[5,5],[0,5],[0,0]]]}""", """{"type":"zone","level":"L1","kind":"slow-down","speedLimit":0.3}"""),
            Feature("door1", """{"type":"LineString","coordinates":[[1,1],[2,1]]}""", """{"type":"door","level":"L1","name":"front"}"""),
            Feature("wall1", """{"type":"LineString","coordinates":[[0,-1],[10,-1]]}""", """{"type":"wall","level":"L1"}"""),
            Feature("room1", """{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]]]}""", """{"type":"room","level":"L1"}""")), "inline.geojson");

        Assert.Equal("t", map.Id);
        Assert.Equal("Alpha", map.GetWaypoint("a").Name);
        Assert.Equal(["ab", "ab:r", "bc"], map.Lanes.Select(l => l.Id));
        Assert.Equal(new Lane("ab:r", "b", "a", "L1", 10, 0.5, 1.2), map.FindLane("b", "a"));
        Assert.Null(map.FindLane("c", "b"));
        Assert.True(map.FindLocation("Dock 1")!.Kinds.SetEquals([LocationKind.Dock, LocationKind.Charger]));
        Assert.Equal((ZoneKind.SlowDown, 0.3), (map.Zones[0].Kind, map.Zones[0].SpeedLimit));
        Assert.Equal("front", Assert.Single(map.Doors).Name);
        Assert.Equal([DrawingKind.Wall, DrawingKind.Room], map.Drawings.Select(d => d.Kind));
        Assert.Equal(["bc"], map.OutgoingLanes("b").Where(l => l.ToWaypointId == "c").Select(l => l.Id));
        Assert.Empty(map.OutgoingLanes("nowhere"));
        Assert.Contains("'nowhere'", Assert.Throws<KeyNotFoundException>(() => map.GetWaypoint("nowhere")).Message);
    }

    [Fact]
    public void Write_then_Parse_round_trips_a_map_with_every_feature_type()
    {
        var factory = new GeometryFactory();
        var length = Math.Sqrt((2.875 * 2.875) + (11.5 * 11.5));
        var square = factory.CreatePolygon([new(0, 0), new(4, 0), new(4, 4), new(0, 4), new(0, 0)]);
        var original = new SiteMap(
            "rt", "Round trip",
            [new Level("G", -3.5), new Level("M", 2.25)],
            [new Waypoint("p", "G", 0.125, -7.5, "P"), new Waypoint("q", "G", 3, 4, null), new Waypoint("m", "M", 1, 1, null)],
            [new Lane("pq", "p", "q", "G", length, 0.75, 2), new Lane("pq:r", "q", "p", "G", length, 0.75, 2), new Lane("qp-fast", "q", "p", "G", length, 3, null)],
            [new Location("charger 1", "q", new HashSet<LocationKind> { LocationKind.Charger, LocationKind.Parking }), new Location("named", "m", new HashSet<LocationKind>())],
            [new Zone("z", "G", ZoneKind.KeepOut, square, null)],
            [new Door("d", "main", "G", factory.CreateLineString([new(0, 0), new(1, 0)]))],
            [new Drawing("f", "M", DrawingKind.Floor, square), new Drawing("w", "G", DrawingKind.Wall, factory.CreateLineString([new(0, 0), new(0, 9)]))],
            new GeoAnchor(11.5, 48.1, 30));

        var text = SiteMapGeoJson.Write(original);
        var parsed = SiteMapGeoJson.Parse(text, "written");

        Assert.Equal(original.Levels, parsed.Levels);
        Assert.Equal(original.Waypoints.Values, parsed.Waypoints.Values);
        Assert.Equal(original.Lanes, parsed.Lanes);
        Assert.Equal(original.Locations.Keys, parsed.Locations.Keys);
        Assert.All(parsed.Locations.Values, l => Assert.True(l.Kinds.SetEquals(original.Locations[l.Name].Kinds)));
        Assert.Equal(original.GeoAnchor, parsed.GeoAnchor);
        Assert.True(parsed.Zones[0].Area.EqualsTopologically(square));
        Assert.Equal(original.Drawings.Select(d => (d.Id, d.Kind, d.LevelId)), parsed.Drawings.Select(d => (d.Id, d.Kind, d.LevelId)));
        Assert.Equal(original.Doors.Select(d => (d.Id, d.Name)), parsed.Doors.Select(d => (d.Id, d.Name)));
        Assert.Equal(text, SiteMapGeoJson.Write(parsed));
    }

    [Fact]
    public void A_lane_through_a_door_names_it_both_ways_and_round_trips()
    {
        var map = SiteMapGeoJson.Parse(Doc(
            LaneAB(extra: ",\"door\":\"door1\""),
            Feature("door1", """{"type":"LineString","coordinates":[[5,-1],[5,1]]}""", """{"type":"door","level":"L1","name":"front"}""")), "inline.geojson");

        Assert.Equal("door1", map.FindLane("a", "b")!.DoorId);
        Assert.Equal("door1", map.FindLane("b", "a")!.DoorId);
        var text = SiteMapGeoJson.Write(map);
        Assert.Contains("\"door\": \"door1\"", text);
        Assert.Equal(map.Lanes, SiteMapGeoJson.Parse(text, "written").Lanes);
    }

    private const string U = """{"type":"Feature","id":"u","geometry":{"type":"Point","coordinates":[0,0]},"properties":{"type":"waypoint","level":"L2"}}""";

    private static string Lift(string properties) => Feature("lift1", "null", $$"""{"type":"lift",{{properties}}}""");

    private const string Stops = """ "stops":[{"level":"L1","waypoint":"a","doors":["front"]},{"level":"L2","waypoint":"u"}] """;

    [Fact]
    public void A_lift_links_the_levels_with_a_ride_each_way_and_a_route_rides_it()
    {
        var map = SiteMapGeoJson.Parse(Doc(U, LaneAB(), Lift(Stops + """, "rideSeconds": 25 """)), "inline.geojson");

        var lift = Assert.Single(map.Lifts);
        Assert.Equal([new LiftStop("L1", "a", ["front"]), new LiftStop("L2", "u", [])], lift.Stops, (x, y) => (x.LevelId, x.WaypointId) == (y.LevelId, y.WaypointId) && x.DoorNames.SequenceEqual(y.DoorNames));
        var rides = map.Lanes.Where(l => l.LiftId == "lift1").ToList();
        Assert.Equal([("lift1:L1>L2", "a", "u", "L1", 25.0), ("lift1:L2>L1", "u", "a", "L2", 25.0)], rides.Select(r => (r.Id, r.FromWaypointId, r.ToWaypointId, r.LevelId, r.RideSeconds!.Value)));
        var graph = new RouteGraph(map);
        var route = graph.FindRoute("b", "u");
        Assert.NotNull(route);
        Assert.Equal(["b", "a", "u"], route.WaypointIds);
        Assert.Equal(graph.TravelTime(map.FindLane("b", "a")!) + 25, route.TravelTime, 9);
    }

    [Fact]
    public void Rides_can_be_given_one_by_one_and_a_lift_round_trips()
    {
        var map = SiteMapGeoJson.Parse(Doc(U, LaneAB(), Lift(Stops + """, "rides":[{"from":"L2","to":"L1","seconds":12.5}] """)), "inline.geojson");

        Assert.Equal([("lift1:L2>L1", 12.5)], map.Lanes.Where(l => l.LiftId is not null).Select(l => (l.Id, l.RideSeconds!.Value)));
        var text = SiteMapGeoJson.Write(map);
        var parsed = SiteMapGeoJson.Parse(text, "written");
        Assert.Equal(map.Lanes, parsed.Lanes);
        Assert.Equal(map.Lifts.Single().Stops.Select(s => (s.LevelId, s.WaypointId, string.Join(",", s.DoorNames))),
            parsed.Lifts.Single().Stops.Select(s => (s.LevelId, s.WaypointId, string.Join(",", s.DoorNames))));
        Assert.Equal(text, SiteMapGeoJson.Write(parsed));
    }

    [Theory]
    [InlineData("hotel")]
    [InlineData("clinic")]
    public void An_imported_building_keeps_its_lifts_through_GeoJson_and_routes_across_levels_the_same(string building)
    {
        var imported = RmfBuildingImporter.Import(TestMaps.ShippedBuilding(building));
        var text = SiteMapGeoJson.Write(imported);

        var parsed = SiteMapGeoJson.Parse(text, $"{building}.geojson");

        Assert.Equal(imported.Lifts.Select(l => (l.Id, l.Stops.Count)), parsed.Lifts.Select(l => (l.Id, l.Stops.Count)));
        Assert.Equal(imported.Lanes.Where(l => l.LiftId is not null).Select(l => (l.Id, l.FromWaypointId, l.ToWaypointId, l.RideSeconds)),
            parsed.Lanes.Where(l => l.LiftId is not null).Select(l => (l.Id, l.FromWaypointId, l.ToWaypointId, l.RideSeconds)));
        var (from, to) = (imported.Lifts[0].Stops[0].WaypointId, imported.Lifts[0].Stops[^1].WaypointId);
        Assert.Equal(new RouteGraph(imported).FindRoute(from, to)!.TravelTime, new RouteGraph(parsed).FindRoute(from, to)!.TravelTime, 9);
        Assert.Equal(text, SiteMapGeoJson.Write(parsed));
    }

    public static TheoryData<string, string, string> BrokenLifts => new()
    {
        { Lift(""" "rideSeconds": 20 """), "lift1", "property-missing" },
        { Lift(""" "stops":[{"level":"L1"}], "rideSeconds": 20 """), "lift1", "property-invalid" },
        { Lift(""" "stops":[{"level":"L1","waypoint":"a","doors":"front"}], "rideSeconds": 20 """), "lift1", "property-invalid" },
        { Lift(Stops), "lift1", "property-missing" },
        { Lift(Stops + """, "rideSeconds": 0 """), "lift1", "property-invalid" },
        { Lift(Stops + """, "rides":[{"from":"L1","to":"L3","seconds":5}] """), "lift1", "property-invalid" },
        { Lift(Stops + """, "rides":[{"from":"L1","to":"L2","seconds":-5}] """), "lift1", "property-invalid" },
        { Lift(Stops + """, "rides":[{"from":"L1","to":"L2","seconds":5},{"from":"L1","to":"L2","seconds":6}] """), "lift1", "id-duplicate" },
        { Lift(""" "stops":[{"level":"L1","waypoint":"a"},{"level":"L2","waypoint":"nowhere"}], "rideSeconds": 20 """), "lift1", "lift-stop-invalid" },
        { Lift(""" "stops":[{"level":"L1","waypoint":"a"},{"level":"L1","waypoint":"b"}], "rideSeconds": 20 """), "lift1", "lift-stop-invalid" },
        { Lift(""" "stops":[{"level":"L9","waypoint":"a"}], "rideSeconds": 20 """), "lift1", "level-unknown" },
        // From the review: two stops on a level with rideSeconds made the same rides twice (three problems for one fault);
        // "rideSeconds": null loaded a lift with no rides; a huge rideSeconds named a ride lane instead of the lift; both
        // forms given, rideSeconds was ignored without a word.
        { Lift(""" "stops":[{"level":"L1","waypoint":"a"},{"level":"L1","waypoint":"b"},{"level":"L2","waypoint":"u"}], "rideSeconds": 20 """), "lift1", "lift-stop-invalid" },
        { Lift(Stops + """, "rideSeconds": null """), "lift1", "property-invalid" },
        { Lift(Stops + """, "rideSeconds": 1e308, "rides": [] """), "lift1", "property-invalid" },
    };

    [Fact]
    public void A_ride_time_that_overflows_names_the_lift()
    {
        var three = Header("""{"version":1,"id":"t","levels":[{"id":"L1","elevation":0},{"id":"L2","elevation":4},{"id":"L3","elevation":8}]}""",
            U, Feature("w", """{"type":"Point","coordinates":[0,0]}""", """{"type":"waypoint","level":"L3"}"""),
            Lift(""" "stops":[{"level":"L1","waypoint":"a"},{"level":"L3","waypoint":"w"}], "rideSeconds": 1e308 """));

        var e = Invalid(three);

        Assert.All(e.Problems, p => Assert.Equal(("lift1", "property-invalid"), (p.FeatureId, p.Rule)));
        Assert.Equal(2, e.Problems.Count); // one for each way
    }

    [Fact]
    public void A_level_declared_twice_is_reported_as_such_with_a_lift_on_the_map()
    {
        // Regression (review): the lift's level order was built before the header was checked, and threw ArgumentException.
        var twice = Header("""{"version":1,"id":"t","levels":[{"id":"L1","elevation":0},{"id":"L1","elevation":4},{"id":"L2","elevation":8}]}""",
            U, Lift(Stops + """, "rideSeconds": 20 """));

        Assert.Contains(Invalid(twice).Problems, p => p.Rule == "level-duplicate");
    }

    [Fact]
    public void A_lift_whose_id_is_a_waypoint_id_is_refused_where_the_map_is_made()
    {
        // Review: such a map could be made in code (or imported) but its GeoJSON could not be read back: one id namespace.
        var a = new Waypoint("Lift1", "L1", 0, 0, null);
        var u = new Waypoint("u", "L2", 0, 0, null);
        var e = Assert.Throws<SiteMapValidationException>(() => new SiteMap("m", "m", [new Level("L1", 0), new Level("L2", 4)], [a, u],
            [Lane.Between("Lift1:L1>L2", a, u) with { LiftId = "Lift1", RideSeconds = 10 }], [],
            lifts: [new Lift("Lift1", [new LiftStop("L1", "Lift1", []), new LiftStop("L2", "u", [])])]));
        Assert.Equal(("Lift1", "id-duplicate"), (Assert.Single(e.Problems).FeatureId, e.Problems[0].Rule));

        var empty = Assert.Throws<SiteMapValidationException>(() => new SiteMap("m", "m", [new Level("L1", 0)], [a], [], [], lifts: [new Lift("x", [])]));
        Assert.Equal(("x", "lift-stop-invalid"), (Assert.Single(empty.Problems).FeatureId, empty.Problems[0].Rule));
    }

    [Theory]
    [MemberData(nameof(BrokenLifts))]
    public void Each_lift_rule_names_the_lift_and_the_rule(string lift, string featureId, string rule)
    {
        var e = Invalid(Doc(U, lift));

        var problem = Assert.Single(e.Problems, p => p.Rule == rule);
        Assert.All(e.Problems, p => Assert.Equal(featureId, p.FeatureId)); // a stop on an unknown level is on no waypoint of it either
        Assert.Contains($"'{featureId}'", problem.Message);
        Assert.Contains("inline.geojson", e.Message);
    }

    [Fact]
    public void Imported_office_round_trips_through_GeoJson()
    {
        var office = TestMaps.ImportOffice();
        var text = SiteMapGeoJson.Write(office);

        var parsed = SiteMapGeoJson.Parse(text, "office.geojson");

        Assert.Equal(office.Waypoints.Values, parsed.Waypoints.Values);
        Assert.Equal(office.Lanes.Select(l => (l.Id, l.FromWaypointId, l.ToWaypointId)), parsed.Lanes.Select(l => (l.Id, l.FromWaypointId, l.ToWaypointId)));
        Assert.All(parsed.Lanes, l => Assert.Equal(office.FindLane(l.FromWaypointId, l.ToWaypointId)!.Length, l.Length, 9));
        Assert.Equal(text, SiteMapGeoJson.Write(parsed));
    }

    [Fact]
    public void Load_accepts_a_directory_or_a_file_and_names_a_missing_path()
    {
        var directory = Directory.CreateTempSubdirectory("robotfleet-maps-");
        try
        {
            File.WriteAllText(Path.Combine(directory.FullName, "site.geojson"), Doc(LaneAB()));
            Assert.Equal(2, SiteMapGeoJson.Load(directory.FullName).Lanes.Count);
            Assert.Equal(2, SiteMapGeoJson.Load(Path.Combine(directory.FullName, "site.geojson")).Lanes.Count);

            var missing = Path.Combine(directory.FullName, "nope");
            Assert.Contains(missing, Assert.Throws<FileNotFoundException>(() => SiteMapGeoJson.Load(missing)).Message);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    public static TheoryData<string, string, string> BrokenFeatures => new()
    {
        { """{"type":"Feature","geometry":{"type":"Point","coordinates":[1,1]},"properties":{"type":"waypoint","level":"L1"}}""", "", "id-missing" },
        { Feature("a", """{"type":"Point","coordinates":[1,1]}""", """{"type":"waypoint","level":"L1"}"""), "a", "id-duplicate" },
        { LaneAB("e:r") + "," + Feature("e", """{"type":"LineString","coordinates":[[0,0],[10,0]]}""", """{"type":"lane","level":"L1","from":"a","to":"b","direction":"two-way"}"""), "e:r", "id-duplicate" },
        { Feature("t", """{"type":"Point","coordinates":[1,1]}""", """{"type":"tree","level":"L1"}"""), "t", "type-unknown" },
        { Feature("w", """{"type":"Point","coordinates":[1,1]}""", """{"type":"waypoint","level":"L9"}"""), "w", "level-unknown" },
        { Feature("w", """{"type":"Point","coordinates":[1e999,1]}""", """{"type":"waypoint","level":"L1"}"""), "w", "coordinates-finite" },
        { Feature("w", """{"type":"LineString","coordinates":[[0,0],[1,1]]}""", """{"type":"waypoint","level":"L1"}"""), "w", "geometry-invalid" },
        { Feature("w", "null", """{"type":"waypoint","level":"L1"}"""), "w", "geometry-invalid" },
        { Feature("w", """{"type":"Point","coordinates":[1,1]}""", """{"type":"waypoint"}"""), "w", "property-missing" },
        { LaneAB(direction: "sideways"), "ab", "property-invalid" },
        { LaneAB(extra: ""","speedLimit":-1"""), "ab", "property-invalid" },
        { LaneAB(extra: ",\"door\":\"nodoor\""), "ab", "lane-door-unknown" },
        { Feature("ax", """{"type":"LineString","coordinates":[[0,0],[10,0]]}""", """{"type":"lane","level":"L1","from":"a","to":"x","direction":"one-way"}"""), "ax", "lane-waypoint-unknown" },
        { Feature("ac", """{"type":"LineString","coordinates":[[0,0],[5,5]]}""", """{"type":"lane","level":"L1","from":"a","to":"c","direction":"one-way"}"""), "ac", "lane-endpoint-mismatch" },
        { Feature("abc", """{"type":"LineString","coordinates":[[0,0],[10,0],[10,10]]}""", """{"type":"lane","level":"L1","from":"a","to":"c","direction":"one-way"}"""), "abc", "geometry-invalid" },
        { Feature("u", """{"type":"Point","coordinates":[0,0]}""", """{"type":"waypoint","level":"L2"}""") + "," + Feature("au", """{"type":"LineString","coordinates":[[0,0],[0,0]]}""", """{"type":"lane","level":"L1","from":"a","to":"u","direction":"one-way"}"""), "au", "lane-level-mismatch" },
        { Feature("l", "null", """{"type":"location","name":"x","waypoint":"nope"}"""), "l", "location-waypoint-unknown" },
        { Feature("l", """{"type":"Point","coordinates":[3,3]}""", """{"type":"location","name":"x","waypoint":"a"}"""), "l", "location-position-mismatch" },
        { Feature("l", "null", """{"type":"location","name":"x","waypoint":"a","kinds":["teleporter"]}"""), "l", "property-invalid" },
        { Feature("l1", "null", """{"type":"location","name":"x","waypoint":"a"}""") + "," + Feature("l2", "null", """{"type":"location","name":"x","waypoint":"b"}"""), "l2", "location-name-duplicate" },
        { Feature("z", """{"type":"Polygon","coordinates":[[[0,0],[4,4],[4,0],[0,4],[0,0]]]}""", """{"type":"zone","level":"L1","kind":"keep-out"}"""), "z", "polygon-invalid" },
        { Feature("z", """{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,0]]]}""", """{"type":"zone","level":"L1","kind":"purple"}"""), "z", "property-invalid" },
        { Feature("f", """{"type":"LineString","coordinates":[[0,0],[4,0]]}""", """{"type":"floor","level":"L1"}"""), "f", "geometry-invalid" },
    };

    [Theory]
    [MemberData(nameof(BrokenFeatures))]
    public void Each_rule_names_the_feature_and_the_rule(string features, string featureId, string rule)
    {
        var e = Invalid(Doc(features));

        var problem = Assert.Single(e.Problems);
        Assert.Equal((featureId, rule), (problem.FeatureId, problem.Rule));
        Assert.Contains($"[{rule}]", problem.Message);
        Assert.Contains(featureId.Length > 0 ? $"'{featureId}'" : "#5", problem.Message);
        Assert.Contains("inline.geojson", e.Message);
        Assert.Equal("inline.geojson", e.Source);
    }

    [Fact]
    public void Invalid_polygon_reports_the_NTS_reason_and_where()
    {
        var e = Invalid(Doc(Feature("z", """{"type":"Polygon","coordinates":[[[0,0],[4,4],[4,0],[0,4],[0,0]]]}""", """{"type":"zone","level":"L1","kind":"keep-out"}""")));

        Assert.Contains("Self-intersection at (2, 2)", e.Problems[0].Message);
    }

    [Fact]
    public void All_problems_are_collected_at_once()
    {
        var e = Invalid(Doc(
            Feature("w", """{"type":"Point","coordinates":[1,1]}""", """{"type":"waypoint","level":"L9"}"""),
            Feature("ax", """{"type":"LineString","coordinates":[[0,0],[10,0]]}""", """{"type":"lane","level":"L1","from":"a","to":"x","direction":"one-way"}"""),
            Feature("l", "null", """{"type":"location","name":"x","waypoint":"nope"}""")));

        Assert.Equal(["level-unknown", "lane-waypoint-unknown", "location-waypoint-unknown"], e.Problems.Select(p => p.Rule));
        Assert.All(e.Problems, p => Assert.Contains(p.Message, e.Message));
    }

    [Theory]
    [InlineData("{not json", "json-invalid")]
    [InlineData("""{"type":"FeatureCollection","features":[]}""", "header-invalid")]
    [InlineData("""{"type":"FeatureCollection","robotfleet":{"version":2,"id":"x","levels":[{"id":"L1","elevation":0}]},"features":[]}""", "header-invalid")]
    [InlineData("""{"type":"FeatureCollection","robotfleet":{"version":1,"id":"x","levels":[]},"features":[]}""", "header-invalid")]
    [InlineData("""{"type":"FeatureCollection","robotfleet":{"version":1,"id":"x","levels":[{"id":"L1","elevation":0}],"geoAnchor":{"lon":11,"lat":200}},"features":[]}""", "geo-anchor-invalid")]
    public void File_wide_problems_have_their_own_rules(string geoJson, string rule)
    {
        Assert.Contains(Invalid(geoJson).Problems, p => p.Rule == rule);
    }

    [Fact]
    public void Crossing_lanes_without_a_shared_waypoint_are_a_warning()
    {
        var map = SiteMapGeoJson.Parse(Doc(
            Feature("ac", """{"type":"LineString","coordinates":[[0,0],[10,10]]}""", """{"type":"lane","level":"L1","from":"a","to":"c","direction":"two-way"}"""),
            Feature("bd", """{"type":"LineString","coordinates":[[10,0],[0,10]]}""", """{"type":"lane","level":"L1","from":"b","to":"d","direction":"two-way"}"""),
            LaneAB()), "inline.geojson");

        var warning = Assert.Single(map.Warnings);
        Assert.Equal(("ac", "lanes-cross-without-waypoint"), (warning.FeatureId, warning.Rule));
        Assert.Contains("(5, 5)", warning.Message);
    }

    [Fact]
    public void Constructor_rejects_an_invalid_map_listing_every_problem()
    {
        var e = Assert.Throws<SiteMapValidationException>(() => new SiteMap(
            "m", "M", [new Level("L1", 0)],
            [new Waypoint("a", "L1", 0, 0, null), new Waypoint("a", "L2", double.NaN, 0, null)],
            [new Lane("x", "a", "zz", "L1", 1, 0, null), new Lane("aa", "a", "a", "L1", 2, null, null)],
            [new Location("here", "gone", new HashSet<LocationKind>())]));

        Assert.Equal(
            ["id-duplicate", "level-unknown", "coordinates-finite", "lane-waypoint-unknown", "property-invalid", "lane-length-mismatch", "location-waypoint-unknown"],
            e.Problems.Select(p => p.Rule));
    }
}
