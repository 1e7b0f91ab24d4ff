using System.Buffers;
using System.Diagnostics.Metrics;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using RobotFleet.Contracts;
using RobotFleet.Gateway;
using RobotFleet.Vda5050;

namespace RobotFleet.TelemetryLoad;

/// <summary>
/// The baseline: a bare MQTTnet client subscribed to <c>{interface}/v2/+/+/state</c> that reads only the <c>timestamp</c>
/// and <c>headerId</c> of each message (no other parsing, no twin, no bus) and records publish-to-receive latency.
/// </summary>
internal sealed class BaselineSubscriber : IAsyncDisposable
{
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private long _unreadable;
    private volatile LatencyRecorder _recorder;

    private BaselineSubscriber(LatencyRecorder recorder)
    {
        _recorder = recorder;
        _client.ApplicationMessageReceivedAsync += e =>
        {
            var payload = e.ApplicationMessage.Payload;
            var json = payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray();
            if (StateMessages.TryReadStamp(json, out var sent, out _))
                _recorder.Add((DateTime.UtcNow - sent).TotalMilliseconds);
            else
                Interlocked.Increment(ref _unreadable);
            return Task.CompletedTask;
        };
    }

    /// <summary>Records from now on into <paramref name="recorder"/>.</summary>
    public void RecordInto(LatencyRecorder recorder) => _recorder = recorder;

    /// <summary>Messages whose stamp could not be read (should stay 0).</summary>
    public long Unreadable => Interlocked.Read(ref _unreadable);

    /// <summary>Connects and subscribes; returns once the broker acknowledged the subscription.</summary>
    public static async Task<BaselineSubscriber> StartAsync(Uri broker, string interfaceName, string clientId, LatencyRecorder recorder, CancellationToken cancellationToken)
    {
        var subscriber = new BaselineSubscriber(recorder);
        await subscriber._client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer(broker.Host, broker.Port > 0 ? broker.Port : 1883)
            .WithClientId(clientId)
            .WithProtocolVersion(MqttProtocolVersion.V500) // as the gateway (GatewayOptions.ProtocolVersion default)
            .WithCleanSession(true)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(10))
            .Build(), cancellationToken);
        await subscriber._client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(f => f.WithTopic(Vda5050Topics.AllRobots(interfaceName, Vda5050Topic.State)).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce))
            .Build(), cancellationToken);
        return subscriber;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected)
            await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build());
        _client.Dispose();
    }
}

/// <summary>
/// Where the coordinator stand-in records: latency from a <see cref="RobotStateChanged"/>'s state timestamp to its
/// consumption on the bus, and counts of the other robot events. Swap <see cref="States"/> per phase. Thread-safe.
/// </summary>
internal sealed class BusRecorder
{
    private long _nodeReached;
    private long _connectionChanged;

    /// <summary>Where state events are recorded now; null: not recorded.</summary>
    public volatile LatencyRecorder? States;

    /// <summary>The probe robot's serial number: its events are not recorded.</summary>
    public string ProbeSerial { get; init; } = "";

    /// <summary><see cref="RobotNodeReached"/> events consumed.</summary>
    public long NodeReached => Interlocked.Read(ref _nodeReached);

    /// <summary><see cref="RobotConnectionChanged"/> events consumed.</summary>
    public long ConnectionChanged => Interlocked.Read(ref _connectionChanged);

    /// <summary>Counts a node reached.</summary>
    public void CountNodeReached() => Interlocked.Increment(ref _nodeReached);

    /// <summary>Counts a connection change.</summary>
    public void CountConnectionChanged() => Interlocked.Increment(ref _connectionChanged);
}

/// <summary>
/// Stands in for the fleet coordinator's robot-event consumer (<c>RobotEventsConsumer</c>): consumes the gateway's robot
/// events from the bus and records when, doing no planning work itself.
/// </summary>
internal sealed class CoordinatorStandIn(BusRecorder recorder) : IConsumer<RobotStateChanged>, IConsumer<RobotNodeReached>, IConsumer<RobotConnectionChanged>
{
    private readonly BusRecorder _recorder = recorder;

