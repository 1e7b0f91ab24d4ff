using RobotFleet.Maps;

namespace RobotFleet.Planning;

/// <summary>
/// Optimal, battery-aware mission assignment: a pure function of (now, robots, missions) that returns an
/// <see cref="AssignmentPlan"/> (assignments, charge orders, parking suggestions and typed problems naming what to fix).
/// <para>
/// Objective: minimise the total cost over assigned pairs, where a pair costs
/// <c>w[priority] x (completion + LatenessWeight x lateness)</c> weighted seconds; completion = fastest route travel time
/// from the robot to the mission's start (<see cref="TravelTimeTable"/>, one Dijkstra per distinct robot waypoint and
/// speed) + the mission's duration estimate; lateness = seconds past the deadline at estimated completion.
/// Hard constraints (never violated): required actions and load within the robot's factsheet, pinning, reachability,
/// battery (the robot must end the approach plus the mission's own route at or above its reserve, using its
/// percent-per-metre estimate), and a charging robot below its target takes only urgent missions. Idle robots below their
/// recharge threshold take no mission and get a <see cref="ChargeAssignment"/> to the nearest free charger instead
/// (lowest battery chooses first; one robot per charger).
/// </para>
/// <para>
/// Solved exactly by <see cref="LinearAssignment"/> (Jonker-Volgenant 1987 shortest augmenting path, LAPJV). Rectangular
/// cases: with more robots than missions some robots stay idle; with more missions than robots the matrix gets one
/// "stays queued" column per missing robot costing <c>w[priority] x Q</c>, with Q larger than any pair cost divided by the
/// smallest step between priority weights. Hence an optimal plan never leaves a mission queued while a robot that could do
/// it stays idle, and never gives a robot a lower-priority mission while a higher-priority one it could do stays queued:
/// leftover missions are the lowest-priority ones. Infeasible pairs get a finite cost above queuing (so they are never
/// chosen over it) and are read back as "queued". Ties are broken deterministically (missions by priority, submission,
/// id; robots by id), whatever the input order.
/// </para>
/// <para>
/// Re-optimisation: pass the not-yet-dispatched assignments of the previous round as provisional; moving such a mission to
/// another robot or back to the queue costs <see cref="AssignmentPlannerOptions.SwitchingPenalty"/>, so a plan changes only
/// when that gains more than the penalty (no flapping). Rate limiting (how often to re-plan) is the caller's job.
/// </para>
/// Immutable and thread-safe; each call allocates its own working memory (about 40 bytes per waypoint per distinct robot
/// waypoint, plus 8 bytes per mission-robot pair).
/// </summary>
public sealed class AssignmentPlanner
{
    private readonly TravelTimeTable _table;
    private readonly AssignmentPlannerOptions _options;
    private readonly double[] _weights;
    private readonly double _smallestWeightStep;
    private readonly Location[] _chargers;
    private readonly Location[] _parkings;

    /// <summary>Creates a planner for a map.</summary>
    /// <param name="map">The site map (chargers and parking are its locations of kind Charger and Parking).</param>
    /// <param name="options">Weights and rules; null for the defaults.</param>
    /// <exception cref="ArgumentException">The priority weights are not four positive, strictly increasing numbers, or another option is out of range.</exception>
    public AssignmentPlanner(SiteMap map, AssignmentPlannerOptions? options = null)
        : this(new TravelTimeTable(map, (options ?? new()).DefaultSpeed), options)
    {
    }

    /// <summary>Creates a planner over a prebuilt travel-time table (share one table between planners of the same map).</summary>
    /// <param name="table">Travel-time table of the site map.</param>
    /// <param name="options">Weights and rules; null for the defaults.</param>
    /// <exception cref="ArgumentException">The options are out of range.</exception>
    public AssignmentPlanner(TravelTimeTable table, AssignmentPlannerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        _table = table;
        _options = options ?? new AssignmentPlannerOptions();
        _weights = [.. _options.PriorityWeights];
        if (_weights.Length != 4 || _weights[0] <= 0 || _weights.Any(w => !double.IsFinite(w)) || _weights.Zip(_weights.Skip(1)).Any(p => p.Second <= p.First))
        {
            throw new ArgumentException("PriorityWeights must be four finite, positive, strictly increasing numbers (priorities 0..3).", nameof(options));
        }
        if (!(_options.LatenessWeight >= 0) || !(_options.SwitchingPenalty >= 0) || !double.IsFinite(_options.LatenessWeight) || !double.IsFinite(_options.SwitchingPenalty))
        {
            throw new ArgumentException("LatenessWeight and SwitchingPenalty must be finite and >= 0.", nameof(options));
        }
        _smallestWeightStep = Math.Min(_weights[0], _weights.Zip(_weights.Skip(1)).Min(p => p.Second - p.First));
        _chargers = [.. table.Map.LocationsOfKind(LocationKind.Charger).OrderBy(l => l.Name, StringComparer.Ordinal)];
        _parkings = [.. table.Map.LocationsOfKind(LocationKind.Parking).OrderBy(l => l.Name, StringComparer.Ordinal)];
    }

