using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
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
        // The host starts its services in the order registered and stops them in reverse, and the bus (MassTransit) is
        // registered after this: the scheduler starts once the host has started (the bus with it) and stops firing as the
        // host begins to stop (SchedulerStopping), so no firing submits its mission on a bus not yet started or already stopped.
        services.AddQuartzHostedService(o =>
        {
            o.WaitForJobsToComplete = true;
            o.AwaitApplicationStarted = true;
        });
        services.AddHostedService<SchedulerStopping>();
        if (postgres is not null)
            services.AddHostedService<ScheduleSchemaLockRelease>();
        return services;
    }
}

/// <summary>
/// Puts the scheduler in standby as the host begins to stop, before any service stops, and waits for the jobs running then
/// to finish: a firing under way gets its answer while the bus still runs, and a fire time that falls during the shutdown
/// is a misfire, handled by the schedule's policy at the next start (Quartz's own hosted service stops after the bus).
/// Waits at most until the host's shutdown timeout cancels it.
/// </summary>
internal sealed class SchedulerStopping(ISchedulerFactory schedulers) : IHostedLifecycleService
{
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        if (scheduler.Status is not (SchedulerStatus.Running or SchedulerStatus.Standby))
            return;
        await scheduler.Standby(cancellationToken);
        var running = new FireInstanceQuery { SchedulerInstanceId = scheduler.SchedulerInstanceId, State = FireInstanceState.Executing };
        try
        {
            while ((await scheduler.QueryFireInstances(running, cancellationToken)).Items.Count > 0)
                await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // the host's shutdown timeout: stop anyway
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
