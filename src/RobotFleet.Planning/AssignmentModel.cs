using RobotFleet.Maps;

namespace RobotFleet.Planning;

/// <summary>What a robot is doing, as far as assignment is concerned.</summary>
public enum RobotActivity
{
    /// <summary>Online, no mission, not charging: can take a mission.</summary>
    Idle,

    /// <summary>Charging at a charger: can take a mission once at its target charge, or an urgent one at any charge.</summary>
    Charging,

    /// <summary>Executing a dispatched mission: not assignable.</summary>
    Busy,

    /// <summary>Offline, faulted or silent: not assignable.</summary>
    Offline,
}

/// <summary>Battery rules for a robot, all in percent of full charge.</summary>
/// <param name="RechargeThresholdPercent">Below this an idle robot is sent to charge instead of taking missions.</param>
/// <param name="TargetPercent">A charging robot is available for non-urgent missions once at or above this.</param>
/// <param name="ReservePercent">A mission is not given to a robot whose battery would fall below this by the end of it and the drive on to the nearest charger.</param>
public sealed record BatteryPolicy(double RechargeThresholdPercent = 20, double TargetPercent = 90, double ReservePercent = 10);

/// <summary>A robot as the assignment planner sees it (a snapshot; the planner never changes it).</summary>
/// <param name="RobotId">Robot id (<c>manufacturer/serialNumber</c>).</param>
/// <param name="WaypointId">Waypoint the robot stands at; null or not on the map means unknown (the robot is skipped).</param>
/// <param name="Activity">What the robot is doing.</param>
/// <param name="MaxSpeed">Top speed, metres per second.</param>
/// <param name="BatteryPercent">State of charge, percent.</param>
/// <param name="EnergyPercentPerMetre">Consumption, percent per metre: the robot's learned figure (see <see cref="EnergyEstimator"/>), or a default.</param>
/// <param name="SupportedActions">Action types the robot can perform (from its factsheet); null means none.</param>
/// <param name="MaxLoadKg">Heaviest load the robot carries, kilograms.</param>
/// <param name="Battery">Battery rules for this robot; null means the planner's default.</param>
public sealed record RobotSnapshot(
    string RobotId,
    string? WaypointId,
    RobotActivity Activity,
    double MaxSpeed,
    double BatteryPercent = 100,
    double EnergyPercentPerMetre = EnergyModel.DefaultPercentPerMetre,
    IReadOnlySet<string>? SupportedActions = null,
    double MaxLoadKg = 0,
    BatteryPolicy? Battery = null);

/// <summary>A mission waiting for a robot (or provisionally assigned and not yet dispatched).</summary>
/// <param name="MissionId">Mission id.</param>
/// <param name="StartWaypointId">Where the robot must go first (a delivery's pickup).</param>
/// <param name="Priority">0 (routine) .. 3 (urgent); values outside are clamped.</param>
/// <param name="SubmittedAt">When it was submitted; earlier wins ties.</param>
/// <param name="DurationSeconds">Estimated time of the mission itself once at its start, seconds.</param>
/// <param name="RouteMetres">Distance the mission itself drives once at its start, metres (for the energy check).</param>
/// <param name="Deadline">Optional time by which it should be complete; lateness is penalised, not forbidden.</param>
/// <param name="RequiredActions">Action types the robot must support; null means none.</param>
/// <param name="LoadKg">Load to carry, kilograms.</param>
/// <param name="PinnedRobotId">When set, only this robot may do it (manual assignment).</param>
/// <param name="ExcludedRobotIds">Robots that must not get it (e.g. ones that lost or rejected it before); null means none.</param>
/// <param name="EndWaypointId">Where the mission ends; when given (and the map has chargers), the battery check also covers the way from there to the nearest charger.</param>
public sealed record PendingMission(
    string MissionId,
    string StartWaypointId,
    int Priority,
    DateTimeOffset SubmittedAt,
    double DurationSeconds = 0,
    double RouteMetres = 0,
    DateTimeOffset? Deadline = null,
    IReadOnlySet<string>? RequiredActions = null,
    double LoadKg = 0,
    string? PinnedRobotId = null,
    IReadOnlySet<string>? ExcludedRobotIds = null,
    string? EndWaypointId = null);

/// <summary>A mission given to a robot in an earlier round but not yet dispatched; the planner may revise it, at a switching penalty.</summary>
/// <param name="MissionId">Mission id.</param>
/// <param name="RobotId">Robot it was given to.</param>
public sealed record ProvisionalAssignment(string MissionId, string RobotId);

/// <summary>A mission given to a robot.</summary>
/// <param name="MissionId">Mission id.</param>
/// <param name="RobotId">Chosen robot.</param>
/// <param name="Approach">Fastest route from the robot to the mission's start.</param>
/// <param name="CompletionSeconds">Estimated seconds from now to completion: approach travel time plus the mission's duration.</param>
/// <param name="LatenessSeconds">Estimated seconds past the deadline at completion; 0 when on time or without deadline.</param>
/// <param name="Cost">The pair's cost in weighted seconds (see <see cref="AssignmentPlanner"/>), without the switching penalty.</param>
/// <param name="KeptProvisional">True when this repeats the mission's provisional assignment.</param>
public sealed record MissionAssignment(string MissionId, string RobotId, Route Approach, double CompletionSeconds, double LatenessSeconds, double Cost, bool KeptProvisional);

