using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using RobotFleet.ControlPlane.Missions.Lifecycle;
using RobotFleet.Contracts;

namespace RobotFleet.ControlPlane.Tests;

public sealed class When_a_consume_attempt_hangs
{
    // The mission state machine's outbox publication once hung for good on a broken RabbitMQ connection
    // (rabbitmq/rabbitmq-dotnet-client#1930) and every later fact waited behind it. Here the first attempt never ends.
    [Fact]
    public async Task Should_leave_it_behind_and_run_the_message_again()
    {
        var consumer = new HangsOnce();
        await using var provider = new ServiceCollection()
            .AddSingleton(consumer)
            .AddMassTransitTestHarness(x =>
            {
                x.AddConsumer<HangsOnceConsumer>().Endpoint(e => e.Name = "hangs-once");
                x.AddConfigureEndpointsCallback((context, name, e) =>
                {
                    if (name != "hangs-once")
                        return;
                    e.UseMessageRetry(r => r.Intervals(10));
                    _ = new LeaveHungAttemptObserver(e, TimeSpan.FromMilliseconds(300));
                });
            })
            .BuildServiceProvider(true);
        var harness = provider.GetRequiredService<ITestHarness>();
        await harness.Start();

        await harness.Bus.Publish(new Ping(7));

        Assert.True(await consumer.Handled.Task.WaitAsync(TimeSpan.FromSeconds(10)) == 7, "the second attempt handled the message");
        Assert.Equal(2, consumer.Attempts);
        Assert.True(await harness.Consumed.Any<Ping>(m => m.Exception is null));
        Assert.False(await harness.Published.Any<Fault<Ping>>(), "no fault: the retry took the timed-out attempt");
    }

    // The hang seen after a RabbitMQ connection recycle: the machine's publication of MissionStatusChanged (from its
    // outbox, after the instance was saved) never returned, and the fact's consume with it.
    [Fact]
    public async Task Should_end_a_mission_state_machine_attempt_whose_status_publication_hangs()
    {
        var hang = new HangFirstPublish<MissionStatusChanged>();
        await using var lifecycle = await LifecycleBus.StartAsync(attemptTimeout: TimeSpan.FromSeconds(1), bus: x => x.UsingInMemory((context, cfg) =>
        {
            cfg.ConfigurePublish(p => p.UseFilter(hang));
            cfg.ConfigureEndpoints(context);
        }));

        await lifecycle.PublishAsync(Facts.Submitted("m1"));

        Assert.True(await lifecycle.Harness.Consumed.Any<MissionSubmitted>(m => m.Context.Message.MissionId == "m1"), "the submission's consume ended");
        Assert.Equal(1, hang.Hung);
        Assert.Equal("Queued", (await lifecycle.WaitForAsync("m1", 1)).CurrentState);
        Assert.Contains(lifecycle.StatusChanges("m1"), c => c.Status == MissionStatus.Queued);
    }

    /// <summary>Lets the first publication of <typeparamref name="T"/> wait for good, whatever its token says.</summary>
    private sealed class HangFirstPublish<T> : IFilter<PublishContext>
        where T : class
    {
        public Task Send(PublishContext context, IPipe<PublishContext> next) =>
            context.TryGetPayload<PublishContext<T>>(out _) || context is PublishContext<T> ? Hang(context, next) : next.Send(context);

        private int _hung;

        public int Hung => Volatile.Read(ref _hung);

        private Task Hang(PublishContext context, IPipe<PublishContext> next) =>
            Interlocked.CompareExchange(ref _hung, 1, 0) == 0 ? new TaskCompletionSource().Task : next.Send(context);

        public void Probe(ProbeContext context)
        {
        }
    }

    public sealed record Ping(int Value);

    public sealed class HangsOnce
    {
        private int _attempts;

        public int Attempts => Volatile.Read(ref _attempts);

        public TaskCompletionSource<int> Handled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Attempt() => Interlocked.Increment(ref _attempts);
    }

    public sealed class HangsOnceConsumer(HangsOnce state) : IConsumer<Ping>
    {
        public async Task Consume(ConsumeContext<Ping> context)
        {
            if (state.Attempt() == 1)
                await new TaskCompletionSource().Task; // hangs for good, whatever the token says
            state.Handled.TrySetResult(context.Message.Value);
        }
    }
}
