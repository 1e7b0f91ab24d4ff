namespace RobotFleet.Vda5050.Tests;

public class TopicsTests
{
    public static TheoryData<Vda5050Topic, string> Leaves => new()
    {
        { Vda5050Topic.Order, "order" },
        { Vda5050Topic.InstantActions, "instantActions" },
        { Vda5050Topic.State, "state" },
        { Vda5050Topic.Visualization, "visualization" },
        { Vda5050Topic.Connection, "connection" },
        { Vda5050Topic.Factsheet, "factsheet" },
    };

    [Theory]
    [MemberData(nameof(Leaves))]
    public void Build_and_parse_round_trip(Vda5050Topic topic, string leaf)
    {
        var name = Vda5050Topics.Build("uagv", "acme", "amr-7", topic);

        Assert.Equal($"uagv/v2/acme/amr-7/{leaf}", name);
        Assert.True(Vda5050Topics.TryParse(name, out var parsed));
        Assert.Equal(new Vda5050TopicName("uagv", "acme", "amr-7", topic), parsed);
    }

    [Theory]
    [MemberData(nameof(Leaves))]
    public void All_robots_filter_has_wildcards_for_manufacturer_and_serial(Vda5050Topic topic, string leaf) =>
        Assert.Equal($"{Vda5050Topics.DefaultInterfaceName}/v2/+/+/{leaf}", Vda5050Topics.AllRobots(Vda5050Topics.DefaultInterfaceName, topic));

    [Theory]
    [InlineData("uagv/v1/acme/amr-7/state")]       // other major version
    [InlineData("uagv/v2/acme/amr-7/status")]      // unknown leaf
    [InlineData("uagv/v2/acme/amr-7/State")]       // leaves are case-sensitive
    [InlineData("uagv/v2/acme/state")]             // too few levels
    [InlineData("uagv/v2/acme/amr-7/state/extra")] // too many levels
    [InlineData("uagv/v2//amr-7/state")]           // empty level
    [InlineData("uagv/v2/+/+/state")]             // a filter, not a topic name
    [InlineData("uagv/v2/acme/#/state")]
    [InlineData("robotfleet/v1/acme/amr-7/perception")]
    [InlineData("")]
    public void Non_vda_topics_do_not_parse(string topicName) =>
        Assert.False(Vda5050Topics.TryParse(topicName, out _));

    [Theory]
    [InlineData("", "acme", "amr-7", "interfaceName")]
    [InlineData("uagv", "ac/me", "amr-7", "manufacturer")]
    [InlineData("uagv", "acme", "amr+7", "serialNumber")]
    [InlineData("uagv", "acme", "#", "serialNumber")]
    [InlineData("ua/gv", "acme", "amr-7", "interfaceName")]
    public void Bad_parts_are_rejected_naming_the_part(string interfaceName, string manufacturer, string serialNumber, string part)
    {
        var e = Assert.Throws<ArgumentException>(() => Vda5050Topics.Build(interfaceName, manufacturer, serialNumber, Vda5050Topic.State));

        Assert.Equal(part, e.ParamName);
        Assert.Contains(part, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Vda5050Topic.Order, 0, false)]
    [InlineData(Vda5050Topic.InstantActions, 0, false)]
    [InlineData(Vda5050Topic.State, 0, false)]
    [InlineData(Vda5050Topic.Visualization, 0, false)]
    [InlineData(Vda5050Topic.Connection, 1, true)]
    [InlineData(Vda5050Topic.Factsheet, 0, true)]
    public void Qos_and_retain_follow_the_design(Vda5050Topic topic, int qos, bool retained) =>
        Assert.Equal((qos, retained), (Vda5050Topics.QualityOfService(topic), Vda5050Topics.IsRetained(topic)));

    [Fact]
    public void Unknown_topic_value_is_rejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Vda5050Topics.Leaf((Vda5050Topic)99));
}
