using RobotFleet.ControlPlane.Schedules;
using RobotFleet.Contracts;

namespace RobotFleet.Server.Api;

/// <summary>Body of <c>POST /api/schedules</c>.</summary>
/// <param name="Name">Unique name.</param>
/// <param name="Cron">Quartz cron with seconds, e.g. <c>0 0 8 ? * MON-FRI</c>.</param>
/// <param name="TimeZone">IANA time zone, e.g. <c>Europe/Berlin</c>; default UTC.</param>
/// <param name="Misfire"><c>skip</c> (default) or <c>fire-once-now</c>.</param>
/// <param name="Enabled">Default true.</param>
/// <param name="Mission">
/// The mission submitted at each firing: the body of <c>POST /api/missions</c> (every field, same checks), except that a deadline
/// is relative, <c>deadlineSeconds</c> after each firing.
/// </param>
public sealed record ScheduleRequest(string? Name, string? Cron, string? TimeZone, string? Misfire, bool? Enabled, MissionRequest? Mission);

/// <summary>A schedule as the API shows it; <c>nextFireLocal</c> is the same instant in the schedule's zone, with its offset.</summary>
public sealed record ScheduleDto(
    string Name, string Cron, string TimeZone, string Misfire, bool Enabled, MissionRequest Mission,
    DateTimeOffset? NextFireUtc, DateTimeOffset? NextFireLocal, DateTimeOffset? PreviousFireUtc)
{
    /// <summary>Maps a stored schedule.</summary>
    public static ScheduleDto From(ScheduleView v)
    {
        var d = v.Definition;
        return new(d.Name, d.Cron, d.TimeZone, ScheduleEndpoints.MisfireName(d.Misfire), d.Enabled, MissionRequest.From(d.Mission),
            v.NextFireUtc, v.NextFireLocal, v.PreviousFireUtc);
    }
}

/// <summary>Recurring missions: <c>/api/schedules</c> create, list, get, enable, disable, delete, firings.</summary>
public static class ScheduleEndpoints
{
    /// <summary>Maps the schedule endpoints.</summary>
    public static void MapScheduleApi(this IEndpointRouteBuilder app)
    {
        var schedules = app.MapGroup("/api/schedules");
        schedules.MapPost("", CreateAsync);
        schedules.MapGet("", async (ScheduleService service, CancellationToken ct) =>
            Results.Ok((await service.ListAsync(ct)).Select(ScheduleDto.From)));
        schedules.MapGet("/{name}", async (string name, ScheduleService service, CancellationToken ct) =>
            await service.FindAsync(name, ct) is { } v ? Results.Ok(ScheduleDto.From(v)) : Unknown(name));
        schedules.MapPost("/{name}/enable", async (string name, ScheduleService service, CancellationToken ct) =>
            await service.SetEnabledAsync(name, true, ct) is { } v ? Results.Ok(ScheduleDto.From(v)) : Unknown(name));
        schedules.MapPost("/{name}/disable", async (string name, ScheduleService service, CancellationToken ct) =>
            await service.SetEnabledAsync(name, false, ct) is { } v ? Results.Ok(ScheduleDto.From(v)) : Unknown(name));
        schedules.MapDelete("/{name}", async (string name, ScheduleService service, CancellationToken ct) =>
            await service.DeleteAsync(name, ct) ? Results.NoContent() : Unknown(name));
        schedules.MapGet("/{name}/firings", async (string name, ScheduleService service, CancellationToken ct) =>
            await service.FiringsAsync(name, ct) is { } firings ? Results.Ok(firings.Reverse()) : Unknown(name));
    }

    /// <summary>The API's spelling of a misfire policy.</summary>
    public static string MisfireName(MisfirePolicy policy) => policy == MisfirePolicy.FireOnceNow ? "fire-once-now" : "skip";

    private static async Task<IResult> CreateAsync(HttpRequest request, ScheduleService service, CancellationToken cancellationToken)
    {
        var (body, invalid) = await ApiJson.ReadBodyAsync<ScheduleRequest>(request, cancellationToken);
        if (invalid is not null)
            return invalid;
        if (body is null)
            return Results.BadRequest(new ApiError("request body is empty; expected {\"name\",\"cron\",\"timeZone\",\"misfire\",\"mission\":{the body of POST /api/missions}}"));
        if (string.IsNullOrWhiteSpace(body.Name))
            return Results.BadRequest(new ApiError("name is required", "name"));
        MisfirePolicy misfire;
        switch (body.Misfire?.ToLowerInvariant())
        {
            case null or "skip":
                misfire = MisfirePolicy.Skip;
                break;
            case "fire-once-now":
                misfire = MisfirePolicy.FireOnceNow;
                break;
            default:
                return Results.BadRequest(new ApiError($"unknown misfire policy '{body.Misfire}'; use 'skip' or 'fire-once-now'", "misfire"));
        }

        if (body.Mission is not { } mission)
            return Results.BadRequest(new ApiError("mission is required, e.g. {\"kind\":\"delivery\",\"pickup\":\"...\",\"dropoff\":\"...\"}", "mission"));
        if (mission.Deadline is not null)
            return Results.BadRequest(new ApiError("a schedule's mission takes deadlineSeconds (seconds after each firing), not an absolute deadline", "mission.deadline"));
        if (mission.TryMap("mission.", out var template) is { } error)
            return Results.BadRequest(error);

        var definition = new ScheduleDefinition(body.Name, body.Cron ?? "", body.TimeZone ?? "UTC", misfire, template, body.Enabled ?? true);
        var result = await service.CreateAsync(definition, cancellationToken);
        if (result.AlreadyExists)
            return Results.Conflict(new ApiError($"schedule '{body.Name}' already exists; delete it first", "name"));
        if (result.Errors.Count > 0)
        {
            var first = result.Errors[0];
            return Results.BadRequest(new ApiError(string.Join("; ", result.Errors.Select(e => e.Message)), first.Field));
        }

        return Results.Created($"/api/schedules/{Uri.EscapeDataString(body.Name)}", ScheduleDto.From(result.Created!));
    }

    private static IResult Unknown(string name) => Results.NotFound(new ApiError($"unknown schedule '{name}'"));
}
