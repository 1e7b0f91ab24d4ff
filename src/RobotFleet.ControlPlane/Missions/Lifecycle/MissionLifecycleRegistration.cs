using MassTransit;
using MassTransit.Configuration;
using MassTransit.Saga;
using RobotFleet.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace RobotFleet.ControlPlane.Missions.Lifecycle;

/// <summary>Reads the mission state machines' instances (state and history) outside the bus. Implementations are thread-safe.</summary>
public interface IMissionHistoryReader
{
    /// <summary>A copy of the mission's instance with its history, or null when the machine has not seen the mission (yet).</summary>
    Task<MissionState?> FindAsync(string missionId, CancellationToken cancellationToken);

    /// <summary>
    /// The last fact sequence applied per mission id, for the coordinator to re-publish what a crash kept from the machine.
    /// Empty when nothing is stored durably.
    /// </summary>
    IReadOnlyDictionary<string, long> LastSequences();

    /// <summary>
    /// The last fact sequence the machine has applied for each of <paramref name="missionIds"/> (0 for a mission it has not
    /// seen), for the coordinator to publish again what it published but the machine never took in.
    /// </summary>
    Task<IReadOnlyDictionary<string, long>> AppliedSequencesAsync(IReadOnlyCollection<string> missionIds, CancellationToken cancellationToken);
}

/// <summary>
/// Reads instances from MassTransit's in-memory saga repository (no data directory: nothing survives a restart). A copy is
/// taken under the instance's lock, the one the machine holds while it applies a fact, so a reader never sees a fact half
/// applied (its sequence counted but its history entry or state not yet written).
/// </summary>
/// <param name="sagas">The in-memory repository's instances.</param>
public sealed class InMemoryMissionHistoryReader(IndexedSagaDictionary<MissionState> sagas) : IMissionHistoryReader
{
    /// <inheritdoc />
    public async Task<MissionState?> FindAsync(string missionId, CancellationToken cancellationToken)
    {
        SagaInstance<MissionState>? instance;
        await sagas.MarkInUse(cancellationToken);
        try
        {
            instance = sagas[MissionCorrelation.IdOf(missionId)];
        }
        finally
        {
            sagas.Release();
        }

        if (instance is null)
            return null;
        await instance.MarkInUse(cancellationToken);
        try
        {
            return instance.IsRemoved ? null : instance.Instance.Copy();
        }
        finally
        {
            instance.Release();
        }
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, long> LastSequences() => new Dictionary<string, long>();

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, long>> AppliedSequencesAsync(IReadOnlyCollection<string> missionIds, CancellationToken cancellationToken)
    {
        var applied = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var id in missionIds)
            applied[id] = (await FindAsync(id, cancellationToken))?.LastSequence ?? 0;
        return applied;
    }
}

/// <summary>
/// The mission state machine's endpoint: message retry outside an in-memory outbox, so a message whose save failed
/// (<see cref="Microsoft.EntityFrameworkCore.DbUpdateConcurrencyException"/>) runs again on a fresh read, and
/// <see cref="Contracts.MissionStatusChanged"/> leaves only after the instance was saved. An attempt still running after
/// <see cref="ControlPlaneOptions.LifecycleAttemptTimeout"/> is left behind and runs again (<see cref="LeaveHungAttemptFilter{TMessage}"/>). Up to 16 messages at once,
/// partitioned by mission: one mission's facts are handled one at a time in this process (no wasted conflicts); several
/// processes consuming the same queue race, and the machine's ordering and the version check sort that out.
/// </summary>
public sealed class MissionStateDefinition : SagaDefinition<MissionState>
{
    private readonly TimeSpan _attemptTimeout;

    /// <summary>Names the endpoint <c>robotfleet-mission-lifecycle</c>.</summary>
    /// <param name="options">Gives <see cref="ControlPlaneOptions.LifecycleAttemptTimeout"/>.</param>
    public MissionStateDefinition(ControlPlaneOptions options)
    {
        _attemptTimeout = options.LifecycleAttemptTimeout;
        EndpointName = "robotfleet-mission-lifecycle";
        ConcurrentMessageLimit = 16;
    }

    /// <inheritdoc />
    protected override void ConfigureSaga(IReceiveEndpointConfigurator endpointConfigurator, ISagaConfigurator<MissionState> sagaConfigurator, IRegistrationContext context)
    {
        endpointConfigurator.UseMessageRetry(r => r.Intervals(10, 20, 50, 100, 200, 400, 800, 1600, 3200));
        _ = new LeaveHungAttemptObserver(endpointConfigurator, _attemptTimeout); // between the retry and the outbox
        endpointConfigurator.UseInMemoryOutbox(context);
        var partitioner = endpointConfigurator.CreatePartitioner(ConcurrentMessageLimit ?? 16);
        PartitionByMission<MissionSubmitted>(sagaConfigurator, partitioner);
        PartitionByMission<MissionAssigned>(sagaConfigurator, partitioner);
        PartitionByMission<MissionDispatched>(sagaConfigurator, partitioner);
        PartitionByMission<MissionStarted>(sagaConfigurator, partitioner);
        PartitionByMission<MissionPaused>(sagaConfigurator, partitioner);
        PartitionByMission<MissionResumed>(sagaConfigurator, partitioner);
        PartitionByMission<MissionRequeued>(sagaConfigurator, partitioner);
        PartitionByMission<MissionCompleted>(sagaConfigurator, partitioner);
        PartitionByMission<MissionFailed>(sagaConfigurator, partitioner);
        PartitionByMission<MissionCancelled>(sagaConfigurator, partitioner);
        PartitionByMission<MissionReprioritised>(sagaConfigurator, partitioner);
        PartitionByMission<MissionReassigned>(sagaConfigurator, partitioner);
    }

