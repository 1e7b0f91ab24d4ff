using Quartz;
using Microsoft.Extensions.DependencyInjection;
using RobotFleet.ControlPlane.Schedules;
using RobotFleet.Contracts;

namespace RobotFleet.ControlPlane.Schedules.Tests;

/// <summary>
/// The SQLite job store: a schedule survives a restart, and a restart after downtime honours the schedule's misfire
/// policy. Real time, short cron periods, misfire threshold 1 s.
/// </summary>
public static class Downtime
{
    /// <summary>Every 3 s, on seconds divisible by 3.</summary>
    public const string Every3Seconds = "0/3 * * * * ?";

    public static readonly TimeSpan Period = TimeSpan.FromSeconds(3);

    /// <summary>The misfire threshold the test harness gives Quartz.</summary>
    public static readonly TimeSpan MisfireThreshold = TimeSpan.FromSeconds(1);

    public static ScheduleDefinition Definition(string name, MisfirePolicy misfire) =>
        new(name, Every3Seconds, "Europe/Berlin", misfire, new MissionTemplate(MissionKind.Delivery, "a", "b", 2));

    public static bool OnGrid(DateTimeOffset t) => t.Millisecond == 0 && t.Second % 3 == 0;

    /// <summary>Creates the schedule, stops the host, stays down past 2+ fire times, starts a new host on the same directory and watches it for 4 s and until a fire time after the restart has fired (15 s at most).</summary>
    public static async Task<(DateTimeOffset DownFrom, DateTimeOffset UpAt, DateTimeOffset RunningAt, IReadOnlyList<ScheduleFiring> Firings, ScheduleView? After)> RunAsync(string directory, ScheduleDefinition definition)
    {
        DateTimeOffset downFrom;
        await using (var first = await ScheduleHarness.StartAsync(directory))
        {
            var created = await first.Schedules.CreateAsync(definition);
            Assert.NotNull(created.Created);
        }

        downFrom = DateTimeOffset.UtcNow; // the scheduler has shut down

        await Task.Delay(TimeSpan.FromSeconds(7));
        var upAt = DateTimeOffset.UtcNow;
        await using var second = await ScheduleHarness.StartAsync(directory);
        var after = await second.Schedules.FindAsync(definition.Name);
        // At least 4 s, and on until a regular fire time (not one missed while down) has fired: under load a firing that
        // runs later than the misfire threshold is skipped by the job, and the next is a period later (CI, 2026-12-02: a
        // 4 s watch saw none).
        var watchedFrom = DateTimeOffset.UtcNow; // the new scheduler runs (the harness waits for it)
        IReadOnlyList<ScheduleFiring> firings = [];
        while (DateTimeOffset.UtcNow < watchedFrom + TimeSpan.FromSeconds(15))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100));
            firings = await second.Schedules.FiringsAsync(definition.Name) ?? [];
            if (DateTimeOffset.UtcNow >= watchedFrom + TimeSpan.FromSeconds(4) && firings.Any(f => f.ScheduledFor >= upAt - MisfireThreshold))
                break;
        }

        return (downFrom, upAt, watchedFrom, firings, after);
    }
}

