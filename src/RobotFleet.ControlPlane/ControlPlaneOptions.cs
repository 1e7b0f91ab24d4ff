using RobotFleet.Maps;
using RobotFleet.Planning;

namespace RobotFleet.ControlPlane;

/// <summary>Settings of the control plane's fleet logic. Times are wall-clock.</summary>
public sealed class ControlPlaneOptions
{
    /// <summary>The site the fleet works on.</summary>
    public required SiteMap Map { get; init; }

    /// <summary>
    /// Whether the loops of <see cref="Map"/>'s two-way lanes are driven one way round (<see cref="Planning.OneWayLoops"/>;
    /// default off). <see cref="Map"/> is then the map as drawn: the lanes against the loops are kept closed by rule, and
    /// while a lane on a loop is closed (an operator, perception) that lane's block of loops
    /// (<see cref="Planning.OneWayLoopBlocks"/>) is driven both ways, so a waypoint past the closure stays reachable the
    /// other way round. Assignment estimates travel times on the loops driven one way. The PIBT controller
    /// (<see cref="TrafficControl.Pibt"/>) may still let a robot back up along a passing lane
    /// (<see cref="Planning.OneWayLoopBlocks.Passing"/>) to make way; routes never use one.
    /// </summary>
    public bool OneWayLoops { get; init; }

    /// <summary>
    /// With <see cref="TrafficControl.Pibt"/> and without <see cref="OneWayLoops"/>: how many times its seconds a lane against
    /// its loop's flow costs in the travel times the PIBT controller routes and prioritises robots by, 1 to 100
    /// (<see cref="Planning.Traffic.PibtTrafficOptions.LoopFlowWeight"/>); null: by the fleet's density
    /// (<see cref="Planning.Traffic.PibtTrafficController.LoopFlowWeightFor"/>), the default; 1: every lane at its seconds.
    /// Every lane stays open. The plans' routes are weighted the same way (so a plan goes the way the controller releases
    /// it); a mission's time estimate, a zone's cleaning tour and assignment's travel times are not (they do not change
    /// with the fleet's density). Ignored with <see cref="OneWayLoops"/> (the lanes against the loops
    /// are closed there).
    /// </summary>
    public double? LoopFlowWeight { get; init; }

    /// <summary>
    /// Data directory; missions and the robots' sent plans go to <c>{DataDirectory}/missions.db</c> (SQLite, EF Core) and
    /// survive a restart. Null keeps them in memory only.
    /// </summary>
    public string? DataDirectory { get; init; }

    /// <summary>The SQLite file missions live in when <see cref="MissionsDatabase"/> is not set, or null when kept in memory.</summary>
    public string? MissionsDatabasePath => DataDirectory is null ? null : Path.Combine(DataDirectory, "missions.db");

    /// <summary>
    /// Where missions, sent plans and the missions' state machines are stored, overriding <see cref="MissionsDatabasePath"/>:
    /// a PostgreSQL connection string (<c>Host=...;Database=...;Username=...</c>), a SQLite connection string
    /// (<c>Data Source=...</c>) or a SQLite file path. Null: <see cref="MissionsDatabasePath"/>. See <see cref="Missions.MissionDatabase"/>.
    /// </summary>
    public string? MissionsDatabase { get; init; }

    /// <summary>Assumed top speed of a robot, m/s, for route times (until factsheets are used).</summary>
    public double RobotMaxSpeed { get; init; } = 1.0;

    /// <summary>Which traffic control releases the robots' orders: the PIBT controller (default, <see cref="Planning.Traffic.PibtTrafficController"/>) or the older waypoint reservation rule.</summary>
    public TrafficControl TrafficControl { get; init; } = TrafficControl.Pibt;

    /// <summary>Radius of the circle that holds a robot, in metres: with <see cref="TrafficControl.Pibt"/>, nothing within twice this of another robot's hold is released.</summary>
    public double FootprintRadius { get; init; } = 0.5;

