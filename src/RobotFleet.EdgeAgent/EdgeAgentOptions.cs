using MQTTnet.Formatter;
using RobotFleet.Perception;
using RobotFleet.Vda5050;

namespace RobotFleet.EdgeAgent;

/// <summary>Settings of one <see cref="EdgeAgent"/>: broker, identity on the VDA 5050 wire, publish rates and reconnect backoff.</summary>
public sealed record EdgeAgentOptions
{
    /// <summary>
    /// MQTT broker address: <c>mqtt://host:port</c> (port defaults to 1883) or <c>mqtts://host:port</c> for TLS (port defaults
    /// to 8883), optionally with <c>user:password@</c> before the host (see <see cref="MqttBrokerSettings.Parse"/>).
    /// </summary>
    public Uri Broker { get; init; } = new("mqtt://127.0.0.1:1883");

    /// <summary>With an <c>mqtts://</c> broker: PEM or DER file of the CA the broker's certificate must chain to; null: the system trust store.</summary>
    public string? BrokerCaFile { get; init; }

    /// <summary>MQTT user name; wins over the one in <see cref="Broker"/>; null: the URL's, or none.</summary>
    public string? BrokerUsername { get; init; }

    /// <summary>MQTT password; wins over the one in <see cref="Broker"/>; null: the URL's, or none. Never logged.</summary>
    public string? BrokerPassword { get; init; }

    /// <summary>The broker settings of <see cref="Broker"/>, <see cref="BrokerCaFile"/>, the credentials and <see cref="ProtocolVersion"/>.</summary>
    /// <exception cref="ArgumentException">The broker URL or CA file is not usable (the message names which).</exception>
    public MqttBrokerSettings BrokerSettings => MqttBrokerSettings.Parse(Broker.OriginalString, BrokerCaFile, BrokerUsername, BrokerPassword) with
    {
        Protocol = ProtocolVersion == MqttProtocolVersion.V311 ? MqttProtocol.V311 : MqttProtocol.V500,
    };

    /// <summary>MQTT protocol version: <see cref="MqttProtocolVersion.V500"/> (default) or <see cref="MqttProtocolVersion.V311"/>.</summary>
    public MqttProtocolVersion ProtocolVersion { get; init; } = MqttProtocolVersion.V500;

    /// <summary>VDA 5050 interface name, the first topic level (§6.2); default <c>uagv</c>.</summary>
    public string InterfaceName { get; init; } = Vda5050Topics.DefaultInterfaceName;

    /// <summary>Manufacturer on the wire (topic level and header field).</summary>
    public string Manufacturer { get; init; } = "RobotFleet";

    /// <summary>Serial number on the wire (topic level and header field); unique per manufacturer.</summary>
    public required string SerialNumber { get; init; }

    /// <summary>Node id the robot stands on at start (state <c>lastNodeId</c>); empty when unknown.</summary>
    public string InitialLastNodeId { get; init; } = "";

    /// <summary>Interval of periodic state messages while an order is active (VDA 5050 §6.10: at least every 30 s; default 1 s).</summary>
    public TimeSpan StateInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Interval of periodic state messages while idle; default 1 s.</summary>
    public TimeSpan IdleStateInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Interval of visualization messages (§6.13); default 0.5 s (2 Hz).</summary>
    public TimeSpan VisualizationInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>First reconnect delay; doubles per failed attempt up to <see cref="ReconnectDelayMax"/>, with random jitter of up to half.</summary>
    public TimeSpan ReconnectDelayMin { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Largest reconnect delay.</summary>
    public TimeSpan ReconnectDelayMax { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>MQTT keep-alive; the broker publishes the last will after about 1.5 times this without traffic.</summary>
    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Distance in metres within which the robot counts as standing on an order's first node when
    /// that node has no <c>allowedDeviationXY</c> and is not the current <c>lastNodeId</c>.
    /// </summary>
    public double DefaultAllowedDeviationXY { get; init; } = 0.5;

    /// <summary>Top speed in m/s: used on edges without <c>maxSpeed</c> and reported in the factsheet.</summary>
    public double MaxSpeed { get; init; } = 1.0;

    /// <summary>Factsheet series name (<c>typeSpecification.seriesName</c>).</summary>
    public string SeriesName { get; init; } = "RobotFleet simulated delivery robot";

    /// <summary>Diagnostic log sink (one line per call, may be called from any thread); null for none.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>
    /// Directory of this robot's perception models (<c>{dir}/{name}/{version}/</c>, <c>active.json</c>); null turns the
    /// model manager off (model actions fail, no <c>modelStatus</c>).
    /// </summary>
    public string? ModelDirectory { get; init; }

    /// <summary>PEM public keys (ECDSA P-256) of the model registries whose signatures this robot trusts; none means every package is refused.</summary>
    public IReadOnlyList<string> TrustedKeys { get; init; } = [];

    /// <summary>Interval of the retained <c>modelStatus</c> report (also published on every change); default 10 s.</summary>
    public TimeSpan ModelStatusInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest time one download attempt of a model or manifest may take; default 10 min.</summary>
    public TimeSpan ModelDownloadAttemptTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Retries after a failed download attempt (timeouts, connection errors, HTTP 5xx, 408, 429; never 4xx); default 2.</summary>
    public int ModelDownloadRetries { get; init; } = 2;

    /// <summary>First delay before a download retry; doubles per retry, with jitter; default 1 s.</summary>
    public TimeSpan ModelDownloadRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often a running download updates its action state's progress text; default 0.5 s.</summary>
    public TimeSpan ModelProgressInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Largest model file accepted; default 2 GiB.</summary>
    public long MaxModelBytes { get; init; } = 2L << 30;

    /// <summary>Largest manifest accepted; default 1 MiB.</summary>
    public long MaxManifestBytes { get; init; } = 1L << 20;

    /// <summary>ONNX Runtime settings for checks and served sessions; null for the defaults (one thread, no spinning).</summary>
    public ModelSessionOptions? ModelSessionOptions { get; init; }

    /// <summary>
    /// Perception runs per second: camera frame from the firmware, active model, report on
    /// <c>robotfleet/v1/{manufacturer}/{serialNumber}/perception</c>; 0 (default) turns the loop off. Needs <see cref="ModelDirectory"/>.
    /// </summary>
    public double PerceptionRate { get; init; }

    /// <summary>HTTP handler for model downloads (tests, proxies); null for a default one. Not disposed by the agent.</summary>
    public HttpMessageHandler? ModelHttpHandler { get; init; }
}
