using Microsoft.Playwright;
using RobotFleet.Server.Tests;
using Xunit.Abstractions;

namespace RobotFleet.Browser.Tests;

/// <summary>
/// A RobotFleet server in process plus Debian's headless chromium driven by Playwright. Fails (does not
/// skip) when /usr/bin/chromium is missing: CI installs it.
/// </summary>
public sealed class Browser : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private static readonly string[] ChromiumArgs =
        ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private Browser(ServerHost server, IPlaywright playwright, IBrowser browser, IPage page)
    {
        Server = server;
        _playwright = playwright;
        _browser = browser;
        Page = page;
    }

    public ServerHost Server { get; }

    public IPage Page { get; }

    public static string ScreenshotDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public static async Task<Browser> StartAsync(ServerHost server, int width = 1600, int height = 900)
    {
        if (!File.Exists(ChromiumPath))
        {
            await server.DisposeAsync();
            throw new InvalidOperationException(
                $"chromium not found at {ChromiumPath}; the browser tests need Debian's chromium: apt-get install -y --no-install-recommends chromium (.ci/run does this)");
        }

        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArgs,
            Timeout = 30_000,
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        page.SetDefaultTimeout(30_000);
        await page.GotoAsync(server.Http.BaseAddress!.ToString());
        await page.WaitForSelectorAsync("body[data-ready='true']");
        return new Browser(server, playwright, browser, page);
    }

    /// <summary>Saves a full-page screenshot under the test output's <c>screenshots/</c> and prints its path.</summary>
    public async Task<string> ScreenshotAsync(string name, ITestOutputHelper output)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        var path = Path.Combine(ScreenshotDirectory, $"{name}.png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path });
        output.WriteLine($"screenshot: {path}");
        Console.WriteLine($"screenshot: {path}");
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await Server.DisposeAsync();
    }
}
