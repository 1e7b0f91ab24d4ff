using RobotFleet.Contracts;

namespace RobotFleet.ControlPlane.Models;

/// <summary>A rollout's persisted state (JSON in the store). Mutated only under the service's lock.</summary>
internal sealed class RolloutRecord
{
    public string Id { get; set; } = "";
    public RolloutRequest Request { get; set; } = null!;
    public RolloutPackage Package { get; set; } = null!;
    public RolloutStatus Status { get; set; }
    public string? Reason { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? EndedAt { get; set; }
    public int CurrentWave { get; set; }
    public DateTimeOffset WaveStartedAt { get; set; }
    public List<WaveRecord> Waves { get; set; } = [];
    public List<RobotRecord> Robots { get; set; } = [];

    public bool IsFinal => Status is RolloutStatus.Completed or RolloutStatus.RolledBack or RolloutStatus.Aborted or RolloutStatus.Failed;
}

internal sealed class WaveRecord
{
    public string Spec { get; set; } = "";
    public string Status { get; set; } = "Waiting";
    public string? Gate { get; set; }
}

internal sealed class RobotRecord
{
    public RobotId Robot { get; set; } = null!;
    public int Wave { get; set; }
    public RolloutRobotState State { get; set; }
    public bool? Healthy { get; set; }
    public string? Reason { get; set; }
    public string? ActionId { get; set; }
    public DateTimeOffset Since { get; set; }
    public DateTimeOffset? EnabledAt { get; set; }
    public string? PreviousName { get; set; }
    public string? PreviousVersion { get; set; }
    public RobotInferenceHealth? Health { get; set; }
}
