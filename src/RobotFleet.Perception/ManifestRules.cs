using System.Globalization;

namespace RobotFleet.Perception;

/// <summary>Consistency rules of <see cref="ModelManifest"/>, shared by the JSON reader and manifests built in code.</summary>
internal static class ManifestRules
{
    public const int MaxNameLength = 128;

    public static void Validate(ModelManifest m)
    {
        CheckIdentifier(m.Name, "name", allowPlus: false);
        CheckIdentifier(m.Version, "version", allowPlus: true);

        if (string.IsNullOrWhiteSpace(m.Input.Name))
        {
            throw new ModelManifestException("input.name", "must be a non-empty string");
        }
        if (!Enum.IsDefined(m.Input.ElementType))
        {
            throw new ModelManifestException("input.elementType", $"unknown element type {m.Input.ElementType}");
        }

        var p = m.Preprocessing;
        if (p.Width < 1 || p.Height < 1)
        {
            throw new ModelManifestException(p.Width < 1 ? "preprocessing.width" : "preprocessing.height", "must be a positive integer");
        }
        CheckShape(m.Input, p);

        var c = p.Channels;
        if (!float.IsFinite(p.PixelScale) || p.PixelScale <= 0)
        {
            throw new ModelManifestException("preprocessing.pixelScale", "must be a positive finite number");
        }
        if (p.Mean.Count != c)
        {
            throw new ModelManifestException("preprocessing.mean", $"needs {c} value(s), one per channel of {Json(p.ColorOrder)}, got {p.Mean.Count}");
        }
        if (p.Std.Count != c)
        {
            throw new ModelManifestException("preprocessing.std", $"needs {c} value(s), one per channel of {Json(p.ColorOrder)}, got {p.Std.Count}");
        }
        for (var i = 0; i < c; i++)
        {
            if (!float.IsFinite(p.Mean[i]))
            {
                throw new ModelManifestException($"preprocessing.mean[{i}]", "must be a finite number");
            }
            if (!float.IsFinite(p.Std[i]) || p.Std[i] <= 0)
            {
                throw new ModelManifestException($"preprocessing.std[{i}]", "must be a positive finite number");
            }
        }
        if (m.Input.ElementType == InputElementType.UInt8
            && (p.PixelScale != 1f || p.Mean.Any(v => v != 0f) || p.Std.Any(v => v != 1f)))
        {
            throw new ModelManifestException("preprocessing", "uint8 inputs take raw pixel values: pixelScale must be 1, mean 0 and std 1 (or leave them out)");
        }

        CheckOutput(m.Output);

        if (m.LatencyBudget <= TimeSpan.Zero)
        {
            throw new ModelManifestException("latencyBudgetMs", "must be a positive number of milliseconds");
        }
    }

    private static void CheckShape(InputSpec input, ImagePreprocessing p)
    {
        var shape = input.Shape;
        if (shape.Count != 4)
        {
            throw new ModelManifestException("input.shape", $"must have 4 dimensions ({Json(p.Layout)}), got {shape.Count}");
        }
        var expected = p.InputShape();
        string[] names = p.Layout == TensorLayout.Nchw ? ["batch", "channels", "height", "width"] : ["batch", "height", "width", "channels"];
        for (var i = 0; i < 4; i++)
        {
            var d = shape[i];
            if (!d.IsDynamic && d.Size != expected[i])
            {
                var why = names[i] switch
                {
                    "batch" => "the batch dimension must be 1 or dynamic (one frame per run)",
                    "channels" => $"{Json(p.ColorOrder)} has {p.Channels} channel(s)",
                    "height" => $"preprocessing.height is {p.Height}",
                    _ => $"preprocessing.width is {p.Width}",
                };
                throw new ModelManifestException($"input.shape[{i}]", $"{names[i]} is {d.Size}, but {why} ({Json(p.Layout)} layout)");
            }
        }
    }

    private static void CheckOutput(OutputDecoding output)
    {
        if (output is null)
        {
            throw new ModelManifestException("output", "is required");
        }
        if (string.IsNullOrWhiteSpace(output.TensorName))
        {
            throw new ModelManifestException("output.name", "must be a non-empty string");
        }
        switch (output)
        {
            case TopKDecoding t:
                if (t.TopK < 1)
                {
                    throw new ModelManifestException("output.topK", "must be at least 1");
                }
                CheckLabels(t.Labels);
                break;
            case DetectionDecoding d:
                if (!(d.ScoreThreshold >= 0 && d.ScoreThreshold <= 1))
                {
                    throw new ModelManifestException("output.scoreThreshold", "must be between 0 and 1");
                }
                if (!(d.IouThreshold > 0 && d.IouThreshold <= 1))
                {
                    throw new ModelManifestException("output.iouThreshold", "must be greater than 0 and at most 1");
                }
                if (d.MaxDetections < 1)
                {
                    throw new ModelManifestException("output.maxDetections", "must be at least 1");
                }
                CheckLabels(d.Labels);
                break;
            case EmbeddingDecoding:
                break;
            default:
                throw new ModelManifestException("output", $"unsupported decoding {output.GetType().Name}");
        }
    }

    private static void CheckLabels(IReadOnlyList<string> labels)
    {
        if (labels is null)
        {
            throw new ModelManifestException("output.labels", "must be an array (empty for none)");
        }
        for (var i = 0; i < labels.Count; i++)
        {
            if (string.IsNullOrEmpty(labels[i]))
            {
                throw new ModelManifestException($"output.labels[{i}]", "must be a non-empty string");
            }
        }
    }

    private static void CheckIdentifier(string? value, string field, bool allowPlus)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new ModelManifestException(field, "must be a non-empty string");
        }
        if (value.Length > MaxNameLength)
        {
            throw new ModelManifestException(field, $"is {value.Length} characters long, at most {MaxNameLength} allowed");
        }
        foreach (var ch in value)
        {
            var ok = char.IsAsciiLetterOrDigit(ch) || ch is '.' or '_' or '-' || (allowPlus && ch == '+');
            if (!ok)
            {
                var allowed = allowPlus ? "letters, digits, '.', '_', '-', '+'" : "letters, digits, '.', '_', '-'";
                throw new ModelManifestException(field, $"'{value}' contains '{ch}'; allowed: {allowed}");
            }
        }
    }

    public static string Json(TensorLayout layout) => layout == TensorLayout.Nchw ? "NCHW" : "NHWC";

    public static string Json(ColorOrder order) => order switch
    {
        ColorOrder.Rgb => "RGB",
        ColorOrder.Bgr => "BGR",
        _ => "GRAY",
    };

    public static string Json(InputElementType type) => type == InputElementType.Float32 ? "float32" : "uint8";

    public static string Json(BoxCoordinates boxes) => boxes == BoxCoordinates.InputPixels ? "inputPixels" : "normalized";

    public static string Json(ModelKind kind) => kind switch
    {
        ModelKind.Classification => "classification",
        ModelKind.Detection => "detection",
        _ => "embedding",
    };

    public static string Shape(IEnumerable<long> dims) => "[" + string.Join(", ", dims.Select(d => d < 0 ? "?" : d.ToString(CultureInfo.InvariantCulture))) + "]";
}
