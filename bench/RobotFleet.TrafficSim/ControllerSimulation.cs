using System.Diagnostics;
using System.Globalization;
using System.Text;
using RobotFleet.Maps;
using RobotFleet.Planning.Traffic;

namespace RobotFleet.TrafficSim;

/// <summary>
/// Simulated robots driven by the <see cref="PibtTrafficController"/> alone (no coordinator, no bus): fixed ticks; in each,
/// every robot (in a fixed order) drives along what it was released at its speed (waiting for a door to open before a lane
/// through a door, riding a lift for the ride's seconds), reports each waypoint it reaches, and runs its action (seconds)
/// at each goal; then the controller steps (timed); then collisions and stalls are measured on interpolated positions.
/// Robots either follow the goals given to them (scenarios) or do random deliveries (pickup, then dropoff) for ever.
/// Deterministic for a seed.
/// </summary>
internal sealed class ControllerSimulation
{
    private readonly double _jamAfterSeconds;
    private readonly double _precedenceAfterSeconds;
    private readonly double _precedenceShare;
    private readonly string _jamSpares;
    private readonly SiteMap _map;
    private readonly SimSettings _settings;
    private readonly List<Robot> _robots = [];
    private readonly Dictionary<string, Robot> _byId = new(StringComparer.Ordinal);
    private readonly Random _random;
    private readonly HashSet<(int, int)> _touching = [];
    private readonly Latencies _stepWall = new();
    private readonly Latencies _stepCpu = new();
    private readonly string[] _pickups = [];
    private readonly string[] _dropoffs = [];
    /// <summary>Seconds a door takes to open in both simulations, unless a test sets another time.</summary>
    internal const double DoorOpeningSeconds = 3;

    private readonly double _doorSeconds;

