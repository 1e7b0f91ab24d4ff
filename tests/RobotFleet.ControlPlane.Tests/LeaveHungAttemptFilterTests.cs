using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using RobotFleet.ControlPlane.Missions.Lifecycle;

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
                x.AddConfigureEndpointsCallback((_, name, e) =>
                {
                    if (name != "hangs-once")
                        return;
                    e.UseMessageRetry(r => r.Intervals(10));
                    e.UseFilter(new LeaveHungAttemptFilter(TimeSpan.FromMilliseconds(300)));
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
