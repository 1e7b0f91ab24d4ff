using Microsoft.Extensions.DependencyInjection;
using Quartz;
using RobotFleet.ControlPlane.Schedules;
using RobotFleet.Contracts;

namespace RobotFleet.ControlPlane.Schedules.Tests;

/// <summary>The mission template: every field of SubmitMission is stored, survives a restart, and is submitted unchanged.</summary>
public sealed class When_a_schedule_has_a_full_mission_template : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static MissionTemplate Patrol() => new(
        MissionKind.Patrol, null, null, 2, Locations: ["a", "C"], Rounds: 3, Robot: new RobotId("RobotFleet", "sim-1"),
        RequiredActions: ["beep"], DeadlineSeconds: 600);

    private static readonly MissionTemplate[] Templates =
    [
        Patrol(),
        new(MissionKind.Sequence, null, null, 1, Steps: [new MissionStep(GoTo: "a"), new MissionStep(WaitSeconds: 5), new MissionStep(Action: "beep"), new MissionStep(GoTo: "c")]),
        new(MissionKind.Clean, null, null, 0, Zone: "z1"),
        new(MissionKind.Clean, null, null, 0, Locations: ["a", "b"]),
        new(MissionKind.Charge, null, null, 3, Location: "c", TargetCharge: 80),
        new(MissionKind.Park, null, null, 0, Location: "b", DeadlineSeconds: 30),
    ];

    [Fact]
    public async Task Every_field_survives_a_restart()
    {
        await using (var first = await ScheduleHarness.StartAsync(_dir.Path))
        {
            for (var i = 0; i < Templates.Length; i++)
                Assert.NotNull((await first.Schedules.CreateAsync(new ScheduleDefinition($"t{i}", "0 0 8 ? * MON-FRI", "Europe/Berlin", MisfirePolicy.Skip, Templates[i], Enabled: false))).Created);
        }

        await using var second = await ScheduleHarness.StartAsync(_dir.Path);
        for (var i = 0; i < Templates.Length; i++)
            Assert.Equal(Templates[i], (await second.Schedules.FindAsync($"t{i}"))!.Definition.Mission);
    }

    [Fact]
    public async Task A_schedule_stored_in_the_old_shape_is_still_read()
    {
        await using var host = await ScheduleHarness.StartAsync(_dir.Path);
        var scheduler = await host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        var job = JobBuilder.Create<RecurringMissionJob>().WithIdentity("old", ScheduleService.Group).StoreDurably()
            .UsingJobData(new JobDataMap
            {
                ["cron"] = "0 0 8 ? * MON-FRI", ["timeZone"] = "Europe/Berlin", ["misfire"] = "FireOnceNow",
                ["kind"] = "Delivery", ["pickup"] = "a", ["dropoff"] = "b", ["priority"] = "2",
            }).Build();
        await scheduler.AddJob(job);

        var old = await host.Schedules.FindAsync("old");
        Assert.NotNull(old);
        Assert.Equal(MisfirePolicy.FireOnceNow, old.Definition.Misfire);
        Assert.Equal(new MissionTemplate(MissionKind.Delivery, "a", "b", 2), old.Definition.Mission);
    }

    [Fact]
    public async Task A_firing_submits_the_template_unchanged_with_the_deadline_after_the_firing()
    {
        await using var host = await ScheduleHarness.StartAsync(_dir.Path);
        Assert.NotNull((await host.Schedules.CreateAsync(new ScheduleDefinition("patrol", "* * * * * ?", "UTC", MisfirePolicy.Skip, Patrol()))).Created);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        SubmitMission? submitted = null;
        while (DateTime.UtcNow < deadline && (submitted = host.Received.FirstOrDefault()) is null)
            await Task.Delay(100);

        Assert.NotNull(submitted);
        var template = Patrol();
        Assert.Equal((MissionKind.Patrol, 2, 3, "schedule:patrol", template.Robot), (submitted.Kind, submitted.Priority, submitted.Rounds, submitted.RequestedBy, submitted.Robot));
        Assert.Equal(template.Locations, submitted.Locations);
        Assert.Equal(template.RequiredActions, submitted.RequiredActions);
        // The job records its firing after the coordinator answered: wait for the record (CI read the log before it).
        IReadOnlyList<ScheduleFiring> firings = [];
        while (DateTime.UtcNow < deadline + TimeSpan.FromSeconds(10) && !(firings = (await host.Schedules.FiringsAsync("patrol"))!).Any(f => f.MissionId == submitted.MissionId))
            await Task.Delay(50);
        var firing = Assert.Single(firings, f => f.MissionId == submitted.MissionId);
        Assert.InRange(submitted.Deadline!.Value, firing.FiredAt.AddSeconds(599), firing.FiredAt.AddSeconds(601));
    }

    [Fact]
    public async Task With_a_coordinator_the_template_gets_its_checks_with_the_field_prefixed()
    {
        await using var host = await ScheduleHarness.StartAsync(_dir.Path, configure: s => s.AddSingleton<IMissionCheck>(new RejectingCheck()));
        var result = await host.Schedules.CreateAsync(new ScheduleDefinition("p", "0 0 8 ? * MON-FRI", "UTC", MisfirePolicy.Skip, new MissionTemplate(MissionKind.Patrol, null, null, 0)));

        var error = Assert.Single(result.Errors);
        Assert.Equal(("mission.locations", "locations is required for a patrol"), (error.Field, error.Message));
        Assert.Null(await host.Schedules.FindAsync("p"));
    }

    private sealed class RejectingCheck : IMissionCheck
    {
        public Task<MissionRejected?> CheckAsync(SubmitMission mission, CancellationToken cancellationToken) =>
            Task.FromResult<MissionRejected?>(mission.Locations is { Count: > 0 } ? null : new MissionRejected(mission.MissionId, "locations", "locations is required for a patrol"));
    }
}