    /// <param name="map">The site (with <c>--one-way-loops</c>, as drawn: the controller closes <see cref="SimSettings.LastResortLanes"/>).</param>
    /// <param name="settings">Tick, speed, footprint radius, action seconds, stall threshold, seed.</param>
    /// <param name="randomMissions">Robots without goals get a random delivery (pickup, dropoff).</param>
    /// <param name="doorSeconds">How long a robot waits for a door to open before driving a lane through it.</param>
    /// <param name="options">Controller settings (its seed defaults to the run's).</param>
    public ControllerSimulation(SiteMap map, SimSettings settings, bool randomMissions, double doorSeconds = DoorOpeningSeconds, PibtTrafficOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _map = map;
        _settings = settings;
        _random = new Random(settings.Seed);
        _doorSeconds = doorSeconds;
        Space = new TrafficSpace(map, settings.Radius, settings.Speed);
        var defaults = new PibtTrafficOptions { Seed = settings.Seed };
        options ??= defaults with
        {
            ResolveJamAfterSeconds = settings.JamAfterSeconds ?? defaults.ResolveJamAfterSeconds,
            PrecedenceAfterSeconds = settings.PrecedenceAfterSeconds ?? defaults.PrecedenceAfterSeconds,
            PrecedenceShare = settings.PrecedenceShare ?? defaults.PrecedenceShare,
            JamSparesAfterSeconds = settings.JamSparesAfterSeconds ?? defaults.JamSparesAfterSeconds,
            JamSparesNotOnTwoWayLanes = settings.JamSparesNotOnTwoWayLanes ?? defaults.JamSparesNotOnTwoWayLanes,
            JamLastResortAfterSeconds = settings.JamLastResortAfterSeconds ?? defaults.JamLastResortAfterSeconds,
            FarMoveWaitSeconds = settings.FarMoveWaitSeconds ?? defaults.FarMoveWaitSeconds,
            LoopFlowWeight = settings.LoopFlowWeight,
        };
        // One way round, the lanes against the loops are closed (or only to make way): no flow weight on top.
        if (settings.OneWayLoops)
            options = options with { LoopFlowWeight = 1 };
        _loopFlowByDensity = options.LoopFlowWeight is null;
        _jamAfterSeconds = options.ResolveJamAfterSeconds;
        _precedenceAfterSeconds = options.PrecedenceAfterSeconds;
        _precedenceShare = options.PrecedenceShare;
        _jamSpares = options.ResolveJamAfterSeconds <= 0 ? "" : options.JamSparesAfterSeconds > 0
            ? string.Create(CultureInfo.InvariantCulture, $" (sparing robots {options.JamSparesAfterSeconds} s without progress until {options.JamSparesUntilSeconds} s{(options.JamSparesNotOnTwoWayLanes ? ", not on two-way lanes" : "")})")
            : " (sparing no robot)";
        var (lifts, loops) = (map.Lifts.Count > 0, settings.LastResortLanes.Count > 0);
        if (options.ResolveJamAfterSeconds > 0 && (lifts || loops))
            _jamSpares += options.JamLastResortAfterSeconds > 0
                ? string.Create(CultureInfo.InvariantCulture, $", last resort after {options.JamLastResortAfterSeconds} s: {(lifts ? "lift rides to make way for a robot that long without progress" : "")}{(lifts && loops ? ", " : "")}{(loops ? "lanes against the loops for one standing still that long" : "")}")
                : ", no last resort";
        if (options.ResolveJamAfterSeconds > 0)
            _jamSpares += options.FarMoveWaitSeconds > 0
                ? string.Create(CultureInfo.InvariantCulture, $"; a robot one move took {PibtTrafficController.FarMoveSeconds} s or more from its goal waits up to {options.FarMoveWaitSeconds} s for a way back")
                : "; no wait for a way back after a far move";
        Controller = new PibtTrafficController(Space, options);
        Controller.SetPassingLanes(settings.PassingLanes);
        foreach (var lane in settings.LastResortLanes)
            Controller.CloseLane(lane);
        Controller.SetLastResortLanes(settings.LastResortLanes);
        if (randomMissions)
        {
            var (pickups, dropoffs, rule) = TrafficSimulation.MissionEndpoints(map);
            _pickups = pickups;
            _dropoffs = dropoffs;
            EndpointRule = rule;
        }
    }

    public TrafficSpace Space { get; }

    public PibtTrafficController Controller { get; }

    public string EndpointRule { get; } = "goals given";

    /// <summary>Simulated seconds so far.</summary>
    public double Now { get; private set; }

    public long Ticks { get; private set; }

    public int Collisions { get; private set; }

    /// <summary>Whether the controller's loop flow weight is set by density (said in the report).</summary>
    private readonly bool _loopFlowByDensity;

    public double MinSeparation { get; private set; } = double.PositiveInfinity;

    public int Stalls { get; private set; }

    /// <summary>Times a robot with a goal stood still (did not move or work at all) for the stall threshold: a deadlock in the narrow sense, a subset of <see cref="Stalls"/>.</summary>
    public int StoodStill { get; private set; }

    public double LongestStall { get; private set; }

    public int Completed { get; private set; }

    public int DoorWaits { get; private set; }

    public int LiftRides { get; private set; }

    public double MetresDriven { get; private set; }

    public List<string> CollisionNotes { get; } = [];

    public List<string> StallNotes { get; } = [];

    /// <summary>Each robot's goals reached so far, in order (waypoint ids).</summary>
    public IReadOnlyDictionary<string, List<string>> Reached => _robots.ToDictionary(r => r.Id, r => r.GoalsReached);

    /// <summary>True when no robot has a goal left (scenarios).</summary>
    public bool AllDone => _robots.All(r => r.Goal < 0 && r.Goals.Count == 0 && r.ActionLeft <= 0);

    public LatencySummary StepWall => _stepWall.Summary();

    public LatencySummary StepCpu => _stepCpu.Summary();

