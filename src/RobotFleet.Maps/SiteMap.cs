using System.Collections.ObjectModel;
using NetTopologySuite.Algorithm;
using NetTopologySuite.Geometries;

namespace RobotFleet.Maps;

/// <summary>
/// A validated, immutable site map: levels, waypoints, directed lanes, named locations, zones, doors and drawings,
/// all in site-local metres (x east, y north) per level; safe to share between threads.
/// </summary>
public sealed class SiteMap
{
    private static readonly IReadOnlyList<Lane> NoLanes = [];
    private readonly Dictionary<string, Lane[]> _outgoing;
    private readonly Dictionary<(string From, string To), Lane> _byEnds;

    /// <summary>Creates a map after checking every rule; throws <see cref="SiteMapValidationException"/> listing all problems.</summary>
    /// <param name="id">Map id.</param>
    /// <param name="name">Human-readable map name.</param>
    /// <param name="levels">Levels (unique ids).</param>
    /// <param name="waypoints">Waypoints (unique ids, known levels, finite coordinates).</param>
    /// <param name="lanes">Directed lanes between known waypoints on the lane's level.</param>
    /// <param name="locations">Locations at known waypoints with unique names.</param>
    /// <param name="zones">Zones with valid polygons, or null for none.</param>
    /// <param name="doors">Doors, or null for none.</param>
    /// <param name="drawings">Display-only walls, rooms and floors, or null for none.</param>
    /// <param name="geoAnchor">Optional world placement of the local frame.</param>
    /// <param name="warnings">Extra warnings to keep (e.g. from an importer); lane-crossing warnings are added automatically.</param>
    /// <param name="source">Where the map came from, used in error messages.</param>
    /// <param name="lifts">Lifts linking levels, or null for none; their ride lanes are among <paramref name="lanes"/>.</param>
    /// <exception cref="SiteMapValidationException">One or more rules are broken.</exception>
    public SiteMap(
        string id,
        string name,
        IEnumerable<Level> levels,
        IEnumerable<Waypoint> waypoints,
        IEnumerable<Lane> lanes,
        IEnumerable<Location> locations,
        IEnumerable<Zone>? zones = null,
        IEnumerable<Door>? doors = null,
        IEnumerable<Drawing>? drawings = null,
        GeoAnchor? geoAnchor = null,
        IEnumerable<MapProblem>? warnings = null,
        string source = "site map",
        IEnumerable<Lift>? lifts = null)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(name);
        Id = id;
        Name = name;
        GeoAnchor = geoAnchor;
        Levels = levels.ToArray();
        var waypointList = waypoints.ToArray();
        Lanes = lanes.ToArray();
        var locationList = locations.ToArray();
        Zones = (zones ?? []).ToArray();
        Doors = (doors ?? []).ToArray();
        Drawings = (drawings ?? []).ToArray();
        Lifts = (lifts ?? []).ToArray();

        var problems = SiteMapRules.Validate(Levels, waypointList, Lanes, locationList, Zones, Doors, Drawings, geoAnchor);
        problems.AddRange(SiteMapRules.ValidateLiftsAndDoors(Levels, waypointList, Lanes, Doors, Lifts));
        if (problems.Count > 0)
        {
            throw new SiteMapValidationException(source, problems);
        }

        Waypoints = new ReadOnlyDictionary<string, Waypoint>(waypointList.ToDictionary(w => w.Id, StringComparer.Ordinal));
        Locations = new ReadOnlyDictionary<string, Location>(locationList.ToDictionary(l => l.Name, StringComparer.Ordinal));
        _outgoing = Lanes.GroupBy(l => l.FromWaypointId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        _byEnds = new Dictionary<(string, string), Lane>();
        foreach (var lane in Lanes)
        {
            _byEnds.TryAdd((lane.FromWaypointId, lane.ToWaypointId), lane);
        }

        Warnings = [.. warnings ?? [], .. SiteMapRules.FindCrossingLanes(Lanes, Waypoints)];
    }

    /// <summary>Map id.</summary>
    public string Id { get; }

    /// <summary>Human-readable map name.</summary>
    public string Name { get; }

