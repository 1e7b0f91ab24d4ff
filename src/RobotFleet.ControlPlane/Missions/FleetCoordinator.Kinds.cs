using NetTopologySuite.Geometries;
using RobotFleet.Contracts;
using RobotFleet.Maps;

namespace RobotFleet.ControlPlane.Missions;

/// <summary>An action to run at a target, before it gets its id (ids depend on the order id of the attempt).</summary>
/// <param name="Type">VDA action type.</param>
/// <param name="Parameters">Action parameters.</param>
internal sealed record ActionTemplate(string Type, IReadOnlyDictionary<string, string> Parameters);

/// <summary>A waypoint a mission visits, with the actions to run there.</summary>
/// <param name="WaypointId">Waypoint.</param>
/// <param name="Actions">Actions there, in order.</param>
internal sealed record TargetTemplate(string WaypointId, IReadOnlyList<ActionTemplate> Actions);

/// <summary>
/// What a mission asks of a robot, worked out once on submission: targets in order (empty for a charge or park
/// mission that picks a free place when assigned), where it starts, estimates for dispatch, and requirements.
/// </summary>
internal sealed record MissionSpec(
    MissionKind Kind,
    IReadOnlyList<TargetTemplate> Targets,
    LocationKind? FreePlaceKind,
    string StartWaypointId,
    double DurationSeconds,
    double RouteMetres,
    IReadOnlySet<string>? RequiredActions,
    double? TargetCharge);

/// <summary>Mission kinds: validation of a submission and its targets.</summary>
public sealed partial class FleetCoordinator : RobotFleet.ControlPlane.Schedules.IMissionCheck
{
    private static readonly Dictionary<string, string> NoParameters = [];

    /// <summary>
    /// Runs the checks of <see cref="SubmitAsync"/> (map, factsheets, known robots, routes) on a mission without storing it:
    /// null when it would be accepted now, else the same rejection (field and reason).
    /// </summary>
    /// <param name="mission">The mission.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public Task<MissionRejected?> CheckAsync(SubmitMission mission, CancellationToken cancellationToken) =>
        UnderLockAsync(() => BuildSpec(mission) as MissionRejected, cancellationToken);

    /// <summary>
    /// Builds the spec of a submitted mission, or the rejection naming the field at fault. Reads only the map and the factsheets
    /// (not when <paramref name="restoring"/> an accepted mission after a restart: robots are not known yet).
    /// </summary>
    private object BuildSpec(SubmitMission c, bool restoring = false)
    {
        MissionRejected Reject(string field, string reason) => new(c.MissionId, field, reason);
        if (c.Priority is < 0 or > 3)
            return Reject("priority", $"priority {c.Priority} is outside 0..3");

