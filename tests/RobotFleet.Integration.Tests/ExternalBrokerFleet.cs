using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using MQTTnet;
using RobotFleet.Server.Hosting;
using RobotFleet.TestSupport;

namespace RobotFleet.Integration.Tests;

/// <summary>
/// The control plane (<c>RobotFleet.Server --no-sim --broker {ROBOTFLEET_TEST_MQTT}</c>) and one edge agent with simulated
/// robots (<c>RobotFleet.EdgeAgent --simulate</c>), each its own process, on the external broker. The robots' serial
/// numbers are unique to the test (<c>--serial-prefix</c>), so tests sharing the broker do not see each other's robots
/// as theirs; their retained messages are cleared at the end.
/// </summary>
internal sealed class ExternalBrokerFleet : IAsyncDisposable
{
    public const string Manufacturer = "RobotFleet";

    private readonly string _dataDirectory;

    private ExternalBrokerFleet(string prefix, int robots, string dataDirectory, ChildProcess agent, ChildProcess server, HttpClient http, Uri broker)
    {
        SerialPrefix = prefix;
        BrokerUri = broker;
        Robots = robots;
        _dataDirectory = dataDirectory;
        Agent = agent;
        Server = server;
        Http = http;
    }

    public string SerialPrefix { get; }

    /// <summary>The broker this fleet's server and robots are on.</summary>
    public Uri BrokerUri { get; }

    public int Robots { get; }

    public ChildProcess Agent { get; }

    public ChildProcess Server { get; }

    public HttpClient Http { get; }

    public static Uri Broker => new(RealServers.Mqtt ?? throw new InvalidOperationException("ROBOTFLEET_TEST_MQTT is not set"));

    /// <summary>Starts the agent and the server on <paramref name="broker"/> (default <see cref="Broker"/>) and waits until the server shows every robot ONLINE.</summary>
    public static async Task<ExternalBrokerFleet> StartAsync(int robots, Uri? broker = null, [CallerMemberName] string name = "")
    {
        broker ??= Broker;
        var root = FindRepoRoot();
        var map = Path.Combine(root, "maps", "office");
        var prefix = $"it{Guid.NewGuid():N}"[..10];
        var dataDirectory = Path.Combine(Path.GetTempPath(), $"robotfleet-it-{prefix}");
        var httpPort = EmbeddedBroker.FreePort();
        var agent = ChildProcess.Start($"{name}-agent", "RobotFleet.EdgeAgent.dll",
        [
            "--simulate", "--robots", robots.ToString(CultureInfo.InvariantCulture), "--serial-prefix", prefix, "--time-scale", "20",
            "--broker", broker.ToString(), "--map", map,
        ]);
        var server = ChildProcess.Start($"{name}-server", "RobotFleet.Server.dll",
        [
            "--no-sim", "--broker", broker.ToString(), "--data-dir", dataDirectory,
            "--http-port", httpPort.ToString(CultureInfo.InvariantCulture), "--map", map,
        ]);
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(10) };
        var fleet = new ExternalBrokerFleet(prefix, robots, dataDirectory, agent, server, http, broker);
        try
        {
            Assert.True(await WaitUntilAsync(async () => (await fleet.OurRobotsAsync()).Count(r => r.Connection == "ONLINE") == robots, TimeSpan.FromSeconds(90)),
                $"{robots} robots ONLINE on {broker}; server log {server.LogPath}, agent log {agent.LogPath}\n{server.Output}");
        }
        catch
        {
            await fleet.DisposeAsync();
            throw;
        }

