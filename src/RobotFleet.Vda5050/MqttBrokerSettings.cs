namespace RobotFleet.Vda5050;

/// <summary>MQTT protocol version of a connection (VDA 5050 2.x runs over MQTT 3.1.1 or 5).</summary>
public enum MqttProtocol
{
    /// <summary>MQTT 3.1.1.</summary>
    V311,

    /// <summary>MQTT 5.0.</summary>
    V500,
}

/// <summary>
/// How a VDA 5050 participant (control plane gateway or robot) reaches an MQTT broker: host and port, TLS (with an optional
/// CA file to trust the broker's certificate by), credentials and protocol version. Written as a URL
/// <c>mqtt://[user[:password]@]host[:port]</c> (plain TCP, port 1883 by default) or <c>mqtts://…</c> (TLS, port 8883 by
/// default); the user and password in the URL are percent-decoded. Immutable; <see cref="ToString"/> leaves the password out.
/// </summary>
public sealed record MqttBrokerSettings
{
    /// <summary>Broker host name or address.</summary>
    public required string Host { get; init; }

    /// <summary>Broker TCP port.</summary>
    public required int Port { get; init; }

    /// <summary>True for TLS (<c>mqtts://</c>).</summary>
    public bool UseTls { get; init; }

    /// <summary>PEM (or DER) file of the certificate authority the broker's certificate must chain to; null: the system's trust store.</summary>
    public string? CaFile { get; init; }

    /// <summary>User name sent in CONNECT; null: none.</summary>
    public string? Username { get; init; }

    /// <summary>Password sent in CONNECT; null: none.</summary>
    public string? Password { get; init; }

    /// <summary>MQTT protocol version; default 5.</summary>
    public MqttProtocol Protocol { get; init; } = MqttProtocol.V500;

    /// <summary>
    /// Reads a broker URL and the options that refine it. <paramref name="username"/> and <paramref name="password"/>, when
    /// given, win over the URL's user information.
    /// </summary>
    /// <param name="url"><c>mqtt://[user[:password]@]host[:port]</c> or <c>mqtts://…</c> (<c>tcp://</c> and <c>ssl://</c> are read as the same).</param>
    /// <param name="caFile">CA certificate file for TLS; must exist; only with <c>mqtts://</c>.</param>
    /// <param name="username">User name, or null.</param>
    /// <param name="password">Password, or null.</param>
    /// <param name="protocol"><c>5</c> (also <c>5.0</c>) or <c>3.1.1</c>; null: 5.</param>
    /// <param name="urlOption">The option the URL came from, named in errors (<c>--broker</c>).</param>
    /// <param name="caOption">The option the CA file came from, named in errors.</param>
    /// <param name="protocolOption">The option the protocol came from, named in errors.</param>
    /// <exception cref="ArgumentException">A value is malformed; the message names the option and the value (never a password).</exception>
    public static MqttBrokerSettings Parse(string url, string? caFile = null, string? username = null, string? password = null, string? protocol = null,
        string urlOption = "--broker", string caOption = "--mqtt-ca", string protocolOption = "--mqtt-protocol")
    {
        if (!Uri.TryCreate(url?.Trim(), UriKind.Absolute, out var uri) || uri.Host.Length == 0)
            throw new ArgumentException($"{urlOption} '{Redact(url)}' is not an MQTT broker URL: use mqtt://host:port, or mqtts://host:port for TLS (user:password@ before the host for credentials)");
        var tls = uri.Scheme switch
        {
            "mqtt" or "tcp" => false,
            "mqtts" or "ssl" => true,
            _ => throw new ArgumentException($"{urlOption} '{Redact(url)}': scheme '{uri.Scheme}' is not mqtt:// or mqtts:// (TLS)"),
        };
        if (uri.AbsolutePath is not ("" or "/") || uri.Query.Length > 0 || uri.Fragment.Length > 0)
            throw new ArgumentException($"{urlOption} '{Redact(url)}': an MQTT broker URL has no path, query or fragment (mqtt://host:port)");

        string? urlUser = null, urlPassword = null;
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            urlUser = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            urlPassword = colon < 0 ? null : Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
        }

        if (caFile is { Length: > 0 })
        {
            if (!tls)
                throw new ArgumentException($"{caOption} '{caFile}' needs a TLS broker URL (mqtts://), not {uri.Scheme}://");
            if (!File.Exists(caFile))
                throw new ArgumentException($"{caOption} '{caFile}': no such file");
        }

        return new MqttBrokerSettings
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? (tls ? 8883 : 1883) : uri.Port,
            UseTls = tls,
            CaFile = caFile is { Length: > 0 } ? caFile : null,
            Username = username is { Length: > 0 } ? username : urlUser is { Length: > 0 } ? urlUser : null,
            Password = password is { Length: > 0 } ? password : urlPassword,
            Protocol = ParseProtocol(protocol, protocolOption),
        };
    }

    /// <summary>Reads an MQTT protocol version: <c>5</c> (or <c>5.0</c>, <c>v5</c>) or <c>3.1.1</c> (or <c>v3.1.1</c>, <c>311</c>); null or empty is 5.</summary>
    /// <exception cref="ArgumentException">Any other value; the message names <paramref name="option"/>.</exception>
    public static MqttProtocol ParseProtocol(string? value, string option = "--mqtt-protocol") => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "5" or "5.0" or "v5" or "500" => MqttProtocol.V500,
        "3.1.1" or "v3.1.1" or "311" => MqttProtocol.V311,
        _ => throw new ArgumentException($"{option} '{value}' is not an MQTT protocol version: use 5 or 3.1.1"),
    };

    /// <summary>The URL without the password, e.g. <c>mqtts://fleet@broker:8883 (MQTT 5)</c>.</summary>
    public override string ToString() =>
        $"{(UseTls ? "mqtts" : "mqtt")}://{(Username is null ? "" : Uri.EscapeDataString(Username) + "@")}{Host}:{Port} (MQTT {(Protocol == MqttProtocol.V311 ? "3.1.1" : "5")}{(CaFile is null ? "" : $", CA {CaFile}")})";

    /// <summary>A URL with any password in its user information replaced by <c>***</c>, for error messages.</summary>
    public static string Redact(string? url)
    {
        if (url is null)
            return "";
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        var at = url.LastIndexOf('@');
        if (scheme < 0 || at < scheme)
            return url;
        var colon = url.IndexOf(':', scheme + 3);
        return colon > 0 && colon < at ? string.Concat(url.AsSpan(0, colon + 1), "***", url.AsSpan(at)) : url;
    }
}
