using RobotFleet.Contracts;

namespace RobotFleet.ControlPlane.Models;

/// <summary>How a rollout ended, or that it still runs.</summary>
public enum RolloutStatus
{
    /// <summary>Waves are being worked through.</summary>
    Running,

    /// <summary>Paused by an operator: actions in flight are still followed, nothing new is sent.</summary>
    Paused,

    /// <summary>Every wave passed its gate.</summary>
    Completed,

    /// <summary>A wave failed its gate: its robots were sent back to their previous version, no later wave started.</summary>
    RolledBack,

    /// <summary>Stopped by an operator; robots keep what they have.</summary>
    Aborted,

    /// <summary>
    /// Could not run at all (e.g. the model left the registry), or a wave failed its gate and some of its robots had no previous
    /// version to go back to: they still serve the new one (the reason names them; robots have no "disable", and deleteModel
    /// refuses the active version), the others were rolled back.
    /// </summary>
    Failed,
}

/// <summary>Where one robot of a rollout is.</summary>
public enum RolloutRobotState
{
    /// <summary>Its wave has not reached it, or it waits to be idle, charging or in the maintenance window.</summary>
    Pending,

    /// <summary><c>downloadModel</c> sent; waiting for its action state.</summary>
    Downloading,

    /// <summary>Downloaded and verified on the robot, not serving yet.</summary>
    Downloaded,

    /// <summary><c>enableModel</c> sent; waiting for its action state.</summary>
    Enabling,

    /// <summary>Serving the new version; healthy once the gate has judged it (see the robot's <c>healthy</c>).</summary>
    Active,

    /// <summary>Failed for this rollout (see the reason); its working model was not replaced unless it reached Active.</summary>
    Failed,

    /// <summary>Sent back to its previous version after its wave failed the gate.</summary>
    RolledBack,

    /// <summary>Never started: an earlier wave failed, or the rollout was aborted before its wave.</summary>
    Skipped,
}

/// <summary>Which robots a rollout targets: all known robots, those with a tag, or a list.</summary>
/// <param name="All">Every robot the control plane knows at creation.</param>
/// <param name="Tag">Robots carrying this tag (resolved when the rollout is created).</param>
/// <param name="Robots">These robots, in this order.</param>
public sealed record RolloutTarget(bool All = false, string? Tag = null, IReadOnlyList<RobotId>? Robots = null);

/// <summary>The health gate each wave must pass before the next one starts.</summary>
/// <param name="MaxErrorRate">Largest share of failed inference runs (errors / runs); default 0.05.</param>
/// <param name="MinRuns">Inference runs a robot must report on the new version before it is judged; default 5.</param>
/// <param name="SoakTime">Least time serving the new version before it is judged; default none.</param>
/// <param name="Timeout">Longest wait from enabling to a verdict; a robot without one is failed; default 2 minutes.</param>
/// <param name="MaxFailedRobots">Robots of a wave that may fail (download, enable, no answer) without failing the gate; default 0.</param>
public sealed record RolloutGate(double MaxErrorRate = 0.05, long MinRuns = 5, TimeSpan SoakTime = default, TimeSpan? Timeout = null, int MaxFailedRobots = 0)
{
    /// <summary>The gate timeout in effect.</summary>
    public TimeSpan EffectiveTimeout => Timeout ?? TimeSpan.FromMinutes(2);
}

/// <summary>When a robot may install: only while idle (no mission, not driving) or charging, and, if given, inside a maintenance window.</summary>
/// <param name="MaintenanceCron">Quartz cron expression of the window starts (UTC), e.g. <c>0 0 2 * * ?</c>; null: any time.</param>
/// <param name="MaintenanceDuration">Length of each window.</param>
/// <param name="WaitTimeout">Longest a robot may wait to become eligible (and between download and enable) before it is failed; default 30 minutes.</param>
/// <param name="ActionTimeout">Longest wait for a <c>downloadModel</c> or <c>enableModel</c> to end before the robot is failed; default 35 minutes.</param>
public sealed record RolloutInstallPolicy(string? MaintenanceCron = null, TimeSpan MaintenanceDuration = default, TimeSpan? WaitTimeout = null, TimeSpan? ActionTimeout = null)
{
    /// <summary>The wait timeout in effect.</summary>
    public TimeSpan EffectiveWaitTimeout => WaitTimeout ?? TimeSpan.FromMinutes(30);

    /// <summary>The action timeout in effect.</summary>
    public TimeSpan EffectiveActionTimeout => ActionTimeout ?? TimeSpan.FromMinutes(35);
}

/// <summary>What a technician asks for.</summary>
/// <param name="Model">Model name in the registry.</param>
/// <param name="Version">Version in the registry.</param>
/// <param name="Target">Robots to reach.</param>
/// <param name="Waves">Wave sizes: a number is that many more robots (the canary), <c>NN%</c> brings the total to that share of the target; the last must reach every robot. Null: <c>["1", "100%"]</c>.</param>
/// <param name="Gate">Health gate per wave.</param>
/// <param name="Install">Install policy.</param>
public sealed record RolloutRequest(string Model, string Version, RolloutTarget Target, IReadOnlyList<string>? Waves, RolloutGate Gate, RolloutInstallPolicy Install);

