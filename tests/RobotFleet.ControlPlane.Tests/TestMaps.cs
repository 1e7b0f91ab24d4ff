using RobotFleet.Maps;

namespace RobotFleet.ControlPlane.Tests;

/// <summary>Small inline GeoJSON maps (the shipped format) and the shipped office map.</summary>
internal static class TestMaps
{
    /// <summary>
    /// Corridor A(0,0) - B(5,0) - C(10,0) - D(15,0), two-way, with a parking spur S(5,4) off B.
    /// Locations: a, b, c, d at their waypoints; spur (parking) at S.
    /// </summary>
    public static SiteMap Corridor() => FromGeoJson(
        Waypoint("A", 0, 0), Waypoint("B", 5, 0), Waypoint("C", 10, 0), Waypoint("D", 15, 0), Waypoint("S", 5, 4),
        Lane("A", 0, 0, "B", 5, 0), Lane("B", 5, 0, "C", 10, 0), Lane("C", 10, 0, "D", 15, 0), Lane("B", 5, 0, "S", 5, 4),
        Location("a", "A", 0, 0, "pickup", "dropoff"), Location("b", "B", 5, 0, "pickup"), Location("c", "C", 10, 0, "dropoff"),
        Location("d", "D", 15, 0, "pickup", "dropoff"), Location("spur", "S", 5, 4, "parking"));

    /// <summary>
    /// T-junction: bar W0(0,0) - W1(5,0) - W2(10,0) - W3(15,0), stem W2 - T(10,-5) (parking).
    /// Locations: w0, w3, t.
    /// </summary>
    public static SiteMap TJunction() => FromGeoJson(
        Waypoint("W0", 0, 0), Waypoint("W1", 5, 0), Waypoint("W2", 10, 0), Waypoint("W3", 15, 0), Waypoint("T", 10, -5),
        Lane("W0", 0, 0, "W1", 5, 0), Lane("W1", 5, 0, "W2", 10, 0), Lane("W2", 10, 0, "W3", 15, 0), Lane("W2", 10, 0, "T", 10, -5),
        Location("w0", "W0", 0, 0, "pickup"), Location("w3", "W3", 15, 0, "dropoff"), Location("t", "T", 10, -5, "parking"));

    /// <summary>The corridor A - B - C - D with a bypass B - E(10,4) - D round C. Locations: a, d.</summary>
    public static SiteMap CorridorWithBypass() => FromGeoJson(
        Waypoint("A", 0, 0), Waypoint("B", 5, 0), Waypoint("C", 10, 0), Waypoint("D", 15, 0), Waypoint("E", 10, 4),
        Lane("A", 0, 0, "B", 5, 0), Lane("B", 5, 0, "C", 10, 0), Lane("C", 10, 0, "D", 15, 0), Lane("B", 5, 0, "E", 10, 4), Lane("E", 10, 4, "D", 15, 0),
        Location("a", "A", 0, 0, "pickup"), Location("d", "D", 15, 0, "dropoff"));

    /// <summary>The map of <see cref="CorridorWithBypass"/> with a door (door1) on the bypass's first lane, B - E.</summary>
    public static SiteMap CorridorWithDoorOnBypass() => FromGeoJson(
        Waypoint("A", 0, 0), Waypoint("B", 5, 0), Waypoint("C", 10, 0), Waypoint("D", 15, 0), Waypoint("E", 10, 4),
        Lane("A", 0, 0, "B", 5, 0), Lane("B", 5, 0, "C", 10, 0), Lane("C", 10, 0, "D", 15, 0),
        Lane("B", 5, 0, "E", 10, 4).Replace("\"direction\"", "\"door\": \"door1\", \"direction\""), Lane("E", 10, 4, "D", 15, 0),
        """{ "type": "Feature", "id": "door1", "geometry": { "type": "LineString", "coordinates": [[7.5, 1], [7.5, 3]] }, "properties": { "type": "door", "level": "L1", "name": "bypass_door" } }""",
        Location("a", "A", 0, 0, "pickup"), Location("d", "D", 15, 0, "dropoff"));