    /// <summary>The travel-time table the planner routes with.</summary>
    public TravelTimeTable Table => _table;

    /// <summary>The weights and rules in use.</summary>
    public AssignmentPlannerOptions Options => _options;

    /// <summary>Plans one round: charge orders, optimal mission assignment, parking suggestions, and typed problems.</summary>
    /// <param name="now">Current time (for deadlines).</param>
    /// <param name="robots">All robots of the fleet (busy and offline ones too: they define capability and occupy places).</param>
    /// <param name="missions">Missions waiting, including provisionally assigned ones not yet dispatched.</param>
    /// <param name="provisional">Earlier, not yet dispatched assignments that may be revised at the switching penalty; null for none.</param>
    /// <param name="reservedWaypointIds">Waypoints already claimed by robots on their way (chargers, parking); null for none.</param>
    /// <returns>The plan.</returns>
    /// <exception cref="ArgumentException">Robot or mission ids are not unique.</exception>
    public AssignmentPlan Plan(
        DateTimeOffset now,
        IReadOnlyList<RobotSnapshot> robots,
        IReadOnlyList<PendingMission> missions,
        IReadOnlyList<ProvisionalAssignment>? provisional = null,
        IReadOnlySet<string>? reservedWaypointIds = null)
    {
        ArgumentNullException.ThrowIfNull(robots);
        ArgumentNullException.ThrowIfNull(missions);
        var problems = new List<AssignmentProblem>();

        // Places taken: reserved ones and wherever a known robot stands.
        var taken = new HashSet<string>(reservedWaypointIds ?? new HashSet<string>(), StringComparer.Ordinal);
        foreach (var robot in robots)
        {
            if (_table.TryIndex(robot.WaypointId, out _))
            {
                taken.Add(robot.WaypointId!);
            }
        }

        var charges = SendLowRobotsToCharge(robots, taken, problems);
        var matrix = BuildCostMatrix(now, robots, missions, provisional);
        var robotOfMission = Solve(matrix);

        var assignments = new List<MissionAssignment>();
        var assigned = new HashSet<string>(StringComparer.Ordinal);
        var total = 0.0;
        for (var m = 0; m < matrix.Missions.Count; m++)
        {
            var mission = matrix.Missions[m];
            var r = robotOfMission[m];
            if (r < 0)
            {
                problems.Add(Classify(matrix, m, robots));
                continue;
            }
            var robot = matrix.Robots[r];
            var travel = matrix.TravelSeconds(m, r);
            var completion = travel + mission.DurationSeconds;
            var cost = matrix.Cost(m, r);
            total += cost;
            assigned.Add(robot.RobotId);
            assignments.Add(new MissionAssignment(
                mission.MissionId,
                robot.RobotId,
                matrix.RouteFrom(r, matrix.StartIndex[m]),
                completion,
                Lateness(now, mission, completion),
                cost,
                matrix.ProvisionalRobot[m] == r));
        }

        var parking = SuggestParking(matrix, assigned, taken);
        return new AssignmentPlan(assignments, charges, parking, problems, total);
    }

