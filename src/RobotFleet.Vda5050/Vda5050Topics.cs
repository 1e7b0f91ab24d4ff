namespace RobotFleet.Vda5050;

/// <summary>The VDA 5050 v2 MQTT topics (§6.2).</summary>
public enum Vda5050Topic
{
    /// <summary>Master control to AGV: orders. QoS 0.</summary>
    Order,

    /// <summary>Master control to AGV: instant actions. QoS 0.</summary>
    InstantActions,

    /// <summary>AGV to master control: state. QoS 0.</summary>
    State,

    /// <summary>AGV to master control: pose at a higher rate. QoS 0.</summary>
    Visualization,

    /// <summary>AGV (and its last will) to master control: connection state. QoS 1, retained.</summary>
    Connection,

    /// <summary>AGV to master control: factsheet. QoS 0, retained.</summary>
    Factsheet,
}

/// <summary>A parsed VDA 5050 topic.</summary>
/// <param name="InterfaceName">Interface name, e.g. <c>uagv</c>.</param>
/// <param name="Manufacturer">Manufacturer.</param>
/// <param name="SerialNumber">Serial number.</param>
/// <param name="Topic">Which topic.</param>
public sealed record Vda5050TopicName(string InterfaceName, string Manufacturer, string SerialNumber, Vda5050Topic Topic);

/// <summary>
/// Builds and parses topic names <c>{interfaceName}/v2/{manufacturer}/{serialNumber}/{topic}</c>
/// (VDA 5050 2.x §6.2) and says each topic's QoS and retain flag. Pure and thread-safe.
/// </summary>
public static class Vda5050Topics
{
    /// <summary>The default interface name.</summary>
    public const string DefaultInterfaceName = "uagv";

    /// <summary>Builds a topic name.</summary>
    /// <exception cref="ArgumentException">A part is empty or contains <c>/</c>, <c>+</c> or <c>#</c>.</exception>
    public static string Build(string interfaceName, string manufacturer, string serialNumber, Vda5050Topic topic)
    {
        CheckLevel(interfaceName, nameof(interfaceName));
        CheckLevel(manufacturer, nameof(manufacturer));
        CheckLevel(serialNumber, nameof(serialNumber));
        return $"{interfaceName}/{V2.ProtocolVersion.TopicMajor}/{manufacturer}/{serialNumber}/{Leaf(topic)}";
    }

    /// <summary>A subscription filter for one topic of every robot: <c>{interfaceName}/v2/+/+/{topic}</c>.</summary>
    public static string AllRobots(string interfaceName, Vda5050Topic topic) =>
        $"{interfaceName}/{V2.ProtocolVersion.TopicMajor}/+/+/{Leaf(topic)}";

    /// <summary>Parses a topic name; false when it is not a VDA 5050 v2 topic (or is a filter with <c>+</c> or <c>#</c>).</summary>
    public static bool TryParse(string topicName, out Vda5050TopicName parsed)
    {
        parsed = null!;
        var parts = topicName.Split('/');
        if (parts.Length != 5 || parts[1] != V2.ProtocolVersion.TopicMajor || parts.Any(p => p.Length == 0 || p.AsSpan().IndexOfAny("+#") >= 0))
            return false;
        if (!TryParseLeaf(parts[4], out var topic))
            return false;
        parsed = new Vda5050TopicName(parts[0], parts[2], parts[3], topic);
        return true;
    }

    /// <summary>The last topic level of a topic, e.g. <c>instantActions</c>.</summary>
    public static string Leaf(Vda5050Topic topic) => topic switch
    {
        Vda5050Topic.Order => "order",
        Vda5050Topic.InstantActions => "instantActions",
        Vda5050Topic.State => "state",
        Vda5050Topic.Visualization => "visualization",
        Vda5050Topic.Connection => "connection",
        Vda5050Topic.Factsheet => "factsheet",
        _ => throw new ArgumentOutOfRangeException(nameof(topic), topic, "unknown VDA 5050 topic"),
    };

    /// <summary>MQTT QoS for the topic: 1 for <c>connection</c>, 0 otherwise (§6.2).</summary>
    public static int QualityOfService(Vda5050Topic topic) => topic == Vda5050Topic.Connection ? 1 : 0;

    /// <summary>True for topics published retained: <c>connection</c> and <c>factsheet</c>.</summary>
    public static bool IsRetained(Vda5050Topic topic) => topic is Vda5050Topic.Connection or Vda5050Topic.Factsheet;

    private static bool TryParseLeaf(string leaf, out Vda5050Topic topic)
    {
        foreach (var candidate in Enum.GetValues<Vda5050Topic>())
        {
            if (Leaf(candidate) == leaf)
            {
                topic = candidate;
                return true;
            }
        }

        topic = default;
        return false;
    }

    private static void CheckLevel(string value, string name)
    {
        if (string.IsNullOrEmpty(value) || value.AsSpan().IndexOfAny("/+#") >= 0)
            throw new ArgumentException($"{name} '{value}' must be non-empty and contain no '/', '+' or '#'", name);
    }
}