public sealed class When_the_control_plane_was_down_and_the_policy_is_skip : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    // Regression: once in ~15 runs on a loaded machine (CI clone 2026-11-30) the fire time 02:54:30, due while the
    // scheduler was down (02:54:28.5-02:54:35.5), ran at 02:54:36 for 02:54:30 after the restart: Quartz ran a trigger it
    // recovered at start-up late instead of treating it as misfired. The job now skips any firing later than the
    // threshold under the skip policy (deterministic check: When_a_skip_schedule_firing_runs_late).
    [Fact]
    public async Task The_schedule_survives_the_restart_and_missed_firings_are_skipped()
    {
        var (downFrom, upAt, runningAt, firings, after) = await Downtime.RunAsync(_dir.Path, Downtime.Definition("skip-rounds", MisfirePolicy.Skip));

        Assert.NotNull(after);
        Assert.Equal(Downtime.Every3Seconds, after.Definition.Cron);
        Assert.Equal(MisfirePolicy.Skip, after.Definition.Misfire);
        Assert.Equal(new MissionTemplate(MissionKind.Delivery, "a", "b", 2), after.Definition.Mission);

        // No catch-up: every firing after the restart is a regular fire time later than the restart, on time.
        Assert.True(firings.Count > 0, $"no firing; down {downFrom:HH:mm:ss.fff}..{upAt:HH:mm:ss.fff}, scheduler running at {runningAt:HH:mm:ss.fff}, watched for 15 s");
        Assert.All(firings, f =>
        {
            Assert.True(Downtime.OnGrid(f.ScheduledFor), $"off-grid firing for {f.ScheduledFor:O}");
            // upAt is read before the new scheduler starts; a fire time within the misfire threshold (1 s) of its
            // start is not a misfire in Quartz's terms and fires normally, so the window ends a threshold early.
            Assert.True(f.ScheduledFor >= upAt - Downtime.MisfireThreshold || f.ScheduledFor < downFrom, $"firing for {f.ScheduledFor:O} during the downtime {downFrom:O}..{upAt:O}");
            Assert.True(f.FiredAt - f.ScheduledFor < TimeSpan.FromSeconds(2), $"late firing {f.FiredAt:O} for {f.ScheduledFor:O}");
            Assert.True(f.Accepted);
            Assert.Equal(RecurringMissionJob.MissionIdFor("skip-rounds", f.ScheduledFor), f.MissionId);
        });
        Assert.InRange(firings.Count(f => f.ScheduledFor >= upAt - Downtime.MisfireThreshold), 1, 3);
    }
}

public sealed class When_the_control_plane_stops_while_a_firing_waits_for_its_answer : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    // Regression: the host stops its services in reverse order of registration, the bus (registered after the schedules)
    // first, while Quartz's scheduler ran on: a firing under way as the host stopped, or one that came due while the bus
    // stopped, got no answer, or "submission failed: An exception occurred while processing the SubmitMission request"
    // (CI, 2026-12-01), and its mission was recorded as not accepted. Without the fix this test failed 2 runs in 3 with
    // "no answer from the control plane within 5 s" for the firing under way.
    [Fact]
    public async Task No_firing_is_sent_on_a_stopping_bus_and_the_one_under_way_gets_its_answer()
    {
        var everySecond = Downtime.Definition("slow-answer", MisfirePolicy.Skip) with { Cron = "* * * * * ?" };
        var options = new ScheduleOptions { DataDirectory = _dir.Path, MisfireThreshold = Downtime.MisfireThreshold, WatchdogInterval = null, SubmitTimeout = TimeSpan.FromSeconds(5) };
        await using (var host = await ScheduleHarness.StartAsync(_dir.Path, configure: s => s.AddSingleton(new CoordinatorDelay(TimeSpan.FromSeconds(1.5))), options: options))
        {
            Assert.NotNull((await host.Schedules.CreateAsync(everySecond)).Created);
            var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(10);
            while (host.Received.IsEmpty && DateTimeOffset.UtcNow < deadline)
                await Task.Delay(20);
            Assert.False(host.Received.IsEmpty, "no firing within 10 s");
        } // stops while the coordinator has yet to answer the first firing

        await using var after = await ScheduleHarness.StartAsync(_dir.Path);
        var firings = await after.Schedules.FiringsAsync("slow-answer") ?? [];
        Assert.NotEmpty(firings);
        Assert.All(firings, f => Assert.True(f.Accepted, $"firing for {f.ScheduledFor:O} not accepted: {f.Reason}"));
    }
}

