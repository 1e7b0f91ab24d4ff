using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;
using Quartz;

namespace RobotFleet.ControlPlane.Schedules;

/// <summary>
/// Registers the schedules feature: Quartz (SQLite job store under the data directory, clustered on PostgreSQL, or RAM; see
/// <see cref="ScheduleOptions.Kind"/>), recurring missions, robot watchdog.
/// </summary>
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
        var postgres = options.PostgresConnectionString;
        if (postgres is not null)
        {
            // Before Quartz's hosted service: the database exists and one instance at a time creates Quartz's tables.
            services.AddSingleton<PostgresScheduleStore>();
            services.AddHostedService<ScheduleSchemaLockAcquire>();
        }

        services.AddQuartz(q =>
        {
            if (postgres is not null)
            {
                // An instance learns of triggers another instance created, or that a stopped instance left, when it next
                // polls the store: every check-in interval rather than Quartz's default 30 s.
                q.ConfigureScheduler(o => o.IdleWaitTime = options.ClusterCheckinInterval < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : options.ClusterCheckinInterval);
                q.UsePersistentStore(s =>
                {
                    s.UsePostgres(NpgsqlFactory.Instance, postgres);
                    // Every instance on this database is a node of one cluster (instance id generated per start): a firing
                    // runs on one node only, and the firings a node held when it died are recovered by another.
                    s.UseClustering(c =>
                    {
                        c.CheckinInterval = options.ClusterCheckinInterval;
                        c.CheckinMisfireThreshold = options.ClusterCheckinMisfireThreshold;
                    });
                    s.ProvisionSchema();
                    s.UseSystemTextJsonSerializer();
                    s.ConfigureStore(o => o.MisfireThreshold = options.MisfireThreshold);
                });
            }
            else if (options.DatabasePath is { } path)
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
        if (postgres is not null)
            services.AddHostedService<ScheduleSchemaLockRelease>();
        return services;
    }
}
