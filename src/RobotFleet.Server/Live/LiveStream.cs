using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using MassTransit;
using RobotFleet.ControlPlane.Missions;
using RobotFleet.Contracts;
using RobotFleet.Gateway;
using RobotFleet.Server.Alerts;
using RobotFleet.Server.Api;

namespace RobotFleet.Server.Live;

/// <summary>A robot as the live stream sends it: the API's robot, its route, and when its last state arrived.</summary>
/// <param name="Id"><c>manufacturer/serialNumber</c>.</param>
/// <param name="Robot">The robot as <c>GET /api/robots</c> shows it.</param>
/// <param name="Route">Its dispatched route, or null.</param>
/// <param name="Ts">When the server received the state shown (Unix milliseconds); the page measures latency from it.</param>
public sealed record LiveRobot(string Id, RobotDto Robot, LiveRoute? Route, long Ts);

/// <summary>A robot's route on the stream.</summary>
/// <param name="OrderId">VDA order id.</param>
/// <param name="MissionId">Mission, or null for a move aside.</param>
/// <param name="Waypoints">Remaining waypoint ids, from the last reached.</param>
/// <param name="Released">How many of them (from the start) are released; the rest is the horizon.</param>
public sealed record LiveRoute(string OrderId, string? MissionId, IReadOnlyList<string> Waypoints, int Released);

