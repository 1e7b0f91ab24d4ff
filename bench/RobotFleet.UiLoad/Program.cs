using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using RobotFleet.Contracts;
using RobotFleet.Gateway;
using RobotFleet.Server;

// UI load: N robot twins updating at 5 Hz pushed to one page of the web console in headless chromium.
// The page measures state-to-screen latency (server receive timestamp vs. the page clock after the frame
// that shows the update) and its frame rate. Twins are written straight into the twin registry, the
// gateway's output, bypassing MQTT: this measures the stream and the page, not the broker.
// Usage: dotnet run -c Release --project bench/RobotFleet.UiLoad [-- --seconds 15 --robots 100,1000]

var seconds = 15;
int[] counts = [100, 1000];
for (var i = 0; i < args.Length - 1; i++)
{
    if (args[i] == "--seconds") seconds = int.Parse(args[i + 1]);
    if (args[i] == "--robots") counts = args[i + 1].Split(',').Select(int.Parse).ToArray();
}

const string Chromium = "/usr/bin/chromium";
if (!File.Exists(Chromium))
{
    Console.Error.WriteLine($"chromium not found at {Chromium}: apt-get install -y --no-install-recommends chromium");
    return 1;
}

var app = RobotFleetServer.Build(new ServerOptions { NoSimulation = true, Robots = 0, HttpPort = 0, MqttPort = 0 },
    builder => builder.Logging.SetMinimumLevel(LogLevel.Warning));
await app.StartAsync();
var twins = app.Services.GetRequiredService<RobotTwinRegistry>();
var url = app.Urls.First();

using var playwright = await Playwright.CreateAsync();
await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
{
    ExecutablePath = Chromium,
    Headless = true,
    Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});

Console.WriteLine($"UI load: robot twins at 5 Hz each -> GET /api/stream -> one page (1600x900, headless chromium); {seconds} s measured per row after 3 s warm-up");
var rows = new List<string>();
foreach (var count in counts)
{
    foreach (var twin in twins.All)
        twins.Remove(twin.Robot);
    using var feeder = new CancellationTokenSource();
    var feed = Task.Run(() => Feed(twins, count, feeder.Token));
    var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 900 } });
    await page.GotoAsync(url);
    await page.WaitForSelectorAsync("body[data-ready='true']");
    await page.WaitForFunctionAsync($"document.querySelectorAll('.robot-icon[data-robot]').length >= {count}", null, new PageWaitForFunctionOptions { Timeout = 60_000 });
    await Task.Delay(3000);
    await page.EvaluateAsync("() => { const m = window.robotFleetMetrics; m.reset(); m.frames = 0; m.start = performance.now(); }");
    await Task.Delay(TimeSpan.FromSeconds(seconds));
    var json = await page.EvaluateAsync<JsonElement>(
        "() => { const m = window.robotFleetMetrics; const l = [...m.latencies].sort((a, b) => a - b); const q = p => l.length ? l[Math.min(l.length - 1, Math.floor(l.length * p))] : -1;" +
        " return { n: l.length, p50: q(0.5), p95: q(0.95), p99: q(0.99), max: l.length ? l[l.length - 1] : -1, fps: m.frames * 1000 / (performance.now() - m.start) }; }");
    await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(AppContext.BaseDirectory, $"uiload-{count}.png") });
    await page.CloseAsync();
    await feeder.CancelAsync();
    var sent = await feed;
    double Get(string name) => json.GetProperty(name).GetDouble();
    rows.Add($"| {count,6} | {sent,9:F0} | {Get("n"),9:F0} | {Get("p50"),7:F0} | {Get("p95"),7:F0} | {Get("p99"),7:F0} | {Get("max"),7:F0} | {Get("fps"),5:F1} |");
    Console.WriteLine(rows[^1]);
}

Console.WriteLine();
Console.WriteLine("| robots | updates/s | measured | p50 ms | p95 ms | p99 ms | max ms |   fps |");
Console.WriteLine("|-------:|----------:|---------:|-------:|-------:|-------:|-------:|------:|");
foreach (var row in rows)
    Console.WriteLine(row);
Console.WriteLine($"(first row is the baseline; screenshots: {AppContext.BaseDirectory}uiload-N.png; goal: p95 <= 250 ms at 1000 robots)");
await app.StopAsync();
return 0;

// Moves `count` robots on circles over the office map, each updated 5 times a second, spread evenly over time.
// Returns the updates written per second.
static double Feed(RobotTwinRegistry twins, int count, CancellationToken cancellationToken)
{
    var ids = Enumerable.Range(1, count).Select(i => new RobotId("UiLoad", $"r-{i:D4}")).ToArray();
    var clock = Stopwatch.StartNew();
    long updates = 0;
    var next = 0;
    const double Hz = 5;
    while (!cancellationToken.IsCancellationRequested)
    {
        // Every robot once per 200 ms, in 10 slices of 20 ms.
        var due = (long)(clock.Elapsed.TotalSeconds * Hz * count);
        while (updates < due)
        {
            var i = next;
            next = (next + 1) % count;
            var t = clock.Elapsed.TotalSeconds;
            var angle = t * 0.3 + i * 0.61;
            var cx = 8 + i % 10 * 1.2;
            var cy = -10 + i / 10 % 8 * 1.0;
            var position = new RobotPosition(cx + Math.Cos(angle) * 0.8, cy + Math.Sin(angle) * 0.8, angle + Math.PI / 2, "L1");
            var now = DateTimeOffset.UtcNow;
            twins.Update(ids[i], twin => twin with
            {
                Connection = RobotConnectionState.Online, Position = position, BatteryCharge = 80 - i % 50,
                Driving = true, LastStateAt = now,
            });
            updates++;
        }

        Thread.Sleep(20);
    }

    return updates / clock.Elapsed.TotalSeconds;
}
