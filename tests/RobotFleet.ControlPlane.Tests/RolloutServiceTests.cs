using RobotFleet.ControlPlane.Models;
using RobotFleet.Contracts;

namespace RobotFleet.ControlPlane.Tests;

/// <summary>Wave and gate logic of <see cref="RolloutService"/> with a manual clock, fake robots and a recording sender.</summary>
public sealed class RolloutServiceTests : IDisposable
{
    private static readonly RolloutPackage Package = new("detector", "2.0.0", new Uri("http://fleet/api/models/detector/2.0.0/model.onnx"),
        new Uri("http://fleet/api/models/detector/2.0.0/manifest.json"), new string('a', 64), new string('b', 64), "c2ln");

    private readonly ManualTime _time = new();
    private readonly Robots _fleet = new();
    private readonly Sent _sent = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("robotfleet-rollouts-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static RobotId R(int n) => new("acme", $"r{n}");

    /// <summary>A service that has heard every online robot report no model serving (robots install only once they reported).</summary>
    private RolloutService Service(string? dir = null)
    {
        var service = new RolloutService(new Packages(), _fleet, _sent, dir, _time);
        foreach (var robot in _fleet.Views.Keys)
            service.OnModelStatus(new RobotModelStatusReported(robot, DateTimeOffset.UtcNow, [], null, null, null));
        return service;
    }

    private static RolloutRequest Request(IReadOnlyList<string>? waves = null, RolloutTarget? target = null) => new(
        "detector", "2.0.0", target ?? new RolloutTarget(All: true), waves ?? ["1", "100%"],
        new RolloutGate(MaxErrorRate: 0.1, MinRuns: 10, Timeout: TimeSpan.FromMinutes(1)),
        new RolloutInstallPolicy(WaitTimeout: TimeSpan.FromMinutes(5), ActionTimeout: TimeSpan.FromMinutes(2)));

    private void Online(int count)
    {
        for (var i = 1; i <= count; i++)
            _fleet.Views[R(i)] = new RolloutRobotView(R(i), true, true, false);
    }

    private static void Report(RolloutService s, RobotId robot, string version, long runs, long errors, double p95 = 5) =>
        s.OnModelStatus(new RobotModelStatusReported(robot, DateTimeOffset.UtcNow, [new RobotModelVersion("detector", version, true)], "detector", version,
            new RobotInferenceHealth(runs, errors, p95, 40)));

    /// <summary>Answers the last action sent to <paramref name="robot"/>.</summary>
    private void Answer(RolloutService s, RobotId robot, RobotActionStatus status = RobotActionStatus.Finished, string? text = null)
    {
        var action = _sent.Actions.Last(a => a.Robot == robot).Action;
        s.OnActionEnded(robot, action.ActionId, status, text);
    }

    /// <summary>Takes a robot through download and enable of the new version, with health figures afterwards.</summary>
    private async Task InstallAsync(RolloutService s, RobotId robot, long runs, long errors)
    {
        Assert.Equal("downloadModel", _sent.Actions.Last(a => a.Robot == robot).Action.ActionType);
        Answer(s, robot);
        await s.TickAsync();
        Assert.Equal("enableModel", _sent.Actions.Last(a => a.Robot == robot).Action.ActionType);
        Answer(s, robot);
        Report(s, robot, "2.0.0", runs, errors);
    }

    [Fact]
    public async Task Waves_run_one_after_another_and_the_rollout_completes_when_every_gate_passes()
    {
        Online(3);
        var s = Service();
        foreach (var r in new[] { R(1), R(2), R(3) })
            Report(s, r, "1.0.0", 100, 0);
        var (view, rejection) = s.Create(Request());
        Assert.Null(rejection);
        Assert.Equal(2, view!.Waves.Count);

        await s.TickAsync();
        Assert.Equal([R(1)], _sent.Actions.Select(a => a.Robot).Distinct()); // the canary only
        var download = _sent.Actions[0].Action;
        Assert.Equal("http://fleet/api/models/detector/2.0.0/model.onnx", download.Parameters["modelLink"]);
        Assert.Equal(new string('a', 64), download.Parameters["modelSha256"]);
        Assert.Equal("c2ln", download.Parameters["signature"]);
        await InstallAsync(s, R(1), runs: 20, errors: 1);
        await s.TickAsync(); // canary judged healthy: wave 1 starts

        Assert.Equal("Passed", s.Find(view.Id)!.Waves[0].Status);
        await s.TickAsync();
        await InstallAsync(s, R(2), 30, 0);
        await InstallAsync(s, R(3), 30, 0);
        await s.TickAsync();

        var done = s.Find(view.Id)!;
        Assert.Equal("Completed", done.Status);
        Assert.All(done.Robots, r => Assert.True(r.State == "Active" && r.Healthy == true, $"{r.Robot}: {r.State} {r.Reason}"));
        Assert.Equal("detector@1.0.0", done.Robots[0].PreviousVersion);
    }

    [Fact]
    public async Task A_canary_over_the_error_rate_is_rolled_back_and_no_later_robot_receives_anything()
    {
        Online(3);
        var s = Service();
        foreach (var r in new[] { R(1), R(2), R(3) })
            Report(s, r, "1.0.0", 100, 0);
        var id = s.Create(Request()).Rollout!.Id;
        await s.TickAsync();
        await InstallAsync(s, R(1), runs: 20, errors: 5);
        await s.TickAsync();

        var view = s.Find(id)!;
        Assert.Equal("RolledBack", view.Status);
        Assert.Contains("error rate", view.Reason);
        var rollback = _sent.Actions.Last().Action;
        Assert.Equal("enableModel", rollback.ActionType);
        Assert.Equal("1.0.0", rollback.Parameters["modelVersion"]);
        Assert.Equal("RolledBack", view.Robots[0].State);
        Assert.All(view.Robots.Skip(1), r => Assert.Equal("Skipped", r.State));
        Assert.DoesNotContain(_sent.Actions, a => a.Robot != R(1));
        await s.TickAsync();
        Assert.DoesNotContain(_sent.Actions, a => a.Robot != R(1));
    }

    [Fact]
    public async Task A_robot_that_stops_answering_is_failed_and_the_rollout_still_ends()
    {
        Online(2);
        var s = Service();
        Report(s, R(1), "1.0.0", 100, 0); // r1 has a version to go back to
        var id = s.Create(Request(["100%"])).Rollout!.Id;
        await s.TickAsync();
        await InstallAsync(s, R(1), runs: 20, errors: 0); // r2 got its downloadModel and says nothing from now on
        await s.TickAsync();
        Assert.Equal("Running", s.Find(id)!.Status);

        _time.Advance(TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(1));
        await s.TickAsync();

        var view = s.Find(id)!;
        Assert.Equal("RolledBack", view.Status);
        var silent = view.Robots.Single(r => r.Robot == R(2).ToString());
        Assert.Equal("Failed", silent.State);
        Assert.Contains("no answer to downloadModel", silent.Reason);
        Assert.NotNull(view.EndedAt);
    }

    [Fact]
    public async Task An_enabled_robot_without_reports_fails_the_gate_at_its_timeout()
    {
        Online(1);
        var s = Service();
        var id = s.Create(Request(["1"])).Rollout!.Id;
        await s.TickAsync();
        Answer(s, R(1));
        await s.TickAsync();
        _time.Advance(TimeSpan.FromSeconds(1));
        Answer(s, R(1)); // enabled, then silence
        _time.Advance(TimeSpan.FromSeconds(61));
        await s.TickAsync();

        // Nothing served before: nothing to go back to, so the rollout does not claim a rollback.
        var view = s.Find(id)!;
        Assert.Equal("Failed", view.Status);
        Assert.Contains("no modelStatus report", view.Robots[0].Reason);
        Assert.Contains("nothing to roll back to: robots acme/r1 still serve the new version detector@2.0.0", view.Reason);
        Assert.Equal("Active", view.Robots[0].State);
        Assert.False(view.Robots[0].Healthy);
        Assert.Contains("the new one still serves", view.Robots[0].Reason);
        Assert.DoesNotContain(_sent.Actions, a => a.Action.ActionType == "enableModel" && a.Action.Parameters["modelVersion"] != "2.0.0");
    }

    [Fact]
    public async Task A_robot_without_inference_runs_fails_the_gate_saying_why_and_a_robot_with_a_previous_version_is_still_rolled_back()
    {
        Online(2);
        var s = Service();
        Report(s, R(1), "1.0.0", 100, 0); // r1 served 1.0.0 before; r2 served nothing
        var id = s.Create(Request(["100%"])).Rollout!.Id;
        await s.TickAsync();
        await InstallAsync(s, R(1), runs: 0, errors: 0);
        await InstallAsync(s, R(2), runs: 0, errors: 0);
        _time.Advance(TimeSpan.FromSeconds(61));
        await s.TickAsync();

        var view = s.Find(id)!;
        Assert.Equal("Failed", view.Status);
        Assert.Contains("runs no perception", view.Robots[0].Reason);
        Assert.Contains("--perception-hz", view.Robots[0].Reason);
        Assert.Equal("RolledBack", view.Robots[0].State);
        Assert.Equal("Active", view.Robots[1].State);
        Assert.Contains("nothing to roll back to: robots acme/r2 still serve the new version", view.Reason);
        Assert.DoesNotContain("acme/r1 still", view.Reason);
    }

    [Fact]
    public async Task A_second_rollout_to_a_robot_in_a_running_rollout_is_refused_as_a_conflict_naming_it()
    {
        Online(3);
        var s = Service();
        var first = s.Create(Request(["1", "100%"], new RolloutTarget(Robots: [R(1), R(2)]))).Rollout!; // r2 waits in wave 1
        await s.TickAsync();

        var (none, conflict) = s.Create(Request(["100%"], new RolloutTarget(Robots: [R(3), R(2)])));
        Assert.Null(none);
        Assert.True(conflict!.Conflict);
        Assert.False(conflict.NotFound);
        Assert.Equal("target", conflict.Field);
        Assert.Contains($"robot 'acme/r2' is already in rollout '{first.Id}'", conflict.Message);
        Assert.True(s.SetPaused(first.Id, true));
        Assert.True(s.Create(Request(["100%"], new RolloutTarget(Robots: [R(1)]))).Rejection!.Conflict); // paused still holds its robots

        Assert.NotNull(s.Create(Request(["100%"], new RolloutTarget(Robots: [R(3)]))).Rollout); // other robots are free
        Assert.True(s.Abort(first.Id));
        Assert.NotNull(s.Create(Request(["100%"], new RolloutTarget(Robots: [R(1), R(2)]))).Rollout); // ended: free again
    }

    [Theory]
    [InlineData("gate.maxErrorRate")]
    [InlineData("gate.minRuns")]
    [InlineData("gate.maxFailedRobots")]
    [InlineData("gate.soakSeconds")]
    [InlineData("gate.timeoutSeconds")]
    [InlineData("install.waitTimeoutSeconds")]
    [InlineData("install.actionTimeoutSeconds")]
    [InlineData("install.maintenanceMinutes")]
    public void Every_number_of_the_gate_and_install_policy_is_validated_naming_its_field(string field)
    {
        Online(1);
        var s = Service();
        var request = Request(["1"]);
        var bad = field switch
        {
            "gate.maxErrorRate" => request with { Gate = request.Gate with { MaxErrorRate = 1.5 } },
            "gate.minRuns" => request with { Gate = request.Gate with { MinRuns = -1 } },
            "gate.maxFailedRobots" => request with { Gate = request.Gate with { MaxFailedRobots = -1 } },
            "gate.soakSeconds" => request with { Gate = request.Gate with { SoakTime = TimeSpan.FromMinutes(1) } }, // not shorter than the 1 minute timeout
            "gate.timeoutSeconds" => request with { Gate = request.Gate with { Timeout = TimeSpan.Zero } },
            "install.waitTimeoutSeconds" => request with { Install = request.Install with { WaitTimeout = TimeSpan.FromSeconds(-1) } },
            "install.actionTimeoutSeconds" => request with { Install = request.Install with { ActionTimeout = TimeSpan.FromSeconds(-1) } },
            _ => request with { Install = request.Install with { MaintenanceDuration = TimeSpan.FromMinutes(-5) } },
        };

        var rejection = s.Create(bad).Rejection;
        Assert.NotNull(rejection);
        Assert.Equal(field, rejection.Field);
        Assert.StartsWith(field, rejection.Message);
        Assert.Equal("gate.maxErrorRate", s.Create(request with { Gate = request.Gate with { MaxErrorRate = -0.1 } }).Rejection!.Field);
        Assert.Equal("gate.soakSeconds", s.Create(request with { Gate = request.Gate with { SoakTime = TimeSpan.FromSeconds(-1) } }).Rejection!.Field);
        Assert.NotNull(s.Create(request with { Gate = request.Gate with { MinRuns = 0, MaxErrorRate = 1 } }).Rollout);
    }

    [Fact]
    public async Task A_busy_robot_waits_and_is_failed_when_it_never_becomes_idle()
    {
        Online(1);
        _fleet.Views[R(1)] = _fleet.Views[R(1)] with { Idle = false };
        var s = Service();
        var id = s.Create(Request(["1"])).Rollout!.Id;
        await s.TickAsync();
        Assert.Empty(_sent.Actions);

        _fleet.Views[R(1)] = _fleet.Views[R(1)] with { Charging = true }; // charging counts as a time to install
        await s.TickAsync();
        Assert.Single(_sent.Actions);

        var s2 = Service();
        _fleet.Views[R(1)] = _fleet.Views[R(1)] with { Charging = false };
        var id2 = s2.Create(Request(["1"])).Rollout!.Id;
        _time.Advance(TimeSpan.FromMinutes(6));
        await s2.TickAsync();
        Assert.Equal("Failed", s2.Find(id2)!.Robots[0].State);
        Assert.NotEqual("Running", s2.Find(id2)!.Status);
        Assert.Equal("Running", s.Find(id)!.Status);
    }

    [Fact]
    public async Task A_robot_that_never_reported_its_models_gets_nothing_and_fails_at_the_wait_timeout()
    {
        var s = Service();
        Online(1); // known to the fleet, but no modelStatus heard
        var id = s.Create(Request(["1"])).Rollout!.Id;
        await s.TickAsync();
        Assert.Empty(_sent.Actions);
        _time.Advance(TimeSpan.FromMinutes(6));
        await s.TickAsync();
        Assert.Contains("modelStatus", s.Find(id)!.Robots[0].Reason);
        Assert.NotEqual("Running", s.Find(id)!.Status);
    }

    [Fact]
    public async Task Paused_rollouts_send_nothing_and_aborted_ones_end()
    {
        Online(2);
        var s = Service();
        var id = s.Create(Request()).Rollout!.Id;
        Assert.True(s.SetPaused(id, true));
        await s.TickAsync();
        Assert.Empty(_sent.Actions);
        Assert.True(s.SetPaused(id, false));
        await s.TickAsync();
        Assert.Single(_sent.Actions);
        Assert.True(s.Abort(id));
        Assert.Equal("Aborted", s.Find(id)!.Status);
        Assert.False(s.Abort(id));
        Assert.Null(s.Abort("nope"));
    }

    [Fact]
    public void Requests_are_validated()
    {
        Online(4);
        var s = Service();
        Assert.True(s.Create(Request() with { Version = "9.9.9" }).Rejection!.NotFound);
        Assert.Equal("target", s.Create(Request(target: new RolloutTarget())).Rejection!.Field);
        Assert.Equal("target.robots", s.Create(Request(target: new RolloutTarget(Robots: [new RobotId("acme", "ghost")]))).Rejection!.Field);
        Assert.Equal("waves", s.Create(Request(["1", "50%"])).Rejection!.Field);
        Assert.Equal("waves", s.Create(Request(["0", "100%"])).Rejection!.Field);
        Assert.Equal("waves", s.Create(Request(["abc"])).Rejection!.Field);
        var view = s.Create(Request(["1", "50%", "100%"])).Rollout!;
        Assert.Equal([1, 1, 2], view.Waves.Select(w => w.Robots.Count));
        Assert.True(s.Abort(view.Id)); // one rollout per robot at a time
        var listed = s.Create(Request(["1", "100%"], new RolloutTarget(Robots: [R(3), R(1)]))).Rollout!;
        Assert.Equal(["acme/r3", "acme/r1"], listed.Robots.Select(r => r.Robot));
    }

    [Fact]
    public async Task Maintenance_window_holds_installs_until_it_opens()
    {
        Online(1);
        var s = Service();
        _time.Now = new DateTimeOffset(2026, 1, 1, 1, 0, 0, TimeSpan.Zero);
        var request = Request(["1"]) with { Install = new RolloutInstallPolicy("0 0 2 * * ?", TimeSpan.FromHours(1), TimeSpan.FromHours(3)) };
        s.Create(request);
        await s.TickAsync();
        Assert.Empty(_sent.Actions);
        _time.Now = new DateTimeOffset(2026, 1, 1, 2, 30, 0, TimeSpan.Zero);
        await s.TickAsync();
        Assert.Single(_sent.Actions);
        Assert.Equal("install.maintenanceCron", s.Create(request with { Install = new RolloutInstallPolicy("bad cron", TimeSpan.FromHours(1)) }).Rejection!.Field);
    }

    [Fact]
    public async Task Rollouts_survive_a_restart_with_a_data_directory()
    {
        Online(1);
        var s = Service(_dir);
        var id = s.Create(Request(["1"])).Rollout!.Id;
        await s.TickAsync();
        Answer(s, R(1), RobotActionStatus.Failed, "sha256 mismatch: …");
        await s.TickAsync();
        Assert.Equal("RolledBack", s.Find(id)!.Status);

        var restarted = Service(_dir);
        var view = restarted.Find(id)!;
        Assert.Equal("RolledBack", view.Status);
        Assert.Contains("sha256 mismatch", view.Robots[0].Reason);
    }

    private sealed class Packages : IRolloutPackages
    {
        public RolloutPackage? Find(string name, string version) => name == Package.Name && version == Package.Version ? Package : null;
    }

    private sealed class Robots : IRolloutFleet
    {
        public Dictionary<RobotId, RolloutRobotView> Views { get; } = [];

        public IReadOnlyList<RolloutRobotView> Snapshot() => Views.Values.ToList();
    }

    private sealed class Sent : IRolloutSender
    {
        public List<(RobotId Robot, RobotAction Action)> Actions { get; } = [];

        public Task SendAsync(RobotId robot, RobotAction action, CancellationToken cancellationToken)
        {
            Actions.Add((robot, action));
            return Task.CompletedTask;
        }
    }
}
