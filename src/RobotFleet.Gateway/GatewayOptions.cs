using MQTTnet.Formatter;
using RobotFleet.Vda5050;

namespace RobotFleet.Gateway;

/// <summary>
/// Settings of the MQTT gateway between VDA 5050 robots and the control plane.
/// </summary>
public sealed class GatewayOptions
{
    /// <summary>Broker host name or address; default 127.0.0.1.</summary>
    public string BrokerHost { get; set; } = "127.0.0.1";

    /// <summary>Broker TCP port; default 1883.</summary>
    public int BrokerPort { get; set; } = 1883;

    /// <summary>MQTT protocol version; default 5.0.0 (3.1.1 also works).</summary>
    public MqttProtocolVersion ProtocolVersion { get; set; } = MqttProtocolVersion.V500;

    /// <summary>True: connect with TLS 1.2+ (<c>mqtts://</c>); default false.</summary>
    public bool UseTls { get; set; }

    /// <summary>With <see cref="UseTls"/>: PEM or DER file of the CA the broker's certificate must chain to; null: the system trust store.</summary>
    public string? CaFile { get; set; }

    /// <summary>User name sent in CONNECT; null: none.</summary>
    public string? Username { get; set; }

    /// <summary>Password sent in CONNECT; null: none. Never logged.</summary>
    public string? Password { get; set; }

    /// <summary>The broker settings these options describe (host, port, TLS, CA file, credentials, protocol version).</summary>
    public MqttBrokerSettings Broker => new()
    {
        Host = BrokerHost,
        Port = BrokerPort,
        UseTls = UseTls,
        CaFile = CaFile,
        Username = Username,
        Password = Password,
        Protocol = ProtocolVersion == MqttProtocolVersion.V311 ? MqttProtocol.V311 : MqttProtocol.V500,
    };

    /// <summary>Copies <paramref name="broker"/>'s host, port, TLS, CA file, credentials and protocol version into these options.</summary>
    public GatewayOptions UseBroker(MqttBrokerSettings broker)
    {
        BrokerHost = broker.Host;
        BrokerPort = broker.Port;
        UseTls = broker.UseTls;
        CaFile = broker.CaFile;
        Username = broker.Username;
        Password = broker.Password;
        ProtocolVersion = broker.Protocol == MqttProtocol.V311 ? MqttProtocolVersion.V311 : MqttProtocolVersion.V500;
        return this;
    }

    /// <summary>VDA 5050 interface name (first topic level); default <c>uagv</c>.</summary>
    public string InterfaceName { get; set; } = Vda5050.Vda5050Topics.DefaultInterfaceName;

    /// <summary>
    /// MQTT client id of the gateway; default <c>robotfleet-gateway-{host name}-{process id}</c>, unique per instance also
    /// where every instance is process 1 of its own container (a broker disconnects the older of two clients with one id).
    /// </summary>
    public string ClientId { get; set; } = $"robotfleet-gateway-{Environment.MachineName}-{Environment.ProcessId}";

    /// <summary>First reconnect delay; doubles up to <see cref="ReconnectMaxDelay"/>, with jitter.</summary>
    public TimeSpan ReconnectMinDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Longest reconnect delay.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a robot reported ONLINE may take to send its next state before the gateway sends what it missed (kept
    /// messages, order updates its state does not show) on the last state it had; default 2 s. The last state may be stale
    /// (states are QoS 0 and are lost while either side is away): an update the robot took meanwhile, sent again, is refused
    /// as not newer than the robot's (VDA 5050 <c>orderUpdateError</c>), so the robot's next state decides when it comes in
    /// time. A robot that reports on (re)connecting, as the edge agent does, is answered at once.
    /// </summary>
    public TimeSpan OnlineStateWait { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Longest time between two <c>RobotStateChanged</c> events of a reporting robot: an unchanged state is republished
    /// after this long (heartbeat; battery and position ride along), so silence means the robot stopped reporting.
    /// </summary>
    public TimeSpan StateHeartbeat { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Start as a standby's read-only observer: the gateway connects and keeps the twins current (so the API shows the whole
    /// fleet), but publishes nothing on the bus and sends nothing to robots until <see cref="MqttGateway.StartPublishing"/>
    /// (the instance became the leader). Default false: publishing from the start (a single instance).
    /// </summary>
    public bool Standby { get; set; }
}
