using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RobotFleet.Vda5050.V2;

/// <summary>
/// Source-generated System.Text.Json metadata for every VDA 5050 v2 message: camelCase names,
/// nulls not written, unknown fields ignored, explicit nulls of optional fields read as absent.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowReadingFromString,
    Converters = [typeof(UtcTimestampConverter)])]
[JsonSerializable(typeof(Order))]
[JsonSerializable(typeof(InstantActions))]
[JsonSerializable(typeof(State))]
[JsonSerializable(typeof(Connection))]
[JsonSerializable(typeof(Factsheet))]
[JsonSerializable(typeof(Visualization))]
[JsonSerializable(typeof(IReadOnlyList<Action>))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(double))]
public sealed partial class Vda5050JsonContext : JsonSerializerContext;

/// <summary>
/// Writes timestamps as UTC ISO-8601 with a <c>Z</c> suffix and milliseconds
/// (<c>2024-05-01T12:00:00.123Z</c>); reads any ISO-8601 form.
/// </summary>
public sealed class UtcTimestampConverter : JsonConverter<DateTimeOffset>
{
    /// <inheritdoc />
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.GetString() ?? throw new JsonException("timestamp is null");
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value))
            throw new JsonException($"timestamp '{text}' is not an ISO-8601 date-time");
        return value;
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
}
