using System.Buffers;
using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using RobotFleet.Mqtt;
using RobotFleet.Contracts;
using RobotFleet.Vda5050;
using RobotFleet.Vda5050.V2;
using State = RobotFleet.Vda5050.V2.State;

namespace RobotFleet.Gateway;

/// <summary>
/// The control plane's MQTT side: subscribes to every robot's VDA 5050 <c>state</c>,
/// <c>connection</c> and <c>factsheet</c> and to the <c>robotfleet/v1/+/+/modelStatus</c> and <c>robotfleet/v1/+/+/perception</c> extensions, keeps the <see cref="RobotTwinRegistry"/> current in
/// process, publishes domain events on the bus only on significant change (DESIGN §2.4; from a queue of its own, retried
/// until the bus takes them; receiving waits for the bus at most a second, then no more until it caught up), and sends
/// orders and instant actions. Reconnects with exponential backoff and jitter, resubscribing each time.
/// </summary>
/// <remarks>
/// Messages are handled one at a time in arrival order (MQTTnet's client delivers sequentially),
/// so each robot's reports are processed in order. <see cref="PublishOrderAsync"/> and
/// <see cref="PublishInstantActionsAsync"/> are thread-safe.
/// </remarks>
public sealed class MqttGateway(
    GatewayOptions options,
    RobotTwinRegistry twins,
    IBus bus,
    TimeProvider time,
    ILogger<MqttGateway> logger) : BackgroundService
{
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly ConcurrentDictionary<(RobotId, Vda5050Topic), long> _headerIds = new();
    private readonly ConcurrentDictionary<RobotId, RobotStateChanged> _lastStates = new();
    private readonly ConcurrentDictionary<RobotId, DateTimeOffset> _lastPublished = new();
    private readonly SemaphoreSlim _connected = new(0, 1);
    private readonly ConcurrentDictionary<RobotId, SentOrder> _sentOrders = new();
    private readonly ConcurrentDictionary<RobotId, ConcurrentQueue<(Vda5050Topic Topic, byte[] Payload)>> _outbox = new();
    private readonly System.Threading.Channels.Channel<(object Message, TaskCompletionSource Published)> _outgoing =
        System.Threading.Channels.Channel.CreateUnbounded<(object Message, TaskCompletionSource Published)>(new System.Threading.Channels.UnboundedChannelOptions { SingleReader = true });
    private Task _lastEmitted = Task.CompletedTask;
    private bool _busBehind;
    private readonly CancellationTokenSource _drainEnd = new();
    private readonly ConcurrentDictionary<RobotId, RobotFactsheetReceived> _factsheets = new();
    /// <summary>Robots reported ONLINE whose missed messages wait for their next state (value: which ONLINE, so a late wait's end sends nothing twice).</summary>
    private readonly ConcurrentDictionary<RobotId, long> _awaitingState = new();
    private long _onlineCount;
    private readonly SemaphoreSlim _sendingMissed = new(1, 1);
    private readonly CancellationTokenSource _stopped = new();
    private readonly Lock _ingest = new();
    private volatile bool _publishing = !options.Standby;
    private long _statesPublished;
    private DateTimeOffset _freshFrom = DateTimeOffset.MinValue;
    private DateTimeOffset _freshUntil = DateTimeOffset.MinValue;

    /// <summary>How long after <see cref="StartPublishing"/> states the robots stamped before it are held back; 10 s.</summary>
    public static TimeSpan FreshStateWindow { get; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// True while robot messages become bus events and robots' missed orders are sent again: from the start, or on a standby
    /// (<see cref="GatewayOptions.Standby"/>) from <see cref="StartPublishing"/> until <see cref="StopPublishing"/>.
    /// </summary>
    public bool IsPublishing => _publishing;

    /// <summary>
    /// How many <see cref="RobotStateChanged"/> events this gateway published on the bus since it started, each counted when the
    /// bus took it (its publish completed; 0 on a standby). Thread-safe.
    /// </summary>
    public long StatesPublished => Interlocked.Read(ref _statesPublished);

    /// <summary>
    /// Makes a standby's gateway the fleet's ingest (its instance became the leader), as if it had just connected: every
    /// robot's known connection and factsheet are announced on the bus, and each robot's next state stamped from now on
    /// goes out whatever it shows (for <see cref="FreshStateWindow"/>, states stamped earlier are held back). Idempotent;
    /// thread-safe (ordered with the message handler).
    /// </summary>
    public void StartPublishing()
    {
        lock (_ingest)
        {
            if (_publishing)
                return;
            _lastStates.Clear();
            _lastPublished.Clear();
            _publishing = true;
            var now = time.GetUtcNow();
            // A standby's MQTT client may lag behind the robots: a state received before now but handled after it would show
            // the new leader's coordinator an order update older than the last one the old leader sent, and the coordinator
            // reconciles its restored plans with each robot's first state. For a while, pass on only states the robots
            // stamped from now on (bounded: a robot whose clock runs behind is heard again after FreshStateWindow).
            _freshFrom = now;
            _freshUntil = now + FreshStateWindow;
            foreach (var twin in twins.All.Where(t => t.Connection != RobotConnectionState.Unknown))
                Emit(new RobotConnectionChanged(twin.Robot, twin.Connection, now));
            foreach (var factsheet in _factsheets.Values)
                Emit(factsheet);
            logger.LogInformation("MQTT gateway publishes robot events now ({Robots} robots known)", twins.All.Count);
        }
    }

    /// <summary>Stops turning robot messages into bus events (leadership lost); the twins stay current. Thread-safe.</summary>
    public void StopPublishing()
    {
        lock (_ingest)
            _publishing = false;
    }

    /// <summary>True while connected to the broker.</summary>
    public bool IsConnected => _client.IsConnected;

    /// <summary>
    /// Sends a route to its robot as a VDA 5050 order (QoS 0, not retained). QoS 0 messages are lost while the gateway or the
    /// robot is away from the broker, so: while the gateway is not connected, the order is kept (with any instant actions,
    /// in the order issued) and goes out when the robot is next reported ONLINE; and the updates of each robot's latest
    /// order are kept, to send again, in order, those that the robot's state does not show when it is reported ONLINE
    /// (until a <c>cancelOrder</c> is sent to it).
    /// </summary>
    public async Task PublishOrderAsync(DispatchRoute route, CancellationToken cancellationToken)
    {
        var order = OrderMapper.ToOrder(route, NextHeaderId(route.Robot, Vda5050Topic.Order), time.GetUtcNow());
        var payload = Vda5050Json.SerializeToUtf8Bytes(order);
        var sent = _sentOrders.AddOrUpdate(route.Robot, _ => new SentOrder(route.OrderId), (_, s) => s.OrderId == route.OrderId ? s : new SentOrder(route.OrderId));
        lock (sent)
            sent.Updates.Add((route.OrderUpdateId, payload));
        if (await KeepAsync(route.Robot, Vda5050Topic.Order, payload, $"order {route.OrderId}/{route.OrderUpdateId}"))
            return;
        await PublishAsync(route.Robot, Vda5050Topic.Order, payload, cancellationToken);
    }

    /// <summary>
    /// Sends instant actions to a robot (QoS 0, not retained); while the gateway is not connected they are kept, as orders
    /// are (see <see cref="PublishOrderAsync"/>). A <c>cancelOrder</c> ends the sending again of the robot's latest order,
    /// and drops the orders kept for the robot while the gateway was not connected: sent after all, ahead of the cancel, an
    /// update whose predecessor was lost in the outage is rejected, and a new order would be started only to be cancelled.
    /// </summary>
    public async Task PublishInstantActionsAsync(TriggerInstantActions command, CancellationToken cancellationToken)
    {
        var message = OrderMapper.ToInstantActions(command, NextHeaderId(command.Robot, Vda5050Topic.InstantActions), time.GetUtcNow());
        var payload = Vda5050Json.SerializeToUtf8Bytes(message);
        if (command.Actions.Any(a => a.ActionType == "cancelOrder"))
        {
            _sentOrders.TryRemove(command.Robot, out _); // its mission may be given to another robot: never send that order again
            if (_outbox.TryGetValue(command.Robot, out var kept) && kept.Any(m => m.Topic == Vda5050Topic.Order))
                _outbox[command.Robot] = new ConcurrentQueue<(Vda5050Topic, byte[])>(kept.Where(m => m.Topic != Vda5050Topic.Order));
        }

        if (await KeepAsync(command.Robot, Vda5050Topic.InstantActions, payload, "instant actions " + string.Join(", ", command.Actions.Select(a => a.ActionType))))
            return;
        await PublishAsync(command.Robot, Vda5050Topic.InstantActions, payload, cancellationToken);
    }

    /// <summary>
    /// Keeps a message for <paramref name="robot"/> in its outbox when the gateway is not connected, or while the robot, back
    /// ONLINE, has yet to send the state that decides what it missed (sent now, the message would overtake the updates it
    /// missed; regression: the robot got update 1 of an order whose update 0 it lacked and refused it); true if kept.
    /// Instant actions (a pause, a cancel) are not held for that state unless messages kept before them wait too.
    /// </summary>
    private async Task<bool> KeepAsync(RobotId robot, Vda5050Topic topic, byte[] payload, string what)
    {
        var awaiting = _awaitingState.ContainsKey(robot)
                       && (topic == Vda5050Topic.Order || _outbox.TryGetValue(robot, out var kept) && !kept.IsEmpty);
        if (_client.IsConnected && !awaiting)
            return false;
        var outbox = _outbox.GetOrAdd(robot, _ => new ConcurrentQueue<(Vda5050Topic, byte[])>());
        outbox.Enqueue((topic, payload));
        if (!awaiting)
        {
            logger.LogWarning("MQTT gateway is not connected: {What} for {Robot} goes out when the broker and the robot are back", what, robot);
            return true;
        }

        logger.LogInformation("{What} for {Robot} goes out after what the robot missed, once its state after ONLINE is in", what, robot);
        // Its state may have come (and the outbox gone out) between the check and the enqueue: then it goes out now.
        if (!_awaitingState.ContainsKey(robot) && _client.IsConnected)
            await SendMissedAsync(robot);
        return true;
    }

    /// <summary>Forgets a robot's last reported state and the order last sent to it (after an operator removed it).</summary>
    public void Forget(RobotId robot)
    {
        _lastStates.TryRemove(robot, out _);
        _sentOrders.TryRemove(robot, out _);
        _outbox.TryRemove(robot, out _);
        _factsheets.TryRemove(robot, out _);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pump = PumpAsync(stoppingToken);
        _client.ApplicationMessageReceivedAsync += OnMessageAsync;
        var delay = options.ReconnectMinDelay;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!_client.IsConnected)
                {
                    await ConnectAsync(stoppingToken);
                    delay = options.ReconnectMinDelay;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(200), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (MqttBrokerRefusedException e)
            {
                // The broker answered CONNECT with a refusal (bad user name or password, not authorised, protocol version):
                // say so plainly, naming the options to check; retry, as the broker's users may be fixed meanwhile.
                logger.LogError("MQTT broker {Broker} refused the gateway's connection: {Error} (user '{User}'; check --mqtt-username / --mqtt-password, the URL's user:password, and --mqtt-protocol); retrying in {Delay}",
                    options.Broker, e.Message, options.Username ?? "(none)", delay);
                await Task.Delay(Jitter(delay), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.ReconnectMaxDelay.Ticks));
            }
            catch (Exception e)
            {
                logger.LogWarning("MQTT gateway cannot reach broker {Broker}: {Error}; retrying in {Delay}", options.Broker, e.Message, delay);
                await Task.Delay(Jitter(delay), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.ReconnectMaxDelay.Ticks));
            }
        }

        _stopped.Cancel(); // waits for a robot's state after its ONLINE end
        if (_client.IsConnected)
            await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), CancellationToken.None);
        _client.Dispose();
        _outgoing.Writer.TryComplete();
        _drainEnd.CancelAfter(TimeSpan.FromSeconds(5));
        await pump;
        _drainEnd.Dispose();
    }

    /// <summary>Queues a domain event for the bus, in arrival order (see <see cref="PumpAsync"/>).</summary>
    private void Emit(object message)
    {
        if (!_publishing)
            return; // a standby observes only
        var published = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (_outgoing.Writer.TryWrite((message, published)))
            _lastEmitted = published.Task;
    }

    /// <summary>
    /// Publishes the queued domain events one at a time, in order. Receiving MQTT waits for the bus at most a second (see
    /// <see cref="OnMessageAsync"/>), so the twins stay current while the bus is slow or away (RabbitMQ restarting), and an
    /// event whose publish fails is published again
    /// (backing off up to 5 s; each attempt gets 10 s) until the bus takes it, instead of being lost. Once stopping, what is
    /// queued gets 5 s.
    /// </summary>
    private async Task PumpAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        await foreach (var (message, published) in _outgoing.Reader.ReadAllAsync(CancellationToken.None))
        {
            while (true)
            {
                try
                {
                    // A publish caught on a connection that broke can wait forever: give each attempt 10 s, and leave it behind
                    // after that even where it ignores its cancellation (RabbitMQ.Client 7.2.2 after a broker restart,
                    // rabbitmq/rabbitmq-dotnet-client#1930); if it completes after all, the event arrives twice (tolerated).
                    using var attempt = CancellationTokenSource.CreateLinkedTokenSource(_drainEnd.Token);
                    attempt.CancelAfter(TimeSpan.FromSeconds(10));
                    await bus.Publish(message, message.GetType(), attempt.Token).WaitAsync(TimeSpan.FromSeconds(11), attempt.Token);
                    if (message is RobotStateChanged)
                        Interlocked.Increment(ref _statesPublished);
                    break;
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    if (failures++ == 0)
                        logger.LogWarning("Publishing {Message} on the bus failed ({Error}); retrying until the bus takes it", message.GetType().Name, e.Message);
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 250 * failures)), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
                catch (Exception e)
                {
                    logger.LogWarning("Dropped {Message} while stopping: {Error}", message.GetType().Name, e.Message);
                    break;
                }
            }

            published.TrySetResult();
            if (failures > 0)
            {
                logger.LogInformation("The bus takes domain events again after {Failures} failed attempts", failures);
                failures = 0;
            }
        }
    }

    private async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var connectOptions = new MqttClientOptionsBuilder()
            .WithBroker(options.Broker)
            .WithClientId(options.ClientId)
            .WithCleanSession(true)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(10))
            .Build();
        var connected = await _client.ConnectAsync(connectOptions, cancellationToken);
        if (connected.ResultCode != MqttClientConnectResultCode.Success)
            throw new MqttBrokerRefusedException(connected.ResultCode, connected.ReasonString);
        var subscribe = new MqttClientSubscribeOptionsBuilder();
        foreach (var topic in new[] { Vda5050Topic.State, Vda5050Topic.Connection, Vda5050Topic.Factsheet })
        {
            subscribe.WithTopicFilter(f => f
                .WithTopic(Vda5050Topics.AllRobots(options.InterfaceName, topic))
                .WithQualityOfServiceLevel((MqttQualityOfServiceLevel)Vda5050Topics.QualityOfService(topic)));
        }

        subscribe.WithTopicFilter(f => f.WithTopic(ModelStatusMapper.AllRobotsFilter).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce));
        subscribe.WithTopicFilter(f => f.WithTopic(PerceptionMapper.AllRobotsFilter).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce));
        await _client.SubscribeAsync(subscribe.Build(), cancellationToken);
        logger.LogInformation("MQTT gateway connected to {Broker}, interface '{Interface}'", options.Broker, options.InterfaceName);
    }

    private async Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        Task? missed;
        lock (_ingest)
            missed = OnMessage(e);
        if (missed is { } online)
            await online; // a robot's first state since it came ONLINE: what it missed goes out before the next message is handled
        // While the bus keeps up, the next MQTT message waits until this one's events are published (as when publishing
        // inline), so the control plane hears robots about when the twins do. Once that takes over a second (the bus is slow or
        // away), receiving stops waiting until the queue has drained: the twins stay current meanwhile.
        if (_busBehind && _lastEmitted.IsCompleted)
            _busBehind = false;
        if (_busBehind)
            return;
        try
        {
            await _lastEmitted.WaitAsync(TimeSpan.FromSeconds(1));
        }
        catch (TimeoutException)
        {
            _busBehind = true;
        }
    }

    /// <summary>Handles one message; returns the sending of what a robot missed when it came ONLINE (with its next state), else null.</summary>
    private Task? OnMessage(MqttApplicationMessageReceivedEventArgs e)
    {
        var topicName = e.ApplicationMessage.Topic;
        if (ModelStatusMapper.TryParseTopic(topicName, out var reporter))
        {
            OnModelStatus(reporter, topicName, e.ApplicationMessage.Payload);
            return null;
        }

        if (PerceptionMapper.TryParseTopic(topicName, out var perceiver))
        {
            OnPerception(perceiver, topicName, e.ApplicationMessage.Payload);
            return null;
        }

        if (!Vda5050Topics.TryParse(topicName, out var topic) || topic.InterfaceName != options.InterfaceName)
            return null;
        var robot = new RobotId(topic.Manufacturer, topic.SerialNumber);
        var payload = e.ApplicationMessage.Payload;
        if (payload.Length == 0)
            return null; // a cleared retained message
        var bytes = payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray();
        try
        {
            switch (topic.Topic)
            {
                case Vda5050Topic.State:
                    return OnState(robot, Vda5050Json.Deserialize<State>(bytes));
                case Vda5050Topic.Connection:
                    OnConnection(robot, Vda5050Json.Deserialize<Connection>(bytes));
                    break;
                case Vda5050Topic.Factsheet:
                    var factsheet = Vda5050Json.Deserialize<Factsheet>(bytes);
                    var actions = factsheet.ProtocolFeatures.AgvActions.Select(a => a.ActionType).ToList();
                    twins.Update(robot, t => t with { SupportedActions = actions });
                    var received = new RobotFactsheetReceived(robot, actions, factsheet.TypeSpecification.MaxLoadMass);
                    _factsheets[robot] = received; // announced again if a standby's gateway starts publishing
                    Emit(received);
                    break;
            }
        }
        catch (Vda5050FormatException ex)
        {
            logger.LogWarning("Ignored message on {Topic}: {Error}", topicName, ex.Message);
        }

        return null;
    }

    /// <summary>Updates the twin and passes the state on; returns the sending of what the robot missed when this is its first state since it came ONLINE (else null).</summary>
    private Task? OnState(RobotId robot, State state)
    {
        var now = time.GetUtcNow();
        var current = StateMapper.ToDomain(robot, state, now);
        var before = twins.Find(robot)?.Connection;
        var twin = twins.Update(robot, t => StateMapper.Apply(t, current, now) with { Charging = state.BatteryState.Charging });
        if (before is null or RobotConnectionState.Unknown && twin.Connection == RobotConnectionState.Online)
            Emit(new RobotConnectionChanged(robot, RobotConnectionState.Online, now));
        var missed = _awaitingState.TryRemove(robot, out _) && _publishing ? SendMissedAsync(robot) : null;

        if (GatewayMetrics.StateAge.Enabled)
            GatewayMetrics.StateAge.Record((time.GetUtcNow() - state.Timestamp).TotalMilliseconds);
        if (current.Timestamp < _freshFrom && now < _freshUntil)
            return missed; // stamped before this gateway started publishing: maybe stale (see StartPublishing)

        var previous = _lastStates.GetValueOrDefault(robot);
        // Unchanged states still go out as a heartbeat now and then, so the control plane can tell a silent robot from a quiet one.
        if (!StateMapper.IsSignificantChange(previous, current)
            && now - _lastPublished.GetValueOrDefault(robot, DateTimeOffset.MinValue) < options.StateHeartbeat)
            return missed;
        _lastStates[robot] = current;
        _lastPublished[robot] = now;
        Emit(current);
        foreach (var derived in StateMapper.DerivedEvents(previous, current))
            Emit(derived);
        return missed;
    }

    private void OnModelStatus(RobotId robot, string topicName, ReadOnlySequence<byte> payload)
    {
        if (payload.Length == 0)
            return; // a cleared retained message
        RobotModelStatusReported report;
        try
        {
            report = ModelStatusMapper.ToDomain(robot, payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray(), time.GetUtcNow());
        }
        catch (FormatException ex)
        {
            logger.LogWarning("Ignored message on {Topic}: {Error}", topicName, ex.Message);
            return;
        }

        Emit(report);
    }

    private void OnPerception(RobotId robot, string topicName, ReadOnlySequence<byte> payload)
    {
        if (payload.Length == 0)
            return;
        PerceptionReported report;
        try
        {
            report = PerceptionMapper.ToDomain(robot, payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray(), time.GetUtcNow());
        }
        catch (FormatException ex)
        {
            logger.LogWarning("Ignored message on {Topic}: {Error}", topicName, ex.Message);
            return;
        }

        Emit(report);
    }

    /// <summary>Updates the twin; when the robot is ONLINE, has what it missed sent with its next state or after <see cref="GatewayOptions.OnlineStateWait"/>.</summary>
    private void OnConnection(RobotId robot, Connection connection)
    {
        var state = StateMapper.ToDomain(connection.ConnectionState);
        var before = twins.Find(robot)?.Connection;
        twins.Update(robot, t => t with { Connection = state });
        if (state != RobotConnectionState.Online)
            _lastStates.TryRemove(robot, out _); // the first state after it is back is always passed on
        if (before != state)
        {
            logger.LogInformation("Robot {Robot} is {State}", robot, connection.ConnectionState);
            Emit(new RobotConnectionChanged(robot, state, time.GetUtcNow()));
        }

        // ONLINE comes on every (re)connect of the robot, after it subscribed, and (retained) on every reconnect of the
        // gateway: both sides are connected now, so order updates lost while either was away can go out again, once the
        // robot's next state shows what it has (or OnlineStateWait passed without one). Regression: the twin still showed
        // update 0 of an order whose updates 1 and 2 the robot had taken (its states lost as the broker went down), the
        // copies went out at once, and the robot refused update 1 as not newer than its 2 (CI, 2026-12-01).
        if (state != RobotConnectionState.Online)
        {
            _awaitingState.TryRemove(robot, out _);
            return;
        }

        if (!_publishing)
            return;
        var online = Interlocked.Increment(ref _onlineCount);
        _awaitingState[robot] = online;
        _ = SendMissedUnlessStateCameAsync(robot, online);
    }

    /// <summary>After <see cref="GatewayOptions.OnlineStateWait"/>: sends what the robot missed on the state the gateway has, unless its next state came first (and sent it).</summary>
    private async Task SendMissedUnlessStateCameAsync(RobotId robot, long online)
    {
        try
        {
            await Task.Delay(options.OnlineStateWait, time, _stopped.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        if (!_awaitingState.TryRemove(KeyValuePair.Create(robot, online)) || !_publishing)
            return;
        try
        {
            await SendMissedAsync(robot);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not send what {Robot} missed", robot);
        }
    }

    /// <summary>Sends the robot's kept messages and the order updates its state does not show; one robot's at a time (a robot's next state and a wait's end may both come).</summary>
    private async Task SendMissedAsync(RobotId robot)
    {
        await _sendingMissed.WaitAsync();
        try
        {
            var flushed = await SendOutboxAsync(robot);
            await ResendMissedOrderUpdatesAsync(robot, flushed);
        }
        finally
        {
            _sendingMissed.Release();
        }
    }

    /// <summary>
    /// Sends the messages kept for <paramref name="robot"/> while the gateway was not connected, oldest first; returns the
    /// payloads sent.
    /// </summary>
    private async Task<HashSet<byte[]>> SendOutboxAsync(RobotId robot)
    {
        var sent = new HashSet<byte[]>(ReferenceEqualityComparer.Instance);
        if (!_outbox.TryGetValue(robot, out var outbox))
            return sent;
        while (outbox.TryPeek(out var message))
        {
            // A kept update goes out after the updates before it that the robot missed (lost as the broker went down, or
            // while the robot was away): sent first, it would be rejected, its base not starting where the robot's ends.
            if (message.Topic == Vda5050Topic.Order && !await ResendMissedOrderUpdatesAsync(robot, sent, before: message.Payload))
                break; // kept for the next ONLINE
            try
            {
                await PublishAsync(robot, message.Topic, message.Payload, CancellationToken.None);
            }
            catch (Exception e) when (e is InvalidOperationException or MQTTnet.Exceptions.MqttCommunicationException)
            {
                logger.LogWarning("Could not send the kept messages to {Robot}: {Error}", robot, e.Message);
                break; // kept for the next ONLINE
            }

            outbox.TryDequeue(out _);
            sent.Add(message.Payload);
        }

        return sent;
    }

    /// <summary>
    /// Sends again, oldest first, the updates of the order last sent to <paramref name="robot"/> that its last reported state
    /// does not show (another order id, or a lower update id): QoS 0 orders published while the broker, the gateway or the
    /// robot was away are lost. A robot that did get one ignores the copy (the same order id and update id twice). With
    /// <paramref name="before"/> (a kept update about to go out), only the updates sent before that one. Adds what it sends
    /// to <paramref name="justSent"/> (and skips what is in it); false when the broker could not be reached.
    /// </summary>
    private async Task<bool> ResendMissedOrderUpdatesAsync(RobotId robot, HashSet<byte[]> justSent, byte[]? before = null)
    {
        if (!_sentOrders.TryGetValue(robot, out var sent) || twins.Find(robot) is not { } twin)
            return true;
        List<(long UpdateId, byte[] Payload)> missed;
        lock (sent)
        {
            var end = before is null ? sent.Updates.Count : sent.Updates.FindIndex(u => ReferenceEquals(u.Payload, before));
            missed = sent.Updates.Take(end < 0 ? 0 : end)
                .Where(u => (twin.OrderId != sent.OrderId || u.UpdateId > twin.OrderUpdateId) && !justSent.Contains(u.Payload)).ToList();
        }

        foreach (var (updateId, payload) in missed)
        {
            logger.LogInformation("Sending order {OrderId}/{OrderUpdateId} to {Robot} again: its state shows {ReportedOrderId}/{ReportedUpdateId}",
                sent.OrderId, updateId, robot, twin.OrderId, twin.OrderUpdateId);
            try
            {
                await PublishAsync(robot, Vda5050Topic.Order, payload, CancellationToken.None);
            }
            catch (Exception e) when (e is InvalidOperationException or MQTTnet.Exceptions.MqttCommunicationException)
            {
                logger.LogWarning("Could not send order {OrderId}/{OrderUpdateId} to {Robot} again: {Error}", sent.OrderId, updateId, robot, e.Message);
                return false; // the next ONLINE tries again
            }

            justSent.Add(payload);
        }

        return true;
    }

    /// <summary>The updates of the order last sent to a robot, in the order sent; lock it to read or add.</summary>
    private sealed class SentOrder(string orderId)
    {
        public string OrderId { get; } = orderId;

        public List<(long UpdateId, byte[] Payload)> Updates { get; } = [];
    }

    private async Task PublishAsync(RobotId robot, Vda5050Topic topic, byte[] payload, CancellationToken cancellationToken)
    {
        if (!_client.IsConnected)
            throw new InvalidOperationException($"MQTT gateway is not connected; cannot send {Vda5050Topics.Leaf(topic)} to {robot}");
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(Vda5050Topics.Build(options.InterfaceName, robot.Manufacturer, robot.SerialNumber, topic))
            .WithPayload(payload)
            .WithQualityOfServiceLevel((MqttQualityOfServiceLevel)Vda5050Topics.QualityOfService(topic))
            .WithRetainFlag(Vda5050Topics.IsRetained(topic))
            .Build();
        await _client.PublishAsync(message, cancellationToken);
    }

    private long NextHeaderId(RobotId robot, Vda5050Topic topic) =>
        _headerIds.AddOrUpdate((robot, topic), 0, (_, id) => id + 1);

    private static TimeSpan Jitter(TimeSpan delay) => delay * (0.5 + Random.Shared.NextDouble());
}
