using System.Diagnostics;
using System.Globalization;

namespace RobotFleet.TelemetryLoad;

/// <summary>
/// The simulated robots in a child process of their own (this program with <see cref="ChildVerb"/>), so that the measuring
/// process holds only the subscriber under test: its CPU time and its garbage collections are the subscriber's, not the
/// 1,000 publishing clients'. The parent writes <c>run SECONDS</c> lines to the child's stdin; the child answers
/// <c>done PUBLISHED FAILED BEHIND_TICKS ELAPSED_TICKS CPU_TICKS</c>. Not thread-safe: one phase at a time.
/// </summary>
internal sealed class PublisherProcess : IAsyncDisposable
{
    /// <summary>The first argument that makes this program the publishing child.</summary>
    public const string ChildVerb = "publisher-child";

    private readonly Process _process;
    private readonly Task<string> _stderr;

    private PublisherProcess(Process process)
    {
        _process = process;
        _stderr = process.StandardError.ReadToEndAsync();
    }

    /// <summary>Starts the child and waits until its clients are connected.</summary>
    /// <exception cref="MQTTnet.Exceptions.MqttCommunicationException">The child could not connect (its error output is in the message).</exception>
    public static async Task<PublisherProcess> StartAsync(Uri broker, int robots, int connections, string interfaceName, string manufacturer, int hz, double nodeSeconds,
        string runId, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(typeof(PublisherProcess).Assembly.Location)!;
        var appHost = Path.Combine(directory, OperatingSystem.IsWindows() ? "RobotFleet.TelemetryLoad.exe" : "RobotFleet.TelemetryLoad");
        var info = File.Exists(appHost) ? new ProcessStartInfo(appHost) : new ProcessStartInfo("dotnet") { ArgumentList = { "exec", Path.Combine(directory, "RobotFleet.TelemetryLoad.dll") } };
        info.RedirectStandardInput = true;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        foreach (var arg in new[]
                 {
                     ChildVerb, broker.ToString(), robots.ToString(CultureInfo.InvariantCulture), connections.ToString(CultureInfo.InvariantCulture), interfaceName, manufacturer,
                     hz.ToString(CultureInfo.InvariantCulture), nodeSeconds.ToString("R", CultureInfo.InvariantCulture), runId,
                 })
        {
            info.ArgumentList.Add(arg);
        }

        var child = new PublisherProcess(Process.Start(info) ?? throw new InvalidOperationException($"cannot start {info.FileName}"));
        var ready = await child._process.StandardOutput.ReadLineAsync(cancellationToken);
        if (ready != "ready")
        {
            await child._process.WaitForExitAsync(cancellationToken);
            var error = (await child._stderr).Trim();
            child._process.Dispose();
            throw new MQTTnet.Exceptions.MqttCommunicationException(error.Length > 0 ? error : $"the publishing process exited with {child._process.ExitCode}");
        }

        return child;
    }

    /// <summary>Publishes for <paramref name="duration"/>; returns what was sent and the child's CPU time meanwhile.</summary>
    public async Task<(PublishResult Published, TimeSpan Cpu)> RunAsync(TimeSpan duration, CancellationToken cancellationToken)
    {
        await _process.StandardInput.WriteLineAsync(FormattableString.Invariant($"run {duration.TotalSeconds:R}"));
        await _process.StandardInput.FlushAsync(cancellationToken);
        var line = await _process.StandardOutput.ReadLineAsync(cancellationToken);
        var parts = line?.Split(' ');
        if (parts is not ["done", _, _, _, _, _])
            throw new InvalidOperationException($"the publishing process answered '{line}': {(await _stderr).Trim()}");
        var n = parts.Skip(1).Select(p => long.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        return (new PublishResult(n[0], n[1], TimeSpan.FromTicks(n[2]), TimeSpan.FromTicks(n[3])), TimeSpan.FromTicks(n[4]));
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _process.StandardInput.WriteLineAsync("quit");
            await _process.StandardInput.FlushAsync();
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
        }
        catch (Exception e) when (e is IOException or TimeoutException or InvalidOperationException)
        {
            if (!_process.HasExited)
                _process.Kill();
        }

        _process.Dispose();
    }

    /// <summary>The child's side: connects, says <c>ready</c>, then runs each <c>run SECONDS</c> line until <c>quit</c> or end of input.</summary>
    public static async Task<int> ChildMainAsync(string[] args)
    {
        try
        {
            var broker = new Uri(args[1]);
            var robots = int.Parse(args[2], CultureInfo.InvariantCulture);
            var connections = int.Parse(args[3], CultureInfo.InvariantCulture);
            var hz = int.Parse(args[6], CultureInfo.InvariantCulture);
            var nodeSeconds = double.Parse(args[7], CultureInfo.InvariantCulture);
            await using var publisher = await FleetPublisher.ConnectAsync(broker, robots, connections, args[4], args[5], hz, nodeSeconds, args[8], CancellationToken.None);
            Console.Out.WriteLine("ready");
            Console.Out.Flush();
            while (Console.In.ReadLine() is { } line && line.StartsWith("run ", StringComparison.Ordinal))
            {
                var seconds = double.Parse(line[4..], CultureInfo.InvariantCulture);
                var cpuBefore = Cpu();
                var result = await publisher.RunAsync(TimeSpan.FromSeconds(seconds), CancellationToken.None);
                var cpu = Cpu() - cpuBefore;
                Console.Out.WriteLine(FormattableString.Invariant($"done {result.Published} {result.Failed} {result.MaxBehind.Ticks} {result.Elapsed.Ticks} {cpu.Ticks}"));
                Console.Out.Flush();
            }

            return 0;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine(e.Message);
            return 1;
        }
    }

    private static TimeSpan Cpu()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }
}