/// <summary>A registry package with absolute links, as robots download it.</summary>
/// <param name="Name">Model name.</param>
/// <param name="Version">Model version.</param>
/// <param name="ModelLink">Absolute URL of the <c>.onnx</c> bytes.</param>
/// <param name="ManifestLink">Absolute URL of the manifest.</param>
/// <param name="Sha256">SHA-256 of the model bytes (hex).</param>
/// <param name="ManifestSha256">SHA-256 of the manifest bytes (hex).</param>
/// <param name="Signature">The fleet's signature (base64).</param>
public sealed record RolloutPackage(string Name, string Version, Uri ModelLink, Uri ManifestLink, string Sha256, string ManifestSha256, string Signature);

/// <summary>Finds registry packages with links robots can reach (the server knows its public address).</summary>
public interface IRolloutPackages
{
    /// <summary>The package, or null when the registry has no such version.</summary>
    RolloutPackage? Find(string name, string version);
}

/// <summary>A robot as rollouts see it.</summary>
/// <param name="Robot">Robot id.</param>
/// <param name="Online">Connected and reporting.</param>
/// <param name="Idle">No mission and not driving.</param>
/// <param name="Charging">Charging now.</param>
/// <param name="Tags">Its operator tags (rollouts can target a tag).</param>
public sealed record RolloutRobotView(RobotId Robot, bool Online, bool Idle, bool Charging, IReadOnlyList<string>? Tags = null);

/// <summary>The robots the control plane knows, for rollouts.</summary>
public interface IRolloutFleet
{
    /// <summary>Every known robot.</summary>
    IReadOnlyList<RolloutRobotView> Snapshot();
}

/// <summary>Why a rollout request was refused.</summary>
/// <param name="NotFound">True when the model or version is unknown (HTTP 404); else the request is bad (HTTP 400).</param>
/// <param name="Message">Names the problem and the value at fault.</param>
/// <param name="Field">Request field at fault.</param>
/// <param name="Conflict">True when a target robot is already in a running or paused rollout (HTTP 409).</param>
public sealed record RolloutRejection(bool NotFound, string Message, string Field, bool Conflict = false);

/// <summary>A rollout as the API shows it.</summary>
/// <param name="Id">Rollout id.</param>
/// <param name="Model">Model name.</param>
/// <param name="Version">Version rolled out.</param>
/// <param name="Status">Running, Paused, Completed, RolledBack, Aborted or Failed.</param>
/// <param name="Reason">Why it ended as it did, when it did not complete.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="EndedAt">When it ended, if it did.</param>
/// <param name="CurrentWave">Index of the wave in progress (0 = canary), or of the last one.</param>
/// <param name="Waves">Each wave: its robots and gate result.</param>
/// <param name="Robots">Each robot's state.</param>
public sealed record RolloutView(
    string Id, string Model, string Version, string Status, string? Reason, DateTimeOffset CreatedAt, DateTimeOffset? EndedAt, int CurrentWave,
    IReadOnlyList<RolloutWaveView> Waves, IReadOnlyList<RolloutRobotStateView> Robots);

/// <summary>One wave of a rollout.</summary>
/// <param name="Index">0 = canary.</param>
/// <param name="Spec">As requested (<c>1</c>, <c>50%</c>).</param>
/// <param name="Robots">Its robots (<c>manufacturer/serialNumber</c>).</param>
/// <param name="Status">Waiting, Running, Passed or Failed.</param>
/// <param name="Gate">The gate's verdict, when judged.</param>
public sealed record RolloutWaveView(int Index, string Spec, IReadOnlyList<string> Robots, string Status, string? Gate);

/// <summary>One robot of a rollout.</summary>
/// <param name="Robot"><c>manufacturer/serialNumber</c>.</param>
/// <param name="Wave">Its wave.</param>
/// <param name="State">Pending, Downloading, Downloaded, Enabling, Active, Failed, RolledBack or Skipped.</param>
/// <param name="Healthy">The gate's verdict on this robot: null until judged.</param>
/// <param name="Reason">Why it failed, was rolled back or skipped; or the gate's figures.</param>
/// <param name="PreviousVersion">The model it served before (<c>name@version</c>), what a rollback enables again.</param>
/// <param name="Runs">Inference runs last reported on the new version.</param>
/// <param name="Errors">Failed runs last reported.</param>
/// <param name="P95LatencyMs">p95 latency last reported.</param>
/// <param name="LatencyBudgetMs">The model's latency budget.</param>
public sealed record RolloutRobotStateView(
    string Robot, int Wave, string State, bool? Healthy, string? Reason, string? PreviousVersion, long? Runs, long? Errors, double? P95LatencyMs, double? LatencyBudgetMs);
