using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Quartz;

namespace RobotFleet.ControlPlane.Schedules;

/// <summary>Registers the schedules feature: Quartz (SQLite job store under the data directory, or RAM), recurring missions, robot watchdog.</summary>
public static class SchedulesRegistration
{
    /// <summary>Quartz key of the robot watchdog's job and trigger.</summary>
    public static readonly JobKey WatchdogKey = new("robot-watchdog", "system");

    /// <summary>
    /// Adds Quartz with its hosted service, <see cref="ScheduleService"/>, <see cref="FiringLog"/> and, when
    /// <see cref="ScheduleOptions.WatchdogInterval"/> is set, <see cref="RobotWatchdogJob"/> (needs an <see cref="IRobotLastSeen"/>).
    /// <see cref="RecurringMissionJob"/> sends <c>SubmitMission</c> on the bus; needs a SiteMap and MassTransit registered.
    /// </summary>
    public static IServiceCollection AddSchedules(this IServiceCollection services, ScheduleOptions options)
    {
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<FiringLog>();
        services.AddSingleton<ScheduleService>();
        services.AddSingleton<RobotSilenceTracker>();
        if (options.DataDirectory is { } dataDirectory)
            Directory.CreateDirectory(dataDirectory);

        services.AddQuartz(q =>
        {
            if (options.DatabasePath is { } path)
            {
                q.UsePersistentStore(s =>
                {
                    s.UseSqlite($"Data Source={path};Default Timeout=30");
                    s.ProvisionSchema();
                    s.UseSystemTextJsonSerializer();
                    s.ConfigureStore(o => o.MisfireThreshold = options.MisfireThreshold);
                });
            }
            else
            {
                q.UseInMemoryStore(o => o.MisfireThreshold = options.MisfireThreshold);
            }

            q.AddJobType<RecurringMissionJob>();
            if (options.WatchdogInterval is { } interval)
            {
                q.ScheduleJob<RobotWatchdogJob>(
                    t => t.WithIdentity(WatchdogKey.Name, WatchdogKey.Group).StartNow()
                        .WithSimpleSchedule(s => s.WithInterval(interval).RepeatForever()
                            .WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount)),
                    j => j.WithIdentity(WatchdogKey));
            }
        });
        services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        return services;
    }
}