    /// <summary>
    /// Phase of <see cref="Plan"/>, public for benchmarks and diagnostics: the cost of every (mission, robot) pair among the
    /// robots that may take missions now, with one Dijkstra per distinct (waypoint, top speed) of those robots.
    /// </summary>
    /// <param name="now">Current time (for deadlines).</param>
    /// <param name="robots">All robots; only located ones that are Idle at or above the recharge threshold, or Charging, become columns.</param>
    /// <param name="missions">Missions to assign.</param>
    /// <param name="provisional">Earlier, not yet dispatched assignments; null for none.</param>
    /// <returns>The matrix; rows are missions in priority order, columns robots by id.</returns>
    /// <exception cref="ArgumentException">Robot or mission ids are not unique.</exception>
    public MissionCostMatrix BuildCostMatrix(
        DateTimeOffset now,
        IReadOnlyList<RobotSnapshot> robots,
        IReadOnlyList<PendingMission> missions,
        IReadOnlyList<ProvisionalAssignment>? provisional = null)
    {
        ArgumentNullException.ThrowIfNull(robots);
        ArgumentNullException.ThrowIfNull(missions);
        RequireUnique(robots.Select(r => r.RobotId), "robot");
        RequireUnique(missions.Select(m => m.MissionId), "mission");

        var columns = robots
            .Where(r => _table.TryIndex(r.WaypointId, out _) && (r.Activity == RobotActivity.Charging || (r.Activity == RobotActivity.Idle && !NeedsCharge(r))))
            .OrderBy(r => r.RobotId, StringComparer.Ordinal)
            .ToArray();
        var rows = missions
            .OrderByDescending(ClampedPriority)
            .ThenBy(m => m.SubmittedAt)
            .ThenBy(m => m.MissionId, StringComparer.Ordinal)
            .ToArray();
        int n = rows.Length, k = columns.Length, w = _table.WaypointCount;

        var startIndex = new int[n];
        for (var m = 0; m < n; m++)
        {
            startIndex[m] = _table.TryIndex(rows[m].StartWaypointId, out var s) ? s : -1;
        }
        var columnOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var r = 0; r < k; r++)
        {
            columnOf[columns[r].RobotId] = r;
        }
        var provisionalRobot = new int[n];
        Array.Fill(provisionalRobot, -1);
        if (provisional is not null)
        {
            var byMission = provisional.GroupBy(p => p.MissionId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().RobotId, StringComparer.Ordinal);
            for (var m = 0; m < n; m++)
            {
                if (byMission.TryGetValue(rows[m].MissionId, out var robotId) && columnOf.TryGetValue(robotId, out var r))
                {
                    provisionalRobot[m] = r;
                }
            }
        }

        // One Dijkstra per distinct (waypoint, top speed); robots sharing both share the tree.
        var travel = new double[n * k];
        var metres = new double[n * k];
        var predecessors = new int[k][];
        var parkingSeconds = new double[k][];
        var seconds = new double[w];
        var distance = new double[w];
        var trees = new Dictionary<(int, double), int>();
        for (var r = 0; r < k; r++)
        {
            _table.TryIndex(columns[r].WaypointId, out var source);
            if (trees.TryGetValue((source, columns[r].MaxSpeed), out var same))
            {
                predecessors[r] = predecessors[same];
                parkingSeconds[r] = parkingSeconds[same];
                for (var m = 0; m < n; m++)
                {
                    travel[(m * k) + r] = travel[(m * k) + same];
                    metres[(m * k) + r] = metres[(m * k) + same];
                }
                continue;
            }
            trees[(source, columns[r].MaxSpeed)] = r;
            predecessors[r] = new int[w];
            _table.Run(source, columns[r].MaxSpeed, seconds, distance, predecessors[r]);
            for (var m = 0; m < n; m++)
            {
                var s = startIndex[m];
                travel[(m * k) + r] = s < 0 ? double.PositiveInfinity : seconds[s];
                metres[(m * k) + r] = s < 0 ? double.PositiveInfinity : distance[s];
            }
            parkingSeconds[r] = [.. _parkings.Select(p => _table.TryIndex(p.WaypointId, out var i) ? seconds[i] : double.PositiveInfinity)];
        }

        var costs = new double[n * k];
        for (var m = 0; m < n; m++)
        {
            var mission = rows[m];
            for (var r = 0; r < k; r++)
            {
                var robot = columns[r];
                var t = travel[(m * k) + r];
                costs[(m * k) + r] = IsFeasible(mission, robot, t, metres[(m * k) + r]) ? PairCost(now, mission, t) : double.PositiveInfinity;
            }
        }

