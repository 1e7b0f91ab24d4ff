using System.Diagnostics;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using RobotFleet.Vda5050;

namespace RobotFleet.TelemetryLoad;

/// <summary>What one publishing phase sent.</summary>
/// <param name="Published">State messages handed to the MQTT clients.</param>
/// <param name="Failed">Publishes that threw (client disconnected); not counted in <paramref name="Published"/>.</param>
/// <param name="MaxBehind">Longest a message went out after its scheduled time (the publisher starved of CPU).</param>
/// <param name="Elapsed">Wall time of the phase, from the first scheduled message to the last publish.</param>
internal sealed record PublishResult(long Published, long Failed, TimeSpan MaxBehind, TimeSpan Elapsed);

/// <summary>
/// The simulated robots: <c>robots</c> VDA 5050 robots publishing <c>state</c> at <c>hz</c> (QoS 0, as VDA 5050 says) over
/// <c>connections</c> MQTT clients (robot i on client i mod connections; one client per robot by default, as real robots
/// connect). Sends are spread evenly over each period (robot i at i/robots of it), so the broker sees a steady
/// robots x hz messages a second rather than bursts. Header ids count per robot across phases. Not thread-safe: one phase at a
/// time.
/// </summary>
internal sealed class FleetPublisher : IAsyncDisposable
{
    private readonly IMqttClient[] _clients;
    private readonly string[] _serials;
    private readonly string[] _topics;
    private readonly long[] _headerIds;
    private readonly string _manufacturer;
    private readonly int _hz;
    private readonly double _nodeSeconds;

    private FleetPublisher(int robots, int connections, string interfaceName, string manufacturer, int hz, double nodeSeconds)
    {
        _clients = new IMqttClient[connections];
        _serials = Enumerable.Range(0, robots).Select(StateMessages.Serial).ToArray();
        _topics = _serials.Select(s => Vda5050Topics.Build(interfaceName, manufacturer, s, Vda5050Topic.State)).ToArray();
        _headerIds = new long[robots];
        _manufacturer = manufacturer;
        _hz = hz;
        _nodeSeconds = nodeSeconds;
    }

    /// <summary>Robots simulated.</summary>
    public int Robots => _serials.Length;

    /// <summary>Connects the clients (32 at a time).</summary>
    /// <exception cref="MQTTnet.Exceptions.MqttCommunicationException">The broker cannot be reached.</exception>
    public static async Task<FleetPublisher> ConnectAsync(Uri broker, int robots, int connections, string interfaceName, string manufacturer, int hz,
        double nodeSeconds, string runId, CancellationToken cancellationToken)
    {
        var publisher = new FleetPublisher(robots, connections, interfaceName, manufacturer, hz, nodeSeconds);
        var factory = new MqttClientFactory();
        for (var c = 0; c < connections; c++)
            publisher._clients[c] = factory.CreateMqttClient();
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, connections), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken },
                async (c, ct) => await publisher._clients[c].ConnectAsync(new MqttClientOptionsBuilder()
                    .WithTcpServer(broker.Host, broker.Port > 0 ? broker.Port : 1883)
                    .WithClientId($"telemetryload-{runId}-pub{c}")
                    .WithProtocolVersion(MqttProtocolVersion.V500)
                    .WithCleanSession(true)
                    .WithKeepAlivePeriod(TimeSpan.FromSeconds(30))
                    .Build(), ct));
        }
        catch
        {
            await publisher.DisposeAsync();
            throw;
        }

        return publisher;
    }

    /// <summary>Publishes every robot's state at the set rate for <paramref name="duration"/>.</summary>
    public async Task<PublishResult> RunAsync(TimeSpan duration, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 100; // 10 ms from now: every client starts on time
        var end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var results = await Task.WhenAll(Enumerable.Range(0, _clients.Length).Select(c => Task.Run(() => RunClientAsync(c, start, end, cancellationToken), cancellationToken)));
        return new PublishResult(results.Sum(r => r.Published), results.Sum(r => r.Failed), results.Max(r => r.MaxBehind),
            Stopwatch.GetElapsedTime(start, Math.Max(start, results.Max(r => r.LastAt))));
    }

    private async Task<(long Published, long Failed, TimeSpan MaxBehind, long LastAt)> RunClientAsync(int c, long start, long end, CancellationToken cancellationToken)
    {
        var client = _clients[c];
        var messages = new StateMessages(_manufacturer, _hz, _nodeSeconds);
        var period = Stopwatch.Frequency / (double)_hz;
        var slot = period / Robots;
        long published = 0, failed = 0, maxBehind = 0, lastAt = start;
        for (long cycle = 0; !cancellationToken.IsCancellationRequested; cycle++)
        {
            for (var robot = c; robot < Robots; robot += _clients.Length)
            {
                var due = start + (long)(cycle * period + robot * slot);
                if (due >= end)
                    return (published, failed, Stopwatch.GetElapsedTime(0, maxBehind), lastAt);
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                if (wait > TimeSpan.FromMilliseconds(1))
                    await Task.Delay(wait, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                var sendAt = Stopwatch.GetTimestamp();
                maxBehind = Math.Max(maxBehind, sendAt - due);
                var payload = messages.Write(robot, _serials[robot], _headerIds[robot]++, DateTime.UtcNow);
                try
                {
                    await client.PublishAsync(new MqttApplicationMessageBuilder()
                        .WithTopic(_topics[robot])
                        .WithPayload(payload)
                        .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce)
                        .Build(), cancellationToken);
                    published++;
                }
                catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or InvalidOperationException)
                {
                    failed++;
                }

                lastAt = Stopwatch.GetTimestamp();
            }
        }

        return (published, failed, Stopwatch.GetElapsedTime(0, maxBehind), lastAt);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients.Where(c => c is not null))
        {
            try
            {
                if (client.IsConnected)
                    await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build());
            }
            catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException)
            {
                // gone already
            }

            client.Dispose();
        }
    }
}
