using System.Globalization;
using NetTopologySuite.Geometries;
using NetTopologySuite.Geometries.Utilities;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace RobotFleet.Maps;

/// <summary>Settings of an Open-RMF building import.</summary>
public sealed record RmfImportOptions
{
    /// <summary>Default <see cref="LiftRideSeconds"/>: 20 s per level travelled.</summary>
    public const double DefaultLiftRideSeconds = 20.0;

    /// <summary>
    /// Seconds a lift ride takes per level travelled (doors, boarding and travel together; building files carry no lift
    /// timing): a ride from a lift's stop to the one two served levels up takes twice this. Finite and &gt; 0.
    /// </summary>
    public double LiftRideSeconds { get; init; } = DefaultLiftRideSeconds;

    /// <summary>Smallest accepted <see cref="MaxLaneLength"/>: 0.5 m.</summary>
    public const double MinMaxLaneLength = 0.5;

    /// <summary>
    /// The one nav graph to import (lane parameter <c>graph_idx</c>; a lane without it is graph 0, as in the traffic editor),
    /// or null (the default) to merge all graphs. With a graph chosen, only its lanes are imported, a vertex becomes a waypoint
    /// only when one of those lanes ends at it or it is the <c>lift_cabin</c> vertex of a lift that graph reaches (a lift no
    /// lane of the graph reaches is left out, warning <c>rmf-lift-off-graph</c>), and named or flagged vertices off the graph
    /// are dropped with their locations. A graph no lane of the file has makes the import fail with a
    /// <see cref="SiteMapValidationException"/> (rule <c>rmf-nav-graph</c>) that names the graphs the file has.
    /// </summary>
    public int? NavGraph { get; init; }

    /// <summary>
    /// Longest lane in metres, or null (the default) to keep lanes as drawn. Every longer lane is split into equal pieces no
    /// longer than this, with waypoints <c>{laneId}_{k}</c> inserted on the straight line between its ends; the pieces are
    /// <c>{laneId}_p{k}</c> (a two-way lane's reverse pieces <c>{laneId}_p{k}:r</c> share those waypoints) and keep the lane's
    /// speed limit. Lanes through a door and lift rides are never split. Finite and &gt;= <see cref="MinMaxLaneLength"/>
    /// (0.5 m), else the import throws <see cref="ArgumentOutOfRangeException"/>.
    /// </summary>
    public double? MaxLaneLength { get; init; }
}

/// <summary>
/// Imports an Open-RMF traffic-editor <c>*.building.yaml</c> into a <see cref="SiteMap"/> in site-local metres
/// (rules in maps/README.md); stateless and thread-safe.
/// </summary>
public static class RmfBuildingImporter
{
    /// <summary>Metres per pixel used when no level of the building has measurements.</summary>
    public const double DefaultScale = 0.05;

    /// <summary>Imports a building file; the map id is the file name without <c>.building.yaml</c>.</summary>
    /// <param name="buildingYamlPath">Path of the <c>*.building.yaml</c> file.</param>
    /// <returns>The validated map.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist; the message names it.</exception>
    /// <exception cref="SiteMapValidationException">The file cannot be read or yields an invalid map; all problems are listed.</exception>
    public static SiteMap Import(string buildingYamlPath) => Import(buildingYamlPath, new RmfImportOptions());

    /// <summary>Imports a building file with the given settings; the map id is the file name without <c>.building.yaml</c>.</summary>
    /// <param name="buildingYamlPath">Path of the <c>*.building.yaml</c> file.</param>
    /// <param name="options">Import settings (lift ride time, nav graph, longest lane).</param>
    /// <returns>The validated map.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist; the message names it.</exception>
    /// <exception cref="SiteMapValidationException">
    /// The file cannot be read or yields an invalid map, or <see cref="RmfImportOptions.NavGraph"/> is a graph the file has no
    /// lane of (rule <c>rmf-nav-graph</c>); all problems are listed.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <see cref="RmfImportOptions.LiftRideSeconds"/> is not a finite number &gt; 0, or <see cref="RmfImportOptions.MaxLaneLength"/>
    /// is set but not a finite number &gt;= 0.5 m; the message names the setting.
    /// </exception>
    public static SiteMap Import(string buildingYamlPath, RmfImportOptions options)
    {
        ArgumentNullException.ThrowIfNull(buildingYamlPath);
        ArgumentNullException.ThrowIfNull(options);
        if (!File.Exists(buildingYamlPath))
        {
            throw new FileNotFoundException($"No building file at '{buildingYamlPath}'.", buildingYamlPath);
        }
        var fileName = System.IO.Path.GetFileName(buildingYamlPath);
        var mapId = fileName.EndsWith(".building.yaml", StringComparison.OrdinalIgnoreCase)
            ? fileName[..^".building.yaml".Length]
            : System.IO.Path.GetFileNameWithoutExtension(fileName);
        using var reader = File.OpenText(buildingYamlPath);
        return Import(reader, buildingYamlPath, mapId, options);
    }

