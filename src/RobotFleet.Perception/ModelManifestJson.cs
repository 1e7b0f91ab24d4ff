using System.Globalization;
using System.Text;
using System.Text.Json;

namespace RobotFleet.Perception;

/// <summary>
/// Reads and writes <see cref="ModelManifest"/> as JSON (System.Text.Json, no schema library). Every error names the
/// field by its JSON path. Field names are case-sensitive camelCase; unknown fields are rejected (a misspelt optional
/// field would otherwise be silently ignored), except names starting with <c>x-</c>, which are ignored.
/// The format is documented in the project README (src/RobotFleet.Perception/README.md).
/// </summary>
/// <remarks>Stateless; safe to call from any thread.</remarks>
public static class ModelManifestJson
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 16 };

    /// <summary>Parses and validates a manifest.</summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>A manifest that passed <see cref="ModelManifest.Validate"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="json"/> is null.</exception>
    /// <exception cref="ModelManifestException">Not JSON, or the first invalid field (named in <see cref="ModelManifestException.Field"/>).</exception>
    public static ModelManifest Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Parse(Encoding.UTF8.GetBytes(json));
    }

    /// <summary>Parses and validates a manifest from UTF-8 bytes (a leading byte order mark is skipped).</summary>
    /// <param name="utf8">The JSON document.</param>
    /// <returns>A manifest that passed <see cref="ModelManifest.Validate"/>.</returns>
    /// <exception cref="ModelManifestException">Not JSON, or the first invalid field (named in <see cref="ModelManifestException.Field"/>).</exception>
    public static ModelManifest Parse(ReadOnlyMemory<byte> utf8)
    {
        if (utf8.Span.StartsWith("\uFEFF"u8))
        {
            utf8 = utf8[3..];
        }
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(utf8, DocumentOptions);
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $" at line {line + 1}, byte {e.BytePositionInLine + 1}" : "";
            throw new ModelManifestException("$", $"not valid JSON{where}: {e.Message}", e);
        }
        using (doc)
        {
            var manifest = Read(doc.RootElement);
            manifest.Validate();
            return manifest;
        }
    }

    /// <summary>Like <see cref="Parse(string)"/>, but returns the error instead of throwing it.</summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="manifest">The manifest, or null on error.</param>
    /// <param name="error">The error, or null on success.</param>
    /// <returns>True when the manifest is valid.</returns>
    public static bool TryParse(string json, out ModelManifest? manifest, out ModelManifestException? error)
    {
        try
        {
            manifest = Parse(json);
            error = null;
            return true;
        }
        catch (ModelManifestException e)
        {
            manifest = null;
            error = e;
            return false;
        }
    }

    /// <summary>Writes <paramref name="manifest"/> as indented JSON that <see cref="Parse(string)"/> reads back to an equal manifest.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="manifest"/> is null.</exception>
    /// <exception cref="ModelManifestException">The manifest is invalid.</exception>
    public static string Serialize(ModelManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        manifest.Validate();
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("name", manifest.Name);
            w.WriteString("version", manifest.Version);
            w.WriteString("task", ManifestRules.Json(manifest.Kind));

            w.WriteStartObject("input");
            w.WriteString("name", manifest.Input.Name);
            w.WriteString("elementType", ManifestRules.Json(manifest.Input.ElementType));
            w.WriteStartArray("shape");
            foreach (var d in manifest.Input.Shape)
            {
                if (!d.IsDynamic)
                {
                    w.WriteNumberValue(d.Size);
                }
                else if (d.Symbol is { } s)
                {
                    w.WriteStringValue(s);
                }
                else
                {
                    w.WriteNumberValue(-1);
                }
            }
            w.WriteEndArray();
            w.WriteEndObject();

            var p = manifest.Preprocessing;
            w.WriteStartObject("preprocessing");
            w.WriteString("resize", "bilinear");
            w.WriteNumber("width", p.Width);
            w.WriteNumber("height", p.Height);
            w.WriteString("layout", ManifestRules.Json(p.Layout));
            w.WriteString("colorOrder", ManifestRules.Json(p.ColorOrder));
            w.WriteNumber("pixelScale", p.PixelScale);
            WriteFloats(w, "mean", p.Mean);
            WriteFloats(w, "std", p.Std);
            w.WriteEndObject();

            w.WriteStartObject("output");
            w.WriteString("name", manifest.Output.TensorName);
            switch (manifest.Output)
            {
                case TopKDecoding t:
                    w.WriteNumber("topK", t.TopK);
                    w.WriteBoolean("softmax", t.Softmax);
                    WriteStrings(w, "labels", t.Labels);
                    break;
                case DetectionDecoding d:
                    w.WriteString("layout", DetectionDecoding.Layout);
                    w.WriteString("boxes", ManifestRules.Json(d.Boxes));
                    w.WriteNumber("scoreThreshold", d.ScoreThreshold);
                    w.WriteNumber("iouThreshold", d.IouThreshold);
                    w.WriteNumber("maxDetections", d.MaxDetections);
                    w.WriteBoolean("classAgnosticNms", d.ClassAgnosticNms);
                    WriteStrings(w, "labels", d.Labels);
                    break;
                case EmbeddingDecoding e:
                    w.WriteBoolean("l2Normalize", e.L2Normalize);
                    break;
            }
            w.WriteEndObject();

            w.WriteNumber("latencyBudgetMs", manifest.LatencyBudget.TotalMilliseconds);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteFloats(Utf8JsonWriter w, string name, IReadOnlyList<float> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values)
        {
            w.WriteNumberValue(v);
        }
        w.WriteEndArray();
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, IReadOnlyList<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values)
        {
            w.WriteStringValue(v);
        }
        w.WriteEndArray();
    }

    // ---------------------------------------------------------------- reading

    private static ModelManifest Read(JsonElement root)
    {
        var top = new Obj(root, "$", ["name", "version", "task", "input", "preprocessing", "output", "latencyBudgetMs"]);
        var name = top.String("name");
        var version = top.String("version");
        var task = top.Enum("task", new Dictionary<string, ModelKind>
        {
            ["classification"] = ModelKind.Classification,
            ["detection"] = ModelKind.Detection,
            ["embedding"] = ModelKind.Embedding,
        });

        var inputObj = top.Object("input", ["name", "elementType", "shape"]);
        var inputName = inputObj.String("name");
        var elementType = inputObj.Enum("elementType", new Dictionary<string, InputElementType>
        {
            ["float32"] = InputElementType.Float32,
            ["uint8"] = InputElementType.UInt8,
        });
        var shape = ReadShape(inputObj.Array("shape"), inputObj.PathOf("shape"));
        if (shape.Length != 4)
        {
            throw new ModelManifestException(inputObj.PathOf("shape"), $"must have 4 dimensions (NCHW or NHWC), got {shape.Length}");
        }

        var pre = top.Object("preprocessing", ["resize", "width", "height", "layout", "colorOrder", "pixelScale", "mean", "std"]);
        var resize = pre.OptionalString("resize") ?? "bilinear";
        if (resize != "bilinear")
        {
            throw new ModelManifestException(pre.PathOf("resize"), $"'{resize}' is not supported; the only resize is 'bilinear'");
        }
        var layout = pre.Enum("layout", new Dictionary<string, TensorLayout> { ["NCHW"] = TensorLayout.Nchw, ["NHWC"] = TensorLayout.Nhwc });
        var color = pre.Enum("colorOrder", new Dictionary<string, ColorOrder> { ["RGB"] = ColorOrder.Rgb, ["BGR"] = ColorOrder.Bgr, ["GRAY"] = ColorOrder.Gray });
        var channels = color == ColorOrder.Gray ? 1 : 3;
        var (hIndex, wIndex) = layout == TensorLayout.Nchw ? (2, 3) : (1, 2);
        var width = pre.OptionalInt("width") ?? FromShape(shape, wIndex, pre.PathOf("width"));
        var height = pre.OptionalInt("height") ?? FromShape(shape, hIndex, pre.PathOf("height"));
        float pixelScale;
        if (elementType == InputElementType.Float32)
        {
            pixelScale = pre.Float("pixelScale", "required for float32 inputs (e.g. 0.00392156862745098 = 1/255 for models trained on 0..1, 1 for 0..255)");
        }
        else
        {
            pixelScale = pre.OptionalFloat("pixelScale") ?? 1f;
        }
        var mean = pre.OptionalFloats("mean") ?? new float[channels];
        var std = pre.OptionalFloats("std") ?? Enumerable.Repeat(1f, channels).ToArray();
        var preprocessing = new ImagePreprocessing(width, height, layout, color, pixelScale, mean, std);

        OutputDecoding output = task switch
        {
            ModelKind.Classification => ReadTopK(top.Object("output", ["name", "topK", "softmax", "labels"])),
            ModelKind.Detection => ReadDetection(top.Object("output", ["name", "layout", "boxes", "scoreThreshold", "iouThreshold", "maxDetections", "classAgnosticNms", "labels"])),
            _ => ReadEmbedding(top.Object("output", ["name", "l2Normalize"])),
        };

        var budgetMs = top.Double("latencyBudgetMs", "the longest acceptable time for one frame, in milliseconds");
        if (!double.IsFinite(budgetMs) || budgetMs <= 0 || budgetMs > TimeSpan.MaxValue.TotalMilliseconds / 2)
        {
            throw new ModelManifestException("latencyBudgetMs", "must be a positive number of milliseconds");
        }

        return new ModelManifest(name, version, new InputSpec(inputName, elementType, shape), preprocessing, output, TimeSpan.FromMilliseconds(budgetMs));
    }

    private static TopKDecoding ReadTopK(Obj o) => new(
        o.String("name"),
        o.OptionalInt("topK") ?? 5,
        o.OptionalBool("softmax") ?? true,
        o.OptionalStrings("labels") ?? []);

    private static DetectionDecoding ReadDetection(Obj o)
    {
        var layout = o.OptionalString("layout") ?? DetectionDecoding.Layout;
        if (layout != DetectionDecoding.Layout)
        {
            throw new ModelManifestException(o.PathOf("layout"), $"'{layout}' is not supported; the only detection layout is '{DetectionDecoding.Layout}' (rows of x1, y1, x2, y2, score, class)");
        }
        var boxes = o.OptionalString("boxes") switch
        {
            null or "inputPixels" => BoxCoordinates.InputPixels,
            "normalized" => BoxCoordinates.Normalized,
            var other => throw new ModelManifestException(o.PathOf("boxes"), $"'{other}' is not one of 'inputPixels', 'normalized'"),
        };
        return new DetectionDecoding(
            o.String("name"),
            boxes,
            o.OptionalFloat("scoreThreshold") ?? 0.25f,
            o.OptionalFloat("iouThreshold") ?? 0.45f,
            o.OptionalInt("maxDetections") ?? 100,
            o.OptionalBool("classAgnosticNms") ?? false,
            o.OptionalStrings("labels") ?? []);
    }

    private static EmbeddingDecoding ReadEmbedding(Obj o) => new(o.String("name"), o.OptionalBool("l2Normalize") ?? false);

    private static TensorDimension[] ReadShape(JsonElement array, string path)
    {
        var dims = new TensorDimension[array.GetArrayLength()];
        var i = 0;
        foreach (var e in array.EnumerateArray())
        {
            var at = $"{path}[{i}]";
            dims[i++] = e.ValueKind switch
            {
                JsonValueKind.Null => TensorDimension.Dynamic(),
                JsonValueKind.String when e.GetString() is { Length: > 0 } s => TensorDimension.Dynamic(s),
                JsonValueKind.Number when e.TryGetInt64(out var n) && n == -1 => TensorDimension.Dynamic(),
                JsonValueKind.Number when e.TryGetInt64(out var n) && n >= 1 => TensorDimension.Fixed(n),
                _ => throw new ModelManifestException(at, $"expected a positive integer, or -1, null or a name for a dynamic dimension; got {Describe(e)}"),
            };
        }
        return dims;
    }

    private static int FromShape(TensorDimension[] shape, int index, string field)
    {
        if (shape.Length == 4 && !shape[index].IsDynamic && shape[index].Size <= int.MaxValue)
        {
            return (int)shape[index].Size;
        }
        throw new ModelManifestException(field, "is required when the input shape does not fix it");
    }

    private static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{e.GetString()}\"",
        JsonValueKind.Number => $"the number {e.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => $"the boolean {e.GetRawText()}",
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => e.ValueKind.ToString(),
    };

    /// <summary>A JSON object with its path, known fields and typed getters that name the field in every error.</summary>
    private readonly struct Obj
    {
        private readonly JsonElement _e;
        private readonly string _path;

        public Obj(JsonElement e, string path, string[] known)
        {
            if (e.ValueKind != JsonValueKind.Object)
            {
                throw new ModelManifestException(path, $"expected an object, got {Describe(e)}");
            }
            _e = e;
            _path = path;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var p in e.EnumerateObject())
            {
                if (!seen.Add(p.Name))
                {
                    throw new ModelManifestException(PathOf(p.Name), "appears more than once");
                }
                if (!known.Contains(p.Name, StringComparer.Ordinal) && !p.Name.StartsWith("x-", StringComparison.Ordinal))
                {
                    var hint = known.FirstOrDefault(k => string.Equals(k, p.Name, StringComparison.OrdinalIgnoreCase));
                    var also = hint is null ? "" : $" (did you mean '{hint}'? names are case-sensitive)";
                    throw new ModelManifestException(PathOf(p.Name), $"unknown field{also}; known here: {string.Join(", ", known)}");
                }
            }
        }

        public string PathOf(string name) => _path == "$" ? name : $"{_path}.{name}";

        private bool TryGet(string name, out JsonElement value) =>
            _e.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

        private JsonElement Require(string name, string? hint = null)
        {
            if (!TryGet(name, out var v))
            {
                throw new ModelManifestException(PathOf(name), hint is null ? "is required" : $"is required: {hint}");
            }
            return v;
        }

        public Obj Object(string name, string[] known) => new(Require(name), PathOf(name), known);

        public JsonElement Array(string name)
        {
            var v = Require(name);
            return v.ValueKind == JsonValueKind.Array ? v : throw new ModelManifestException(PathOf(name), $"expected an array, got {Describe(v)}");
        }

        public string String(string name) => AsString(name, Require(name));

        public string? OptionalString(string name) => TryGet(name, out var v) ? AsString(name, v) : null;

        private string AsString(string name, JsonElement v) => v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s
            ? s
            : throw new ModelManifestException(PathOf(name), $"expected a non-empty string, got {Describe(v)}");

        public T Enum<T>(string name, Dictionary<string, T> values)
        {
            var s = String(name);
            if (values.TryGetValue(s, out var value))
            {
                return value;
            }
            var hint = values.Keys.FirstOrDefault(k => string.Equals(k, s, StringComparison.OrdinalIgnoreCase));
            var also = hint is null ? "" : $" (did you mean '{hint}'?)";
            throw new ModelManifestException(PathOf(name), $"'{s}' is not one of {string.Join(", ", values.Keys.Select(k => $"'{k}'"))}{also}");
        }

        public double Double(string name, string hint) => AsDouble(name, Require(name, hint));

        public float Float(string name, string hint) => (float)AsDouble(name, Require(name, hint));

        public float? OptionalFloat(string name) => TryGet(name, out var v) ? (float)AsDouble(name, v) : null;

        private double AsDouble(string name, JsonElement v) => v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && double.IsFinite(d)
            ? d
            : throw new ModelManifestException(PathOf(name), $"expected a number, got {Describe(v)}");

        public int? OptionalInt(string name)
        {
            if (!TryGet(name, out var v))
            {
                return null;
            }
            return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i)
                ? i
                : throw new ModelManifestException(PathOf(name), $"expected an integer, got {Describe(v)}");
        }

        public bool? OptionalBool(string name)
        {
            if (!TryGet(name, out var v))
            {
                return null;
            }
            return v.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new ModelManifestException(PathOf(name), $"expected true or false, got {Describe(v)}"),
            };
        }

        public float[]? OptionalFloats(string name)
        {
            if (!TryGet(name, out _))
            {
                return null;
            }
            var array = Array(name);
            var result = new float[array.GetArrayLength()];
            var i = 0;
            foreach (var e in array.EnumerateArray())
            {
                result[i] = e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out var d) && double.IsFinite(d)
                    ? (float)d
                    : throw new ModelManifestException($"{PathOf(name)}[{i}]", $"expected a number, got {Describe(e)}");
                i++;
            }
            return result;
        }

        public string[]? OptionalStrings(string name)
        {
            if (!TryGet(name, out _))
            {
                return null;
            }
            var array = Array(name);
            var result = new string[array.GetArrayLength()];
            var i = 0;
            foreach (var e in array.EnumerateArray())
            {
                result[i] = e.ValueKind == JsonValueKind.String && e.GetString() is { Length: > 0 } s
                    ? s
                    : throw new ModelManifestException($"{PathOf(name)}[{i}]", $"expected a non-empty string, got {Describe(e)}");
                i++;
            }
            return result;
        }
    }

    internal static string Invariant(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
