using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RobotFleet.ControlPlane;
using RobotFleet.ControlPlane.Missions;
using RobotFleet.Contracts;
using RobotFleet.Maps;
using RobotFleet.Planning;

namespace RobotFleet.TrafficSim;

/// <summary>Settings of one simulation run.</summary>
internal sealed record SimSettings
{
    /// <summary>A robot count in words for the reports: "1 robot", "5 robots".</summary>
    public static string RobotCount(int robots) => Count(robots, "robot");

    /// <summary>"1 pickup", "2 pickups": a count and a noun, plural unless one.</summary>
    public static string Count(int count, string noun) => count == 1 ? $"1 {noun}" : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{count} {noun}s");

    public int Robots { get; init; } = 10;

    /// <summary>Simulated time to run.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(10);

    public int Seed { get; init; } = 1;

    /// <summary>Fixed simulated time step: robots move, report, then the coordinator ticks.</summary>
    public TimeSpan Tick { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Robot speed, m/s (also the coordinator's assumed top speed).</summary>
    public double Speed { get; init; } = 1.0;

    /// <summary>Robot footprint radius, metres: two robots closer than twice this collide.</summary>
    public double Radius { get; init; } = 0.5;

    /// <summary>Seconds each action (pick, drop) takes at its waypoint.</summary>
    public double ActionSeconds { get; init; } = 5;

    /// <summary>A robot reports unchanged state at least this often (the gateway republishes every 2 s).</summary>
    public TimeSpan Heartbeat { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>A robot with an order that makes no progress for this long is counted as stalled (deadlocked).</summary>
    public TimeSpan StallAfter { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Unfinished missions kept open per robot (submitted as earlier ones finish).</summary>
    public double MissionsPerRobot { get; init; } = 1.0;

    /// <summary>Stop early (and say so) once this much wall-clock time has passed; null runs to the end.</summary>
    public TimeSpan? MaxWall { get; init; }

    /// <summary>The PIBT controller's <c>ResolveJamAfterSeconds</c> in the controller-alone simulation; null for its default.</summary>
    public double? JamAfterSeconds { get; init; }

    /// <summary>The PIBT controller's <c>PrecedenceAfterSeconds</c> in the controller-alone simulation; null for its default.</summary>
    public double? PrecedenceAfterSeconds { get; init; }

    /// <summary>The PIBT controller's <c>PrecedenceShare</c> (0..1) in the controller-alone simulation; null for its default.</summary>
    public double? PrecedenceShare { get; init; }

    /// <summary>The PIBT controller's <c>JamSparesAfterSeconds</c> in the controller-alone simulation; null for its default.</summary>
    public double? JamSparesAfterSeconds { get; init; }

    /// <summary>The PIBT controller's <c>JamLastResortAfterSeconds</c> in the controller-alone simulation; null for its default.</summary>
    public double? JamLastResortAfterSeconds { get; init; }

    /// <summary>The PIBT controller's <c>FarMoveWaitSeconds</c> in the controller-alone simulation; null for its default.</summary>
    public double? FarMoveWaitSeconds { get; init; }

    /// <summary>The PIBT controller's <c>JamSparesNotOnTwoWayLanes</c> in the controller-alone simulation; null for its default.</summary>
    public bool? JamSparesNotOnTwoWayLanes { get; init; }

    /// <summary>
    /// Robots drive and act this many times faster than the coordinator's clock (speed times it; actions, door openings and
    /// lift rides take their time divided by it), as the server's and edge agent's <c>--time-scale</c> make them (the integration tests run robots at 20 while the
    /// control plane's timers run in real seconds). 1: the same clock.
    /// </summary>
    public double TimeScale { get; init; } = 1;

    /// <summary>Whether the site's loops of two-way lanes are driven one way round (<c>--one-way-loops</c>: the coordinator's run drives the map passed through <see cref="Planning.OneWayLoops.Orient"/>, keeping the passing lanes; the controller alone gets the site as drawn with the lanes against the loops closed, as the control plane gives it).</summary>
    public bool OneWayLoops { get; init; }

    /// <summary>
    /// A fixed loop flow weight for the PIBT controller (<see cref="Planning.Traffic.PibtTrafficOptions.LoopFlowWeight"/>,
    /// <c>--loop-flow-weight K</c>), alone and in the coordinator (<see cref="RobotFleet.ControlPlane.ControlPlaneOptions.LoopFlowWeight"/>);
    /// null: by the fleet's density, both defaults (<c>--loop-flow-weight auto</c>). Not used with <see cref="OneWayLoops"/>,
    /// whose lanes against the loops are closed.
    /// </summary>
    public double? LoopFlowWeight { get; init; }

    /// <summary>
    /// The coordinator's ageing of the mission queue (<see cref="RobotFleet.ControlPlane.ControlPlaneOptions.QueueAgeingWeight"/>,
    /// <c>--queue-ageing A</c>: seconds of assignment cost per second a mission waited); null: the control plane's default.
    /// </summary>
    public double? QueueAgeingWeight { get; init; }

    /// <summary>
    /// The loop flow weight the coordinator's PIBT controller drives with, <see cref="Robots"/> robots on a site with
    /// <paramref name="loopMetres"/> metres of lane on loops (its progress is measured in the same travel times).
    /// </summary>
    public double CoordinatorLoopFlowWeight(double loopMetres) =>
        OneWayLoops ? 1 : LoopFlowWeight ?? Planning.Traffic.PibtTrafficController.LoopFlowWeightFor(Robots, loopMetres);

    /// <summary>
    /// What a report says after the lane count about the loop flow weight <paramref name="weight"/> the run drove with:
    /// empty without loops or with <see cref="OneWayLoops"/>.
    /// </summary>
    /// <param name="weight">The weight in force.</param>
    /// <param name="loopMetres">Metres of lane on the site's loops.</param>
    /// <param name="byDensity">Whether it was set by density (else given).</param>
    public string LoopFlowText(double weight, double loopMetres, bool byDensity) =>
        OneWayLoops || loopMetres == 0 ? ""
        : string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"; lanes against a loop's flow {(weight == 1 ? "are not weighted" : $"cost {weight:0.##} times their seconds")} in routing ({(byDensity ? $"by density: {RobotCount(Robots)} on {loopMetres:0} m of loop lanes" : "--loop-flow-weight")})");

    /// <summary>With <see cref="OneWayLoops"/>: how many lanes against the loops' direction the orientation closes (0: the map has no loop of two-way lanes); said in the reports.</summary>
    public int LanesAgainstLoops { get; init; }

    /// <summary>
    /// With <see cref="OneWayLoops"/>: the passing lanes among those (<see cref="Planning.OneWayLoopBlocks.Passing"/>), given
    /// to the controller alone as lanes only to make way; the coordinator finds them itself.
    /// </summary>
    public IReadOnlyCollection<string> PassingLanes { get; init; } = [];

    /// <summary>With <c>--one-way-loops</c>, the other lanes against the loops: the PIBT controller alone gets the site as drawn with these closed, and its jam fallback's last resort (<see cref="Planning.Traffic.PibtTrafficController.SetLastResortLanes"/>).</summary>
    public IReadOnlyCollection<string> LastResortLanes { get; init; } = [];

    /// <summary>
    /// These settings with the site's loops driven one way round (<see cref="OneWayLoops"/>), as <c>--one-way-loops</c> and the
    /// control plane drive them: the lanes against the loops of the site as drawn (<see cref="Planning.OneWayLoops.Blocks"/>),
    /// those at bridge mouths kept as <see cref="PassingLanes"/>, the rest <see cref="LastResortLanes"/>.
    /// </summary>
    /// <param name="drawn">The site as drawn (not oriented).</param>
    public SimSettings WithOneWayLoops(SiteMap drawn)
    {
        var blocks = Planning.OneWayLoops.Blocks(drawn);
        return this with
        {
            OneWayLoops = true,
            LanesAgainstLoops = blocks.Against.Count,
            PassingLanes = blocks.Passing,
            LastResortLanes = blocks.Against.Except(blocks.Passing, StringComparer.Ordinal).ToArray(),
        };
    }

    /// <summary>What the reports say after the lane count about <see cref="OneWayLoops"/>: empty when off.</summary>
    public string OneWayLoopsText => !OneWayLoops ? ""
        : LanesAgainstLoops > 0 ? $" (--one-way-loops: its loops driven one way round, {LanesAgainstLoops} lanes against them closed, {PassingLanes.Count} of them kept as passing lanes at bridge mouths, only to make way)"
        : " (--one-way-loops: no loop of two-way lanes, map unchanged)";

    /// <summary>Which traffic control the coordinator runs.</summary>
    public TrafficControl Traffic { get; init; } = TrafficControl.Reservation;

    /// <summary>Where progress lines go (every simulated minute); null for none.</summary>
    public TextWriter? Progress { get; init; }
}

/// <summary>
/// Drives the real <see cref="FleetCoordinator"/> in process on a MassTransit in-memory bus with simulated robots on a
/// manual clock, in fixed ticks; seeded and reproducible (apart from the measured wall-clock latencies).
/// Each tick: the clock moves on by one tick; every robot (in a fixed order) takes in the commands published for it, drives
/// and works for the tick and, when something changed or its heartbeat is due, reports its state to the coordinator; then
/// the coordinator ticks; then missions are topped up; then collisions, reservation conflicts and stalls are measured on
/// the robots' interpolated positions.
/// </summary>
internal sealed class TrafficSimulation : IAsyncDisposable
{
    private static readonly DateTimeOffset Epoch = new(2026, 1, 1, 8, 0, 0, TimeSpan.Zero);
    private readonly SiteMap _map;

    /// <summary>With <c>--one-way-loops</c>: the site as drawn; else null.</summary>
    private readonly SiteMap? _drawn;
    private string _loopFlowText = "";
    private readonly SimSettings _settings;
    private readonly ServiceProvider _services;
    private readonly IBusControl _bus;
    private readonly ManualClock _clock = new(Epoch);
    private readonly MissionStore _store = new();
    /// <summary>Completed missions' seconds from submission to first assignment (simulated clock).</summary>
    private readonly Latencies _queueWaits = new();
    /// <summary>Completed missions' seconds from submission to completion (simulated clock).</summary>
    private readonly Latencies _missionTimes = new();
    private readonly CountingLogger _log;
    private readonly FleetCoordinator _coordinator;
    private readonly List<SimulatedRobot> _robots = [];
    private readonly Dictionary<RobotId, SimulatedRobot> _byId = [];
    private readonly Random _random;
    private readonly DeadEndBranches _branches;
    private readonly List<string> _collisionNotes = [];
    private readonly List<string> _rejections = [];
    private readonly string[] _pickups;
    private readonly string[] _dropoffs;
    private readonly List<string> _open = [];
    private readonly HashSet<(int, int)> _touching = [];
    private readonly HashSet<(int, int)> _sharing = [];
    private readonly Dictionary<SimulatedRobot, DateTimeOffset> _stalled = [];
    private readonly Dictionary<SimulatedRobot, DateTimeOffset> _standing = [];
    private int _stoodStill;
    private readonly List<string> _stallNotes = [];
    private readonly List<string> _slowCalls = [];
    private const double SlowCallMs = 1000;
    private readonly Latencies _tickCalls = new();
    private readonly Latencies _stateCalls = new();
    private readonly Latencies _submitCalls = new();
    private readonly Latencies _perTick = new();
    private int _submitted;
    private int _completed;
    private int _failed;
    private int _cancelled;
    private int _rejected;
    private int _collisions;
    private int _holdConflicts;
    private int _stalls;
    private double _longestStall;
    private double _minSeparation = double.PositiveInfinity;
    private double _tickWall;
    private double _tickCpu;
    private readonly Latencies _perTickCpu = new();
    private (TimeSpan At, double Ms) _slowestTick;

    private TrafficSimulation(SiteMap map, SimSettings settings, ServiceProvider services, IBusControl bus, SiteMap? drawn)
    {
        _map = map;
        _drawn = drawn;
        _settings = settings;
        _services = services;
        _bus = bus;
        _random = new Random(settings.Seed);
        _branches = DeadEndBranches.Of(map);
        var options = new ControlPlaneOptions
        {
            // As the server does with --one-way-loops: the coordinator gets the map as drawn and keeps the lanes against the loops closed.
            Map = drawn ?? map,
            OneWayLoops = drawn is not null,
            RobotMaxSpeed = settings.Speed,
            TickInterval = settings.Tick,
            ParkIdleAfter = null,
            TrafficControl = settings.Traffic,
            FootprintRadius = settings.Radius,
            LoopFlowWeight = settings.LoopFlowWeight,
            QueueAgeingWeight = settings.QueueAgeingWeight ?? AssignmentPlannerOptions.DefaultQueueAgeingWeight,
        };
        _log = new CountingLogger(_clock);
        _coordinator = new FleetCoordinator(options, _store, bus, _clock, _log);
        (_pickups, _dropoffs, EndpointRule) = MissionEndpoints(map);
        bus.ConnectPublishObserver(new Mailroom(_byId));
    }

    /// <summary>Wall-clock time to start the bus and take in every robot's first state (before the first tick).</summary>
    public TimeSpan SetupTime { get; private set; }

    /// <summary>Which locations missions are drawn from (said in the report).</summary>
    public string EndpointRule { get; }

    public SiteMap Map => _map;

    /// <summary>Starts the bus, the coordinator and the robots on <paramref name="map"/>.</summary>
    /// <param name="map">The site the robots drive and the simulation measures on (with <c>--one-way-loops</c>, oriented).</param>
    /// <param name="settings">The run's settings.</param>
    /// <param name="drawn">With <c>--one-way-loops</c>: the site as drawn, given to the coordinator with <see cref="ControlPlaneOptions.OneWayLoops"/>; else null.</param>
    public static async Task<TrafficSimulation> StartAsync(SiteMap map, SimSettings settings, SiteMap? drawn = null)
    {
        if (settings.Robots < 1 || settings.Robots > map.Waypoints.Count)
            throw new SimConfigurationException("--robots", settings.Robots.ToString(System.Globalization.CultureInfo.InvariantCulture),
                $"must be within 1..{map.Waypoints.Count}: robots start on distinct waypoints and the site '{map.Id}' has {map.Waypoints.Count}");
        _ = MissionEndpoints(map); // refuses a site on which no mission can be drawn, before starting anything
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddMassTransit(bus => bus.UsingInMemory((context, config) => config.ConfigureEndpoints(context)));
        var provider = services.BuildServiceProvider(true);
        var bus = provider.GetRequiredService<IBusControl>();
        await bus.StartAsync(CancellationToken.None);
        var started = Stopwatch.StartNew();
        var simulation = new TrafficSimulation(map, settings, provider, bus, drawn);
        await simulation.PlaceRobotsAsync();
        simulation.SetupTime = started.Elapsed;
        return simulation;
    }

    /// <summary>Runs the whole simulated duration (or until <see cref="SimSettings.MaxWall"/>) and returns the figures.</summary>
    /// <remarks>A cancelled <paramref name="cancellation"/> (SIGTERM, Ctrl+C) stops the run after the current tick; the result then has
    /// <see cref="SimResult.StoppedEarly"/> set and the figures so far.</remarks>
    public async Task<SimResult> RunAsync(CancellationToken cancellation = default)
    {
        var wall = Stopwatch.StartNew();
        var ticks = (long)Math.Ceiling(_settings.Duration / _settings.Tick);
        var dt = _settings.Tick.TotalSeconds;
        var nextProgress = TimeSpan.FromMinutes(1);
        long tick = 0;
        var stoppedEarly = false;
        await TopUpMissionsAsync();
        for (; tick < ticks; tick++)
        {
            if (cancellation.IsCancellationRequested || (_settings.MaxWall is { } max && wall.Elapsed > max))
            {
                stoppedEarly = true;
                break;
            }

            _tickWall = 0;
            _tickCpu = 0;
            _clock.Advance(_settings.Tick);
            var now = _clock.GetUtcNow();
            foreach (var robot in _robots)
            {
                robot.Step(dt, now);
                if (robot.Dirty || now - robot.LastReport >= _settings.Heartbeat)
                    {
                    var state = robot.State(now);
                    await TimedAsync(_stateCalls, () => _coordinator.OnStateChangedAsync(state, CancellationToken.None));
                }
            }

            await TimedAsync(_tickCalls, () => _coordinator.TickAsync(CancellationToken.None));
            await TopUpMissionsAsync();
            _perTick.Add(_tickWall);
            _perTickCpu.Add(_tickCpu);
            if (_tickWall > _slowestTick.Ms)
                _slowestTick = (now - Epoch, _tickWall);
            Observe(now);
            if (_settings.Progress is { } progress && now - Epoch >= nextProgress)
            {
                nextProgress += TimeSpan.FromMinutes(1);
                progress.WriteLine($"[{_map.Id} {SimSettings.RobotCount(_robots.Count)}] sim {(now - Epoch):hh\\:mm\\:ss}, wall {wall.Elapsed.TotalSeconds:F0} s, " +
                                   $"completed {_completed}, open {_open.Count}, stalled now {_stalled.Count}, " +
                                   $"tick p50 {_perTick.Percentile(0.5):F1} ms");
            }
        }

        var end = _clock.GetUtcNow();
        var simulated = end - Epoch;
        var openWaits = _open.Select(_store.Find).OfType<MissionView>().Select(m => QueueWaitSeconds(m, end)).DefaultIfEmpty(0).Max();
        return new SimResult(
            _map.Id, _map.Waypoints.Count, _map.Lanes.Count, _robots.Count, _settings, tick, simulated, wall.Elapsed, stoppedEarly,
            _submitted, _completed, _failed, _cancelled, _rejected, _open.Count,
            _collisions, _minSeparation, _holdConflicts, _stalls,
            _stalled.Count, _longestStall, _stoodStill, _standing.Count,
            _robots.Sum(r => r.Refusals), _robots.Sum(r => r.Odometer),
            _perTick.Summary(), _tickCalls.Summary(), _stateCalls.Summary(), _submitCalls.Summary(),
            _log.Counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Take(12).ToList(),
            EndpointRule, Fingerprint(), _stallNotes, _slowestTick.At, SetupTime, _slowCalls, _collisionNotes, _rejections, _perTickCpu.Summary(), CpuClock.ProcessMilliseconds() / 1000)
        {
            LoopFlowText = _loopFlowText,
            QueueWait = _queueWaits.Summary(),
            MissionTime = _missionTimes.Summary(),
            LongestWaitOpenAtEnd = openWaits,
        };
    }

    /// <summary>
    /// Seconds from a mission's submission to its first assignment to a robot, or to <paramref name="until"/> when it was
    /// never assigned (simulated clock).
    /// </summary>
    private static double QueueWaitSeconds(MissionView mission, DateTimeOffset until)
    {
        var assigned = mission.History.FirstOrDefault(t => t.Fact == MissionFactKind.Assigned || (t.Fact is null && t.Status == MissionStatus.Assigned));
        return ((assigned?.Timestamp ?? until) - mission.CreatedAt).TotalSeconds;
    }

    /// <summary>Where every robot stands and what it runs: equal for equal seeds.</summary>
    public string Fingerprint()
    {
        var text = new System.Text.StringBuilder();
        foreach (var robot in _robots)
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{robot.At.Id}|{robot.LastSequenceId}|{robot.Odometer:F3};");
        text.Append(_completed);
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text.ToString())))[..12].ToLowerInvariant();
    }

    public async ValueTask DisposeAsync()
    {
        await _bus.StopAsync(CancellationToken.None);
        await _services.DisposeAsync();
    }

    private async Task PlaceRobotsAsync()
    {
        // Robots start at distinct waypoints: parking places first (where idle robots would be), then anywhere but a lift,
        // at least three footprint radii apart (closer, two robots would touch or could not drive off past each other: on
        // the office map 21 robots started 0.71 m apart, a collision at 00:00:00, and stood for good).
        var lifts = _map.Lifts.SelectMany(l => l.Stops).Select(s => s.WaypointId).ToHashSet(StringComparer.Ordinal);
        var parking = _map.Locations.Values.Where(l => l.Kinds.Contains(LocationKind.Parking)).Select(l => l.WaypointId)
            .Where(w => !lifts.Contains(w)).Distinct().Order(StringComparer.Ordinal).ToArray();
        var others = _map.Waypoints.Keys.Except(parking).Where(w => !lifts.Contains(w)).Order(StringComparer.Ordinal).ToArray();
        Shuffle(parking);
        Shuffle(others);
        var apart = 3 * _settings.Radius;
        var starts = new List<string>();
        foreach (var candidate in parking.Concat(others))
        {
            if (starts.Count == _settings.Robots)
                break;
            var c = _map.Waypoints[candidate];
            if (starts.Select(id => _map.Waypoints[id]).All(o => o.LevelId != c.LevelId || Math.Sqrt(((o.X - c.X) * (o.X - c.X)) + ((o.Y - c.Y) * (o.Y - c.Y))) >= apart))
                starts.Add(candidate);
        }

        if (starts.Count < _settings.Robots)
            throw new SimConfigurationException("--robots", _settings.Robots.ToString(System.Globalization.CultureInfo.InvariantCulture),
                $"only {starts.Count} robots fit on '{_map.Id}' {apart:0.##} m apart (three footprint radii) off the lifts");
        var now = _clock.GetUtcNow();
        // Travel times, for what counts as progress: on the loops driven one way without the passing lanes (only to make way).
        // As drawn, with the lanes against the loops' flow weighted as the coordinator's PIBT controller weighs them.
        var space = new RobotFleet.Planning.Traffic.TrafficSpace(_drawn is null ? _map : OneWayLoops.Orient(_drawn), _settings.Radius, _settings.Speed);
        var pibt = _settings.Traffic == TrafficControl.Pibt;
        var flowWeight = pibt ? _settings.CoordinatorLoopFlowWeight(space.LoopMetres) : 1;
        _loopFlowText = pibt ? _settings.LoopFlowText(flowWeight, space.LoopMetres, byDensity: _settings.LoopFlowWeight is null) : "";
        for (var i = 0; i < starts.Count; i++)
        {
            var robot = new SimulatedRobot(new RobotId("sim", $"r{i:0000}"), _map, _map.Waypoints[starts[i]], _settings.Speed * _settings.TimeScale,
                _settings.ActionSeconds / _settings.TimeScale, now, (from, to) => space.TravelTime(from, to, flowWeight), _settings.TimeScale);
            _robots.Add(robot);
            _byId[robot.Id] = robot;
        }

        foreach (var robot in _robots)
            await _coordinator.OnStateChangedAsync(robot.State(now), CancellationToken.None);
    }

    private async Task TopUpMissionsAsync()
    {
        _open.RemoveAll(id =>
        {
            var mission = _store.Find(id);
            if (mission is null || !mission.IsFinal)
                return false;
            switch (mission.Status)
            {
                case MissionStatus.Completed:
                    _completed++;
                    _queueWaits.Add(QueueWaitSeconds(mission, mission.UpdatedAt));
                    _missionTimes.Add((mission.UpdatedAt - mission.CreatedAt).TotalSeconds);
                    break;
                case MissionStatus.Failed: _failed++; break;
                default: _cancelled++; break;
            }

            return true;
        });

        var target = (int)Math.Round(_robots.Count * _settings.MissionsPerRobot);
        while (_open.Count < target)
        {
            var (pickup, dropoff) = DrawMission();
            var id = $"m{++_submitted:000000}";
            var cpu = CpuClock.ProcessMilliseconds();
            var started = Stopwatch.GetTimestamp();
            var reply = await _coordinator.SubmitAsync(new SubmitMission(id, MissionKind.Delivery, pickup, dropoff, 1, "traffic-sim"), CancellationToken.None);
            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            _tickCpu += CpuClock.ProcessMilliseconds() - cpu;
            _submitCalls.Add(ms);
            _tickWall += ms;
            if (reply is MissionAccepted)
                _open.Add(id);
            else
            {
                _rejected++;
                if (_rejections.Count < 5)
                    _rejections.Add($"{id} {pickup} -> {dropoff}: {reply}");
            }
            if (_rejected > 1000)
                throw new InvalidOperationException($"the coordinator rejects the missions: {reply}");
        }
    }

    private async Task TimedAsync(Latencies into, Func<Task> call)
    {
        _log.Recent.Clear();
        var cpu = CpuClock.ProcessMilliseconds();
        var started = Stopwatch.GetTimestamp();
        await call();
        var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var cpuMs = CpuClock.ProcessMilliseconds() - cpu;
        into.Add(ms);
        _tickCpu += cpuMs;
        if (ms >= SlowCallMs && _slowCalls.Count < 10)
            _slowCalls.Add($"{(_clock.GetUtcNow() - Epoch):hh\\:mm\\:ss} {(into == _tickCalls ? "TickAsync" : "OnStateChangedAsync")} {ms:F0} ms; logged meanwhile: " +
                           (_log.Recent.Count == 0 ? "nothing" : string.Join(" | ", _log.Recent.Take(6)) + (_log.Recent.Count > 6 ? $" | ... ({_log.Recent.Count} lines)" : "")));
        _tickWall += ms;
    }

    /// <summary>Collisions (footprints overlapping, counted once per encounter), reservation conflicts and stalls.</summary>
    private void Observe(DateTimeOffset now)
    {
        var limit = 2 * _settings.Radius;
        var cells = new Dictionary<(long, long), List<int>>();
        for (var i = 0; i < _robots.Count; i++)
        {
            var key = ((long)Math.Floor(_robots[i].X / limit), (long)Math.Floor(_robots[i].Y / limit));
            if (!cells.TryGetValue(key, out var list))
                cells[key] = list = [];
            list.Add(i);
        }

        var touching = new HashSet<(int, int)>();
        for (var i = 0; i < _robots.Count; i++)
        {
            var (a, cx, cy) = (_robots[i], (long)Math.Floor(_robots[i].X / limit), (long)Math.Floor(_robots[i].Y / limit));
            for (var dx = -1; dx <= 1; dx++)
            {
                for (var dy = -1; dy <= 1; dy++)
                {
                    if (!cells.TryGetValue((cx + dx, cy + dy), out var list))
                        continue;
                    foreach (var j in list)
                    {
                        if (j <= i || a.At.LevelId != _robots[j].At.LevelId)
                            continue;
                        var d = Math.Sqrt(((a.X - _robots[j].X) * (a.X - _robots[j].X)) + ((a.Y - _robots[j].Y) * (a.Y - _robots[j].Y)));
                        _minSeparation = Math.Min(_minSeparation, d);
                        if (d < limit)
                            touching.Add((i, j));
                    }
                }
            }
        }

        foreach (var (i, j) in touching.Where(p => !_touching.Contains(p)))
        {
            _collisions++;
            if (_collisionNotes.Count < 10)
            {
                var (a, b) = (_robots[i], _robots[j]);
                string Where(SimulatedRobot r) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"{r.Id.SerialNumber} at ({r.X:F2}, {r.Y:F2}) {(r.Target is { } t ? $"driving '{r.At.Id}' -> '{t}'" : $"standing on '{r.At.Id}'")}");
                var d = Math.Sqrt(((a.X - b.X) * (a.X - b.X)) + ((a.Y - b.Y) * (a.Y - b.Y)));
                _collisionNotes.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{(now - Epoch):hh\\:mm\\:ss} {d:F2} m apart: {Where(a)}; {Where(b)}"));
            }
        }

        _touching.Clear();
        _touching.UnionWith(touching);

        var holders = new Dictionary<string, int>(StringComparer.Ordinal);
        var sharing = new HashSet<(int, int)>();
        for (var i = 0; i < _robots.Count; i++)
        {
            foreach (var waypoint in _robots[i].HeldWaypoints)
            {
                if (holders.TryGetValue(waypoint, out var other))
                    sharing.Add((other, i));
                else
                    holders[waypoint] = i;
            }
        }

        _holdConflicts += sharing.Count(p => !_sharing.Contains(p));
        _sharing.Clear();
        _sharing.UnionWith(sharing);

        foreach (var robot in _robots)
        {
            if (!robot.Busy || now - robot.LastMoved < _settings.StallAfter)
                _standing.Remove(robot);
            else if (!_standing.TryGetValue(robot, out var since) || since != robot.LastMoved)
            {
                _stoodStill++;
                _standing[robot] = robot.LastMoved;
            }

            var stalledFor = robot.Busy ? now - robot.LastProgress : TimeSpan.Zero;
            if (stalledFor < _settings.StallAfter)
            {
                _stalled.Remove(robot);
                continue;
            }

            if (!_stalled.TryGetValue(robot, out var known) || known != robot.LastProgress)
            {
                _stalls++;
                _stalled[robot] = robot.LastProgress;
                if (_stallNotes.Count < 20)
                    _stallNotes.Add(DescribeStall(robot, now));
            }

            _longestStall = Math.Max(_longestStall, stalledFor.TotalSeconds);
        }
    }

    /// <summary>Where a stalled robot stands, what it waits for and who holds that.</summary>
    private string DescribeStall(SimulatedRobot robot, DateTimeOffset now)
    {
        var next = robot.NextWaypoint;
        var head = $"{(now - Epoch):hh\\:mm\\:ss} {robot.Id.SerialNumber} at '{robot.At.Id}', order '{robot.OrderId}', no progress since {(robot.LastProgress - Epoch):hh\\:mm\\:ss}; " +
                   $"next waypoint '{next}' ({(robot.NextReleased ? "released" : "not released")}), ";
        if (_settings.Traffic == TrafficControl.Pibt)
        {
            // The reservation rule's blocker does not apply: say what the PIBT controller last logged about the robot.
            return head + (_log.LastWait.TryGetValue(robot.Id.ToString(), out var wait) && wait.At >= robot.LastProgress
                ? $"logged at {(wait.At - Epoch):hh\\:mm\\:ss} {wait.Line}"
                : "the coordinator logged no wait of 30 s or more for it since its last progress (pushed about, on a detour, or waiting in shorter spells)");
        }

        var holds = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var other in _robots)
        {
            foreach (var w in other.HeldWaypoints)
                holds.TryAdd(w, other.Id.SerialNumber);
        }

        var (ahead, released) = robot.Route();
        var motion = new RobotMotion(robot.Id.SerialNumber, [robot.At.Id, .. ahead], released);
        var blockerKey = TrafficController.Blocker(motion, holds, _branches);
        var holder = blockerKey is null ? null : _robots.FirstOrDefault(r => r.Id.SerialNumber == blockerKey);
        var rule = holder is null ? "" : holder.HeldWaypoints.Contains(next ?? "") ? "holds that waypoint: " : "in the dead-end branch ahead or past the mouth (branch rule): ";
        var about = holder is null ? "no robot blocks it by the waypoint and branch rules" : $"blocker {holder.Id.SerialNumber} {rule}(at '{holder.At.Id}', order '{holder.OrderId}', {(holder.Busy ? "busy" : "idle")}, next '{holder.NextWaypoint}' {(holder.NextReleased ? "released" : "not released")}, holds {holder.HeldWaypoints.Count()} waypoints, last progress {(holder.LastProgress - Epoch):hh\\:mm\\:ss})";
        return head + about;
    }

