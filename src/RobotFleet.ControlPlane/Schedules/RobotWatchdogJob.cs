using System.Collections.Concurrent;
using MassTransit;
using Quartz;
using RobotFleet.Contracts;

namespace RobotFleet.ControlPlane.Schedules;

/// <summary>When a robot last sent its state, as the gateway's twins know it.</summary>
/// <param name="Robot">The robot.</param>
/// <param name="LastStateAt">When its last state message arrived (UTC); null before the first.</param>
/// <param name="Connection">Its connection as last reported.</param>
public sealed record RobotLastSeen(RobotId Robot, DateTimeOffset? LastStateAt, RobotConnectionState Connection);

/// <summary>Every robot's last state time. Implemented by the host over the gateway's twins (ControlPlane does not reference the gateway).</summary>
public interface IRobotLastSeen
{
    /// <summary>A snapshot of all known robots.</summary>
    IReadOnlyList<RobotLastSeen> Snapshot();
}

/// <summary>
/// Remembers which robots are in a silence episode, so <see cref="RobotSilent"/> is published once per episode.
/// A robot is silent when its connection is not OFFLINE or CONNECTIONBROKEN (those have their own events) and its last
/// state is older than the silence limit; the episode ends when a newer state arrives.
/// </summary>
public sealed class RobotSilenceTracker
{
    private readonly ConcurrentDictionary<RobotId, DateTimeOffset> _silentSince = new();

    /// <summary>Robots currently in a silence episode.</summary>
    public IReadOnlyCollection<RobotId> Silent => _silentSince.Keys.ToList();

    /// <summary>Checks every robot at <paramref name="now"/>; returns the robots that have newly fallen silent.</summary>
    public IReadOnlyList<RobotSilent> Detect(IEnumerable<RobotLastSeen> robots, DateTimeOffset now, TimeSpan silentAfter)
    {
        var fresh = new List<RobotSilent>();
        var seen = new HashSet<RobotId>();
        foreach (var robot in robots)
        {
            seen.Add(robot.Robot);
            if (robot.LastStateAt is not { } last || robot.Connection is RobotConnectionState.Offline or RobotConnectionState.ConnectionBroken
                || now - last <= silentAfter)
            {
                _silentSince.TryRemove(robot.Robot, out _);
                continue;
            }

            if (_silentSince.TryGetValue(robot.Robot, out var episode) && episode == last)
                continue;
            _silentSince[robot.Robot] = last;
            fresh.Add(new RobotSilent(robot.Robot, last, now - last, now));
        }

        foreach (var gone in _silentSince.Keys.Where(r => !seen.Contains(r)).ToList())
            _silentSince.TryRemove(gone, out _);
        return fresh;
    }
}

/// <summary>Every <see cref="ScheduleOptions.WatchdogInterval"/>: publishes <see cref="RobotSilent"/> for robots that stopped reporting.</summary>
[DisallowConcurrentExecution]
public sealed class RobotWatchdogJob(IRobotLastSeen robots, RobotSilenceTracker tracker, IBus bus, ScheduleOptions options, TimeProvider time) : IJob
{
    /// <inheritdoc />
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        foreach (var silent in tracker.Detect(robots.Snapshot(), time.GetUtcNow(), options.SilentAfter))
            await bus.Publish(silent, cancellationToken);
    }
}
