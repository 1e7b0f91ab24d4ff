using RobotFleet.Contracts;

namespace RobotFleet.ControlPlane.Schedules;

/// <summary>What a schedule does about firings it missed while the control plane was down or the schedule disabled.</summary>
public enum MisfirePolicy
{
    /// <summary>Skip every missed firing and run at the next regular fire time (the default; Quartz DoNothing).</summary>
    Skip,

    /// <summary>Fire once at once for all the missed firings, then go on with the regular times (Quartz FireAndProceed).</summary>
    FireOnceNow,
}

/// <summary>The mission a schedule submits each time it fires, as the fields of <see cref="SubmitMission"/>.</summary>
/// <param name="Kind">Mission kind.</param>
/// <param name="Pickup">Pickup location name (delivery).</param>
/// <param name="Dropoff">Dropoff location name (delivery).</param>
/// <param name="Priority">0 (routine) .. 3 (urgent).</param>
public sealed record MissionTemplate(MissionKind Kind, string? Pickup, string? Dropoff, int Priority);

/// <summary>A recurring mission: a Quartz cron expression read in an IANA time zone, and the mission it submits.</summary>
/// <param name="Name">Unique name (letters, digits, '.', '_', '-'; at most 64).</param>
/// <param name="Cron">Quartz cron expression with seconds: <c>sec min hour day-of-month month day-of-week [year]</c>, e.g. <c>0 0 8 ? * MON-FRI</c>.</param>
/// <param name="TimeZone">IANA time zone id the cron is read in, e.g. <c>Europe/Berlin</c>.</param>
/// <param name="Misfire">What to do about missed firings.</param>
/// <param name="Mission">The mission submitted at each firing.</param>
/// <param name="Enabled">False: stored but not firing.</param>
public sealed record ScheduleDefinition(string Name, string Cron, string TimeZone, MisfirePolicy Misfire, MissionTemplate Mission, bool Enabled = true);

/// <summary>A stored schedule with its next fire time.</summary>
/// <param name="Definition">What was created.</param>
/// <param name="NextFireUtc">Next firing (UTC); null when disabled or never again.</param>
/// <param name="NextFireLocal">The same instant in the schedule's time zone (offset included).</param>
/// <param name="PreviousFireUtc">Last firing (UTC), if any.</param>
public sealed record ScheduleView(ScheduleDefinition Definition, DateTimeOffset? NextFireUtc, DateTimeOffset? NextFireLocal, DateTimeOffset? PreviousFireUtc);

/// <summary>One firing of a schedule and what became of its mission.</summary>
/// <param name="Schedule">Schedule name.</param>
/// <param name="FiredAt">When the job ran (UTC).</param>
/// <param name="ScheduledFor">The fire time it ran for (UTC); differs from <paramref name="FiredAt"/> after a misfire.</param>
/// <param name="MissionId">The mission id submitted.</param>
/// <param name="Accepted">True when the coordinator accepted the mission.</param>
/// <param name="Field">When rejected or failed: the field at fault, if any.</param>
/// <param name="Reason">When rejected or failed: why.</param>
public sealed record ScheduleFiring(string Schedule, DateTimeOffset FiredAt, DateTimeOffset ScheduledFor, string MissionId, bool Accepted, string? Field, string? Reason);

/// <summary>A problem with a schedule request, naming the field.</summary>
/// <param name="Field">Request field at fault, e.g. <c>cron</c>, <c>timeZone</c>, <c>mission.pickup</c>.</param>
/// <param name="Message">What is wrong, naming the value.</param>
public sealed record ScheduleError(string Field, string Message);
