using System.Security.Cryptography;
using System.Text;
using MassTransit;
using RobotFleet.Contracts;

namespace RobotFleet.ControlPlane.Missions.Lifecycle;

/// <summary>
/// The state of one mission's state machine (<see cref="MissionStateMachine"/>): where it is, what it last applied, and
/// its history. One row in <c>mission_states</c> (history rows in <c>mission_history</c>) when stored by
/// <see cref="EfMissionStateRepository"/>. Not thread-safe: MassTransit hands an instance to one message at a time; readers get
/// copies from <see cref="IMissionHistoryReader"/>.
/// </summary>
public sealed class MissionState : SagaStateMachineInstance
{
    /// <summary>Derived from the mission id (<see cref="MissionCorrelation.IdOf"/>).</summary>
    public Guid CorrelationId { get; set; }

    /// <summary>Name of the current state: Initial, Queued, Assigned, Dispatched, Executing, Paused, Completed, Failed or Cancelled.</summary>
    public string CurrentState { get; set; } = "Initial";

    /// <summary>Optimistic concurrency token: incremented by every save; a save against an older version fails.</summary>
    public int Version { get; set; }

    /// <summary>Mission id.</summary>
    public string MissionId { get; set; } = "";

    /// <summary>Sequence of the last lifecycle fact applied (or rejected); facts apply strictly in sequence.</summary>
    public long LastSequence { get; set; }

    /// <summary>0..3.</summary>
    public int Priority { get; set; }

    /// <summary>Robot that has (or last had) the mission, <c>manufacturer/serial</c>.</summary>
    public string? Robot { get; set; }

    /// <summary>Robot the mission is pinned to, <c>manufacturer/serial</c>.</summary>
    public string? PinnedRobot { get; set; }

    /// <summary>VDA order id the mission runs as.</summary>
    public string? OrderId { get; set; }

    /// <summary>Time of the last fact applied (UTC).</summary>
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>
    /// Facts that arrived ahead of a predecessor, as JSON (<see cref="ParkedFact"/> list); applied as soon as the gap closes.
    /// Null when none.
    /// </summary>
    public string? Parked { get; set; }

    /// <summary>Every fact received, oldest first (applied and rejected). Replaced, never changed in place, so a reader's copy stays consistent.</summary>
    public IReadOnlyList<MissionHistoryEntry> History { get; set; } = [];

    /// <summary>How many history entries the store holds (set by the repository on load and save).</summary>
    internal int StoredHistoryCount { get; set; }

    /// <summary>Last sequence the store holds (set by the repository on load and save).</summary>
    internal long StoredSequence { get; set; }

    /// <summary>A copy for readers.</summary>
    internal MissionState Copy() => (MissionState)MemberwiseClone();
}

/// <summary>One entry of a mission's history as the state machine recorded it. A row of <c>mission_history</c>.</summary>
public sealed class MissionHistoryEntry
{
    /// <summary>Position in the history, 1-based.</summary>
    public int Index { get; set; }

    /// <summary>Sequence of the fact (see <see cref="IMissionLifecycleFact.Sequence"/>).</summary>
    public long Sequence { get; set; }

    /// <summary>When it happened (UTC), from the fact.</summary>
    public DateTimeOffset Timestamp { get; set; }

    /// <summary>The fact, e.g. <c>assigned</c>, <c>paused</c>.</summary>
    public string Event { get; set; } = "";

    /// <summary>State before.</summary>
    public string From { get; set; } = "";

    /// <summary>State after (equal to <see cref="From"/> when rejected).</summary>
    public string To { get; set; } = "";

    /// <summary>Who caused it.</summary>
    public string Actor { get; set; } = "";

    /// <summary>Why, in words; for a rejected fact, why it was rejected.</summary>
    public string Reason { get; set; } = "";

    /// <summary>Robot concerned, <c>manufacturer/serial</c>.</summary>
    public string? Robot { get; set; }

    /// <summary>VDA order id concerned.</summary>
    public string? OrderId { get; set; }

    /// <summary>False when the transition was illegal in <see cref="From"/> and not applied.</summary>
    public bool Accepted { get; set; }
}

/// <summary>A fact kept until its predecessors arrive.</summary>
/// <param name="Sequence">Its sequence.</param>
/// <param name="Event">Name of the state machine event it raises.</param>
/// <param name="Json">The message as JSON.</param>
public sealed record ParkedFact(long Sequence, string Event, string Json);

/// <summary>Maps mission ids to saga correlation ids. Pure and thread-safe.</summary>
public static class MissionCorrelation
{
    private static readonly Guid Namespace = new("3a4f0a2e-7c1b-5d6e-9f80-1a2b3c4d5e6f");

    /// <summary>A name-based (RFC 9562 version 5, SHA-1) UUID of <paramref name="missionId"/>: the same id always gives the same correlation id.</summary>
    public static Guid IdOf(string missionId)
    {
        var name = Encoding.UTF8.GetBytes(missionId);
        var input = new byte[16 + name.Length];
        Namespace.TryWriteBytes(input, bigEndian: true, out _);
        name.CopyTo(input, 16);
        var hash = SHA1.HashData(input);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }

    /// <summary>Parses <c>manufacturer/serial</c>; null for null.</summary>
    internal static RobotId? Robot(string? text)
    {
        var slash = text?.IndexOf('/') ?? -1;
        return slash > 0 ? new RobotId(text![..slash], text[(slash + 1)..]) : null;
    }
}
