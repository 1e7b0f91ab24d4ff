namespace RobotFleet.Server.Tests;

/// <summary>The <c>--demo</c> mode: the driver keeps the fleet busy and missions complete.</summary>
public sealed class When_the_demo_runs
{
    [Fact]
    public async Task Should_complete_five_demo_deliveries()
    {
        await using var server = await ServerHost.StartAsync(new ServerOptions
        {
            Demo = true, Robots = 3, TimeScale = 20, DemoInterval = TimeSpan.FromMilliseconds(300), DemoSeed = 5,
        });

        var done = await ServerHost.WaitUntilAsync(async () => (await server.GetJsonAsync("/api/missions")).EnumerateArray()
            .Count(m => m.GetProperty("status").GetString() == "Completed") >= 5, TimeSpan.FromSeconds(90));

        var missions = (await server.GetJsonAsync("/api/missions")).EnumerateArray().ToList();
        Assert.True(done, "5 completed; statuses: " + string.Join(", ", missions.Select(m => m.GetProperty("status").GetString())));
        Assert.All(missions, m => Assert.StartsWith("demo-", m.GetProperty("id").GetString()));
        Assert.True(missions.Count(m => m.GetProperty("status").GetString() is not ("Completed" or "Failed" or "Cancelled")) <= 6, "at most two unfinished missions per robot");
    }

    [Fact]
    public async Task Should_keep_to_two_unfinished_missions_per_robot_across_a_restart()
    {
        // Regression (found by a new user restarting the demo): the control plane restores its missions at its first
        // decision, and the driver's first look at the missions came before it, so every restart added one more
        // unfinished mission (6, 7, 8 ... with 3 robots).
        var data = Path.Combine(Path.GetTempPath(), $"robotfleet-demo-{Guid.NewGuid():N}");
        var options = new ServerOptions { Demo = true, Robots = 3, DemoInterval = TimeSpan.FromMilliseconds(300), DemoSeed = 5, DataDirectory = data };
        try
        {
            for (var run = 0; run < 3; run++)
            {
                await using var server = await ServerHost.StartAsync(options);
                var most = 0;
                async Task<bool> Full()
                {
                    most = Math.Max(most, Unfinished(await server.GetJsonAsync("/api/missions")));
                    return most >= 6;
                }

                Assert.True(await ServerHost.WaitUntilAsync(Full, TimeSpan.FromSeconds(30)), $"run {run}: the driver should fill the fleet to 6 unfinished missions");
                await ServerHost.WaitUntilAsync(async () => !await Full(), TimeSpan.FromSeconds(3)); // three more seconds, ten intervals
                Assert.Equal(6, most); // filled to the cap, never past it
            }
        }
        finally
        {
            try { Directory.Delete(data, recursive: true); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }

        static int Unfinished(System.Text.Json.JsonElement missions) =>
            missions.EnumerateArray().Count(m => m.GetProperty("status").GetString() is not ("Completed" or "Failed" or "Cancelled"));
    }
}