    /// <summary>Levels in declaration order.</summary>
    public IReadOnlyList<Level> Levels { get; }

    /// <summary>Waypoints by id (ordinal, case-sensitive).</summary>
    public IReadOnlyDictionary<string, Waypoint> Waypoints { get; }

    /// <summary>All directed lanes; a two-way connection appears as two lanes.</summary>
    public IReadOnlyList<Lane> Lanes { get; }

    /// <summary>Locations by name (ordinal, case-sensitive).</summary>
    public IReadOnlyDictionary<string, Location> Locations { get; }

    /// <summary>Zones in declaration order.</summary>
    public IReadOnlyList<Zone> Zones { get; }

    /// <summary>Doors in declaration order.</summary>
    public IReadOnlyList<Door> Doors { get; }

    /// <summary>Lifts in declaration order; their rides are lanes with <see cref="Lane.LiftId"/> set.</summary>
    public IReadOnlyList<Lift> Lifts { get; }

    /// <summary>Display-only walls, rooms and floors.</summary>
    public IReadOnlyList<Drawing> Drawings { get; }

    /// <summary>Optional world placement of the local frame; null when the map is not anchored.</summary>
    public GeoAnchor? GeoAnchor { get; }

    /// <summary>Non-fatal findings, e.g. rule <c>lanes-cross-without-waypoint</c> or importer notes.</summary>
    public IReadOnlyList<MapProblem> Warnings { get; }

    /// <summary>Lanes leaving a waypoint; empty when there are none or the id is unknown.</summary>
    /// <param name="waypointId">Waypoint id.</param>
    /// <returns>The outgoing lanes.</returns>
    public IReadOnlyList<Lane> OutgoingLanes(string waypointId) =>
        _outgoing.TryGetValue(waypointId, out var lanes) ? lanes : NoLanes;

    /// <summary>The lane from one waypoint to another, or null when there is none (the first declared if several).</summary>
    /// <param name="fromWaypointId">Start waypoint id.</param>
    /// <param name="toWaypointId">End waypoint id.</param>
    /// <returns>The lane or null.</returns>
    public Lane? FindLane(string fromWaypointId, string toWaypointId) =>
        _byEnds.GetValueOrDefault((fromWaypointId, toWaypointId));

    /// <summary>The waypoint with the given id.</summary>
    /// <param name="id">Waypoint id.</param>
    /// <returns>The waypoint.</returns>
    /// <exception cref="KeyNotFoundException">No waypoint has that id; the message names it.</exception>
    public Waypoint GetWaypoint(string id) =>
        Waypoints.TryGetValue(id, out var waypoint)
            ? waypoint
            : throw new KeyNotFoundException($"Map '{Id}' has no waypoint '{id}'.");

    /// <summary>The location with the given name (case-sensitive), or null.</summary>
    /// <param name="name">Location name.</param>
    /// <returns>The location or null.</returns>
    public Location? FindLocation(string name) => Locations.GetValueOrDefault(name);

    /// <summary>Locations that have the given kind, in no particular order.</summary>
    /// <param name="kind">Kind to look for.</param>
    /// <returns>The matching locations.</returns>
    public IEnumerable<Location> LocationsOfKind(LocationKind kind) => Locations.Values.Where(l => l.Kinds.Contains(kind));
}