        return new MissionCostMatrix(this, rows, columns, costs, travel, metres, startIndex, provisionalRobot, predecessors, parkingSeconds);
    }

    /// <summary>
    /// Phase of <see cref="Plan"/>, public for benchmarks: the optimal assignment of a cost matrix (LAPJV on the matrix
    /// extended with "stays queued" columns and the switching penalty).
    /// </summary>
    /// <param name="matrix">A matrix from this planner's <see cref="BuildCostMatrix"/>.</param>
    /// <returns>For each mission row, its robot column, or -1 when it stays queued.</returns>
    public int[] Solve(MissionCostMatrix matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        int n = matrix.Missions.Count, k = matrix.Robots.Count;
        var result = new int[n];
        Array.Fill(result, -1);

        // Only rows and columns with at least one feasible pair enter the solver.
        var rowUsed = new bool[n];
        var columnUsed = new bool[k];
        var maxCost = 0.0;
        for (var m = 0; m < n; m++)
        {
            for (var r = 0; r < k; r++)
            {
                var c = matrix.Costs[(m * k) + r];
                if (double.IsFinite(c))
                {
                    rowUsed[m] = columnUsed[r] = true;
                    maxCost = Math.Max(maxCost, c);
                }
            }
        }
        var activeRows = Enumerable.Range(0, n).Where(m => rowUsed[m]).ToArray();
        var activeColumns = Enumerable.Range(0, k).Where(r => columnUsed[r]).ToArray();
        int rows = activeRows.Length, real = activeColumns.Length;
        if (rows == 0)
        {
            return result;
        }

        // Q: queuing a mission of the lowest priority still costs more than any pair (with the switching penalty).
        var queueUnit = (maxCost + _options.SwitchingPenalty + 1) / _smallestWeightStep;
        var width = Math.Max(real, rows);
        var extended = new double[rows * width];
        for (var i = 0; i < rows; i++)
        {
            var m = activeRows[i];
            var queueCost = _weights[ClampedPriority(matrix.Missions[m])] * queueUnit;
            var line = extended.AsSpan(i * width, width);
            for (var j = 0; j < real; j++)
            {
                var r = activeColumns[j];
                var c = matrix.Costs[(m * k) + r];
                line[j] = !double.IsFinite(c) ? queueCost + queueUnit
                    : matrix.ProvisionalRobot[m] == r ? c - _options.SwitchingPenalty
                    : c;
            }
            line[real..].Fill(queueCost);
        }

        var columnOfRow = LinearAssignment.Solve(extended, rows, width);
        for (var i = 0; i < rows; i++)
        {
            var j = columnOfRow[i];
            if (j < real && double.IsFinite(matrix.Costs[(activeRows[i] * k) + activeColumns[j]]))
            {
                result[activeRows[i]] = activeColumns[j];
            }
        }
        return result;
    }

    internal int ClampedPriority(PendingMission mission) => Math.Clamp(mission.Priority, 0, 3);

    private BatteryPolicy BatteryOf(RobotSnapshot robot) => robot.Battery ?? _options.Battery;

    private bool NeedsCharge(RobotSnapshot robot) => robot.BatteryPercent < BatteryOf(robot).RechargeThresholdPercent;

    private double PairCost(DateTimeOffset now, PendingMission mission, double travelSeconds)
    {
        var completion = travelSeconds + mission.DurationSeconds;
        return _weights[ClampedPriority(mission)] * (completion + (_options.LatenessWeight * Lateness(now, mission, completion)));
    }

    private static double Lateness(DateTimeOffset now, PendingMission mission, double completionSeconds) =>
        mission.Deadline is { } deadline ? Math.Max(0, completionSeconds - (deadline - now).TotalSeconds) : 0;

    private static bool IsCapable(PendingMission mission, RobotSnapshot robot) =>
        (mission.PinnedRobotId is null || mission.PinnedRobotId == robot.RobotId)
        && mission.ExcludedRobotIds?.Contains(robot.RobotId) != true
        && mission.LoadKg <= robot.MaxLoadKg
        && (mission.RequiredActions is null || mission.RequiredActions.All(a => robot.SupportedActions?.Contains(a) == true));

    private bool IsAvailableFor(PendingMission mission, RobotSnapshot robot) =>
        robot.Activity != RobotActivity.Charging
        || robot.BatteryPercent >= BatteryOf(robot).TargetPercent
        || ClampedPriority(mission) >= _options.UrgentPriority;

    private bool HasEnergy(PendingMission mission, RobotSnapshot robot, double approachMetres) =>
        robot.BatteryPercent - EnergyModel.PercentFor(approachMetres + mission.RouteMetres, robot.EnergyPercentPerMetre) >= BatteryOf(robot).ReservePercent;

    private bool IsFeasible(PendingMission mission, RobotSnapshot robot, double travelSeconds, double approachMetres) =>
        double.IsFinite(travelSeconds) && IsCapable(mission, robot) && IsAvailableFor(mission, robot) && HasEnergy(mission, robot, approachMetres);

    private List<ChargeAssignment> SendLowRobotsToCharge(IReadOnlyList<RobotSnapshot> robots, HashSet<string> taken, List<AssignmentProblem> problems)
    {
        var charges = new List<ChargeAssignment>();
        var low = robots
            .Where(r => r.Activity == RobotActivity.Idle && NeedsCharge(r) && _table.TryIndex(r.WaypointId, out _))
            .OrderBy(r => r.BatteryPercent)
            .ThenBy(r => r.RobotId, StringComparer.Ordinal);
        foreach (var robot in low)
        {
            // Already at a charger: charge there.
            var here = _chargers.FirstOrDefault(c => c.WaypointId == robot.WaypointId);
            var tree = _table.From(robot.WaypointId!, robot.MaxSpeed);
            var best = here ?? _chargers
                .Where(c => !taken.Contains(c.WaypointId) && double.IsFinite(tree.SecondsTo(c.WaypointId)))
                .OrderBy(c => tree.SecondsTo(c.WaypointId))
                .FirstOrDefault();
            if (best is null)
            {
                problems.Add(new AssignmentProblem(AssignmentProblemKind.NoFreeCharger, null, robot.RobotId,
                    $"robot {robot.RobotId}: battery {robot.BatteryPercent:0.#} % is below its recharge threshold of {BatteryOf(robot).RechargeThresholdPercent:0.#} % and no free charger is reachable from waypoint '{robot.WaypointId}'; add or free a charger"));
                continue;
            }
            taken.Add(best.WaypointId);
            charges.Add(new ChargeAssignment(robot.RobotId, best.Name, tree.RouteTo(best.WaypointId)!));
        }
        return charges;
    }

    private List<ParkSuggestion> SuggestParking(MissionCostMatrix matrix, HashSet<string> assigned, HashSet<string> taken)
    {
        var suggestions = new List<ParkSuggestion>();
        var parkingWaypoints = _parkings.Select(p => p.WaypointId).ToHashSet(StringComparer.Ordinal);
        for (var r = 0; r < matrix.Robots.Count; r++)
        {
            var robot = matrix.Robots[r];
            if (robot.Activity != RobotActivity.Idle || assigned.Contains(robot.RobotId) || parkingWaypoints.Contains(robot.WaypointId!))
            {
                continue;
            }
            var best = -1;
            for (var p = 0; p < _parkings.Length; p++)
            {
                var s = matrix.ParkingSeconds[r][p];
                if (double.IsFinite(s) && !taken.Contains(_parkings[p].WaypointId) && (best < 0 || s < matrix.ParkingSeconds[r][best]))
                {
                    best = p;
                }
            }
            if (best < 0)
            {
                continue;
            }
            taken.Add(_parkings[best].WaypointId);
            _table.TryIndex(_parkings[best].WaypointId, out var target);
            suggestions.Add(new ParkSuggestion(robot.RobotId, _parkings[best].Name, matrix.RouteFrom(r, target)));
        }
        return suggestions;
    }

    private AssignmentProblem Classify(MissionCostMatrix matrix, int m, IReadOnlyList<RobotSnapshot> fleet)
    {
        var mission = matrix.Missions[m];
        var id = mission.MissionId;
        if (matrix.StartIndex[m] < 0)
        {
            return new(AssignmentProblemKind.Unreachable, id, null,
                $"mission {id}: start waypoint '{mission.StartWaypointId}' is not on map '{_table.Map.Id}'; fix the mission's start");
        }
        if (!fleet.Any(r => IsCapable(mission, r)))
        {
            return new(AssignmentProblemKind.NoCapableRobot, id, null, $"mission {id}: {WhyNoCapableRobot(mission, fleet)}");
        }

        var usable = Enumerable.Range(0, matrix.Robots.Count)
            .Where(r => IsCapable(mission, matrix.Robots[r]) && IsAvailableFor(mission, matrix.Robots[r]))
            .ToArray();
        if (usable.Length > 0 && usable.All(r => !double.IsFinite(matrix.TravelSeconds(m, r))))
        {
            return new(AssignmentProblemKind.Unreachable, id, null,
                $"mission {id}: no capable available robot can reach waypoint '{mission.StartWaypointId}'; check the lanes (one-way, missing) around it");
        }
        if (usable.Length > 0 && usable.All(r => !double.IsFinite(matrix.TravelSeconds(m, r)) || !HasEnergy(mission, matrix.Robots[r], matrix.Metres[(m * matrix.Robots.Count) + r])))
        {
            return new(AssignmentProblemKind.InsufficientBattery, id, null,
                $"mission {id}: every capable robot that can reach waypoint '{mission.StartWaypointId}' would end below its battery reserve; it waits for a charged robot");
        }
        return new(AssignmentProblemKind.NoRobotAvailable, id, null,
            $"mission {id}: no capable robot is free now (busy, charging, or taken by higher-priority or closer missions); it stays queued");
    }

    private static string WhyNoCapableRobot(PendingMission mission, IReadOnlyList<RobotSnapshot> fleet)
    {
        if (mission.PinnedRobotId is { } pinned)
        {
            var robot = fleet.FirstOrDefault(r => r.RobotId == pinned);
            if (robot is null)
            {
                return $"pinned robot '{pinned}' is not in the fleet; unpin it or bring the robot online";
            }
            fleet = [robot];
        }
        var missing = (mission.RequiredActions ?? new HashSet<string>())
            .Where(a => !fleet.Any(r => r.SupportedActions?.Contains(a) == true))
            .Order(StringComparer.Ordinal)
            .ToArray();
        if (missing.Length > 0)
        {
            return $"no robot supports action(s) {string.Join(", ", missing.Select(a => $"'{a}'"))}; remove the requirement or add a robot that has it";
        }
        var heaviest = fleet.Count == 0 ? 0 : fleet.Max(r => r.MaxLoadKg);
        if (mission.LoadKg > heaviest)
        {
            return $"load {mission.LoadKg:0.##} kg exceeds every robot's maximum load (largest: {heaviest:0.##} kg)";
        }
        return $"no single robot has all of action(s) {string.Join(", ", (mission.RequiredActions ?? new HashSet<string>()).Order(StringComparer.Ordinal).Select(a => $"'{a}'"))} and a load capacity of {mission.LoadKg:0.##} kg";
    }

    private static void RequireUnique(IEnumerable<string> ids, string what)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            if (!seen.Add(id))
            {
                throw new ArgumentException($"Duplicate {what} id '{id}'.");
            }
        }
    }
}

