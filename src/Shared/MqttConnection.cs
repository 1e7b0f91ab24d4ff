// Compiled into both MQTT clients (RobotFleet.Gateway and RobotFleet.EdgeAgent) as an internal type: the two may not
// reference each other (dependency rules), and both turn RobotFleet.Vda5050.MqttBrokerSettings into MQTTnet options the same way.
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using MQTTnet;
using MQTTnet.Formatter;
using RobotFleet.Vda5050;

namespace RobotFleet.Mqtt;

/// <summary>Applies <see cref="MqttBrokerSettings"/> to an MQTTnet client's options: endpoint, TLS (with a CA file), credentials, protocol version.</summary>
internal static class MqttConnection
{
    /// <summary>
    /// Sets the TCP endpoint, protocol version, credentials and, for <see cref="MqttBrokerSettings.UseTls"/>, TLS 1.2+ with the
    /// broker's certificate checked against the system trust store, or against <see cref="MqttBrokerSettings.CaFile"/> alone
    /// when one is given (the host name must match either way).
    /// </summary>
    /// <exception cref="System.Security.Cryptography.CryptographicException">The CA file is not a certificate.</exception>
    public static MqttClientOptionsBuilder WithBroker(this MqttClientOptionsBuilder builder, MqttBrokerSettings broker)
    {
        builder = builder
            .WithTcpServer(broker.Host, broker.Port)
            .WithProtocolVersion(broker.Protocol == MqttProtocol.V311 ? MqttProtocolVersion.V311 : MqttProtocolVersion.V500);
        if (broker.Username is not null)
            builder = builder.WithCredentials(broker.Username, broker.Password ?? "");
        if (!broker.UseTls)
            return builder;

        X509Certificate2? authority = broker.CaFile is { } file ? X509CertificateLoader.LoadCertificateFromFile(file) : null;
        return builder.WithTlsOptions(tls =>
        {
            tls.UseTls().WithSslProtocols(System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13);
            if (authority is not null)
                tls.WithCertificateValidationHandler(e => ChainsTo(authority, e.Certificate, e.SslPolicyErrors));
        });
    }

    /// <summary>MQTTnet's protocol version for <paramref name="protocol"/>.</summary>
    public static MqttProtocolVersion ToMqttNet(this MqttProtocol protocol) => protocol == MqttProtocol.V311 ? MqttProtocolVersion.V311 : MqttProtocolVersion.V500;

    /// <summary>True when <paramref name="certificate"/> names the host and chains to <paramref name="authority"/> (custom root trust).</summary>
    private static bool ChainsTo(X509Certificate2 authority, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var presented = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(presented);
    }
}

/// <summary>The broker answered CONNECT with a refusal (its CONNACK reason), as opposed to not being reachable.</summary>
internal sealed class MqttBrokerRefusedException(MqttClientConnectResultCode code, string? reason)
    : Exception($"{code}{(string.IsNullOrEmpty(reason) ? "" : $" ({reason})")}")
{
    /// <summary>The CONNACK result code.</summary>
    public MqttClientConnectResultCode Code { get; } = code;
}
