using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RobotFleet.EdgeAgent;
using RobotFleet.Server;
using RobotFleet.Server.Hosting;

namespace RobotFleet.Server.Tests;

/// <summary>A whole RobotFleet server in this process on free loopback ports, with its HTTP client.</summary>
public sealed class ServerHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ServerHost(WebApplication app, HttpClient http, int mqttPort, string logPath)
    {
        _app = app;
        Http = http;
        MqttPort = mqttPort;
        LogPath = logPath;
    }

    public HttpClient Http { get; }

    public int MqttPort { get; }

    public IServiceProvider Services => _app.Services;

    public SimulatedFleet Fleet => Services.GetRequiredService<SimulatedRobots>().Fleet ?? throw new InvalidOperationException("no simulated robots");

    /// <summary>This server's log file (one per server: test classes run in parallel, so no "latest server" is shared).</summary>
    public string LogPath { get; }

    /// <summary>This server's log so far (the server may still be writing it).</summary>
    public string ReadLog()
    {
        using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd();
    }

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly DateTime StartedAt = DateTime.UtcNow;

    /// <summary>Starts a server; its log goes to <c>logs/{name}.log</c> under the test output directory (<c>{name}-2.log</c>... for later servers of the same name in one run).</summary>
    public static async Task<ServerHost> StartAsync(ServerOptions options, [CallerMemberName] string name = "")
    {
        var logs = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "logs"));
        var logPath = Path.Combine(logs.FullName, $"{name}.log");
        for (var n = 2; File.Exists(logPath) && File.GetLastWriteTimeUtc(logPath) > StartedAt; n++)
            logPath = Path.Combine(logs.FullName, $"{name}-{n}.log"); // several servers of one test class in this run
        var app = RobotFleetServer.Build(options with { HttpPort = 0, MqttPort = 0 },
            builder => builder.Logging.AddProvider(new FileLoggerProvider(logPath)));
        await app.StartAsync();
        var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromSeconds(30) };
        return new ServerHost(app, http, options.Broker?.Port ?? app.Services.GetRequiredService<EmbeddedBroker>().Port, logPath);
    }

    public async Task<JsonElement> GetJsonAsync(string path) =>
        await Http.GetFromJsonAsync<JsonElement>(path, Json);

    /// <summary>Polls a mission until it has ended (completed, failed or cancelled) and returns it as last read; fails the test when it has not within <paramref name="timeout"/>.</summary>
    public async Task<JsonElement> WaitForMissionEndAsync(string missionId, TimeSpan timeout)
    {
        JsonElement last = default;
        Assert.True(await WaitUntilAsync(async () =>
        {
            last = await GetJsonAsync($"/api/missions/{missionId}");
            return last.GetProperty("status").GetString() is "Completed" or "Failed" or "Cancelled";
        }, timeout), $"mission ends: {last}");
        return last;
    }

    /// <summary>Polls until <paramref name="condition"/> holds or the timeout passes; returns whether it held.</summary>
    public static async Task<bool> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
                return true;
            await Task.Delay(200);
        }

        return await condition();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
