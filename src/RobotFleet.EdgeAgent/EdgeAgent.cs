using System.Threading.Channels;
using RobotFleet.FirmwareBridge;
using RobotFleet.Vda5050;
using RobotFleet.Vda5050.V2;

namespace RobotFleet.EdgeAgent;

/// <summary>
/// The AGV side of VDA 5050 v2 for one robot: keeps an MQTT connection to the master control,
/// executes orders and instant actions through an <see cref="IRobotFirmware"/>, and publishes
/// state, visualization, connection and factsheet messages.
/// </summary>
/// <remarks>
/// Incoming messages are queued per robot and handled in arrival order, one at a time, off the MQTT
/// receive thread; order execution runs on its own loop. Public members are thread-safe.
/// The agent does not own the firmware: dispose it after the agent.
/// </remarks>
public sealed partial class EdgeAgent : IAsyncDisposable
{
    private readonly EdgeAgentOptions options;
    private readonly IRobotFirmware firmware;
    private readonly MqttLink link;
    private readonly Channel<(string Topic, byte[] Payload)> inbox = Channel.CreateUnbounded<(string, byte[])>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim stateRequested = new(0);
    private readonly SemaphoreSlim publishing = new(1, 1);
    private readonly CancellationTokenSource shutdown = new();
    private readonly long[] headerIds = new long[Enum.GetValues<Vda5050Topic>().Length];
    private Task[] loops = [];
    private int statePending;
    private volatile bool reportingSuspended;
    private int started;