    /// <summary>Imports building YAML text from a reader.</summary>
    /// <param name="yaml">Reader over the YAML text.</param>
    /// <param name="sourceName">File name or description used in error messages.</param>
    /// <param name="mapId">Id the imported map gets.</param>
    /// <returns>The validated map.</returns>
    /// <exception cref="SiteMapValidationException">The text cannot be read or yields an invalid map; all problems are listed.</exception>
    public static SiteMap Import(TextReader yaml, string sourceName, string mapId) => Import(yaml, sourceName, mapId, new RmfImportOptions());

    /// <summary>Imports building YAML text from a reader with the given settings.</summary>
    /// <param name="yaml">Reader over the YAML text.</param>
    /// <param name="sourceName">File name or description used in error messages.</param>
    /// <param name="mapId">Id the imported map gets.</param>
    /// <param name="options">Import settings (lift ride time, nav graph, longest lane).</param>
    /// <returns>The validated map.</returns>
    /// <exception cref="SiteMapValidationException">
    /// The text cannot be read or yields an invalid map, or <see cref="RmfImportOptions.NavGraph"/> is a graph the file has no
    /// lane of (rule <c>rmf-nav-graph</c>); all problems are listed.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <see cref="RmfImportOptions.LiftRideSeconds"/> is not a finite number &gt; 0, or <see cref="RmfImportOptions.MaxLaneLength"/>
    /// is set but not a finite number &gt;= 0.5 m; the message names the setting.
    /// </exception>
    public static SiteMap Import(TextReader yaml, string sourceName, string mapId, RmfImportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!double.IsFinite(options.LiftRideSeconds) || options.LiftRideSeconds <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.LiftRideSeconds, "LiftRideSeconds must be a finite number > 0 (s).");
        }
        if (options.MaxLaneLength is { } max && (!double.IsFinite(max) || max < RmfImportOptions.MinMaxLaneLength))
        {
            throw new ArgumentOutOfRangeException(nameof(options), max,
                $"MaxLaneLength must be a finite number >= {RmfImportOptions.MinMaxLaneLength.ToString(CultureInfo.InvariantCulture)} (m), or null for no splitting.");
        }
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentNullException.ThrowIfNull(sourceName);
        ArgumentNullException.ThrowIfNull(mapId);
        var stream = new YamlStream();
        try
        {
            stream.Load(yaml);
        }
        catch (YamlException e)
        {
            throw new SiteMapValidationException(sourceName, [MapProblem.Of("", "yaml-invalid", $"the file is not valid YAML: {e.Message}")]);
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new SiteMapValidationException(sourceName, [MapProblem.Of("", "yaml-invalid", "the file is not a building map (no top-level mapping)")]);
        }
        return new Conversion(sourceName, mapId, root, options).Run();
    }

    private sealed record RmfVertex(string LevelId, int Index, double X, double Y, string Name, YamlMappingNode? Parameters);

    /// <summary>State of one import: collects problems and warnings, then builds the map.</summary>
    private sealed class Conversion(string sourceName, string mapId, YamlMappingNode root, RmfImportOptions options)
    {
        private readonly Dictionary<(string Level, string Lift), string> _cabins = [];
        private readonly List<Lift> _lifts = [];
        private readonly GeometryFactory _factory = new();
        private readonly List<MapProblem> _problems = [];
        private readonly List<MapProblem> _warnings = [];
        private readonly List<Level> _levels = [];
        private readonly List<Waypoint> _waypoints = [];
        private readonly List<Lane> _lanes = [];
        private readonly List<Location> _locations = [];
        private readonly List<Door> _doors = [];
        private readonly List<Drawing> _drawings = [];

        /// <summary>With <see cref="RmfImportOptions.NavGraph"/> set: the lifts whose cabin vertex a lane of that graph ends at; else null.</summary>
        private HashSet<string>? _liftsOnGraph;

        public SiteMap Run()
        {
            var system = Scalar(root, "coordinate_system") ?? "reference_image";
            if (system is not ("reference_image" or "cartesian_meters"))
            {
                throw new SiteMapValidationException(sourceName, [MapProblem.Of("", "rmf-coordinate-system",
                    $"coordinate_system '{system}' is not supported (reference_image or cartesian_meters)")]);
            }
            if (Child(root, "levels") is not YamlMappingNode levels || levels.Children.Count == 0)
            {
                throw new SiteMapValidationException(sourceName, [MapProblem.Of("", "rmf-structure", "the file has no levels")]);
            }

            var vertices = levels.Children.ToDictionary(
                entry => ((YamlScalarNode)entry.Key).Value!,
                entry => ReadVertices(((YamlScalarNode)entry.Key).Value!, entry.Value as YamlMappingNode));
            // With a nav graph chosen: per level, the vertices that may become waypoints (null: all graphs, no restriction).
            var keep = options.NavGraph is { } graph ? VerticesOnGraph(levels, vertices, graph) : null;
            var nameCounts = vertices.SelectMany(e => e.Value.Where(v => keep is null || keep[e.Key].Contains(v.Index)))
                .Where(v => v.Name.Length > 0)
                .CountBy(v => v.Name, StringComparer.Ordinal).ToDictionary(StringComparer.Ordinal);
            if (Child(root, "lifts") is YamlMappingNode liftNames)
            {
                // A lift's name is its id, in the same namespace as waypoint ids in a GeoJSON site: a vertex of that name is not unique.
                foreach (var lift in liftNames.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value).Where(n => n is not null && nameCounts.ContainsKey(n)))
                    nameCounts[lift!]++;
            }
            var scales = levels.Children.ToDictionary(e => ((YamlScalarNode)e.Key).Value!, e => MeasuredScale(e.Value, vertices[((YamlScalarNode)e.Key).Value!]));
            var measured = scales.Values.OfType<double>().ToArray();
            var fallbackScale = measured.Length > 0 ? measured.Average() : DefaultScale;

            foreach (var (key, node) in levels.Children)
            {
                var levelId = ((YamlScalarNode)key).Value!;
                var level = node as YamlMappingNode;
                _levels.Add(new Level(levelId, Number(level is null ? null : Child(level, "elevation")) ?? 0));
                var scale = system == "cartesian_meters" ? 1.0 : scales[levelId] ?? fallbackScale;
                var ySign = system == "cartesian_meters" ? 1.0 : -1.0;
                if (system == "reference_image" && scales[levelId] is null)
                {
                    _warnings.Add(MapProblem.Of(levelId, "rmf-scale-assumed", $"level has no measurements; using {fallbackScale:0.#####} m/px"));
                }
                ImportLevel(levelId, level, vertices[levelId], scale, ySign, nameCounts, keep?[levelId]);
            }

            ImportLifts();
            MarkDoorLanes();
            if (options.MaxLaneLength is { } maxLength && _problems.Count == 0)
            {
                // After MarkDoorLanes: lanes through a door keep their one door id and are not split.
                SplitLongLanes(maxLength);
            }
            if (_problems.Count > 0)
            {
                throw new SiteMapValidationException(sourceName, _problems);
            }
            // rmf_demos files mostly carry the placeholder name "building": the map id says more.
            var name = Scalar(root, "name") is { Length: > 0 } n && n != "building" ? n : mapId;
            return new SiteMap(mapId, name, _levels, _waypoints, _lanes, _locations, null, _doors, _drawings, null, _warnings, sourceName, _lifts);
        }

        /// <summary>
        /// The vertices of each level that the chosen nav graph keeps: the ends of its lanes and the <c>lift_cabin</c> vertices
        /// (on every level) of the lifts whose cabin one of its lanes ends at; sets <see cref="_liftsOnGraph"/>.
        /// </summary>
        /// <exception cref="SiteMapValidationException">No lane of the file is on the graph (rule <c>rmf-nav-graph</c>).</exception>
        private Dictionary<string, HashSet<int>> VerticesOnGraph(YamlMappingNode levels, Dictionary<string, List<RmfVertex>> vertices, int graph)
        {
            var present = new SortedSet<double>();
            var ends = new Dictionary<string, HashSet<int>>(StringComparer.Ordinal);
            foreach (var (key, node) in levels.Children)
            {
                var levelId = ((YamlScalarNode)key).Value!;
                var levelVertices = vertices[levelId];
                var onLevel = ends[levelId] = [];
                foreach (var entry in Entries(node as YamlMappingNode, "lanes"))
                {
                    var laneGraph = GraphOf(entry);
                    present.Add(laneGraph);
                    if (laneGraph != graph)
                    {
                        continue;
                    }
                    // Bad indices are reported when the level's lanes are imported.
                    foreach (var end in entry.Take(2))
                    {
                        if (Number(end) is { } i && i >= 0 && i < levelVertices.Count && i == Math.Floor(i))
                        {
                            onLevel.Add((int)i);
                        }
                    }
                }
            }
            if (!present.Contains(graph))
            {
                var graphs = present.Count == 0
                    ? "the file has no lanes"
                    : $"the file's lanes are on nav graph(s) {string.Join(", ", present.Select(g => g.ToString(CultureInfo.InvariantCulture)))}";
                throw new SiteMapValidationException(sourceName, [MapProblem.Of("", "rmf-nav-graph", $"no lane is on nav graph {graph} (graph_idx); {graphs}")]);
            }
            string? Cabin(string levelId, int index) => StringParameter(vertices[levelId][index].Parameters, "lift_cabin") is { Length: > 0 } c ? c : null;
            _liftsOnGraph = ends.SelectMany(e => e.Value.Select(i => Cabin(e.Key, i))).OfType<string>().ToHashSet(StringComparer.Ordinal);
            return ends.ToDictionary(
                e => e.Key,
                e => e.Value.Concat(vertices[e.Key].Where(v => Cabin(e.Key, v.Index) is { } c && _liftsOnGraph.Contains(c)).Select(v => v.Index)).ToHashSet(),
                StringComparer.Ordinal);
        }

        /// <summary>The nav graph of a lane entry: its <c>graph_idx</c> parameter, 0 without one (as in the traffic editor).</summary>
        private static double GraphOf(IList<YamlNode> laneEntry) => Number(Parameter(laneEntry.ElementAtOrDefault(2) as YamlMappingNode, "graph_idx")) ?? 0;

        /// <summary>
        /// Replaces every lane longer than <paramref name="max"/> metres (not through a door, not a lift ride) by equal pieces
        /// no longer than it: waypoints <c>{laneId}_{k}</c> on the straight line between its ends, pieces <c>{laneId}_p{k}</c>
        /// with its speed limit and width; a two-way lane's reverse becomes the pieces' reverses <c>{laneId}_p{k}:r</c>.
        /// </summary>
        private void SplitLongLanes(double max)
        {
            var waypoint = _waypoints.ToDictionary(w => w.Id, StringComparer.Ordinal);
            var byId = new Dictionary<string, Lane>(StringComparer.Ordinal);
            foreach (var lane in _lanes)
            {
                byId.TryAdd(lane.Id, lane);
            }
            bool Splits(Lane lane) => lane.Length > max && lane.DoorId is null && lane.LiftId is null;
            // The reverse half of a two-way lane, as SiteMapGeoJson pairs them: same ends swapped, speed limit and width.
            Lane? ReverseOf(Lane lane) =>
                byId.GetValueOrDefault(lane.Id + SiteMapGeoJson.TwoWayReverseSuffix) is { } r
                && r.FromWaypointId == lane.ToWaypointId && r.ToWaypointId == lane.FromWaypointId && r.LevelId == lane.LevelId
                && r.SpeedLimit == lane.SpeedLimit && r.Width == lane.Width && Splits(r)
                    ? r
                    : null;
            var pairedReverses = _lanes.Where(Splits).Select(ReverseOf).OfType<Lane>().Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
            var result = new List<Lane>(_lanes.Count);
            foreach (var lane in _lanes)
            {
                if (pairedReverses.Contains(lane.Id))
                {
                    continue; // split with its forward lane
                }
                if (!Splits(lane))
                {
                    result.Add(lane);
                    continue;
                }
                var (a, b) = (waypoint[lane.FromWaypointId], waypoint[lane.ToWaypointId]);
                var reverse = ReverseOf(lane);
                var points = Divide(lane, a, b, max);
                _waypoints.AddRange(points.Skip(1).Take(points.Count - 2));
                for (var k = 1; k < points.Count; k++)
                {
                    var piece = $"{lane.Id}_p{k.ToString(CultureInfo.InvariantCulture)}";
                    result.Add(Lane.Between(piece, points[k - 1], points[k], lane.SpeedLimit, lane.Width));
                    if (reverse is not null)
                    {
                        result.Add(Lane.Between(piece + SiteMapGeoJson.TwoWayReverseSuffix, points[k], points[k - 1], reverse.SpeedLimit, reverse.Width));
                    }
                }
            }
            _lanes.Clear();
            _lanes.AddRange(result);
        }

        /// <summary>
        /// The lane's ends with the fewest equally spaced waypoints between them (rounded to 1 µm like vertices) that leave
        /// no piece longer than <paramref name="max"/> metres.
        /// </summary>
        private static List<Waypoint> Divide(Lane lane, Waypoint a, Waypoint b, double max)
        {
            for (var pieces = (int)Math.Ceiling(lane.Length / max); ; pieces++)
            {
                var points = new List<Waypoint>(pieces + 1) { a };
                for (var k = 1; k < pieces; k++)
                {
                    var t = (double)k / pieces;
                    points.Add(new Waypoint($"{lane.Id}_{k.ToString(CultureInfo.InvariantCulture)}", lane.LevelId,
                        Math.Round(a.X + ((b.X - a.X) * t), 6), Math.Round(a.Y + ((b.Y - a.Y) * t), 6), null));
                }
                points.Add(b);
                // Rounding can leave a piece a micrometre over when the length is a multiple of max: one more piece then.
                if (points.Zip(points.Skip(1)).All(p => Lane.StraightDistance(p.First, p.Second) <= max))
                {
                    return points;
                }
            }
        }

        /// <summary>
        /// Lifts (<c>lifts:</c>): a stop on every level the lift has doors on (<c>level_doors</c>; without them, every level from
        /// <c>lowest_floor</c> to <c>highest_floor</c>) at that level's <c>lift_cabin</c> vertex, and a ride lane between every
        /// two stops taking <see cref="RmfImportOptions.LiftRideSeconds"/> per level travelled.
        /// </summary>
        private void ImportLifts()
        {
            if (Child(root, "lifts") is not YamlMappingNode lifts)
            {
                return;
            }
            var rank = _levels.OrderBy(l => l.Elevation).Select((l, i) => (l.Id, i)).ToDictionary(x => x.Id, x => x.i, StringComparer.Ordinal);
            var waypoint = _waypoints.ToDictionary(w => w.Id, StringComparer.Ordinal);
            foreach (var (key, node) in lifts.Children)
            {
                var liftId = ((YamlScalarNode)key).Value!;
                if (_liftsOnGraph is not null && !_liftsOnGraph.Contains(liftId))
                {
                    _warnings.Add(MapProblem.Of(liftId, "rmf-lift-off-graph", $"no lane of nav graph {options.NavGraph} reaches the lift's cabin; the lift is left out"));
                    continue;
                }
                var lift = node as YamlMappingNode;
                var levelDoors = lift is not null && Child(lift, "level_doors") is YamlMappingNode ld
                    ? ld.Children.ToDictionary(
                        e => ((YamlScalarNode)e.Key).Value!,
                        e => (IReadOnlyList<string>)(e.Value is YamlSequenceNode s ? s.Children.OfType<YamlScalarNode>().Select(d => d.Value!).ToArray() : []),
                        StringComparer.Ordinal)
                    : null;
                IEnumerable<string> served;
                if (levelDoors is not null)
                {
                    served = levelDoors.Keys;
                }
                else
                {
                    var low = lift is null ? null : Scalar(lift, "lowest_floor");
                    var high = lift is null ? null : Scalar(lift, "highest_floor");
                    served = low is not null && high is not null && rank.TryGetValue(low, out var lo) && rank.TryGetValue(high, out var hi)
                        ? rank.Where(r => r.Value >= lo && r.Value <= hi).Select(r => r.Key)
                        : [];
                }
                var stops = new List<LiftStop>();
                foreach (var levelId in served.Where(rank.ContainsKey).OrderBy(l => rank[l]))
                {
                    if (_cabins.TryGetValue((levelId, liftId), out var waypointId))
                    {
                        stops.Add(new LiftStop(levelId, waypointId, levelDoors?.GetValueOrDefault(levelId) ?? []));
                    }
                    else
                    {
                        _warnings.Add(MapProblem.Of(liftId, "rmf-lift-no-cabin", $"level '{levelId}' has no vertex with lift_cabin '{liftId}'; the lift does not stop there"));
                    }
                }
                if (stops.Count == 0)
                {
                    _warnings.Add(MapProblem.Of(liftId, "rmf-lift-skipped", "lift stops on no level"));
                    continue;
                }
                _lifts.Add(new Lift(liftId, stops));
                foreach (var from in stops)
                {
                    foreach (var to in stops.Where(t => t != from))
                    {
                        var levels = Math.Abs(rank[from.LevelId] - rank[to.LevelId]);
                        _lanes.Add(Lane.Between($"{liftId}:{from.LevelId}>{to.LevelId}", waypoint[from.WaypointId], waypoint[to.WaypointId]) with
                        {
                            LiftId = liftId,
                            RideSeconds = options.LiftRideSeconds * levels,
                        });
                    }
                }
            }
        }

        /// <summary>Gives every lane that crosses a door's span on its level that door's id (the first door, if several).</summary>
        private void MarkDoorLanes()
        {
            var waypoint = _waypoints.ToDictionary(w => w.Id, StringComparer.Ordinal);
            for (var i = 0; i < _lanes.Count; i++)
            {
                var lane = _lanes[i];
                if (lane.LiftId is not null)
                {
                    continue;
                }
                var (a, b) = (waypoint[lane.FromWaypointId], waypoint[lane.ToWaypointId]);
                var line = _factory.CreateLineString([new Coordinate(a.X, a.Y), new Coordinate(b.X, b.Y)]);
                if (_doors.FirstOrDefault(d => d.LevelId == lane.LevelId && d.Span.Intersects(line)) is { } door)
                {
                    _lanes[i] = lane with { DoorId = door.Id };
                }
            }
        }

        /// <summary>Imports one level's waypoints, lanes, locations, doors, walls and floors.</summary>
        /// <param name="levelId">The level's id.</param>
        /// <param name="level">The level's YAML mapping, null when empty.</param>
        /// <param name="vertices">The level's vertices.</param>
        /// <param name="scale">Metres per unit of the file's coordinates.</param>
        /// <param name="ySign">-1 to flip the image y axis north, 1 to keep it.</param>
        /// <param name="nameCounts">How often each vertex name occurs among the imported vertices of the building.</param>
        /// <param name="keep">With a nav graph chosen, the vertices that may become waypoints; null to keep every named, flagged or used one.</param>
        private void ImportLevel(string levelId, YamlMappingNode? level, List<RmfVertex> vertices, double scale, double ySign, Dictionary<string, int> nameCounts, HashSet<int>? keep)
        {
            // Rounded to the micrometre: keeps files readable, far below any robot's precision.
            Coordinate At(RmfVertex v) => new(Math.Round(v.X * scale, 6), Math.Round(ySign * v.Y * scale, 6));
            RmfVertex? Vertex(YamlNode? node, string featureId)
            {
                var index = Number(node);
                if (index is { } i && i >= 0 && i < vertices.Count && i == Math.Floor(i))
                {
                    return vertices[(int)i];
                }
                _problems.Add(MapProblem.Of(featureId, "rmf-vertex-index", $"vertex index '{(node as YamlScalarNode)?.Value}' is not a vertex of level '{levelId}'"));
                return null;
            }

            // Waypoints: every named or flagged vertex and every lane end (with a nav graph chosen: the vertices it keeps).
            // Lane ids count every lane of the level, so a lane has the same id whichever graph is imported.
            var lanes = Entries(level, "lanes").Select((entry, i) => (Id: $"{levelId}_lane{i}", Entry: entry))
                .Where(l => options.NavGraph is not { } graph || GraphOf(l.Entry) == graph)
                .ToList();
            var laneEnds = lanes.Select(l => (From: Vertex(l.Entry.ElementAtOrDefault(0), l.Id), To: Vertex(l.Entry.ElementAtOrDefault(1), l.Id), l.Id, Parameters: l.Entry.ElementAtOrDefault(2) as YamlMappingNode)).ToList();
            var used = laneEnds.SelectMany(l => new[] { l.From, l.To }).OfType<RmfVertex>().Select(v => v.Index).ToHashSet();
            var waypointAt = new Dictionary<int, Waypoint>();
            foreach (var v in vertices)
            {
                var kinds = Kinds(v.Parameters);
                if (keep is not null ? !keep.Contains(v.Index) : v.Name.Length == 0 && kinds.Count == 0 && !used.Contains(v.Index))
                {
                    continue;
                }
                var unique = v.Name.Length > 0 && nameCounts[v.Name] == 1;
                var id = unique ? v.Name : $"{levelId}_v{v.Index}";
                var at = At(v);
                var waypoint = new Waypoint(id, levelId, at.X, at.Y, v.Name.Length > 0 ? v.Name : null);
                waypointAt[v.Index] = waypoint;
                if (StringParameter(v.Parameters, "lift_cabin") is { Length: > 0 } cabin)
                {
                    _cabins.TryAdd((levelId, cabin), id);
                }
                _waypoints.Add(waypoint);
                if (v.Name.Length > 0 || kinds.Count > 0)
                {
                    var locationName = unique ? v.Name
                        : v.Name.Length > 0 ? $"{v.Name}@{id}"
                        : StringParameter(v.Parameters, "lift_cabin") is { } lift ? $"{lift}@{levelId}" : id;
                    _locations.Add(new Location(locationName, id, kinds));
                }
            }

            foreach (var (from, to, id, parameters) in laneEnds)
            {
                if (from is null || to is null)
                {
                    continue;
                }
                if (from.Index == to.Index)
                {
                    _warnings.Add(MapProblem.Of(id, "rmf-lane-skipped", "lane starts and ends at the same vertex"));
                    continue;
                }
                var speed = Number(Parameter(parameters, "speed_limit"));
                double? speedLimit = speed > 0 ? speed : null;
                _lanes.Add(Lane.Between(id, waypointAt[from.Index], waypointAt[to.Index], speedLimit));
                if (Parameter(parameters, "bidirectional") is YamlScalarNode { Value: "true" or "True" })
                {
                    _lanes.Add(Lane.Between(id + SiteMapGeoJson.TwoWayReverseSuffix, waypointAt[to.Index], waypointAt[from.Index], speedLimit));
                }
            }

            foreach (var (entry, i) in Entries(level, "doors").Select((e, i) => (e, i)))
            {
                var id = $"{levelId}_door{i}";
                if (Vertex(entry.ElementAtOrDefault(0), id) is { } a && Vertex(entry.ElementAtOrDefault(1), id) is { } b)
                {
                    var name = StringParameter(entry.ElementAtOrDefault(2) as YamlMappingNode, "name") ?? id;
                    _doors.Add(new Door(id, name, levelId, _factory.CreateLineString([At(a), At(b)])));
                }
            }

            foreach (var (entry, i) in Entries(level, "walls").Select((e, i) => (e, i)))
            {
                var id = $"{levelId}_wall{i}";
                if (Vertex(entry.ElementAtOrDefault(0), id) is { } a && Vertex(entry.ElementAtOrDefault(1), id) is { } b && a.Index != b.Index)
                {
                    _drawings.Add(new Drawing(id, levelId, DrawingKind.Wall, _factory.CreateLineString([At(a), At(b)])));
                }
            }

            var floors = level is not null && Child(level, "floors") is YamlSequenceNode f ? f.Children : [];
            foreach (var (floor, i) in floors.Select((e, i) => (e, i)))
            {
                var id = $"{levelId}_floor{i}";
                var ring = (floor is YamlMappingNode m && Child(m, "vertices") is YamlSequenceNode s ? s.Children : [])
                    .Select(n => Vertex(n, id)).OfType<RmfVertex>().Select(At).ToList();
                if (ring.Count < 3)
                {
                    _warnings.Add(MapProblem.Of(id, "rmf-floor-skipped", "floor has fewer than 3 vertices"));
                    continue;
                }
                ring.Add(ring[0]);
                Geometry shape = _factory.CreatePolygon([.. ring]);
                if (!shape.IsValid)
                {
                    shape = GeometryFixer.Fix(shape);
                    _warnings.Add(MapProblem.Of(id, "rmf-floor-fixed", "floor polygon was invalid and was repaired with GeometryFixer"));
                }
                if (shape is Polygon or MultiPolygon && !shape.IsEmpty)
                {
                    _drawings.Add(new Drawing(id, levelId, DrawingKind.Floor, shape));
                }
            }
        }

        private List<RmfVertex> ReadVertices(string levelId, YamlMappingNode? level)
        {
            var result = new List<RmfVertex>();
            foreach (var (entry, i) in Entries(level, "vertices").Select((e, i) => (e, i)))
            {
                if (Number(entry.ElementAtOrDefault(0)) is not { } x || Number(entry.ElementAtOrDefault(1)) is not { } y)
                {
                    _problems.Add(MapProblem.Of($"{levelId}_v{i}", "rmf-vertex-invalid", "vertex needs numeric x and y"));
                    x = y = 0;
                }
                var name = (entry.ElementAtOrDefault(3) as YamlScalarNode)?.Value ?? "";
                result.Add(new RmfVertex(levelId, i, x, y, name, entry.ElementAtOrDefault(4) as YamlMappingNode));
            }
            return result;
        }

        /// <summary>Mean of measured metres per pixel on a level, or null when it has none.</summary>
        private double? MeasuredScale(YamlNode level, List<RmfVertex> vertices)
        {
            var ratios = new List<double>();
            foreach (var entry in Entries(level as YamlMappingNode, "measurements"))
            {
                var a = Number(entry.ElementAtOrDefault(0));
                var b = Number(entry.ElementAtOrDefault(1));
                var metres = Number(Parameter(entry.ElementAtOrDefault(2) as YamlMappingNode, "distance"));
                if (a is not { } ia || b is not { } ib || metres is not { } m || ia < 0 || ib < 0 || ia >= vertices.Count || ib >= vertices.Count)
                {
                    continue;
                }
                var (va, vb) = (vertices[(int)ia], vertices[(int)ib]);
                var pixels = Math.Sqrt(((va.X - vb.X) * (va.X - vb.X)) + ((va.Y - vb.Y) * (va.Y - vb.Y)));
                if (pixels > 0 && m > 0)
                {
                    ratios.Add(m / pixels);
                }
            }
            return ratios.Count > 0 ? ratios.Average() : null;
        }

        private static HashSet<LocationKind> Kinds(YamlMappingNode? parameters)
        {
            var kinds = new HashSet<LocationKind>();
            void AddIf(bool condition, LocationKind kind)
            {
                if (condition)
                {
                    kinds.Add(kind);
                }
            }
            AddIf(Parameter(parameters, "is_charger") is YamlScalarNode { Value: "true" or "True" }, LocationKind.Charger);
            AddIf(Parameter(parameters, "is_parking_spot") is YamlScalarNode { Value: "true" or "True" }, LocationKind.Parking);
            AddIf(!string.IsNullOrEmpty(StringParameter(parameters, "pickup_dispenser")), LocationKind.Pickup);
            AddIf(!string.IsNullOrEmpty(StringParameter(parameters, "dropoff_ingestor")), LocationKind.Dropoff);
            AddIf(!string.IsNullOrEmpty(StringParameter(parameters, "lift_cabin")), LocationKind.Lift);
            return kinds;
        }

        /// <summary>The value of a traffic-editor parameter <c>name: [type, value]</c>.</summary>
        private static YamlNode? Parameter(YamlMappingNode? parameters, string name) =>
            parameters is not null && Child(parameters, name) is YamlSequenceNode { Children.Count: 2 } typed ? typed.Children[1] : null;

        private static string? StringParameter(YamlMappingNode? parameters, string name) => (Parameter(parameters, name) as YamlScalarNode)?.Value;

        private static IEnumerable<IList<YamlNode>> Entries(YamlMappingNode? level, string key) =>
            level is not null && Child(level, key) is YamlSequenceNode sequence
                ? sequence.Children.Select(c => c is YamlSequenceNode s ? s.Children : (IList<YamlNode>)[])
                : [];

        private static YamlNode? Child(YamlMappingNode node, string key) =>
            node.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child : null;

        private static string? Scalar(YamlMappingNode node, string key) => (Child(node, key) as YamlScalarNode)?.Value;

        private static double? Number(YamlNode? node) =>
            node is YamlScalarNode { Value: { } text } && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
                ? value
                : null;
    }
}
