using System.Globalization;
using System.Text.Json;
using RobotFleet.ControlPlane.Models;
using RobotFleet.Contracts;

namespace RobotFleet.Server.Api;

/// <summary>Body of <c>POST /api/rollouts</c>.</summary>
/// <param name="Model">Model name in the registry.</param>
/// <param name="Version">Version in the registry.</param>
/// <param name="Target"><c>{"all":true}</c>, <c>{"tag":"..."}</c> (the robots carrying it when the rollout is created) or <c>{"robots":["manufacturer/serialNumber", ...]}</c>.</param>
/// <param name="Waves">Wave sizes: numbers (robots, the canary) or shares (<c>"50%"</c>, cumulative); default <c>[1, "100%"]</c>.</param>
/// <param name="Gate">Health gate per wave.</param>
/// <param name="Install">Install policy.</param>
public sealed record RolloutRequestDto(string? Model, string? Version, RolloutTargetDto? Target, JsonElement? Waves, RolloutGateDto? Gate, RolloutInstallDto? Install);

/// <summary>Target of a rollout.</summary>
/// <param name="All">Every known robot.</param>
/// <param name="Tag">Robots with this tag (<c>PUT /api/robots/{manufacturer}/{serialNumber}/tags</c>), resolved at creation.</param>
/// <param name="Robots">These robots, <c>manufacturer/serialNumber</c>.</param>
public sealed record RolloutTargetDto(bool? All, string? Tag, IReadOnlyList<string>? Robots);

/// <summary>Health gate of each wave.</summary>
/// <param name="MaxErrorRate">Largest errors / runs; default 0.05.</param>
/// <param name="MinRuns">Inference runs before a robot is judged; default 5.</param>
/// <param name="SoakSeconds">Least seconds serving before a robot is judged; default 0.</param>
/// <param name="TimeoutSeconds">Longest seconds from enabling to a verdict; default 120.</param>
/// <param name="MaxFailedRobots">Robots per wave that may fail without failing the gate; default 0.</param>
public sealed record RolloutGateDto(double? MaxErrorRate, long? MinRuns, double? SoakSeconds, double? TimeoutSeconds, int? MaxFailedRobots);

/// <summary>Install policy: robots install only while idle or charging, and inside the maintenance window when one is given.</summary>
/// <param name="MaintenanceCron">Quartz cron of the window starts (UTC).</param>
/// <param name="MaintenanceMinutes">Window length.</param>
/// <param name="WaitTimeoutSeconds">Longest a robot waits to become eligible before it fails; default 1800.</param>
/// <param name="ActionTimeoutSeconds">Longest a download or enable may take before the robot fails; default 2100.</param>
public sealed record RolloutInstallDto(string? MaintenanceCron, double? MaintenanceMinutes, double? WaitTimeoutSeconds, double? ActionTimeoutSeconds);

/// <summary>The rollout API: create, list, show, pause, resume, abort. Documented in the README.</summary>
public static class RolloutEndpoints
{
    /// <summary>Maps <c>/api/rollouts</c>.</summary>
    public static void MapRolloutApi(this IEndpointRouteBuilder app)
    {
        var rollouts = app.MapGroup("/api/rollouts");
        rollouts.MapPost("", CreateAsync);
        rollouts.MapGet("", (RolloutService service) => Results.Ok(service.List()));
        rollouts.MapGet("/{id}", (string id, RolloutService service) => service.Find(id) is { } r ? Results.Ok(r) : Unknown(id));
        rollouts.MapPost("/{id}/pause", (string id, RolloutService service) => Outcome(id, service.SetPaused(id, true), service));
        rollouts.MapPost("/{id}/resume", (string id, RolloutService service) => Outcome(id, service.SetPaused(id, false), service));
        rollouts.MapPost("/{id}/abort", (string id, RolloutService service) => Outcome(id, service.Abort(id), service));
    }

    private static IResult Outcome(string id, bool? done, RolloutService service) => done switch
    {
        null => Unknown(id),
        false => Results.Conflict(new ApiError($"rollout '{id}' has ended ({service.Find(id)?.Status})")),
        true => Results.Ok(service.Find(id)),
    };

    private static IResult Unknown(string id) => Results.NotFound(new ApiError($"unknown rollout '{id}'"));

