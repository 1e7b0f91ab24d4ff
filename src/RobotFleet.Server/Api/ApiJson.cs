using System.Text.Json;
using System.Text.Json.Serialization;
using RobotFleet.ControlPlane.Missions;
using RobotFleet.ControlPlane.Schedules;
using RobotFleet.Contracts;
using RobotFleet.Gateway;
using RobotFleet.Maps;

namespace RobotFleet.Server.Api;

/// <summary>An API error body: what is wrong and, where it applies, which request field.</summary>
/// <param name="Error">Message naming the problem and the value at fault.</param>
/// <param name="Field">Request field at fault, if any.</param>
public sealed record ApiError(string Error, string? Field = null);

/// <summary>Body of <c>POST /api/missions</c> (fields per kind: see <see cref="SubmitMission"/>).</summary>
/// <param name="Kind">Mission kind: <c>delivery</c>, <c>patrol</c>, <c>clean</c>, <c>charge</c>, <c>park</c>, <c>sequence</c>.</param>
/// <param name="Pickup">Pickup location name (delivery).</param>
/// <param name="Dropoff">Dropoff location name (delivery).</param>
/// <param name="Priority">0 (routine) .. 3 (urgent); default 0.</param>
/// <param name="Locations">Location names or waypoint ids in order (patrol; clean without a zone).</param>
/// <param name="Rounds">Patrol rounds; default 1.</param>
/// <param name="Zone">Zone id to clean.</param>
/// <param name="Location">Charger (charge) or parking place (park); omitted: a free one.</param>
/// <param name="TargetCharge">Charge: percent at which it is done; default 90.</param>
/// <param name="Robot">Pin to a robot, <c>manufacturer/serialNumber</c>.</param>
/// <param name="RequiredActions">Action types the robot must support.</param>
/// <param name="Deadline">Optional deadline (ISO 8601). Not in a schedule's mission template: use <paramref name="DeadlineSeconds"/>.</param>
/// <param name="Steps">Sequence steps: <c>{"goTo":"..."}</c>, <c>{"action":"..."}</c>, <c>{"waitSeconds":n}</c>.</param>
/// <param name="DeadlineSeconds">Optional deadline in seconds after submission (for a schedule: after each firing); not with <paramref name="Deadline"/>.</param>
public sealed record MissionRequest(
    string? Kind, string? Pickup, string? Dropoff, int? Priority,
    IReadOnlyList<string>? Locations = null, int? Rounds = null, string? Zone = null, string? Location = null, double? TargetCharge = null,
    string? Robot = null, IReadOnlyList<string>? RequiredActions = null, DateTimeOffset? Deadline = null, IReadOnlyList<MissionStep>? Steps = null,
    double? DeadlineSeconds = null)
{
    private static string KindNames => string.Join(", ", Enum.GetNames<MissionKind>().Select(n => n.ToLowerInvariant()));

    /// <summary>
    /// The request's own checks (kind, robot spelling, deadlines), shared by <c>POST /api/missions</c> and the mission template
    /// of <c>POST /api/schedules</c>; everything else is checked by the coordinator. Error fields are prefixed with
    /// <paramref name="fieldPrefix"/> (e.g. <c>mission.</c>).
    /// </summary>
    /// <param name="fieldPrefix">Prefix of the error's field.</param>
    /// <param name="template">The template: every field, the deadline as <see cref="MissionTemplate.DeadlineSeconds"/> when given so.</param>
    /// <returns>Null when valid, else the error.</returns>
    public ApiError? TryMap(string fieldPrefix, out MissionTemplate template)
    {
        template = null!;
        if (string.IsNullOrWhiteSpace(Kind))
            return new ApiError($"kind is required ({KindNames})", fieldPrefix + "kind");
        if (!Enum.TryParse<MissionKind>(Kind, ignoreCase: true, out var kind) || !Enum.IsDefined(kind) || int.TryParse(Kind, out _))
            return new ApiError($"unknown mission kind '{Kind}'; supported: {KindNames}", fieldPrefix + "kind");
        RobotId? robot = null;
        if (Robot is { } pinned)
        {
            var slash = pinned.IndexOf('/');
            if (slash <= 0 || slash == pinned.Length - 1)
                return new ApiError($"robot '{pinned}' must be 'manufacturer/serialNumber'", fieldPrefix + "robot");
            robot = new RobotId(pinned[..slash], pinned[(slash + 1)..]);
        }

        if (Deadline is not null && DeadlineSeconds is not null)
            return new ApiError("give deadline or deadlineSeconds, not both", fieldPrefix + "deadlineSeconds");
        if (DeadlineSeconds is { } seconds && seconds is not (> 0 and <= 31_536_000))
            return new ApiError($"deadlineSeconds {seconds} is outside (0, 31536000]", fieldPrefix + "deadlineSeconds");

        template = new MissionTemplate(kind, Pickup, Dropoff, Priority ?? 0, Locations, Rounds, Zone, Location, TargetCharge, robot, RequiredActions, DeadlineSeconds, Steps);
        return null;
    }

    /// <summary>A stored template as the API shows it (the shape it was given in).</summary>
    /// <param name="t">The template.</param>
    public static MissionRequest From(MissionTemplate t) => new(
        t.Kind.ToString().ToLowerInvariant(), t.Pickup, t.Dropoff, t.Priority, t.Locations, t.Rounds, t.Zone, t.Location, t.TargetCharge,
        t.Robot?.ToString(), t.RequiredActions, null, t.Steps, t.DeadlineSeconds);
}

