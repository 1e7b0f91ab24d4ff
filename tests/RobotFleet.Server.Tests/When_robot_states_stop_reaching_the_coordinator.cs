using RobotFleet.Server.Hosting;

namespace RobotFleet.Server.Tests;

/// <summary>
/// The bus watchdog's robot-events rule (<see cref="RobotEventFlow"/>): a stall only when the bus took a robot state and the
/// coordinator then received nothing for the whole window.
/// </summary>
public sealed class When_robot_states_stop_reaching_the_coordinator
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(20);

    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    [Fact]
    public void States_published_and_none_received_for_the_window_is_a_stall()
    {
        var flow = new RobotEventFlow(Window);
        Assert.Null(flow.Observe(S(0), published: 10, received: 10));
        Assert.Null(flow.Observe(S(5), published: 12, received: 10)); // undelivered from 5 s
        Assert.Null(flow.Observe(S(20), published: 15, received: 10));

        Assert.Equal(S(20), flow.Observe(S(25), published: 16, received: 10));
    }

    [Fact]
    public void A_consumer_that_keeps_receiving_is_no_stall_however_far_behind()
    {
        var flow = new RobotEventFlow(Window);
        for (var t = 0; t <= 120; t += 5)
            Assert.Null(flow.Observe(S(t), published: 100 + (10 * t), received: t)); // a backlog that grows, but moves
    }

    [Fact]
    public void Nothing_published_is_no_stall_however_long_nothing_is_received()
    {
        var flow = new RobotEventFlow(Window);
        for (var t = 0; t <= 120; t += 5)
            Assert.Null(flow.Observe(S(t), published: 7, received: 7)); // no robot reporting
    }

    [Fact]
    public void The_window_counts_from_the_first_state_seen_undelivered_not_from_the_last_delivery()
    {
        var flow = new RobotEventFlow(Window);
        Assert.Null(flow.Observe(S(0), published: 3, received: 3));
        Assert.Null(flow.Observe(S(60), published: 3, received: 3)); // quiet a minute
        Assert.Null(flow.Observe(S(65), published: 5, received: 3)); // two states just taken by the bus
        Assert.Null(flow.Observe(S(80), published: 5, received: 3));

        Assert.Equal(S(20), flow.Observe(S(85), published: 5, received: 3));
    }

    [Fact]
    public void A_delivery_or_a_restart_starts_the_window_afresh()
    {
        var flow = new RobotEventFlow(Window);
        flow.Observe(S(0), published: 1, received: 1);
        flow.Observe(S(5), published: 2, received: 1);
        Assert.Null(flow.Observe(S(24), published: 3, received: 2)); // one delivered: fine
        Assert.Null(flow.Observe(S(30), published: 4, received: 2));
        flow.Restart(); // e.g. the broker went away
        Assert.Null(flow.Observe(S(45), published: 5, received: 2));
        Assert.Null(flow.Observe(S(50), published: 7, received: 2));
        Assert.Null(flow.Observe(S(65), published: 7, received: 2));

        Assert.Equal(S(20), flow.Observe(S(70), published: 7, received: 2));
    }

    [Fact]
    public void A_state_delivered_before_its_publish_was_confirmed_is_no_stall_when_the_robots_then_fall_quiet()
    {
        // The broker may deliver a message before the publisher has its confirm: the delivered count moves first, the
        // published one a moment later, then nothing more (the last robot went offline).
        var flow = new RobotEventFlow(Window);
        Assert.Null(flow.Observe(S(0), published: 4, received: 5));
        for (var t = 5; t <= 120; t += 5)
            Assert.Null(flow.Observe(S(t), published: 5, received: 5));
    }
}
