using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using RobotFleet.EdgeAgent;
using RobotFleet.Maps;
using RobotFleet.Server.Hosting;

namespace RobotFleet.Server.Tests;

/// <summary>
/// The control plane stops mid-run and comes back on the same data directory while the robots (on a broker of their own,
/// as in production) go on: every accepted mission completes, and every pick and drop runs exactly once.
/// </summary>
public sealed class When_the_control_plane_restarts
{
    [Fact]
    public async Task Should_complete_every_mission_with_each_pick_and_drop_executed_once()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), $"robotfleet-restart-{Guid.NewGuid():N}");
        await using var broker = new EmbeddedBroker(IPAddress.Loopback, 0, NullLogger<EmbeddedBroker>.Instance);
        await broker.StartAsync(CancellationToken.None);
        var brokerUri = new Uri($"mqtt://127.0.0.1:{broker.Port}");
        var map = SiteMapGeoJson.Load(Path.Combine(FindRepoRoot(), "maps", "office"));
        await using var robots = await SimulatedFleet.StartAsync(new SimulatedFleetOptions
        {
            Broker = brokerUri,
            Placements = RobotPlacement.FromMap(map, 3),
            TimeScale = 20,
        });
        var actions = await ActionWatch.StartAsync(broker.Port);
        var options = new ServerOptions { NoSimulation = true, Robots = 0, Broker = brokerUri, DataDirectory = dataDir };
        var ids = new List<string>();
        try
        {
            var server = await ServerHost.StartAsync(options, "restart-1");
            Assert.True(await ServerHost.WaitUntilAsync(async () => (await server.GetJsonAsync("/api/robots")).EnumerateArray()
                .Count(r => r.GetProperty("connection").GetString() == "ONLINE") == 3, TimeSpan.FromSeconds(30)), "3 robots ONLINE");
            var locations = (await server.GetJsonAsync("/api/locations")).EnumerateArray()
                .Where(l => !l.GetProperty("kinds").EnumerateArray().Any(k => k.GetString() is "charger" or "parking"))
                .Select(l => l.GetProperty("name").GetString()!).ToList();
            var random = new Random(11);
            for (var i = 0; i < 10; i++)
            {
                var pickup = locations[random.Next(locations.Count)];
                var dropoff = locations.Where(l => l != pickup).ElementAt(random.Next(locations.Count - 1));
                var response = await server.Http.PostAsJsonAsync("/api/missions", new { kind = "delivery", pickup, dropoff });
                Assert.Equal(HttpStatusCode.Created, response.StatusCode);
                ids.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
            }

            // Stop while missions run: some executing, at least one done.
            Assert.True(await ServerHost.WaitUntilAsync(async () =>
            {
                var statuses = (await server.GetJsonAsync("/api/missions")).EnumerateArray().Select(m => m.GetProperty("status").GetString()).ToList();
                return statuses.Contains("Completed") && statuses.Contains("Executing");
            }, TimeSpan.FromSeconds(60)), "missions running before the stop");
            await server.DisposeAsync();

            await Task.Delay(TimeSpan.FromSeconds(2)); // the robots drive on; some may finish their order meanwhile

            await using var restarted = await ServerHost.StartAsync(options, "restart-2");
            async Task<List<JsonElement>> Missions() => (await restarted.GetJsonAsync("/api/missions")).EnumerateArray().ToList();
            Assert.Equal(10, (await Missions()).Count);
            var done = await ServerHost.WaitUntilAsync(async () => (await Missions()).All(m => m.GetProperty("status").GetString() == "Completed"), TimeSpan.FromSeconds(150));
            var missions = await Missions();
            Assert.True(done, "all completed; statuses: " + string.Join(", ", missions.Select(m => $"{m.GetProperty("id")}={m.GetProperty("status")} {m.GetProperty("failureReason")}")));
            await Task.Delay(500); // the last states on the wire
        }
        finally
        {
            await actions.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(dataDir, recursive: true);
            }
            catch (IOException)
            {
                // best effort
            }
        }

        // From the robots' own reports: per mission, one finished pick and one finished drop (order ids are the mission id,
        // or "{mission}-rN" for a re-queued attempt; action ids are "{order}-pick" and "{order}-drop").
        foreach (var id in ids)
        {
            var (picks, drops, all) = actions.Count(id);
            Assert.True(picks == 1 && drops == 1, $"{id}: {picks} picks, {drops} drops: {all}; watch connection drops: {actions.Disconnects}");
        }
    }

    internal static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RobotFleet.sln")))
                return dir.FullName;
        }

        throw new DirectoryNotFoundException("RobotFleet.sln not found above " + AppContext.BaseDirectory);
    }
}
