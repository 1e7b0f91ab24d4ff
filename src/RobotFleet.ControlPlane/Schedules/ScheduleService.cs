using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Quartz;
using RobotFleet.Contracts;
using RobotFleet.Maps;

namespace RobotFleet.ControlPlane.Schedules;

/// <summary>Result of <see cref="ScheduleService.CreateAsync"/>: the stored schedule, or why not.</summary>
/// <param name="Created">The schedule as stored, when created.</param>
/// <param name="Errors">What is wrong with the request (each naming its field); empty when created or a duplicate.</param>
/// <param name="AlreadyExists">True when a schedule of that name exists (nothing changed).</param>
public sealed record ScheduleCreateResult(ScheduleView? Created, IReadOnlyList<ScheduleError> Errors, bool AlreadyExists);

/// <summary>
/// Creates, lists, enables/disables and deletes recurring missions. Each schedule is one Quartz job
/// (<see cref="RecurringMissionJob"/>, key <c>missions.{name}</c>) with one cron trigger of the same key; the job data
/// holds the definition (the mission template as JSON), so the schedule survives a restart with the job store.
/// The mission template is checked at creation by <paramref name="missionCheck"/> (the fleet coordinator: the very checks of
/// a submission, fields prefixed <c>mission.</c>); without one, by the map-only checks of <see cref="Validate"/>.
/// </summary>
/// <param name="schedulers">Quartz.</param>
/// <param name="map">The site map.</param>
/// <param name="firings">The firing log.</param>
/// <param name="missionCheck">The coordinator's check of a submission; null where no coordinator runs in the process.</param>
public sealed partial class ScheduleService(ISchedulerFactory schedulers, SiteMap map, FiringLog firings, IMissionCheck? missionCheck = null)
{
    /// <summary>Quartz group of the schedules' jobs and triggers.</summary>
    public const string Group = "missions";

    /// <summary>
    /// Checks a definition: name, cron, time zone (<see cref="ValidateSchedule"/>), and, as a fallback where no coordinator
    /// checks the mission, the mission template's priority and delivery locations against the site map.
    /// </summary>
    public static IReadOnlyList<ScheduleError> Validate(ScheduleDefinition definition, SiteMap map)
    {
        var errors = ValidateSchedule(definition).ToList();
        var mission = definition.Mission;
        if (mission.Priority is < 0 or > 3)
            errors.Add(new("mission.priority", $"priority {mission.Priority} is outside 0..3"));
        if (mission.Kind == MissionKind.Delivery)
        {
            CheckLocation("mission.pickup", mission.Pickup);
            CheckLocation("mission.dropoff", mission.Dropoff);
            if (mission.Pickup is not null && mission.Pickup == mission.Dropoff)
                errors.Add(new("mission.dropoff", $"dropoff '{mission.Dropoff}' is the same location as pickup"));
        }

        return errors;

        void CheckLocation(string field, string? name)
        {
            if (string.IsNullOrWhiteSpace(name))
                errors.Add(new(field, $"{field} is required for a delivery"));
            else if (map.FindLocation(name) is null)
                errors.Add(new(field, $"unknown location '{name}' in {field}; known locations: {string.Join(", ", map.Locations.Keys.Order(StringComparer.Ordinal))}"));
        }
    }

    /// <summary>Checks what is the schedule's own: name, cron, time zone, and the template's relative deadline.</summary>
    public static IReadOnlyList<ScheduleError> ValidateSchedule(ScheduleDefinition definition)
    {
        var errors = new List<ScheduleError>();
        if (string.IsNullOrWhiteSpace(definition.Name) || !NamePattern().IsMatch(definition.Name))
            errors.Add(new("name", $"name '{definition.Name}' must be 1..64 letters, digits, '.', '_' or '-'"));

        var zone = FindTimeZone(definition.TimeZone);
        if (zone is null)
            errors.Add(new("timeZone", $"unknown time zone '{definition.TimeZone}'; use an IANA id such as Europe/Berlin or UTC"));

        if (string.IsNullOrWhiteSpace(definition.Cron))
            errors.Add(new("cron", "cron is required, e.g. \"0 0 8 ? * MON-FRI\" (sec min hour day-of-month month day-of-week)"));
        else if (ParseCron(definition.Cron) is { } cronError)
            errors.Add(new("cron", $"invalid cron '{definition.Cron}': {cronError}"));
        else if (zone is not null && BuildTrigger(definition, zone).GetFireTimeAfter(DateTimeOffset.UtcNow) is null)
            errors.Add(new("cron", $"cron '{definition.Cron}' never fires again"));

        if (definition.Mission.DeadlineSeconds is { } deadline && deadline is not (> 0 and <= 31_536_000))
            errors.Add(new("mission.deadlineSeconds", $"deadlineSeconds {deadline} is outside (0, 31536000] (seconds after each firing)"));
        return errors;
    }

