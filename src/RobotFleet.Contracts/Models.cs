namespace RobotFleet.Contracts;

/// <summary>A model version a robot holds, as it reports it.</summary>
/// <param name="Name">Model name.</param>
/// <param name="Version">Model version.</param>
/// <param name="Active">True for the version serving now; false for a stored one.</param>
public sealed record RobotModelVersion(string Name, string Version, bool Active);

/// <summary>Health figures of the model serving on a robot, counted since that version was enabled.</summary>
/// <param name="Runs">Inference runs.</param>
/// <param name="Errors">Failed runs.</param>
/// <param name="P95LatencyMs">95th percentile latency over the recent runs, milliseconds (0 before the first run).</param>
/// <param name="LatencyBudgetMs">The model's latency budget from its manifest, milliseconds.</param>
public sealed record RobotInferenceHealth(long Runs, long Errors, double P95LatencyMs, double LatencyBudgetMs);

/// <summary>
/// Event: a robot reported its perception models (extension topic <c>robotfleet/v1/{manufacturer}/{serialNumber}/modelStatus</c>).
/// Published by the gateway for every report that arrives.
/// </summary>
/// <param name="Robot">The robot.</param>
/// <param name="Timestamp">The report's timestamp (UTC).</param>
/// <param name="Models">Every stored version, the active one flagged.</param>
/// <param name="ActiveName">Name of the serving model; null when none serves.</param>
/// <param name="ActiveVersion">Version of the serving model; null when none serves.</param>
/// <param name="Inference">Health of the serving model; null when none serves.</param>
public sealed record RobotModelStatusReported(
    RobotId Robot,
    DateTimeOffset Timestamp,
    IReadOnlyList<RobotModelVersion> Models,
    string? ActiveName,
    string? ActiveVersion,
    RobotInferenceHealth? Inference);