/// <summary>The semantic rules every <see cref="SiteMap"/> obeys, shared by the constructor and the loaders.</summary>
internal static class SiteMapRules
{
    internal static List<MapProblem> Validate(
        IReadOnlyList<Level> levels,
        IReadOnlyList<Waypoint> waypoints,
        IReadOnlyList<Lane> lanes,
        IReadOnlyList<Location> locations,
        IReadOnlyList<Zone> zones,
        IReadOnlyList<Door> doors,
        IReadOnlyList<Drawing> drawings,
        GeoAnchor? geoAnchor)
    {
        var problems = new List<MapProblem>();
        var levelIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var level in levels)
        {
            if (!levelIds.Add(level.Id))
            {
                problems.Add(MapProblem.Of(level.Id, "level-duplicate", $"level id '{level.Id}' is declared twice"));
            }
            RequireFinite(problems, level.Id, "elevation", level.Elevation);
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        void CheckIdAndLevel(string id, string levelId)
        {
            if (!ids.Add(id))
            {
                problems.Add(MapProblem.Of(id, "id-duplicate", $"id '{id}' is used by more than one feature"));
            }
            if (!levelIds.Contains(levelId))
            {
                problems.Add(MapProblem.Of(id, "level-unknown", $"level '{levelId}' is not declared"));
            }
        }

        var waypointById = new Dictionary<string, Waypoint>(StringComparer.Ordinal);
        foreach (var w in waypoints)
        {
            CheckIdAndLevel(w.Id, w.LevelId);
            waypointById.TryAdd(w.Id, w);
            if (!double.IsFinite(w.X) || !double.IsFinite(w.Y))
            {
                problems.Add(MapProblem.Of(w.Id, "coordinates-finite", $"coordinates ({w.X}, {w.Y}) are not finite"));
            }
        }

        foreach (var lane in lanes)
        {
            CheckIdAndLevel(lane.Id, lane.LevelId);
            foreach (var end in new[] { lane.FromWaypointId, lane.ToWaypointId })
            {
                if (!waypointById.TryGetValue(end, out var w))
                {
                    problems.Add(MapProblem.Of(lane.Id, "lane-waypoint-unknown", $"waypoint '{end}' does not exist"));
                }
                else if (w.LevelId != lane.LevelId && (lane.LiftId is null || end == lane.FromWaypointId))
                {
                    problems.Add(MapProblem.Of(lane.Id, "lane-level-mismatch", $"waypoint '{end}' is on level '{w.LevelId}', the lane on '{lane.LevelId}'"));
                }
            }
            if (waypointById.TryGetValue(lane.FromWaypointId, out var from) && waypointById.TryGetValue(lane.ToWaypointId, out var to)
                && !(Math.Abs(lane.Length - Lane.StraightDistance(from, to)) <= SiteMapGeoJson.Tolerance))
            {
                problems.Add(MapProblem.Of(lane.Id, "lane-length-mismatch", $"length {lane.Length} m is not the straight distance {Lane.StraightDistance(from, to)} m between its waypoints"));
            }
            RequirePositive(problems, lane.Id, "speedLimit", lane.SpeedLimit);
            RequirePositive(problems, lane.Id, "width", lane.Width);
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var location in locations)
        {
            if (!names.Add(location.Name))
            {
                problems.Add(MapProblem.Of(location.Name, "location-name-duplicate", $"location name '{location.Name}' is used twice"));
            }
            if (!waypointById.ContainsKey(location.WaypointId))
            {
                problems.Add(MapProblem.Of(location.Name, "location-waypoint-unknown", $"waypoint '{location.WaypointId}' does not exist"));
            }
        }

        foreach (var zone in zones)
        {
            CheckIdAndLevel(zone.Id, zone.LevelId);
            CheckGeometry(problems, zone.Id, zone.Area);
            RequirePositive(problems, zone.Id, "speedLimit", zone.SpeedLimit);
        }
        foreach (var door in doors)
        {
            CheckIdAndLevel(door.Id, door.LevelId);
            CheckGeometry(problems, door.Id, door.Span);
        }
        foreach (var drawing in drawings)
        {
            CheckIdAndLevel(drawing.Id, drawing.LevelId);
            CheckGeometry(problems, drawing.Id, drawing.Shape);
        }

        if (geoAnchor is { } a && !(Math.Abs(a.Longitude) <= 180 && Math.Abs(a.Latitude) <= 90 && double.IsFinite(a.Bearing)))
        {
            problems.Add(MapProblem.Of("", "geo-anchor-invalid", $"geoAnchor ({a.Longitude}, {a.Latitude}, {a.Bearing}) needs longitude in [-180, 180], latitude in [-90, 90] and a finite bearing"));
        }
        return problems;
    }