    /// <summary>Creates the agent; nothing connects until <see cref="StartAsync"/>.</summary>
    /// <param name="options">Broker, identity and rates.</param>
    /// <param name="firmware">The robot to drive; not disposed by the agent.</param>
    /// <exception cref="ArgumentException">A <see cref="EdgeAgentOptions.TrustedKeys"/> entry is not a PEM public key.</exception>
    /// <exception cref="IOException">The <see cref="EdgeAgentOptions.ModelDirectory"/> cannot be created.</exception>
    public EdgeAgent(EdgeAgentOptions options, IRobotFirmware firmware)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(firmware);
        this.options = options;
        this.firmware = firmware;
        lastNodeId = options.InitialLastNodeId;
        link = new MqttLink(options, ConnectionMessage, OnConnectedAsync, (topic, payload) => inbox.Writer.TryWrite((topic, payload)));
        CreateModelManager();
    }

    /// <summary>Manufacturer on the wire.</summary>
    public string Manufacturer => options.Manufacturer;

    /// <summary>Serial number on the wire.</summary>
    public string SerialNumber => options.SerialNumber;

    /// <summary>The firmware this agent drives.</summary>
    public IRobotFirmware Firmware => firmware;

    /// <summary>True while the MQTT client is connected to the broker.</summary>
    public bool IsConnected => link.IsConnected;

    /// <summary>Starts connecting (in the background, retrying until it succeeds) and the execution loops; returns at once.</summary>
    /// <exception cref="InvalidOperationException">Already started.</exception>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref started, 1) != 0)
        {
            throw new InvalidOperationException($"Agent {options.SerialNumber} is already started.");
        }

        firmware.TelemetryUpdated += OnTelemetry;
        loops =
        [
            Task.Run(ProcessInboxAsync, CancellationToken.None),
            Task.Run(ExecuteOrdersAsync, CancellationToken.None),
            Task.Run(PublishStatesAsync, CancellationToken.None),
            Task.Run(PublishVisualizationsAsync, CancellationToken.None),
            .. StartModelLoops(),
            .. StartPerceptionLoop(),
        ];
        link.Start();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Test and operations hook: stops publishing <c>state</c> messages while the connection, order execution and
    /// everything else go on, so the robot looks silent to the control plane. Undo with <see cref="ResumeReporting"/>.
    /// </summary>
    public void SuspendReporting() => reportingSuspended = true;

    /// <summary>Publishes <c>state</c> messages again after <see cref="SuspendReporting"/>, starting with one at once.</summary>
    public void ResumeReporting()
    {
        reportingSuspended = false;
        RequestState();
    }

    /// <summary>
    /// Kills the MQTT connection without a DISCONNECT packet, as a crash or network loss would, so
    /// the broker publishes the CONNECTIONBROKEN last will; the agent stays offline until
    /// <see cref="ResumeConnection"/>. Meant for tests and demos.
    /// </summary>
    public void DropConnectionAbruptly() => link.DropAbruptly();

    /// <summary>Lets the agent reconnect after <see cref="DropConnectionAbruptly"/>; it then publishes ONLINE again.</summary>
    public void ResumeConnection() => link.Resume();

    /// <summary>
    /// Stops gracefully: halts the robot, publishes retained OFFLINE on <c>connection</c>, disconnects
    /// cleanly (so no last will) and ends all loops. Idempotent.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref started, 2) != 1)
        {
            return;
        }

        firmware.TelemetryUpdated -= OnTelemetry;
        lock (gate)
        {
            orderCts.Cancel();
            stepCts?.Cancel();
        }

        await firmware.StopAsync(cancellationToken).ConfigureAwait(false);
        await link.StopAsync(cancellationToken).ConfigureAwait(false);
        await shutdown.CancelAsync().ConfigureAwait(false);
        inbox.Writer.TryComplete();
        try
        {
            await Task.WhenAll(loops).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await StopModelsAsync().ConfigureAwait(false);
    }

    /// <summary>Same as <see cref="StopAsync"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
    }

    /// <summary>The state message the agent would publish now (VDA 5050 §6.10), with header id 0.</summary>
    public State CurrentState()
    {
        lock (gate)
        {
            return BuildStateLocked(0, DateTimeOffset.UtcNow);
        }
    }

    private async Task OnConnectedAsync()
    {
        await PublishFactsheetAsync().ConfigureAwait(false);
        RequestState();
        RequestModelStatus();
    }

    private async Task ProcessInboxAsync()
    {
        await foreach (var (topic, payload) in inbox.Reader.ReadAllAsync(shutdown.Token).ConfigureAwait(false))
        {
            try
            {
                if (topic == link.Topic(Vda5050Topic.Order))
                {
                    HandleOrder(payload);
                }
                else if (topic == link.Topic(Vda5050Topic.InstantActions))
                {
                    await HandleInstantActionsAsync(payload).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !shutdown.IsCancellationRequested)
            {
                options.Log?.Invoke($"{options.SerialNumber}: handling a message on {topic} failed: {e}");
                lock (gate)
                {
                    AddErrorLocked("internalError", ErrorLevel.Warning, $"handling a message on {topic} failed: {e.Message}");
                }

                RequestState();
            }
        }
    }

    /// <summary>Asks the state loop to publish a state now (coalescing bursts).</summary>
    private void RequestState()
    {
        if (Interlocked.Exchange(ref statePending, 1) == 0)
        {
            stateRequested.Release();
        }
    }

    private void OnTelemetry(RobotTelemetry telemetry)
    {
        lock (gate)
        {
            if (telemetry.Driving == lastDriving && telemetry.Faults.Count == lastFaultCount)
            {
                return;
            }

            lastDriving = telemetry.Driving;
            lastFaultCount = telemetry.Faults.Count;
        }

        RequestState();
    }

    private async Task PublishStatesAsync()
    {
        while (!shutdown.IsCancellationRequested)
        {
            TimeSpan interval;
            lock (gate)
            {
                interval = HasActiveOrderLocked() ? options.StateInterval : options.IdleStateInterval;
            }

            try
            {
                await stateRequested.WaitAsync(interval, shutdown.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Volatile.Write(ref statePending, 0);
            if (reportingSuspended)
            {
                continue;
            }

            await PublishAsync(Vda5050Topic.State, (id, now) =>
            {
                lock (gate)
                {
                    return Vda5050Json.SerializeToUtf8Bytes(BuildStateLocked(id, now));
                }
            }).ConfigureAwait(false);
        }
    }

    private async Task PublishVisualizationsAsync()
    {
        using var timer = new PeriodicTimer(options.VisualizationInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(shutdown.Token).ConfigureAwait(false))
            {
                await PublishAsync(Vda5050Topic.Visualization, (id, now) =>
                {
                    var t = firmware.Telemetry;
                    return Vda5050Json.SerializeToUtf8Bytes(new Visualization
                    {
                        HeaderId = id,
                        Timestamp = now,
                        Manufacturer = options.Manufacturer,
                        SerialNumber = options.SerialNumber,
                        AgvPosition = Position(t),
                        Velocity = Velocity(t),
                    });
                }).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private Task PublishFactsheetAsync() => PublishAsync(Vda5050Topic.Factsheet, (id, now) =>
        Vda5050Json.SerializeToUtf8Bytes(FactsheetBuilder.Build(options, firmware.SupportedActions, id, now)));

    /// <summary>Builds and publishes one message under the publish lock, so header ids go out in order; skipped while offline.</summary>
    private async Task PublishAsync(Vda5050Topic topic, Func<long, DateTimeOffset, byte[]> build)
    {
        if (!link.IsConnected)
        {
            return;
        }

        try
        {
            await publishing.WaitAsync(shutdown.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        try
        {
            var id = NextHeaderId(topic);
            await link.PublishAsync(topic, build(id, DateTimeOffset.UtcNow), shutdown.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
        }
        finally
        {
            publishing.Release();
        }
    }

    /// <summary>The next header id of a topic (VDA 5050 §6.1: per topic, +1 per message).</summary>
    private long NextHeaderId(Vda5050Topic topic) => Interlocked.Increment(ref headerIds[(int)topic]);

    private byte[] ConnectionMessage(ConnectionState connectionState) => Vda5050Json.SerializeToUtf8Bytes(new Connection
    {
        HeaderId = NextHeaderId(Vda5050Topic.Connection),
        Timestamp = DateTimeOffset.UtcNow,
        Manufacturer = options.Manufacturer,
        SerialNumber = options.SerialNumber,
        ConnectionState = connectionState,
    });

    private static AgvPosition Position(RobotTelemetry t) => new()
    {
        X = t.Pose.X,
        Y = t.Pose.Y,
        Theta = t.Pose.Theta,
        MapId = t.Pose.MapId,
        PositionInitialized = true,
    };

    private static Velocity Velocity(RobotTelemetry t) => new() { Vx = t.LinearVelocity, Vy = 0, Omega = t.AngularVelocity };
}
