using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using RobotFleet.Vda5050.V2;

namespace RobotFleet.Vda5050;

/// <summary>
/// Reads and writes VDA 5050 v2 messages as UTF-8 JSON with the source-generated
/// <see cref="Vda5050JsonContext"/>. Thread-safe.
/// </summary>
/// <remarks>
/// Reading ignores unknown fields and treats explicit nulls of optional fields as absent (VDA 5050
/// §6.1: optional fields may be missing). Known dialect: an instantActions message whose array is
/// named <c>instantActions</c> instead of <c>actions</c> is read as if it were <c>actions</c>.
/// </remarks>
public static class Vda5050Json
{
    /// <summary>Serialises a message to UTF-8 JSON bytes.</summary>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not a VDA 5050 message type.</exception>
    public static byte[] SerializeToUtf8Bytes<T>(T message) => JsonSerializer.SerializeToUtf8Bytes(message, TypeInfo<T>());

    /// <summary>Serialises a message to a JSON string.</summary>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not a VDA 5050 message type.</exception>
    public static string Serialize<T>(T message) => JsonSerializer.Serialize(message, TypeInfo<T>());

    /// <summary>Parses a message from UTF-8 JSON.</summary>
    /// <exception cref="Vda5050FormatException">The JSON is malformed or a required field is missing or of the wrong type; the message names the field path.</exception>
    public static T Deserialize<T>(ReadOnlySpan<byte> utf8Json)
    {
        try
        {
            var message = JsonSerializer.Deserialize(utf8Json, TypeInfo<T>())
                ?? throw new Vda5050FormatException(typeof(T).Name, "$", "message is null");
            if (message is InstantActions { Actions.Count: 0 } instant)
                return (T)(object)ReadInstantActionsDialect(utf8Json, instant);
            return message;
        }
        catch (JsonException e)
        {
            throw new Vda5050FormatException(typeof(T).Name, e.Path ?? "$", e.Message, e);
        }
    }

    /// <summary>Parses a message from a JSON string.</summary>
    /// <exception cref="Vda5050FormatException">As <see cref="Deserialize{T}(ReadOnlySpan{byte})"/>.</exception>
    public static T Deserialize<T>(string json) => Deserialize<T>(System.Text.Encoding.UTF8.GetBytes(json));

    private static InstantActions ReadInstantActionsDialect(ReadOnlySpan<byte> utf8Json, InstantActions parsed)
    {
        if (JsonNode.Parse(utf8Json) is not JsonObject root || root["instantActions"] is not JsonArray array)
            return parsed;
        var actions = array.Deserialize(Vda5050JsonContext.Default.IReadOnlyListAction) ?? [];
        return parsed with { Actions = actions };
    }

    private static JsonTypeInfo<T> TypeInfo<T>() =>
        Vda5050JsonContext.Default.GetTypeInfo(typeof(T)) as JsonTypeInfo<T>
        ?? throw new NotSupportedException($"{typeof(T).Name} is not a VDA 5050 message type");
}

/// <summary>A VDA 5050 message could not be read; says which message and which field.</summary>
public sealed class Vda5050FormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="messageType">Message type, e.g. <c>Order</c>.</param>
    /// <param name="path">JSON path of the offending field, e.g. <c>$.nodes[0].sequenceId</c>.</param>
    /// <param name="reason">What is wrong.</param>
    /// <param name="inner">Underlying parser exception, if any.</param>
    public Vda5050FormatException(string messageType, string path, string reason, Exception? inner = null)
        : base($"invalid VDA 5050 {messageType} at {path}: {reason}", inner)
    {
        MessageType = messageType;
        Path = path;
    }

    /// <summary>Message type, e.g. <c>Order</c>.</summary>
    public string MessageType { get; }

    /// <summary>JSON path of the offending field.</summary>
    public string Path { get; }
}