/// <summary>
/// Server-Sent Events for the web console (<c>GET /api/stream</c>). Every <see cref="ServerOptions.StreamInterval"/>
/// one timer compares each twin and route with what it sent last (by reference: they are immutable
/// snapshots), serialises the changed robots once into one <c>robots</c> event, and hands the same
/// bytes to every client: at most 10 updates a second per robot, the latest value wins, and the
/// gateway's hot path does no work for the stream. Mission changes (<c>mission</c>) and alerts
/// (<c>alert</c>) go out on the same tick. A client too slow to keep up is disconnected (its browser
/// reconnects and gets a fresh snapshot).
/// </summary>
public sealed class LiveStream(RobotTwinRegistry twins, FleetCoordinator coordinator, MissionStore missions, AlertService alerts, ServerOptions options, IHostApplicationLifetime lifetime, ILogger<LiveStream> logger)
    : BackgroundService
{
    private static readonly JsonSerializerOptions Json = CreateJson();
    private readonly ConcurrentDictionary<long, Channel<byte[]>> _clients = new();
    private readonly ConcurrentDictionary<string, byte> _changedMissions = new();
    private readonly ConcurrentQueue<Alert> _changedAlerts = new();
    private readonly Dictionary<RobotId, (RobotTwin Twin, RouteView? Route)> _sent = [];
    private long _nextClient;

    /// <summary>Number of connected clients.</summary>
    public int ClientCount => _clients.Count;

    /// <summary>Notes that a mission changed; it goes out on the next tick.</summary>
    public void MissionChanged(string missionId) => _changedMissions.TryAdd(missionId, 0);

    /// <inheritdoc />
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        alerts.Changed += OnAlert;
        return base.StartAsync(cancellationToken);
    }

    /// <inheritdoc />
    public override Task StopAsync(CancellationToken cancellationToken)
    {
        alerts.Changed -= OnAlert;
        return base.StopAsync(cancellationToken);
    }

    private void OnAlert(Alert alert) => _changedAlerts.Enqueue(alert);

    /// <summary>Serves one client until it goes away or the server stops.</summary>
    public async Task ServeAsync(HttpContext context)
    {
        var response = context.Response;
        response.Headers.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        var channel = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(64) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        var id = Interlocked.Increment(ref _nextClient);
        _clients[id] = channel;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        try
        {
            // Subscribed first, then the snapshot: nothing falls between them (a robot may come twice).
            await response.WriteAsync($"retry: 2000\n\nevent: hello\ndata: {{\"serverTime\":{Now()}}}\n\n", stop.Token);
            var snapshot = twins.All.Select(ToLive).ToList();
            await response.Body.WriteAsync(Event("robots", new { full = true, sent = Now(), robots = snapshot }), stop.Token);
            await response.Body.FlushAsync(stop.Token);
            var reader = channel.Reader;
            while (true)
            {
                using var heartbeat = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                heartbeat.CancelAfter(TimeSpan.FromSeconds(15));
                try
                {
                    if (!await reader.WaitToReadAsync(heartbeat.Token))
                        break; // too slow: dropped; the browser reconnects
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                {
                    await response.WriteAsync(": keep-alive\n\n", stop.Token);
                    await response.Body.FlushAsync(stop.Token);
                    continue;
                }

                while (reader.TryRead(out var message))
                    await response.Body.WriteAsync(message, stop.Token);
                await response.Body.FlushAsync(stop.Token);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // client gone or server stopping
        }
        catch (IOException)
        {
            // client gone
        }
        finally
        {
            _clients.TryRemove(id, out _);
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.StreamInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    Tick();
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogError(e, "Live stream tick failed");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down
        }
    }

    private void Tick()
    {
        var messages = new List<byte[]>();
        var changed = new List<LiveRobot>();
        var present = new HashSet<RobotId>();
        foreach (var twin in twins.All)
        {
            present.Add(twin.Robot);
            var route = coordinator.Routes.Find(twin.Robot);
            if (_sent.TryGetValue(twin.Robot, out var sent) && ReferenceEquals(sent.Twin, twin) && ReferenceEquals(sent.Route, route))
                continue;
            _sent[twin.Robot] = (twin, route);
            changed.Add(ToLive(twin, route));
        }

        var removed = _sent.Keys.Where(r => !present.Contains(r)).ToList();
        foreach (var robot in removed)
            _sent.Remove(robot);
        if (changed.Count > 0 || removed.Count > 0)
            messages.Add(Event("robots", new { full = false, sent = Now(), robots = changed, removed = removed.Select(r => r.ToString()) }));

        foreach (var missionId in _changedMissions.Keys)
        {
            _changedMissions.TryRemove(missionId, out _);
            if (missions.Find(missionId) is { } mission)
                messages.Add(Event("mission", MissionDto.From(mission)));
        }

        while (_changedAlerts.TryDequeue(out var alert))
            messages.Add(Event("alert", alert));

        if (messages.Count == 0)
            return;
        foreach (var (id, client) in _clients)
            foreach (var message in messages)
                if (!client.Writer.TryWrite(message))
                {
                    client.Writer.TryComplete();
                    _clients.TryRemove(id, out _);
                    logger.LogInformation("Live stream client {Client} could not keep up; disconnected", id);
                    break;
                }
    }

    private LiveRobot ToLive(RobotTwin twin) => ToLive(twin, coordinator.Routes.Find(twin.Robot));

    private static LiveRobot ToLive(RobotTwin twin, RouteView? route) => new(
        twin.Robot.ToString(), RobotDto.From(twin),
        route is null ? null : new LiveRoute(route.OrderId, route.MissionId, route.WaypointIds, route.ReleasedCount),
        (twin.LastStateAt ?? DateTimeOffset.UtcNow).ToUnixTimeMilliseconds());

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static byte[] Event<T>(string name, T data)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(data, Json);
        var head = Encoding.UTF8.GetBytes($"event: {name}\ndata: ");
        var message = new byte[head.Length + json.Length + 2];
        head.CopyTo(message, 0);
        json.CopyTo(message, head.Length);
        message[^2] = (byte)'\n';
        message[^1] = (byte)'\n';
        return message;
    }

    private static JsonSerializerOptions CreateJson()
    {
        var json = new JsonSerializerOptions();
        ApiJson.Configure(json);
        return json;
    }
}

/// <summary>Tells the live stream about mission changes from the bus.</summary>
public sealed class LiveStreamConsumer(LiveStream stream) : IConsumer<MissionStatusChanged>
{
    /// <inheritdoc />
    public Task Consume(ConsumeContext<MissionStatusChanged> context)
    {
        stream.MissionChanged(context.Message.MissionId);
        return Task.CompletedTask;
    }
}
