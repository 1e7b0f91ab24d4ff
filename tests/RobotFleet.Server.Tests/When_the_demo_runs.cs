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
}
