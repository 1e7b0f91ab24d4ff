using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MQTTnet;
using Microsoft.Extensions.DependencyInjection;
using RobotFleet.TestSupport;
using Xunit.Abstractions;

namespace RobotFleet.Server.Tests;

/// <summary>
/// Obstacles end to end: one simulated robot on the office map runs a detector (rolled out through the registry) that finds
/// the simulator's obstacle box in the camera pixels; an obstacle placed on a lane of its route ahead is detected, the lane
/// closes, and the robot gets a new route round it; what the robot gets is read off the MQTT wire.
/// </summary>
public sealed class When_an_obstacle_blocks_a_route(ITestOutputHelper output)
{
    // pantry -> coe on the office map runs pantry, patrol_D1, L1_v61, L1_v60 (L1_lane15), patrol_A1, L1_v49, L1_v64, coe; the way
    // round L1_lane15 is patrol_D1, L1_v45, patrol_A2, L1_v48, patrol_D2, L1_v49. The obstacle sits on L1_lane15 1.5 m west of L1_v61.
    private const string ClosedLane = "L1_lane15";
    private static readonly (double X, double Y) Spot = (13.8, -6.96);

    [Fact]
    public async Task The_lane_closes_and_the_robot_is_re_routed_round_it_within_2_s_and_the_mission_completes()
    {
        await using var server = await ServerHost.StartAsync(new ServerOptions { Robots = 1, PerceptionRate = 10, SimulatedModelStatusInterval = TimeSpan.FromSeconds(1) });
        await using var wire = await Wire.StartAsync(server.MqttPort);
        Assert.True(await ServerHost.WaitUntilAsync(async () =>
            (await server.GetJsonAsync("/api/robots")).EnumerateArray().Count(r => r.GetProperty("connection").GetString() == "ONLINE") == 1, TimeSpan.FromSeconds(30)), "robot online");

        // The detector goes onto the robot the way technicians put models there: registry upload, rollout.
        using (var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(ModelPackages.ObstacleDetector), "model", "model.onnx" },
            { new ByteArrayContent(ModelPackages.ObstacleDetectorManifest()), "manifest", "manifest.json" },
        })
        {
            using var uploaded = await server.Http.PostAsync("/api/models", form);
            Assert.True(uploaded.StatusCode == HttpStatusCode.Created, await uploaded.Content.ReadAsStringAsync());
        }

        using (var rollout = await server.Http.PostAsJsonAsync("/api/rollouts", new
        {
            model = "obstacle-detector", version = "1.0.0", target = new { all = true }, waves = new object[] { "100%" },
            gate = new { maxErrorRate = 0.0, minRuns = 1, timeoutSeconds = 60 }, install = new { actionTimeoutSeconds = 60, waitTimeoutSeconds = 60 },
        }))
        {
            Assert.True(rollout.StatusCode == HttpStatusCode.Created, await rollout.Content.ReadAsStringAsync());
        }

        Assert.True(await ServerHost.WaitUntilAsync(() => Task.FromResult(wire.PerceptionReports > 0), TimeSpan.FromSeconds(60)), "perception reports from the detector");
        Assert.Equal(0, wire.Detections); // nothing in view yet

        using var submitted = await server.Http.PostAsJsonAsync("/api/missions", new { kind = "delivery", pickup = "pantry", dropoff = "coe" });
        Assert.Equal(HttpStatusCode.Created, submitted.StatusCode);
        var mission = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        Assert.True(await ServerHost.WaitUntilAsync(() => Task.FromResult(wire.Orders.Any(o => o.Edges.Contains(ClosedLane))), TimeSpan.FromSeconds(30)),
            $"the first order uses {ClosedLane}: {wire.Describe()}");

        // Once it has picked up at the pantry, the obstacle appears on L1_lane15 ahead.
        var sim = server.Fleet.Simulation("sim-1")!;
        Assert.True(await ServerHost.WaitUntilAsync(async () =>
            (await server.GetJsonAsync($"/api/robots/RobotFleet/sim-1")).GetProperty("lastNodeId").GetString() == "pantry", TimeSpan.FromSeconds(60)), "robot at the pantry");
        sim.PlaceObstacle("crate", Spot.X, Spot.Y, server.Services.GetRequiredService<RobotFleet.Maps.SiteMap>().Waypoints["pantry"].LevelId);

        Assert.True(await ServerHost.WaitUntilAsync(() => Task.FromResult(wire.FirstDetection is not null), TimeSpan.FromSeconds(20)), "the obstacle is detected");
        Assert.True(await ServerHost.WaitUntilAsync(async () =>
            (await server.GetJsonAsync("/api/lanes/closed")).EnumerateArray().Any(l => l.GetProperty("laneId").GetString() == ClosedLane), TimeSpan.FromSeconds(5)), "lane closed");
        Assert.True(await ServerHost.WaitUntilAsync(() => Task.FromResult(wire.Orders.Any(o => o.ReceivedAt > wire.FirstDetection!.Value.ReceivedAt && !o.Edges.Contains(ClosedLane))),
            TimeSpan.FromSeconds(10)), $"a new route: {wire.Describe()}");

        var detection = wire.FirstDetection!.Value;
        var cancel = wire.Cancels.FirstOrDefault(c => c > detection.ReceivedAt);
        var reroute = wire.Orders.First(o => o.ReceivedAt > detection.ReceivedAt && !o.Edges.Contains(ClosedLane));
        var toCancel = cancel == default ? (TimeSpan?)null : cancel - detection.FrameAt;
        var toRoute = reroute.ReceivedAt - detection.FrameAt;
        output.WriteLine($"detected at ({detection.X:0.00}, {detection.Y:0.00}) in the frame of {detection.FrameAt:O}; " +
                         $"cancelOrder after {toCancel?.TotalMilliseconds:F0} ms; new order {reroute.OrderId}/{reroute.UpdateId} after {toRoute.TotalMilliseconds:F0} ms: {string.Join(" ", reroute.Nodes)}");
        File.AppendAllText(Path.Combine(AppContext.BaseDirectory, "logs", "obstacle-reroute-times.txt"),
            $"{DateTime.UtcNow:O} cancel_ms={toCancel?.TotalMilliseconds:F0} new_route_ms={toRoute.TotalMilliseconds:F0}\n");
        Assert.True(toRoute < TimeSpan.FromSeconds(2), $"new route {toRoute.TotalMilliseconds:F0} ms after the frame that saw the obstacle");
        Assert.DoesNotContain("pantry", reroute.Nodes); // the pick is done: not made again
        Assert.Equal(Spot.X, detection.X, 0.5);
        Assert.Equal(Spot.Y, detection.Y, 0.5);

        var last = await server.WaitForMissionEndAsync(mission, TimeSpan.FromSeconds(90));
        Assert.Equal("Completed", last.GetProperty("status").GetString());
        Assert.Contains((await server.GetJsonAsync("/api/alerts")).EnumerateArray(), a => a.GetProperty("kind").GetString() == "LaneClosed");

        // Operators can close and open lanes too.
        using (var close = await server.Http.PostAsync("/api/lanes/L1_lane0/close?reason=spill", null))
            Assert.Equal(HttpStatusCode.OK, close.StatusCode);
        Assert.Contains((await server.GetJsonAsync("/api/lanes/closed")).EnumerateArray(), l => l.GetProperty("laneId").GetString() == "L1_lane0:r");
        using (var open = await server.Http.PostAsync("/api/lanes/L1_lane0/open", null))
            Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        Assert.DoesNotContain((await server.GetJsonAsync("/api/lanes/closed")).EnumerateArray(), l => l.GetProperty("laneId").GetString()!.StartsWith("L1_lane0", StringComparison.Ordinal));
        using (var unknown = await server.Http.PostAsync("/api/lanes/nope/close", null))
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    /// <summary>What goes over MQTT: perception reports, orders and cancelOrders for the robots.</summary>
    private sealed class Wire : IAsyncDisposable
    {
        private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
        private readonly ConcurrentQueue<OrderSeen> _orders = new();
        private readonly ConcurrentQueue<DateTimeOffset> _cancels = new();
        private int _reports;
        private int _detections;

        public int PerceptionReports => _reports;

        public int Detections => _detections;

        public (DateTimeOffset FrameAt, DateTimeOffset ReceivedAt, double X, double Y)? FirstDetection { get; private set; }

        public IReadOnlyList<OrderSeen> Orders => _orders.ToList();

        public IReadOnlyList<DateTimeOffset> Cancels => _cancels.ToList();

        public static async Task<Wire> StartAsync(int port)
        {
            var wire = new Wire();
            wire._client.ApplicationMessageReceivedAsync += e =>
            {
                var now = DateTimeOffset.UtcNow;
                var leaf = e.ApplicationMessage.Topic.Split('/')[^1];
                using var json = JsonDocument.Parse(e.ApplicationMessage.Payload.ToArray());
                var root = json.RootElement;
                switch (leaf)
                {
                    case "perception":
                        Interlocked.Increment(ref wire._reports);
                        var found = root.GetProperty("detections").EnumerateArray().Where(d => d.TryGetProperty("x", out var x) && x.ValueKind == JsonValueKind.Number).ToList();
                        if (found.Count > 0)
                        {
                            Interlocked.Increment(ref wire._detections);
                            lock (wire)
                                wire.FirstDetection ??= (root.GetProperty("timestamp").GetDateTimeOffset(), now, found[0].GetProperty("x").GetDouble(), found[0].GetProperty("y").GetDouble());
                        }

                        break;
                    case "order":
                        wire._orders.Enqueue(new OrderSeen(root.GetProperty("orderId").GetString()!, root.GetProperty("orderUpdateId").GetInt64(), now,
                            root.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("nodeId").GetString()!).ToList(),
                            root.GetProperty("edges").EnumerateArray().Select(n => n.GetProperty("edgeId").GetString()!).ToList()));
                        break;
                    case "instantActions":
                        if (root.GetProperty("actions").EnumerateArray().Any(a => a.GetProperty("actionType").GetString() == "cancelOrder"))
                            wire._cancels.Enqueue(now);
                        break;
                }

                return Task.CompletedTask;
            };
            await wire._client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId("obstacle-wire").Build());
            await wire._client.SubscribeAsync("robotfleet/v1/+/+/perception");
            await wire._client.SubscribeAsync("uagv/v2/+/+/order");
            await wire._client.SubscribeAsync("uagv/v2/+/+/instantActions");
            return wire;
        }

        public string Describe() => string.Join("; ", Orders.Select(o => $"{o.OrderId}/{o.UpdateId}: {string.Join(" ", o.Nodes)} [{string.Join(" ", o.Edges)}]"));

        public async ValueTask DisposeAsync()
        {
            await _client.DisconnectAsync();
            _client.Dispose();
        }
    }

    private sealed record OrderSeen(string OrderId, long UpdateId, DateTimeOffset ReceivedAt, IReadOnlyList<string> Nodes, IReadOnlyList<string> Edges);
}
