using System.Globalization;
using MassTransit;
using Microsoft.Extensions.Logging;
using Quartz;
using RobotFleet.Contracts;

namespace RobotFleet.ControlPlane.Schedules;

/// <summary>
/// Fires a schedule: submits its mission template unchanged with <see cref="SubmitMission"/> (actor <c>schedule:{name}</c>;
/// a template deadline is <see cref="MissionTemplate.DeadlineSeconds"/> after the job runs) and records the
/// firing with the mission id, or the coordinator's reason when it rejects the mission. The mission id is derived from
/// the schedule and the fire time it runs for (<c>sch-{name}-{yyyyMMddTHHmmssZ}</c>), so a firing run twice cannot
/// submit two missions. Under <see cref="MisfirePolicy.Skip"/> a firing that Quartz runs later than
/// <see cref="ScheduleOptions.MisfireThreshold"/> after its fire time (whatever the path: a trigger recovered after a
/// restart, a starved thread pool) is a missed one: it is logged and skipped, no mission is submitted.
/// </summary>
[DisallowConcurrentExecution]
public sealed class RecurringMissionJob(IBus bus, FiringLog firings, ScheduleOptions options, TimeProvider time, ILogger<RecurringMissionJob> logger) : IJob
{
    /// <inheritdoc />
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var name = context.JobDetail.Key.Name;
        var definition = ScheduleJobData.Read(name, context.JobDetail.JobDataMap);
        var scheduledFor = context.ScheduledFireTimeUtc ?? context.FireTimeUtc;
        var missionId = MissionIdFor(name, scheduledFor);
        var late = context.FireTimeUtc - scheduledFor;
        if (definition.Misfire == MisfirePolicy.Skip && late > options.MisfireThreshold)
        {
            logger.LogWarning("schedule {Schedule}: firing for {ScheduledFor:O} ran {Late:0.#} s late (misfire threshold {Threshold:0.#} s); skipped by its policy, no mission submitted",
                name, scheduledFor, late.TotalSeconds, options.MisfireThreshold.TotalSeconds);
            return;
        }

        var firedAt = time.GetUtcNow();
        var m = definition.Mission;
        ScheduleFiring firing;
        try
        {
            var client = bus.CreateRequestClient<SubmitMission>(RequestTimeout.After(ms: (int)options.SubmitTimeout.TotalMilliseconds));
            var response = await client.GetResponse<MissionAccepted, MissionRejected>(
                m.ToSubmitMission(missionId, $"schedule:{name}", firedAt), cancellationToken);
            firing = response.Is(out Response<MissionRejected>? rejected)
                ? new ScheduleFiring(name, firedAt, scheduledFor, missionId, false, rejected.Message.Field, rejected.Message.Reason)
                : new ScheduleFiring(name, firedAt, scheduledFor, missionId, true, null, null);
        }
        catch (RequestTimeoutException)
        {
            firing = new ScheduleFiring(name, firedAt, scheduledFor, missionId, false, null, $"no answer from the control plane within {options.SubmitTimeout.TotalSeconds:0.#} s");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            firing = new ScheduleFiring(name, firedAt, scheduledFor, missionId, false, null, $"submission failed: {e.Message}");
        }

        await firings.RecordAsync(firing, CancellationToken.None);
        if (firing.Accepted)
            logger.LogInformation("schedule {Schedule} fired for {ScheduledFor:O}: mission {MissionId} accepted", name, scheduledFor, missionId);
        else
            logger.LogWarning("schedule {Schedule} fired for {ScheduledFor:O}: mission {MissionId} not accepted: {Reason}", name, scheduledFor, missionId, firing.Reason);
    }

    /// <summary>The mission id a schedule's firing for <paramref name="scheduledFor"/> submits.</summary>
    public static string MissionIdFor(string schedule, DateTimeOffset scheduledFor) =>
        $"sch-{schedule}-{scheduledFor.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}";
}
