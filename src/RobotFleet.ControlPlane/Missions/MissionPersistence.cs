using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using RobotFleet.Contracts;

namespace RobotFleet.ControlPlane.Missions;

/// <summary>A mission as persisted: its snapshot (status, history, failed robots...) and the submission it came from.</summary>
/// <param name="Mission">The mission's snapshot.</param>
/// <param name="Submission">The accepted submission (its spec is rebuilt from it on reload).</param>
public sealed record PersistedMission(MissionView Mission, SubmitMission Submission);

/// <summary>One step of a persisted robot plan.</summary>
/// <param name="WaypointId">Waypoint.</param>
/// <param name="SequenceId">VDA sequence id of its node.</param>
/// <param name="LaneId">Id of the lane that leads into it; null for the first step.</param>
/// <param name="Actions">Actions at it.</param>
/// <param name="LaneActions">Actions run on entering the lane that leads into it (VDA edge actions); null for none.</param>
public sealed record PersistedStep(string WaypointId, long SequenceId, string? LaneId, IReadOnlyList<RobotAction> Actions, IReadOnlyList<RobotAction>? LaneActions = null);

/// <summary>One target of a persisted robot plan.</summary>
/// <param name="WaypointId">Waypoint.</param>
/// <param name="Actions">Actions there.</param>
/// <param name="StepIndex">Index of its step in the plan.</param>
/// <param name="Refuge">True for a place traffic sent the robot to, out of the way.</param>
public sealed record PersistedTarget(string WaypointId, IReadOnlyList<RobotAction> Actions, int StepIndex, bool Refuge = false);

/// <summary>One order update sent for a plan.</summary>
/// <param name="UpdateId">Its update id.</param>
/// <param name="ReleasedThrough">Index of the last step it released.</param>
public sealed record PersistedUpdate(long UpdateId, int ReleasedThrough);

/// <summary>A robot plan whose order was sent, as persisted.</summary>
/// <param name="Robot">The robot.</param>
/// <param name="OrderId">VDA order id.</param>
/// <param name="MissionId">Mission served; null for an internal move.</param>
/// <param name="Purpose">Mission, Charge or Park.</param>
/// <param name="ChargeTarget">Charge target (percent) of a charge plan.</param>
/// <param name="UpdateId">Last order update id sent.</param>
/// <param name="ReleasedThrough">Index of the last released step.</param>
/// <param name="ReachedIndex">Index of the last reached step.</param>
/// <param name="Orphaned">True when detached from its mission (robot lost).</param>
/// <param name="CancelActionId">Id of the cancelOrder sent, while cancelling.</param>
/// <param name="CancelResent">True once cancelOrder was re-sent to an orphaned robot.</param>
/// <param name="Steps">The steps.</param>
/// <param name="Targets">The targets and their steps.</param>
/// <param name="Updates">Each update id sent and the last step it released.</param>
/// <param name="YieldAtStep">Index of the refuge step while the robot gives way; null otherwise.</param>
/// <param name="YieldTo">Order ids of the plans it gives way to, while <paramref name="YieldAtStep"/> is set.</param>
public sealed record PersistedPlan(
    RobotId Robot,
    string OrderId,
    string? MissionId,
    string Purpose,
    double? ChargeTarget,
    long UpdateId,
    int ReleasedThrough,
    int ReachedIndex,
    bool Orphaned,
    string? CancelActionId,
    bool CancelResent,
    IReadOnlyList<PersistedStep> Steps,
    IReadOnlyList<PersistedTarget> Targets,
    IReadOnlyList<PersistedUpdate>? Updates = null,
    int? YieldAtStep = null,
    IReadOnlyList<string>? YieldTo = null);

/// <summary>What a store holds: missions and sent plans.</summary>
/// <param name="Missions">All missions.</param>
/// <param name="Plans">Plans whose order was sent, one per robot at most.</param>
public sealed record MissionSnapshot(IReadOnlyList<PersistedMission> Missions, IReadOnlyList<PersistedPlan> Plans);

