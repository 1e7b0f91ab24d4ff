using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using RobotFleet.Server;
using RobotFleet.Server.Tests;
using Xunit.Abstractions;

namespace RobotFleet.Browser.Tests;

/// <summary>The web console in headless chromium against a whole server with simulated robots.</summary>
public sealed partial class When_operators_use_the_console(ITestOutputHelper output)
{
    [Fact]
    public async Task Should_show_the_map_with_robot_markers_that_move()
    {
        await using var browser = await Browser.StartAsync(await ServerHost.StartAsync(new ServerOptions { Robots = 3, TimeScale = 20 }));
        var page = browser.Page;
        await page.WaitForFunctionAsync("document.querySelectorAll('.robot-icon[data-robot]').length === 3");
        Assert.True(await page.Locator(".leaflet-overlay-pane canvas").CountAsync() > 0, "site drawn on the map canvas");
        Assert.Equal(14, await page.Locator(".loc-icon").CountAsync());

        foreach (var (pickup, dropoff) in new[] { ("pantry", "coe"), ("supplies", "hardware_2") })
            (await browser.Server.Http.PostAsJsonAsync("/api/missions", new { kind = "delivery", pickup, dropoff })).EnsureSuccessStatusCode();

        var before = await MarkerPositionsAsync(page);
        var moved = false;
        for (var i = 0; i < 80 && !moved; i++)
        {
            await Task.Delay(250);
            var now = await MarkerPositionsAsync(page);
            moved = now.Any(p => before.TryGetValue(p.Key, out var b) && Math.Abs(p.Value.X - b.X) + Math.Abs(p.Value.Y - b.Y) > 3);
        }

        Assert.True(moved, "a robot marker moved on screen within 20 s of two deliveries being submitted");
        await page.WaitForSelectorAsync(".robot-icon[data-state='executing']");
        // The panel fills in after the click (rendered on the next animation frame). The list is rebuilt on every robot
        // update, several a second, so on a loaded machine a click can land while its row is being replaced (CI once
        // waited 10 s for a panel that never opened): click again, up to three times, 5 s each.
        var details = page.Locator("#robot-details", new PageLocatorOptions { HasText = "Battery" });
        for (var attempt = 1; ; attempt++)
        {
            await page.Locator(".robot-list li").First.ClickAsync();
            try
            {
                await details.WaitForAsync(new LocatorWaitForOptions { Timeout = 5_000 });
                break;
            }
            catch (TimeoutException) when (attempt < 3)
            {
            }
        }

        Assert.Contains("Battery", await page.Locator("#robot-details").InnerTextAsync());
        await Task.Delay(500);
        await browser.ScreenshotAsync("live-map", output);
    }

    [Fact]
    public async Task Should_create_a_delivery_in_the_form_and_show_it_completed_with_its_timeline()
    {
        await using var browser = await Browser.StartAsync(await ServerHost.StartAsync(new ServerOptions { Robots = 3, TimeScale = 20 }));
        var page = browser.Page;
        await page.WaitForFunctionAsync("document.querySelectorAll('.robot-icon[data-robot]').length === 3");

        // Pickup from the list, dropoff by clicking its location on the map.
        await page.SelectOptionAsync("#pickup", "pantry");
        await page.Locator(".loc-icon[title='pantry']").ClickAsync();
        await page.Locator(".loc-icon[title='coe']").ClickAsync();
        Assert.Equal("coe", await page.InputValueAsync("#dropoff"));
        await page.ClickAsync("#create-delivery");
        var created = await page.Locator("#form-message").Filter(new LocatorFilterOptions { HasTextRegex = MissionCreated() }).InnerTextAsync();
        var id = MissionCreated().Match(created).Groups[1].Value;
        output.WriteLine($"created {id}");

        await page.ClickAsync("nav [data-tab='missions']");
        var row = page.Locator($"#missions tr[data-mission='{id}']");
        await row.WaitForAsync();
        await page.Locator($"#missions tr[data-mission='{id}'][data-status='Completed']").WaitForAsync(new LocatorWaitForOptions { Timeout = 60_000 });
        await row.ClickAsync();
        var timeline = page.Locator($"#timeline ol[data-mission='{id}']");
        foreach (var status in new[] { "Queued", "Assigned", "Dispatched", "Executing", "Completed" })
            Assert.Equal(1, await timeline.Locator($"li[data-status='{status}']").CountAsync());

        await page.SelectOptionAsync("#mission-filter", "Completed");
        Assert.Equal(1, await page.Locator("#missions tbody tr").CountAsync());
        await browser.ScreenshotAsync("missions", output);
    }

    [Fact]
    public async Task Should_raise_an_alert_when_a_robot_drops_its_connection_and_let_an_operator_acknowledge_it()
    {
        await using var browser = await Browser.StartAsync(await ServerHost.StartAsync(new ServerOptions { Robots = 2, TimeScale = 20 }));
        var page = browser.Page;
        await page.WaitForFunctionAsync("document.querySelectorAll('.robot-icon[data-robot]').length === 2");

        browser.Server.Fleet.Find("sim-1")!.DropConnectionAbruptly();
        await page.WaitForSelectorAsync(".robot-icon[data-robot='RobotFleet/sim-1'][data-state='offline']");
        await page.Locator("#alert-badge").Filter(new LocatorFilterOptions { HasText = "1" }).WaitForAsync();
        await page.ClickAsync("nav [data-tab='alerts']");
        var alert = page.Locator("#alerts tr[data-kind='RobotLost']").Filter(new LocatorFilterOptions { HasText = "sim-1" });
        await alert.WaitForAsync();
        await browser.ScreenshotAsync("alerts", output);

        await alert.Locator("button.ack").ClickAsync();
        await page.Locator("#alerts tr.acked[data-kind='RobotLost']").WaitForAsync();
        Assert.True(await page.Locator("#alert-badge").IsHiddenAsync(), "no open alerts left");
        var alerts = await browser.Server.GetJsonAsync("/api/alerts");
        Assert.Contains(alerts.EnumerateArray(), a => a.GetProperty("kind").GetString() == "RobotLost" && a.GetProperty("acknowledgedBy").GetString() == "api");
    }

    private static async Task<Dictionary<string, (double X, double Y)>> MarkerPositionsAsync(IPage page)
    {
        var positions = await page.EvaluateAsync<PositionRow[]>(
            "() => [...document.querySelectorAll('.robot-icon[data-robot]')].map(e => { const r = e.getBoundingClientRect(); return { id: e.dataset.robot, x: r.x, y: r.y }; })");
        return positions.ToDictionary(p => p.Id, p => (p.X, p.Y));
    }

    private sealed class PositionRow
    {
        public string Id { get; set; } = "";

        public double X { get; set; }

        public double Y { get; set; }
    }

    [GeneratedRegex(@"Mission (m-[0-9a-f]+) created")]
    private static partial Regex MissionCreated();
}
