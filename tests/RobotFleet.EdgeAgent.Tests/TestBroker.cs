using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;
using RobotFleet.Vda5050;

namespace RobotFleet.EdgeAgent.Tests;

/// <summary>An in-process MQTTnet broker on a free loopback port; can be restarted on the same port.</summary>
internal sealed class TestBroker : IAsyncDisposable
{
    private MqttServer server;

    private TestBroker(int port, MqttServer server)
    {
        Port = port;
        this.server = server;
    }

    public int Port { get; }

    public Uri Uri => new($"mqtt://127.0.0.1:{Port}");

    public static async Task<TestBroker> StartAsync()
    {
        var port = FreePort();
        return new TestBroker(port, await StartServerAsync(port));
    }

    public async Task RestartAsync()
    {
        await server.StopAsync();
        server.Dispose();
        server = await StartServerAsync(Port);
    }

    public async ValueTask DisposeAsync()
    {
        await server.StopAsync();
        server.Dispose();
    }

    private static async Task<MqttServer> StartServerAsync(int port)
    {
        var factory = new MqttServerFactory();
        var options = factory.CreateServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
            .WithDefaultEndpointBoundIPV6Address(IPAddress.None)
            .WithDefaultEndpointPort(port)
            .Build();
        var server = factory.CreateMqttServer(options);
        await server.StartAsync();
        return server;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A test-side MQTT client: records everything under a robot's topics and publishes to it.</summary>
internal sealed class Recorder : IAsyncDisposable
{
    private readonly IMqttClient client = new MqttClientFactory().CreateMqttClient();
    private readonly ConcurrentQueue<(string Topic, byte[] Payload, bool Retained)> messages = new();
    private readonly string prefix;
    private string extensionPrefix = "";

    private Recorder(string prefix) => this.prefix = prefix;

    public static async Task<Recorder> ConnectAsync(TestBroker broker, string manufacturer, string serialNumber)
    {
        var recorder = new Recorder($"uagv/v2/{manufacturer}/{serialNumber}/");
        recorder.client.ApplicationMessageReceivedAsync += e =>
        {
            recorder.messages.Enqueue((e.ApplicationMessage.Topic, e.ApplicationMessage.Payload.ToArray(), e.ApplicationMessage.Retain));
            return Task.CompletedTask;
        };
        await recorder.client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", broker.Port).WithClientId($"test-{Guid.NewGuid():N}").Build());
        await recorder.client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(recorder.prefix + "#", MqttQualityOfServiceLevel.AtLeastOnce).Build());
        return recorder;
    }

    public IEnumerable<T> Received<T>(string leaf) =>
        messages.Where(m => m.Topic == prefix + leaf).Select(m => Vda5050Json.Deserialize<T>(m.Payload)).ToList();

    public bool ReceivedRetained(string leaf, Func<byte[], bool> match) =>
        messages.Any(m => m.Topic == prefix + leaf && m.Retained && match(m.Payload));

    public async Task<T> WaitForAsync<T>(string leaf, Func<T, bool> match, double seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            var found = Received<T>(leaf).LastOrDefault(match);
            if (found is not null)
            {
                return found;
            }

            await Task.Delay(20);
        }

        var last = messages.LastOrDefault(m => m.Topic == prefix + leaf);
        throw new TimeoutException($"No matching {leaf} message within {seconds} s; last one: {(last.Payload is null ? "none" : Encoding.UTF8.GetString(last.Payload))}");
    }

    /// <summary>Also records the robot's extension topics, <c>robotfleet/v1/{manufacturer}/{serialNumber}/#</c>.</summary>
    public async Task SubscribeExtensionsAsync(string manufacturer, string serialNumber)
    {
        extensionPrefix = $"robotfleet/v1/{manufacturer}/{serialNumber}/";
        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(extensionPrefix + "#", MqttQualityOfServiceLevel.AtLeastOnce).Build());
    }

    /// <summary>Waits for an extension message (raw JSON) that matches.</summary>
    public async Task<System.Text.Json.JsonElement> WaitForExtensionAsync(string leaf, Func<System.Text.Json.JsonElement, bool> match, double seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            var found = messages.Where(m => m.Topic == extensionPrefix + leaf)
                .Select(m => System.Text.Json.JsonDocument.Parse(m.Payload).RootElement)
                .LastOrDefault(match);
            if (found.ValueKind != System.Text.Json.JsonValueKind.Undefined)
            {
                return found;
            }

            await Task.Delay(20);
        }

        var last = messages.LastOrDefault(m => m.Topic == extensionPrefix + leaf);
        throw new TimeoutException($"No matching {leaf} message within {seconds} s; last one: {(last.Payload is null ? "none" : Encoding.UTF8.GetString(last.Payload))}");
    }

    public Task PublishAsync(string leaf, byte[] payload) =>
        client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(prefix + leaf).WithPayload(payload).Build());

    public async ValueTask DisposeAsync()
    {
        if (client.IsConnected)
        {
            await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build());
        }

        client.Dispose();
    }
}