/// <summary>The changes of one coordinator decision, saved in one transaction.</summary>
/// <param name="Missions">Missions changed or added.</param>
/// <param name="Plans">Plans changed or added.</param>
/// <param name="PlansRemoved">Robots whose plan is gone.</param>
public sealed record MissionChanges(IReadOnlyList<PersistedMission> Missions, IReadOnlyList<PersistedPlan> Plans, IReadOnlyList<RobotId> PlansRemoved)
{
    /// <summary>True when nothing changed.</summary>
    public bool IsEmpty => Missions.Count == 0 && Plans.Count == 0 && PlansRemoved.Count == 0;
}

/// <summary>
/// Where the coordinator keeps missions and sent plans. It saves each decision's changes before it publishes the
/// commands they caused, and loads everything once on start.
/// </summary>
public interface IMissionRepository
{
    /// <summary>True when what is saved survives a restart.</summary>
    bool IsDurable { get; }

    /// <summary>Everything stored (empty for a fresh store).</summary>
    MissionSnapshot Load();

    /// <summary>Saves one decision's changes atomically.</summary>
    /// <exception cref="DbUpdateConcurrencyException">A mission was changed by someone else since it was loaded or saved here.</exception>
    Task SaveAsync(MissionChanges changes, CancellationToken cancellationToken);
}

/// <summary>Keeps nothing: missions live only in the coordinator and <see cref="MissionStore"/>; nothing survives a restart.</summary>
public sealed class InMemoryMissionRepository : IMissionRepository
{
    /// <inheritdoc />
    public bool IsDurable => false;

    /// <inheritdoc />
    public MissionSnapshot Load() => new([], []);

    /// <inheritdoc />
    public Task SaveAsync(MissionChanges changes, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// Missions and sent plans through EF Core, in a SQLite file or PostgreSQL (<see cref="MissionDatabase"/>): one row per mission
/// (id, status, order id, version for optimistic concurrency, the whole snapshot and submission as JSON) and one row per
/// robot with a sent plan. Its tables are created when missing; the database also holds the mission state machines' tables
/// (the schedules' database holds Quartz's). Single writer: the coordinator.
/// </summary>
public sealed class EfMissionRepository : IMissionRepository
{
    private readonly DbContextOptions<MissionsDbContext> _options;
    private readonly Dictionary<string, long> _versions = new(StringComparer.Ordinal);
    private readonly HashSet<string> _planRows = new(StringComparer.Ordinal);

    /// <summary>Opens (creating when needed) the SQLite file at <paramref name="databasePath"/>.</summary>
    public EfMissionRepository(string databasePath)
        : this(MissionDatabase.Parse(databasePath))
    {
    }

    /// <summary>Opens <paramref name="database"/>, creating it and its tables when missing.</summary>
    public EfMissionRepository(MissionDatabase database)
    {
        _options = database.Options<MissionsDbContext>();
        using var db = new MissionsDbContext(_options);
        MissionDatabase.EnsureSchema(db);
    }

    /// <inheritdoc />
    public bool IsDurable => true;

    /// <inheritdoc />
    public MissionSnapshot Load()
    {
        using var db = new MissionsDbContext(_options);
        var missions = new List<PersistedMission>();
        _versions.Clear();
        _planRows.Clear();
        foreach (var row in db.Missions.AsNoTracking().ToList())
        {
            missions.Add(JsonSerializer.Deserialize<PersistedMission>(row.Json, MissionJson.Options)
                         ?? throw new InvalidDataException($"mission row '{row.Id}' holds no mission"));
            _versions[row.Id] = row.Version;
        }

        var plans = new List<PersistedPlan>();
        foreach (var row in db.Plans.AsNoTracking().ToList())
        {
            plans.Add(JsonSerializer.Deserialize<PersistedPlan>(row.Json, MissionJson.Options)
                      ?? throw new InvalidDataException($"plan row '{row.Robot}' holds no plan"));
            _planRows.Add(row.Robot);
        }

        return new MissionSnapshot(missions, plans);
    }

    /// <inheritdoc />
    public async Task SaveAsync(MissionChanges changes, CancellationToken cancellationToken)
    {
        if (changes.IsEmpty)
            return;
        await using var db = new MissionsDbContext(_options);
        var versions = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var mission in changes.Missions)
        {
            var id = mission.Mission.Id;
            var json = JsonSerializer.Serialize(mission, MissionJson.Options);
            if (_versions.TryGetValue(id, out var version))
            {
                var row = new MissionRow { Id = id, Version = version, Status = "", Json = "" };
                db.Missions.Attach(row);
                row.Status = mission.Mission.Status.ToString();
                row.OrderId = mission.Mission.OrderId;
                row.Json = json;
                row.Version = version + 1;
                versions[id] = version + 1;
            }
            else
            {
                db.Missions.Add(new MissionRow { Id = id, Version = 1, Status = mission.Mission.Status.ToString(), OrderId = mission.Mission.OrderId, Json = json });
                versions[id] = 1;
            }
        }

        var added = new List<string>();
        foreach (var plan in changes.Plans)
        {
            var key = plan.Robot.ToString();
            var json = JsonSerializer.Serialize(plan, MissionJson.Options);
            if (_planRows.Contains(key))
            {
                var row = new PlanRow { Robot = key, OrderId = "", Json = "" };
                db.Plans.Attach(row);
                row.OrderId = plan.OrderId;
                row.MissionId = plan.MissionId;
                row.UpdateId = plan.UpdateId;
                row.Json = json;
            }
            else
            {
                db.Plans.Add(new PlanRow { Robot = key, OrderId = plan.OrderId, MissionId = plan.MissionId, UpdateId = plan.UpdateId, Json = json });
                added.Add(key);
            }
        }

        var removed = new List<string>();
        foreach (var robot in changes.PlansRemoved)
        {
            var key = robot.ToString();
            if (!_planRows.Contains(key))
                continue;
            db.Plans.Remove(new PlanRow { Robot = key, OrderId = "", Json = "" });
            removed.Add(key);
        }

        await db.SaveChangesAsync(cancellationToken);
        foreach (var (id, version) in versions)
            _versions[id] = version;
        _planRows.UnionWith(added);
        _planRows.ExceptWith(removed);
    }
}

/// <summary>The EF Core model of the missions database.</summary>
/// <param name="options">Context options (SQLite or PostgreSQL).</param>
public sealed class MissionsDbContext(DbContextOptions<MissionsDbContext> options) : DbContext(options)
{
    /// <summary>Mission rows.</summary>
    public DbSet<MissionRow> Missions => Set<MissionRow>();