    /// <summary>Puts a robot on a waypoint with the goals it is to reach in order (each followed by its action).</summary>
    public void AddRobot(string id, string waypointId, params string[] goals)
    {
        var robot = new Robot(id, Space.IndexOf(waypointId));
        robot.Goals.AddRange(goals);
        _robots.Add(robot);
        _byId[id] = robot;
        var weight = Controller.LoopFlowWeight;
        Controller.Place(id, waypointId);
        // Progress is measured in the controller's travel times: when the loop flow weight changes with the fleet's size,
        // the robots' best times so far are measured again in the new ones.
        if (Controller.LoopFlowWeight != weight)
        {
            foreach (var other in _robots.Where(r => r.Goal >= 0 && r != robot))
                other.BestTime = Controller.TimeToGoal(other.Id, Space.WaypointId(other.Path[0]));
        }

        NextGoal(robot);
    }

    /// <summary>Places <paramref name="count"/> robots on distinct waypoints (parking and chargers first, then random ones).</summary>
    public void AddRandomRobots(int count)
    {
        var preferred = _map.Locations.Values.Where(l => l.Kinds.Contains(LocationKind.Parking) || l.Kinds.Contains(LocationKind.Charger))
            .Select(l => l.WaypointId).Distinct().Order(StringComparer.Ordinal).ToList();
        var rest = _map.Waypoints.Keys.Where(w => !preferred.Contains(w) && !Space.IsLiftWaypoint[Space.IndexOf(w)]).Order(StringComparer.Ordinal).ToArray();
        for (var i = rest.Length - 1; i > 0; i--)
        {
            var j = _random.Next(i + 1);
            (rest[i], rest[j]) = (rest[j], rest[i]);
        }

        // Not two robots closer than a footprint diameter at the start.
        var taken = new List<int>();
        foreach (var w in preferred.Concat(rest).Select(Space.IndexOf))
        {
            if (_robots.Count >= count)
                break;
            if (taken.Any(t => t == w || Space.ConflictsWith(t, w)))
                continue;
            taken.Add(w);
            AddRobot($"r{_robots.Count + 1:D4}", Space.WaypointId(w));
        }

        if (_robots.Count < count)
            throw new SimConfigurationException("--robots", count.ToString(CultureInfo.InvariantCulture), $"only {_robots.Count} robots fit on '{_map.Id}' a footprint apart");
    }

    /// <summary>One tick: robots drive and work, the controller steps (timed), collisions and stalls are measured.</summary>
    public void Tick()
    {
        var dt = _settings.Tick.TotalSeconds;
        Ticks++;
        Now += dt;
        foreach (var robot in _robots)
            Drive(robot, dt);
        var cpu = CpuClock.ProcessMilliseconds();
        var wall = Stopwatch.GetTimestamp();
        var releases = Controller.Step(Now);
        _stepWall.Add(Stopwatch.GetElapsedTime(wall).TotalMilliseconds);
        _stepCpu.Add(CpuClock.ProcessMilliseconds() - cpu);
        foreach (var release in releases)
        {
            var robot = _byId[release.RobotId];
            robot.Path.AddRange(release.Waypoints.Select(Space.IndexOf));
        }

        Observe();
        TraceRobots();
    }

    private readonly string[] _trace = (Environment.GetEnvironmentVariable("TRAFFICSIM_TRACE") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    private readonly double _traceFrom = Environment.GetEnvironmentVariable("TRAFFICSIM_TRACE") is { Length: > 0 } && Environment.GetEnvironmentVariable("TRAFFICSIM_TRACE_FROM") is { Length: > 0 } from
        ? double.TryParse(from, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && double.IsFinite(seconds) ? seconds
            : throw new SimConfigurationException("TRAFFICSIM_TRACE_FROM", from, "not a number of simulated seconds")
        : 0;
    private readonly Dictionary<string, string> _lastTrace = [];

    /// <summary>
    /// Debugging aid: for the robots named in <c>TRAFFICSIM_TRACE</c> (comma-separated ids), writes the controller's
    /// <see cref="PibtTrafficController.Explain"/> to standard error each time it changes, for 200 simulated seconds from
    /// <c>TRAFFICSIM_TRACE_FROM</c> (seconds, default 0). An id that is no robot of the run is said once.
    /// </summary>
    private void TraceRobots()
    {
        if (_trace.Length == 0 || Now < _traceFrom || Now > _traceFrom + 200)
            return;
        foreach (var id in _trace)
        {
            var line = _byId.ContainsKey(id) ? Controller.Explain(id) : $"{id}: no such robot in this run";
            if (_lastTrace.TryGetValue(id, out var last) && last == line)
                continue;
            _lastTrace[id] = line;
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"trace t={Now:F2} s {line}"));
        }
    }

