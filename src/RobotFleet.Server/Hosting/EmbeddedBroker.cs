using System.Net;
using System.Net.Sockets;
using MQTTnet.Server;

namespace RobotFleet.Server.Hosting;

/// <summary>
/// The embedded MQTT broker (MQTTnet.Server) on one IPv4 address, loopback by default (IPv6 disabled, see NOTES),
/// with a generous per-client queue so bursts are not silently dropped. Started before the gateway.
/// </summary>
public sealed class EmbeddedBroker(IPAddress address, int port, ILogger<EmbeddedBroker> logger) : IHostedService, IAsyncDisposable
{
    private MqttServer? _server;

    /// <summary>The port the broker listens on (resolved when 0 was asked for).</summary>
    public int Port { get; private set; } = port == 0 ? FreePort() : port;

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var options = new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(address)
            .WithDefaultEndpointBoundIPV6Address(IPAddress.None)
            .WithDefaultEndpointPort(Port)
            .WithMaxPendingMessagesPerClient(100_000)
            .Build();
        _server = new MqttServerFactory().CreateMqttServer(options);
        try
        {
            await _server.StartAsync();
        }
        catch (SocketException e)
        {
            throw new InvalidOperationException($"cannot start the embedded MQTT broker on {address}:{Port}: {e.Message} (use --mqtt-port to pick another port)", e);
        }

        logger.LogInformation("Embedded MQTT broker listening on mqtt://{Address}:{Port}", address, Port);
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null)
            await _server.StopAsync();
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _server?.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Asks the OS for a free loopback TCP port.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
