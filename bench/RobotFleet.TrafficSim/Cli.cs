using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using RobotFleet.ControlPlane;
using RobotFleet.Maps;
using RobotFleet.Maps.Generated;

namespace RobotFleet.TrafficSim;

/// <summary>
/// The command line. A wrong option or site prints one line <c>trafficsim: OPTION VALUE: problem</c> and exits with
/// <see cref="UsageError"/> (2); so does a command line that does not parse, one line per error, typo suggestions for an
/// unknown option indented below (<see cref="CommandLineUsage"/>); SIGINT/SIGTERM stop the run after the current tick, print the partial report and exit 130/143.
/// </summary>
internal static class Cli
{
    public const int UsageError = 2;
    public const int Interrupted = 130;
    public const int Terminated = 143;

    /// <param name="cancellation">Stops the run like a SIGTERM (exit code 143).</param>
    /// <param name="handleSignals">Take SIGINT and SIGTERM (the process's own; off in tests).</param>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellation, bool handleSignals = false)
    {
        var site = new Option<string>("--site") { Description = "warehouse:WxH (generated grid, e.g. warehouse:100x100), airport (maps/airport_terminal), office, hotel or clinic (maps/hotel, maps/clinic: the Open-RMF buildings read with their lifts and doors), a map directory holding site.geojson (else its one *.building.yaml), or an Open-RMF *.building.yaml file.", DefaultValueFactory = _ => "warehouse:100x100" };
        var robots = new Option<int>("--robots") { CustomParser = CommandLineUsage.WholeNumber, Description = "Simulated robots.", DefaultValueFactory = _ => 50 };
        var hours = new Option<double?>("--hours") { CustomParser = CommandLineUsage.NullableNumber, Description = "Simulated hours to run (default 0.1)." };
        var minutes = new Option<double?>("--minutes") { CustomParser = CommandLineUsage.NullableNumber, Description = "Simulated minutes to run (instead of --hours)." };
        var seed = new Option<int>("--seed") { CustomParser = CommandLineUsage.WholeNumber, Description = "Seed of the robots' start places and the missions (and of the generated grid).", DefaultValueFactory = _ => 1 };
        var tickMs = new Option<int>("--tick-ms") { CustomParser = CommandLineUsage.WholeNumber, Description = "Simulated milliseconds per tick; refused where a robot would drive farther than its footprint radius (--radius) in one, since collisions are measured at the end of each tick.", DefaultValueFactory = _ => 250 };
        var speed = new Option<double>("--speed") { CustomParser = CommandLineUsage.Number, Description = "Robot speed, m/s.", DefaultValueFactory = _ => 1.0 };
        var radius = new Option<double>("--radius") { CustomParser = CommandLineUsage.Number, Description = "Robot footprint radius, m (closer than twice this is a collision).", DefaultValueFactory = _ => 0.5 };
        var actionSeconds = new Option<double>("--action-s") { CustomParser = CommandLineUsage.Number, Description = "Seconds each pick or drop takes.", DefaultValueFactory = _ => 5 };
        var stallSeconds = new Option<double>("--stall-s") { CustomParser = CommandLineUsage.Number, Description = "A robot with an order that comes no nearer its next stop for this many simulated seconds counts as stalled (standing, or pushed back and forth); the reports count robots that did not move at all for it apart ('stood still').", DefaultValueFactory = _ => 120 };
        var heartbeat = new Option<double>("--heartbeat-s") { CustomParser = CommandLineUsage.Number, Description = "Robots report unchanged state at least this often, simulated seconds.", DefaultValueFactory = _ => 2 };
        var load = new Option<double>("--missions-per-robot") { CustomParser = CommandLineUsage.Number, Description = "With the coordinator: unfinished missions kept open per robot (the controller alone draws each robot's next mission itself).", DefaultValueFactory = _ => 1.0 };
        var maxWall = new Option<double?>("--max-wall-s") { CustomParser = CommandLineUsage.NullableNumber, Description = "Stop early after this many wall-clock seconds (the report says so)." };
        var output = new Option<FileInfo?>("--out") { Description = "Also write the report (Markdown) to this file." };
        var quiet = new Option<bool>("--quiet") { Description = "No progress lines." };
        var controller = new Option<string>("--controller") { Description = "coordinator: the real FleetCoordinator on an in-memory bus; pibt: the PIBT traffic controller (RobotFleet.Planning.Traffic) alone, with kinematic robots (doors, lifts).", DefaultValueFactory = _ => "coordinator" };
        controller.Validators.Add(r => { if (r.GetValueOrDefault<string>() is var v && v is not ("coordinator" or "pibt")) r.AddError($"--controller must be coordinator or pibt, not '{v}'"); });
        var traffic = new Option<string?>("--traffic") { Description = "The coordinator's traffic control (with --controller coordinator): reservation (this tool's default, as in results/traffic.md) or pibt (the server's default)." };
        traffic.Validators.Add(r => { if (r.GetValueOrDefault<string?>() is { } v && v is not ("reservation" or "pibt")) r.AddError($"--traffic must be reservation or pibt, not '{v}'"); });

        var jamAfter = new Option<double?>("--jam-after-s") { CustomParser = CommandLineUsage.NullableNumber, Description = "With --controller pibt: seconds a robot goes without progress before the PIBT controller's jam fallback searches for moves that free it (default 30; 0 turns the fallback off, for comparison)." };
        var precedenceAfter = new Option<double?>("--precedence-after-s") { CustomParser = CommandLineUsage.NullableNumber, Description = "With --controller pibt: seconds a robot goes without progress before it may take precedence over the other robots (the longest waiting, at most --precedence-share of the fleet; default 30; 0 turns precedence off, for comparison)." };
        var precedenceShare = new Option<double?>("--precedence-share") { CustomParser = CommandLineUsage.NullableNumber, Description = "With --controller pibt: the share of the fleet (0 to 1, at least one robot) that may hold precedence at once (default 0.05)." };
        var jamSparesAfter = new Option<double?>("--jam-spares-after-s") { CustomParser = CommandLineUsage.NullableNumber, Description = "With --controller pibt: seconds a robot goes without progress after which another robot's jam plan leaves it where it stands until that robot has gone 60 s without progress, or at once where the few robots standing round it (at most 5) are all held up and every lane there is two-way (default 10; 0 spares no robot, for comparison)." };
        var jamLastResortAfter = new Option<double?>("--jam-last-resort-after-s") { CustomParser = CommandLineUsage.NullableNumber, Description = "With --controller pibt: seconds a robot the jam fallback finds no plan for must have gone without progress before it searches once more with lift rides to make way open to the other robots, and (with --one-way-loops) stood still before it searches with the lanes against the loops open to them (PibtTrafficOptions.JamLastResortAfterSeconds; default 60; 0 turns both off, for comparison)." };
        var farMoveWait = new Option<double?>("--far-move-wait-s") { CustomParser = CommandLineUsage.NullableNumber, Description = "With --controller pibt: seconds a robot one move took 60 s or more further from its goal (pushed one lane past its goal's spur on a loop, say) waits, off the way, for jam plans that bring it back before it goes round (PibtTrafficOptions.FarMoveWaitSeconds; default 60; 0 turns it off, for comparison)." };
        var jamSparesTwoWay = new Option<bool>("--jam-spares-two-way") { Description = "With --controller pibt: spare robots held up themselves the full 60 s on two-way lanes too (PibtTrafficOptions.JamSparesNotOnTwoWayLanes off, the rule before 2026-12-01's eleventh session; for comparison)." };
        var loopFlowWeight = new Option<string?>("--loop-flow-weight") { Description = "With PIBT (--controller pibt or --traffic pibt), on sites as drawn: how many times its seconds a lane against its loop's flow (the way --one-way-loops would drive the loop) costs in routing, 1 to 100, or auto: by the fleet's density (PibtTrafficController.LoopFlowWeightFor). Default: auto, alone and through the coordinator (as the control plane); 1: every lane at its seconds." };
        var queueAgeing = new Option<double?>("--queue-ageing") { CustomParser = CommandLineUsage.NullableNumber, Description = "With the coordinator: seconds of assignment cost per second a mission has waited for a robot (ControlPlaneOptions.QueueAgeingWeight; default 0.1; 0: cheapest first, no ageing, for comparison)." };
        var oneWayLoops = new Option<bool>("--one-way-loops") { Description = "Drive every loop of two-way single lanes one way round (RobotFleet.Planning.OneWayLoops: Robbins' orientation; corridors that are the only way into a part of the map stay two-way)." };
        var timeScale = new Option<double?>("--time-scale") { CustomParser = CommandLineUsage.NullableNumber, Description = "With the coordinator: robots drive and act this many times faster than the coordinator's clock, like the server's and the edge agent's --time-scale (the integration tests run robots at 20); all other times (--minutes, --stall-s, --heartbeat-s, --tick-ms) are the coordinator's: give --stall-s 120/X to count stalls in the robots' time, and a --tick-ms short enough that a robot drives at most its footprint radius a tick (12 at 20). At most 1000; default 1." };
        var root = new RootCommand("Headless traffic simulation: N simulated robots doing random deliveries, driving the real FleetCoordinator on a MassTransit in-memory bus with a simulated clock.")
        {
            site, robots, hours, minutes, seed, tickMs, speed, radius, actionSeconds, stallSeconds, heartbeat, load, maxWall, output, quiet, controller, traffic, jamAfter, precedenceAfter, precedenceShare, jamSparesAfter, jamLastResortAfter, farMoveWait, jamSparesTwoWay, oneWayLoops, loopFlowWeight, timeScale, queueAgeing,
        };

        // Our own signal handling: System.CommandLine's ProcessTerminationHandler is switched off (ProcessTerminationTimeout
        // null); in 2.0.15 it completes its TaskCompletionSource twice when a SIGTERM and the process exit both reach it.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var signal = 0; // 0: none; else the exit code to use
        void Stop(int code)
        {
            Interlocked.CompareExchange(ref signal, code, 0);
            stop.Cancel(); // idempotent
        }

        using var linked = cancellation.Register(() => Stop(Terminated));
        var registrations = new List<PosixSignalRegistration>();
        if (handleSignals)
        {
            registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; Stop(Interrupted); }));
            registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; Stop(Terminated); }));
        }

        try
        {
            root.SetAction(async (result, token) =>
            {
                var started = DateTime.UtcNow;
                SimSettings settings;
                SiteMap map;
                SiteMap? drawn = null; // with --one-way-loops: the site as drawn, for the coordinator and the controller alone
                var siteSpec = result.GetValue(site)!;
                try
                {
                    // --loop-flow-weight: a weight from 1 to 100, or null for auto (by density).
                    double? LoopFlow(string value)
                    {
                        if (result.GetValue(controller) != "pibt" && result.GetValue(traffic) != "pibt")
                            throw new SimConfigurationException("--loop-flow-weight", value, "applies to PIBT only (--controller pibt or --traffic pibt)");
                        if (result.GetValue(oneWayLoops))
                            throw new SimConfigurationException("--loop-flow-weight", value, "does not go with --one-way-loops (the lanes against the loops are closed there)");
                        if (value.Equals("auto", StringComparison.OrdinalIgnoreCase))
                            return null;
                        var max = RobotFleet.Planning.Traffic.PibtTrafficController.MaxLoopFlowWeight;
                        return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var w) && w >= 1 && w <= max ? w
                            : throw new SimConfigurationException("--loop-flow-weight", value, $"must be auto or a factor from 1 to {Fmt(max)}");
                    }

                    var flow = result.GetValue(loopFlowWeight) is { } given ? LoopFlow(given) : null;
                    settings = new SimSettings
                    {
                        Robots = Positive("--robots", result.GetValue(robots)),
                        Duration = result.GetValue(minutes) is { } m
                            ? result.GetValue(hours) is { } h
                                ? throw new SimConfigurationException("--hours", Fmt(h), "give --hours or --minutes, not both")
                                : Duration("--minutes", m, TimeSpan.FromMinutes)
                            : Duration("--hours", result.GetValue(hours) ?? 0.1, TimeSpan.FromHours),
                        Seed = result.GetValue(seed),
                        Tick = TimeSpan.FromMilliseconds(Positive("--tick-ms", result.GetValue(tickMs))),
                        Speed = Positive("--speed", result.GetValue(speed)),
                        Radius = Positive("--radius", result.GetValue(radius)),
                        ActionSeconds = NonNegative("--action-s", result.GetValue(actionSeconds)),
                        StallAfter = Duration("--stall-s", result.GetValue(stallSeconds), TimeSpan.FromSeconds),
                        Heartbeat = Duration("--heartbeat-s", result.GetValue(heartbeat), TimeSpan.FromSeconds),
                        // The controller alone draws each robot's next mission itself: a load given with it would be ignored.
                        MissionsPerRobot = result.GetValue(controller) == "pibt" && result.GetResult(load) is { Implicit: false }
                            ? throw new SimConfigurationException("--missions-per-robot", Fmt(result.GetValue(load)), "applies to --controller coordinator only (the controller alone draws each robot's missions itself)")
                            : Positive("--missions-per-robot", result.GetValue(load)),
                        MaxWall = result.GetValue(maxWall) is { } w ? Duration("--max-wall-s", w, TimeSpan.FromSeconds) : null,
                        Progress = result.GetValue(quiet) ? null : stderr,
                        Traffic = result.GetValue(traffic) == "pibt" ? TrafficControl.Pibt : TrafficControl.Reservation,
                        OneWayLoops = result.GetValue(oneWayLoops),
                        LoopFlowWeight = flow,
                        QueueAgeingWeight = result.GetValue(queueAgeing) is { } qa
                            ? result.GetValue(controller) == "pibt"
                                ? throw new SimConfigurationException("--queue-ageing", Fmt(qa), "applies to --controller coordinator only (the controller alone assigns nothing)")
                                : qa is >= 0 and <= RobotFleet.Planning.AssignmentPlannerOptions.MaxQueueAgeingWeight ? qa
                                : throw new SimConfigurationException("--queue-ageing", Fmt(qa), $"must be from 0 to {Fmt(RobotFleet.Planning.AssignmentPlannerOptions.MaxQueueAgeingWeight)}")
                            : null,
                        TimeScale = result.GetValue(timeScale) is { } ts
                            ? result.GetValue(controller) == "pibt"
                                ? throw new SimConfigurationException("--time-scale", Fmt(ts), "applies to --controller coordinator only")
                                : !(ts > 0 && ts <= MaxTimeScale) ? throw new SimConfigurationException("--time-scale", Fmt(ts), $"must be a number above 0 and at most {MaxTimeScale}")
                                : ts
                            : 1,
                        JamAfterSeconds = result.GetValue(jamAfter) is { } j
                            ? result.GetValue(controller) != "pibt"
                                ? throw new SimConfigurationException("--jam-after-s", Fmt(j), "applies to --controller pibt only")
                                : !double.IsFinite(j) || j < 0 ? throw new SimConfigurationException("--jam-after-s", Fmt(j), "must be a number of seconds >= 0") : j
                            : null,
                        PrecedenceAfterSeconds = result.GetValue(precedenceAfter) is { } pa
                            ? result.GetValue(controller) != "pibt"
                                ? throw new SimConfigurationException("--precedence-after-s", Fmt(pa), "applies to --controller pibt only")
                                : !double.IsFinite(pa) || pa < 0 ? throw new SimConfigurationException("--precedence-after-s", Fmt(pa), "must be a number of seconds >= 0") : pa
                            : null,
                        PrecedenceShare = result.GetValue(precedenceShare) is { } ps
                            ? result.GetValue(controller) != "pibt"
                                ? throw new SimConfigurationException("--precedence-share", Fmt(ps), "applies to --controller pibt only")
                                : !(ps >= 0 && ps <= 1) ? throw new SimConfigurationException("--precedence-share", Fmt(ps), "must be a share from 0 to 1") : ps
                            : null,
                        JamSparesAfterSeconds = result.GetValue(jamSparesAfter) is { } js
                            ? result.GetValue(controller) != "pibt"
                                ? throw new SimConfigurationException("--jam-spares-after-s", Fmt(js), "applies to --controller pibt only")
                                : !double.IsFinite(js) || js < 0 ? throw new SimConfigurationException("--jam-spares-after-s", Fmt(js), "must be a number of seconds >= 0") : js
                            : null,
                        JamLastResortAfterSeconds = result.GetValue(jamLastResortAfter) is { } lr
                            ? result.GetValue(controller) != "pibt"
                                ? throw new SimConfigurationException("--jam-last-resort-after-s", Fmt(lr), "applies to --controller pibt only")
                                : !double.IsFinite(lr) || lr < 0 ? throw new SimConfigurationException("--jam-last-resort-after-s", Fmt(lr), "must be a number of seconds >= 0") : lr
                            : null,
                        FarMoveWaitSeconds = result.GetValue(farMoveWait) is { } fw
                            ? result.GetValue(controller) != "pibt"
                                ? throw new SimConfigurationException("--far-move-wait-s", Fmt(fw), "applies to --controller pibt only")
                                : !double.IsFinite(fw) || fw < 0 || fw > 3600 ? throw new SimConfigurationException("--far-move-wait-s", Fmt(fw), "must be a number of seconds from 0 to 3600") : fw
                            : null,
                        JamSparesNotOnTwoWayLanes = result.GetValue(jamSparesTwoWay)
                            ? result.GetValue(controller) != "pibt"
                                ? throw new SimConfigurationException("--jam-spares-two-way", "true", "applies to --controller pibt only")
                                : false
                            : null,
                    };
                    // Collisions are measured at the end of each tick: a robot driving farther than its footprint radius in one
                    // could pass through another unseen (the defaults drive 0.25 m a tick). Checked at any time scale (regression:
                    // the new-user check ran --tick-ms 100000 at --time-scale 1 and got a row of results, 0 collisions).
                    var metresPerTick = settings.Speed * settings.TimeScale * settings.Tick.TotalSeconds;
                    if (metresPerTick > settings.Radius)
                        throw new SimConfigurationException("--tick-ms", Fmt(settings.Tick.TotalMilliseconds),
                            $"{(settings.TimeScale != 1 ? $"at --time-scale {Fmt(settings.TimeScale)} " : "")}a robot drives {Fmt(metresPerTick)} m a tick{(settings.TimeScale == 1 ? $" at {Fmt(settings.Speed)} m/s" : "")}, more than its footprint radius ({Fmt(settings.Radius)} m), so collisions could go unseen; give --tick-ms {Fmt(Math.Floor(1000 * settings.Radius / (settings.Speed * settings.TimeScale)))} or less");
                    if (settings.Duration < settings.Tick)
                        throw new SimConfigurationException(result.GetValue(minutes) is null ? "--hours" : "--minutes", Fmt(result.GetValue(minutes) ?? result.GetValue(hours) ?? 0.1),
                            $"shorter than one tick ({Fmt(settings.Tick.TotalMilliseconds)} ms): nothing would be simulated");
                    if (settings.Duration / settings.Tick > int.MaxValue)
                        throw new SimConfigurationException(result.GetValue(minutes) is null ? "--hours" : "--minutes", Fmt(settings.Duration.TotalMinutes) + " min",
                            $"too many ticks of {settings.Tick.TotalMilliseconds:F0} ms (more than {int.MaxValue})");
                    map = Sites.Load(siteSpec, settings.Seed);
                    if (settings.OneWayLoops)
                    {
                        drawn = map;
                        settings = settings.WithOneWayLoops(map);
                        map = RobotFleet.Planning.OneWayLoops.Orient(map, keepPassing: true);
                    }
                }
                catch (SimConfigurationException e)
                {
                    await stderr.WriteLineAsync($"trafficsim: {e.Message}");
                    return UsageError;
                }

                if (result.GetValue(controller) == "pibt" && result.GetValue(traffic) is { } ignored)
                {
                    await stderr.WriteLineAsync($"trafficsim: --traffic {ignored}: applies to --controller coordinator (with --controller pibt the PIBT controller runs alone)");
                    return UsageError;
                }

                // The controller alone gets the site as drawn, the lanes against the loops closed, as the control plane gives it.
                if (result.GetValue(controller) == "pibt")
                    return await RunControllerAsync(drawn ?? map, settings, siteSpec, args, started, stdout, stderr, result.GetValue(output), () => signal, token);

                TrafficSimulation simulation;
                try
                {
                    simulation = await TrafficSimulation.StartAsync(map, settings, drawn);
                }
                catch (SimConfigurationException e)
                {
                    var value = e.Option == "--site" ? siteSpec : e.Value;
                    await stderr.WriteLineAsync($"trafficsim: {e.Option} {value}: {e.Problem}");
                    return UsageError;
                }

                SimResult outcome;
                await using (simulation)
                    outcome = await simulation.RunAsync(token);
                var command = "dotnet run -c Release --project bench/RobotFleet.TrafficSim -- " + string.Join(' ', args);
                var report = outcome.ToMarkdown(command) + Environment.NewLine +
                             string.Create(CultureInfo.InvariantCulture, $"Run {started:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores ({RuntimeInformation.OSDescription}, .NET {Environment.Version}).") + Environment.NewLine;
                if (signal != 0)
                {
                    report += string.Create(CultureInfo.InvariantCulture,
                        $"Stopped by {(signal == Interrupted ? "SIGINT (Ctrl+C)" : "SIGTERM")} after {outcome.Simulated:hh\\:mm\\:ss} simulated of {settings.Duration:hh\\:mm\\:ss}: partial results.") + Environment.NewLine;
                }

                await stdout.WriteLineAsync(report);
                if (result.GetValue(output) is { } file)
                    await File.WriteAllTextAsync(file.FullName, report, CancellationToken.None);
                if (signal != 0)
                    await stderr.WriteLineAsync($"trafficsim: stopped by {(signal == Interrupted ? "SIGINT" : "SIGTERM")}; partial results printed");
                return signal != 0 ? signal : 0;
            });

            // Parse errors as the other programs refuse them (one line each, typo suggestions below), with this tool's exit code.
            var config = new InvocationConfiguration { ProcessTerminationTimeout = null, Output = stdout, Error = stderr };
            return await CommandLineUsage.InvokeAsync(root.Parse(args), "trafficsim", config, stop.Token, UsageError);
        }
        finally
        {
            foreach (var registration in registrations)
                registration.Dispose();
        }
    }

    private static string Fmt(double value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Runs <see cref="ControllerSimulation"/> with random deliveries for the settings' duration (or until stopped).</summary>
    private static async Task<int> RunControllerAsync(SiteMap map, SimSettings settings, string siteSpec, string[] args, DateTime started, TextWriter stdout, TextWriter stderr,
        FileInfo? output, Func<int> signal, CancellationToken token)
    {
        ControllerSimulation simulation;
        try
        {
            simulation = new ControllerSimulation(map, settings, randomMissions: true);
            simulation.AddRandomRobots(settings.Robots);
        }
        catch (SimConfigurationException e)
        {
            var value = e.Option == "--site" ? siteSpec : e.Value;
            await stderr.WriteLineAsync($"trafficsim: {e.Option} {value}: {e.Problem}");
            return UsageError;
        }

        var wall = System.Diagnostics.Stopwatch.StartNew();
        var stoppedEarly = false;
        var nextProgress = 60.0;
        while (simulation.Now < settings.Duration.TotalSeconds - 1e-9)
        {
            if (token.IsCancellationRequested || (settings.MaxWall is { } max && wall.Elapsed > max))
            {
                stoppedEarly = true;
                break;
            }

            simulation.Tick();
            if (settings.Progress is { } progress && simulation.Now >= nextProgress)
            {
                nextProgress += 60;
                await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"[pibt {map.Id} {SimSettings.RobotCount(settings.Robots)}] sim {simulation.Now / 60:F0} min, wall {wall.Elapsed.TotalSeconds:F0} s, completed {simulation.Completed}, collisions {simulation.Collisions}, stalls {simulation.Stalls}, stalled now {simulation.StalledNow}, step p99 {simulation.StepWall.P99:F2} ms"));
            }
        }

        var command = "dotnet run -c Release --project bench/RobotFleet.TrafficSim -- " + string.Join(' ', args);
        var report = simulation.Report(command, wall.Elapsed, stoppedEarly) + Environment.NewLine +
                     string.Create(CultureInfo.InvariantCulture, $"Run {started:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores ({RuntimeInformation.OSDescription}, .NET {Environment.Version}).") + Environment.NewLine;
        await stdout.WriteLineAsync(report);
        if (output is not null)
            await File.WriteAllTextAsync(output.FullName, report, CancellationToken.None);
        return signal() != 0 ? signal() : 0;
    }

    /// <summary>Largest <c>--time-scale</c> taken (the edge agent's simulated robots are run at 10 to 20).</summary>
    private const double MaxTimeScale = 1000;

    private static int Positive(string option, int value) =>
        value > 0 ? value : throw new SimConfigurationException(option, value.ToString(CultureInfo.InvariantCulture), "must be > 0");

    private static double Positive(string option, double value) =>
        double.IsFinite(value) && value > 0 ? value : throw new SimConfigurationException(option, Fmt(value), "must be a finite number > 0");

    private static double NonNegative(string option, double value) =>
        double.IsFinite(value) && value >= 0 ? value : throw new SimConfigurationException(option, Fmt(value), "must be a finite number >= 0");

    private static TimeSpan Duration(string option, double value, Func<double, TimeSpan> of)
    {
        Positive(option, value);
        try
        {
            var span = of(value);
            return span > TimeSpan.Zero ? span : throw new SimConfigurationException(option, Fmt(value), "must be > 0 (rounds to nothing)");
        }
        catch (OverflowException)
        {
            throw new SimConfigurationException(option, Fmt(value), "too large");
        }
    }
}