        var targets = new List<TargetTemplate>();
        LocationKind? freeKind = null;
        double? targetCharge = null;
        var implied = new List<string>();
        switch (c.Kind)
        {
            case MissionKind.Delivery:
                if (ValidateLocation(c.MissionId, "pickup", c.Pickup) is { } badPickup)
                    return badPickup;
                if (ValidateLocation(c.MissionId, "dropoff", c.Dropoff) is { } badDropoff)
                    return badDropoff;
                if (c.Pickup == c.Dropoff)
                    return Reject("dropoff", $"dropoff '{c.Dropoff}' is the same location as pickup");
                targets.Add(new(LocationWaypoint(c.Pickup!), [new("pick", new Dictionary<string, string> { ["location"] = c.Pickup! })]));
                targets.Add(new(LocationWaypoint(c.Dropoff!), [new("drop", new Dictionary<string, string> { ["location"] = c.Dropoff! })]));
                implied.AddRange(["pick", "drop"]);
                break;

            case MissionKind.Patrol:
                if (c.Locations is not { Count: > 0 })
                    return Reject("locations", "locations is required for a patrol: the location names or waypoint ids to visit, in order");
                if (c.Rounds is < 1 or > 1000)
                    return Reject("rounds", $"rounds {c.Rounds} is outside 1..1000");
                var round = new List<TargetTemplate>();
                for (var i = 0; i < c.Locations.Count; i++)
                {
                    if (ResolvePlace(c.Locations[i]) is not { } waypoint)
                        return Reject("locations", $"locations[{i}]: unknown location or waypoint '{c.Locations[i]}'");
                    round.Add(new(waypoint, []));
                }

                for (var r = 0; r < c.Rounds; r++)
                    targets.AddRange(round);
                break;

            case MissionKind.Clean:
                IEnumerable<string> places;
                if (c.Zone is { Length: > 0 } zoneId)
                {
                    if (options.Map.Zones.FirstOrDefault(z => z.Id == zoneId) is not { } zone)
                        return Reject("zone", options.Map.Zones.Count == 0
                            ? $"unknown zone '{zoneId}': map '{options.Map.Id}' has no zones; give \"locations\" to clean instead"
                            : $"unknown zone '{zoneId}'; known zones: {string.Join(", ", options.Map.Zones.Select(z => z.Id).Order(StringComparer.Ordinal))}");
                    places = ZoneWaypoints(zone);
                    if (!places.Any())
                        return Reject("zone", $"zone '{zoneId}' contains no waypoint");
                }
                else if (c.Locations is { Count: > 0 })
                {
                    var resolved = new List<string>();
                    for (var i = 0; i < c.Locations.Count; i++)
                    {
                        if (ResolvePlace(c.Locations[i]) is not { } waypoint)
                            return Reject("locations", $"locations[{i}]: unknown location or waypoint '{c.Locations[i]}'");
                        resolved.Add(waypoint);
                    }

                    places = resolved;
                }
                else
                {
                    return Reject("zone", "zone (or a list of locations) is required for a clean mission");
                }

                var zoneParameter = new Dictionary<string, string> { ["zone"] = c.Zone ?? "" };
                targets.AddRange(places.Select(w => new TargetTemplate(w, [new ActionTemplate("clean", zoneParameter)])));
                implied.Add("clean");
                break;

            case MissionKind.Charge:
            case MissionKind.Park:
                var kind = c.Kind == MissionKind.Charge ? LocationKind.Charger : LocationKind.Parking;
                var word = c.Kind == MissionKind.Charge ? "charger" : "parking";
                if (c.TargetCharge is { } charge && (c.Kind != MissionKind.Charge || charge is <= 0 or > 100))
                    return Reject("targetCharge", c.Kind == MissionKind.Charge ? $"targetCharge {charge} is outside (0, 100]" : "targetCharge applies to charge missions only");
                ActionTemplate[] actions = c.Kind == MissionKind.Charge ? [new("startCharging", NoParameters)] : [];
                if (c.Location is { Length: > 0 } name)
                {
                    if (options.Map.FindLocation(name) is not { } location || !location.Kinds.Contains(kind))
                        return Reject("location", $"'{name}' is not a {word} location; {word} locations: {string.Join(", ", options.Map.LocationsOfKind(kind).Select(l => l.Name).Order(StringComparer.Ordinal))}");
                    targets.Add(new(location.WaypointId, actions));
                }
                else if (!options.Map.LocationsOfKind(kind).Any())
                {
                    return Reject("kind", $"the map has no {word} location");
                }
                else
                {
                    freeKind = kind;
                }

                if (c.Kind == MissionKind.Charge)
                {
                    targetCharge = c.TargetCharge ?? options.ChargeTargetPercent;
                    implied.Add("startCharging");
                }

                break;

            case MissionKind.Sequence:
                if (c.Steps is not { Count: > 0 })
                    return Reject("steps", "steps is required for a sequence: [{\"goTo\":\"...\"}, {\"action\":\"...\"}, {\"waitSeconds\":5}]");
                for (var i = 0; i < c.Steps.Count; i++)
                {
                    var step = c.Steps[i];
                    var given = (step.GoTo is null ? 0 : 1) + (step.Action is null ? 0 : 1) + (step.WaitSeconds is null ? 0 : 1);
                    if (given != 1)
                        return Reject($"steps[{i}]", $"steps[{i}] must have exactly one of goTo, action, waitSeconds");
                    if (step.GoTo is { } goTo)
                    {
                        if (ResolvePlace(goTo) is not { } waypoint)
                            return Reject($"steps[{i}].goTo", $"steps[{i}].goTo: unknown location or waypoint '{goTo}'");
                        targets.Add(new(waypoint, []));
                        continue;
                    }

                    if (targets.Count == 0)
                        return Reject($"steps[{i}]", "the first step of a sequence must be a goTo");
                    ActionTemplate action;
                    if (step.Action is { } type)
                    {
                        if (string.IsNullOrWhiteSpace(type))
                            return Reject($"steps[{i}].action", $"steps[{i}].action is empty");
                        action = new(type, NoParameters);
                        implied.Add(type);
                    }
                    else
                    {
                        if (step.WaitSeconds is not (> 0 and <= 3600))
                            return Reject($"steps[{i}].waitSeconds", $"steps[{i}].waitSeconds {step.WaitSeconds} is outside (0, 3600]");
                        action = new("wait", new Dictionary<string, string> { ["seconds"] = step.WaitSeconds.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                        implied.Add("wait");
                    }

                    targets[^1] = targets[^1] with { Actions = [.. targets[^1].Actions, action] };
                }

                break;

            default:
                return Reject("kind", $"unknown mission kind '{c.Kind}'");
        }

        // Capabilities: explicit requirements must be met by some known robot; implied ones (the kind's own actions) are
        // checked only when factsheets are known at all.
        var required = c.RequiredActions is { Count: > 0 } r0 ? r0.ToHashSet(StringComparer.Ordinal) : null;
        var known = restoring ? [] : _robots.Values.Where(r => r.SupportedActions is not null).ToList();
        foreach (var action in (restoring ? [] : required ?? []).Order(StringComparer.Ordinal))
        {
            if (!known.Any(r => r.SupportedActions!.Contains(action)))
                return Reject("requiredActions", $"no robot supports action '{action}'");
        }

        if (known.Count > 0)
        {
            foreach (var action in implied.Distinct().Where(a => !known.Any(r => r.SupportedActions!.Contains(a))))
                return Reject(c.Kind == MissionKind.Sequence ? "steps" : "kind", $"no robot supports action '{action}' (needed by this {c.Kind.ToString().ToLowerInvariant()} mission)");
        }

        if (!restoring && c.Robot is { } pinned && !_robots.ContainsKey(pinned))
            return Reject("robot", $"unknown robot '{pinned}'; known robots: {string.Join(", ", _robots.Keys.Select(k => k.ToString()).Order(StringComparer.Ordinal))}");

        // Reachability and estimates: a route between each pair of consecutive targets.
        double seconds = 0, metres = 0;
        for (var i = 1; i < targets.Count; i++)
        {
            var route = _graph.FindRoute(targets[i - 1].WaypointId, targets[i].WaypointId, options.RobotMaxSpeed, isLaneClosed: AgainstLoopsWhenOpen);
            if (route is null)
                return Reject(FieldOfTarget(c), $"unreachable: no route from waypoint '{targets[i - 1].WaypointId}' to '{targets[i].WaypointId}'");
            seconds += route.TravelTime;
            metres += route.Length;
        }

        seconds += targets.Sum(t => t.Actions.Count) * options.ActionSecondsEstimate;
        var start = targets.Count > 0 ? targets[0].WaypointId : options.Map.LocationsOfKind(freeKind!.Value).OrderBy(l => l.Name, StringComparer.Ordinal).First().WaypointId;
        return new MissionSpec(c.Kind, targets, freeKind, start, seconds, metres, required, targetCharge);
    }

    private static string FieldOfTarget(SubmitMission c) => c.Kind switch
    {
        MissionKind.Delivery => "dropoff",
        MissionKind.Sequence => "steps",
        MissionKind.Clean when c.Zone is not null => "zone",
        _ => "locations",
    };

    /// <summary>A location name or waypoint id as a waypoint id; null when neither.</summary>
    private string? ResolvePlace(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
            return null;
        if (options.Map.FindLocation(name) is { } location)
            return location.WaypointId;
        return options.Map.Waypoints.ContainsKey(name) ? name : null;
    }

    /// <summary>The waypoints inside a zone, as a nearest-neighbour tour by route time from the first by id.</summary>
    private List<string> ZoneWaypoints(Zone zone)
    {
        var factory = zone.Area.Factory;
        var inside = options.Map.Waypoints.Values
            .Where(w => w.LevelId == zone.LevelId && zone.Area.Covers(factory.CreatePoint(new Coordinate(w.X, w.Y))))
            .Select(w => w.Id).Order(StringComparer.Ordinal).ToList();
        var tour = new List<string>();
        while (inside.Count > 0)
        {
            var next = tour.Count == 0 ? inside[0] : inside
                .OrderBy(w => _graph.FindRoute(tour[^1], w, options.RobotMaxSpeed, isLaneClosed: AgainstLoopsWhenOpen)?.TravelTime ?? double.PositiveInfinity)
                .ThenBy(w => w, StringComparer.Ordinal).First();
            tour.Add(next);
            inside.Remove(next);
        }

        return tour;
    }

    /// <summary>The targets of one attempt at a mission, with action ids unique to that attempt's order.</summary>
    private static List<PlanTarget> Materialise(MissionSpec spec, string orderId, IReadOnlyList<TargetTemplate> targets) =>
        targets.Select((t, i) => new PlanTarget(t.WaypointId, t.Actions.Select((a, j) => new RobotAction(
            spec.Kind == MissionKind.Delivery ? $"{orderId}-{a.Type}" : $"{orderId}-{i}.{j}-{a.Type}",
            a.Type,
            "HARD",
            a.Parameters)).ToList())).ToList();
}
