namespace RobotFleet.Vda5050.Tests;

/// <summary>Broker URLs and the options that refine them: defaults, TLS, credentials, protocol version, errors that name the option.</summary>
public sealed class MqttBrokerSettingsTests
{
    [Theory]
    [InlineData("mqtt://broker", "broker", 1883, false)]
    [InlineData("mqtt://broker:1884", "broker", 1884, false)]
    [InlineData("tcp://10.0.0.5:1883", "10.0.0.5", 1883, false)]
    [InlineData("mqtts://broker", "broker", 8883, true)]
    [InlineData("ssl://broker:9883", "broker", 9883, true)]
    public void Host_port_and_tls_come_from_the_url(string url, string host, int port, bool tls)
    {
        var settings = MqttBrokerSettings.Parse(url);
        Assert.Equal((host, port, tls, MqttProtocol.V500), (settings.Host, settings.Port, settings.UseTls, settings.Protocol));
        Assert.Null(settings.Username);
    }

    [Fact]
    public void Credentials_in_the_url_are_percent_decoded_and_options_win_over_them()
    {
        var fromUrl = MqttBrokerSettings.Parse("mqtt://fleet%40site:p%3Ass@broker:1883");
        Assert.Equal(("fleet@site", "p:ss"), (fromUrl.Username, fromUrl.Password));

        var overridden = MqttBrokerSettings.Parse("mqtt://fleet:old@broker", username: "other", password: "new");
        Assert.Equal(("other", "new"), (overridden.Username, overridden.Password));
        Assert.DoesNotContain("new", overridden.ToString(), StringComparison.Ordinal);
        Assert.Equal("mqtt://other@broker:1883 (MQTT 5)", overridden.ToString());
    }

    [Theory]
    [InlineData("5", MqttProtocol.V500)]
    [InlineData("5.0", MqttProtocol.V500)]
    [InlineData("3.1.1", MqttProtocol.V311)]
    [InlineData(null, MqttProtocol.V500)]
    public void The_protocol_version_is_5_or_3_1_1(string? value, MqttProtocol protocol) =>
        Assert.Equal(protocol, MqttBrokerSettings.Parse("mqtt://broker", protocol: value).Protocol);

    [Theory]
    [InlineData("http://broker", null, null, "--broker")]
    [InlineData("broker:1883", null, null, "--broker")]
    [InlineData("mqtt://:1883", null, null, "--broker")]
    [InlineData("mqtt://broker/topic", null, null, "--broker")]
    [InlineData("mqtt://broker", null, "3.1", "--mqtt-protocol")]
    [InlineData("mqtt://broker", "/etc/ca.pem", null, "--mqtt-ca")]
    [InlineData("mqtts://broker", "/no/such/ca.pem", null, "--mqtt-ca")]
    public void A_bad_value_is_refused_naming_the_option(string url, string? caFile, string? protocol, string option)
    {
        var e = Assert.Throws<ArgumentException>(() => MqttBrokerSettings.Parse(url, caFile, protocol: protocol));
        Assert.StartsWith(option, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_password_never_shows_in_an_error()
    {
        var e = Assert.Throws<ArgumentException>(() => MqttBrokerSettings.Parse("http://fleet:hunter2@broker"));
        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
        Assert.Contains("fleet:***@broker", e.Message, StringComparison.Ordinal);
    }
}