/// <summary>Turns a <c>--site</c> value into a map.</summary>
internal static partial class Sites
{
    /// <summary>The most cells of a generated grid (memory).</summary>
    public const long MaxGridCells = 1_000_000;

    /// <exception cref="SimConfigurationException">The spec names no loadable site (the message says why and what is expected).</exception>
    public static SiteMap Load(string spec, int seed)
    {
        if (spec.StartsWith("warehouse:", StringComparison.OrdinalIgnoreCase))
        {
            var match = WarehouseSpec().Match(spec);
            if (!match.Success)
                throw new SimConfigurationException("--site", spec, "the format is warehouse:WxH with whole numbers W and H >= 2, e.g. warehouse:100x100");
            if (!int.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var width) ||
                !int.TryParse(match.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var height) ||
                width < 2 || height < 2 || (long)width * height > MaxGridCells)
            {
                throw new SimConfigurationException("--site", spec, $"width and height must be >= 2 and width x height at most {MaxGridCells:N0} cells (warehouse:WxH, e.g. warehouse:100x100)");
            }

            try
            {
                return WarehouseGrid.Generate(new WarehouseGridOptions { Width = width, Height = height, Seed = seed });
            }
            catch (ArgumentException e)
            {
                throw new SimConfigurationException("--site", spec, e.Message);
            }
        }