    private static void PartitionByMission<T>(ISagaConfigurator<MissionState> saga, IPartitioner partitioner)
        where T : class, IMissionLifecycleFact =>
        saga.Message<T>(m => m.UsePartitioner(partitioner, c => MissionCorrelation.IdOf(c.Message.MissionId)));
}

/// <summary>
/// Fails a consume attempt still running after a time limit and leaves it behind, so that the message retry around it runs
/// the message again and the endpoint is free. The case it is for: after a RabbitMQ connection broke, RabbitMQ.Client 7.2.2
/// can leave a publish waiting forever, whatever its cancellation token says (rabbitmq/rabbitmq-dotnet-client#1930); the
/// state machine's outbox publication of <see cref="MissionStatusChanged"/> caught that way held its attempt, and MassTransit
/// does not restart an endpoint on a new connection while one of its deliveries is in flight, so every later fact waited
/// behind it. Connect it with <see cref="LeaveHungAttemptObserver"/> between the message retry and the outbox, so that the
/// outbox's publication is inside the time limit. The retry finds the fact applied (the instance was saved before the
/// outbox published) and the machine announces the status again (<see cref="MissionStateMachine"/>). Thread-safe.
/// </summary>
/// <typeparam name="TMessage">The message type of the pipe it is in.</typeparam>
/// <param name="timeout">How long an attempt may run.</param>
public sealed class LeaveHungAttemptFilter<TMessage>(TimeSpan timeout) : IFilter<ConsumeContext<TMessage>>
    where TMessage : class
{
    /// <inheritdoc />
    /// <exception cref="TimeoutException">The attempt ran longer than the time limit (the message retry takes it).</exception>
    public async Task Send(ConsumeContext<TMessage> context, IPipe<ConsumeContext<TMessage>> next)
    {
        var attempt = next.Send(context);
        try
        {
            await attempt.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            // Observe whatever the attempt left behind ends with.
            _ = attempt.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            throw new TimeoutException($"consuming {typeof(TMessage).Name} took over {timeout.TotalSeconds:F0} s "
                + "(a publish hung on a broken RabbitMQ connection, rabbitmq/rabbitmq-dotnet-client#1930?); left behind, running it again");
        }
    }

    /// <inheritdoc />
    public void Probe(ProbeContext context) => context.CreateFilterScope("leaveHungAttempt").Add("timeout", timeout);
}

/// <summary>
/// Puts a <see cref="LeaveHungAttemptFilter{TMessage}"/> in the pipe of every message type of an endpoint, at the place it is
/// created: after the steps connected before it (the message retry), before those connected after it (the in-memory
/// outbox). MassTransit places a filter given with <c>UseFilter</c> after all of these, inside the outbox.
/// </summary>
public sealed class LeaveHungAttemptObserver : ConfigurationObserver, IMessageConfigurationObserver
{
    private readonly TimeSpan _timeout;

    /// <summary>Connects to <paramref name="configurator"/>.</summary>
    /// <param name="configurator">The endpoint.</param>
    /// <param name="timeout">How long an attempt may run.</param>
    public LeaveHungAttemptObserver(IConsumePipeConfigurator configurator, TimeSpan timeout)
        : base(configurator)
    {
        _timeout = timeout;
        Connect(this);
    }

    /// <inheritdoc />
    public void MessageConfigured<TMessage>(IConsumePipeConfigurator configurator)
        where TMessage : class =>
        configurator.AddPipeSpecification(new FilterPipeSpecification<ConsumeContext<TMessage>>(new LeaveHungAttemptFilter<TMessage>(_timeout)));
}

/// <summary>Registers the mission lifecycle state machine.</summary>
public static class MissionLifecycleRegistration
{
    /// <summary>
    /// Adds <see cref="MissionStateMachine"/> on its endpoint (<see cref="MissionStateDefinition"/>) and an
    /// <see cref="IMissionHistoryReader"/>: with a database (<see cref="MissionDatabase.From"/>) the instances live in it
    /// (<see cref="EfMissionStateRepository"/>), else in MassTransit's in-memory repository.
    /// </summary>
    public static void AddMissionLifecycle(this IBusRegistrationConfigurator bus, ControlPlaneOptions options)
    {
        bus.TryAddSingleton(options); // for MissionStateDefinition
        var saga = bus.AddSagaStateMachine<MissionStateMachine, MissionState, MissionStateDefinition>();
        if (MissionDatabase.From(options) is { } database)
        {
            bus.TryAddSingleton(_ => new EfMissionStateStore(database));
            bus.TryAddSingleton<IMissionHistoryReader>(sp => sp.GetRequiredService<EfMissionStateStore>());
            saga.Repository(r => r.RegisterSagaRepository<MissionState, MissionStateDbContext, SagaConsumeContextFactory<MissionStateDbContext, MissionState>,
                EfMissionStateRepository>());
        }
        else
        {
            saga.InMemoryRepository();
            bus.TryAddSingleton<IMissionHistoryReader, InMemoryMissionHistoryReader>();
        }
    }
}