    /// <summary>
    /// Rules of lifts and of lanes through doors: a lift has at least one stop and an id no waypoint or lane has; its stops
    /// are on known levels, at most one a level, at its waypoint there; a ride lane (<see cref="Lane.LiftId"/>) joins two stops of a known lift and takes a finite positive
    /// <see cref="Lane.RideSeconds"/>; no other lane has a ride time; a lane's <see cref="Lane.DoorId"/> names a door on its level.
    /// </summary>
    internal static List<MapProblem> ValidateLiftsAndDoors(IReadOnlyList<Level> levels, IReadOnlyList<Waypoint> waypoints, IReadOnlyList<Lane> lanes, IReadOnlyList<Door> doors, IReadOnlyList<Lift> lifts)
    {
        var problems = new List<MapProblem>();
        var levelIds = levels.Select(l => l.Id).ToHashSet(StringComparer.Ordinal);
        var waypointLevel = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var w in waypoints)
        {
            waypointLevel.TryAdd(w.Id, w.LevelId);
        }
        var stopsOf = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var lift in lifts)
        {
            if (stopsOf.ContainsKey(lift.Id))
            {
                problems.Add(MapProblem.Of(lift.Id, "lift-duplicate", $"lift id '{lift.Id}' is declared twice"));
                continue;
            }
            if (lift.Stops.Count == 0)
            {
                problems.Add(MapProblem.Of(lift.Id, "lift-stop-invalid", "a lift needs at least one stop"));
            }
            if (waypointLevel.ContainsKey(lift.Id) || lanes.Any(l => l.LiftId is null && l.Id == lift.Id))
            {
                problems.Add(MapProblem.Of(lift.Id, "id-duplicate", $"lift id '{lift.Id}' is also a waypoint or lane id (one namespace in a GeoJSON site)"));
            }
            var stops = stopsOf[lift.Id] = new HashSet<string>(StringComparer.Ordinal);
            var served = new HashSet<string>(StringComparer.Ordinal);
            foreach (var stop in lift.Stops)
            {
                stops.Add(stop.WaypointId);
                if (!levelIds.Contains(stop.LevelId))
                {
                    problems.Add(MapProblem.Of(lift.Id, "level-unknown", $"lift stop level '{stop.LevelId}' is not declared"));
                }
                else if (!served.Add(stop.LevelId))
                {
                    problems.Add(MapProblem.Of(lift.Id, "lift-stop-invalid", $"lift stops twice on level '{stop.LevelId}'"));
                }
                if (!waypointLevel.TryGetValue(stop.WaypointId, out var level) || level != stop.LevelId)
                {
                    problems.Add(MapProblem.Of(lift.Id, "lift-stop-invalid", $"lift stop waypoint '{stop.WaypointId}' is not a waypoint on level '{stop.LevelId}'"));
                }
            }
        }
        var doorLevel = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var door in doors)
        {
            doorLevel.TryAdd(door.Id, door.LevelId);
        }
        foreach (var lane in lanes)
        {
            if (lane.LiftId is { } liftId)
            {
                if (!stopsOf.TryGetValue(liftId, out var stops))
                {
                    problems.Add(MapProblem.Of(lane.Id, "lift-unknown", $"lift '{liftId}' does not exist"));
                }
                else if (!stops.Contains(lane.FromWaypointId) || !stops.Contains(lane.ToWaypointId))
                {
                    problems.Add(MapProblem.Of(lane.Id, "lift-ride-invalid", $"a ride of lift '{liftId}' must join two of its stops"));
                }
                if (lane.RideSeconds is not { } seconds || !double.IsFinite(seconds) || seconds <= 0)
                {
                    problems.Add(MapProblem.Of(lane.Id, "property-invalid", $"rideSeconds {lane.RideSeconds} of a lift ride must be a finite number > 0"));
                }
            }
            else if (lane.RideSeconds is not null)
            {
                problems.Add(MapProblem.Of(lane.Id, "property-invalid", "only a lift ride (liftId) has rideSeconds"));
            }
            if (lane.DoorId is { } doorId && (!doorLevel.TryGetValue(doorId, out var level) || level != lane.LevelId))
            {
                problems.Add(MapProblem.Of(lane.Id, "lane-door-unknown", $"door '{doorId}' is not a door on level '{lane.LevelId}'"));
            }
        }
        return problems;
    }

    /// <summary>Reports non-finite coordinates and, for polygons, the NTS validity reason and its location.</summary>
    internal static void CheckGeometry(List<MapProblem> problems, string featureId, Geometry geometry)
    {
        if (geometry.Coordinates.Any(c => !double.IsFinite(c.X) || !double.IsFinite(c.Y)))
        {
            problems.Add(MapProblem.Of(featureId, "coordinates-finite", "geometry has coordinates that are not finite numbers"));
            return;
        }
        if (geometry is Polygon or MultiPolygon)
        {
            var error = new NetTopologySuite.Operation.Valid.IsValidOp(geometry).ValidationError;
            if (error is not null)
            {
                problems.Add(MapProblem.Of(featureId, "polygon-invalid", $"polygon is invalid: {error.Message} at ({error.Coordinate?.X}, {error.Coordinate?.Y})"));
            }
        }
    }

    /// <summary>Warnings for pairs of lanes on one level that touch or cross other than at a waypoint they share.</summary>
    internal static IEnumerable<MapProblem> FindCrossingLanes(IReadOnlyList<Lane> lanes, IReadOnlyDictionary<string, Waypoint> waypoints)
    {
        // One segment per unordered waypoint pair: a two-way connection is checked once.
        var segments = lanes
            .Where(l => l.LiftId is null)
            .GroupBy(l => string.CompareOrdinal(l.FromWaypointId, l.ToWaypointId) < 0 ? (l.FromWaypointId, l.ToWaypointId) : (l.ToWaypointId, l.FromWaypointId))
            .Select(g => (Lane: g.First(), A: waypoints[g.Key.Item1], B: waypoints[g.Key.Item2]))
            .Where(s => s.A.Id != s.B.Id)
            .ToArray();
        var intersector = new RobustLineIntersector();
        // Candidate pairs from an STR-tree of the segments' envelopes (a pair of lanes can only meet where their envelopes
        // meet), checked in index order so the warnings come out as a check of every pair would give them.
        var envelopes = segments.Select(s => new Envelope(s.A.X, s.B.X, s.A.Y, s.B.Y)).ToArray();
        var index = new NetTopologySuite.Index.Strtree.STRtree<int>();
        for (var i = 0; i < segments.Length; i++)
        {
            index.Insert(envelopes[i], i);
        }
        var candidates = new List<int>();
        for (var i = 0; i < segments.Length; i++)
        {
            var s = segments[i];
            candidates.Clear();
            foreach (var j in index.Query(envelopes[i]))
            {
                if (j > i)
                {
                    candidates.Add(j);
                }
            }
            candidates.Sort();
            foreach (var j in candidates)
            {
                var t = segments[j];
                if (s.Lane.LevelId != t.Lane.LevelId || !envelopes[i].Intersects(envelopes[j]))
                {
                    continue;
                }
                intersector.ComputeIntersection(
                    new Coordinate(s.A.X, s.A.Y), new Coordinate(s.B.X, s.B.Y),
                    new Coordinate(t.A.X, t.A.Y), new Coordinate(t.B.X, t.B.Y));
                if (!intersector.HasIntersection)
                {
                    continue;
                }
                var shared = s.A.Id == t.A.Id || s.A.Id == t.B.Id || s.B.Id == t.A.Id || s.B.Id == t.B.Id;
                if (shared && intersector.IntersectionNum == 1 && !intersector.IsProper)
                {
                    continue;
                }
                var at = intersector.GetIntersection(0);
                yield return MapProblem.Of(s.Lane.Id, "lanes-cross-without-waypoint",
                    $"lane meets lane '{t.Lane.Id}' at ({at.X:0.###}, {at.Y:0.###}) where there is no shared waypoint");
            }
        }
    }

    private static void RequireFinite(List<MapProblem> problems, string id, string property, double value)
    {
        if (!double.IsFinite(value))
        {
            problems.Add(MapProblem.Of(id, "property-invalid", $"{property} {value} must be a finite number"));
        }
    }

    private static void RequirePositive(List<MapProblem> problems, string id, string property, double? value)
    {
        if (value is { } v && !(double.IsFinite(v) && v > 0))
        {
            problems.Add(MapProblem.Of(id, "property-invalid", $"{property} {v} must be a finite number > 0"));
        }
    }
}
