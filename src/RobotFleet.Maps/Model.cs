using NetTopologySuite.Geometries;

namespace RobotFleet.Maps;

/// <summary>The purposes a <see cref="Location"/> can serve; a location may have several or none.</summary>
public enum LocationKind
{
    /// <summary>Goods are picked up here.</summary>
    Pickup,
    /// <summary>Goods are dropped off here.</summary>
    Dropoff,
    /// <summary>A robot charges here.</summary>
    Charger,
    /// <summary>A robot may park here while idle.</summary>
    Parking,
    /// <summary>A door a robot passes through.</summary>
    Door,
    /// <summary>A docking station.</summary>
    Dock,
    /// <summary>A lift (elevator) cabin or landing.</summary>
    Lift,
}

/// <summary>A floor of a site; every waypoint, lane, zone, door and drawing belongs to one level.</summary>
/// <param name="Id">Unique level id, e.g. <c>L1</c>.</param>
/// <param name="Elevation">Height of the floor above the site datum, in metres.</param>
public sealed record Level(string Id, double Elevation);

/// <summary>A map vertex robots drive to, in site-local metres (x east, y north) on one level.</summary>
/// <param name="Id">Unique waypoint id.</param>
/// <param name="LevelId">Id of the <see cref="Level"/> the waypoint is on.</param>
/// <param name="X">Easting in site-local metres.</param>
/// <param name="Y">Northing in site-local metres.</param>
/// <param name="Name">Optional human-readable name.</param>
public sealed record Waypoint(string Id, string LevelId, double X, double Y, string? Name);

/// <summary>A directed, straight connection a robot may drive from one waypoint to another.</summary>
/// <param name="Id">Unique lane id (a two-way lane in GeoJSON becomes <c>id</c> and <c>id:r</c>).</param>
/// <param name="FromWaypointId">Waypoint the lane starts at.</param>
/// <param name="ToWaypointId">Waypoint the lane ends at.</param>
/// <param name="LevelId">Id of the level the lane is on.</param>
/// <param name="Length">Length in metres; must equal the straight distance between the waypoints (within 1 mm), see <see cref="Between"/>.</param>
/// <param name="SpeedLimit">Optional speed limit in metres per second.</param>
/// <param name="Width">Optional usable width in metres.</param>
/// <remarks>
/// A lift ride is a lane too (<see cref="LiftId"/> set): from the lift's waypoint on one level to its waypoint on another,
/// taking <see cref="RideSeconds"/> whatever its length; its <see cref="LevelId"/> is the level it starts on.
/// </remarks>
public sealed record Lane(string Id, string FromWaypointId, string ToWaypointId, string LevelId, double Length, double? SpeedLimit, double? Width)
{
    /// <summary>Id of the <see cref="Door"/> (<see cref="Door.Id"/>) this lane passes through, on the lane's level; null when it crosses none. The door must be open for a robot to drive the lane.</summary>
    public string? DoorId { get; init; }

    /// <summary>Id of the <see cref="Lift"/> this lane rides from one level to another; null for a lane on one level.</summary>
    public string? LiftId { get; init; }

    /// <summary>For a lift ride: how long the ride takes in seconds (doors, boarding and travel), used instead of length / speed; null for other lanes.</summary>
    public double? RideSeconds { get; init; }

    /// <summary>Creates a straight lane between two waypoints on the first one's level, computing its length in metres.</summary>
    /// <param name="id">Unique lane id.</param>
    /// <param name="from">Start waypoint.</param>
    /// <param name="to">End waypoint.</param>
    /// <param name="speedLimit">Optional speed limit in metres per second.</param>
    /// <param name="width">Optional usable width in metres.</param>
    /// <returns>The lane.</returns>
    public static Lane Between(string id, Waypoint from, Waypoint to, double? speedLimit = null, double? width = null)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        return new Lane(id, from.Id, to.Id, from.LevelId, StraightDistance(from, to), speedLimit, width);
    }

    /// <summary>Straight-line distance between two waypoints in the horizontal plane, in metres (levels ignored).</summary>
    /// <param name="a">One waypoint.</param>
    /// <param name="b">The other waypoint.</param>
    /// <returns>The distance in metres.</returns>
    public static double StraightDistance(Waypoint a, Waypoint b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var (dx, dy) = (a.X - b.X, a.Y - b.Y);
        return Math.Sqrt((dx * dx) + (dy * dy));
    }
}

/// <summary>A named place with purposes (pickup, charger, ...) at a waypoint; names are unique and case-sensitive.</summary>
/// <param name="Name">Unique name operators use, e.g. <c>pantry</c>.</param>
/// <param name="WaypointId">Waypoint the location is at.</param>
/// <param name="Kinds">Purposes of the place; may be empty for a merely named place.</param>
public sealed record Location(string Name, string WaypointId, IReadOnlySet<LocationKind> Kinds);

/// <summary>The rule an area imposes on robots inside it.</summary>
public enum ZoneKind
{
    /// <summary>Robots must not enter.</summary>
    KeepOut,
    /// <summary>Robots drive at most at the zone's speed limit.</summary>
    SlowDown,
    /// <summary>Traffic flows in one direction only (lanes carry the direction).</summary>
    OneWay,
    /// <summary>At most one robot at a time.</summary>
    Exclusive,
}

