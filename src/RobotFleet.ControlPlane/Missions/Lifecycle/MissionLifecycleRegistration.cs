using MassTransit;
using MassTransit.Configuration;
using MassTransit.Saga;
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
}

/// <summary>Reads instances from MassTransit's in-memory saga repository (no data directory: nothing survives a restart).</summary>
/// <param name="sagas">The in-memory repository.</param>
public sealed class InMemoryMissionHistoryReader(ILoadSagaRepository<MissionState> sagas) : IMissionHistoryReader
{
    /// <inheritdoc />
    public async Task<MissionState?> FindAsync(string missionId, CancellationToken cancellationToken) =>
        (await sagas.Load(MissionCorrelation.IdOf(missionId)))?.Copy();

    /// <inheritdoc />
    public IReadOnlyDictionary<string, long> LastSequences() => new Dictionary<string, long>();
}

/// <summary>
/// The mission state machine's endpoint: message retry outside an in-memory outbox, so a message whose save failed
/// (<see cref="Microsoft.EntityFrameworkCore.DbUpdateConcurrencyException"/>) runs again on a fresh read, and
/// <see cref="Contracts.MissionStatusChanged"/> leaves only after the instance was saved. Up to 16 messages at once:
/// different missions in parallel; facts of one mission that race are put in order by the machine and the version check.
/// </summary>
public sealed class MissionStateDefinition : SagaDefinition<MissionState>
{
    /// <summary>Names the endpoint <c>robotfleet-mission-lifecycle</c>.</summary>
    public MissionStateDefinition()
    {
        EndpointName = "robotfleet-mission-lifecycle";
        ConcurrentMessageLimit = 16;
    }

    /// <inheritdoc />
    protected override void ConfigureSaga(IReceiveEndpointConfigurator endpointConfigurator, ISagaConfigurator<MissionState> sagaConfigurator, IRegistrationContext context)
    {
        endpointConfigurator.UseMessageRetry(r => r.Intervals(10, 20, 50, 100, 200, 400, 800, 1600, 3200));
        endpointConfigurator.UseInMemoryOutbox(context);
    }
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
