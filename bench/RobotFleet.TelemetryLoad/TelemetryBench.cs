using System.Diagnostics;
using System.Globalization;
using System.Text;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using RobotFleet.Contracts;
using RobotFleet.Vda5050;

namespace RobotFleet.TelemetryLoad;

/// <summary>Settings of one bench run (validated by <see cref="Cli"/>).</summary>
internal sealed record BenchSettings
{
    public required Uri Broker { get; init; }

    public int Robots { get; init; } = 1000;

    public int Hz { get; init; } = 10;

    /// <summary>Length of each measured phase.</summary>
    public TimeSpan Phase { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>MQTT clients the robots share (robot i on client i mod connections).</summary>
    public int Connections { get; init; } = 1000;

    public int Rounds { get; init; } = 1;

    /// <summary>Each subscriber runs this long before the first round, not counted (JIT, first connections).</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Seconds between two waypoints reached (a significant change of the robot's state).</summary>
    public double NodeSeconds { get; init; } = 5;

    /// <summary>
    /// Each phase publishes this long after its subscriber started before it counts (not measured): the control plane's
    /// first state of each robot is a burst of events (robot online, state, node reached) that is start-up, not steady ingest.
    /// </summary>
    public TimeSpan LeadIn { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Print each phase's latency per second (count, p99, max) and GC figures.</summary>
    public bool Profile { get; init; }

    /// <summary>Progress lines go here; null: none.</summary>
    public TextWriter? Progress { get; init; }
}

/// <summary>The kinds of phase.</summary>
internal enum PhaseKind
{
    Baseline,
    ControlPlane,
}

/// <summary>What one phase measured.</summary>
internal sealed record PhaseResult(
    PhaseKind Kind,
    int Round,
    PublishResult Published,
    long Received,
    double ReceivedPerSecond,
    (double P50, double P99, double Max) Latency,
    TimeSpan Cpu,
    TimeSpan PublisherCpu,
    (double Start, double End) LoadAverage,
    long BusStates,
    (double P50, double P99, double Max) BusLatency,
    long BusNodeReached,
    long Unreadable,
    (int Gen0, int Gen1, int Gen2, TimeSpan Pause) Gc)
{
    /// <summary>Published but not received (QoS 0: dropped by a client or the broker).</summary>
    public long Lost => Published.Published - Received;

    /// <summary>This (the measuring) process's CPU over the publishing window, in cores (CPU seconds a wall second).</summary>
    public double Cores => Cpu.TotalSeconds / Published.Elapsed.TotalSeconds;

    /// <summary>The publishing process's CPU over the same window, in cores.</summary>
    public double PublisherCores => PublisherCpu.TotalSeconds / Published.Elapsed.TotalSeconds;

    /// <summary>This process's CPU time per message received, microseconds.</summary>
    public double CpuPerMessageMicroseconds => Received == 0 ? double.NaN : Cpu.TotalMilliseconds * 1000 / Received;
}

/// <summary>
/// The bench: simulated robots publish VDA 5050 state to an external broker while either the raw subscriber (baseline) or the
/// control plane (the real gateway + in-memory bus) takes it in, back to back in one invocation, alternating (round 1:
/// baseline then control plane; round 2 the other way round; ...). The robots publish from a child process
/// (<see cref="PublisherProcess"/>), so this process's CPU time and garbage collections are the subscriber's alone. The broker
/// is shared.
/// </summary>
internal static class TelemetryBench
{
    /// <summary>Runs the warm-up and the rounds; returns the counted phases in the order run.</summary>
    public static async Task<List<PhaseResult>> RunAsync(BenchSettings settings, CancellationToken cancellationToken)
    {
        var runId = Guid.NewGuid().ToString("N")[..8];
        var interfaceName = $"tlmbench{runId}"; // a topic tree of this run alone: other users of the broker are not disturbed
        var manufacturer = "telemetryload";
        var probe = new RobotId(manufacturer, "probe");
        var capacity = (int)Math.Min(50_000_000, settings.Robots * (long)settings.Hz * (long)Math.Ceiling(Math.Max(settings.Phase.TotalSeconds, settings.Warmup.TotalSeconds) + 30));
        settings.Progress?.WriteLine($"telemetryload: {settings.Robots} robots x {settings.Hz} Hz over {settings.Connections} MQTT connection(s) to {settings.Broker}, interface '{interfaceName}'");

        await using var publisher = await PublisherProcess.StartAsync(settings.Broker, settings.Robots, settings.Connections, interfaceName, manufacturer, settings.Hz,
            settings.NodeSeconds, runId, cancellationToken);
        using var probeClient = new MqttClientFactory().CreateMqttClient();
        await probeClient.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(settings.Broker.Host, Port(settings.Broker)).WithClientId($"telemetryload-{runId}-probe")
            .WithProtocolVersion(MqttProtocolVersion.V500).Build(), cancellationToken);
        var probeMessages = new StateMessages(manufacturer, settings.Hz, settings.NodeSeconds);
        var probeTopic = Vda5050Topics.Build(interfaceName, manufacturer, probe.SerialNumber, Vda5050Topic.State);
        long probeHeader = 0;
        Task PublishProbe() => probeClient.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(probeTopic)
            .WithPayload(probeMessages.Write(0, probe.SerialNumber, probeHeader++, DateTime.UtcNow - ControlPlaneSubscriber.ProbeAge)).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce).Build(), cancellationToken);

