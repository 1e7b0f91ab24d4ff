using System.Globalization;
using System.Text;
using System.Text.Json;
using NetTopologySuite.Geometries;
using NetTopologySuite.IO.Converters;

namespace RobotFleet.Maps;

/// <summary>
/// Reads and writes the RobotFleet site-map format: a GeoJSON FeatureCollection in site-local metres
/// (x east, y north, per level), described in maps/README.md; stateless and thread-safe.
/// </summary>
public static class SiteMapGeoJson
{
    /// <summary>The file name <see cref="Load"/> looks for when given a directory.</summary>
    public const string FileName = "site.geojson";

    /// <summary>The format version this library reads and writes.</summary>
    public const int FormatVersion = 1;

    /// <summary>Coordinates of a lane end or location point may differ from their waypoint's by at most this many metres.</summary>
    public const double Tolerance = 1e-3;

    /// <summary>Suffix of the id of the reverse lane a two-way lane feature expands to (<c>id</c> and <c>id:r</c>).</summary>
    public const string TwoWayReverseSuffix = ":r";
    private const string LocationIdPrefix = "loc:";

    private static readonly JsonSerializerOptions GeometryOptions = new() { Converters = { new GeoJsonConverterFactory() } };

    /// <summary>Loads a site map from a directory holding <c>site.geojson</c>, or from a <c>.geojson</c> file.</summary>
    /// <param name="path">Directory or file path.</param>
    /// <returns>The validated map.</returns>
    /// <exception cref="FileNotFoundException">No map file exists at the path; the message names it.</exception>
    /// <exception cref="SiteMapValidationException">The file breaks one or more rules; all are listed with the file name.</exception>
    public static SiteMap Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var file = Directory.Exists(path) ? System.IO.Path.Combine(path, FileName) : path;
        if (!File.Exists(file))
        {
            throw new FileNotFoundException($"No site map at '{file}'.", file);
        }
        return Parse(File.ReadAllText(file), file);
    }

    /// <summary>Parses and validates site-map GeoJSON text, collecting every problem before failing.</summary>
    /// <param name="geoJson">The GeoJSON FeatureCollection text.</param>
    /// <param name="sourceName">File name or description used in error messages.</param>
    /// <returns>The validated map.</returns>
    /// <exception cref="SiteMapValidationException">The text breaks one or more rules; all are listed.</exception>
    public static SiteMap Parse(string geoJson, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(geoJson);
        ArgumentNullException.ThrowIfNull(sourceName);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(geoJson);
        }
        catch (JsonException e)
        {
            throw new SiteMapValidationException(sourceName, [MapProblem.Of("", "json-invalid", $"the file is not valid JSON: {e.Message}")]);
        }
        using (document)
        {
            return new GeoJsonMapReader(sourceName).Read(document.RootElement);
        }
    }

    /// <summary>
    /// Writes a map as indented GeoJSON text that <see cref="Parse"/> reads back to an equal map, except for lift rides: each
    /// lift is a <c>lift</c> feature with its stops and its rides (seconds each), and a ride lane reads back after the other
    /// lanes, with the id <c>&lt;lift&gt;:&lt;from level&gt;&gt;&lt;to level&gt;</c> whatever its id was, and with its ride time
    /// only (no speed limit, width or door).
    /// </summary>
    /// <param name="map">The map.</param>
    /// <returns>The GeoJSON FeatureCollection text.</returns>
    public static string Write(SiteMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("type", "FeatureCollection");
            w.WriteStartObject("robotfleet");
            w.WriteNumber("version", FormatVersion);
            w.WriteString("id", map.Id);
            w.WriteString("name", map.Name);
            w.WriteStartArray("levels");
            foreach (var level in map.Levels)
            {
                w.WriteStartObject();
                w.WriteString("id", level.Id);
                w.WriteNumber("elevation", level.Elevation);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (map.GeoAnchor is { } anchor)
            {
                w.WriteStartObject("geoAnchor");
                w.WriteNumber("lon", anchor.Longitude);
                w.WriteNumber("lat", anchor.Latitude);
                w.WriteNumber("bearing", anchor.Bearing);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteStartArray("features");
            WriteFeatures(w, map);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>A lift: no geometry (it spans levels); its stops, and each ride lane as from level, to level and seconds.</summary>
    private static void WriteLift(Utf8JsonWriter w, SiteMap map, Lift lift)
    {
        w.WriteStartObject();
        w.WriteString("type", "Feature");
        w.WriteString("id", lift.Id);
        w.WriteNull("geometry");
        w.WriteStartObject("properties");
        w.WriteString("type", "lift");
        w.WriteStartArray("stops");
        foreach (var stop in lift.Stops)
        {
            w.WriteStartObject();
            w.WriteString("level", stop.LevelId);
            w.WriteString("waypoint", stop.WaypointId);
            w.WriteStartArray("doors");
            foreach (var door in stop.DoorNames)
            {
                w.WriteStringValue(door);
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("rides");
        foreach (var ride in map.Lanes.Where(l => l.LiftId == lift.Id))
        {
            w.WriteStartObject();
            w.WriteString("from", map.GetWaypoint(ride.FromWaypointId).LevelId);
            w.WriteString("to", map.GetWaypoint(ride.ToWaypointId).LevelId);
            w.WriteNumber("seconds", ride.RideSeconds ?? 0);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteFeatures(Utf8JsonWriter w, SiteMap map)
    {
        var factory = new GeometryFactory();
        Point PointAt(Waypoint p) => factory.CreatePoint(new Coordinate(p.X, p.Y));

        foreach (var p in map.Waypoints.Values)
        {
            WriteFeature(w, p.Id, "waypoint", PointAt(p), p.LevelId, () => WriteOptional(w, "name", p.Name));
        }

        var laneIds = map.Lanes.Select(l => l.Id).ToHashSet(StringComparer.Ordinal);
        var reverses = map.Lanes.Where(IsReverseOfPartner).Select(l => l.Id).ToHashSet(StringComparer.Ordinal);
        bool IsReverseOfPartner(Lane lane) =>
            lane.Id.EndsWith(TwoWayReverseSuffix, StringComparison.Ordinal)
            && map.Lanes.FirstOrDefault(l => l.Id == lane.Id[..^TwoWayReverseSuffix.Length]) is { } forward
            && forward.FromWaypointId == lane.ToWaypointId && forward.ToWaypointId == lane.FromWaypointId
            && forward.LevelId == lane.LevelId && forward.SpeedLimit == lane.SpeedLimit && forward.Width == lane.Width && forward.DoorId == lane.DoorId;
        // Lift rides join levels, which a lane feature cannot express: they are written with their lift (below).
        foreach (var lane in map.Lanes.Where(l => !reverses.Contains(l.Id) && l.LiftId is null))
        {
            var line = factory.CreateLineString([
                PointAt(map.GetWaypoint(lane.FromWaypointId)).Coordinate,
                PointAt(map.GetWaypoint(lane.ToWaypointId)).Coordinate]);
            var twoWay = laneIds.Contains(lane.Id + TwoWayReverseSuffix) && reverses.Contains(lane.Id + TwoWayReverseSuffix);
            WriteFeature(w, lane.Id, "lane", line, lane.LevelId, () =>
            {
                w.WriteString("from", lane.FromWaypointId);
                w.WriteString("to", lane.ToWaypointId);
                w.WriteString("direction", twoWay ? "two-way" : "one-way");
                WriteOptional(w, "speedLimit", lane.SpeedLimit);
                WriteOptional(w, "width", lane.Width);
                if (lane.DoorId is { } door)
                    w.WriteString("door", door);
            });
        }

        foreach (var location in map.Locations.Values)
        {
            var at = map.GetWaypoint(location.WaypointId);
            WriteFeature(w, LocationIdPrefix + location.Name, "location", PointAt(at), at.LevelId, () =>
            {
                w.WriteString("name", location.Name);
                w.WriteString("waypoint", location.WaypointId);
                w.WriteStartArray("kinds");
                foreach (var kind in location.Kinds.Order())
                {
                    w.WriteStringValue(MapText.ToKebab(kind));
                }
                w.WriteEndArray();
            });
        }

        foreach (var zone in map.Zones)
        {
            WriteFeature(w, zone.Id, "zone", zone.Area, zone.LevelId, () =>
            {
                w.WriteString("kind", MapText.ToKebab(zone.Kind));
                WriteOptional(w, "speedLimit", zone.SpeedLimit);
            });
        }
        foreach (var door in map.Doors)
        {
            WriteFeature(w, door.Id, "door", door.Span, door.LevelId, () => w.WriteString("name", door.Name));
        }
        foreach (var lift in map.Lifts)
        {
            WriteLift(w, map, lift);
        }
        foreach (var drawing in map.Drawings)
        {
            WriteFeature(w, drawing.Id, MapText.ToKebab(drawing.Kind), drawing.Shape, drawing.LevelId, () => { });
        }

        void WriteOptional<T>(Utf8JsonWriter writer, string name, T? value)
        {
            switch (value)
            {
                case string s: writer.WriteString(name, s); break;
                case double d: writer.WriteNumber(name, d); break;
            }
        }
    }

    private static void WriteFeature(Utf8JsonWriter w, string id, string type, Geometry geometry, string levelId, Action writeProperties)
    {
        w.WriteStartObject();
        w.WriteString("type", "Feature");
        w.WriteString("id", id);
        w.WritePropertyName("geometry");
        JsonSerializer.Serialize(w, geometry, GeometryOptions);
        w.WriteStartObject("properties");
        w.WriteString("type", type);
        w.WriteString("level", levelId);
        writeProperties();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>Reads one document, collecting problems per feature; a feature with a problem is left out of the map.</summary>
    private sealed class GeoJsonMapReader(string sourceName)
    {
        private readonly List<MapProblem> _problems = [];
        private readonly HashSet<string> _levelIds = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Waypoint> _waypoints = new(StringComparer.Ordinal);
        private readonly List<Lane> _lanes = [];
        private readonly Dictionary<string, Location> _locations = new(StringComparer.Ordinal);
        private readonly List<Zone> _zones = [];
        private readonly List<Door> _doors = [];
        private readonly List<Drawing> _drawings = [];
        private readonly List<Lift> _lifts = [];
        private readonly List<RawFeature> _liftFeatures = [];
        private List<Level> _levels = [];

        private sealed record RawFeature(string Id, string Type, JsonElement Properties, JsonElement Geometry);

        public SiteMap Read(JsonElement root)
        {
            var (id, name, levels, anchor) = ReadHeader(root);
            _levels = levels;
            _levelIds.UnionWith(levels.Select(l => l.Id));
            var features = ReadFeatures(root);
            foreach (var f in features.Where(f => f.Type == "waypoint"))
            {
                ReadWaypoint(f);
            }
            foreach (var f in features.Where(f => f.Type != "waypoint"))
            {
                ReadOther(f);
            }
            foreach (var f in _liftFeatures)
            {
                ReadLift(f); // after the lanes: a ride's lane id must not be taken
            }

            // A lane's door must be a door feature on the lane's level (checked here, once per lane feature: doors may come
            // after the lanes in the file, and a two-way feature's reverse lane would repeat the problem).
            foreach (var lane in _lanes.Where(l => l.DoorId is not null && !l.Id.EndsWith(TwoWayReverseSuffix, StringComparison.Ordinal)))
            {
                if (!_doors.Any(d => d.Id == lane.DoorId && d.LevelId == lane.LevelId))
                {
                    Add(lane.Id, "lane-door-unknown", $"door '{lane.DoorId}' is not a door feature on level '{lane.LevelId}'");
                }
            }

            if (_problems.Count > 0)
            {
                _problems.AddRange(SiteMapRules.Validate(levels, [.. _waypoints.Values], _lanes, [.. _locations.Values], _zones, _doors, _drawings, anchor));
                // The lifts' rules too (lane doors were checked above, per feature).
                _problems.AddRange(SiteMapRules.ValidateLiftsAndDoors(levels, [.. _waypoints.Values], _lanes, _doors, _lifts).Where(p => p.Rule != "lane-door-unknown"));
                throw new SiteMapValidationException(sourceName, _problems);
            }
            return new SiteMap(id, name, levels, _waypoints.Values, _lanes, _locations.Values, _zones, _doors, _drawings, anchor, source: sourceName, lifts: _lifts);
        }

        private (string Id, string Name, List<Level> Levels, GeoAnchor? Anchor) ReadHeader(JsonElement root)
        {
            var levels = new List<Level>();
            if (root.ValueKind != JsonValueKind.Object || !Is(root, "type", "FeatureCollection"))
            {
                Add("", "header-invalid", "the document must be a GeoJSON FeatureCollection");
                return ("", "", levels, null);
            }
            if (!root.TryGetProperty("robotfleet", out var header) || header.ValueKind != JsonValueKind.Object)
            {
                Add("", "header-invalid", "the FeatureCollection has no \"robotfleet\" object (version, id, name, levels)");
                return ("", "", levels, null);
            }
            if (!header.TryGetProperty("version", out var version) || !version.TryGetInt32(out var v) || v != FormatVersion)
            {
                Add("", "header-invalid", $"robotfleet.version must be {FormatVersion}");
            }
            var id = String(header, "id") ?? "";
            if (id.Length == 0)
            {
                Add("", "header-invalid", "robotfleet.id must be a non-empty string");
            }
            if (header.TryGetProperty("levels", out var levelArray) && levelArray.ValueKind == JsonValueKind.Array && levelArray.GetArrayLength() > 0)
            {
                foreach (var level in levelArray.EnumerateArray())
                {
                    var levelId = level.ValueKind == JsonValueKind.Object ? String(level, "id") : null;
                    var elevation = level.ValueKind == JsonValueKind.Object ? Number(level, "elevation") : null;
                    if (string.IsNullOrEmpty(levelId) || elevation is null)
                    {
                        Add(levelId ?? "", "header-invalid", "each level needs a string \"id\" and a numeric \"elevation\" in metres");
                        continue;
                    }
                    levels.Add(new Level(levelId, elevation.Value));
                }
            }
            else
            {
                Add("", "header-invalid", "robotfleet.levels must be a non-empty array of {id, elevation}");
            }
            GeoAnchor? anchor = null;
            if (header.TryGetProperty("geoAnchor", out var a) && a.ValueKind == JsonValueKind.Object)
            {
                anchor = Number(a, "lon") is { } lon && Number(a, "lat") is { } lat
                    ? new GeoAnchor(lon, lat, Number(a, "bearing") ?? 0)
                    : new GeoAnchor(double.NaN, double.NaN, double.NaN);
            }
            return (id, String(header, "name") ?? id, levels, anchor);
        }

        private List<RawFeature> ReadFeatures(JsonElement root)
        {
            var result = new List<RawFeature>();
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("features", out var features) || features.ValueKind != JsonValueKind.Array)
            {
                Add("", "header-invalid", "the FeatureCollection has no \"features\" array");
                return result;
            }
            var ids = new HashSet<string>(StringComparer.Ordinal);
            var index = 0;
            foreach (var feature in features.EnumerateArray())
            {
                index++;
                var id = feature.ValueKind == JsonValueKind.Object && feature.TryGetProperty("id", out var idElement)
                    ? idElement.ValueKind switch
                    {
                        JsonValueKind.String => idElement.GetString(),
                        JsonValueKind.Number => idElement.GetRawText(),
                        _ => null,
                    }
                    : null;
                if (string.IsNullOrEmpty(id))
                {
                    Add("", "id-missing", $"feature #{index} has no \"id\" (string or number)");
                    continue;
                }
                if (!ids.Add(id))
                {
                    Add(id, "id-duplicate", $"id '{id}' is used by more than one feature");
                    continue;
                }
                var properties = feature.TryGetProperty("properties", out var p) && p.ValueKind == JsonValueKind.Object ? p : default;
                var type = properties.ValueKind == JsonValueKind.Object ? String(properties, "type") : null;
                if (type is not ("waypoint" or "lane" or "location" or "zone" or "door" or "lift" or "wall" or "room" or "floor"))
                {
                    Add(id, "type-unknown", $"properties.type '{type}' is not one of waypoint, lane, location, zone, door, lift, wall, room, floor");
                    continue;
                }
                var geometry = feature.TryGetProperty("geometry", out var g) ? g : default;
                result.Add(new RawFeature(id, type, properties, geometry));
            }
            return result;
        }

        private void ReadWaypoint(RawFeature f)
        {
            var level = RequireLevel(f);
            if (ReadGeometry<Point>(f) is { } point && level is not null)
            {
                _waypoints[f.Id] = new Waypoint(f.Id, level, point.X, point.Y, OptionalString(f, "name"));
            }
        }

        private void ReadOther(RawFeature f)
        {
            switch (f.Type)
            {
                case "lane": ReadLane(f); break;
                case "location": ReadLocation(f); break;
                case "zone": ReadZone(f); break;
                case "door": ReadDoor(f); break;
                case "lift": _liftFeatures.Add(f); break;
                case "wall": ReadDrawing<LineString>(f, DrawingKind.Wall); break;
                case "room": ReadDrawing<Geometry>(f, DrawingKind.Room); break;
                default: ReadDrawing<Geometry>(f, DrawingKind.Floor); break;
            }
        }

        private void ReadLane(RawFeature f)
        {
            var count = _problems.Count;
            var level = RequireLevel(f);
            var line = ReadGeometry<LineString>(f);
            if (line is not null && line.NumPoints != 2)
            {
                Add(f.Id, "geometry-invalid", $"a lane is a straight LineString with exactly 2 positions (from, to), not {line.NumPoints}");
            }
            var from = LaneEnd(f, "from", line?.NumPoints == 2 ? line.StartPoint : null);
            var to = LaneEnd(f, "to", line?.NumPoints == 2 ? line.EndPoint : null);
            var direction = RequireString(f, "direction");
            if (direction is not (null or "one-way" or "two-way"))
            {
                Add(f.Id, "property-invalid", $"direction '{direction}' must be one-way or two-way");
            }
            var speedLimit = OptionalPositive(f, "speedLimit");
            var width = OptionalPositive(f, "width");
            var door = OptionalString(f, "door");
            if (_problems.Count > count || from is null || to is null || level is null)
            {
                return;
            }
            _lanes.Add(Lane.Between(f.Id, from, to, speedLimit, width) with { DoorId = door });
            if (direction == "two-way")
            {
                _lanes.Add(Lane.Between(f.Id + TwoWayReverseSuffix, to, from, speedLimit, width) with { DoorId = door });
            }
        }

        private Waypoint? LaneEnd(RawFeature f, string property, Point? end)
        {
            var id = RequireString(f, property);
            if (id is null)
            {
                return null;
            }
            if (!_waypoints.TryGetValue(id, out var waypoint))
            {
                Add(f.Id, "lane-waypoint-unknown", $"{property} waypoint '{id}' does not exist");
                return null;
            }
            if (OptionalString(f, "level") is { } level && level != waypoint.LevelId)
            {
                Add(f.Id, "lane-level-mismatch", $"{property} waypoint '{id}' is on level '{waypoint.LevelId}', the lane on '{level}'");
            }
            if (end is not null && !Near(end, waypoint))
            {
                Add(f.Id, "lane-endpoint-mismatch", $"{property} end ({end.X}, {end.Y}) is not at waypoint '{id}' ({waypoint.X}, {waypoint.Y})");
            }
            return waypoint;
        }

        private void ReadLocation(RawFeature f)
        {
            var count = _problems.Count;
            var name = RequireString(f, "name");
            var waypointId = RequireString(f, "waypoint");
            var point = f.Geometry.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null ? null : ReadGeometry<Point>(f);
            var kinds = new HashSet<LocationKind>();
            if (f.Properties.TryGetProperty("kinds", out var kindArray))
            {
                var valid = kindArray.ValueKind == JsonValueKind.Array;
                foreach (var kind in valid ? kindArray.EnumerateArray() : default)
                {
                    valid &= kind.ValueKind == JsonValueKind.String && MapText.TryParseKebab<LocationKind>(kind.GetString()!, out var k) && kinds.Add(k);
                }
                if (!valid)
                {
                    Add(f.Id, "property-invalid", $"kinds must be an array of distinct values from: {MapText.Spellings<LocationKind>()}");
                }
            }
            if (waypointId is not null)
            {
                if (!_waypoints.TryGetValue(waypointId, out var waypoint))
                {
                    Add(f.Id, "location-waypoint-unknown", $"waypoint '{waypointId}' does not exist");
                }
                else if (point is not null && !Near(point, waypoint))
                {
                    Add(f.Id, "location-position-mismatch", $"point ({point.X}, {point.Y}) is not at waypoint '{waypointId}' ({waypoint.X}, {waypoint.Y})");
                }
            }
            if (name is not null && _locations.ContainsKey(name))
            {
                Add(f.Id, "location-name-duplicate", $"location name '{name}' is already used by another location");
            }
            if (_problems.Count == count)
            {
                _locations[name!] = new Location(name!, waypointId!, kinds);
            }
        }

        private void ReadZone(RawFeature f)
        {
            var count = _problems.Count;
            var level = RequireLevel(f);
            var area = ReadGeometry<Polygon>(f);
            var kindText = RequireString(f, "kind");
            var kind = default(ZoneKind);
            if (kindText is not null && !MapText.TryParseKebab(kindText, out kind))
            {
                Add(f.Id, "property-invalid", $"kind '{kindText}' must be one of: {MapText.Spellings<ZoneKind>()}");
            }
            var speedLimit = OptionalPositive(f, "speedLimit");
            if (_problems.Count == count)
            {
                _zones.Add(new Zone(f.Id, level!, kind, area!, speedLimit));
            }
        }

        /// <summary>
        /// A lift: <c>stops</c>, an array of <c>{level, waypoint, doors}</c> (one a level), and either <c>rides</c>, an array
        /// of <c>{from, to, seconds}</c> (levels of two stops; seconds &gt; 0), or <c>rideSeconds</c>, seconds per level
        /// travelled, for a ride between every two stops (as <see cref="RmfBuildingImporter"/> makes them). Each ride becomes
        /// a directed lane <c>&lt;lift&gt;:&lt;from level&gt;&gt;&lt;to level&gt;</c> with <see cref="Lane.LiftId"/> and
        /// <see cref="Lane.RideSeconds"/>. Whether the stops' levels and waypoints exist is checked with the map's lift rules.
        /// </summary>
        private void ReadLift(RawFeature f)
        {
            var count = _problems.Count;
            var stops = new List<LiftStop>();
            if (f.Properties.TryGetProperty("stops", out var stopArray) && stopArray.ValueKind == JsonValueKind.Array && stopArray.GetArrayLength() > 0)
            {
                var i = 0;
                foreach (var stop in stopArray.EnumerateArray())
                {
                    var level = stop.ValueKind == JsonValueKind.Object ? String(stop, "level") : null;
                    var waypoint = stop.ValueKind == JsonValueKind.Object ? String(stop, "waypoint") : null;
                    var doors = new List<string>();
                    var doorsValid = true;
                    if (stop.ValueKind == JsonValueKind.Object && stop.TryGetProperty("doors", out var names))
                    {
                        doorsValid = names.ValueKind == JsonValueKind.Array && names.EnumerateArray().All(d => d.ValueKind == JsonValueKind.String);
                        if (doorsValid)
                            doors.AddRange(names.EnumerateArray().Select(d => d.GetString()!));
                    }
                    if (string.IsNullOrEmpty(level) || string.IsNullOrEmpty(waypoint) || !doorsValid)
                        Add(f.Id, "property-invalid", $"stops[{i}] must be {{\"level\": <level id>, \"waypoint\": <waypoint id>, optional \"doors\": [<names>]}}");
                    else
                        stops.Add(new LiftStop(level, waypoint, doors));
                    i++;
                }
            }
            else
            {
                Add(f.Id, "property-missing", "a lift needs properties.stops, a non-empty array of {level, waypoint, doors}");
            }

            var rides = new List<(string From, string To, double Seconds)>();
            var rank = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var level in _levels.OrderBy(l => l.Elevation))
            {
                rank.TryAdd(level.Id, rank.Count); // a level declared twice is the header's problem (level-duplicate)
            }
            var twoOnALevel = stops.Select(s => s.LevelId).Distinct(StringComparer.Ordinal).Count() < stops.Count; // lift-stop-invalid, from the map's rules
            if (f.Properties.TryGetProperty("rides", out var rideArray))
            {
                if (f.Properties.TryGetProperty("rideSeconds", out _))
                    Add(f.Id, "property-invalid", "give properties.rides or properties.rideSeconds, not both");
                var i = 0;
                foreach (var ride in rideArray.ValueKind == JsonValueKind.Array ? rideArray.EnumerateArray() : Enumerable.Empty<JsonElement>())
                {
                    var from = ride.ValueKind == JsonValueKind.Object ? String(ride, "from") : null;
                    var to = ride.ValueKind == JsonValueKind.Object ? String(ride, "to") : null;
                    var seconds = ride.ValueKind == JsonValueKind.Object ? Number(ride, "seconds") : null;
                    if (from is null || to is null || from == to || seconds is not { } s || !double.IsFinite(s) || s <= 0
                        || stops.All(x => x.LevelId != from) || stops.All(x => x.LevelId != to))
                        Add(f.Id, "property-invalid", $"rides[{i}] must be {{\"from\": <level>, \"to\": <another level>, \"seconds\": <number > 0>}} between two of the lift's stops");
                    else
                        rides.Add((from, to, s));
                    i++;
                }
                if (rideArray.ValueKind != JsonValueKind.Array)
                    Add(f.Id, "property-invalid", "properties.rides must be an array of {from, to, seconds}");
            }
            else if (f.Properties.TryGetProperty("rideSeconds", out var perLevelElement))
            {
                if (perLevelElement.ValueKind == JsonValueKind.Null)
                    Add(f.Id, "property-invalid", "properties.rideSeconds must be a number > 0, not null");
                else if (OptionalPositive(f, "rideSeconds") is { } perLevel && !twoOnALevel)
                {
                    foreach (var from in stops)
                    {
                        foreach (var to in stops.Where(t => t.LevelId != from.LevelId && rank.ContainsKey(t.LevelId) && rank.ContainsKey(from.LevelId)))
                        {
                            var seconds = perLevel * Math.Abs(rank[from.LevelId] - rank[to.LevelId]);
                            if (double.IsFinite(seconds))
                                rides.Add((from.LevelId, to.LevelId, seconds));
                            else
                                Add(f.Id, "property-invalid", $"rideSeconds {perLevel} a level makes the ride from '{from.LevelId}' to '{to.LevelId}' last for ever");
                        }
                    }
                }
            }
            else
            {
                Add(f.Id, "property-missing", "a lift needs properties.rides ([{from, to, seconds}]) or properties.rideSeconds (seconds per level travelled)");
            }

            if (_problems.Count > count)
                return;
            _lifts.Add(new Lift(f.Id, stops));
            foreach (var (from, to, seconds) in rides)
            {
                var rideId = $"{f.Id}:{from}>{to}";
                var start = stops.First(s => s.LevelId == from);
                var end = stops.First(s => s.LevelId == to);
                if (_lanes.Any(l => l.Id == rideId))
                    Add(f.Id, "id-duplicate", $"the ride lane id '{rideId}' is already used (a ride given twice, or a lane with that id)");
                else if (_waypoints.TryGetValue(start.WaypointId, out var a) && _waypoints.TryGetValue(end.WaypointId, out var b))
                    _lanes.Add(Lane.Between(rideId, a, b) with { LiftId = f.Id, RideSeconds = seconds });
            }
        }

        private void ReadDoor(RawFeature f)
        {
            var count = _problems.Count;
            var level = RequireLevel(f);
            var span = ReadGeometry<LineString>(f);
            var name = RequireString(f, "name");
            if (_problems.Count == count)
            {
                _doors.Add(new Door(f.Id, name!, level!, span!));
            }
        }

        private void ReadDrawing<T>(RawFeature f, DrawingKind kind)
            where T : Geometry
        {
            var count = _problems.Count;
            var level = RequireLevel(f);
            var shape = ReadGeometry<T>(f);
            if (shape is not null && kind != DrawingKind.Wall && shape is not (Polygon or MultiPolygon))
            {
                Add(f.Id, "geometry-invalid", $"a {MapText.ToKebab(kind)} needs a Polygon or MultiPolygon, not {shape.GeometryType}");
            }
            if (_problems.Count == count)
            {
                _drawings.Add(new Drawing(f.Id, level!, kind, shape!));
            }
        }

        /// <summary>Reads the feature's geometry as <typeparamref name="T"/>, checking finiteness and polygon validity; null after reporting a problem.</summary>
        private T? ReadGeometry<T>(RawFeature f)
            where T : Geometry
        {
            var expected = typeof(T) == typeof(Geometry) ? "Polygon or MultiPolygon" : typeof(T).Name;
            if (f.Geometry.ValueKind != JsonValueKind.Object)
            {
                Add(f.Id, "geometry-invalid", $"a {f.Type} needs a {expected} geometry");
                return null;
            }
            if (f.Geometry.TryGetProperty("coordinates", out var coordinates) && !AllFinite(coordinates))
            {
                Add(f.Id, "coordinates-finite", "coordinates must be finite numbers (site-local metres)");
                return null;
            }
            Geometry? geometry;
            try
            {
                geometry = f.Geometry.Deserialize<Geometry>(GeometryOptions);
            }
            catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException or FormatException)
            {
                Add(f.Id, "geometry-invalid", $"geometry cannot be read: {e.Message}");
                return null;
            }
            if (geometry is not T typed || geometry.IsEmpty)
            {
                Add(f.Id, "geometry-invalid", $"a {f.Type} needs a non-empty {expected} geometry, not {geometry?.GeometryType ?? "null"}");
                return null;
            }
            var count = _problems.Count;
            SiteMapRules.CheckGeometry(_problems, f.Id, typed);
            return _problems.Count == count ? typed : null;
        }

        private static bool AllFinite(JsonElement element) => element.ValueKind switch
        {
            JsonValueKind.Number => element.TryGetDouble(out var d) && double.IsFinite(d),
            JsonValueKind.Array => element.EnumerateArray().All(AllFinite),
            _ => false,
        };

        private string? RequireLevel(RawFeature f)
        {
            var level = RequireString(f, "level");
            if (level is not null && !_levelIds.Contains(level))
            {
                Add(f.Id, "level-unknown", $"level '{level}' is not declared in robotfleet.levels");
                return null;
            }
            return level;
        }

        private string? RequireString(RawFeature f, string property)
        {
            if (!f.Properties.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                Add(f.Id, "property-missing", $"a {f.Type} needs properties.{property}");
                return null;
            }
            if (value.ValueKind != JsonValueKind.String || value.GetString()!.Length == 0)
            {
                Add(f.Id, "property-invalid", $"properties.{property} must be a non-empty string");
                return null;
            }
            return value.GetString();
        }

        private string? OptionalString(RawFeature f, string property) =>
            f.Properties.TryGetProperty(property, out var value) && value.ValueKind != JsonValueKind.Null ? RequireString(f, property) : null;

        private double? OptionalPositive(RawFeature f, string property)
        {
            if (!f.Properties.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }
            if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && double.IsFinite(number) && number > 0)
            {
                return number;
            }
            Add(f.Id, "property-invalid", $"properties.{property} must be a number > 0, not {value.GetRawText()}");
            return null;
        }

        private static bool Near(Point point, Waypoint waypoint) =>
            Math.Abs(point.X - waypoint.X) <= Tolerance && Math.Abs(point.Y - waypoint.Y) <= Tolerance;

        private static bool Is(JsonElement element, string property, string value) => String(element, property) == value;

        private static string? String(JsonElement element, string property) =>
            element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

        private static double? Number(JsonElement element, string property) =>
            element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var d) ? d : null;

        private void Add(string featureId, string rule, string detail) => _problems.Add(MapProblem.Of(featureId, rule, detail));
    }
}