    /// <summary>Null when <paramref name="cron"/> is a valid Quartz cron expression, else Quartz's reason.</summary>
    public static string? ParseCron(string cron)
    {
        try
        {
            _ = new CronExpression(cron);
            return null;
        }
        catch (FormatException e)
        {
            return e.Message;
        }
    }

    /// <summary>An IANA (or Windows) time zone by id, or null when unknown.</summary>
    public static TimeZoneInfo? FindTimeZone(string? id)
    {
        if (string.IsNullOrWhiteSpace(id))
            return null;
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return null;
        }
    }

    /// <summary>
    /// The Quartz cron trigger of a schedule: the cron read in <paramref name="zone"/>, the schedule's misfire
    /// instruction (<see cref="MisfirePolicy.Skip"/> = DoNothing, <see cref="MisfirePolicy.FireOnceNow"/> = FireAndProceed),
    /// starting at <paramref name="startAt"/> (default now). Tests compute fire times from it.
    /// </summary>
    public static ITrigger BuildTrigger(ScheduleDefinition definition, TimeZoneInfo zone, DateTimeOffset? startAt = null)
    {
        var builder = TriggerBuilder.Create()
            .WithIdentity(definition.Name, Group)
            .ForJob(definition.Name, Group)
            .WithCronSchedule(definition.Cron, c => c
                .InTimeZone(zone)
                .WithMisfireInstruction(definition.Misfire == MisfirePolicy.FireOnceNow
                    ? CronTriggerMisfireInstruction.FireAndProceed
                    : CronTriggerMisfireInstruction.DoNothing));
        if (startAt is { } start)
            builder = builder.StartAt(start);
        else
            builder = builder.StartNow();
        return builder.Build();
    }

    /// <summary>Validates and stores a schedule (paused when not enabled).</summary>
    public async Task<ScheduleCreateResult> CreateAsync(ScheduleDefinition definition, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<ScheduleError> errors;
        if (missionCheck is null)
        {
            errors = Validate(definition, map);
        }
        else
        {
            var list = ValidateSchedule(definition).ToList();
            var probe = definition.Mission.ToSubmitMission($"sch-{definition.Name}-check", $"schedule:{definition.Name}", DateTimeOffset.UtcNow);
            if (await missionCheck.CheckAsync(probe, cancellationToken) is { } rejected)
                list.Add(new($"mission.{rejected.Field}", rejected.Reason));
            errors = list;
        }

        if (errors.Count > 0)
            return new(null, errors, false);
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var job = JobBuilder.Create<RecurringMissionJob>()
            .WithIdentity(definition.Name, Group)
            .WithDescription($"recurring {definition.Mission.Kind} mission")
            .UsingJobData(ScheduleJobData.Write(definition))
            .Build();
        var trigger = BuildTrigger(definition, FindTimeZone(definition.TimeZone)!);
        try
        {
            await scheduler.ScheduleJob(job, trigger, new ScheduleJobOptions { Paused = !definition.Enabled }, cancellationToken);
        }
        catch (ObjectAlreadyExistsException)
        {
            return new(null, [], true);
        }

        return new(await FindAsync(definition.Name, cancellationToken), [], false);
    }

    /// <summary>Every schedule, by name.</summary>
    public async Task<IReadOnlyList<ScheduleView>> ListAsync(CancellationToken cancellationToken = default)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var keys = await scheduler.GetJobKeys(GroupMatcher<JobKey>.GroupEquals(Group), cancellationToken);
        var views = new List<ScheduleView>();
        foreach (var key in keys.OrderBy(k => k.Name, StringComparer.Ordinal))
        {
            if (await FindAsync(key.Name, cancellationToken) is { } view)
                views.Add(view);
        }

        return views;
    }

    /// <summary>A schedule by name, or null.</summary>
    public async Task<ScheduleView?> FindAsync(string name, CancellationToken cancellationToken = default)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var job = await scheduler.GetJobDetail(new JobKey(name, Group), cancellationToken);
        if (job is null)
            return null;
        var triggerKey = new TriggerKey(name, Group);
        var trigger = await scheduler.GetTrigger(triggerKey, cancellationToken);
        var state = await scheduler.GetTriggerState(triggerKey, cancellationToken);
        var enabled = trigger is not null && state != TriggerState.Paused;
        var definition = ScheduleJobData.Read(name, job.JobDataMap) with { Enabled = enabled };
        var next = enabled ? trigger!.NextFireTimeUtc : null;
        var zone = FindTimeZone(definition.TimeZone) ?? TimeZoneInfo.Utc;
        return new ScheduleView(definition, next, next is { } n ? TimeZoneInfo.ConvertTime(n, zone) : null, trigger?.PreviousFireTimeUtc);
    }

    /// <summary>Enables (resumes; the misfire policy covers what was missed) or disables (pauses) a schedule; null when unknown.</summary>
    public async Task<ScheduleView?> SetEnabledAsync(string name, bool enabled, CancellationToken cancellationToken = default)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var key = new TriggerKey(name, Group);
        if (await scheduler.GetTrigger(key, cancellationToken) is null)
            return null;
        if (enabled)
            await scheduler.ResumeTrigger(key, cancellationToken);
        else
            await scheduler.PauseTrigger(key, cancellationToken);
        return await FindAsync(name, cancellationToken);
    }

    /// <summary>Deletes a schedule and its firings; false when unknown.</summary>
    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var deleted = await scheduler.DeleteJob(new JobKey(name, Group), cancellationToken);
        if (deleted)
            await firings.DeleteAsync(name, cancellationToken);
        return deleted;
    }

    /// <summary>A schedule's kept firings, oldest first; null when the schedule is unknown.</summary>
    public async Task<IReadOnlyList<ScheduleFiring>?> FiringsAsync(string name, CancellationToken cancellationToken = default)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        if (await scheduler.GetJobDetail(new JobKey(name, Group), cancellationToken) is null)
            return null;
        return await firings.ListAsync(name, cancellationToken);
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex NamePattern();
}

