using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using MassTransit;
using MassTransit.RabbitMqTransport;
using MassTransit.RabbitMqTransport.Configuration;
using MassTransit.Transports;
using RabbitMQ.Client;
using RobotFleet.Contracts;
using RobotFleet.Gateway;

namespace RobotFleet.Server.Hosting;

/// <summary>The bus watchdog's probe: sent to this instance's own bus queue and consumed there (a round trip over the broker).</summary>
/// <param name="Id">Tells one probe's round trip from another's.</param>
public sealed record BusProbe(Guid Id);

/// <summary>
/// Keeps the RabbitMQ bus moving after a broker restart: detects a stalled bus and makes MassTransit open a new connection.
/// Only where the bus is RabbitMQ (<c>--bus rabbitmq://...</c>); the in-memory bus has no connection to stall.
/// </summary>
/// <remarks>
/// <para>
/// The rule comes from the open upstream bug rabbitmq/rabbitmq-dotnet-client#1930 ("BasicPublishAsync hangs after RabbitMQ
/// server restart", publisher confirms on; seen with RabbitMQ.Client 7.2.2 and MassTransit 8.5): after the broker came back,
/// publishes on the restored connection can wait for the channel's RPC lock (in <c>ExchangeDeclareAsync</c>) for minutes,
/// while the broker itself is fine, and a publish may never complete, whatever its cancellation token says. Turning
/// publisher confirms off would make such publishes silently lossy, so they stay on and this watchdog breaks the hang
/// instead (the coordinator and the gateway also leave a publish attempt behind after 10 s and publish again).
/// </para>
/// <para>
/// Stalled means, while the broker accepts TCP connections: a probe (<see cref="BusProbe"/>, every <see cref="ProbeInterval"/>,
/// sent to this instance's bus queue, the channel the coordinator and the gateway publish on) has not come back for
/// <see cref="StallAfter"/>; or a message has been in a consumer for <see cref="ConsumeStallAfter"/> (a consumer's publish or
/// response caught on another endpoint's channel; longer, since a consumer may also wait for the database); or, on the
/// instance that ingests robot messages, the bus took robot states from the gateway and the coordinator took nothing from
/// the robot-events queue for <see cref="StallAfter"/> after, with nothing in its consumer (<see cref="RobotEventFlow"/>;
/// seen 20 to 25 s after the state's publish, probing every 5 s: that queue's consumer did not
/// come back after a broker restart while this instance's own queue did, seen in CI: missions frozen for minutes). The time
/// counts from the latest of: the probe's, consume's or state's start, the broker answering again after an outage, and the
/// previous recycle; so an outage itself is never a stall.
/// </para>
/// <para>
/// Acting means having the broker close the current AMQP connection (<see cref="RecycleAsync"/>): MassTransit drops every
/// channel of it and opens a new connection with new channels, for the endpoints configured with the bus and those connected
/// at run time (the leader's decider endpoints) alike. What was in flight fails on the old connection and is not lost: the coordinator
/// and the gateway publish again until the bus takes a message; a consume that failed is not acknowledged, so the broker
/// delivers the message again (its consumers tolerate a repeat); a request whose response never comes fails to its caller
/// (an API error), never silently. A consume still running <see cref="ConsumeStallAfter"/> after it began and after a recycle
/// is reported (a warning) and does not cause another: a new connection does not end it.
/// </para>
/// <para>Thread-safe: the consume observer methods run on any thread; the rest runs on the background service's loop.</para>
/// </remarks>
public sealed class BusWatchdog(RabbitMqBusAddress address, BusConsumeTracker consumes, IServiceProvider services, IHostApplicationLifetime lifetime, ILogger<BusWatchdog> logger)
    : BackgroundService
{
    /// <summary>How often a probe is sent and the stall conditions are checked: 5 s.</summary>
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long probes may fail to come back, or robot states taken by the bus fail to reach the coordinator, with the broker
    /// reachable, before the bus counts as stalled: 20 s.
    /// </summary>
    public static readonly TimeSpan StallAfter = TimeSpan.FromSeconds(20);

    /// <summary>How long a message may be in a consumer, with the broker reachable, before the bus counts as stalled: 60 s.</summary>
    public static readonly TimeSpan ConsumeStallAfter = TimeSpan.FromSeconds(60);

    /// <summary>How long one probe may take to come back before the next is sent (the stall still counts from the first): 10 s.</summary>
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<Guid, TaskCompletionSource> _probes = new();
    private long _recycles;
    private long _lastProbeReturnedTicks;

    /// <summary>How many times this watchdog has recycled the connection (by itself or through <see cref="RecycleAsync"/>).</summary>
    public long Recycles => Interlocked.Read(ref _recycles);

    /// <summary>When the latest probe came back (UTC), or null before the first.</summary>
    public DateTimeOffset? LastProbeReturnedAt =>
        Interlocked.Read(ref _lastProbeReturnedTicks) is > 0 and var ticks ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    /// <summary>
    /// Closes the bus's current AMQP connection so that MassTransit opens a new one with new channels (see the remarks on the
    /// class): has the broker close it (<see cref="BrokerClosesAsync"/>), or, when that does not happen within 5 s, aborts it.
    /// Waits at most 10 s for the current connection (none while MassTransit is still connecting: then it returns false).
    /// Logs a warning naming the upstream bug. Thread-safe.
    /// </summary>
    /// <param name="reason">Why, for the log and the connection's close reason.</param>
    /// <param name="cancellationToken">Stops waiting for the connection.</param>
    /// <returns>True when a connection was closed (or aborted).</returns>
    /// <exception cref="InvalidOperationException">The bus is not on RabbitMQ.</exception>
    public async Task<bool> RecycleAsync(string reason, CancellationToken cancellationToken)
    {
        var host = services.GetRequiredService<IBusInstance>().HostConfiguration as IRabbitMqHostConfiguration
                   ?? throw new InvalidOperationException("the bus watchdog runs only on a RabbitMQ bus (--bus rabbitmq://...)");
        IConnection? connection = null;
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            await host.ConnectionContextSupervisor.Send(Pipe.Execute<ConnectionContext>(context => connection = context.Connection), wait.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Bus watchdog: no RabbitMQ connection to recycle at {Address} ({Error})", address, e.Message);
            return false;
        }

        if (connection is null)
            return false;
        Interlocked.Increment(ref _recycles);
        logger.LogWarning("Bus watchdog: {Reason}; having the broker close the RabbitMQ connection to {Address} so that MassTransit opens a new one "
            + "(the hang after a broker restart of RabbitMQ.Client 7.2.2, rabbitmq/rabbitmq-dotnet-client#1930)", reason, address);
        if (await BrokerClosesAsync(connection, cancellationToken))
            return true;
        try
        {
            // The connection does not even get a declare through: close it from this side (MassTransit then also drops
            // its per-message-type send channels, but only as each fails once).
            logger.LogWarning("Bus watchdog: the broker did not close the connection to {Address} within 5 s; aborting it", address);
            await connection.AbortAsync(Constants.ConnectionForced, "RobotFleet bus watchdog: " + reason, TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogWarning("Bus watchdog: aborting the RabbitMQ connection to {Address} failed: {Error}", address, e.Message);
        }

        return true;
    }

    /// <summary>
    /// Has the broker close <paramref name="connection"/>: on a channel of its own, declares an exchange of a type that does not
    /// exist, which RabbitMQ answers by closing the whole connection (503 COMMAND_INVALID, a connection error). The client then
    /// sees a broker-initiated close, as when the broker restarts, on which MassTransit stops every channel of the connection
    /// at once; after a close from this side (an abort) it keeps its per-message-type send channels until each fails once, and
    /// each such failure held the decider up for several seconds here. True when the connection closed within 5 s.
    /// </summary>
    private async Task<bool> BrokerClosesAsync(IConnection connection, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await using var channel = await connection.CreateChannelAsync(cancellationToken: timeout.Token);
            await channel.ExchangeDeclareAsync("robotfleet.bus-watchdog", "x-robotfleet-reconnect", durable: false, autoDelete: true,
                arguments: null, passive: false, noWait: false, cancellationToken: timeout.Token);
        }
        catch (Exception e) when (e is not OutOfMemoryException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogDebug("Bus watchdog: the reconnect declare ended: {Error}", e.Message);
        }

        while (connection.IsOpen && !timeout.IsCancellationRequested)
            await Task.Delay(50, CancellationToken.None);
        return !connection.IsOpen;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            // Probe only once every hosted service (the bus among them) has started.
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
                await started.Task.WaitAsync(stoppingToken);
            var bus = services.GetRequiredService<IBus>();
            var gateway = services.GetService<MqttGateway>();
            var received = services.GetService<RobotEventCounter>();
            using var handle = bus.ConnectHandler<BusProbe>(context =>
            {
                if (_probes.TryRemove(context.Message.Id, out var returned))
                    returned.TrySetResult();
                return Task.CompletedTask;
            });
            await WatchAsync(bus, gateway, received, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down
        }
    }

    private async Task WatchAsync(IBus bus, MqttGateway? gateway, RobotEventCounter? received, CancellationToken stoppingToken)
    {
        var robotEvents = new RobotEventFlow(StallAfter);
        var clock = Stopwatch.StartNew();
        TimeSpan? reachableSince = clock.Elapsed; // the bus started: the broker answered
        var lastRecycle = TimeSpan.Zero;
        TimeSpan? failingSince = null; // the first probe since the last one that came back
        Task<string?>? probe = null; // its error, or null when it came back
        var failures = 0;
        var probeStarted = TimeSpan.Zero;
        using var timer = new PeriodicTimer(ProbeInterval);
        do
        {
            var now = clock.Elapsed;
            if (probe is { IsCompleted: true })
            {
                if (probe.Result is { } error)
                {
                    if (failures++ == 0)
                        logger.LogInformation("Bus watchdog: a probe did not come back within {Timeout} s ({Error}); probing every {Interval} s",
                            ProbeTimeout.TotalSeconds, error, ProbeInterval.TotalSeconds);
                }
                else
                {
                    if (failures > 0 && failingSince is { } since)
                        logger.LogInformation("Bus watchdog: probes come back again, {Seconds:F0} s after the first that did not{Recycled}", (now - since).TotalSeconds,
                            lastRecycle > since ? $" ({(now - lastRecycle).TotalSeconds:F0} s after the recycle)" : "");
                    failures = 0;
                    failingSince = null;
                    Interlocked.Exchange(ref _lastProbeReturnedTicks, DateTimeOffset.UtcNow.UtcTicks);
                }

                probe = null;
            }

            if (probe is null)
            {
                probeStarted = now;
                failingSince ??= now;
                probe = ProbeAsync(bus, stoppingToken);
            }

            if (!await BrokerAnswersAsync(stoppingToken))
            {
                reachableSince = null;
                robotEvents.Restart();
                continue;
            }

            reachableSince ??= now;
            foreach (var (type, age) in consumes.StuckSinceRecycle(ConsumeStallAfter))
                logger.LogWarning("Bus watchdog: a {Type} message has been in a consumer for {Seconds:F0} s, since before the RabbitMQ connection was recycled: "
                    + "that consume is stuck (rabbitmq/rabbitmq-dotnet-client#1930) and holds one of its endpoint's message slots until this process restarts",
                    type, age.TotalSeconds);
            var from = Max(reachableSince.Value, lastRecycle);
            string? stall = null;
            if (failingSince is { } failing && now - Max(failing, from) >= StallAfter)
                stall = $"no bus probe came back for {(now - failing).TotalSeconds:F0} s (the current one sent {(now - probeStarted).TotalSeconds:F0} s ago)";
            else if (consumes.Stalled(ConsumeStallAfter, DateTime.UtcNow - (clock.Elapsed - from)) is { } consume)
                stall = $"a {consume.Type} message has been in a consumer for {consume.Age.TotalSeconds:F0} s";
            else if (gateway is not { IsPublishing: true } || received is null)
                robotEvents.Restart(); // a standby: its gateway publishes nothing, its coordinator consumes nothing
            else if (received.EventsInConsumer > 0)
                robotEvents.Restart(); // a slow (or stuck) consume holds the queue's one slot: the consume rule's case, not this one
            else if (robotEvents.Observe(now, received: received.EventsReceived, published: gateway.StatesPublished) is { } undelivered)
                stall = $"the bus took robot states from the gateway, but the coordinator has taken nothing from the robot-events queue for {undelivered.TotalSeconds:F0} s";
            if (stall is null)
                continue;

            robotEvents.Restart();
            lastRecycle = now;
            consumes.SetAsideRunning(); // a consume that outlives the recycle does not cause another (it is reported below)
            if (await RecycleAsync(stall + " while the broker accepts connections", stoppingToken))
                lastRecycle = clock.Elapsed;
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Sends one probe to this instance's bus queue; null when it came back within <see cref="ProbeTimeout"/>, else why not.</summary>
    private async Task<string?> ProbeAsync(IBus bus, CancellationToken stoppingToken)
    {
        var probe = new BusProbe(Guid.NewGuid());
        var returned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _probes[probe.Id] = returned;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            timeout.CancelAfter(ProbeTimeout);
            // WaitAsync as well as the token: a send caught in the upstream hang may ignore its cancellation, and a probe that
            // never ends would keep the next from being sent after a recycle.
            var endpoint = await bus.GetSendEndpoint(bus.Address).WaitAsync(timeout.Token);
            await endpoint.Send(probe, timeout.Token).WaitAsync(timeout.Token);
            await returned.Task.WaitAsync(timeout.Token);
            return null;
        }
        catch (Exception e) when (e is not OutOfMemoryException && !stoppingToken.IsCancellationRequested)
        {
            return e is OperationCanceledException ? "timed out" : e.Message;
        }
        finally
        {
            _probes.TryRemove(probe.Id, out _);
        }
    }

    /// <summary>True when the broker accepts a TCP connection within 2 s (a restarting broker does not).</summary>
    private async Task<bool> BrokerAnswersAsync(CancellationToken stoppingToken)
    {
        using var client = new TcpClient();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            await client.ConnectAsync(address.Host, address.Port, timeout.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException || (e is OperationCanceledException && !stoppingToken.IsCancellationRequested))
        {
            return false;
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}

/// <summary>
/// Whether robot states reach the coordinator (a rule of the <see cref="BusWatchdog"/>): from samples of how many states the
/// gateway published on the bus (<see cref="MqttGateway.StatesPublished"/>) and how many messages reached the coordinator's
/// consumer from the robot-events queue (<see cref="RobotEventCounter.EventsReceived"/>), how long since the bus took a state
/// that was followed by no delivery at all. Sampled every 5 s, it reports a stall 20 to 25 s after such a state's publish.
/// A message can be delivered before its publish is confirmed, so one state more published than at the last delivery is not
/// counted (read the received count before the published one). Times are on one monotonic clock (e.g. a stopwatch's
/// elapsed time). Not thread-safe: one loop samples it.
/// </summary>
/// <param name="window">How long states may stay undelivered before <see cref="Observe"/> reports it (the watchdog: 20 s).</param>
public sealed class RobotEventFlow(TimeSpan window)
{
    private long _received = -1;
    private long _published;
    private TimeSpan? _undeliveredSince;

    /// <summary>
    /// Takes one sample; returns how long nothing has reached the coordinator since the bus took a state (two more than at
    /// the last delivery) first seen undelivered, when that is at least the window, else null. The first sample, and each
    /// after the delivered count changed, starts afresh.
    /// </summary>
    /// <param name="at">When the sample was taken.</param>
    /// <param name="received">Messages delivered to the coordinator's consumer so far.</param>
    /// <param name="published">States the bus took from the gateway so far (read after <paramref name="received"/>).</param>
    public TimeSpan? Observe(TimeSpan at, long received, long published)
    {
        if (received != _received)
        {
            _received = received;
            _published = published;
            _undeliveredSince = null;
            return null;
        }

        if (_undeliveredSince is null && published > _published + 1)
            _undeliveredSince = at;
        return _undeliveredSince is { } since && at - since >= window ? at - since : null;
    }

    /// <summary>Forgets the samples (the broker was away, the connection was recycled, or the gateway stopped publishing).</summary>
    public void Restart() => _received = -1;
}

/// <summary>
/// Which messages are in a consumer now, and since when (a MassTransit consume observer, connected to every receive endpoint
/// of the bus, also those connected at run time); the <see cref="BusWatchdog"/> reads it. Thread-safe.
/// </summary>
public sealed class BusConsumeTracker : IConsumeObserver
{
    private readonly ConcurrentDictionary<ConsumeContext, (string Type, DateTime Since)> _running = new(ReferenceEqualityComparer.Instance);
    private readonly ConcurrentDictionary<ConsumeContext, (string Type, DateTime Since)> _setAside = new(ReferenceEqualityComparer.Instance);

    /// <summary>
    /// The oldest consume that has run for <paramref name="after"/> counted from no earlier than <paramref name="notBefore"/>
    /// (UTC), with its message type and age; null when there is none.
    /// </summary>
    public (string Type, TimeSpan Age)? Stalled(TimeSpan after, DateTime notBefore)
    {
        var now = DateTime.UtcNow;
        foreach (var (type, since) in _running.Values.OrderBy(v => v.Since))
        {
            if (now - (since > notBefore ? since : notBefore) >= after)
                return (type, now - since);
        }

        return null;
    }

    /// <summary>
    /// Sets the consumes running now aside (at a recycle): one that outlives it is no reason for another, since a new connection
    /// does not end it; <see cref="StuckSinceRecycle"/> reports it instead.
    /// </summary>
    public void SetAsideRunning()
    {
        foreach (var (context, consume) in _running)
        {
            if (_running.TryRemove(context, out _))
                _setAside[context] = consume;
        }
    }

    /// <summary>
    /// The consumes set aside at a recycle that are still running <paramref name="after"/> after they began, each returned once
    /// (message type and age).
    /// </summary>
    public IReadOnlyList<(string Type, TimeSpan Age)> StuckSinceRecycle(TimeSpan after)
    {
        var now = DateTime.UtcNow;
        var stuck = new List<(string Type, TimeSpan Age)>();
        foreach (var (context, (type, since)) in _setAside)
        {
            if (now - since >= after && _setAside.TryRemove(context, out _))
                stuck.Add((type, now - since));
        }

        return stuck;
    }

    Task IConsumeObserver.PreConsume<T>(ConsumeContext<T> context)
    {
        _running[context] = (typeof(T).Name, DateTime.UtcNow);
        return Task.CompletedTask;
    }

    Task IConsumeObserver.PostConsume<T>(ConsumeContext<T> context)
    {
        Remove(context);
        return Task.CompletedTask;
    }

    Task IConsumeObserver.ConsumeFault<T>(ConsumeContext<T> context, Exception exception)
    {
        Remove(context);
        return Task.CompletedTask;
    }

    private void Remove(ConsumeContext context)
    {
        _running.TryRemove(context, out _);
        _setAside.TryRemove(context, out _);
    }
}
