using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RobotFleet.Vda5050.V2;

/// <summary>
/// Source-generated System.Text.Json metadata for every VDA 5050 v2 message: camelCase names,
/// nulls not written, unknown fields ignored, explicit nulls of optional fields read as absent.
/// Explicit nulls of required (non-nullable) fields are rejected; collections marked
/// <see cref="System.Diagnostics.CodeAnalysis.AllowNullAttribute"/> read a null as empty.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowReadingFromString,
    RespectNullableAnnotations = true,
    Converters = [typeof(UtcTimestampConverter), typeof(LenientInt64Converter)])]
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

/// <summary>
/// Reads integers leniently: a JSON number with an integral value written as a float (<c>2.0</c>, as
/// some Java senders do) or a numeric string; writes plain integers.
/// </summary>
public sealed class LenientInt64Converter : JsonConverter<long>
{
    /// <inheritdoc />
    public override long Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            if (reader.TryGetInt64(out var integer))
                return integer;
            if (reader.TryGetDouble(out var number) && IsIntegral(number))
                return (long)number;
            throw new JsonException($"{Encoding.UTF8.GetString(reader.ValueSpan)} is not an integer");
        }

        if (reader.TokenType == JsonTokenType.String)
        {
            var text = reader.GetString()!;
            if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var integer))
                return integer;
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && IsIntegral(number))
                return (long)number;
            throw new JsonException($"'{text}' is not an integer");
        }

        throw new JsonException($"expected an integer, found {reader.TokenType}");
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, long value, JsonSerializerOptions options) => writer.WriteNumberValue(value);

    // 2^63 is exactly representable as a double but one past long.MaxValue: exclusive upper bound.
    private static bool IsIntegral(double number) => number == Math.Floor(number) && number >= long.MinValue && number < 9223372036854775808d;
}