        var dir = spec switch
        {
            "airport" => Path.Combine(RepoRoot(spec), "maps", "airport_terminal"),
            "office" => Path.Combine(RepoRoot(spec), "maps", "office"),
            "hotel" => Path.Combine(RepoRoot(spec), "maps", "hotel"),
            "clinic" => Path.Combine(RepoRoot(spec), "maps", "clinic"),
            _ => spec,
        };
        string file;
        if (Directory.Exists(dir))
        {
            file = Path.Combine(dir, "site.geojson");
            if (!File.Exists(file))
            {
                // An Open-RMF building is read as it is, lifts and doors included (the GeoJSON file holds neither yet).
                var buildings = Directory.GetFiles(dir, "*.building.yaml");
                if (buildings.Length != 1)
                {
                    throw new SimConfigurationException("--site", spec,
                        $"the directory '{dir}' holds no site.geojson and {(buildings.Length == 0 ? "no" : "more than one")} *.building.yaml; pass a map directory or one Open-RMF building file");
                }

                file = buildings[0];
            }
        }
        else if (File.Exists(dir))
            file = dir;
        else
        {
            throw new SimConfigurationException("--site", spec,
                "no such site: expected warehouse:WxH (e.g. warehouse:100x100), airport, office, hotel, clinic, a map directory holding site.geojson, or an Open-RMF *.building.yaml");
        }

        try
        {
            return file.EndsWith(".building.yaml", StringComparison.OrdinalIgnoreCase) ? RmfBuildingImporter.Import(file) : SiteMapGeoJson.Load(file);
        }
        catch (Exception e) when (e is SiteMapValidationException or IOException or UnauthorizedAccessException or System.Text.Json.JsonException or FormatException)
        {
            throw new SimConfigurationException("--site", spec, $"cannot load '{file}': {OneLine(e.Message)}");
        }
    }

    private static string OneLine(string text) => string.Join(' ', text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static string RepoRoot(string spec)
    {
        try
        {
            return RepoRoot();
        }
        catch (InvalidOperationException e)
        {
            throw new SimConfigurationException("--site", spec, e.Message);
        }
    }

    /// <summary>The folder holding RobotFleet.sln, above the program or the current directory.</summary>
    public static string RepoRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "RobotFleet.sln")))
                    return dir.FullName;
            }
        }

        throw new InvalidOperationException("No RobotFleet.sln above the current directory or the program (airport and office are the repository's maps/).");
    }

    [GeneratedRegex(@"^warehouse:(\d+)x(\d+)$", RegexOptions.IgnoreCase)]
    private static partial Regex WarehouseSpec();
}