        var context = new PhaseContext(settings, publisher, interfaceName, runId, probe, PublishProbe, capacity);
        if (settings.Warmup > TimeSpan.Zero)
        {
            settings.Progress?.WriteLine($"warm-up: {settings.Warmup.TotalSeconds:F0} s of each subscriber, not counted");
            await RunPhaseAsync(context, PhaseKind.Baseline, 0, settings.Warmup, cancellationToken);
            await RunPhaseAsync(context, PhaseKind.ControlPlane, 0, settings.Warmup, cancellationToken);
        }

        var results = new List<PhaseResult>();
        for (var round = 1; round <= settings.Rounds; round++)
        {
            foreach (var kind in round % 2 == 1 ? new[] { PhaseKind.Baseline, PhaseKind.ControlPlane } : [PhaseKind.ControlPlane, PhaseKind.Baseline])
            {
                var result = await RunPhaseAsync(context, kind, round, settings.Phase, cancellationToken);
                results.Add(result);
                settings.Progress?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {round}, {Name(kind)}: published {result.Published.Published}, received {result.Received} ({result.ReceivedPerSecond:F0}/s), latency p50 {result.Latency.P50:F2} ms p99 {result.Latency.P99:F2} ms max {result.Latency.Max:F1} ms, CPU {result.Cores:F2} cores (publisher {result.PublisherCores:F2}), load {result.LoadAverage.End:F2}"));
            }
        }

