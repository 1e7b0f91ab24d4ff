using System.Buffers;
using MQTTnet;
using MQTTnet.Protocol;
using RobotFleet.Mqtt;
using RobotFleet.Vda5050;
using RobotFleet.Vda5050.V2;

namespace RobotFleet.EdgeAgent;

/// <summary>
/// One robot's MQTT connection (VDA 5050 §6.2, §6.14): connects with a retained CONNECTIONBROKEN
/// last will, publishes retained ONLINE and subscribes <c>order</c> and <c>instantActions</c> on every
/// (re)connect, reconnects with exponential backoff and jitter, and ends with retained OFFLINE.
/// </summary>
internal sealed class MqttLink
{
    private readonly EdgeAgentOptions options;
    private readonly Func<Task> onConnected;
    private readonly Action<string, byte[]> onMessage;
    private readonly Func<ConnectionState, byte[]> connectionMessage;
    private readonly MqttClientFactory factory = new();
    private readonly Lock gate = new();
    private readonly CancellationTokenSource stop = new();
    private IMqttClient? client;
    private TaskCompletionSource? connectionLost;
    private TaskCompletionSource resumed = NewSignal(completed: true);
    private Task loop = Task.CompletedTask;
    private volatile bool stopping;

    public MqttLink(EdgeAgentOptions options, Func<ConnectionState, byte[]> connectionMessage, Func<Task> onConnected, Action<string, byte[]> onMessage)
    {
        this.options = options;
        this.connectionMessage = connectionMessage;
        this.onConnected = onConnected;
        this.onMessage = onMessage;
    }

    /// <summary>
    /// The broker for log lines, as the agent's start line gives it (<see cref="MqttBrokerSettings.ToString"/>: the user name,
    /// also one given apart from the URL, never the password), or the URL without its password when the settings do not
    /// parse (the connect then fails for that reason). The lines about connecting named the URL alone, without a user given
    /// by <c>--mqtt-username</c>.
    /// </summary>
    private string BrokerText
    {
        get
        {
            try
            {
                return options.BrokerSettings.ToString();
            }
            catch (ArgumentException)
            {
                return MqttBrokerSettings.Redact(options.Broker.OriginalString);
            }
        }
    }

    public bool IsConnected => Volatile.Read(ref client)?.IsConnected == true;

    public string Topic(Vda5050Topic topic) => Vda5050Topics.Build(options.InterfaceName, options.Manufacturer, options.SerialNumber, topic);

    public void Start() => loop = Task.Run(RunAsync);

    /// <summary>Publishes with the topic's VDA QoS and retain flag; false when not connected or the publish failed.</summary>
    public async Task<bool> PublishAsync(Vda5050Topic topic, byte[] payload, CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref client);
        if (current is not { IsConnected: true })
        {
            return false;
        }

        try
        {
            await current.PublishAsync(Message(topic, payload), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            options.Log?.Invoke($"{options.SerialNumber}: publish to {Topic(topic)} failed: {e.Message}");
            return false;
        }
    }

    /// <summary>Publishes on an extension topic (not a VDA 5050 leaf); false when not connected or the publish failed.</summary>
    public async Task<bool> PublishAsync(string topic, byte[] payload, MqttQualityOfServiceLevel qos, bool retain, CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref client);
        if (current is not { IsConnected: true })
        {
            return false;
        }

        try
        {
            var message = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(qos).WithRetainFlag(retain).Build();
            await current.PublishAsync(message, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            options.Log?.Invoke($"{options.SerialNumber}: publish to {topic} failed: {e.Message}");
            return false;
        }
    }

    /// <summary>Disposes the client without DISCONNECT so the broker publishes the will; no reconnect until <see cref="Resume"/>.</summary>
    public void DropAbruptly()
    {
        IMqttClient? current;
        lock (gate)
        {
            if (resumed.Task.IsCompleted)
            {
                resumed = NewSignal(completed: false);
            }

            current = client;
            client = null;
            connectionLost?.TrySetResult();
        }

        current?.Dispose();
    }

    /// <summary>Lets the reconnect loop connect again after <see cref="DropAbruptly"/>.</summary>
    public void Resume()
    {
        lock (gate)
        {
            resumed.TrySetResult();
        }
    }

    /// <summary>Publishes retained OFFLINE, disconnects cleanly (no will) and ends the reconnect loop.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        stopping = true;
        IMqttClient? current;
        lock (gate)
        {
            current = client;
            client = null;
        }