/// <summary>
/// The costs of one planning round, missions (rows, in priority order) x robots (columns, by id), in weighted seconds;
/// +infinity marks a pair that breaks a hard constraint. Produced by <see cref="AssignmentPlanner.BuildCostMatrix"/>;
/// immutable and thread-safe.
/// </summary>
public sealed class MissionCostMatrix
{
    private readonly TravelTimeTable _table;
    private readonly int[][] _predecessors;

    internal MissionCostMatrix(
        AssignmentPlanner planner,
        PendingMission[] missions,
        RobotSnapshot[] robots,
        double[] costs,
        double[] travel,
        double[] metres,
        int[] startIndex,
        int[] provisionalRobot,
        int[][] predecessors,
        double[][] parkingSeconds)
    {
        _table = planner.Table;
        Missions = missions;
        Robots = robots;
        Costs = costs;
        Travel = travel;
        Metres = metres;
        StartIndex = startIndex;
        ProvisionalRobot = provisionalRobot;
        _predecessors = predecessors;
        ParkingSeconds = parkingSeconds;
    }

    /// <summary>Rows: missions by priority (high first), submission time, id.</summary>
    public IReadOnlyList<PendingMission> Missions { get; }

    /// <summary>Columns: robots that may take missions now, by id.</summary>
    public IReadOnlyList<RobotSnapshot> Robots { get; }

    internal double[] Costs { get; }

    internal double[] Travel { get; }

    internal double[] Metres { get; }

    internal int[] StartIndex { get; }

    internal int[] ProvisionalRobot { get; }

    internal double[][] ParkingSeconds { get; }

    /// <summary>Cost of giving a mission to a robot, weighted seconds; +infinity when not allowed.</summary>
    /// <param name="mission">Row index.</param>
    /// <param name="robot">Column index.</param>
    /// <returns>The cost.</returns>
    public double Cost(int mission, int robot) => Costs[(mission * Robots.Count) + robot];

    /// <summary>Fastest travel time from a robot to a mission's start, seconds; +infinity when unreachable.</summary>
    /// <param name="mission">Row index.</param>
    /// <param name="robot">Column index.</param>
    /// <returns>Seconds.</returns>
    public double TravelSeconds(int mission, int robot) => Travel[(mission * Robots.Count) + robot];

    internal Route RouteFrom(int robot, int target)
    {
        _table.TryIndex(Robots[robot].WaypointId, out var source);
        return _table.BuildRoute(source, target, _predecessors[robot], Robots[robot].MaxSpeed)!;
    }
}