    /// <summary>Ticks until every robot has reached all its goals (true) or <paramref name="seconds"/> simulated seconds pass (false).</summary>
    public bool RunUntilDone(double seconds)
    {
        var end = Now + seconds;
        while (Now < end)
        {
            Tick();
            if (AllDone)
                return true;
        }

        return false;
    }

    /// <summary>Closes a lane (an operator or perception did).</summary>
    public void CloseLane(string laneId) => Controller.CloseLane(laneId);

    /// <summary>The robot's position and level now.</summary>
    public (double X, double Y, string Level) PositionOf(string robotId) => Position(_byId[robotId]);

    /// <summary>The waypoint the robot last reached.</summary>
    public string At(string robotId) => Space.WaypointId(_byId[robotId].Path[0]);

    private void Drive(Robot robot, double dt)
    {
        if (robot.ActionLeft > 0)
        {
            robot.ActionLeft -= dt;
            robot.LastProgress = Now;
            robot.LastMoved = Now;
            if (robot.ActionLeft <= 0)
            {
                Controller.SetBusy(robot.Id, false);
                robot.GoalsReached.Add(Space.WaypointId(robot.Goal));
                if (robot.Goals.Count == 0 && robot.Delivering)
                {
                    Completed++;
                    robot.Delivering = false;
                }

                NextGoal(robot);
            }

            return;
        }

        var budget = dt;
        while (budget > 1e-12 && robot.Path.Count > 1)
        {
            var lane = Space.LaneBetween(robot.Path[0], robot.Path[1]);
            var laneInfo = _map.Lanes[lane];
            if (laneInfo.DoorId is not null && robot.DoorWaited < _doorSeconds)
            {
                if (robot.DoorWaited == 0)
                    DoorWaits++;
                var wait = Math.Min(budget, _doorSeconds - robot.DoorWaited);
                robot.DoorWaited += wait;
                budget -= wait;
                robot.LastMoved = Now;
                NoteProgress(robot, robot.Path[1], reached: false);
                continue;
            }

            var seconds = Space.LaneSeconds[lane];
            var left = (1 - robot.Progress) * seconds;
            if (budget < left)
            {
                robot.Progress += budget / seconds;
                MetresDriven += laneInfo.LiftId is null ? budget / seconds * laneInfo.Length : 0;
                budget = 0;
                robot.LastMoved = Now;
                NoteProgress(robot, robot.Path[1], reached: false);
                break;
            }

            budget -= left;
            MetresDriven += laneInfo.LiftId is null ? left / seconds * laneInfo.Length : 0;
            if (laneInfo.LiftId is not null)
                LiftRides++;
            robot.Progress = 0;
            robot.DoorWaited = 0;
            robot.Path.RemoveAt(0);
            Controller.Reached(robot.Id, Space.WaypointId(robot.Path[0]));
            robot.LastMoved = Now;
            NoteProgress(robot, robot.Path[0], reached: true);
        }

        if (robot.Path.Count == 1 && robot.Goal >= 0 && robot.Path[0] == robot.Goal)
        {
            robot.ActionLeft = Math.Max(_settings.ActionSeconds, 1e-9);
            Controller.SetBusy(robot.Id, true);
        }
    }