    /// <summary>Plan rows, one per robot with a sent plan.</summary>
    public DbSet<PlanRow> Plans => Set<PlanRow>();

    /// <inheritdoc />
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<MissionRow>(e =>
        {
            e.ToTable("missions");
            e.HasKey(m => m.Id);
            e.Property(m => m.Version).IsConcurrencyToken();
            e.HasIndex(m => m.Status);
        });
        modelBuilder.Entity<PlanRow>(e =>
        {
            e.ToTable("robot_plans");
            e.HasKey(p => p.Robot);
        });
    }
}

/// <summary>A mission row.</summary>
public sealed class MissionRow
{
    /// <summary>Mission id.</summary>
    public required string Id { get; set; }

    /// <summary>Version, incremented by each save (optimistic concurrency).</summary>
    public long Version { get; set; }

    /// <summary>Status, for queries.</summary>
    public required string Status { get; set; }

    /// <summary>Order id sent for it, if any.</summary>
    public string? OrderId { get; set; }

    /// <summary>The <see cref="PersistedMission"/> as JSON.</summary>
    public required string Json { get; set; }
}

/// <summary>A robot's sent plan.</summary>
public sealed class PlanRow
{
    /// <summary>Robot, <c>manufacturer/serial</c>.</summary>
    public required string Robot { get; set; }

    /// <summary>VDA order id.</summary>
    public required string OrderId { get; set; }

    /// <summary>Mission served, if any.</summary>
    public string? MissionId { get; set; }

    /// <summary>Last update id sent.</summary>
    public long UpdateId { get; set; }

    /// <summary>The <see cref="PersistedPlan"/> as JSON.</summary>
    public required string Json { get; set; }
}

/// <summary>JSON settings of persisted missions and plans.</summary>
internal static class MissionJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
}