/// <summary>An area with a traffic rule on one level.</summary>
/// <param name="Id">Unique zone id.</param>
/// <param name="LevelId">Id of the level the zone is on.</param>
/// <param name="Kind">The rule the zone imposes.</param>
/// <param name="Area">Valid polygon in site-local metres.</param>
/// <param name="SpeedLimit">Optional speed limit in metres per second (meaningful for <see cref="ZoneKind.SlowDown"/>).</param>
public sealed record Zone(string Id, string LevelId, ZoneKind Kind, Polygon Area, double? SpeedLimit);

/// <summary>A door on one level, kept from imports so the fleet can open it.</summary>
/// <param name="Id">Unique door id.</param>
/// <param name="Name">Door name used by building systems, e.g. <c>main_door</c>.</param>
/// <param name="LevelId">Id of the level the door is on.</param>
/// <param name="Span">Line across the door opening in site-local metres.</param>
public sealed record Door(string Id, string Name, string LevelId, LineString Span);

/// <summary>Where a <see cref="Lift"/> stops: its waypoint (the cabin) on one level and the lift doors that open there.</summary>
/// <param name="LevelId">Id of the level.</param>
/// <param name="WaypointId">The lift's waypoint on that level, where a robot waits in the cabin.</param>
/// <param name="DoorNames">Names of the lift's doors that open on that level (building-system names, e.g. <c>lift1_door</c>).</param>
public sealed record LiftStop(string LevelId, string WaypointId, IReadOnlyList<string> DoorNames);

/// <summary>
/// A lift (elevator) linking the levels it serves: one <see cref="LiftStop"/> per level, and a ride lane
/// (<see cref="Lane.LiftId"/>, <see cref="Lane.RideSeconds"/>) between every two of its stops in <see cref="SiteMap.Lanes"/>.
/// </summary>
/// <param name="Id">Unique lift id, e.g. <c>Lift1</c> (the name building systems use).</param>
/// <param name="Stops">Stops, lowest level first.</param>
public sealed record Lift(string Id, IReadOnlyList<LiftStop> Stops);

/// <summary>What a <see cref="Drawing"/> shows; drawings are for display only and never affect routing.</summary>
public enum DrawingKind
{
    /// <summary>A wall segment (line string).</summary>
    Wall,
    /// <summary>A room outline (polygon).</summary>
    Room,
    /// <summary>A floor area (polygon).</summary>
    Floor,
}

/// <summary>A display-only shape (wall, room or floor) on one level, in site-local metres.</summary>
/// <param name="Id">Unique drawing id.</param>
/// <param name="LevelId">Id of the level the drawing is on.</param>
/// <param name="Kind">What the shape shows.</param>
/// <param name="Shape">A line string for walls, a polygon or multi-polygon for rooms and floors.</param>
public sealed record Drawing(string Id, string LevelId, DrawingKind Kind, Geometry Shape);

/// <summary>Where the site's local frame sits on the earth, for drawing the site on a world map only.</summary>
/// <param name="Longitude">WGS84 longitude of the local origin, in degrees.</param>
/// <param name="Latitude">WGS84 latitude of the local origin, in degrees.</param>
/// <param name="Bearing">Compass bearing of the local +y axis, in degrees clockwise from true north.</param>
public sealed record GeoAnchor(double Longitude, double Latitude, double Bearing);

/// <summary>One thing wrong with a map, naming the feature and the rule it breaks.</summary>
/// <param name="FeatureId">Id of the offending feature (empty when the feature has no id or the problem is file-wide).</param>
/// <param name="Rule">Stable rule name, e.g. <c>lane-waypoint-unknown</c> (see maps/README.md).</param>
/// <param name="Message">Human-readable explanation naming the feature id and the rule.</param>
public sealed record MapProblem(string FeatureId, string Rule, string Message)
{
    /// <summary>Creates a problem whose message is prefixed with the feature id and rule.</summary>
    /// <param name="featureId">Id of the offending feature.</param>
    /// <param name="rule">Rule name.</param>
    /// <param name="detail">What is wrong.</param>
    /// <returns>The problem.</returns>
    public static MapProblem Of(string featureId, string rule, string detail) =>
        new(featureId, rule, featureId.Length == 0 ? $"{detail} [{rule}]" : $"feature '{featureId}': {detail} [{rule}]");

    /// <inheritdoc />
    public override string ToString() => Message;
}

/// <summary>Thrown when a map breaks one or more rules; lists every problem found, not just the first.</summary>
public sealed class SiteMapValidationException : Exception
{
    /// <summary>Creates the exception for the given source and problems.</summary>
    /// <param name="source">File name or other description of where the map came from.</param>
    /// <param name="problems">All problems found (at least one).</param>
    public SiteMapValidationException(string source, IReadOnlyList<MapProblem> problems)
        : base(FormatMessage(source, problems))
    {
        Source = source;
        Problems = problems;
    }

    /// <summary>Every problem found in the map.</summary>
    public IReadOnlyList<MapProblem> Problems { get; }

    /// <summary>File name or other description of where the map came from.</summary>
    public new string Source { get; }

    private static string FormatMessage(string source, IReadOnlyList<MapProblem> problems) =>
        $"{source}: {problems.Count} map problem(s):" + string.Concat(problems.Select(p => Environment.NewLine + "  " + p.Message));
}
