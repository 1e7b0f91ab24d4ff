using RobotFleet.Contracts;

namespace RobotFleet.ControlPlane.Schedules;

/// <summary>What a schedule does about firings it missed while the control plane was down or the schedule disabled.</summary>
public enum MisfirePolicy
{
    /// <summary>
    /// Skip every missed firing and run at the next regular fire time (the default; Quartz DoNothing). A firing that runs
    /// later than the misfire threshold after its fire time by any path is skipped too (<see cref="RecurringMissionJob"/>).
    /// </summary>
    Skip,

    /// <summary>Fire once at once for all the missed firings, then go on with the regular times (Quartz FireAndProceed).</summary>
    FireOnceNow,
}

/// <summary>
/// The mission a schedule submits each time it fires: every field of <see cref="SubmitMission"/> except the id and the actor
/// (set per firing), with the deadline relative to the firing (<paramref name="DeadlineSeconds"/>) instead of absolute.
/// </summary>
/// <param name="Kind">Mission kind.</param>
/// <param name="Pickup">Pickup location name (delivery).</param>
/// <param name="Dropoff">Dropoff location name (delivery).</param>
/// <param name="Priority">0 (routine) .. 3 (urgent).</param>
/// <param name="Locations">Location names or waypoint ids in order (patrol; clean without a zone).</param>
/// <param name="Rounds">Patrol rounds; null: 1.</param>
/// <param name="Zone">Zone id to clean.</param>
/// <param name="Location">Charger (charge) or parking place (park); null: a free one.</param>
/// <param name="TargetCharge">Charge: percent at which it is done; null: the fleet default.</param>
/// <param name="Robot">Pins each mission to this robot; null lets the dispatcher choose.</param>
/// <param name="RequiredActions">Action types the robot must support.</param>
/// <param name="DeadlineSeconds">Deadline of each mission, in seconds after its firing; null: none.</param>
/// <param name="Steps">Sequence steps, in order.</param>
public sealed record MissionTemplate(
    MissionKind Kind, string? Pickup, string? Dropoff, int Priority,
    IReadOnlyList<string>? Locations = null, int? Rounds = null, string? Zone = null, string? Location = null, double? TargetCharge = null,
    RobotId? Robot = null, IReadOnlyList<string>? RequiredActions = null, double? DeadlineSeconds = null, IReadOnlyList<MissionStep>? Steps = null)
{
    /// <summary>The mission to submit for a firing at <paramref name="firedAt"/> (its deadline <see cref="DeadlineSeconds"/> after it).</summary>
    /// <param name="missionId">Mission id.</param>
    /// <param name="requestedBy">Actor, for the history.</param>
    /// <param name="firedAt">When the schedule fired (UTC).</param>
    public SubmitMission ToSubmitMission(string missionId, string requestedBy, DateTimeOffset firedAt) =>
        new(missionId, Kind, Pickup, Dropoff, Priority, requestedBy, Locations, Rounds ?? 1, Zone, Location, TargetCharge, Robot, RequiredActions,
            DeadlineSeconds is { } seconds ? firedAt + TimeSpan.FromSeconds(seconds) : null, Steps);

    /// <summary>Value equality, the lists compared item by item.</summary>
    /// <param name="other">The other template.</param>
    public bool Equals(MissionTemplate? other) =>
        other is not null && Kind == other.Kind && Pickup == other.Pickup && Dropoff == other.Dropoff && Priority == other.Priority
        && SameList(Locations, other.Locations) && Rounds == other.Rounds && Zone == other.Zone && Location == other.Location
        && TargetCharge == other.TargetCharge && Robot == other.Robot && SameList(RequiredActions, other.RequiredActions)
        && DeadlineSeconds == other.DeadlineSeconds && SameList(Steps, other.Steps);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Kind, Pickup, Dropoff, Priority, Zone, Location, Robot, DeadlineSeconds);

    private static bool SameList<T>(IReadOnlyList<T>? a, IReadOnlyList<T>? b) =>
        a is null ? b is null : b is not null && a.SequenceEqual(b);
}

/// <summary>Checks a mission the way the coordinator checks a submission, without storing it (the schedules' creation check).</summary>
public interface IMissionCheck
{
    /// <summary>Null when the coordinator would accept <paramref name="mission"/> now, else its rejection (field and reason).</summary>
    /// <param name="mission">The mission.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    Task<MissionRejected?> CheckAsync(SubmitMission mission, CancellationToken cancellationToken);
}

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