public sealed class When_the_control_plane_was_down_and_the_policy_is_fire_once_now : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Exactly_one_catch_up_firing_runs_at_once_then_the_regular_times()
    {
        var (downFrom, upAt, runningAt, firings, after) = await Downtime.RunAsync(_dir.Path, Downtime.Definition("catch-up", MisfirePolicy.FireOnceNow));

        Assert.Equal(MisfirePolicy.FireOnceNow, after!.Definition.Misfire);

        // Quartz's FireAndProceed: one firing at once, for the first missed fire time (so its mission id is that
        // time's), then the regular times; the other missed times are dropped. The first missed time is the first the
        // first scheduler did not run: it may fall just before its shutdown ended (CI: due at 21.000, shutdown done at
        // 21.590, run as the catch-up after the restart), so it is found from the firings, not from downFrom.
        var ranBefore = firings.Where(f => f.FiredAt < upAt).ToList();
        var missed = firings.Where(f => f.FiredAt >= upAt && f.ScheduledFor < upAt - Downtime.MisfireThreshold).ToList();
        var shown = $"down {downFrom:HH:mm:ss.fff}..{upAt:HH:mm:ss.fff}, scheduler running at {runningAt:HH:mm:ss.fff}; firings: " +
            string.Join(", ", firings.Select(f => $"{f.ScheduledFor:HH:mm:ss.fff} fired {f.FiredAt:HH:mm:ss.fff}"));
        Assert.True(missed.Count == 1, $"{missed.Count} catch-up firings; {shown}");
        var catchUp = missed[0];
        // The first fire time not run before the downtime: right after the last one run, and no later than the first
        // fire time after the shutdown ended. When the stopping scheduler itself handled the misfire (a shutdown that
        // waited for a running job: 30 s once under load), Quartz's FireAndProceed moved the fire time to that moment,
        // off the grid; it still runs once, at once, after the restart.
        if (ranBefore.Count > 0)
        {
            var lastRun = ranBefore.Max(f => f.ScheduledFor);
            Assert.True(catchUp.ScheduledFor > lastRun, shown);
            if (Downtime.OnGrid(catchUp.ScheduledFor))
                Assert.Equal(lastRun + Downtime.Period, catchUp.ScheduledFor);
        }

        Assert.True(catchUp.ScheduledFor <= downFrom + Downtime.Period, shown);
        // At once: no later than a moment after the new scheduler runs (it may start a while after the host under load).
        Assert.True(catchUp.FiredAt >= upAt && catchUp.FiredAt <= runningAt.AddSeconds(3), shown);
        var regular = firings.Where(f => f.ScheduledFor >= upAt - Downtime.MisfireThreshold).ToList();
        Assert.InRange(regular.Count, 1, 3);
        Assert.All(regular, f =>
        {
            Assert.True(Downtime.OnGrid(f.ScheduledFor));
            Assert.True(f.FiredAt - f.ScheduledFor < TimeSpan.FromSeconds(2));
        });
    }
}

