using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using MQTTnet;
using RobotFleet.Vda5050;
using RobotFleet.Vda5050.V2;

namespace RobotFleet.Server.Tests;

/// <summary>
/// End to end in one process: embedded broker, control plane and 3 simulated robots over real MQTT on
/// loopback at time scale 20; deliveries submitted through the HTTP API.
/// </summary>
public sealed class When_a_fleet_runs_deliveries
{
    // With --traffic pibt, seed 3 froze all three robots within 3 s (regression): a release the controller made while the
    // robot's plan was being replaced never went out, and the controller waited for the robot to drive it.
    [Theory]
    [InlineData(7, ControlPlane.TrafficControl.Reservation)]
    [InlineData(3, ControlPlane.TrafficControl.Reservation)]
    [InlineData(3, ControlPlane.TrafficControl.Pibt)]
    [InlineData(7, ControlPlane.TrafficControl.Pibt)]
    [InlineData(3, ControlPlane.TrafficControl.Pibt, true)]
    [InlineData(7, ControlPlane.TrafficControl.Reservation, true)]
    public async Task Should_complete_ten_deliveries_without_two_robots_on_one_waypoint(int seed, ControlPlane.TrafficControl traffic, bool oneWayLoops = false)
    {
        await using var server = await ServerHost.StartAsync(new ServerOptions { Robots = 3, TimeScale = 20, TrafficControl = traffic, OneWayLoops = oneWayLoops });
        if (oneWayLoops)
        {
            // The map served is the one driven: the office's loops one way round, fewer two-way lanes than in the file.
            var twoWayServed = (await server.GetJsonAsync("/api/map")).GetProperty("features").EnumerateArray()
                .Count(f => f.GetProperty("properties").GetProperty("type").GetString() == "lane" && f.GetProperty("properties").GetProperty("direction").GetString() == "two-way");
            var file = RobotFleet.Maps.SiteMapGeoJson.Load(RobotFleetServer.ResolveMapDirectory("maps/office"));
            var twoWayInFile = file.Lanes.Count(l => file.FindLane(l.ToWaypointId, l.FromWaypointId) is not null) / 2;
            Assert.True(twoWayServed < twoWayInFile, $"{twoWayServed} two-way lanes served, {twoWayInFile} in the file");
        }

        var watch = await StateWatch.StartAsync(server.MqttPort);
        Assert.True(await ServerHost.WaitUntilAsync(async () => (await server.GetJsonAsync("/api/robots")).EnumerateArray()
            .Count(r => r.GetProperty("connection").GetString() == "ONLINE") == 3, TimeSpan.FromSeconds(30)), "3 robots ONLINE");

        var locations = (await server.GetJsonAsync("/api/locations")).EnumerateArray()
            .Where(l => !l.GetProperty("kinds").EnumerateArray().Any(k => k.GetString() is "charger" or "parking"))
            .Select(l => l.GetProperty("name").GetString()!).ToList();
        var random = new Random(seed);
        var ids = new List<string>();
        for (var i = 0; i < 13; i++)
        {
            var pickup = locations[random.Next(locations.Count)];
            var dropoff = locations.Where(l => l != pickup).ElementAt(random.Next(locations.Count - 1));
            var response = await server.Http.PostAsJsonAsync("/api/missions", new { kind = "delivery", pickup, dropoff });
            Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
            ids.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
        }

        async Task<List<JsonElement>> Missions() => (await server.GetJsonAsync("/api/missions")).EnumerateArray().ToList();

        // An operator cancels one running mission on the way: the robot stops on its next waypoint and traffic goes on.
        string? running = null;
        Assert.True(await ServerHost.WaitUntilAsync(async () =>
            (running = (await Missions()).Where(m => m.GetProperty("status").GetString() == "Executing").Select(m => m.GetProperty("id").GetString()).FirstOrDefault()) is not null,
            TimeSpan.FromSeconds(30)), "a mission executing");
        Assert.Equal(System.Net.HttpStatusCode.OK, (await server.Http.PostAsync($"/api/missions/{running}/cancel", null)).StatusCode);
        var done = await ServerHost.WaitUntilAsync(async () => (await Missions()).Count(m => m.GetProperty("status").GetString() == "Completed") >= 10, TimeSpan.FromSeconds(150));
        var missions = await Missions();
        Assert.True(done, "≥10 completed; statuses: " + string.Join(", ", missions.Select(m => $"{m.GetProperty("id")}={m.GetProperty("status")} {m.GetProperty("failureReason")}")));
        Assert.DoesNotContain(missions, m => m.GetProperty("status").GetString() == "Failed");
        Assert.Equal("Cancelled", missions.Single(m => m.GetProperty("id").GetString() == running).GetProperty("status").GetString());
        Assert.DoesNotContain("invariant", server.ReadLog(), StringComparison.OrdinalIgnoreCase);

        var completed = missions.First(m => m.GetProperty("status").GetString() == "Completed");
        var timeline = completed.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("status").GetString()).ToList();
        Assert.Equal(["Queued", "Assigned", "Dispatched", "Executing", "Completed"], timeline);
        Assert.Contains(completed.GetProperty("id").GetString(), ids);

        await watch.DisposeAsync();
        Assert.True(watch.StatesSeen > 30, $"saw {watch.StatesSeen} state messages");
        Assert.True(watch.Violations.IsEmpty, "two robots on one waypoint: " + string.Join("; ", watch.Violations.Take(5)));
    }

    /// <summary>Follows every robot's VDA state and records any moment two robots report the same last node.</summary>
    private sealed class StateWatch : IAsyncDisposable
    {
        private readonly IMqttClient _client;
        private readonly ConcurrentDictionary<string, string> _lastNode = new();

        private StateWatch(IMqttClient client) => _client = client;

        public ConcurrentQueue<string> Violations { get; } = new();

        public int StatesSeen;

        public static async Task<StateWatch> StartAsync(int port)
        {
            var client = new MqttClientFactory().CreateMqttClient();
            var watch = new StateWatch(client);
            client.ApplicationMessageReceivedAsync += e =>
            {
                var state = Vda5050Json.Deserialize<State>(e.ApplicationMessage.Payload.ToArray());
                watch.Observe($"{state.Manufacturer}/{state.SerialNumber}", state.LastNodeId, state.Timestamp);
                return Task.CompletedTask;
            };
            await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId("state-watch").Build());
            await client.SubscribeAsync(Vda5050Topics.AllRobots("uagv", Vda5050Topic.State));
            return watch;
        }

        private void Observe(string robot, string lastNodeId, DateTimeOffset at)
        {
            Interlocked.Increment(ref StatesSeen);
            if (lastNodeId.Length == 0)
                return;
            _lastNode[robot] = lastNodeId;
            foreach (var (other, node) in _lastNode)
            {
                if (other != robot && node == lastNodeId)
                    Violations.Enqueue($"{robot} and {other} both at '{node}' ({at:O})");
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _client.DisconnectAsync();
            _client.Dispose();
        }
    }
}