/// <summary>Body of <c>POST /api/missions/{id}/reassign</c>.</summary>
/// <param name="Robot">Robot to pin the mission to, <c>manufacturer/serialNumber</c>; null unpins it (the dispatcher chooses).</param>
public sealed record ReassignRequest(string? Robot);

/// <summary>Body of <c>POST /api/missions/{id}/priority</c>.</summary>
/// <param name="Priority">New priority, 0..3.</param>
public sealed record PriorityRequest(int? Priority);

/// <summary>A mission as the API shows it.</summary>
public sealed record MissionDto(
    string Id, string Kind, string Status, string? Robot, string? Pickup, string? Dropoff, int Priority,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string? OrderId, string? FailureReason, IReadOnlyList<TransitionDto> History,
    IReadOnlyList<string> Waypoints, string? PinnedRobot, DateTimeOffset? Deadline, IReadOnlyList<string> FailedRobots)
{
    /// <summary>Maps a mission snapshot.</summary>
    public static MissionDto From(MissionView m) => new(
        m.Id, m.Kind.ToString().ToLowerInvariant(), m.Status.ToString(), m.Robot?.ToString(), m.Pickup, m.Dropoff, m.Priority,
        m.CreatedAt, m.UpdatedAt, m.OrderId, m.FailureReason,
        m.History.Select(h => new TransitionDto(h.Timestamp, h.Status.ToString(), h.Actor, h.Reason)).ToList(),
        m.Waypoints, m.PinnedRobot?.ToString(), m.Deadline, m.FailedRobots.Select(r => r.ToString()).ToList());
}

/// <summary>One entry of a mission's timeline.</summary>
public sealed record TransitionDto(DateTimeOffset Timestamp, string Status, string Actor, string Reason);

/// <summary>
/// One entry of <c>GET /api/missions/{id}/history</c>, as the mission state machine recorded it: the fields of
/// <see cref="TransitionDto"/> (<c>status</c> is the status after it) plus the status before, the lifecycle event, its
/// sequence, the robot and order concerned, and whether the transition was legal (<c>accepted</c> false: recorded, not applied).
/// </summary>
public sealed record HistoryEntryDto(
    DateTimeOffset Timestamp, string Status, string Actor, string Reason, string From, string Event, long Sequence, string? Robot, string? OrderId, bool Accepted)
{
    /// <summary>Maps a state machine history entry.</summary>
    public static HistoryEntryDto Of(RobotFleet.ControlPlane.Missions.Lifecycle.MissionHistoryEntry h) =>
        new(h.Timestamp, h.To, h.Actor, h.Reason, h.From, h.Event, h.Sequence, h.Robot, h.OrderId, h.Accepted);

    /// <summary>Maps the coordinator's own history (served while the state machine has not seen the mission yet).</summary>
    public static IReadOnlyList<HistoryEntryDto> Of(MissionView m) => m.History.Select((h, i) => new HistoryEntryDto(
        h.Timestamp, h.Status.ToString(), h.Actor, h.Reason, i == 0 ? "Initial" : m.History[i - 1].Status.ToString(),
        (h.Fact?.ToString() ?? "").ToLowerInvariant(), i + 1, h.Robot?.ToString(), h.OrderId, true)).ToList();
}

