using System.Collections.Concurrent;

namespace RobotFleet.ControlPlane.Missions;

/// <summary>
/// The missions the control plane has accepted, as snapshots, for readers (API, console). The coordinator writes
/// them through to its <see cref="IMissionRepository"/> and fills this store from it on start. Thread-safe: the coordinator writes, anyone reads.
/// </summary>
public sealed class MissionStore
{
    private readonly ConcurrentDictionary<string, MissionView> _missions = new();

    /// <summary>All missions, newest first.</summary>
    public IReadOnlyList<MissionView> All => _missions.Values.OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Id, StringComparer.Ordinal).ToList();

    /// <summary>The missions waiting for a robot (<see cref="Contracts.MissionStatus.Queued"/>), in no particular order; reads every mission kept (O(n)) without locking the store.</summary>
    public IReadOnlyList<MissionView> Queued => _missions.Select(p => p.Value).Where(m => m.Status == Contracts.MissionStatus.Queued).ToList();

    /// <summary>A mission by id, or null.</summary>
    public MissionView? Find(string id) => _missions.GetValueOrDefault(id);

    /// <summary>Stores or replaces a mission snapshot.</summary>
    public void Save(MissionView mission) => _missions[mission.Id] = mission;
}