    /// <summary>How often the coordinator re-checks traffic and dispatch.</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How long after publishing a mission's latest lifecycle fact the coordinator checks that the mission state machine took
    /// it in, and publishes again what it has not (a fact confirmed by the broker can still miss the machine, e.g. published
    /// before the machine's queue was bound to its exchange). After each re-publication of a mission's facts the next check of
    /// it waits twice as long as the one before, up to 32 times this.
    /// </summary>
    public TimeSpan LifecycleCatchUpAfter { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long the mission state machine's endpoint lets one attempt at a fact run (its database save and its publication of
    /// <see cref="Contracts.MissionStatusChanged"/>) before it leaves it behind and runs the fact again
    /// (<see cref="Missions.Lifecycle.LeaveHungAttemptFilter{TMessage}"/>).
    /// </summary>
    public TimeSpan LifecycleAttemptTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a robot waits for a held waypoint before traffic moves the holder aside or re-routes.</summary>
    public TimeSpan BlockedResolveAfter { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Least time between two re-plans of the same robot.</summary>
    public TimeSpan ReplanCooldown { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How long a lane closed by a detected obstacle stays closed unless it is seen again (default 60 s).</summary>
    public TimeSpan ObstacleLaneTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Half width in metres of the corridor a detection must lie in to close a lane without a width of its own, and the least for any lane (default 0.5 m).</summary>
    public double ObstacleCorridorHalfWidth { get; init; } = 0.5;

    /// <summary>Least detection score that counts as an obstacle (default 0.5).</summary>
    public double ObstacleMinScore { get; init; } = 0.5;

    /// <summary>
    /// A perception report clears a spot when the robot stands within this distance of it, faces it (within 30 degrees) and
    /// detects nothing within a metre of it (default 3.5 m, inside the 4 m the cameras see).
    /// </summary>
    public double ObstacleClearRange { get; init; } = 3.5;

    /// <summary>
    /// After a restart (a durable mission store loaded), how long nothing more is released, no one moved aside and no mission
    /// assigned while the robots report where they stand: a robot not yet heard from holds nothing the coordinator knows of,
    /// so releasing at once could send a robot onto an idle robot's waypoint, and assigning at once gave the queued missions
    /// to the robots that happened to report first, however far (default 3 s; robots report at least every second, the
    /// gateway republishes unchanged states every 2 s).
    /// </summary>
    public TimeSpan RestartSettle { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Ageing of the mission queue: seconds of assignment cost per second a mission has waited for a robot, so that, with
    /// more missions than robots, a mission far from where the robots work is not passed over for ever by newer, nearer
    /// ones of its priority (<see cref="Planning.AssignmentPlannerOptions.QueueAgeingWeight"/>; default 0.1: 10 minutes of
    /// waiting outweigh 60 s more driving; 0: cheapest first, no ageing). From 0 to
    /// <see cref="Planning.AssignmentPlannerOptions.MaxQueueAgeingWeight"/>, else the coordinator refuses it
    /// (<see cref="ArgumentOutOfRangeException"/> naming it).
    /// </summary>
    public double QueueAgeingWeight { get; init; } = Planning.AssignmentPlannerOptions.DefaultQueueAgeingWeight;

    /// <summary>How long a mission may wait behind a lost robot's hold before it fails.</summary>
    public TimeSpan LostBlockerTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A robot that sent no state for this long is silent: it gets no mission, its mission goes back to the queue, and it is
    /// available again once it reports a position on the map (default 10 s; robots report at least every second, the gateway
    /// republishes unchanged states every 2 s).
    /// </summary>
    public TimeSpan SilentAfter { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How many robots may lose or reject a mission before it fails (default 3).</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>An idle robot below this state of charge, percent, is sent to a free charger (default 30).</summary>
    public double RechargeBelowPercent { get; init; } = 30;

    /// <summary>A charging robot takes non-urgent missions once at this state of charge, percent (default 90).</summary>
    public double ChargeTargetPercent { get; init; } = 90;

    /// <summary>
    /// A mission is not given to a robot that would end it, and the drive on to the nearest charger, below this state of
    /// charge, percent (default 10).
    /// </summary>
    public double BatteryReservePercent { get; init; } = 10;

    /// <summary>How each robot's energy use per metre is learned from its reports: the prior, its weight, the half-life and bounds.</summary>
    public EnergyEstimatorOptions Energy { get; init; } = new();

    /// <summary>An idle robot not at a parking place or charger goes to a free parking place after this long; null never (default 10 s).</summary>
    public TimeSpan? ParkIdleAfter { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Estimated seconds per action, for mission duration estimates (default 2).</summary>
    public double ActionSecondsEstimate { get; init; } = 2;
}

/// <summary>The traffic control that decides how far each robot's order is released (the VDA 5050 base).</summary>
public enum TrafficControl
{
    /// <summary>Waypoint reservations with the dead-end branch rule, circular waits detected and broken by re-routing and moving aside (<see cref="Planning.TrafficController"/>).</summary>
    Reservation,

    /// <summary>
    /// Priority inheritance with backtracking over a geometric traffic space (<see cref="Planning.Traffic.PibtTrafficController"/>):
    /// conflicts from the footprint, lifts, doorways and dead-end spurs one robot at a time, robots in the way pushed aside.
    /// </summary>
    Pibt,
}
