using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace RobotFleet.Server.Tests;

/// <summary>
/// The server is stopped (as by SIGTERM) while its in-process simulated robots run missions, then started again on the same
/// data directory: our own shutdown (the robots going offline with it) fails nothing and excludes no robot, and every
/// mission completes after the restart.
/// </summary>
public sealed class When_the_server_stops_with_simulated_robots
{
    [Fact]
    public async Task Should_neither_fail_missions_nor_exclude_its_robots_and_complete_them_after_a_restart()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), $"robotfleet-stop-{Guid.NewGuid():N}");
        var options = new ServerOptions { Robots = 3, TimeScale = 20, DataDirectory = dataDir };
        var ids = new List<string>();
        try
        {
            var server = await ServerHost.StartAsync(options, "stop-1");
            Assert.True(await ServerHost.WaitUntilAsync(async () => (await server.GetJsonAsync("/api/robots")).EnumerateArray()
                .Count(r => r.GetProperty("connection").GetString() == "ONLINE") == 3, TimeSpan.FromSeconds(30)), "3 robots ONLINE");
            var locations = (await server.GetJsonAsync("/api/locations")).EnumerateArray()
                .Where(l => !l.GetProperty("kinds").EnumerateArray().Any(k => k.GetString() is "charger" or "parking"))
                .Select(l => l.GetProperty("name").GetString()!).ToList();
            var random = new Random(7);
            for (var i = 0; i < 6; i++)
            {
                var pickup = locations[random.Next(locations.Count)];
                var dropoff = locations.Where(l => l != pickup).ElementAt(random.Next(locations.Count - 1));
                var response = await server.Http.PostAsJsonAsync("/api/missions", new { kind = "delivery", pickup, dropoff });
                Assert.Equal(HttpStatusCode.Created, response.StatusCode);
                ids.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
            }

            Assert.True(await ServerHost.WaitUntilAsync(async () => (await server.GetJsonAsync("/api/missions")).EnumerateArray()
                .Any(m => m.GetProperty("status").GetString() == "Executing"), TimeSpan.FromSeconds(60)), "a mission executing before the stop");
            await server.DisposeAsync(); // the in-process robots go OFFLINE with it
            var firstLog = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "logs"), "stop-1*.log").OrderByDescending(File.GetLastWriteTimeUtc).First();
            using (var reader = new StreamReader(new FileStream(firstLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete)))
            {
                var log = await reader.ReadToEndAsync();
                Assert.Contains("stops deciding", log, StringComparison.Ordinal);
                Assert.DoesNotContain("back in the queue", log, StringComparison.Ordinal); // no decision on our own robots going offline
                Assert.DoesNotContain(" Failed (", log, StringComparison.Ordinal);
            }

            await using var restarted = await ServerHost.StartAsync(options, "stop-2");
            async Task<List<JsonElement>> Missions() => (await restarted.GetJsonAsync("/api/missions")).EnumerateArray().ToList();
            var afterStop = await Missions();
            Assert.Equal(6, afterStop.Count);
            Assert.DoesNotContain(afterStop, m => m.GetProperty("status").GetString() == "Failed");
            Assert.All(afterStop, m => Assert.Empty(m.GetProperty("failedRobots").EnumerateArray()));

            var done = await ServerHost.WaitUntilAsync(async () => (await Missions()).All(m => m.GetProperty("status").GetString() == "Completed"), TimeSpan.FromSeconds(150));
            var missions = await Missions();
            Assert.True(done, "all completed; statuses: " + string.Join(", ", missions.Select(m => $"{m.GetProperty("id")}={m.GetProperty("status")} {m.GetProperty("failureReason")} failed robots: {m.GetProperty("failedRobots")}")));
            Assert.All(missions, m => Assert.Empty(m.GetProperty("failedRobots").EnumerateArray()));
        }
        finally
        {
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
    }
}
