namespace RobotFleet.Perception;

/// <summary>One class of a classification result.</summary>
/// <param name="ClassId">Class index in the model's output (0-based).</param>
/// <param name="Label">The manifest's label for the class, or the index as text when the manifest has none.</param>
/// <param name="Score">Softmax probability (0..1) when the manifest asks for softmax, else the model's raw score.</param>
public readonly record struct ClassScore(int ClassId, string Label, float Score);

/// <summary>One detected object: an axis-aligned box in frame pixels, its score and class.</summary>
/// <param name="X1">Left edge, frame pixels (0 = left border), clamped to 0..frame width.</param>
/// <param name="Y1">Top edge, frame pixels (0 = top border), clamped to 0..frame height.</param>
/// <param name="X2">Right edge, frame pixels, at least <paramref name="X1"/>.</param>
/// <param name="Y2">Bottom edge, frame pixels, at least <paramref name="Y1"/>.</param>
/// <param name="Score">Detection score from the model, 0..1.</param>
/// <param name="ClassId">Class index (the row's class value rounded to the nearest integer).</param>
/// <param name="Label">The manifest's label for the class, or the index as text.</param>
public readonly record struct Detection(float X1, float Y1, float X2, float Y2, float Score, int ClassId, string Label)
{
    /// <summary>Box width in pixels.</summary>
    public float Width => X2 - X1;

    /// <summary>Box height in pixels.</summary>
    public float Height => Y2 - Y1;
}

/// <summary>Where the time of one run went, measured with <see cref="System.Diagnostics.Stopwatch"/>.</summary>
/// <param name="Preprocess">Resize, colour order, normalisation and layout into the input tensor.</param>
/// <param name="Inference">ONNX Runtime's run.</param>
/// <param name="Decode">Output decoding (top-k, NMS, copy).</param>
public readonly record struct InferenceTiming(TimeSpan Preprocess, TimeSpan Inference, TimeSpan Decode)
{
    /// <summary>Preprocess + inference + decode.</summary>
    public TimeSpan Total => Preprocess + Inference + Decode;
}

/// <summary>The result of one frame through one model version.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
public sealed class InferenceResult
{
    internal InferenceResult(
        ModelManifest manifest,
        IReadOnlyList<ClassScore> classes,
        IReadOnlyList<Detection> detections,
        float[] embedding,
        InferenceTiming timing)
    {
        ModelName = manifest.Name;
        ModelVersion = manifest.Version;
        Kind = manifest.Kind;
        Classes = classes;
        Detections = detections;
        Embedding = embedding;
        Timing = timing;
        OverBudget = timing.Total > manifest.LatencyBudget;
    }

    /// <summary>Name of the model that produced this result.</summary>
    public string ModelName { get; }

    /// <summary>Version of the model that produced this result (the session the run started on).</summary>
    public string ModelVersion { get; }

    /// <summary>Which of <see cref="Classes"/>, <see cref="Detections"/>, <see cref="Embedding"/> is filled.</summary>
    public ModelKind Kind { get; }

    /// <summary>Classification: the top k classes, best first; empty for other kinds.</summary>
    public IReadOnlyList<ClassScore> Classes { get; }

    /// <summary>Detection: boxes after non-maximum suppression, best score first; empty for other kinds.</summary>
    public IReadOnlyList<Detection> Detections { get; }

    /// <summary>Embedding: the flattened output vector; empty for other kinds.</summary>
    public float[] Embedding { get; }

    /// <summary>Time per stage of this run.</summary>
    public InferenceTiming Timing { get; }

    /// <summary>True when <see cref="InferenceTiming.Total"/> exceeded the manifest's latency budget.</summary>
    public bool OverBudget { get; }
}