    /// <summary>
    /// A pickup and a dropoff on different waypoints: random draws (a bounded number), then a random pickup that has a
    /// dropoff elsewhere and a random such dropoff. Always ends: <see cref="MissionEndpoints"/> made sure some pair exists.
    /// </summary>
    private (string Pickup, string Dropoff) DrawMission()
    {
        string WaypointOf(string location) => _map.Locations[location].WaypointId;
        for (var attempt = 0; attempt < MaxRandomDraws; attempt++)
        {
            var pickup = _pickups[_random.Next(_pickups.Length)];
            var dropoff = _dropoffs[_random.Next(_dropoffs.Length)];
            if (WaypointOf(pickup) != WaypointOf(dropoff))
                return (pickup, dropoff);
        }

        var pickups = _pickups.Where(p => _dropoffs.Any(d => WaypointOf(d) != WaypointOf(p))).ToArray();
        var from = pickups[_random.Next(pickups.Length)];
        var dropoffs = _dropoffs.Where(d => WaypointOf(d) != WaypointOf(from)).ToArray();
        return (from, dropoffs[_random.Next(dropoffs.Length)]);
    }

    private const int MaxRandomDraws = 64;

    private void Shuffle<T>(T[] items)
    {
        for (var i = items.Length - 1; i > 0; i--)
        {
            var j = _random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>
    /// Pickup and dropoff locations when the map has at least 4 of each; otherwise (e.g. the airport terminal, with one of
    /// each) any location that is no charger or lift, for both ends.
    /// </summary>
    /// <exception cref="SimConfigurationException">The site has fewer than 2 distinct waypoints to draw missions between.</exception>
    internal static (string[] Pickups, string[] Dropoffs, string Rule) MissionEndpoints(SiteMap map)
    {
        var (pickups, dropoffs, rule) = CandidateEndpoints(map);
        var ends = pickups.Concat(dropoffs).Select(l => map.Locations[l].WaypointId).Distinct(StringComparer.Ordinal).Count();
        var usable = pickups.Any(p => dropoffs.Any(d => map.Locations[d].WaypointId != map.Locations[p].WaypointId));
        if (!usable)
        {
            throw new SimConfigurationException("--site", map.Id,
                $"no mission can be drawn: missions need a pickup and a dropoff on 2 different waypoints, and the site '{map.Id}' has {ends} distinct usable " +
                $"pickup/dropoff waypoint{(ends == 1 ? "" : "s")} ({rule}; {map.Waypoints.Count} waypoints, {map.Locations.Count} locations); use a larger site");
        }

        return (pickups, dropoffs, rule);
    }

    private static (string[] Pickups, string[] Dropoffs, string Rule) CandidateEndpoints(SiteMap map)
    {
        string[] Of(LocationKind kind) => map.Locations.Values.Where(l => l.Kinds.Contains(kind)).Select(l => l.Name).Order(StringComparer.Ordinal).ToArray();
        var (pickups, dropoffs) = (Of(LocationKind.Pickup), Of(LocationKind.Dropoff));
        if (pickups.Length >= 4 && dropoffs.Length >= 4)
            return (pickups, dropoffs, $"pickup locations ({pickups.Length}) to dropoff locations ({dropoffs.Length})");
        var any = map.Locations.Values.Where(l => !l.Kinds.Contains(LocationKind.Charger) && !l.Kinds.Contains(LocationKind.Lift))
            .Select(l => l.Name).Order(StringComparer.Ordinal).ToArray();
        return (any, any, $"any location that is no charger or lift ({any.Length}), both ends (the map has {SimSettings.Count(pickups.Length, "pickup")}, {SimSettings.Count(dropoffs.Length, "dropoff")})");
    }

    /// <summary>Takes every command the coordinator publishes, in publish order, into its robot's inbox.</summary>
    private sealed class Mailroom(Dictionary<RobotId, SimulatedRobot> robots) : IPublishObserver
    {
        public Task PrePublish<T>(PublishContext<T> context) where T : class
        {
            switch (context.Message)
            {
                case DispatchRoute route when robots.TryGetValue(route.Robot, out var robot):
                    robot.Inbox.Enqueue(route);
                    break;
                case TriggerInstantActions instant when robots.TryGetValue(instant.Robot, out var robot):
                    robot.Inbox.Enqueue(instant);
                    break;
            }

            return Task.CompletedTask;
        }

        public Task PostPublish<T>(PublishContext<T> context) where T : class => Task.CompletedTask;

        public Task PublishFault<T>(PublishContext<T> context, Exception exception) where T : class => Task.CompletedTask;
    }
}

/// <summary>A setting or site the simulation cannot run with: <see cref="Option"/> and <see cref="Value"/> name the culprit.</summary>
internal sealed class SimConfigurationException(string option, string value, string problem)
    : Exception($"{option} {value}: {problem}")
{
    public string Option { get; } = option;

    public string Value { get; } = value;

    public string Problem { get; } = problem;
}

/// <summary>CPU time of the whole process (all threads), from <c>clock_gettime(CLOCK_PROCESS_CPUTIME_ID)</c>: unlike wall time, not inflated by other processes on a shared machine.</summary>
internal static partial class CpuClock
{
    private const int ProcessCpuTimeId = 2;

    public static double ProcessMilliseconds()
    {
        if (!OperatingSystem.IsLinux())
            return Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds;
        return ClockGetTime(ProcessCpuTimeId, out var t) == 0 ? (t.Seconds * 1000.0) + (t.Nanoseconds / 1e6) : 0;
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}

/// <summary>The simulated clock.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>Counts the coordinator's log lines (information and up) by message template: what traffic control did.</summary>
internal sealed class CountingLogger(TimeProvider clock) : ILogger<FleetCoordinator>
{
    public Dictionary<string, int> Counts { get; } = new(StringComparer.Ordinal);

    /// <summary>Lines logged since the harness last cleared this (it does before each timed call).</summary>
    public List<string> Recent { get; } = [];

    /// <summary>The last "Traffic: robot has waited" line of each robot (by the logged robot id) and when: the PIBT controller's reason.</summary>
    public Dictionary<string, (DateTimeOffset At, string Line)> LastWait { get; } = new(StringComparer.Ordinal);

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    /// <summary>Debugging aid: with <c>TRAFFICSIM_LOG=1</c> every line the coordinator logs (debug and up) goes to standard error with its simulated time.</summary>
    private static readonly bool LogAll = Environment.GetEnvironmentVariable("TRAFFICSIM_LOG") == "1";

    public bool IsEnabled(LogLevel logLevel) => logLevel >= (LogAll ? LogLevel.Debug : LogLevel.Information);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var template = state is IReadOnlyList<KeyValuePair<string, object?>> values
            ? values.FirstOrDefault(v => v.Key == "{OriginalFormat}").Value as string
            : null;
        var key = $"{logLevel}: {template ?? formatter(state, exception)}";
        if (Recent.Count < 50)
            Recent.Add(formatter(state, exception));
        if (template?.Contains("has waited", StringComparison.Ordinal) == true && state is IReadOnlyList<KeyValuePair<string, object?>> fields
            && fields.FirstOrDefault(v => v.Key == "Robot").Value?.ToString() is { } robot)
            LastWait[robot] = (clock.GetUtcNow(), formatter(state, exception));
        if (LogAll)
            Console.Error.WriteLine($"LOG {clock.GetUtcNow():HH:mm:ss.ff} {formatter(state, exception)}");
        if (Environment.GetEnvironmentVariable("TRAFFICSIM_DEBUG") == "1" && template?.Contains("has waited") == true)
            Console.Error.WriteLine("DBG " + formatter(state, exception));
        Counts[key] = Counts.GetValueOrDefault(key) + 1;
    }
}

/// <summary>Wall-clock durations in milliseconds.</summary>
internal sealed class Latencies
{
    private readonly List<double> _values = [];

    public void Add(double ms) => _values.Add(ms);

    public double Percentile(double p)
    {
        if (_values.Count == 0)
            return 0;
        var sorted = _values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    public LatencySummary Summary()
    {
        if (_values.Count == 0)
            return new LatencySummary(0, 0, 0, 0, 0, 0);
        var sorted = _values.Order().ToArray();
        double At(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
        return new LatencySummary(sorted.Length, At(0.5), At(0.99), sorted[^1], sorted.Average(), sorted.Sum());
    }
}

/// <summary>Count, p50, p99, max, mean and total of a series of durations: wall-clock milliseconds for the coordinator's calls, simulated seconds for mission waits (<see cref="SimResult.QueueWait"/>).</summary>
internal sealed record LatencySummary(int Count, double P50, double P99, double Max, double Mean, double Total);