        if (current is { IsConnected: true })
        {
            try
            {
                await current.PublishAsync(Message(Vda5050Topic.Connection, connectionMessage(ConnectionState.Offline)), cancellationToken).ConfigureAwait(false);
                await current.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                options.Log?.Invoke($"{options.SerialNumber}: clean disconnect failed: {e.Message}");
            }
        }

        await stop.CancelAsync().ConfigureAwait(false);
        Resume();
        try
        {
            await loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        current?.Dispose();
        stop.Dispose();
    }

    private async Task RunAsync()
    {
        var attempt = 0;
        while (!stopping)
        {
            Task resume;
            lock (gate)
            {
                resume = resumed.Task;
            }

            await resume.WaitAsync(stop.Token).ConfigureAwait(false);
            var current = factory.CreateMqttClient();
            var lost = NewSignal(completed: false);
            current.DisconnectedAsync += _ =>
            {
                lost.TrySetResult();
                return Task.CompletedTask;
            };
            current.ApplicationMessageReceivedAsync += e =>
            {
                onMessage(e.ApplicationMessage.Topic, e.ApplicationMessage.Payload.ToArray());
                return Task.CompletedTask;
            };

            lock (gate)
            {
                client = current;
                connectionLost = lost;
            }

            try
            {
                await ConnectAsync(current).ConfigureAwait(false);
                attempt = 0;
                await lost.Task.WaitAsync(stop.Token).ConfigureAwait(false);
                options.Log?.Invoke($"{options.SerialNumber}: connection to {BrokerText} lost");
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                options.Log?.Invoke(e is MqttBrokerRefusedException
                    ? $"{options.SerialNumber}: the broker {BrokerText} refused the connection: {e.Message}"
                    : $"{options.SerialNumber}: connecting to {BrokerText} failed: {e.Message}");
            }
            finally
            {
                lock (gate)
                {
                    if (ReferenceEquals(client, current))
                    {
                        client = null;
                    }
                }

                if (!stopping)
                {
                    current.Dispose();
                }
            }

            await Task.Delay(Backoff(attempt++), stop.Token).ConfigureAwait(false);
        }
    }

    private async Task ConnectAsync(IMqttClient current)
    {
        var connect = new MqttClientOptionsBuilder()
            .WithBroker(options.BrokerSettings)
            .WithClientId($"{options.Manufacturer}-{options.SerialNumber}")
            .WithCleanSession()
            .WithKeepAlivePeriod(options.KeepAlive)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithWillTopic(Topic(Vda5050Topic.Connection))
            .WithWillPayload(connectionMessage(ConnectionState.ConnectionBroken))
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithWillRetain()
            .Build();
        var connected = await current.ConnectAsync(connect, stop.Token).ConfigureAwait(false);
        if (connected.ResultCode != MqttClientConnectResultCode.Success)
        {
            throw new MqttBrokerRefusedException(connected.ResultCode,
                $"{connected.ReasonString} user '{options.BrokerSettings.Username ?? "(none)"}'; check --mqtt-username / --mqtt-password, the URL's user:password, and --mqtt-protocol".TrimStart());
        }

        // Clean session: the broker kept nothing, so subscribe on every connect.
        var subscribe = new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(Topic(Vda5050Topic.Order), MqttQualityOfServiceLevel.AtMostOnce)
            .WithTopicFilter(Topic(Vda5050Topic.InstantActions), MqttQualityOfServiceLevel.AtMostOnce)
            .Build();
        await current.SubscribeAsync(subscribe, stop.Token).ConfigureAwait(false);
        await current.PublishAsync(Message(Vda5050Topic.Connection, connectionMessage(ConnectionState.Online)), stop.Token).ConfigureAwait(false);
        options.Log?.Invoke($"{options.SerialNumber}: connected to {BrokerText}");
        await onConnected().ConfigureAwait(false);
    }

    private TimeSpan Backoff(int attempt)
    {
        var max = options.ReconnectDelayMax.TotalMilliseconds;
        var delay = Math.Min(max, options.ReconnectDelayMin.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 20)));
        return TimeSpan.FromMilliseconds(delay * (0.5 + (Random.Shared.NextDouble() * 0.5)));
    }

    private MqttApplicationMessage Message(Vda5050Topic topic, byte[] payload) => new MqttApplicationMessageBuilder()
        .WithTopic(Topic(topic))
        .WithPayload(payload)
        .WithQualityOfServiceLevel((MqttQualityOfServiceLevel)Vda5050Topics.QualityOfService(topic))
        .WithRetainFlag(Vda5050Topics.IsRetained(topic))
        .Build();

    private static TaskCompletionSource NewSignal(bool completed)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
        {
            signal.SetResult();
        }

        return signal;
    }
}