    /// <summary>
    /// Progress is getting nearer the goal than ever before on the way to it: driving (or waiting at a door) on a lane to a
    /// waypoint with a lower travel time to the goal than any waypoint reached so far, or reaching one. A robot pushed back
    /// and forth without getting anywhere makes none (a livelock counts as a stall, not only a robot standing still).
    /// </summary>
    private void NoteProgress(Robot robot, int waypoint, bool reached)
    {
        if (robot.Goal < 0)
            return;
        var time = Controller.TimeToGoal(robot.Id, Space.WaypointId(waypoint));
        if (!(time < robot.BestTime - 1e-6))
            return;
        robot.LastProgress = Now;
        if (reached)
            robot.BestTime = time;
    }

    private void NextGoal(Robot robot)
    {
        if (robot.Goals.Count == 0 && _pickups.Length > 0)
        {
            if (DrawMission(Space.WaypointId(robot.Path[0])) is var (pickup, dropoff))
            {
                robot.Goals.Add(pickup);
                robot.Goals.Add(dropoff);
                robot.Delivering = true;
            }
            else
            {
                Unserved++;
            }
        }

        if (robot.Goals.Count == 0)
        {
            robot.Goal = -1;
            Controller.SetGoal(robot.Id, null);
            return;
        }

        robot.Goal = Space.IndexOf(robot.Goals[0]);
        robot.Goals.RemoveAt(0);
        robot.LastProgress = Now;
        robot.LastMoved = Now;
        Controller.SetGoal(robot.Id, Space.WaypointId(robot.Goal));
        robot.BestTime = Controller.TimeToGoal(robot.Id, Space.WaypointId(robot.Path[0]));
    }

    /// <summary>A random delivery the robot can drive (pickup reachable from where it stands, dropoff from the pickup); null after 200 draws without one.</summary>
    private (string Pickup, string Dropoff)? DrawMission(string from)
    {
        string WaypointOf(string location) => _map.Locations[location].WaypointId;
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var pickup = WaypointOf(_pickups[_random.Next(_pickups.Length)]);
            var dropoff = WaypointOf(_dropoffs[_random.Next(_dropoffs.Length)]);
            if (pickup != dropoff && pickup != from && double.IsFinite(Space.TravelTime(from, pickup)) && double.IsFinite(Space.TravelTime(pickup, dropoff)))
                return (pickup, dropoff);
        }