/// <summary>
/// A schedule definition as Quartz job data (strings only, so any serializer round-trips it): the mission template as JSON
/// under <c>mission</c>, plus the old per-field keys; a schedule stored before the template was JSON (no <c>mission</c> key)
/// is read from those keys.
/// </summary>
internal static class ScheduleJobData
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static JobDataMap Write(ScheduleDefinition d) => new()
    {
        ["cron"] = d.Cron,
        ["timeZone"] = d.TimeZone,
        ["misfire"] = d.Misfire.ToString(),
        ["mission"] = JsonSerializer.Serialize(d.Mission, Json),
        ["kind"] = d.Mission.Kind.ToString(),
        ["pickup"] = d.Mission.Pickup ?? "",
        ["dropoff"] = d.Mission.Dropoff ?? "",
        ["priority"] = d.Mission.Priority.ToString(CultureInfo.InvariantCulture),
    };

    public static ScheduleDefinition Read(string name, JobDataMap map)
    {
        string Get(string key) => map.TryGetValue(key, out var v) ? Convert.ToString(v, CultureInfo.InvariantCulture) ?? "" : "";
        string? Optional(string key) => Get(key) is { Length: > 0 } s ? s : null;
        var mission = Optional("mission") is { } json
            ? JsonSerializer.Deserialize<MissionTemplate>(json, Json)!
            : new MissionTemplate(
                Enum.TryParse<MissionKind>(Get("kind"), out var kind) ? kind : MissionKind.Delivery,
                Optional("pickup"), Optional("dropoff"),
                int.TryParse(Get("priority"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) ? p : 0);
        return new ScheduleDefinition(
            name, Get("cron"), Get("timeZone"),
            Enum.TryParse<MisfirePolicy>(Get("misfire"), out var misfire) ? misfire : MisfirePolicy.Skip,
            mission);
    }
}
