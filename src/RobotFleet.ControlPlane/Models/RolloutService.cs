using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Quartz;
using RobotFleet.Contracts;

namespace RobotFleet.ControlPlane.Models;

/// <summary>Sends a robot one instant action (the server publishes <see cref="TriggerInstantActions"/> on the bus).</summary>
public interface IRolloutSender
{
    /// <summary>Sends <paramref name="action"/> to <paramref name="robot"/>.</summary>
    Task SendAsync(RobotId robot, RobotAction action, CancellationToken cancellationToken);
}

/// <summary>
/// Staged model rollouts: waves (a canary, then shares of the target), a health gate per wave from the robots'
/// <c>modelStatus</c> reports, automatic rollback of a failed wave (no later wave starts), installs only while a robot is
/// idle or charging (and inside the maintenance window when one is set). Driven by <see cref="TickAsync"/> (a hosted
/// service calls it every second) and by robot events; every wait has a timeout, so a rollout always ends.
/// Thread-safe: one lock; actions are sent after it is released.
/// </summary>
public sealed class RolloutService
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, RolloutRecord> _rollouts = new(StringComparer.Ordinal);
    private readonly Dictionary<RobotId, (RobotModelStatusReported Report, DateTimeOffset ReceivedAt)> _reports = [];
    private readonly IRolloutPackages _packages;
    private readonly IRolloutFleet _fleet;
    private readonly IRolloutSender _sender;
    private readonly RolloutStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Creates the service and loads the rollouts kept in <paramref name="dataDirectory"/> (<c>rollouts.db</c>); null keeps them in memory.</summary>
    public RolloutService(IRolloutPackages packages, IRolloutFleet fleet, IRolloutSender sender, string? dataDirectory, TimeProvider? time = null, ILogger<RolloutService>? logger = null)
    {
        _packages = packages;
        _fleet = fleet;
        _sender = sender;
        _time = time ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _store = new RolloutStore(dataDirectory);
        foreach (var rollout in _store.Load())
            _rollouts[rollout.Id] = rollout;
    }

    /// <summary>All rollouts, newest first.</summary>
    public IReadOnlyList<RolloutView> List()
    {
        lock (_gate)
            return _rollouts.Values.OrderByDescending(r => r.CreatedAt).Select(View).ToList();
    }

    /// <summary>A rollout, or null.</summary>
    public RolloutView? Find(string id)
    {
        lock (_gate)
            return _rollouts.TryGetValue(id, out var r) ? View(r) : null;
    }

    /// <summary>Validates and starts a rollout; the first wave starts at the next tick.</summary>
    /// <returns>The new rollout, or why it was refused.</returns>
    public (RolloutView? Rollout, RolloutRejection? Rejection) Create(RolloutRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.Model))
            return Reject("model is required", "model");
        if (string.IsNullOrWhiteSpace(request.Version))
            return Reject("version is required", "version");
        if (_packages.Find(request.Model, request.Version) is not { } package)
            return (null, new RolloutRejection(true, $"unknown model '{request.Model}' version '{request.Version}': upload it first (POST /api/models)", "version"));

        var known = _fleet.Snapshot().Select(r => r.Robot).OrderBy(r => r.Manufacturer, StringComparer.Ordinal).ThenBy(r => r.SerialNumber, StringComparer.Ordinal).ToList();
        List<RobotId> robots;
        var target = request.Target;
        if (target.Tag is { } tag)
        {
            if (target.All || target.Robots is { Count: > 0 })
                return Reject("target: give one of all, tag or robots", "target");
            if (Robots.RobotTags.Check(tag) is { } badTag)
                return Reject($"target {badTag}", "target.tag");
            var tagged = _fleet.Snapshot().Where(r => r.Tags?.Contains(tag, StringComparer.Ordinal) == true).Select(r => r.Robot).ToHashSet();
            robots = known.Where(tagged.Contains).ToList();
            if (robots.Count == 0)
                return Reject($"no robot has tag '{tag}'", "target.tag");
        }
        else if (target.Robots is { Count: > 0 } list)
        {
            if (target.All)
                return Reject("target: give either all or robots, not both", "target");
            if (list.FirstOrDefault(r => !known.Contains(r)) is { } unknown)
                return Reject($"target: unknown robot '{unknown}'", "target.robots");
            robots = list.Distinct().ToList();
        }
        else if (target.All)
        {
            robots = known;
        }
        else
        {
            return Reject("target is empty: give {\"all\":true} or {\"robots\":[\"manufacturer/serialNumber\", ...]}", "target");
        }

        if (robots.Count == 0)
            return Reject("target is empty: the control plane knows no robots yet", "target");
        var specs = request.Waves is { Count: > 0 } w ? w : ["1", "100%"];
        if (request.Waves is { Count: 0 })
            return Reject("waves is empty; e.g. [\"1\", \"50%\", \"100%\"]", "waves");
        var (sizes, waveError) = WaveSizes(specs, robots.Count);
        if (waveError is not null)
            return Reject(waveError, "waves");
        if (Invalid(request.Gate, request.Install) is { } invalid)
            return Reject(invalid.Message, invalid.Field);
        if (request.Install.MaintenanceCron is { } cron)
        {
            if (Schedules.ScheduleService.ParseCron(cron) is not null)
                return Reject($"install.maintenanceCron '{cron}' is not a Quartz cron expression (e.g. '0 0 2 * * ?')", "install.maintenanceCron");
            if (request.Install.MaintenanceDuration <= TimeSpan.Zero)
                return Reject("install.maintenanceMinutes must be positive with a maintenance window", "install.maintenanceMinutes");
        }

        var now = _time.GetUtcNow();
        var rollout = new RolloutRecord
        {
            Id = $"ro-{now:yyyyMMddHHmmss}-{Guid.NewGuid().ToString("N")[..6]}",
            Request = request with { Waves = specs },
            Package = package,
            Status = RolloutStatus.Running,
            CreatedAt = now,
            WaveStartedAt = now,
        };
        var index = 0;
        for (var wave = 0; wave < sizes.Count; wave++)
        {
            if (sizes[wave].Count == 0)
                continue;
            rollout.Waves.Add(new WaveRecord { Spec = sizes[wave].Spec, Status = rollout.Waves.Count == 0 ? "Running" : "Waiting" });
            for (var i = 0; i < sizes[wave].Count; i++)
                rollout.Robots.Add(new RobotRecord { Robot = robots[index++], Wave = rollout.Waves.Count - 1, State = RolloutRobotState.Pending, Since = now });
        }

        lock (_gate)
        {
            // Two rollouts on one robot interfere (same download twice, enables crossing): one at a time per robot.
            var busy = _rollouts.Values.Where(x => !x.IsFinal).OrderBy(x => x.CreatedAt)
                .Select(x => (Rollout: x, Robot: robots.FirstOrDefault(robot => x.Robots.Any(y => y.Robot == robot))))
                .FirstOrDefault(x => x.Robot is not null);
            if (busy.Rollout is { } running)
            {
                return (null, new RolloutRejection(false,
                    $"robot '{busy.Robot}' is already in rollout '{running.Id}' ({running.Package.Name}@{running.Package.Version}, {running.Status}); " +
                    $"wait for it to end or abort it (POST /api/rollouts/{running.Id}/abort)",
                    "target", Conflict: true));
            }

            _rollouts[rollout.Id] = rollout;
            _store.Save(rollout);
            _logger.LogInformation("Rollout {Id}: {Model}@{Version} to {Count} robots in {Waves} waves", rollout.Id, package.Name, package.Version, robots.Count, rollout.Waves.Count);
            return (View(rollout), null);
        }

        static (RolloutView?, RolloutRejection?) Reject(string message, string field) => (null, new RolloutRejection(false, message, field));
    }

    /// <summary>What is wrong with the numbers of a gate or install policy (message and API field), or null.</summary>
    internal static (string Message, string Field)? Invalid(RolloutGate gate, RolloutInstallPolicy install)
    {
        if (double.IsNaN(gate.MaxErrorRate) || gate.MaxErrorRate is < 0 or > 1)
            return ($"gate.maxErrorRate {Number(gate.MaxErrorRate)} is out of range: a share of failed inference runs, 0..1 (e.g. 0.05)", "gate.maxErrorRate");
        if (gate.MinRuns < 0)
            return ($"gate.minRuns {gate.MinRuns} is negative: inference runs before a robot is judged, 0 or more", "gate.minRuns");
        if (gate.MaxFailedRobots < 0)
            return ($"gate.maxFailedRobots {gate.MaxFailedRobots} is negative: robots per wave that may fail, 0 or more", "gate.maxFailedRobots");
        if (gate.SoakTime < TimeSpan.Zero)
            return ($"gate.soakSeconds {Number(gate.SoakTime.TotalSeconds)} is negative: 0 or more", "gate.soakSeconds");
        if (gate.Timeout is { } timeout && timeout <= TimeSpan.Zero)
            return ($"gate.timeoutSeconds {Number(timeout.TotalSeconds)} must be positive (default 120)", "gate.timeoutSeconds");
        if (gate.SoakTime >= gate.EffectiveTimeout)
            return ($"gate.soakSeconds {Number(gate.SoakTime.TotalSeconds)} must be shorter than gate.timeoutSeconds {Number(gate.EffectiveTimeout.TotalSeconds)}: no robot could pass the gate", "gate.soakSeconds");
        if (install.WaitTimeout is { } wait && wait <= TimeSpan.Zero)
            return ($"install.waitTimeoutSeconds {Number(wait.TotalSeconds)} must be positive (default 1800)", "install.waitTimeoutSeconds");
        if (install.ActionTimeout is { } action && action <= TimeSpan.Zero)
            return ($"install.actionTimeoutSeconds {Number(action.TotalSeconds)} must be positive (default 2100)", "install.actionTimeoutSeconds");
        if (install.MaintenanceDuration < TimeSpan.Zero)
            return ($"install.maintenanceMinutes {Number(install.MaintenanceDuration.TotalMinutes)} is negative", "install.maintenanceMinutes");
        return null;

        static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
    }

    /// <summary>Pauses (true) or resumes (false) a running rollout; null when unknown, false when it has ended.</summary>
    public bool? SetPaused(string id, bool paused)
    {
        lock (_gate)
        {
            if (!_rollouts.TryGetValue(id, out var r))
                return null;
            if (r.IsFinal)
                return false;
            if (!paused && r.Status == RolloutStatus.Paused)
            {
                // The wait for idle robots starts again: time spent paused does not count against them.
                var now = _time.GetUtcNow();
                r.WaveStartedAt = now;
                foreach (var robot in r.Robots.Where(x => x.State is RolloutRobotState.Pending or RolloutRobotState.Downloaded))
                    robot.Since = now;
            }

            r.Status = paused ? RolloutStatus.Paused : RolloutStatus.Running;
            _store.Save(r);
            return true;
        }
    }

    /// <summary>Aborts a rollout: nothing more is sent; robots keep what they have. Null when unknown, false when it has ended.</summary>
    public bool? Abort(string id)
    {
        lock (_gate)
        {
            if (!_rollouts.TryGetValue(id, out var r))
                return null;
            if (r.IsFinal)
                return false;
            foreach (var robot in r.Robots.Where(x => x.State == RolloutRobotState.Pending))
                Set(robot, RolloutRobotState.Skipped, "rollout aborted");
            End(r, RolloutStatus.Aborted, "aborted by an operator");
            return true;
        }
    }

    /// <summary>Takes a robot's model status report.</summary>
    public void OnModelStatus(RobotModelStatusReported report)
    {
        ArgumentNullException.ThrowIfNull(report);
        lock (_gate)
            _reports[report.Robot] = (report, _time.GetUtcNow());
    }

    /// <summary>Takes the end of a robot's action (only rollout actions matter).</summary>
    public void OnActionEnded(RobotId robot, string actionId, RobotActionStatus status, string? description)
    {
        ArgumentNullException.ThrowIfNull(robot);
        lock (_gate)
        {
            foreach (var r in _rollouts.Values.Where(r => !r.IsFinal))
            {
                var record = r.Robots.FirstOrDefault(x => x.ActionId == actionId && x.Robot == robot);
                if (record is null)
                    continue;
                var now = _time.GetUtcNow();
                record.ActionId = null;
                record.Since = now;
                switch (record.State, status)
                {
                    case (RolloutRobotState.Downloading, RobotActionStatus.Finished):
                        Set(record, RolloutRobotState.Downloaded, null);
                        break;
                    case (RolloutRobotState.Downloading, _):
                        Set(record, RolloutRobotState.Failed, $"downloadModel failed: {description ?? "no reason given"}");
                        break;
                    case (RolloutRobotState.Enabling, RobotActionStatus.Finished):
                        record.EnabledAt = now;
                        Set(record, RolloutRobotState.Active, null);
                        break;
                    case (RolloutRobotState.Enabling, _):
                        Set(record, RolloutRobotState.Failed, $"enableModel failed: {description ?? "no reason given"}; the previous model keeps serving");
                        break;
                }

                _store.Save(r);
            }
        }
    }

    /// <summary>Moves every unfinished rollout on: sends actions, judges gates, applies timeouts, rolls back failed waves.</summary>
    public async Task TickAsync(CancellationToken cancellationToken = default)
    {
        var outbox = new List<(RobotId Robot, RobotAction Action)>();
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var fleet = _fleet.Snapshot().ToDictionary(r => r.Robot);
            foreach (var r in _rollouts.Values.Where(r => !r.IsFinal))
            {
                Step(r, now, fleet, outbox);
                _store.Save(r);
            }
        }

        foreach (var (robot, action) in outbox)
        {
            try
            {
                await _sender.SendAsync(robot, action, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The action timeout fails the robot if this never arrives.
                _logger.LogWarning("Rollout: cannot send {Action} to {Robot}: {Error}", action.ActionType, robot, e.Message);
            }
        }
    }

    private void Step(RolloutRecord r, DateTimeOffset now, Dictionary<RobotId, RolloutRobotView> fleet, List<(RobotId, RobotAction)> outbox)
    {
        var paused = r.Status == RolloutStatus.Paused;
        var install = r.Request.Install;
        var gate = r.Request.Gate;
        var wave = r.Robots.Where(x => x.Wave == r.CurrentWave).ToList();
        foreach (var robot in wave)
        {
            var view = fleet.GetValueOrDefault(robot.Robot);
            // A robot that has not reported its models yet may not manage models at all, and its previous version is unknown.
            var eligible = view is { Online: true } && (view.Idle || view.Charging) && InWindow(install, now) && _reports.ContainsKey(robot.Robot);
            switch (robot.State)
            {
                case RolloutRobotState.Pending when !paused && eligible:
                    var previous = _reports.GetValueOrDefault(robot.Robot).Report;
                    robot.PreviousName = previous?.ActiveName;
                    robot.PreviousVersion = previous?.ActiveVersion;
                    Send(r, robot, "downloadModel", now, outbox, new Dictionary<string, string>
                    {
                        ["modelName"] = r.Package.Name,
                        ["modelVersion"] = r.Package.Version,
                        ["modelLink"] = r.Package.ModelLink.AbsoluteUri,
                        ["manifestLink"] = r.Package.ManifestLink.AbsoluteUri,
                        ["modelSha256"] = r.Package.Sha256,
                        ["manifestSha256"] = r.Package.ManifestSha256,
                        ["signature"] = r.Package.Signature,
                    });
                    Set(robot, RolloutRobotState.Downloading, null);
                    break;
                case RolloutRobotState.Downloaded when !paused && eligible:
                    Send(r, robot, "enableModel", now, outbox, new Dictionary<string, string> { ["modelName"] = r.Package.Name, ["modelVersion"] = r.Package.Version });
                    Set(robot, RolloutRobotState.Enabling, null);
                    break;
                case RolloutRobotState.Pending or RolloutRobotState.Downloaded when !paused && now - Max(robot.Since, r.WaveStartedAt) > install.EffectiveWaitTimeout:
                    Set(robot, RolloutRobotState.Failed, $"not online, idle or charging{(install.MaintenanceCron is null ? "" : " in the maintenance window")} and reporting its models (modelStatus) within {install.EffectiveWaitTimeout}");
                    break;
                case RolloutRobotState.Downloading or RolloutRobotState.Enabling when now - robot.Since > install.EffectiveActionTimeout:
                    var type = robot.State == RolloutRobotState.Downloading ? "downloadModel" : "enableModel";
                    robot.ActionId = null;
                    Set(robot, RolloutRobotState.Failed, $"no answer to {type} within {install.EffectiveActionTimeout}");
                    break;
                case RolloutRobotState.Active when robot.Healthy is null:
                    Judge(r, robot, gate, now);
                    break;
            }
        }

        if (paused || wave.Any(x => x.State is not (RolloutRobotState.Failed or RolloutRobotState.Active) || x.State == RolloutRobotState.Active && x.Healthy is null))
            return;

        var unhealthy = wave.Where(x => x.Healthy == false).ToList();
        var failed = wave.Where(x => x.State == RolloutRobotState.Failed).ToList();
        var waveRecord = r.Waves[r.CurrentWave];
        if (unhealthy.Count == 0 && failed.Count <= gate.MaxFailedRobots)
        {
            waveRecord.Status = "Passed";
            waveRecord.Gate = $"passed: {wave.Count(x => x.Healthy == true)} of {wave.Count} robots healthy, {failed.Count} failed (at most {gate.MaxFailedRobots})";
            if (r.CurrentWave + 1 < r.Waves.Count)
            {
                r.CurrentWave++;
                r.WaveStartedAt = now;
                r.Waves[r.CurrentWave].Status = "Running";
            }
            else
            {
                End(r, RolloutStatus.Completed, failed.Count == 0 ? null : $"{failed.Count} robots failed within the allowed {gate.MaxFailedRobots} per wave");
            }

            return;
        }

        var why = string.Join("; ", unhealthy.Concat(failed).Select(x => $"{x.Robot}: {x.Reason}"));
        waveRecord.Status = "Failed";
        waveRecord.Gate = $"failed: {unhealthy.Count} unhealthy, {failed.Count} failed (at most {gate.MaxFailedRobots}): {why}";
        var stuck = new List<RobotId>();
        foreach (var robot in wave.Where(x => x.EnabledAt is not null))
        {
            if (robot.PreviousName is { } name && robot.PreviousVersion is { } version)
            {
                Send(r, robot, "enableModel", now, outbox, new Dictionary<string, string> { ["modelName"] = name, ["modelVersion"] = version });
                robot.ActionId = null;
                Set(robot, RolloutRobotState.RolledBack, $"{robot.Reason}; rolled back to {name}@{version}".TrimStart(';', ' '));
            }
            else
            {
                // Nothing served before: the robot stays Active on the new version (there is no "disable"; deleteModel
                // refuses the active version), and the rollout ends Failed rather than claiming a rollback.
                stuck.Add(robot.Robot);
                robot.Reason = $"{robot.Reason}; no previous version to go back to, the new one still serves".TrimStart(';', ' ');
            }
        }

        foreach (var robot in r.Robots.Where(x => x.Wave > r.CurrentWave))
            Set(robot, RolloutRobotState.Skipped, $"wave {r.CurrentWave} failed its health gate");
        for (var i = r.CurrentWave + 1; i < r.Waves.Count; i++)
            r.Waves[i].Status = "Skipped";
        if (stuck.Count > 0)
        {
            End(r, RolloutStatus.Failed,
                $"wave {r.CurrentWave} failed its health gate: {why}; nothing to roll back to: robots {string.Join(", ", stuck)} still serve the new version {r.Package.Name}@{r.Package.Version}");
        }
        else
        {
            End(r, RolloutStatus.RolledBack, $"wave {r.CurrentWave} failed its health gate: {why}");
        }
    }

    private void Judge(RolloutRecord r, RobotRecord robot, RolloutGate gate, DateTimeOffset now)
    {
        var (report, receivedAt) = _reports.GetValueOrDefault(robot.Robot);
        var fresh = report is not null && receivedAt >= robot.EnabledAt;
        var serving = fresh && report!.ActiveName == r.Package.Name && report.ActiveVersion == r.Package.Version;
        if (serving && report!.Inference is { } health)
        {
            robot.Health = health;
            var rate = health.Runs == 0 ? 0 : (double)health.Errors / health.Runs;
            var figures = $"{health.Runs} runs, {health.Errors} errors ({rate:P1}, at most {gate.MaxErrorRate:P1}), p95 {health.P95LatencyMs.ToString("0.###", CultureInfo.InvariantCulture)} ms (budget {health.LatencyBudgetMs.ToString("0.###", CultureInfo.InvariantCulture)} ms)";
            if (health.Runs >= Math.Max(1, gate.MinRuns) && rate > gate.MaxErrorRate)
            {
                robot.Healthy = false;
                robot.Reason = $"inference error rate too high: {figures}";
                return;
            }

            if (health.Runs >= Math.Max(1, gate.MinRuns) && health.P95LatencyMs > health.LatencyBudgetMs)
            {
                robot.Healthy = false;
                robot.Reason = $"p95 latency over budget: {figures}";
                return;
            }

            if (health.Runs >= gate.MinRuns && now - robot.EnabledAt >= gate.SoakTime)
            {
                robot.Healthy = true;
                robot.Reason = $"healthy: {figures}";
                return;
            }
        }

        if (now - robot.EnabledAt <= gate.EffectiveTimeout)
            return;
        robot.Healthy = false;
        robot.Reason = !fresh
            ? $"no modelStatus report within the gate timeout {gate.EffectiveTimeout} after enabling"
            : !serving
                ? $"reports {report!.ActiveName ?? "no model"}@{report.ActiveVersion} serving instead of {r.Package.Version} within the gate timeout {gate.EffectiveTimeout}"
                : (report!.Inference?.Runs ?? 0) == 0
                    ? $"no inference runs (at least {gate.MinRuns} needed) within the gate timeout {gate.EffectiveTimeout}: the robot serves {r.Package.Version} but runs no perception " +
                      "(simulated robots: start the server with --perception-hz; or set gate.minRuns 0 to judge on serving alone)"
                    : $"only {report!.Inference!.Runs} inference runs (at least {gate.MinRuns}) within the gate timeout {gate.EffectiveTimeout}";
    }

    private static void Send(RolloutRecord r, RobotRecord robot, string type, DateTimeOffset now, List<(RobotId, RobotAction)> outbox, Dictionary<string, string> parameters)
    {
        var id = $"{type}-{r.Id}-{robot.Robot.SerialNumber}-{Guid.NewGuid().ToString("N")[..6]}";
        robot.ActionId = id;
        robot.Since = now;
        outbox.Add((robot.Robot, new RobotAction(id, type, "NONE", parameters)));
    }

    private static void Set(RobotRecord robot, RolloutRobotState state, string? reason)
    {
        robot.State = state;
        if (reason is not null)
            robot.Reason = reason;
    }

    private void End(RolloutRecord r, RolloutStatus status, string? reason)
    {
        r.Status = status;
        r.Reason = reason;
        r.EndedAt = _time.GetUtcNow();
        _store.Save(r);
        _logger.LogInformation("Rollout {Id} of {Model}@{Version}: {Status}{Reason}", r.Id, r.Package.Name, r.Package.Version, status, reason is null ? "" : $" ({reason})");
    }

    private static bool InWindow(RolloutInstallPolicy install, DateTimeOffset now)
    {
        if (install.MaintenanceCron is not { } cron)
            return true;
        var expression = new CronExpression(cron, TimeZoneInfo.Utc);
        return expression.GetNextValidTimeAfter(now - install.MaintenanceDuration) is { } start && start <= now;
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    /// <summary>Robots per wave for <paramref name="total"/> robots, or what is wrong with the specs.</summary>
    internal static (IReadOnlyList<(string Spec, int Count)> Sizes, string? Error) WaveSizes(IReadOnlyList<string> specs, int total)
    {
        var sizes = new List<(string, int)>();
        var reached = 0;
        foreach (var raw in specs)
        {
            var spec = raw?.Trim() ?? "";
            int next;
            if (spec.EndsWith('%'))
            {
                if (!double.TryParse(spec[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var percent) || percent is <= 0 or > 100)
                    return ([], $"wave '{raw}': a share is 1%..100%");
                next = Math.Max(reached, (int)Math.Ceiling(percent * total / 100 - 1e-9));
            }
            else if (int.TryParse(spec, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count > 0)
            {
                next = Math.Min(total, reached + count);
            }
            else
            {
                return ([], $"wave '{raw}' is neither a robot count (e.g. 1) nor a share (e.g. 50%)");
            }

            sizes.Add((spec, next - reached));
            reached = next;
        }

        return reached < total
            ? ([], $"waves reach {reached} of the {total} target robots; end with 100%")
            : (sizes, null);
    }

    private static RolloutView View(RolloutRecord r) => new(
        r.Id, r.Package.Name, r.Package.Version, r.Status.ToString(), r.Reason, r.CreatedAt, r.EndedAt, r.CurrentWave,
        r.Waves.Select((w, i) => new RolloutWaveView(i, w.Spec, r.Robots.Where(x => x.Wave == i).Select(x => x.Robot.ToString()).ToList(), w.Status, w.Gate)).ToList(),
        r.Robots.Select(x => new RolloutRobotStateView(
            x.Robot.ToString(), x.Wave, x.State.ToString(), x.Healthy, x.Reason,
            x.PreviousName is null ? null : $"{x.PreviousName}@{x.PreviousVersion}",
            x.Health?.Runs, x.Health?.Errors, x.Health?.P95LatencyMs, x.Health?.LatencyBudgetMs)).ToList());
}