        return fleet;
    }

    /// <summary>This test's robots as <c>GET /api/robots</c> shows them (none while the server does not answer).</summary>
    public async Task<IReadOnlyList<RobotView>> OurRobotsAsync()
    {
        try
        {
            return (await Http.GetFromJsonAsync<JsonElement>("/api/robots")).EnumerateArray()
                .Where(r => r.GetProperty("serialNumber").GetString()!.StartsWith(SerialPrefix + "-", StringComparison.Ordinal))
                .Select(r => new RobotView(
                    r.GetProperty("serialNumber").GetString()!,
                    r.GetProperty("connection").GetString()!,
                    r.GetProperty("lastStateAt").ValueKind == JsonValueKind.Null ? null : r.GetProperty("lastStateAt").GetDateTimeOffset()))
                .ToList();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return [];
        }
    }

    /// <summary>Submits deliveries between distinct random service locations (not chargers or parking places); returns their ids.</summary>
    public Task<IReadOnlyList<string>> SubmitDeliveriesAsync(int count, int seed) => SubmitDeliveriesAsync(Http, count, seed);

    /// <summary>Submits deliveries through the server <paramref name="http"/> talks to, as <see cref="SubmitDeliveriesAsync(int, int)"/>.</summary>
    public static async Task<IReadOnlyList<string>> SubmitDeliveriesAsync(HttpClient http, int count, int seed)
    {
        var locations = (await http.GetFromJsonAsync<JsonElement>("/api/locations")).EnumerateArray()
            .Where(l => !l.GetProperty("kinds").EnumerateArray().Any(k => k.GetString() is "charger" or "parking"))
            .Select(l => l.GetProperty("name").GetString()!).ToList();
        var random = new Random(seed);
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var pickup = locations[random.Next(locations.Count)];
            var dropoff = locations.Where(l => l != pickup).ElementAt(random.Next(locations.Count - 1));
            var response = await http.PostAsJsonAsync("/api/missions", new { kind = "delivery", pickup, dropoff });
            Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST /api/missions: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            ids.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
        }

        return ids;
    }

    /// <summary>Every mission as <c>id=Status reason</c>, for messages; empty while the server does not answer.</summary>
    public Task<IReadOnlyList<(string Id, string Status, string? Reason)>> MissionsAsync() => MissionsAsync(Http);

    /// <summary>Every mission of the server <paramref name="http"/> talks to, as <see cref="MissionsAsync()"/>.</summary>
    public static async Task<IReadOnlyList<(string Id, string Status, string? Reason)>> MissionsAsync(HttpClient http)
    {
        try
        {
            return (await http.GetFromJsonAsync<JsonElement>("/api/missions")).EnumerateArray()
                .Select(m => (m.GetProperty("id").GetString()!, m.GetProperty("status").GetString()!,
                    m.TryGetProperty("failureReason", out var reason) && reason.ValueKind == JsonValueKind.String ? reason.GetString() : null))
                .ToList();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return [];
        }
    }

    /// <summary>Waits until every mission is Completed; asserts with each mission's status and the log paths otherwise.</summary>
    public async Task AssertAllCompleteAsync(IReadOnlyCollection<string> ids, TimeSpan timeout)
    {
        var done = await WaitUntilAsync(async () =>
        {
            var missions = await MissionsAsync();
            return missions.Count == ids.Count && missions.All(m => m.Status == "Completed");
        }, timeout);
        var missions = await MissionsAsync();
        Assert.True(done, $"all {ids.Count} missions Completed within {timeout.TotalSeconds:0} s; "
            + string.Join(", ", missions.Select(m => $"{m.Id}={m.Status} {m.Reason}")) + $"; server log {Server.LogPath}, agent log {Agent.LogPath}");
        Assert.Equal(ids.Order(StringComparer.Ordinal), missions.Select(m => m.Id).Order(StringComparer.Ordinal));
    }

    /// <summary>Polls until <paramref name="condition"/> holds or the timeout passes; returns whether it held.</summary>
    public static async Task<bool> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
                return true;
            await Task.Delay(250);
        }

        return await condition();
    }

    public static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RobotFleet.sln")))
                return dir.FullName;
        }

        throw new DirectoryNotFoundException("RobotFleet.sln not found above " + AppContext.BaseDirectory);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        Server.Dispose();
        Agent.Dispose();
        await ClearRetainedAsync(SerialPrefix, Robots, BrokerUri);
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
        catch (UnauthorizedAccessException)
        {
            // best effort
        }
    }

    /// <summary>
    /// Clears what a test's robots (serial numbers <c>{serialPrefix}-1..robots</c>) left retained on a broker (default the
    /// shared <see cref="Broker"/>; connection, factsheet, model status), so later tests and servers on it do not find them.
    /// </summary>
    public static async Task ClearRetainedAsync(string serialPrefix, int robots, Uri? broker = null)
    {
        broker ??= Broker;
        try
        {
            using var client = new MqttClientFactory().CreateMqttClient();
            await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(broker.Host, broker.Port).WithClientId($"cleanup-{serialPrefix}").Build());
            // Twice, a second apart: the last will (CONNECTIONBROKEN, retained) of an agent killed just before may reach the
            // broker's retained store after the first round (seen once: a robot's connection stayed retained).
            for (var round = 0; round < 2; round++)
            {
                if (round > 0)
                    await Task.Delay(TimeSpan.FromSeconds(1));
                for (var i = 1; i <= robots; i++)
                {
                    var serial = $"{serialPrefix}-{i}";
                    foreach (var topic in new[] { $"uagv/v2/{Manufacturer}/{serial}/connection", $"uagv/v2/{Manufacturer}/{serial}/factsheet", $"robotfleet/v1/{Manufacturer}/{serial}/modelStatus" })
                    {
                        await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(Array.Empty<byte>()).WithRetainFlag()
                            .WithQualityOfServiceLevel(MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce).Build());
                    }
                }
            }

            await client.DisconnectAsync();
        }
        catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException)
        {
            // best effort: the broker may be gone
        }
    }
}

/// <summary>One robot as <c>GET /api/robots</c> shows it.</summary>
internal sealed record RobotView(string SerialNumber, string Connection, DateTimeOffset? LastStateAt);
