using MassTransit;
using RobotFleet.Contracts;

namespace RobotFleet.ControlPlane.Missions;

/// <summary>Answers <see cref="SubmitMission"/> with <see cref="MissionAccepted"/> or <see cref="MissionRejected"/>.</summary>
public sealed class SubmitMissionConsumer(FleetCoordinator coordinator) : IConsumer<SubmitMission>
{
    /// <inheritdoc />
    public async Task Consume(ConsumeContext<SubmitMission> context)
    {
        var reply = await coordinator.SubmitAsync(context.Message, context.CancellationToken);
        await context.RespondAsync(reply, reply.GetType());
    }
}

/// <summary>Reply to <see cref="CancelMission"/>.</summary>
/// <param name="MissionId">Mission id.</param>
/// <param name="Cancelled">True when cancelled; false when unknown or already finished.</param>
public sealed record CancelMissionResult(string MissionId, bool Cancelled);

/// <summary>Answers <see cref="CancelMission"/> with <see cref="CancelMissionResult"/>.</summary>
public sealed class CancelMissionConsumer(FleetCoordinator coordinator) : IConsumer<CancelMission>
{
    /// <inheritdoc />
    public async Task Consume(ConsumeContext<CancelMission> context)
    {
        var cancelled = await coordinator.CancelAsync(context.Message, context.CancellationToken);
        await context.RespondAsync(new CancelMissionResult(context.Message.MissionId, cancelled));
    }
}

/// <summary>Reply to <see cref="ReassignMission"/>.</summary>
/// <param name="MissionId">Mission id.</param>
/// <param name="Outcome">What happened.</param>
public sealed record ReassignMissionResult(string MissionId, ReassignOutcome Outcome);

/// <summary>Answers <see cref="ReassignMission"/> with <see cref="ReassignMissionResult"/>.</summary>
public sealed class ReassignMissionConsumer(FleetCoordinator coordinator) : IConsumer<ReassignMission>
{
    /// <inheritdoc />
    public async Task Consume(ConsumeContext<ReassignMission> context)
    {
        var outcome = await coordinator.ReassignAsync(context.Message, context.CancellationToken);
        await context.RespondAsync(new ReassignMissionResult(context.Message.MissionId, outcome));
    }
}

/// <summary>Feeds the robots' domain events from the gateway into the coordinator.</summary>
public sealed class RobotEventsConsumer(FleetCoordinator coordinator) : IConsumer<RobotStateChanged>, IConsumer<RobotConnectionChanged>, IConsumer<RobotFactsheetReceived>, IConsumer<RobotSilent>, IConsumer<PerceptionReported>
{
    /// <inheritdoc />
    public Task Consume(ConsumeContext<PerceptionReported> context) => coordinator.OnPerceptionAsync(context.Message, context.CancellationToken);

    /// <inheritdoc />
    public Task Consume(ConsumeContext<RobotSilent> context) => coordinator.OnRobotSilentAsync(context.Message, context.CancellationToken);

    /// <inheritdoc />
    public Task Consume(ConsumeContext<RobotFactsheetReceived> context) => coordinator.OnFactsheetAsync(context.Message, context.CancellationToken);

    /// <inheritdoc />
    public Task Consume(ConsumeContext<RobotStateChanged> context) => coordinator.OnStateChangedAsync(context.Message, context.CancellationToken);

    /// <inheritdoc />
    public Task Consume(ConsumeContext<RobotConnectionChanged> context) => coordinator.OnConnectionChangedAsync(context.Message, context.CancellationToken);
}
