using RobotFleet.ControlPlane.Schedules;
using RobotFleet.Contracts;

namespace RobotFleet.ControlPlane.Schedules.Tests;

public sealed class WatchdogSpecs
{
    private static readonly RobotId R1 = new("acme", "r1");
    private static readonly RobotId R2 = new("acme", "r2");
    private static readonly DateTimeOffset T0 = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(8);

    [Fact]
    public void A_robot_silent_past_the_limit_is_reported_once_per_episode()
    {
        var tracker = new RobotSilenceTracker();
        RobotLastSeen R(RobotId id, DateTimeOffset last) => new(id, last, RobotConnectionState.Online);

        Assert.Empty(tracker.Detect([R(R1, T0), R(R2, T0)], T0.AddSeconds(8), Limit));

        var first = Assert.Single(tracker.Detect([R(R1, T0), R(R2, T0.AddSeconds(8))], T0.AddSeconds(9), Limit));
        Assert.Equal(new RobotSilent(R1, T0, TimeSpan.FromSeconds(9), T0.AddSeconds(9)), first);

        // Later ticks of the same episode publish nothing.
        Assert.Empty(tracker.Detect([R(R1, T0), R(R2, T0.AddSeconds(14))], T0.AddSeconds(15), Limit));
        Assert.Equal([R1], tracker.Silent);

        // It reports again: the episode ends; silent again later: a new episode.
        Assert.Empty(tracker.Detect([R(R1, T0.AddSeconds(20)), R(R2, T0.AddSeconds(20))], T0.AddSeconds(21), Limit));
        Assert.Empty(tracker.Silent);
        var second = Assert.Single(tracker.Detect([R(R1, T0.AddSeconds(20)), R(R2, T0.AddSeconds(30))], T0.AddSeconds(30), Limit));
        Assert.Equal(T0.AddSeconds(20), second.LastStateAt);
    }

    [Fact]
    public void Offline_lost_and_never_reporting_robots_are_not_silent()
    {
        var tracker = new RobotSilenceTracker();
        var found = tracker.Detect(
            [new(R1, T0, RobotConnectionState.Offline), new(R2, T0, RobotConnectionState.ConnectionBroken), new(new RobotId("acme", "r3"), null, RobotConnectionState.Online)],
            T0.AddMinutes(5), Limit);
        Assert.Empty(found);
    }

    [Fact]
    public void A_robot_that_has_only_its_connection_unknown_but_stale_state_is_silent()
    {
        var tracker = new RobotSilenceTracker();
        Assert.Single(tracker.Detect([new(R1, T0, RobotConnectionState.Unknown)], T0.AddSeconds(10), Limit));
    }
}
