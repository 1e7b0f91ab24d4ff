using RobotFleet.Server;

namespace RobotFleet.Server.Tests;

/// <summary>
/// The server's gateway and its simulated robots (edge agents) on an external Mosquitto of the test's own that refuses
/// anonymous clients: with the right credentials (in the URL, or as options) robots come ONLINE, also over MQTT 3.1.1 and
/// over TLS with a CA file; with a wrong password the gateway logs that the broker refused it, naming the options to check.
/// </summary>
public sealed class When_the_broker_is_external_and_secured
{
    private const string User = "fleet";
    private const string Password = "s3cret:with@odd/chars";

    private static ServerOptions Options(Uri broker) => new() { Robots = 2, TimeScale = 5, DataDirectory = null, Broker = broker };

    private static async Task<bool> RobotsOnlineAsync(ServerHost server, int count) =>
        await ServerHost.WaitUntilAsync(async () => (await server.GetJsonAsync("/api/robots")).EnumerateArray()
            .Count(r => r.GetProperty("connection").GetString() == "ONLINE") == count, TimeSpan.FromSeconds(30));

    [MosquittoFact]
    public async Task Right_credentials_in_the_url_and_mqtt_3_1_1_bring_the_robots_online()
    {
        await using var mosquitto = await Mosquitto.StartAsync(User, Password);
        var url = new Uri($"mqtt://{User}:{Uri.EscapeDataString(Password)}@127.0.0.1:{mosquitto.Port}");
        await using var server = await ServerHost.StartAsync(Options(url) with { MqttProtocol = "3.1.1" });

        Assert.True(await RobotsOnlineAsync(server, 2), $"2 robots ONLINE through Mosquitto; server log: {server.LogPath}\n{mosquitto.Log}");
        Assert.Contains($"u'{User}'", mosquitto.Log, StringComparison.Ordinal); // Mosquitto logs each CONNECT's user
        Assert.Contains("(p2, ", mosquitto.Log, StringComparison.Ordinal); // Mosquitto's p2 = MQTT 3.1.1
        Assert.DoesNotContain(Password, server.ReadLog(), StringComparison.Ordinal);
    }

    [MosquittoFact]
    public async Task Credentials_as_options_win_over_none_in_the_url()
    {
        await using var mosquitto = await Mosquitto.StartAsync(User, Password);
        await using var server = await ServerHost.StartAsync(Options(new Uri($"mqtt://127.0.0.1:{mosquitto.Port}")) with { MqttUsername = User, MqttPassword = Password });

        Assert.True(await RobotsOnlineAsync(server, 2), $"2 robots ONLINE through Mosquitto; server log: {server.LogPath}\n{mosquitto.Log}");
        Assert.Contains("(p5, ", mosquitto.Log, StringComparison.Ordinal); // MQTT 5 by default
    }

    [MosquittoFact]
    public async Task A_wrong_password_is_refused_and_the_gateway_says_so()
    {
        await using var mosquitto = await Mosquitto.StartAsync(User, Password);
        await using var server = await ServerHost.StartAsync(Options(new Uri($"mqtt://127.0.0.1:{mosquitto.Port}")) with { MqttUsername = User, MqttPassword = "wrong" });

        Assert.True(await ServerHost.WaitUntilAsync(() => Task.FromResult(server.ReadLog().Contains("refused the gateway's connection", StringComparison.Ordinal)), TimeSpan.FromSeconds(20)),
            $"no refusal logged; server log {server.LogPath}");
        var line = server.ReadLog().Split('\n').First(l => l.Contains("refused the gateway's connection", StringComparison.Ordinal));
        Assert.Contains("--mqtt-password", line, StringComparison.Ordinal);
        Assert.Contains($"user '{User}'", line, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong", line, StringComparison.Ordinal); // never the password
        Assert.Equal(0, (await server.GetJsonAsync("/api/robots")).EnumerateArray().Count(r => r.GetProperty("connection").GetString() == "ONLINE"));
    }

    [MosquittoFact(tls: true)]
    public async Task Over_tls_with_the_brokers_ca_the_robots_come_online_and_without_it_the_certificate_is_refused()
    {
        await using var mosquitto = await Mosquitto.StartAsync(User, Password, tls: true);
        var url = new Uri($"mqtts://{User}:{Uri.EscapeDataString(Password)}@localhost:{mosquitto.Port}");
        await using (var server = await ServerHost.StartAsync(Options(url) with { MqttCaFile = mosquitto.CaFile }))
        {
            Assert.True(await RobotsOnlineAsync(server, 2), $"2 robots ONLINE through Mosquitto over TLS; server log: {server.LogPath}\n{mosquitto.Log}");
        }

        // Without the CA file the system trust store does not know the test CA: no connection.
        await using var untrusting = await ServerHost.StartAsync(Options(url));
        Assert.True(await ServerHost.WaitUntilAsync(() => Task.FromResult(untrusting.ReadLog().Contains("MQTT gateway cannot reach broker", StringComparison.Ordinal)), TimeSpan.FromSeconds(20)),
            $"no TLS failure logged; server log {untrusting.LogPath}");
        Assert.Equal(0, (await untrusting.GetJsonAsync("/api/robots")).EnumerateArray().Count(r => r.GetProperty("connection").GetString() == "ONLINE"));
    }

    [Fact]
    public void Broker_settings_without_an_external_broker_are_refused_naming_them()
    {
        var e = Assert.Throws<ArgumentException>(() => new ServerOptions { MqttUsername = "fleet" }.ExternalBroker());
        Assert.Contains("--mqtt-username", e.Message, StringComparison.Ordinal);
        Assert.Contains("--broker", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "Host=db;Database=rf;Username=rf", "Host=db;Database=rf;Username=rf")]
    [InlineData(null, "/var/lib/missions.db", null)]
    [InlineData("memory", "Host=db;Database=rf;Username=rf", "memory")]
    [InlineData(null, null, null)]
    public void The_schedules_follow_the_missions_database_when_it_is_postgres(string? schedules, string? missions, string? used) =>
        Assert.Equal(used, new ServerOptions { SchedulesDatabase = schedules, MissionsDatabase = missions }.SchedulesDatabaseSetting);
}