    private static async Task<IResult> CreateAsync(HttpRequest request, RolloutService service, CancellationToken cancellationToken)
    {
        var (body, invalid) = await ApiJson.ReadBodyAsync<RolloutRequestDto>(request, cancellationToken);
        if (invalid is not null)
            return invalid;
        if (body is null)
            return Results.BadRequest(new ApiError("request body is empty; expected {\"model\":\"...\",\"version\":\"...\",\"target\":{\"all\":true},\"waves\":[1,\"100%\"]}"));

        List<string>? waves = null;
        if (body.Waves is { ValueKind: not JsonValueKind.Null } w)
        {
            if (w.ValueKind != JsonValueKind.Array)
                return Results.BadRequest(new ApiError("waves must be an array, e.g. [1, \"50%\", \"100%\"]", "waves"));
            waves = [];
            foreach (var item in w.EnumerateArray())
            {
                if (item.ValueKind is not (JsonValueKind.Number or JsonValueKind.String))
                    return Results.BadRequest(new ApiError($"wave {item} is neither a robot count nor a share like \"50%\"", "waves"));
                waves.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : item.GetRawText());
            }
        }

        var robots = new List<RobotId>();
        foreach (var text in body.Target?.Robots ?? [])
        {
            var slash = text.IndexOf('/', StringComparison.Ordinal);
            if (slash <= 0 || slash == text.Length - 1)
                return Results.BadRequest(new ApiError($"target robot '{text}' is not manufacturer/serialNumber", "target.robots"));
            robots.Add(new RobotId(text[..slash], text[(slash + 1)..]));
        }

        var gate = body.Gate ?? new RolloutGateDto(null, null, null, null, null);
        var install = body.Install ?? new RolloutInstallDto(null, null, null, null);
        // Out of TimeSpan's reach (or absurd): refused here; signs and relations are the service's to check.
        foreach (var (field, value, limit) in new (string, double?, double)[]
        {
            ("gate.soakSeconds", gate.SoakSeconds, MaxSeconds), ("gate.timeoutSeconds", gate.TimeoutSeconds, MaxSeconds),
            ("install.waitTimeoutSeconds", install.WaitTimeoutSeconds, MaxSeconds), ("install.actionTimeoutSeconds", install.ActionTimeoutSeconds, MaxSeconds),
            ("install.maintenanceMinutes", install.MaintenanceMinutes, MaxSeconds / 60),
        })
        {
            if (value is { } v && (!double.IsFinite(v) || Math.Abs(v) > limit))
                return Results.BadRequest(new ApiError($"{field} {v.ToString(CultureInfo.InvariantCulture)} is out of range (at most {limit.ToString(CultureInfo.InvariantCulture)})", field));
        }

        var (rollout, rejection) = service.Create(new RolloutRequest(
            body.Model ?? "",
            body.Version ?? "",
            new RolloutTarget(body.Target?.All ?? false, string.IsNullOrWhiteSpace(body.Target?.Tag) ? null : body.Target.Tag, robots),
            waves,
            new RolloutGate(gate.MaxErrorRate ?? 0.05, gate.MinRuns ?? 5, Seconds(gate.SoakSeconds) ?? TimeSpan.Zero, Seconds(gate.TimeoutSeconds), gate.MaxFailedRobots ?? 0),
            new RolloutInstallPolicy(install.MaintenanceCron, TimeSpan.FromMinutes(install.MaintenanceMinutes ?? 0), Seconds(install.WaitTimeoutSeconds), Seconds(install.ActionTimeoutSeconds))));
        if (rejection is not null)
        {
            var error = new ApiError(rejection.Message, rejection.Field);
            return rejection.NotFound ? Results.NotFound(error) : rejection.Conflict ? Results.Conflict(error) : Results.BadRequest(error);
        }

        return Results.Created($"/api/rollouts/{rollout!.Id}", rollout);
    }

    /// <summary>A year: the longest duration a rollout field takes.</summary>
    private const double MaxSeconds = 365 * 24 * 3600;

    /// <summary>The duration as given, negatives and zero included (the service refuses them naming the field); null when absent.</summary>
    private static TimeSpan? Seconds(double? value) => value is { } s ? TimeSpan.FromSeconds(s) : null;
}
