using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.Logging;
using RobotFleet.Contracts;

namespace RobotFleet.ControlPlane.Missions.Lifecycle;

/// <summary>
/// The lifecycle of one mission as a MassTransit state machine: Queued -> Assigned -> Dispatched -> Executing ->
/// Completed | Failed | Cancelled, with Paused (VDA startPause/stopPause) and the way back to Queued when a robot is lost,
/// rejects its order or an operator reassigns the mission. Its events are the lifecycle facts the
/// <see cref="FleetCoordinator"/> publishes after each committed decision; it is the one publisher of
/// <see cref="MissionStatusChanged"/>.
/// </summary>
/// <remarks>
/// The coordinator decides; this machine checks, records and announces. Facts apply strictly in their per-mission
/// <see cref="IMissionLifecycleFact.Sequence"/>: one already applied is ignored (redelivery; the latest one on a retry or a
/// redelivery has its status announced again, since the attempt that applied it may not have), one that arrives ahead of a
/// predecessor is parked in <see cref="MissionState.Parked"/> and applied once the gap closes. A fact that is illegal in the
/// current state is recorded as rejected (<see cref="MissionHistoryEntry.Accepted"/> false), logged as a warning, and not
/// applied. Final states keep their instance (the history stays). Run it behind an in-memory outbox
/// (<see cref="MissionStateDefinition"/>) so <see cref="MissionStatusChanged"/> leaves only after the instance was saved.
/// Thread-safe: MassTransit builds it once; all per-mission data lives in <see cref="MissionState"/>.
/// </remarks>
public sealed class MissionStateMachine : MassTransitStateMachine<MissionState>
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly Dictionary<string, Func<BehaviorContext<MissionState>, IMissionLifecycleFact?>> _messages = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<BehaviorContext<MissionState>, string, Task>> _raisers = new(StringComparer.Ordinal);
    private readonly ILogger<MissionStateMachine> _logger;

    /// <summary>Builds the machine.</summary>
    /// <param name="logger">Where rejected transitions and gaps are logged.</param>
    public MissionStateMachine(ILogger<MissionStateMachine> logger)
    {
        _logger = logger;
        InstanceState(m => m.CurrentState);
        Fact(() => MissionSubmitted);
        Fact(() => MissionAssigned);
        Fact(() => MissionDispatched);
        Fact(() => MissionStarted);
        Fact(() => MissionPaused);
        Fact(() => MissionResumed);
        Fact(() => MissionRequeued);
        Fact(() => MissionCompleted);
        Fact(() => MissionFailed);
        Fact(() => MissionCancelled);
        Fact(() => MissionReprioritised);
        Fact(() => MissionReassigned);

        Initially(
            Accept(MissionSubmitted, Queued),
            // Only a fact that overtook its mission's submission gets here: it waits for it.
            Hold(MissionAssigned), Hold(MissionDispatched), Hold(MissionStarted), Hold(MissionPaused), Hold(MissionResumed),
            Hold(MissionRequeued), Hold(MissionCompleted), Hold(MissionFailed), Hold(MissionCancelled), Hold(MissionReprioritised),
            Hold(MissionReassigned));

        During(Queued,
            Accept(MissionAssigned, Assigned),
            Accept(MissionReprioritised, Queued),
            Accept(MissionReassigned, Queued),
            Accept(MissionFailed, Failed),
            Accept(MissionCancelled, Cancelled));

        During(Assigned,
            Accept(MissionDispatched, Dispatched),
            Accept(MissionReassigned, Queued),
            Accept(MissionRequeued, Queued),
            Accept(MissionFailed, Failed),
            Accept(MissionCancelled, Cancelled));

        During(Dispatched,
            Accept(MissionStarted, Executing),
            Accept(MissionPaused, Paused),
            Accept(MissionRequeued, Queued),
            Accept(MissionFailed, Failed),
            Accept(MissionCancelled, Cancelled));

        During(Executing,
            Accept(MissionPaused, Paused),
            Accept(MissionCompleted, Completed),
            Accept(MissionRequeued, Queued),
            Accept(MissionFailed, Failed),
            Accept(MissionCancelled, Cancelled));

        During(Paused,
            Accept(MissionResumed, m => m.OrderAcknowledged ? Executing : Dispatched),
            Accept(MissionCompleted, Completed),
            Accept(MissionRequeued, Queued),
            Accept(MissionFailed, Failed),
            Accept(MissionCancelled, Cancelled));

        // Completed, Failed and Cancelled accept nothing; anything else not listed above is illegal where it arrives.
        OnUnhandledEvent(ArriveIllegalAsync);
    }

    /// <summary>Accepted, waiting for a robot.</summary>
    public State Queued { get; private set; } = null!;

    /// <summary>A robot is chosen; its order is being prepared.</summary>
    public State Assigned { get; private set; } = null!;

    /// <summary>The order is sent; the robot has not shown it yet.</summary>
    public State Dispatched { get; private set; } = null!;

    /// <summary>The robot runs the order.</summary>
    public State Executing { get; private set; } = null!;

    /// <summary>Paused by an operator.</summary>
    public State Paused { get; private set; } = null!;

    /// <summary>Done (final).</summary>
    public State Completed { get; private set; } = null!;

    /// <summary>Could not be done (final).</summary>
    public State Failed { get; private set; } = null!;

    /// <summary>Cancelled by an operator (final).</summary>
    public State Cancelled { get; private set; } = null!;

    /// <summary>See <see cref="Contracts.MissionSubmitted"/>.</summary>
    public Event<MissionSubmitted> MissionSubmitted { get; private set; } = null!;

    /// <summary>See <see cref="Contracts.MissionAssigned"/>.</summary>
    public Event<MissionAssigned> MissionAssigned { get; private set; } = null!;

    /// <summary>See <see cref="Contracts.MissionDispatched"/>.</summary>
    public Event<MissionDispatched> MissionDispatched { get; private set; } = null!;

    /// <summary>See <see cref="Contracts.MissionStarted"/>.</summary>
    public Event<MissionStarted> MissionStarted { get; private set; } = null!;

    /// <summary>See <see cref="Contracts.MissionPaused"/>.</summary>
    public Event<MissionPaused> MissionPaused { get; private set; } = null!;

    /// <summary>See <see cref="Contracts.MissionResumed"/>.</summary>
    public Event<MissionResumed> MissionResumed { get; private set; } = null!;

    /// <summary>See <see cref="Contracts.MissionRequeued"/>.</summary>
    public Event<MissionRequeued> MissionRequeued { get; private set; } = null!;

    /// <summary>See <see cref="Contracts.MissionCompleted"/>.</summary>
    public Event<MissionCompleted> MissionCompleted { get; private set; } = null!;

    /// <summary>See <see cref="Contracts.MissionFailed"/>.</summary>
    public Event<MissionFailed> MissionFailed { get; private set; } = null!;

    /// <summary>See <see cref="Contracts.MissionCancelled"/>.</summary>
    public Event<MissionCancelled> MissionCancelled { get; private set; } = null!;

    /// <summary>See <see cref="Contracts.MissionReprioritised"/>.</summary>
    public Event<MissionReprioritised> MissionReprioritised { get; private set; } = null!;

    /// <summary>See <see cref="Contracts.MissionReassigned"/>.</summary>
    public Event<MissionReassigned> MissionReassigned { get; private set; } = null!;

    /// <summary>Declares a fact event, correlated by mission id, and registers how to read and re-raise it.</summary>
    private void Fact<T>(System.Linq.Expressions.Expression<Func<Event<T>>> property)
        where T : class, IMissionLifecycleFact
    {
        Event(property, e => e.CorrelateById(c => MissionCorrelation.IdOf(c.Message.MissionId)));
        var name = ((System.Linq.Expressions.MemberExpression)property.Body).Member.Name;
        _messages[name] = c => c.TryGetMessage<T>(out var consumed) ? consumed.Message : null;
        var get = property.Compile();
        _raisers[name] = (c, json) => c.Raise(get(), JsonSerializer.Deserialize<T>(json, Json)!);
    }

    /// <summary>A legal transition: the fact moves the mission to <paramref name="to"/> (it may be the same state).</summary>
    private EventActivityBinder<MissionState, T> Accept<T>(Event<T> fact, State to)
        where T : class, IMissionLifecycleFact => Accept(fact, _ => to);

    private EventActivityBinder<MissionState, T> Accept<T>(Event<T> fact, Func<T, State> to)
        where T : class, IMissionLifecycleFact => When(fact).ThenAsync(c => ArriveAsync(c, c.Message, to(c.Message)));

    /// <summary>A fact that can only wait here (for the submission).</summary>
    private EventActivityBinder<MissionState, T> Hold<T>(Event<T> fact)
        where T : class, IMissionLifecycleFact => When(fact).ThenAsync(c => ArriveAsync(c, c.Message, to: null));

    private Task ArriveIllegalAsync(UnhandledEventContext<MissionState> context) =>
        _messages.TryGetValue(context.Event.Name, out var read) && read(context) is { } fact
            ? ArriveAsync(context, fact, to: null)
            : context.Throw();

    /// <summary>
    /// Takes in one fact: ignores a duplicate, parks one that is early, applies the next one when <paramref name="to"/> is
    /// given (a legal transition) or records it as rejected; then applies any parked fact that is now next.
    /// </summary>
    private async Task ArriveAsync(BehaviorContext<MissionState> context, IMissionLifecycleFact fact, State? to)
    {
        var saga = context.Saga;
        if (saga.MissionId.Length == 0)
            saga.MissionId = fact.MissionId;
        if (fact.Sequence <= saga.LastSequence)
        {
            _logger.LogDebug("Mission {Mission}: fact {Sequence} ({Event}) already applied; ignored", fact.MissionId, fact.Sequence, context.Event.Name);
            // The latest fact once more on a retry or a redelivery: the attempt that applied it may have been left behind, or
            // failed, before its announcement left the outbox (LeaveHungAttemptFilter): announce it again.
            if ((context.GetRetryAttempt() > 0 || context.ReceiveContext.Redelivered) && saga.History is [.., { Accepted: true } last] && last.Sequence == fact.Sequence)
                await context.Publish(new MissionStatusChanged(saga.MissionId, Enum.Parse<MissionStatus>(last.To), MissionCorrelation.Robot(saga.Robot), fact.Reason, fact.Timestamp));
            return;
        }

        if (fact.Sequence > saga.LastSequence + 1)
        {
            var parked = ReadParked(saga);
            if (parked.All(p => p.Sequence != fact.Sequence))
                parked.Add(new ParkedFact(fact.Sequence, context.Event.Name, JsonSerializer.Serialize(fact, fact.GetType(), Json)));
            WriteParked(saga, parked);
            _logger.LogInformation("Mission {Mission}: fact {Sequence} ({Event}) arrived before {Missing}; kept until it comes", fact.MissionId, fact.Sequence,
                context.Event.Name, saga.LastSequence + 1);
            return;
        }

        var from = saga.CurrentState;
        saga.LastSequence = fact.Sequence;
        saga.UpdatedAt = fact.Timestamp;
        if (to is null)
        {
            var reason = $"{EventName(context.Event)} is not allowed while {from}: {fact.Reason}";
            Record(saga, fact, context.Event, from, from, reason, accepted: false);
            _logger.LogWarning("Mission {Mission}: rejected {Event} (fact {Sequence}) in state {State}; not applied. Reason given: {Reason}",
                fact.MissionId, EventName(context.Event), fact.Sequence, from, fact.Reason);
        }
        else
        {
            Update(saga, fact);
            Record(saga, fact, context.Event, from, to.Name, fact.Reason, accepted: true);
            await context.TransitionToState(to);
            await context.Publish(new MissionStatusChanged(saga.MissionId, Enum.Parse<MissionStatus>(to.Name), MissionCorrelation.Robot(saga.Robot), fact.Reason, fact.Timestamp));
        }

        await ApplyParkedAsync(context);
    }

    private async Task ApplyParkedAsync(BehaviorContext<MissionState> context)
    {
        var saga = context.Saga;
        if (saga.Parked is null)
            return;
        var parked = ReadParked(saga);
        parked.RemoveAll(p => p.Sequence <= saga.LastSequence);
        var next = parked.Find(p => p.Sequence == saga.LastSequence + 1);
        if (next is not null)
            parked.Remove(next);
        WriteParked(saga, parked);
        if (next is not null)
            await _raisers[next.Event](context, next.Json);
    }

    private static void Update(MissionState saga, IMissionLifecycleFact fact)
    {
        switch (fact)
        {
            case Contracts.MissionSubmitted m:
                saga.Priority = m.Priority;
                saga.PinnedRobot = m.PinnedRobot?.ToString();
                break;
            case Contracts.MissionAssigned m:
                (saga.Robot, saga.OrderId) = (m.Robot.ToString(), m.OrderId);
                break;
            case Contracts.MissionDispatched m:
                (saga.Robot, saga.OrderId) = (m.Robot.ToString(), m.OrderId);
                break;
            case Contracts.MissionStarted m:
                (saga.Robot, saga.OrderId) = (m.Robot.ToString(), m.OrderId);
                break;
            case Contracts.MissionRequeued:
                (saga.Robot, saga.OrderId) = (null, null);
                break;
            case Contracts.MissionReprioritised m:
                saga.Priority = m.Priority;
                break;
            case Contracts.MissionReassigned m:
                (saga.PinnedRobot, saga.Robot, saga.OrderId) = (m.PinnedRobot?.ToString(), null, null);
                break;
        }
    }

    private static void Record(MissionState saga, IMissionLifecycleFact fact, Event @event, string from, string to, string reason, bool accepted)
    {
        var robot = fact switch
        {
            Contracts.MissionAssigned m => m.Robot,
            Contracts.MissionDispatched m => m.Robot,
            Contracts.MissionStarted m => m.Robot,
            Contracts.MissionPaused m => m.Robot,
            Contracts.MissionResumed m => m.Robot,
            Contracts.MissionRequeued m => m.Robot,
            Contracts.MissionCompleted m => m.Robot,
            Contracts.MissionFailed m => m.Robot,
            Contracts.MissionCancelled m => m.Robot,
            Contracts.MissionReassigned m => m.PinnedRobot,
            _ => null,
        };
        var orderId = fact switch
        {
            Contracts.MissionAssigned m => m.OrderId,
            Contracts.MissionDispatched m => m.OrderId,
            Contracts.MissionStarted m => m.OrderId,
            _ => null,
        };
        saga.History =
        [
            .. saga.History,
            new MissionHistoryEntry
            {
                Index = saga.History.Count + 1,
                Sequence = fact.Sequence,
                Timestamp = fact.Timestamp,
                Event = EventName(@event),
                From = from,
                To = to,
                Actor = fact.Actor,
                Reason = reason,
                Robot = robot?.ToString(),
                OrderId = orderId,
                Accepted = accepted,
            },
        ];
    }

    /// <summary><c>MissionAssigned</c> -> <c>assigned</c>.</summary>
    private static string EventName(Event @event) => @event.Name.StartsWith("Mission", StringComparison.Ordinal)
        ? @event.Name["Mission".Length..].ToLowerInvariant()
        : @event.Name;

    private static List<ParkedFact> ReadParked(MissionState saga) =>
        saga.Parked is null ? [] : JsonSerializer.Deserialize<List<ParkedFact>>(saga.Parked, Json) ?? [];

    private static void WriteParked(MissionState saga, List<ParkedFact> parked) =>
        saga.Parked = parked.Count == 0 ? null : JsonSerializer.Serialize(parked.OrderBy(p => p.Sequence), Json);
}