public sealed class When_a_schedule_fires : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task It_submits_its_mission_as_the_schedule_and_records_rejections()
    {
        await using var host = await ScheduleHarness.StartAsync(_dir.Path);
        await host.Schedules.CreateAsync(new ScheduleDefinition("every-second", "* * * * * ?", "UTC", MisfirePolicy.Skip, new MissionTemplate(MissionKind.Delivery, "a", "c", 3)));
        await host.Schedules.CreateAsync(new ScheduleDefinition("patrol", "* * * * * ?", "UTC", MisfirePolicy.Skip, new MissionTemplate(MissionKind.Patrol, null, null, 0)));
        await host.Schedules.CreateAsync(new ScheduleDefinition("off", "* * * * * ?", "UTC", MisfirePolicy.Skip, new MissionTemplate(MissionKind.Delivery, "a", "c", 0), Enabled: false));

        Assert.True(await Wait.UntilAsync(async () => (await host.Schedules.FiringsAsync("every-second"))!.Count >= 2 && (await host.Schedules.FiringsAsync("patrol"))!.Count >= 1, TimeSpan.FromSeconds(5)));

        var submitted = host.Received.First(m => m.Kind == MissionKind.Delivery);
        Assert.Equal(("a", "c", 3, "schedule:every-second"), (submitted.Pickup, submitted.Dropoff, submitted.Priority, submitted.RequestedBy));
        Assert.StartsWith("sch-every-second-", submitted.MissionId);

        var rejected = (await host.Schedules.FiringsAsync("patrol"))![0];
        Assert.False(rejected.Accepted);
        Assert.Equal("kind", rejected.Field);
        Assert.Contains("not supported", rejected.Reason);

        Assert.Empty((await host.Schedules.FiringsAsync("off"))!);
        var off = await host.Schedules.FindAsync("off");
        Assert.False(off!.Definition.Enabled);
        Assert.Null(off.NextFireUtc);

        var list = await host.Schedules.ListAsync();
        Assert.Equal(["every-second", "off", "patrol"], list.Select(s => s.Definition.Name));

        Assert.True((await host.Schedules.CreateAsync(new ScheduleDefinition("patrol", "* * * * * ?", "UTC", MisfirePolicy.Skip, new MissionTemplate(MissionKind.Delivery, "a", "c", 0)))).AlreadyExists);
        Assert.True(await host.Schedules.DeleteAsync("patrol"));
        Assert.Null(await host.Schedules.FindAsync("patrol"));
        Assert.Null(await host.Schedules.FiringsAsync("patrol"));
        Assert.False(await host.Schedules.DeleteAsync("patrol"));
    }

    [Fact]
    public async Task The_firing_log_keeps_only_the_last_n()
    {
        await using var host = await ScheduleHarness.StartAsync(null, options: new ScheduleOptions { FiringsKept = 2, WatchdogInterval = null });
        await host.Schedules.CreateAsync(new ScheduleDefinition("often", "* * * * * ?", "UTC", MisfirePolicy.Skip, new MissionTemplate(MissionKind.Delivery, "a", "b", 0)));
        Assert.True(await Wait.UntilAsync(() => Task.FromResult(host.Received.Count >= 4), TimeSpan.FromSeconds(8)));
        var kept = (await host.Schedules.FiringsAsync("often"))!;
        Assert.Equal(2, kept.Count);
        Assert.True(kept[0].ScheduledFor < kept[1].ScheduledFor);
    }
}

public sealed class When_a_skip_schedule_firing_runs_late : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// A trigger of the schedule's job due 10 s ago that Quartz runs anyway (misfire instruction ignored): the firing is
    /// 10 s late, past the 1 s threshold, so a skip schedule submits nothing; a fire-once-now schedule submits it.
    /// </summary>
    [Theory]
    [InlineData(MisfirePolicy.Skip, 0)]
    [InlineData(MisfirePolicy.FireOnceNow, 1)]
    public async Task It_submits_nothing_under_the_skip_policy(MisfirePolicy policy, int submitted)
    {
        await using var host = await ScheduleHarness.StartAsync(_dir.Path);
        var definition = new ScheduleDefinition("late", "0 0 3 1 1 ? 2099", "UTC", policy, new MissionTemplate(MissionKind.Delivery, "a", "b", 1));
        Assert.NotNull((await host.Schedules.CreateAsync(definition)).Created);
        var scheduler = await host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        var due = DateTimeOffset.UtcNow.AddSeconds(-10);
        await scheduler.ScheduleJob(TriggerBuilder.Create()
            .ForJob("late", ScheduleService.Group)
            .StartAt(due)
            .WithSimpleSchedule(s => s.WithMisfireInstruction(SimpleTriggerMisfireInstruction.IgnoreMisfires))
            .Build());

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (host.Received.Count < submitted && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        await Task.Delay(1000); // time for a firing that should not happen

        Assert.Equal(submitted, host.Received.Count);
        Assert.Equal(submitted, (await host.Schedules.FiringsAsync("late"))!.Count);
    }
}