        if (probeClient.IsConnected)
            await probeClient.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), CancellationToken.None);
        return results;
    }

    private sealed record PhaseContext(BenchSettings Settings, PublisherProcess Publisher, string InterfaceName, string RunId, RobotId Probe, Func<Task> PublishProbe, int Capacity);

    private static async Task<PhaseResult> RunPhaseAsync(PhaseContext context, PhaseKind kind, int round, TimeSpan duration, CancellationToken cancellationToken)
    {
        var recorder = new LatencyRecorder(context.Capacity);
        var busStates = new LatencyRecorder(context.Capacity);
        var bus = new BusRecorder { ProbeSerial = context.Probe.SerialNumber };
        BaselineSubscriber? baseline = null;
        ControlPlaneSubscriber? controlPlane = null;
        var clientId = $"telemetryload-{context.RunId}-{kind}-{round}".ToLowerInvariant();
        try
        {
            if (kind == PhaseKind.Baseline)
                baseline = await BaselineSubscriber.StartAsync(context.Settings.Broker, context.InterfaceName, clientId, recorder, cancellationToken);
            else if (kind == PhaseKind.ControlPlane)
                controlPlane = await ControlPlaneSubscriber.StartAsync(context.Settings.Broker, context.InterfaceName, clientId, context.Probe, context.PublishProbe, recorder, bus, cancellationToken);
            await Task.Delay(500, cancellationToken); // let the start settle: its CPU is not the phase's
            if (context.Settings.LeadIn > TimeSpan.Zero)
            {
                var (lead, _) = await context.Publisher.RunAsync(context.Settings.LeadIn, cancellationToken);
                await DrainAsync(recorder, lead.Published, cancellationToken);
                if (context.Settings.Profile)
                    context.Settings.Progress?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  lead-in of {Name(kind)} (not counted): {recorder.Count} of {lead.Published}, p99 {recorder.Summary().P99:F1} ms, max {recorder.Summary().Max:F1} ms"));
                recorder = new LatencyRecorder(context.Capacity);
                controlPlane?.RecordInto(recorder);
                baseline?.RecordInto(recorder);
            }

            bus.States = busStates;
            var gcBefore = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());
            var nodeReachedBefore = bus.NodeReached;
            var loadStart = LoadAverage();
            var cpuStart = ProcessCpu();
            var started = Stopwatch.GetTimestamp();
            var (published, publisherCpu) = await context.Publisher.RunAsync(duration, cancellationToken);
            var cpu = ProcessCpu() - cpuStart;
            var gc = (GC.CollectionCount(0) - gcBefore.Item1, GC.CollectionCount(1) - gcBefore.Item2, GC.CollectionCount(2) - gcBefore.Item3, GC.GetTotalPauseDuration() - gcBefore.Item4);
            var loadEnd = LoadAverage();
            await DrainAsync(recorder, published.Published, cancellationToken);
            bus.States = null;
            var received = recorder.Count;
            var rate = received == 0 ? 0 : received / Stopwatch.GetElapsedTime(started, Math.Max(recorder.LastAt, started + 1)).TotalSeconds;
            var phase = new PhaseResult(kind, round, published, received, rate, recorder.Summary(), cpu, publisherCpu, (loadStart, loadEnd), busStates.Count, busStates.Summary(),
                bus.NodeReached - nodeReachedBefore, baseline?.Unreadable ?? 0, gc);
            if (context.Settings.Profile && context.Settings.Progress is { } progress)
            {
                progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {Name(kind)}: GC gen0 {gc.Item1}, gen1 {gc.Item2}, gen2 {gc.Item3}, pauses {gc.Item4.TotalMilliseconds:F0} ms"));
                foreach (var (second, count, p99, max) in recorder.PerSecond(started))
                    progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  s{second,3}: {count,6} received, p99 {p99,7:F1} ms, max {max,7:F1} ms"));
            }

            return phase;
        }
        finally
        {
            if (baseline is not null)
                await baseline.DisposeAsync();
            if (controlPlane is not null)
                await controlPlane.DisposeAsync();
        }
    }

    /// <summary>Waits until every published message was received, or none came in for 2 s (lost), at most 30 s.</summary>
    private static async Task DrainAsync(LatencyRecorder recorder, long published, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + 30 * Stopwatch.Frequency;
        var last = recorder.Count;
        var lastChange = Stopwatch.GetTimestamp();
        while (recorder.Count < published && Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(20, cancellationToken);
            if (recorder.Count != last)
            {
                last = recorder.Count;
                lastChange = Stopwatch.GetTimestamp();
            }
            else if (Stopwatch.GetElapsedTime(lastChange) > TimeSpan.FromSeconds(2))
            {
                return;
            }
        }
    }

    /// <summary>The row name of a phase kind.</summary>
    public static string Name(PhaseKind kind) => kind switch
    {
        PhaseKind.Baseline => "raw MQTTnet subscriber (baseline)",
        _ => "control plane: gateway + in-memory bus",
    };

    private static int Port(Uri broker) => broker.Port > 0 ? broker.Port : 1883;

    private static TimeSpan ProcessCpu()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    /// <summary>The 1-minute load average, NaN where <c>/proc/loadavg</c> cannot be read.</summary>
    public static double LoadAverage()
    {
        try
        {
            var text = File.ReadAllText("/proc/loadavg");
            return double.Parse(text.Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return double.NaN;
        }
    }

    /// <summary>The report: settings, one row per phase, totals and the goals, as Markdown.</summary>
    public static string Report(BenchSettings settings, List<PhaseResult> results, string command, DateTime startedUtc)
    {
        var s = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        s.AppendLine(inv, $"## Telemetry ingest: {settings.Robots} robots x {settings.Hz} Hz through {settings.Broker}");
        s.AppendLine();
        s.AppendLine(inv, $"`{command}`");
        s.AppendLine();
        s.AppendLine(inv, $"Run {startedUtc:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores ({System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}); " +
                          $"{settings.Connections} publishing MQTT connection(s), {settings.Phase.TotalSeconds:F0} s a phase, {settings.Rounds} round(s), phases back to back, baseline and control plane alternating.");
        s.AppendLine();
        s.AppendLine("| round | phase | published | received | lost | received / s | latency p50 | p99 | max | CPU (cores) | CPU per message | GC gen0 / gen1 / gen2, pauses | publisher CPU (cores, own process) | load avg start / end |");
        s.AppendLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|");
        foreach (var r in results)
        {
            s.AppendLine(inv, $"| {r.Round} | {Name(r.Kind)} | {r.Published.Published} | {r.Received} | {r.Lost} | {r.ReceivedPerSecond:F0} | {Ms(r.Latency.P50)} | {Ms(r.Latency.P99)} | {Ms(r.Latency.Max)} | " +
                              $"{r.Cores:F2} | {r.CpuPerMessageMicroseconds:F1} µs | {r.Gc.Gen0} / {r.Gc.Gen1} / {r.Gc.Gen2}, {r.Gc.Pause.TotalMilliseconds:F0} ms | {r.PublisherCores:F2} | {r.LoadAverage.Start:F2} / {r.LoadAverage.End:F2} |");
        }

        s.AppendLine();
        var baseline = results.Where(r => r.Kind == PhaseKind.Baseline).ToList();
        var controlPlane = results.Where(r => r.Kind == PhaseKind.ControlPlane).ToList();
        if (baseline.Count > 0 && controlPlane.Count > 0)
        {
            var baseRate = baseline.Sum(r => r.Received) / baseline.Sum(r => r.Received / Math.Max(r.ReceivedPerSecond, 1e-9));
            var cpRate = controlPlane.Sum(r => r.Received) / controlPlane.Sum(r => r.Received / Math.Max(r.ReceivedPerSecond, 1e-9));
            var ratio = cpRate / baseRate;
            var cpP99 = controlPlane.Max(r => r.Latency.P99);
            s.AppendLine(inv, $"Control plane vs. baseline: {cpRate:F0} vs. {baseRate:F0} messages / s processed, ratio **{ratio:F2}** (goal >= 0.5: {(ratio >= 0.5 ? "met" : "NOT met")}); " +
                              $"control-plane p99 latency to the twin update, worst round: **{Ms(cpP99)}** (goal <= 50 ms: {(cpP99 <= 50 ? "met" : "NOT met")}); " +
                              $"lost: baseline {baseline.Sum(r => r.Lost)}, control plane {controlPlane.Sum(r => r.Lost)} of {baseline.Sum(r => r.Published.Published)} and {controlPlane.Sum(r => r.Published.Published)}.");
            s.AppendLine();
            foreach (var r in controlPlane)
            {
                s.AppendLine(inv, $"Round {r.Round}, control plane, on the bus: {r.BusStates} `RobotStateChanged` consumed by the coordinator stand-in ({r.BusStates / r.Published.Elapsed.TotalSeconds:F0} / s; published by the gateway only on a significant change or as the 2 s heartbeat), " +
                                  $"state timestamp to consumed p50 {Ms(r.BusLatency.P50)}, p99 {Ms(r.BusLatency.P99)}, max {Ms(r.BusLatency.Max)}; {r.BusNodeReached} `RobotNodeReached`.");
            }

            s.AppendLine();
        }

        var behind = results.Max(r => r.Published.MaxBehind);
        var failed = results.Sum(r => r.Published.Failed);
        var unreadable = results.Sum(r => r.Unreadable);
        s.AppendLine(inv, $"Publisher: latest message {behind.TotalMilliseconds:F1} ms behind its schedule; {failed} publishes failed; {unreadable} baseline messages without a readable stamp.");
        return s.ToString();
    }

    private static string Ms(double value) => double.IsNaN(value) ? "" : value.ToString(value < 10 ? "F2" : "F1", CultureInfo.InvariantCulture) + " ms";
}