/// <summary>
/// A robot as the API shows it; <c>connection</c> uses the VDA 5050 words (ONLINE, OFFLINE, CONNECTIONBROKEN, UNKNOWN);
/// <c>tags</c> are the operator's tags (null in the live stream, which does not carry them).
/// </summary>
public sealed record RobotDto(
    string Manufacturer, string SerialNumber, string Connection, PositionDto? Position, double? Battery, bool Charging,
    string OrderId, string LastNodeId, bool Driving, bool Paused, IReadOnlyList<ErrorDto> Errors, DateTimeOffset? LastStateAt,
    IReadOnlyList<string>? Tags = null)
{
    /// <summary>Maps a twin without its tags (the live stream).</summary>
    public static RobotDto From(RobotTwin t) => From(t, null);

    /// <summary>Maps a twin and its tags.</summary>
    public static RobotDto From(RobotTwin t, IReadOnlyList<string>? tags) => new(
        t.Robot.Manufacturer, t.Robot.SerialNumber, t.Connection.ToString().ToUpperInvariant(),
        t.Position is { } p ? new PositionDto(p.X, p.Y, p.Theta, p.MapId) : null,
        t.BatteryCharge, t.Charging, t.OrderId, t.LastNodeId, t.Driving, t.Paused,
        t.Errors.Select(e => new ErrorDto(e.ErrorType, e.Level, e.Description)).ToList(), t.LastStateAt, tags);
}

/// <summary>Position in site metres and radians.</summary>
public sealed record PositionDto(double X, double Y, double Theta, string MapId);

/// <summary>A robot error.</summary>
public sealed record ErrorDto(string ErrorType, string ErrorLevel, string? ErrorDescription);

/// <summary>A named location.</summary>
public sealed record LocationDto(string Name, string WaypointId, IReadOnlyList<string> Kinds, double X, double Y, string Level)
{
    /// <summary>Maps a location.</summary>
    public static LocationDto From(Location l, SiteMap map)
    {
        var w = map.Waypoints[l.WaypointId];
        return new(l.Name, l.WaypointId, l.Kinds.Select(k => k.ToString().ToLowerInvariant()).Order(StringComparer.Ordinal).ToList(), w.X, w.Y, w.LevelId);
    }
}

/// <summary>JSON settings of the HTTP API: camelCase, enums as strings, nulls written.</summary>
public static partial class ApiJson
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<JsonSerializerOptions, JsonSerializerOptions> StrictOptions = new();

    [System.Text.RegularExpressions.GeneratedRegex(@"The JSON property '(?<name>[^']+)' could not be mapped")]
    private static partial System.Text.RegularExpressions.Regex UnknownProperty();

    /// <summary>
    /// Reads a JSON request body whatever its Content-Type (curl's default form type included) with the
    /// API's settings; a body that is not valid JSON, or a field of the wrong type, gives a 400 naming
    /// the field and never an internal type name. A field the request type does not have is refused too (400 naming it),
    /// so a misspelt optional field is not lost silently.
    /// </summary>
    /// <returns>The value (null for an empty body or <c>null</c>), or the 400 result to return.</returns>
    public static async Task<(T? Value, IResult? Invalid)> ReadBodyAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        var configured = request.HttpContext.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
        var options = StrictOptions.GetValue(configured, o => new JsonSerializerOptions(o) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow });
        try
        {
            if (request.ContentLength == 0)
                return (null, null);
            return (await JsonSerializer.DeserializeAsync<T>(request.Body, options, cancellationToken), null);
        }
        catch (JsonException e) when (UnknownProperty().Match(e.Message) is { Success: true } unknown)
        {
            var name = unknown.Groups["name"].Value;
            var parent = (e.Path ?? "$").TrimStart('$', '.');
            var field = parent.Length == 0 || parent.EndsWith(name, StringComparison.Ordinal) ? (parent.Length == 0 ? name : parent) : $"{parent}.{name}";
            return (null, Results.BadRequest(new ApiError($"unknown field '{field}' (misspelt? fields are camelCase, see the README's HTTP API)", field)));
        }
        catch (JsonException e) when (e.Path is { Length: > 1 } path && e.Message.Contains("could not be converted", StringComparison.Ordinal))
        {
            var field = path.TrimStart('$', '.');
            return (null, Results.BadRequest(new ApiError($"field '{field}' has a value of the wrong type", field)));
        }
        catch (JsonException e) when (e.Message.Contains("could not be converted", StringComparison.Ordinal))
        {
            return (null, Results.BadRequest(new ApiError("request body must be a JSON object")));
        }
        catch (JsonException e)
        {
            var reason = e.Message.Split(" Path:", 2)[0];
            return (null, Results.BadRequest(new ApiError($"request body is not valid JSON: {reason} (at {e.Path ?? "$"}, line {e.LineNumber + 1})")));
        }
    }

    /// <summary>Applies the API's JSON settings.</summary>
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.Converters.Add(new JsonStringEnumConverter());
    }
}