/// <summary>A robot sent to charge.</summary>
/// <param name="RobotId">Robot id.</param>
/// <param name="ChargerName">Name of the charger location.</param>
/// <param name="Approach">Fastest route to the charger (a single waypoint when already there).</param>
public sealed record ChargeAssignment(string RobotId, string ChargerName, Route Approach);

/// <summary>A suggestion to move an idle robot to a free parking location.</summary>
/// <param name="RobotId">Robot id.</param>
/// <param name="ParkingName">Name of the parking location.</param>
/// <param name="Approach">Fastest route to it.</param>
public sealed record ParkSuggestion(string RobotId, string ParkingName, Route Approach);

/// <summary>Why a mission stays queued, or why a robot could not be sent to charge.</summary>
public enum AssignmentProblemKind
{
    /// <summary>No robot in the fleet (busy or not) has the required actions, load capacity, or is the pinned robot: fix the mission or the fleet.</summary>
    NoCapableRobot,

    /// <summary>The start is not on the map, or no capable available robot can reach it: fix the map or the mission's start.</summary>
    Unreachable,

    /// <summary>Capable robots that can reach it would end below their battery reserve: it waits until one has charged.</summary>
    InsufficientBattery,

    /// <summary>Capable robots exist but none is free now (busy, charging, or taken by other missions): it waits.</summary>
    NoRobotAvailable,

    /// <summary>A robot below its recharge threshold found no free reachable charger: add chargers or free one.</summary>
    NoFreeCharger,
}

/// <summary>A typed problem naming the mission (or robot) and what to fix.</summary>
/// <param name="Kind">Kind of problem.</param>
/// <param name="MissionId">The mission left queued; null for a robot problem.</param>
/// <param name="RobotId">The robot concerned, for <see cref="AssignmentProblemKind.NoFreeCharger"/>; otherwise null.</param>
/// <param name="Message">What is wrong and what to fix, naming the mission or robot.</param>
public sealed record AssignmentProblem(AssignmentProblemKind Kind, string? MissionId, string? RobotId, string Message);

/// <summary>The result of one planning round; lists are in a deterministic order (missions: priority, submission, id; robots: id).</summary>
/// <param name="Assignments">Missions given to robots.</param>
/// <param name="Charges">Robots sent to charge.</param>
/// <param name="Parking">Idle robots, not at a parking location, suggested to park.</param>
/// <param name="Problems">Missions left queued (highest priority first) and robot problems, each with what to fix.</param>
/// <param name="TotalCost">Sum of <see cref="MissionAssignment.Cost"/>, weighted seconds.</param>
public sealed record AssignmentPlan(
    IReadOnlyList<MissionAssignment> Assignments,
    IReadOnlyList<ChargeAssignment> Charges,
    IReadOnlyList<ParkSuggestion> Parking,
    IReadOnlyList<AssignmentProblem> Problems,
    double TotalCost);

/// <summary>Immutable weights and rules of the <see cref="AssignmentPlanner"/>.</summary>
public sealed record AssignmentPlannerOptions
{
    /// <summary>Cost multiplier per priority 0..3; positive and strictly increasing (default 1, 2, 4, 8).</summary>
    public IReadOnlyList<double> PriorityWeights { get; init; } = [1, 2, 4, 8];

    /// <summary>Extra cost per second of estimated lateness, before the priority weight (default 10: a late second costs 11 on-time seconds).</summary>
    public double LatenessWeight { get; init; } = 10;

    /// <summary>Cost, in weighted seconds, of moving a provisionally assigned mission to another robot or back to the queue (hysteresis; default 30).</summary>
    public double SwitchingPenalty { get; init; } = 30;

    /// <summary>
    /// Ageing of the queue: seconds of cost, before the priority weight, that leaving a mission queued adds per second it has
    /// waited since it was submitted (default <see cref="DefaultQueueAgeingWeight"/>; 0 to <see cref="MaxQueueAgeingWeight"/>,
    /// else the planner's constructor throws <see cref="ArgumentException"/> naming it; 0: cheapest first). Without it, with
    /// more missions than robots, a mission of one priority whose start lies far from where the robots work may wait for
    /// ever behind newer, nearer ones. With weight a, an older mission goes first once a x its extra wait exceeds its
    /// robot's extra drive (seconds): at 0.1, 10 minutes outweigh 60 s more driving. Never lifts a mission above a higher
    /// priority. Ageing is the textbook remedy for starvation under priority scheduling; figures in bench/results/assignment.md.
    /// </summary>
    public double QueueAgeingWeight { get; init; } = DefaultQueueAgeingWeight;

    /// <summary>The default <see cref="QueueAgeingWeight"/>, seconds of cost per second waited.</summary>
    public const double DefaultQueueAgeingWeight = 0.1;

    /// <summary>The largest <see cref="QueueAgeingWeight"/> accepted, seconds of cost per second waited (a sanity bound: at 100 a minute of waiting outweighs 100 minutes of driving).</summary>
    public const double MaxQueueAgeingWeight = 100;

    /// <summary>Priority at and above which a charging robot below its target may be used (default 3, urgent).</summary>
    public int UrgentPriority { get; init; } = 3;

    /// <summary>Battery rules for robots that bring none.</summary>
    public BatteryPolicy Battery { get; init; } = new();

    /// <summary>Speed in metres per second on lanes without a speed limit (default 1.0, as <see cref="RouteGraph"/>).</summary>
    public double DefaultSpeed { get; init; } = 1.0;
}
