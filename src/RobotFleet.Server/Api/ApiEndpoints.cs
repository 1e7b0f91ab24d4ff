using System.Text.Json;
using MassTransit;
using RobotFleet.ControlPlane.Missions;
using RobotFleet.ControlPlane.Missions.Lifecycle;
using RobotFleet.ControlPlane.Robots;
using RobotFleet.Contracts;
using RobotFleet.Gateway;
using RobotFleet.Maps;
using RobotFleet.Server.Alerts;
using RobotFleet.Server.Live;

namespace RobotFleet.Server.Api;

/// <summary>The HTTP API (JSON): missions, robots, alerts, closed lanes, live stream (SSE), map, locations, health. Documented in the README.</summary>
public static class ApiEndpoints
{
    private const string OperatorActor = "api";

    /// <summary>Maps every endpoint onto the app.</summary>
    public static void MapRobotFleetApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", (MqttGateway gateway, RobotTwinRegistry twins) =>
            Results.Ok(new { status = "ok", brokerConnected = gateway.IsConnected, robots = twins.All.Count }));

        var missions = app.MapGroup("/api/missions");
        missions.MapPost("", SubmitAsync);
        missions.MapGet("", (MissionStore store, string? status) =>
            status is not null && !Enum.TryParse<MissionStatus>(status, ignoreCase: true, out _)
                ? Results.BadRequest(new ApiError($"unknown status '{status}'; one of {string.Join(", ", Enum.GetNames<MissionStatus>())}", "status"))
                : Results.Ok(store.All
                    .Where(m => status is null || string.Equals(m.Status.ToString(), status, StringComparison.OrdinalIgnoreCase))
                    .Select(MissionDto.From)));
        missions.MapGet("/{id}", (string id, MissionStore store) =>
            store.Find(id) is { } m ? Results.Ok(MissionDto.From(m)) : NotFound($"unknown mission '{id}'"));
        missions.MapPost("/{id}/cancel", CancelAsync);
        missions.MapPost("/{id}/priority", ReprioritiseAsync);
        missions.MapGet("/{id}/history", HistoryAsync);
        missions.MapPost("/{id}/reassign", ReassignAsync);
        missions.MapPost("/{id}/pause", (string id, MissionStore store, FleetCoordinator coordinator, CancellationToken ct) => PauseAsync(id, true, store, coordinator, ct));
        missions.MapPost("/{id}/resume", (string id, MissionStore store, FleetCoordinator coordinator, CancellationToken ct) => PauseAsync(id, false, store, coordinator, ct));

        var robots = app.MapGroup("/api/robots");
        robots.MapGet("", (RobotTwinRegistry twins, RobotTags tags) => Results.Ok(twins.All.Select(t => RobotDto.From(t, tags.Of(t.Robot)))));
        robots.MapGet("/{manufacturer}/{serialNumber}", (string manufacturer, string serialNumber, RobotTwinRegistry twins, RobotTags tags) =>
            twins.Find(new RobotId(manufacturer, serialNumber)) is { } t ? Results.Ok(RobotDto.From(t, tags.Of(t.Robot))) : NotFound($"unknown robot '{manufacturer}/{serialNumber}'"));
        robots.MapDelete("/{manufacturer}/{serialNumber}", RemoveRobotAsync);
        robots.MapPut("/{manufacturer}/{serialNumber}/tags", SetTagsAsync);

        // Parsed here, not bound: a bad value answers with the error JSON naming the parameter, not an empty 400.
        app.MapGet("/api/alerts", (AlertService alerts, HttpRequest request) =>
        {
            bool? open = null;
            if (request.Query.TryGetValue("open", out var values) && values.ToString() is { Length: > 0 } text)
            {
                if (!bool.TryParse(text, out var parsed))
                    return Results.BadRequest(new ApiError($"query parameter 'open' must be true or false, not '{text}'", "open"));
                open = parsed;
            }

            return Results.Ok(alerts.All.Where(a => open != true || a.AcknowledgedAt is null));
        });
        app.MapPost("/api/alerts/{id}/ack", (string id, AlertService alerts) =>
            alerts.Acknowledge(id, OperatorActor) is { } alert ? Results.Ok(alert) : NotFound($"unknown alert '{id}'"));
        app.MapGet("/api/stream", (HttpContext context, LiveStream stream) => stream.ServeAsync(context));

        var lanes = app.MapGroup("/api/lanes");
        lanes.MapGet("/closed", async (FleetCoordinator coordinator, CancellationToken ct) => Results.Ok(await coordinator.ClosedLanesAsync(ct)));
        lanes.MapPost("/{id}/close", async (string id, string? reason, FleetCoordinator coordinator, CancellationToken ct) =>
            await coordinator.CloseLaneAsync(new CloseLane(id, OperatorActor, reason ?? "closed by an operator"), ct)
                ? Results.Ok(await coordinator.ClosedLanesAsync(ct))
                : NotFound($"unknown lane '{id}'"));
        lanes.MapPost("/{id}/open", async (string id, FleetCoordinator coordinator, CancellationToken ct) =>
            await coordinator.OpenLaneAsync(id, OperatorActor, ct)
                ? Results.Ok(await coordinator.ClosedLanesAsync(ct))
                : NotFound($"lane '{id}' is unknown or not closed"));

        app.MapGet("/api/map", (SiteMap map) => Results.Text(SiteMapGeoJson.Write(map), "application/geo+json"));
        app.MapGet("/api/locations", (SiteMap map) => Results.Ok(map.Locations.Values
            .OrderBy(l => l.Name, StringComparer.Ordinal).Select(l => LocationDto.From(l, map))));
    }

    private static async Task<IResult> SubmitAsync(HttpRequest request, IRequestClient<SubmitMission> client, TimeProvider time, CancellationToken cancellationToken)
    {
        var (body, invalid) = await ApiJson.ReadBodyAsync<MissionRequest>(request, cancellationToken);
        if (invalid is not null)
            return invalid;
        if (body is null)
            return Results.BadRequest(new ApiError("request body is empty; expected {\"kind\":\"delivery\",\"pickup\":\"...\",\"dropoff\":\"...\"}"));
        if (body.TryMap("", out var template) is { } error)
            return Results.BadRequest(error);

        var id = $"m-{Guid.NewGuid():N}"[..14];
        var submit = template.ToSubmitMission(id, OperatorActor, time.GetUtcNow());
        if (body.Deadline is { } deadline)
            submit = submit with { Deadline = deadline };
        var response = await client.GetResponse<MissionAccepted, MissionRejected>(submit, cancellationToken);
        return response.Is(out Response<MissionRejected>? rejected)
            ? Results.BadRequest(new ApiError(rejected.Message.Reason, rejected.Message.Field))
            : Results.Created($"/api/missions/{id}", new { id });
    }

    private static async Task<IResult> ReprioritiseAsync(string id, HttpRequest request, MissionStore store, FleetCoordinator coordinator, CancellationToken cancellationToken)
    {
        var (body, invalid) = await ApiJson.ReadBodyAsync<PriorityRequest>(request, cancellationToken);
        if (invalid is not null)
            return invalid;
        if (body?.Priority is not { } priority || priority is < 0 or > 3)
            return Results.BadRequest(new ApiError($"priority {body?.Priority?.ToString() ?? "(missing)"} must be 0..3", "priority"));
        return await coordinator.ReprioritiseAsync(new ReprioritiseMission(id, priority, OperatorActor), cancellationToken) switch
        {
            ReprioritiseOutcome.Done => Results.Ok(MissionDto.From(store.Find(id)!)),
            ReprioritiseOutcome.UnknownMission => NotFound($"unknown mission '{id}'"),
            _ => Results.Conflict(new ApiError($"mission '{id}' is {store.Find(id)?.Status}; only a queued mission can be reprioritised")),
        };
    }

    private static async Task<IResult> CancelAsync(string id, MissionStore store, IRequestClient<CancelMission> client, CancellationToken cancellationToken)
    {
        if (store.Find(id) is not { } mission)
            return NotFound($"unknown mission '{id}'");
        if (mission.IsFinal)
            return Results.Conflict(new ApiError($"mission '{id}' is already {mission.Status}"));
        var response = await client.GetResponse<CancelMissionResult>(new CancelMission(id, OperatorActor), cancellationToken);
        return response.Message.Cancelled
            ? Results.Ok(MissionDto.From(store.Find(id)!))
            : Results.Conflict(new ApiError($"mission '{id}' is already {store.Find(id)?.Status}"));
    }

    private static async Task<IResult> PauseAsync(string id, bool pause, MissionStore store, FleetCoordinator coordinator, CancellationToken cancellationToken) =>
        await coordinator.PauseAsync(id, pause, OperatorActor, cancellationToken) switch
        {
            PauseOutcome.Done => Results.Ok(MissionDto.From(store.Find(id)!)),
            PauseOutcome.UnknownMission => NotFound($"unknown mission '{id}'"),
            PauseOutcome.WrongState => Results.Conflict(new ApiError(pause
                ? $"mission '{id}' is {store.Find(id)?.Status}; only a dispatched or executing mission can be paused"
                : $"mission '{id}' is {store.Find(id)?.Status}; only a paused mission can be resumed")),
            _ => Results.Conflict(new ApiError($"mission '{id}' is {store.Find(id)?.Status} and has no robot running its order; only a running mission can be {(pause ? "paused" : "resumed")}")),
        };

    /// <summary>
    /// The state machine's history of a mission. Reads its own writes: it waits (up to 2 s) until the machine has taken in
    /// every change the coordinator recorded, and serves the coordinator's record in the same shape if the machine has not seen
    /// the mission by then.
    /// </summary>
    private static async Task<IResult> HistoryAsync(string id, MissionStore store, IMissionHistoryReader lifecycle, TimeProvider time, CancellationToken cancellationToken)
    {
        if (store.Find(id) is null)
            return NotFound($"unknown mission '{id}'");
        var until = time.GetUtcNow() + TimeSpan.FromSeconds(2);
        while (true)
        {
            var mission = store.Find(id)!;
            var state = await lifecycle.FindAsync(id, cancellationToken);
            if (state is not null && state.LastSequence >= mission.History.Count)
                return Results.Ok(state.History.Select(HistoryEntryDto.Of));
            if (time.GetUtcNow() >= until)
                return Results.Ok(state is not null ? state.History.Select(HistoryEntryDto.Of).ToList() : HistoryEntryDto.Of(mission));
            await Task.Delay(20, cancellationToken);
        }
    }

    private static async Task<IResult> ReassignAsync(string id, HttpRequest request, MissionStore store, RobotTwinRegistry twins, IRequestClient<ReassignMission> client,
        CancellationToken cancellationToken)
    {
        if (store.Find(id) is not { } mission)
            return NotFound($"unknown mission '{id}'");
        var (body, invalid) = await ApiJson.ReadBodyAsync<ReassignRequest>(request, cancellationToken);
        if (invalid is not null)
            return invalid;
        if (body is null)
            return Results.BadRequest(new ApiError("request body is empty; expected {\"robot\":\"manufacturer/serialNumber\"}, or {\"robot\":null} to unpin", "robot"));
        RobotId? robot = null;
        if (body.Robot is { } text)
        {
            var slash = text.IndexOf('/');
            if (slash <= 0 || slash == text.Length - 1)
                return Results.BadRequest(new ApiError($"robot '{text}' must be 'manufacturer/serialNumber'", "robot"));
            robot = new RobotId(text[..slash], text[(slash + 1)..]);
            if (twins.Find(robot) is null)
                return NotFound($"unknown robot '{robot}'");
        }

        if (mission.Status is not (MissionStatus.Queued or MissionStatus.Assigned))
            return Results.Conflict(new ApiError($"mission '{id}' is {mission.Status}; only a queued or assigned mission (not yet dispatched) can be reassigned"));
        var response = await client.GetResponse<ReassignMissionResult>(new ReassignMission(id, robot, OperatorActor), cancellationToken);
        return response.Message.Outcome switch
        {
            ReassignOutcome.Done => Results.Ok(MissionDto.From(store.Find(id)!)),
            ReassignOutcome.UnknownMission => NotFound($"unknown mission '{id}'"),
            ReassignOutcome.UnknownRobot => NotFound($"unknown robot '{robot}': it has not reported to the control plane"),
            _ => Results.Conflict(new ApiError($"mission '{id}' is {store.Find(id)?.Status}; only a queued or assigned mission (not yet dispatched) can be reassigned")),
        };
    }

    /// <summary>
    /// <c>PUT /api/robots/{manufacturer}/{serialNumber}/tags</c> with a JSON array of tags: replaces the robot's tags.
    /// 404 for a robot the control plane does not know; 400 naming a bad tag, or for more than <see cref="RobotTags.MaxTags"/>.
    /// </summary>
    private static async Task<IResult> SetTagsAsync(string manufacturer, string serialNumber, HttpRequest request, RobotTwinRegistry twins, RobotTags tags, CancellationToken cancellationToken)
    {
        var robot = new RobotId(manufacturer, serialNumber);
        if (twins.Find(robot) is not { } twin)
            return NotFound($"unknown robot '{robot}'");
        List<string> body;
        try
        {
            using var json = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
            if (json.RootElement.ValueKind != JsonValueKind.Array)
                return Results.BadRequest(new ApiError($"request body must be a JSON array of tags, e.g. [\"floor-2\",\"pilot\"] ([] removes them all); got {json.RootElement.ValueKind.ToString().ToLowerInvariant()}", "tags"));
            body = [];
            foreach (var item in json.RootElement.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String)
                    return Results.BadRequest(new ApiError($"tag {item.GetRawText()} is not a string", "tags"));
                body.Add(item.GetString()!);
            }
        }
        catch (JsonException e)
        {
            return Results.BadRequest(new ApiError($"request body is not a JSON array of tags: {e.Message.Split('.')[0]}", "tags"));
        }

        if (RobotTags.CheckAll(body) is { } problem)
            return Results.BadRequest(new ApiError(problem, "tags"));
        tags.Set(robot, body);
        return Results.Ok(RobotDto.From(twin, tags.Of(robot)));
    }

    private static async Task<IResult> RemoveRobotAsync(string manufacturer, string serialNumber, RobotTwinRegistry twins, RobotTags tags, MqttGateway gateway, FleetCoordinator coordinator,
        CancellationToken cancellationToken)
    {
        var robot = new RobotId(manufacturer, serialNumber);
        if (twins.Find(robot) is not { } twin)
            return NotFound($"unknown robot '{robot}'");
        if (twin.Connection == RobotConnectionState.Online)
            return Results.Conflict(new ApiError($"robot '{robot}' is ONLINE; only a robot that is offline or lost can be removed"));
        twins.Remove(robot);
        tags.Remove(robot);
        gateway.Forget(robot);
        await coordinator.RemoveRobotAsync(robot, OperatorActor, cancellationToken);
        return Results.NoContent();
    }

    private static IResult NotFound(string message) => Results.NotFound(new ApiError(message));
}