    /// <summary>
    /// A loop: A(0,0) - B(5,0) - C(10,0) - D(15,0) along the bottom, H(0,5) - E(5,5) - F(10,5) - P(15,5) along the top,
    /// rungs A-H, B-E, C-F, D-P, and a one-way spur D -> Q(20,0). Locations: a, b, c, d (pickup, dropoff), ch (charger at H),
    /// p1 (parking at P), q (at Q). Zone z1 covers E and F.
    /// </summary>
    public static SiteMap Yard() => FromGeoJson(
        Waypoint("A", 0, 0), Waypoint("B", 5, 0), Waypoint("C", 10, 0), Waypoint("D", 15, 0),
        Waypoint("H", 0, 5), Waypoint("E", 5, 5), Waypoint("F", 10, 5), Waypoint("P", 15, 5), Waypoint("Q", 20, 0),
        Lane("A", 0, 0, "B", 5, 0), Lane("B", 5, 0, "C", 10, 0), Lane("C", 10, 0, "D", 15, 0),
        Lane("H", 0, 5, "E", 5, 5), Lane("E", 5, 5, "F", 10, 5), Lane("F", 10, 5, "P", 15, 5),
        Lane("A", 0, 0, "H", 0, 5), Lane("B", 5, 0, "E", 5, 5), Lane("C", 10, 0, "F", 10, 5), Lane("D", 15, 0, "P", 15, 5),
        Lane("D", 15, 0, "Q", 20, 0, "one-way"),
        Location("a", "A", 0, 0, "pickup", "dropoff"), Location("b", "B", 5, 0, "pickup", "dropoff"), Location("c", "C", 10, 0, "pickup", "dropoff"),
        Location("d", "D", 15, 0, "pickup", "dropoff"), Location("ch", "H", 0, 5, "charger"), Location("p1", "P", 15, 5, "parking"),
        Location("q", "Q", 20, 0, "dropoff"),
        """{ "type": "Feature", "id": "z1", "geometry": { "type": "Polygon", "coordinates": [[[4, 4], [11, 4], [11, 6], [4, 6], [4, 4]]] }, "properties": { "type": "zone", "level": "L1", "kind": "exclusive" } }""");

    /// <summary>A line L0(0,0) - L1(1,0) - L2(5,0) - L3(11,0) with locations l0..l3 (pickup, dropoff): uneven gaps for assignment tests.</summary>
    public static SiteMap Line() => FromGeoJson(
        Waypoint("L0", 0, 0), Waypoint("L1", 1, 0), Waypoint("L2", 5, 0), Waypoint("L3", 11, 0),
        Lane("L0", 0, 0, "L1", 1, 0), Lane("L1", 1, 0, "L2", 5, 0), Lane("L2", 5, 0, "L3", 11, 0),
        Location("l0", "L0", 0, 0, "pickup", "dropoff"), Location("l1", "L1", 1, 0, "pickup", "dropoff"),
        Location("l2", "L2", 5, 0, "pickup", "dropoff"), Location("l3", "L3", 11, 0, "pickup", "dropoff"));

    /// <summary>Corridor A - B - C - D - E (5 m apart, two-way) with a spur F(15,4) off D. Locations a, e, f at their waypoints, d at D.</summary>
    public static SiteMap LongCorridor() => FromGeoJson(
        Waypoint("A", 0, 0), Waypoint("B", 5, 0), Waypoint("C", 10, 0), Waypoint("D", 15, 0), Waypoint("E", 20, 0), Waypoint("F", 15, 4),
        Lane("A", 0, 0, "B", 5, 0), Lane("B", 5, 0, "C", 10, 0), Lane("C", 10, 0, "D", 15, 0), Lane("D", 15, 0, "E", 20, 0), Lane("D", 15, 0, "F", 15, 4),
        Location("a", "A", 0, 0, "pickup"), Location("d", "D", 15, 0, "pickup"), Location("e", "E", 20, 0, "dropoff"), Location("f", "F", 15, 4, "dropoff"));

    /// <summary>
    /// A loop A(0,0) - B(5,0) - C(10,0) - D(10,5) - E(5,5) - F(0,5) - A, 5 m lanes, two-way, with a dead-end room off B:
    /// B - R1(5,-5) - R2(5,-10), entered and left only through B. Locations a, c, e, r2 (pickup, dropoff) at their waypoints.
    /// </summary>
    public static SiteMap LoopWithRoom() => FromGeoJson(
        Waypoint("A", 0, 0), Waypoint("B", 5, 0), Waypoint("C", 10, 0), Waypoint("D", 10, 5), Waypoint("E", 5, 5), Waypoint("F", 0, 5),
        Waypoint("R1", 5, -5), Waypoint("R2", 5, -10),
        Lane("A", 0, 0, "B", 5, 0), Lane("B", 5, 0, "C", 10, 0), Lane("C", 10, 0, "D", 10, 5), Lane("D", 10, 5, "E", 5, 5),
        Lane("E", 5, 5, "F", 0, 5), Lane("F", 0, 5, "A", 0, 0), Lane("B", 5, 0, "R1", 5, -5), Lane("R1", 5, -5, "R2", 5, -10),
        Location("a", "A", 0, 0, "pickup", "dropoff"), Location("c", "C", 10, 0, "pickup", "dropoff"),
        Location("e", "E", 5, 5, "pickup", "dropoff"), Location("r2", "R2", 5, -10, "pickup", "dropoff"));