        return null;
    }

    /// <summary>Times a robot was left without a mission because no drawn delivery was drivable from where it stood.</summary>
    public int Unserved { get; private set; }

    private (double X, double Y, string Level) Position(Robot robot)
    {
        var a = _map.Waypoints[Space.WaypointId(robot.Path[0])];
        if (robot.Path.Count < 2 || robot.Progress <= 0)
            return (a.X, a.Y, a.LevelId);
        var b = _map.Waypoints[Space.WaypointId(robot.Path[1])];
        if (a.LevelId != b.LevelId)
            return (a.X, a.Y, a.LevelId); // riding a lift: in the cabin until it arrives
        return (a.X + ((b.X - a.X) * robot.Progress), a.Y + ((b.Y - a.Y) * robot.Progress), a.LevelId);
    }

    private void Observe()
    {
        var diameter = 2 * _settings.Radius;
        var cells = new Dictionary<(string, long, long), List<int>>();
        var positions = new (double X, double Y, string Level)[_robots.Count];
        for (var i = 0; i < _robots.Count; i++)
        {
            positions[i] = Position(_robots[i]);
            var key = (positions[i].Level, (long)Math.Floor(positions[i].X / diameter), (long)Math.Floor(positions[i].Y / diameter));
            (cells.TryGetValue(key, out var list) ? list : cells[key] = []).Add(i);
        }

        var touchingNow = new HashSet<(int, int)>();
        for (var i = 0; i < _robots.Count; i++)
        {
            var (x, y, level) = positions[i];
            var cx = (long)Math.Floor(x / diameter);
            var cy = (long)Math.Floor(y / diameter);
            for (var dx = -2; dx <= 2; dx++)
            {
                for (var dy = -2; dy <= 2; dy++)
                {
                    if (!cells.TryGetValue((level, cx + dx, cy + dy), out var list))
                        continue;
                    foreach (var j in list)
                    {
                        if (j <= i)
                            continue;
                        var d = Math.Sqrt(((positions[j].X - x) * (positions[j].X - x)) + ((positions[j].Y - y) * (positions[j].Y - y)));
                        MinSeparation = Math.Min(MinSeparation, d);
                        if (d >= diameter - 1e-6)
                            continue;
                        touchingNow.Add((i, j));
                        if (_touching.Contains((i, j)))
                            continue;
                        Collisions++;
                        if (CollisionNotes.Count < 10)
                        {
                            CollisionNotes.Add(string.Create(CultureInfo.InvariantCulture,
                                $"t={Now:F1} s {_robots[i].Id} (at {Space.WaypointId(_robots[i].Path[0])}) and {_robots[j].Id} (at {Space.WaypointId(_robots[j].Path[0])}) {d:F2} m apart"));
                            if (Environment.GetEnvironmentVariable("TRAFFICSIM_DEBUG") == "1")
                            {
                                foreach (var k in new[] { i, j })
                                    CollisionNotes.Add("  . " + Controller.Explain(_robots[k].Id) + " | sim path " + string.Join(" ", _robots[k].Path.Select(Space.WaypointId)) + $" progress {_robots[k].Progress:F2}");
                            }
                        }
                    }
                }
            }
        }

        _touching.Clear();
        _touching.UnionWith(touchingNow);

        foreach (var robot in _robots)
        {
            var stalled = robot.Goal >= 0 && Now - robot.LastProgress >= _settings.StallAfter.TotalSeconds;
            if (stalled && !robot.Stalled)
            {
                Stalls++;
                if (Stalls <= 10)
                {
                    StallNotes.Add(string.Create(CultureInfo.InvariantCulture, $"t={Now:F1} s {Controller.Explain(robot.Id)}"));
                    if (Environment.GetEnvironmentVariable("TRAFFICSIM_DEBUG") == "1")
                    {
                        foreach (var other in _robots)
                            StallNotes.Add("  . " + Controller.Explain(other.Id) + " | sim path " + string.Join(" ", other.Path.Select(Space.WaypointId)) + $" progress {other.Progress:F2}");
                    }
                }
            }

            robot.Stalled = stalled;
            var still = robot.Goal >= 0 && Now - robot.LastMoved >= _settings.StallAfter.TotalSeconds;
            if (still && !robot.Still)
                StoodStill++;
            robot.Still = still;
            if (robot.Goal >= 0)
                LongestStall = Math.Max(LongestStall, Now - robot.LastProgress);
        }
    }

    /// <summary>Robots still stalled now.</summary>
    public int StalledNow => _robots.Count(r => r.Stalled);

    /// <summary>Robots standing still now for the stall threshold or longer.</summary>
    public int StandingNow => _robots.Count(r => r.Still);

    /// <summary>A Markdown report of a random-mission run.</summary>
    public string Report(string command, TimeSpan wall, bool stoppedEarly)
    {
        var hours = Now / 3600;
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"## PIBT traffic controller: {_map.Id}, {SimSettings.RobotCount(_robots.Count)}, {Now / 60:0.##} simulated min{(stoppedEarly ? " (stopped early)" : "")}");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Command: `{command}`");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Site `{_map.Id}`: {_map.Waypoints.Count} waypoints, {_map.Lanes.Count - _settings.LastResortLanes.Count} directed lanes{_settings.OneWayLoopsText}{_settings.LoopFlowText(Controller.LoopFlowWeight, Space.LoopMetres, _loopFlowByDensity)}. Seed {_settings.Seed}, tick {_settings.Tick.TotalMilliseconds:F0} ms, speed {_settings.Speed} m/s, " +
            $"footprint radius {_settings.Radius} m, actions {_settings.ActionSeconds} s, door opening {_doorSeconds} s, stall threshold T = {_settings.StallAfter.TotalSeconds} s; " +
            $"jam fallback {(_jamAfterSeconds > 0 ? $"after {_jamAfterSeconds} s without progress" : "off")}{_jamSpares}; " +
            $"precedence {(_precedenceAfterSeconds > 0 ? $"after {_precedenceAfterSeconds} s without progress (at most {_precedenceShare:P0} of the fleet, at least one robot)" : "off")}; missions: {EndpointRule}.");
        text.AppendLine();
        text.AppendLine(StallDefinition);
        text.AppendLine();
        text.AppendLine(ControllerTableHeader);
        text.AppendLine(TableRow(wall));
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Robots drove {MetresDriven / 1000:F1} km; {Unserved} times a robot found no drivable delivery; {DoorWaits} door waits, {LiftRides} lift rides. Closest approach: {SimResult.ClosestApproachText(MinSeparation, _robots.Count, 4 * _settings.Radius)}. " +
            $"Missions per simulated hour: {(hours > 0 ? Completed / hours : 0):F0}.");
        foreach (var (title, notes) in new[] { ("Collisions as first seen", CollisionNotes), ("Stalls as first seen", StallNotes) })
        {
            if (notes.Count == 0)
                continue;
            text.AppendLine();
            text.AppendLine(title + ":");
            text.AppendLine();
            foreach (var note in notes)
                text.AppendLine("- " + note);
        }

        return text.ToString();
    }

    /// <summary>What the stall columns count, for reports.</summary>
    public const string StallDefinition =
        "A stall is a robot with a mission that comes no nearer its next stop (travel time to it) than it has been for T: " +
        "standing still, or pushed back and forth; longest stall in seconds. 'Stood still' counts only robots that did not move " +
        "at all for T (the narrow deadlock), a subset.";

    public const string ControllerTableHeader =
        "| site | robots | sim time | wall | step p50 ms | step p99 ms | step max ms | step CPU p50 / p99 ms | collisions | stalls >= T | stalled at end | longest stall s | stood still >= T | standing at end | completed | missions / sim h |\n" +
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

    public string TableRow(TimeSpan wall)
    {
        var w = StepWall;
        var c = StepCpu;
        var hours = Now / 3600;
        return string.Create(CultureInfo.InvariantCulture,
            $"| {_map.Id} | {_robots.Count} | {Now / 60:0.#} min | {wall.TotalSeconds:F0} s | {w.P50:F2} | {w.P99:F2} | {w.Max:F1} | {c.P50:F2} / {c.P99:F2} | {Collisions} | {Stalls} | {StalledNow} | {LongestStall:F0} | {StoodStill} | {StandingNow} | {Completed} | {(hours > 0 ? Completed / hours : 0):F0} |");
    }

    private sealed class Robot(string id, int start)
    {
        public string Id { get; } = id;
        public List<int> Path { get; } = [start];
        public double Progress { get; set; }
        public double DoorWaited { get; set; }
        public List<string> Goals { get; } = [];
        public List<string> GoalsReached { get; } = [];
        public int Goal { get; set; } = -1;
        public double ActionLeft { get; set; }
        public double LastProgress { get; set; }

        /// <summary>Last time it drove, waited at a door, worked or got a goal (nearer its goal or not).</summary>
        public double LastMoved { get; set; }

        public bool Still { get; set; }

        /// <summary>Lowest travel time to the goal, in seconds, of a waypoint reached since the goal was set.</summary>
        public double BestTime { get; set; } = double.PositiveInfinity;
        public bool Stalled { get; set; }
        public bool Delivering { get; set; }
    }
}