    /// <inheritdoc />
    public Task Consume(ConsumeContext<RobotStateChanged> context)
    {
        if (context.Message.Robot.SerialNumber != _recorder.ProbeSerial)
            _recorder.States?.Add((DateTimeOffset.UtcNow - context.Message.Timestamp).TotalMilliseconds);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task Consume(ConsumeContext<RobotNodeReached> context)
    {
        _recorder.CountNodeReached();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task Consume(ConsumeContext<RobotConnectionChanged> context)
    {
        _recorder.CountConnectionChanged();
        return Task.CompletedTask;
    }
}

/// <summary>
/// The control plane's ingest path as the server wires it: <see cref="GatewayRegistration.AddGateway"/> (the real
/// <see cref="MqttGateway"/> and <see cref="RobotTwinRegistry"/>) and a MassTransit in-memory bus with the gateway's consumers
/// and <see cref="CoordinatorStandIn"/>, in a generic host of its own. Per state, the latency to the twin update comes from
/// the gateway's <see cref="GatewayMetrics.StateAgeName"/> histogram, read with a <see cref="MeterListener"/>.
/// </summary>
internal sealed class ControlPlaneSubscriber : IAsyncDisposable
{
    private readonly IHost _host;
    private MeterListener? _listener;
    private volatile LatencyRecorder? _recorder;

    private ControlPlaneSubscriber(IHost host) => _host = host;

    /// <summary>
    /// How old the probe robot's states are stamped: a day, so that their state age tells them from the simulated robots'
    /// (the gateway's histogram has no robot tag).
    /// </summary>
    public static readonly TimeSpan ProbeAge = TimeSpan.FromDays(1);

    /// <summary>The twins the gateway keeps.</summary>
    public RobotTwinRegistry Twins => _host.Services.GetRequiredService<RobotTwinRegistry>();

    /// <summary>
    /// Starts the host and waits until the gateway applies the probe robot's state (so it is subscribed), publishing that state
    /// every 200 ms through <paramref name="publishProbe"/>; then records every state applied into <paramref name="twinUpdates"/>.
    /// </summary>
    /// <exception cref="TimeoutException">The gateway did not take the probe's state within 30 s.</exception>
    public static async Task<ControlPlaneSubscriber> StartAsync(Uri broker, string interfaceName, string clientId, RobotId probe, Func<Task> publishProbe,
        LatencyRecorder twinUpdates, BusRecorder bus, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(c => c.SingleLine = true); // warnings and errors only, to stderr
        builder.Logging.AddConsole(c => c.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(bus);
        builder.Services.AddGateway(new GatewayOptions
        {
            BrokerHost = broker.Host,
            BrokerPort = broker.Port > 0 ? broker.Port : 1883,
            InterfaceName = interfaceName,
            ClientId = clientId,
        });
        builder.Services.AddMassTransit(x =>
        {
            x.DisableUsageTelemetry();
            x.AddGatewayConsumers();
            x.AddConsumer<CoordinatorStandIn>();
            x.UsingInMemory((context, cfg) => cfg.ConfigureEndpoints(context));
        });
        var subscriber = new ControlPlaneSubscriber(builder.Build());
        try
        {
            await subscriber._host.StartAsync(cancellationToken);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (subscriber.Twins.Find(probe) is null)
            {
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException($"the gateway did not take the probe robot's state within 30 s (broker {broker})");
                await publishProbe();
                await Task.Delay(200, cancellationToken);
            }
        }
        catch
        {
            await subscriber.DisposeAsync();
            throw;
        }

        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == GatewayMetrics.MeterName && instrument.Name == GatewayMetrics.StateAgeName)
                    l.EnableMeasurementEvents(instrument);
            },
        };
        subscriber._recorder = twinUpdates;
        listener.SetMeasurementEventCallback<double>((_, value, _, _) =>
        {
            if (value < ProbeAge.TotalMilliseconds / 2) // not a probe state (a late copy may still come in)
                subscriber._recorder?.Add(value);
        });
        listener.Start();
        subscriber._listener = listener;
        return subscriber;
    }

    /// <summary>Records from now on into <paramref name="recorder"/>.</summary>
    public void RecordInto(LatencyRecorder recorder) => _recorder = recorder;

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _listener?.Dispose();
        await _host.StopAsync(TimeSpan.FromSeconds(10));
        _host.Dispose();
    }
}