    /// <summary>
    /// A loop p0(-7,0) - p1(-4,0) - p2(-1.2,0) - A(0,0) - p3(4,0) - p4(4,8) - p5(-7,8) - p0, two-way, with a spur to C(0.9,-0.9)
    /// off A standing so close to A and p2 that a robot in C keeps a robot on p2 off A and the other way round (the office's
    /// charger spur off <c>patrol_A1</c>, scaled). No locations: missions name waypoints.
    /// </summary>
    public static SiteMap LoopWithCloseSpur() => FromGeoJson(
        Waypoint("p0", -7, 0), Waypoint("p1", -4, 0), Waypoint("p2", -1.2, 0), Waypoint("A", 0, 0), Waypoint("C", 0.9, -0.9),
        Waypoint("p3", 4, 0), Waypoint("p4", 4, 8), Waypoint("p5", -7, 8),
        Lane("p0", -7, 0, "p1", -4, 0), Lane("p1", -4, 0, "p2", -1.2, 0), Lane("p2", -1.2, 0, "A", 0, 0), Lane("A", 0, 0, "p3", 4, 0),
        Lane("p3", 4, 0, "p4", 4, 8), Lane("p4", 4, 8, "p5", -7, 8), Lane("p5", -7, 8, "p0", -7, 0), Lane("A", 0, 0, "C", 0.9, -0.9));

    /// <summary>The shipped Open-RMF office map.</summary>
    public static SiteMap Office() => SiteMapGeoJson.Parse(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "maps", "office", "site.geojson")), "maps/office/site.geojson");

    /// <summary>
    /// Corridor A(0,0) - B(5,0) - C(10,0) - D(15,0), two-way, with a door (<c>door1</c>, "lab_door") across B - C at x = 7.5:
    /// the GeoJSON lane feature names it in its <c>door</c> property. Locations a, d at their waypoints (pickup, dropoff).
    /// </summary>
    public static SiteMap CorridorWithDoor() => FromGeoJson(
        Waypoint("A", 0, 0), Waypoint("B", 5, 0), Waypoint("C", 10, 0), Waypoint("D", 15, 0),
        Lane("A", 0, 0, "B", 5, 0), Lane("B", 5, 0, "C", 10, 0).Replace("\"direction\"", "\"door\": \"door1\", \"direction\""), Lane("C", 10, 0, "D", 15, 0),
        """{ "type": "Feature", "id": "door1", "geometry": { "type": "LineString", "coordinates": [[7.5, -1], [7.5, 1]] }, "properties": { "type": "door", "level": "L1", "name": "lab_door" } }""",
        Location("a", "A", 0, 0, "pickup", "dropoff"), Location("d", "D", 15, 0, "pickup", "dropoff"));

    /// <summary>The corridor of <see cref="CorridorWithDoor"/> with a pocket S(5,4) off B, as in <see cref="Corridor"/>. Locations a, d.</summary>
    public static SiteMap CorridorWithDoorAndPocket() => FromGeoJson(
        Waypoint("A", 0, 0), Waypoint("B", 5, 0), Waypoint("C", 10, 0), Waypoint("D", 15, 0), Waypoint("S", 5, 4),
        Lane("A", 0, 0, "B", 5, 0), Lane("B", 5, 0, "C", 10, 0).Replace("\"direction\"", "\"door\": \"door1\", \"direction\""), Lane("C", 10, 0, "D", 15, 0),
        Lane("B", 5, 0, "S", 5, 4),
        """{ "type": "Feature", "id": "door1", "geometry": { "type": "LineString", "coordinates": [[7.5, -1], [7.5, 1]] }, "properties": { "type": "door", "level": "L1", "name": "lab_door" } }""",
        Location("a", "A", 0, 0, "pickup", "dropoff"), Location("d", "D", 15, 0, "pickup", "dropoff"));

    private static string Waypoint(string id, double x, double y) =>
        $$"""{ "type": "Feature", "id": "{{id}}", "geometry": { "type": "Point", "coordinates": [{{x}}, {{y}}] }, "properties": { "type": "waypoint", "level": "L1" } }""";

    private static string Lane(string from, double x1, double y1, string to, double x2, double y2, string direction = "two-way") =>
        $$"""{ "type": "Feature", "id": "{{from}}{{to}}", "geometry": { "type": "LineString", "coordinates": [[{{x1}}, {{y1}}], [{{x2}}, {{y2}}]] }, "properties": { "type": "lane", "level": "L1", "from": "{{from}}", "to": "{{to}}", "direction": "{{direction}}" } }""";

    private static string Location(string name, string waypoint, double x, double y, params string[] kinds) =>
        $$"""{ "type": "Feature", "id": "loc:{{name}}", "geometry": { "type": "Point", "coordinates": [{{x}}, {{y}}] }, "properties": { "type": "location", "level": "L1", "name": "{{name}}", "waypoint": "{{waypoint}}", "kinds": [{{string.Join(", ", kinds.Select(k => $"\"{k}\""))}}] } }""";

    private static SiteMap FromGeoJson(params string[] features) => SiteMapGeoJson.Parse(
        $$"""
        { "type": "FeatureCollection",
          "robotfleet": { "version": 1, "id": "t", "levels": [ { "id": "L1", "elevation": 0 } ] },
          "features": [ {{string.Join(",\n", features)}} ] }
        """, "inline test map");
}
