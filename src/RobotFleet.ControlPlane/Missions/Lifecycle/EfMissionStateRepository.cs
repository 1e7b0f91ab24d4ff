using MassTransit;
using MassTransit.Context;
using MassTransit.Saga;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace RobotFleet.ControlPlane.Missions.Lifecycle;

/// <summary>
/// MassTransit saga repository for <see cref="MissionState"/> on EF Core (SQLite or PostgreSQL, see <see cref="MissionDatabase"/>),
/// in the pattern of MassTransit's Dapper repository: one row per instance in <c>mission_states</c> with a
/// <see cref="MissionState.Version"/> column, history rows in <c>mission_history</c>.
/// </summary>
/// <remarks>
/// Optimistic concurrency: an instance is read without a lock; the message's changes (the state row, guarded by its
/// version, and the new history rows) are written in one transaction at the end. A save against a version someone else
/// has saved since throws <see cref="DbUpdateConcurrencyException"/>, and two first facts racing to insert the same instance
/// throw <see cref="DbUpdateException"/>; the endpoint's message retry (<see cref="MissionStateDefinition"/>) then runs the
/// message again on a fresh read. Nothing is written for a message that changed nothing (a duplicate).
/// One context per message: thread-safe as MassTransit uses it.
/// </remarks>
/// <param name="store">The database.</param>
/// <param name="factory">Creates the saga consume contexts.</param>
public sealed class EfMissionStateRepository(EfMissionStateStore store, ISagaConsumeContextFactory<MissionStateDbContext, MissionState> factory)
    : ISagaRepositoryContextFactory<MissionState>
{
    /// <inheritdoc />
    public void Probe(ProbeContext context) => context.Add("persistence", "efcore");

    /// <inheritdoc />
    public async Task Send<T>(ConsumeContext<T> context, IPipe<SagaRepositoryContext<MissionState, T>> next)
        where T : class
    {
        await using var db = store.CreateContext();
        await next.Send(new RepositoryContext<T>(db, context, factory));
    }

    /// <summary>Not supported: mission states are found by correlation id only.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public Task SendQuery<T>(ConsumeContext<T> context, ISagaQuery<MissionState> query, IPipe<SagaRepositoryQueryContext<MissionState, T>> next)
        where T : class =>
        throw new NotSupportedException("mission states are correlated by id; saga queries are not supported");

    private sealed class RepositoryContext<TMessage> : ConsumeContextScope<TMessage>, SagaRepositoryContext<MissionState, TMessage>
        where TMessage : class
    {
        private readonly MissionStateDbContext _db;
        private readonly ConsumeContext<TMessage> _context;
        private readonly ISagaConsumeContextFactory<MissionStateDbContext, MissionState> _factory;

        public RepositoryContext(MissionStateDbContext db, ConsumeContext<TMessage> context, ISagaConsumeContextFactory<MissionStateDbContext, MissionState> factory)
            : base(context)
        {
            _db = db;
            _context = context;
            _factory = factory;
        }

        public Task<SagaConsumeContext<MissionState, T>> CreateSagaConsumeContext<T>(ConsumeContext<T> consumeContext, MissionState instance, SagaConsumeContextMode mode)
            where T : class =>
            _factory.CreateSagaConsumeContext(_db, consumeContext, instance, mode);

        public Task<SagaConsumeContext<MissionState, TMessage>> Add(MissionState instance) =>
            _factory.CreateSagaConsumeContext(_db, _context, instance, SagaConsumeContextMode.Add);

        public async Task<SagaConsumeContext<MissionState, TMessage>> Insert(MissionState instance)
        {
            try
            {
                await EfMissionStateStore.InsertAsync(_db, instance, CancellationToken);
            }
            catch (DbUpdateException)
            {
                _db.ChangeTracker.Clear();
                return null!; // someone else inserted it: MassTransit loads it instead
            }

            return await _factory.CreateSagaConsumeContext(_db, _context, instance, SagaConsumeContextMode.Insert);
        }

        public async Task<SagaConsumeContext<MissionState, TMessage>> Load(Guid correlationId)
        {
            var instance = await EfMissionStateStore.LoadAsync(_db, correlationId, tracked: true, CancellationToken);
            return instance is null ? null! : await _factory.CreateSagaConsumeContext(_db, _context, instance, SagaConsumeContextMode.Load);
        }

        public Task Save(SagaConsumeContext<MissionState> context) => EfMissionStateStore.InsertAsync(_db, context.Saga, CancellationToken);

        public Task Update(SagaConsumeContext<MissionState> context) => EfMissionStateStore.UpdateAsync(_db, context.Saga, CancellationToken);

        public Task Delete(SagaConsumeContext<MissionState> context) => EfMissionStateStore.DeleteAsync(_db, context.Saga, CancellationToken);

        public Task Discard(SagaConsumeContext<MissionState> context) => Task.CompletedTask;

        public Task Undo(SagaConsumeContext<MissionState> context) => Task.CompletedTask;
    }
}

/// <summary>
/// The mission state machines' tables (<c>mission_states</c>, <c>mission_history</c>): creates them, and reads and writes
/// instances for <see cref="EfMissionStateRepository"/> and <see cref="IMissionHistoryReader"/>. Thread-safe: a new
/// <see cref="MissionStateDbContext"/> per call.
/// </summary>
public sealed class EfMissionStateStore : IMissionHistoryReader
{
    private readonly DbContextOptions<MissionStateDbContext> _options;

    /// <summary>Opens <paramref name="database"/> and creates the tables when missing.</summary>
    /// <param name="database">The database.</param>
    /// <param name="interceptors">EF Core interceptors for every context (diagnostics, tests).</param>
    public EfMissionStateStore(MissionDatabase database, params IInterceptor[] interceptors)
    {
        _options = database.Options<MissionStateDbContext>(interceptors);
        using var db = CreateContext();
        MissionDatabase.EnsureSchema(db);
    }

