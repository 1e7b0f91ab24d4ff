using RobotFleet.Maps;

namespace RobotFleet.Planning;

/// <summary>
/// Optimal, battery-aware mission assignment: a pure function of (now, robots, missions) that returns an
/// <see cref="AssignmentPlan"/> (assignments, charge orders, parking suggestions and typed problems naming what to fix).
/// <para>
/// Objective: minimise the total cost over assigned pairs, where a pair costs
/// <c>w[priority] x (completion + LatenessWeight x lateness)</c> weighted seconds; completion = fastest route travel time
/// from the robot to the mission's start + the mission's duration estimate; lateness = seconds past the deadline at
/// estimated completion. Travel times are lookups in the <see cref="TravelTimeTable"/>'s cached arrival trees (one
/// reversed Dijkstra per distinct mission start, robot speed and lane cost factor, built the first time that start is seen
/// and kept; a new factor, as the loop flow weight follows the fleet's density, builds them again), so a
/// round over known starts does no graph search: its matrix is a flat array of lookups. With a lane cost factor (the
/// traffic controller's loop flow weight, <see cref="Plan"/>) the routes are those the controller sends robots on, lanes
/// against a loop's flow weighted, and a pair's travel time is its route's real seconds.
/// Hard constraints (never violated): required actions and load within the robot's factsheet, pinning, reachability,
/// battery (the robot must end the approach, the mission's own route and the way from the mission's end to the nearest
/// charger at or above its reserve, using its learned percent-per-metre figure, <see cref="EnergyEstimator"/>), and a
/// charging robot below its target takes only urgent missions. Idle robots below their recharge threshold take no mission
/// and get a <see cref="ChargeAssignment"/> to the nearest free charger instead (lowest battery chooses first; one robot per
/// charger). A mission left queued for battery alone sends the nearest idle robot that could do it once charged to charge.
/// </para>
/// <para>
/// Solved exactly by <see cref="LinearAssignment"/> (Jonker-Volgenant 1987 shortest augmenting path, LAPJV). Rectangular
/// cases: with more robots than missions some robots stay idle; with more missions than robots the matrix gets one
/// "stays queued" column per missing robot costing <c>w[priority] x (Q + a x waited + LatenessWeight x unavoidable
/// lateness)</c> (ageing: a = <see cref="AssignmentPlannerOptions.QueueAgeingWeight"/> seconds per second since submission;
/// the unavoidable lateness is that of the mission's cheapest robot now, which waiting cannot escape, so an overdue mission
/// does not become cheaper to leave queued the later it gets), with Q larger than any pair cost plus the largest of those
/// ageing terms times the largest priority weight, divided by the smallest step between priority weights. Hence an optimal plan never
/// leaves a mission queued while a robot that could do it stays idle, and never gives a robot a lower-priority mission
/// while a higher-priority one it could do stays queued: leftover missions are the lowest-priority ones, and among one
/// priority an older mission goes first once a x its extra wait exceeds the extra its robot costs (no mission waits for
/// ever while robots serve its priority). Infeasible pairs get a finite cost above queuing (so they are never chosen over
/// it) and are read back as "queued". Ties are broken deterministically (missions by priority, submission, id; robots by
/// id), whatever the input order.
/// </para>
/// <para>
/// Re-optimisation: pass the not-yet-dispatched assignments of the previous round as provisional; moving such a mission to
/// another robot or back to the queue costs <see cref="AssignmentPlannerOptions.SwitchingPenalty"/>, so a plan changes only
/// when that gains more than the penalty (no flapping). Rate limiting (how often to re-plan) is the caller's job.
/// </para>
/// Thread-safe; immutable but for one cost buffer (8 bytes per mission-robot pair) that <see cref="Plan"/> keeps for the next
/// call, as fresh memory of that size costs page faults (a concurrent call allocates its own). Working memory: that buffer,
/// twice when the solver needs an extended copy, plus 16 bytes per waypoint for each arrival tree a call adds to the
/// table's cache.
/// </summary>
public sealed class AssignmentPlanner
{
    private readonly TravelTimeTable _table;
    private readonly AssignmentPlannerOptions _options;
    private readonly double[] _weights;
    private readonly double _smallestWeightStep;
    private readonly Location[] _chargers;
    private readonly Location[] _parkings;
    private double[]? _spare; // one cost buffer kept between Plan calls (taken atomically; a concurrent call allocates its own)

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
        if (!(_options.QueueAgeingWeight >= 0 && _options.QueueAgeingWeight <= AssignmentPlannerOptions.MaxQueueAgeingWeight))
        {
            throw new ArgumentException($"QueueAgeingWeight must be from 0 to {AssignmentPlannerOptions.MaxQueueAgeingWeight}, not {_options.QueueAgeingWeight}.", nameof(options));
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
    /// <param name="laneCostFactor">
    /// How many times its seconds each of the table's weighted lanes (those against a loop's flow) counts in the choice of
    /// route, so that travel times are those of the routes the traffic controller sends robots on (the PIBT controller's loop
    /// flow weight); 1 for plain fastest routes. Finite, &gt;= 1. Times and metres are the chosen routes' real ones.
    /// </param>
    /// <returns>The plan.</returns>
    /// <exception cref="ArgumentException">Robot or mission ids are not unique.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="laneCostFactor"/> is not finite and &gt;= 1.</exception>
    public AssignmentPlan Plan(
        DateTimeOffset now,
        IReadOnlyList<RobotSnapshot> robots,
        IReadOnlyList<PendingMission> missions,
        IReadOnlyList<ProvisionalAssignment>? provisional = null,
        IReadOnlySet<string>? reservedWaypointIds = null,
        double laneCostFactor = 1)
    {
        ArgumentNullException.ThrowIfNull(robots);
        ArgumentNullException.ThrowIfNull(missions);
        var factor = _table.FactorKey(laneCostFactor);
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

        var charges = SendLowRobotsToCharge(robots, taken, problems, factor);
        var matrix = BuildCostMatrixInto(now, robots, missions, provisional, Interlocked.Exchange(ref _spare, null), factor);
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
                matrix.RouteFrom(m, r),
                completion,
                Lateness(now, mission, completion),
                cost,
                matrix.ProvisionalRobot[m] == r));
        }

        ChargeForMissions(matrix, problems, assigned, taken, charges);
        var parking = SuggestParking(matrix, assigned, taken);
        Volatile.Write(ref _spare, matrix.Costs); // the matrix does not outlive this call
        return new AssignmentPlan(assignments, charges, parking, problems, total);
    }

    /// <summary>
    /// Phase of <see cref="Plan"/>, public for benchmarks and diagnostics: the cost of every (mission, robot) pair among the
    /// robots that may take missions now. Travel times and metres are read from the table's arrival tree of each mission
    /// start (built once per start and speed, in parallel, and cached); the matrix is filled row by row with one lookup per pair.
    /// </summary>
    /// <param name="now">Current time (for deadlines).</param>
    /// <param name="robots">All robots; only located ones that are Idle at or above the recharge threshold, or Charging, become columns.</param>
    /// <param name="missions">Missions to assign.</param>
    /// <param name="provisional">Earlier, not yet dispatched assignments; null for none.</param>
    /// <param name="laneCostFactor">As for <see cref="Plan"/>: the weight of the table's weighted lanes in the choice of route; 1 for none.</param>
    /// <returns>The matrix; rows are missions in priority order, columns robots by id.</returns>
    /// <exception cref="ArgumentException">Robot or mission ids are not unique.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="laneCostFactor"/> is not finite and &gt;= 1.</exception>
    public MissionCostMatrix BuildCostMatrix(
        DateTimeOffset now,
        IReadOnlyList<RobotSnapshot> robots,
        IReadOnlyList<PendingMission> missions,
        IReadOnlyList<ProvisionalAssignment>? provisional = null,
        double laneCostFactor = 1) => BuildCostMatrixInto(now, robots, missions, provisional, null, _table.FactorKey(laneCostFactor));

    /// <summary>The cost matrix, written into <paramref name="buffer"/> when that is long enough (fresh memory of 8 MB costs page faults).</summary>
    private MissionCostMatrix BuildCostMatrixInto(
        DateTimeOffset now,
        IReadOnlyList<RobotSnapshot> robots,
        IReadOnlyList<PendingMission> missions,
        IReadOnlyList<ProvisionalAssignment>? provisional,
        double[]? buffer,
        double factor)
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
        int n = rows.Length, k = columns.Length;

        // Columns: waypoint index, speed class, and what the hard constraints need per robot.
        var robotWaypoint = new int[k];
        var speedOf = new int[k];
        var speeds = new List<double>();
        var blockedUnlessUrgent = new bool[k];
        var anyBlocked = false;
        var energyBudget = new double[k]; // metres a robot may drive before its reserve; NaN: check exactly
        var minBudget = double.PositiveInfinity;
        var minLoad = double.PositiveInfinity;
        var columnOf = new Dictionary<string, int>(k, StringComparer.Ordinal);
        for (var r = 0; r < k; r++)
        {
            var robot = columns[r];
            columnOf[robot.RobotId] = r;
            _table.TryIndex(robot.WaypointId, out robotWaypoint[r]);
            var speed = _table.SpeedKey(robot.MaxSpeed);
            var s = speeds.IndexOf(speed);
            if (s < 0)
            {
                s = speeds.Count;
                speeds.Add(speed);
            }
            speedOf[r] = s;
            blockedUnlessUrgent[r] = robot.Activity == RobotActivity.Charging && robot.BatteryPercent < BatteryOf(robot).TargetPercent;
            anyBlocked |= blockedUnlessUrgent[r];
            var spare = robot.BatteryPercent - BatteryOf(robot).ReservePercent;
            energyBudget[r] = robot.EnergyPercentPerMetre > 0 && double.IsFinite(robot.EnergyPercentPerMetre) && double.IsFinite(spare) ? spare / robot.EnergyPercentPerMetre : double.NaN;
            minBudget = double.IsNaN(energyBudget[r]) ? double.NegativeInfinity : Math.Min(minBudget, energyBudget[r]);
            minLoad = Math.Min(minLoad, robot.MaxLoadKg);
        }

        // Rows: start index and the arrival tree of each (start, speed class).
        var startIndex = new int[n];
        for (var m = 0; m < n; m++)
        {
            startIndex[m] = _table.TryIndex(rows[m].StartWaypointId, out var s) ? s : -1;
        }
        var speedCount = speeds.Count;
        var trees = new ArrivalTree?[n * speedCount];
        var starts = startIndex.Where(s => s >= 0).Distinct().ToArray();
        var treeOfStart = new ArrivalTree[starts.Length];
        var slotOfStart = new Dictionary<int, int>(starts.Length);
        for (var i = 0; i < starts.Length; i++)
        {
            slotOfStart[starts[i]] = i;
        }
        for (var s = 0; s < speedCount; s++)
        {
            _table.Arrivals(starts, speeds[s], treeOfStart, factor);
            for (var m = 0; m < n; m++)
            {
                trees[(m * speedCount) + s] = startIndex[m] < 0 ? null : treeOfStart[slotOfStart[startIndex[m]]];
            }
        }

        // Energy a mission needs besides the approach: its own route, then the way from its end to the nearest charger.
        var missionMetres = new double[n];
        for (var m = 0; m < n; m++)
        {
            missionMetres[m] = rows[m].RouteMetres + ChargerLegMetres(rows[m], factor);
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

        // Travel part: w x (completion + LatenessWeight x lateness) for every pair, +infinity when unreachable.
        var costs = buffer is not null && buffer.Length >= n * k ? buffer : new double[n * k]; // every entry is written below
        var weight = new double[n];
        var duration = new double[n];
        var lateAfter = new double[n];
        for (var m = 0; m < n; m++)
        {
            weight[m] = _weights[ClampedPriority(rows[m])];
            duration[m] = rows[m].DurationSeconds;
            lateAfter[m] = rows[m].Deadline is { } deadline ? (deadline - now).TotalSeconds : double.PositiveInfinity;
        }
        var block = n > 0 && speedCount == 1 ? trees.FirstOrDefault(t => t is not null)?.Block : null;
        if (block is not null && trees.All(t => t is null || ReferenceEquals(t.Block, block)))
        {
            FillFromBlock(costs, n, k, block, trees[0..n], robotWaypoint, weight, duration, lateAfter, _options.LatenessWeight);
        }
        else
        {
            for (var m = 0; m < n; m++)
            {
                for (var r = 0; r < k; r++)
                {
                    var t = trees[(m * speedCount) + speedOf[r]]?.SecondsFrom(robotWaypoint[r]) ?? double.PositiveInfinity;
                    costs[(m * k) + r] = PairCost(t, weight[m], duration[m], lateAfter[m], _options.LatenessWeight);
                }
            }
        }

        // Hard constraints, pair by pair only where some robot could break them.
        var infeasible = false;
        for (var m = 0; m < n; m++)
        {
            var mission = rows[m];
            var line = costs.AsSpan(m * k, k);
            if (startIndex[m] < 0)
            {
                infeasible |= k > 0;
                continue;
            }
            var urgent = ClampedPriority(mission) >= _options.UrgentPriority;
            var capabilityChecks = mission.PinnedRobotId is not null || mission.ExcludedRobotIds is { Count: > 0 }
                || mission.RequiredActions is { Count: > 0 } || !(mission.LoadKg <= minLoad);
            var farthest = 0.0;
            for (var s = 0; s < speedCount; s++)
            {
                farthest = Math.Max(farthest, trees[(m * speedCount) + s]!.FarthestMetres);
            }
            var energyChecks = !(minBudget >= missionMetres[m] + farthest + 1e-3); // else every robot can afford any approach
            if ((anyBlocked && !urgent) || capabilityChecks || energyChecks)
            {
                for (var r = 0; r < k; r++)
                {
                    if (double.IsFinite(line[r])
                        && ((blockedUnlessUrgent[r] && !urgent)
                            || (capabilityChecks && !IsCapable(mission, columns[r]))
                            || (energyChecks && !HasEnergy(columns[r], trees[(m * speedCount) + speedOf[r]]!.Metres[robotWaypoint[r]] + missionMetres[m]))))
                    {
                        line[r] = double.PositiveInfinity;
                    }
                }
            }
            if (!infeasible && !AllFinite(line))
            {
                infeasible = true;
            }
        }

        // Lateness a mission cannot escape by waiting: that of its cheapest robot now (the pair cost is monotonic in the
        // completion time, so the cheapest pair is the earliest completion). It is charged to staying queued too, so an
        // overdue mission does not look cheaper to leave queued with every second it gets later.
        var unavoidableLate = new double[n];
        for (var m = 0; m < n; m++)
        {
            if (!double.IsFinite(lateAfter[m]) || _options.LatenessWeight == 0)
                continue;
            var cheapest = double.PositiveInfinity;
            foreach (var c in costs.AsSpan(m * k, k))
                cheapest = Math.Min(cheapest, c);
            if (!double.IsFinite(cheapest))
                continue;
            // c / w = completion + L x max(0, completion - lateAfter), solved for the completion.
            var perWeight = cheapest / weight[m];
            var completion = perWeight <= lateAfter[m] ? perWeight : (perWeight + (_options.LatenessWeight * lateAfter[m])) / (1 + _options.LatenessWeight);
            unavoidableLate[m] = Math.Max(0, completion - lateAfter[m]);
        }

        return new MissionCostMatrix(rows, columns, costs, trees, speedCount, speedOf, robotWaypoint, startIndex, provisionalRobot, missionMetres, infeasible)
        {
            LaneCostFactor = factor,
            QueuedSeconds = [.. rows.Select(m => Math.Max(0, (now - m.SubmittedAt).TotalSeconds))],
            UnavoidableLateSeconds = unavoidableLate,
        };
    }

    /// <summary>
    /// The travel part of the matrix from one shared seconds block: robots in blocks of 16 columns, so each block's 16 rows
    /// of the table (robot waypoint x cached targets) stay in cache while every mission row reads its slot from them.
    /// </summary>
    private static void FillFromBlock(double[] costs, int n, int k, double[] block, ArrivalTree?[] rowTrees, int[] robotWaypoint,
        double[] weight, double[] duration, double[] lateAfter, double latenessWeight)
    {
        var capacity = rowTrees.First(t => t is not null)!.Capacity;
        var slot = rowTrees.Select(t => t?.Slot ?? -1).ToArray();
        var rowStart = robotWaypoint.Select(w => (long)w * capacity).ToArray();
        const int Width = 16;
        for (var r0 = 0; r0 < k; r0 += Width)
        {
            var r1 = Math.Min(k, r0 + Width);
            for (var m = 0; m < n; m++)
            {
                var line = costs.AsSpan((m * k) + r0, r1 - r0);
                if (slot[m] < 0)
                {
                    line.Fill(double.PositiveInfinity);
                    continue;
                }
                for (var r = r0; r < r1; r++)
                {
                    line[r - r0] = PairCost(block[rowStart[r] + slot[m]], weight[m], duration[m], lateAfter[m], latenessWeight);
                }
            }
        }
    }

    /// <summary>w x (completion + LatenessWeight x lateness) for a travel time; +infinity when unreachable.</summary>
    private static double PairCost(double travelSeconds, double weight, double duration, double lateAfter, double latenessWeight)
    {
        var completion = travelSeconds + duration;
        var late = completion - lateAfter;
        var cost = weight * (completion + (late > 0 ? latenessWeight * late : 0));
        return double.IsFinite(cost) ? cost : double.PositiveInfinity;
    }

    private static bool AllFinite(ReadOnlySpan<double> values)
    {
        foreach (var value in values)
        {
            if (!double.IsFinite(value))
            {
                return false;
            }
        }
        return true;
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
        if (n > 0 && n <= k && !matrix.HasInfeasible && Array.TrueForAll(matrix.ProvisionalRobot, r => r < 0))
        {
            // Every pair allowed, enough robots, nothing provisional: no queue columns, no penalty; solve the matrix as it is.
            return LinearAssignment.Solve(matrix.Costs.AsSpan(0, n * k), n, k);
        }
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

        // Ageing: a mission's queue cost grows by QueueAgeingWeight a second it has waited, plus the lateness it can no longer
        // escape (LatenessWeight x seconds; both times its priority weight). Q: queuing a mission of the lowest priority still
        // costs more than any pair (with the switching penalty), and a priority step in Q outweighs any pair plus the largest
        // ageing times the largest weight, so ageing never lifts a mission above a higher priority.
        var ageing = new double[n];
        for (var m = 0; m < n; m++)
            ageing[m] = (_options.QueueAgeingWeight * matrix.QueuedSeconds[m]) + (_options.LatenessWeight * matrix.UnavoidableLateSeconds[m]);
        var maxAgeing = activeRows.Max(m => ageing[m]);
        var queueUnit = (maxCost + _options.SwitchingPenalty + 1 + (_weights[^1] * maxAgeing)) / _smallestWeightStep;
        var width = Math.Max(real, rows);
        var extended = new double[rows * width];
        for (var i = 0; i < rows; i++)
        {
            var m = activeRows[i];
            var queueCost = _weights[ClampedPriority(matrix.Missions[m])] * (queueUnit + ageing[m]);
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

    /// <summary>Whether the robot ends a drive of that many metres at or above its reserve (at its present charge, or at <paramref name="charge"/>).</summary>
    private bool HasEnergy(RobotSnapshot robot, double metres, double? charge = null) =>
        (charge ?? robot.BatteryPercent) - EnergyModel.PercentFor(metres, robot.EnergyPercentPerMetre) >= BatteryOf(robot).ReservePercent;

    /// <summary>
    /// Metres from the mission's end to the nearest charger; 0 when the end is not given, the map has no charger, or no charger
    /// is reachable from the end (a sink such as a one-way spur: nothing after it is plannable, so the check covers the mission only).
    /// </summary>
    private double ChargerLegMetres(PendingMission mission, double factor)
    {
        if (_chargers.Length == 0 || !_table.TryIndex(mission.EndWaypointId, out var end))
        {
            return 0;
        }
        var best = double.PositiveInfinity;
        foreach (var charger in _chargers)
        {
            if (_table.TryIndex(charger.WaypointId, out var target))
            {
                best = Math.Min(best, _table.Arrival(target, double.PositiveInfinity, factor).Metres[end]);
            }
        }
        return double.IsFinite(best) ? best : 0;
    }

    /// <summary>
    /// For each mission left queued for battery alone (highest priority first): the idle, unassigned robot nearest to its start
    /// that could do it but for its charge, and would have enough at its charge target, is sent to the nearest free charger, so
    /// that the mission does not wait for a charge nobody starts. One robot per mission, one charger per robot.
    /// </summary>
    private void ChargeForMissions(MissionCostMatrix matrix, List<AssignmentProblem> problems, HashSet<string> assigned, HashSet<string> taken, List<ChargeAssignment> charges)
    {
        for (var p = 0; p < problems.Count; p++)
        {
            if (problems[p] is not { Kind: AssignmentProblemKind.InsufficientBattery, MissionId: { } missionId })
            {
                continue;
            }
            var m = IndexOf(matrix.Missions, missionId);
            var mission = matrix.Missions[m];
            var best = -1;
            for (var r = 0; r < matrix.Robots.Count; r++)
            {
                var robot = matrix.Robots[r];
                var travel = matrix.TravelSeconds(m, r);
                var metres = matrix.ApproachMetres(m, r) + matrix.MissionMetres[m];
                if (robot.Activity == RobotActivity.Idle && !assigned.Contains(robot.RobotId) && double.IsFinite(travel)
                    && IsCapable(mission, robot) && !HasEnergy(robot, metres) && HasEnergy(robot, metres, BatteryOf(robot).TargetPercent)
                    && (best < 0 || travel < matrix.TravelSeconds(m, best)))
                {
                    best = r;
                }
            }
            if (best < 0)
            {
                continue;
            }
            var chosen = matrix.Robots[best];
            var charge = NearestFreeCharger(chosen, matrix.RobotWaypoint[best], taken, matrix.LaneCostFactor);
            if (charge is null)
            {
                continue;
            }
            assigned.Add(chosen.RobotId);
            charges.Add(charge);
            problems[p] = problems[p] with
            {
                Message = $"{problems[p].Message}; robot {chosen.RobotId} ({chosen.BatteryPercent:0.#} %, {chosen.EnergyPercentPerMetre:0.####} %/m) is sent to charge for it",
            };
        }
    }

    private static int IndexOf(IReadOnlyList<PendingMission> missions, string missionId)
    {
        for (var i = 0; i < missions.Count; i++)
        {
            if (missions[i].MissionId == missionId)
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>The robot's charger: where it stands when that is a charger, else the nearest free reachable one (marked taken); null when none.</summary>
    private ChargeAssignment? NearestFreeCharger(RobotSnapshot robot, int at, HashSet<string> taken, double factor)
    {
        var here = _chargers.FirstOrDefault(c => c.WaypointId == robot.WaypointId);
        var best = here;
        ArrivalTree? bestTree = null;
        if (best is null)
        {
            foreach (var charger in _chargers)
            {
                if (taken.Contains(charger.WaypointId) || !_table.TryIndex(charger.WaypointId, out var target))
                {
                    continue;
                }
                var tree = _table.Arrival(target, robot.MaxSpeed, factor);
                if (double.IsFinite(tree.SecondsFrom(at)) && (bestTree is null || tree.SecondsFrom(at) < bestTree.SecondsFrom(at)))
                {
                    (best, bestTree) = (charger, tree);
                }
            }
        }
        if (best is null)
        {
            return null;
        }
        taken.Add(best.WaypointId);
        return new ChargeAssignment(robot.RobotId, best.Name, bestTree?.RouteFrom(at) ?? new Route([robot.WaypointId!], [], 0, 0));
    }

    private List<ChargeAssignment> SendLowRobotsToCharge(IReadOnlyList<RobotSnapshot> robots, HashSet<string> taken, List<AssignmentProblem> problems, double factor)
    {
        var charges = new List<ChargeAssignment>();
        var low = robots
            .Where(r => r.Activity == RobotActivity.Idle && NeedsCharge(r) && _table.TryIndex(r.WaypointId, out _))
            .OrderBy(r => r.BatteryPercent)
            .ThenBy(r => r.RobotId, StringComparer.Ordinal);
        foreach (var robot in low)
        {
            _table.TryIndex(robot.WaypointId, out var at);
            if (NearestFreeCharger(robot, at, taken, factor) is { } charge)
            {
                charges.Add(charge);
                continue;
            }
            problems.Add(new AssignmentProblem(AssignmentProblemKind.NoFreeCharger, null, robot.RobotId,
                $"robot {robot.RobotId}: battery {robot.BatteryPercent:0.#} % is below its recharge threshold of {BatteryOf(robot).RechargeThresholdPercent:0.#} % and no free charger is reachable from waypoint '{robot.WaypointId}'; add or free a charger"));
        }
        return charges;
    }

    private List<ParkSuggestion> SuggestParking(MissionCostMatrix matrix, HashSet<string> assigned, HashSet<string> taken)
    {
        var suggestions = new List<ParkSuggestion>();
        if (_parkings.Length == 0)
        {
            return suggestions;
        }
        var parkingWaypoints = _parkings.Select(p => p.WaypointId).ToHashSet(StringComparer.Ordinal);
        for (var r = 0; r < matrix.Robots.Count; r++)
        {
            var robot = matrix.Robots[r];
            if (robot.Activity != RobotActivity.Idle || assigned.Contains(robot.RobotId) || parkingWaypoints.Contains(robot.WaypointId!))
            {
                continue;
            }
            var at = matrix.RobotWaypoint[r];
            var best = -1;
            ArrivalTree? bestTree = null;
            for (var p = 0; p < _parkings.Length; p++)
            {
                if (taken.Contains(_parkings[p].WaypointId) || !_table.TryIndex(_parkings[p].WaypointId, out var target))
                {
                    continue;
                }
                var tree = _table.Arrival(target, robot.MaxSpeed, matrix.LaneCostFactor);
                if (double.IsFinite(tree.SecondsFrom(at)) && (bestTree is null || tree.SecondsFrom(at) < bestTree.SecondsFrom(at)))
                {
                    (best, bestTree) = (p, tree);
                }
            }
            if (bestTree is null)
            {
                continue;
            }
            taken.Add(_parkings[best].WaypointId);
            suggestions.Add(new ParkSuggestion(robot.RobotId, _parkings[best].Name, bestTree.RouteFrom(at)!));
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
        if (usable.Length > 0 && usable.All(r => !double.IsFinite(matrix.TravelSeconds(m, r)) || !HasEnergy(matrix.Robots[r], matrix.ApproachMetres(m, r) + matrix.MissionMetres[m])))
        {
            return new(AssignmentProblemKind.InsufficientBattery, id, null,
                $"mission {id}: every capable robot that can reach waypoint '{mission.StartWaypointId}' would end below its battery reserve; it waits for a charged robot");
        }
        return new(AssignmentProblemKind.NoRobotAvailable, id, null,
            $"mission {id}: no capable robot is free now (busy, charging, or taken by higher-priority, closer or longer-waiting missions); it stays queued");
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
    private readonly ArrivalTree?[] _trees;
    private readonly int _speedCount;
    private readonly int[] _speedOf;

    internal MissionCostMatrix(
        PendingMission[] missions,
        RobotSnapshot[] robots,
        double[] costs,
        ArrivalTree?[] trees,
        int speedCount,
        int[] speedOf,
        int[] robotWaypoint,
        int[] startIndex,
        int[] provisionalRobot,
        double[] missionMetres,
        bool hasInfeasible)
    {
        Missions = missions;
        Robots = robots;
        Costs = costs;
        _trees = trees;
        _speedCount = speedCount;
        _speedOf = speedOf;
        RobotWaypoint = robotWaypoint;
        StartIndex = startIndex;
        ProvisionalRobot = provisionalRobot;
        MissionMetres = missionMetres;
        HasInfeasible = hasInfeasible;
    }

    /// <summary>Rows: missions by priority (high first), submission time, id.</summary>
    public IReadOnlyList<PendingMission> Missions { get; }

    /// <summary>Columns: robots that may take missions now, by id.</summary>
    public IReadOnlyList<RobotSnapshot> Robots { get; }

    internal double[] Costs { get; }

    internal int[] RobotWaypoint { get; }

    internal int[] StartIndex { get; }

    internal int[] ProvisionalRobot { get; }

    /// <summary>Metres each mission drives besides the approach (its route, then to the nearest charger), for the battery check.</summary>
    internal double[] MissionMetres { get; }

    /// <summary>The lane cost factor its routes were chosen by (see <see cref="AssignmentPlanner.Plan"/>).</summary>
    internal double LaneCostFactor { get; init; } = 1;

    /// <summary>Seconds each mission (row) has waited since it was submitted, at the round's time (see <see cref="AssignmentPlannerOptions.QueueAgeingWeight"/>).</summary>
    internal double[] QueuedSeconds { get; init; } = [];

    /// <summary>Seconds each mission (row) would be late even with its cheapest robot now (0 without a deadline); charged to staying queued as well as to every pair.</summary>
    internal double[] UnavoidableLateSeconds { get; init; } = [];

    /// <summary>True when some pair is +infinity (breaks a hard constraint).</summary>
    internal bool HasInfeasible { get; }

    /// <summary>Cost of giving a mission to a robot, weighted seconds; +infinity when not allowed.</summary>
    /// <param name="mission">Row index.</param>
    /// <param name="robot">Column index.</param>
    /// <returns>The cost.</returns>
    public double Cost(int mission, int robot) => Costs[(mission * Robots.Count) + robot];

    /// <summary>Fastest travel time from a robot to a mission's start, seconds; +infinity when unreachable.</summary>
    /// <param name="mission">Row index.</param>
    /// <param name="robot">Column index.</param>
    /// <returns>Seconds.</returns>
    public double TravelSeconds(int mission, int robot) => Tree(mission, robot)?.SecondsFrom(RobotWaypoint[robot]) ?? double.PositiveInfinity;

    /// <summary>Length of that fastest route, metres; +infinity when unreachable.</summary>
    internal double ApproachMetres(int mission, int robot) => Tree(mission, robot)?.Metres[RobotWaypoint[robot]] ?? double.PositiveInfinity;

    internal Route RouteFrom(int mission, int robot) => Tree(mission, robot)!.RouteFrom(RobotWaypoint[robot])!;

    private ArrivalTree? Tree(int mission, int robot) => _trees[(mission * _speedCount) + _speedOf[robot]];
}