    /// <summary>A new context; the caller disposes it.</summary>
    public MissionStateDbContext CreateContext() => new(_options);

    /// <inheritdoc />
    /// <remarks>
    /// The instance row and its history rows are read in one repeatable-read transaction (a snapshot), so a save committed
    /// between the two reads cannot show a state with another save's history.
    /// </remarks>
    public async Task<MissionState?> FindAsync(string missionId, CancellationToken cancellationToken)
    {
        await using var db = CreateContext();
        await using var snapshot = await db.Database.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        return await LoadAsync(db, MissionCorrelation.IdOf(missionId), tracked: false, cancellationToken);
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, long> LastSequences()
    {
        using var db = CreateContext();
        return db.States.AsNoTracking().ToDictionary(s => s.MissionId, s => s.LastSequence, StringComparer.Ordinal);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, long>> AppliedSequencesAsync(IReadOnlyCollection<string> missionIds, CancellationToken cancellationToken)
    {
        await using var db = CreateContext();
        var ids = missionIds.Select(MissionCorrelation.IdOf).ToList();
        var stored = await db.States.AsNoTracking().Where(s => ids.Contains(s.CorrelationId))
            .ToDictionaryAsync(s => s.MissionId, s => s.LastSequence, StringComparer.Ordinal, cancellationToken);
        return missionIds.Distinct(StringComparer.Ordinal).ToDictionary(id => id, id => stored.GetValueOrDefault(id), StringComparer.Ordinal);
    }

    /// <summary>The instance with its history, or null.</summary>
    internal static async Task<MissionState?> LoadAsync(MissionStateDbContext db, Guid correlationId, bool tracked, CancellationToken cancellationToken)
    {
        var states = tracked ? db.States : db.States.AsNoTracking();
        if (await states.SingleOrDefaultAsync(s => s.CorrelationId == correlationId, cancellationToken) is not { } state)
            return null;
        state.History = await db.History.AsNoTracking()
            .Where(h => EF.Property<Guid>(h, MissionStateDbContext.HistoryKey) == correlationId)
            .OrderBy(h => h.Index)
            .ToListAsync(cancellationToken);
        state.StoredHistoryCount = state.History.Count;
        state.StoredSequence = state.LastSequence;
        return state;
    }

    /// <summary>Inserts a new instance (version 1) and its history in one transaction.</summary>
    /// <exception cref="DbUpdateException">It exists already.</exception>
    internal static async Task InsertAsync(MissionStateDbContext db, MissionState state, CancellationToken cancellationToken)
    {
        state.Version = 1;
        db.States.Add(state);
        AddNewHistory(db, state);
        await SaveAsync(db, state, cancellationToken);
    }

    /// <summary>Saves a loaded instance's changes, if any, as the next version in one transaction.</summary>
    /// <exception cref="DbUpdateConcurrencyException">The row's version moved on since it was loaded.</exception>
    internal static async Task UpdateAsync(MissionStateDbContext db, MissionState state, CancellationToken cancellationToken)
    {
        if (!db.ChangeTracker.HasChanges() && state.History.Count == state.StoredHistoryCount)
            return;
        state.Version++;
        AddNewHistory(db, state);
        await SaveAsync(db, state, cancellationToken);
    }

    /// <summary>Deletes an instance and its history in one transaction.</summary>
    internal static async Task DeleteAsync(MissionStateDbContext db, MissionState state, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.States.Remove(state);
        await db.SaveChangesAsync(cancellationToken);
        await db.History.Where(h => EF.Property<Guid>(h, MissionStateDbContext.HistoryKey) == state.CorrelationId).ExecuteDeleteAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private static void AddNewHistory(MissionStateDbContext db, MissionState state)
    {
        foreach (var entry in state.History.Skip(state.StoredHistoryCount))
        {
            db.History.Add(entry);
            db.Entry(entry).Property(MissionStateDbContext.HistoryKey).CurrentValue = state.CorrelationId;
        }
    }

    private static async Task SaveAsync(MissionStateDbContext db, MissionState state, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        state.StoredHistoryCount = state.History.Count;
        state.StoredSequence = state.LastSequence;
    }
}

/// <summary>The EF Core model of the mission state machines' tables.</summary>
/// <param name="options">Context options (SQLite or PostgreSQL).</param>
public sealed class MissionStateDbContext(DbContextOptions<MissionStateDbContext> options) : DbContext(options)
{
    /// <summary>Name of the history rows' shadow key column that points at their instance.</summary>
    public const string HistoryKey = "CorrelationId";

    /// <summary>One row per mission.</summary>
    public DbSet<MissionState> States => Set<MissionState>();

    /// <summary>History rows, keyed by (correlation id, index).</summary>
    public DbSet<MissionHistoryEntry> History => Set<MissionHistoryEntry>();

    /// <inheritdoc />
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<MissionState>(e =>
        {
            e.ToTable("mission_states");
            e.HasKey(s => s.CorrelationId);
            e.Property(s => s.CorrelationId).ValueGeneratedNever();
            e.Property(s => s.Version).IsConcurrencyToken();
            e.Property(s => s.CurrentState).HasMaxLength(32);
            e.HasIndex(s => s.MissionId).IsUnique();
            e.Ignore(s => s.History);
        });
        modelBuilder.Entity<MissionHistoryEntry>(e =>
        {
            e.ToTable("mission_history");
            e.Property<Guid>(HistoryKey);
            e.HasKey(HistoryKey, nameof(MissionHistoryEntry.Index));
            e.Property(h => h.Index).ValueGeneratedNever();
        });
    }
}
