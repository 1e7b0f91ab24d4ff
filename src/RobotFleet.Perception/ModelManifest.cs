using System.Globalization;

namespace RobotFleet.Perception;

/// <summary>What a model is for; picks how its output is decoded. JSON field <c>task</c>.</summary>
public enum ModelKind
{
    /// <summary>Image classification: one score per class, decoded as the top k classes (<see cref="TopKDecoding"/>).</summary>
    Classification,

    /// <summary>Object detection: rows of boxes, scores and classes, decoded with non-maximum suppression (<see cref="DetectionDecoding"/>).</summary>
    Detection,

    /// <summary>Feature extraction: the output tensor is the result, as one flat vector (<see cref="EmbeddingDecoding"/>).</summary>
    Embedding,
}

/// <summary>Element type of the model's image input tensor. JSON: <c>float32</c>, <c>uint8</c>.</summary>
public enum InputElementType
{
    /// <summary>32-bit float; pixels are normalised with <see cref="ImagePreprocessing.PixelScale"/>, mean and std.</summary>
    Float32,

    /// <summary>8-bit unsigned; raw resized pixel values 0..255, no normalisation.</summary>
    UInt8,
}

/// <summary>Order of the image input's dimensions. JSON: <c>NCHW</c>, <c>NHWC</c>.</summary>
public enum TensorLayout
{
    /// <summary>[batch, channels, height, width] (PyTorch, ONNX model zoo).</summary>
    Nchw,

    /// <summary>[batch, height, width, channels] (TensorFlow, TFLite exports).</summary>
    Nhwc,
}

/// <summary>Channel order the model expects. JSON: <c>RGB</c>, <c>BGR</c>, <c>GRAY</c>.</summary>
public enum ColorOrder
{
    /// <summary>3 channels: red, green, blue.</summary>
    Rgb,

    /// <summary>3 channels: blue, green, red (Caffe and CNTK models).</summary>
    Bgr,

    /// <summary>1 channel: luminance, Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601) from colour frames.</summary>
    Gray,
}

/// <summary>Units of the box corners in a detection output. JSON: <c>inputPixels</c>, <c>normalized</c>.</summary>
public enum BoxCoordinates
{
    /// <summary>Pixels of the model input (after resizing), 0..width and 0..height.</summary>
    InputPixels,

    /// <summary>Fractions of the image, 0..1 on both axes.</summary>
    Normalized,
}

/// <summary>
/// One dimension of a tensor shape: a fixed size (at least 1) or dynamic (size decided at run time, optionally named,
/// as ONNX's <c>dim_param</c>).
/// </summary>
/// <param name="Size">The size, or -1 when dynamic.</param>
/// <param name="Symbol">The name of a dynamic dimension (e.g. <c>batch</c>), or null.</param>
public readonly record struct TensorDimension(long Size, string? Symbol)
{
    /// <summary>True when the size is decided at run time.</summary>
    public bool IsDynamic => Size < 0;

    /// <summary>A fixed dimension.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is below 1.</exception>
    public static TensorDimension Fixed(long size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        return new TensorDimension(size, null);
    }

    /// <summary>A dynamic dimension, optionally named.</summary>
    public static TensorDimension Dynamic(string? symbol = null) => new(-1, symbol);

    /// <summary>The size, or the symbol (or <c>?</c>) when dynamic.</summary>
    public override string ToString() => IsDynamic ? Symbol ?? "?" : Size.ToString(CultureInfo.InvariantCulture);
}

/// <summary>The model's image input tensor as the manifest declares it. JSON object <c>input</c>.</summary>
/// <param name="Name">Input name in the ONNX graph.</param>
/// <param name="ElementType">Element type.</param>
/// <param name="Shape">Rank 4 in the order of <see cref="ImagePreprocessing.Layout"/>; the batch dimension is 1 or dynamic (one frame per run).</param>
public sealed record InputSpec(string Name, InputElementType ElementType, IReadOnlyList<TensorDimension> Shape);

/// <summary>
/// How a frame becomes the input tensor. JSON object <c>preprocessing</c>.
/// Per channel c, in the model's channel order: value = (pixel x <see cref="PixelScale"/> - Mean[c]) / Std[c],
/// where pixel is the bilinear-resized 8-bit value (0..255). For <see cref="InputElementType.UInt8"/> inputs the
/// resized pixel is written as is (scale 1, mean 0, std 1 required).
/// </summary>
/// <param name="Width">Model input width in pixels (the frame is resized to it).</param>
/// <param name="Height">Model input height in pixels.</param>
/// <param name="Layout">Dimension order of the input tensor.</param>
/// <param name="ColorOrder">Channel order of the input tensor (1 channel for <see cref="ColorOrder.Gray"/>, else 3).</param>
/// <param name="PixelScale">Factor applied to 0..255 pixel values before mean and std, e.g. 1/255 for models trained on 0..1.</param>
/// <param name="Mean">One value per channel, in the model's channel order, in the units after scaling.</param>
/// <param name="Std">One positive value per channel, in the model's channel order.</param>
public sealed record ImagePreprocessing(
    int Width,
    int Height,
    TensorLayout Layout,
    ColorOrder ColorOrder,
    float PixelScale,
    IReadOnlyList<float> Mean,
    IReadOnlyList<float> Std)
{
    /// <summary>Channels of the input tensor: 1 for grey, 3 otherwise.</summary>
    public int Channels => ColorOrder == ColorOrder.Gray ? 1 : 3;

    /// <summary>The shape fed to the model for one frame: [1, C, H, W] (NCHW) or [1, H, W, C] (NHWC).</summary>
    public long[] InputShape() => Layout == TensorLayout.Nchw
        ? [1, Channels, Height, Width]
        : [1, Height, Width, Channels];
}

/// <summary>How the model's output tensor is turned into a result. JSON object <c>output</c>; its fields depend on the task.</summary>
/// <param name="TensorName">Output name in the ONNX graph.</param>
public abstract record OutputDecoding(string TensorName);

/// <summary>
/// Classification output: a tensor with one score per class (shape [1, K] or [K], or any shape with K elements),
/// decoded as the <see cref="TopK"/> best classes, best first.
/// </summary>
/// <param name="TensorName">Output name in the ONNX graph.</param>
/// <param name="TopK">How many classes to report, at least 1 (fewer when the model has fewer classes).</param>
/// <param name="Softmax">True when the output is logits and a softmax turns it into probabilities; false when it already is scores.</param>
/// <param name="Labels">Class names by class index, or empty (then the label is the index). When given, their count must equal K.</param>
public sealed record TopKDecoding(string TensorName, int TopK, bool Softmax, IReadOnlyList<string> Labels) : OutputDecoding(TensorName);

/// <summary>
/// Detection output in the layout <c>xyxy-score-class</c>: a float tensor of shape [N, 6] or [1, N, 6], one row per
/// candidate box: x1, y1, x2, y2 (top-left and bottom-right corners, in <see cref="Boxes"/> units), score (0..1),
/// class index (stored as a float). Rows under <see cref="ScoreThreshold"/> are dropped, then greedy non-maximum
/// suppression keeps at most <see cref="MaxDetections"/> boxes (see <see cref="DetectionDecoder"/>).
/// </summary>
/// <param name="TensorName">Output name in the ONNX graph.</param>
/// <param name="Boxes">Units of the corners.</param>
/// <param name="ScoreThreshold">Minimum score kept, 0..1.</param>
/// <param name="IouThreshold">A box whose intersection-over-union with a kept box of the same class (any class when <paramref name="ClassAgnosticNms"/>) exceeds this is suppressed; (0, 1].</param>
/// <param name="MaxDetections">Most boxes reported, at least 1.</param>
/// <param name="ClassAgnosticNms">Suppress across classes instead of within each class.</param>
/// <param name="Labels">Class names by class index, or empty (then the label is the index).</param>
public sealed record DetectionDecoding(
    string TensorName,
    BoxCoordinates Boxes,
    float ScoreThreshold,
    float IouThreshold,
    int MaxDetections,
    bool ClassAgnosticNms,
    IReadOnlyList<string> Labels) : OutputDecoding(TensorName)
{
    /// <summary>The only detection layout supported: x1, y1, x2, y2, score, class per row.</summary>
    public const string Layout = "xyxy-score-class";
}

/// <summary>Embedding output: the whole output tensor, flattened, is the feature vector.</summary>
/// <param name="TensorName">Output name in the ONNX graph.</param>
/// <param name="L2Normalize">Scale the vector to unit Euclidean length (a zero vector stays zero).</param>
public sealed record EmbeddingDecoding(string TensorName, bool L2Normalize) : OutputDecoding(TensorName);

/// <summary>
/// The contract of one model package: the <c>.onnx</c> file is checked against it on load, and it says how frames
/// are preprocessed and outputs decoded. JSON form: see <see cref="ModelManifestJson"/> and the project README.
/// </summary>
/// <remarks>Immutable; safe to share between threads. Records compare their lists by reference.</remarks>
/// <param name="Name">Model name: letters, digits, '.', '_', '-'; 1..128 characters.</param>
/// <param name="Version">Model version: letters, digits, '.', '_', '-', '+'; 1..128 characters.</param>
/// <param name="Input">The image input tensor.</param>
/// <param name="Preprocessing">Frame to tensor.</param>
/// <param name="Output">Tensor to result; its type fixes <see cref="Kind"/>.</param>
/// <param name="LatencyBudget">Longest acceptable time for one run (preprocess + inference + decode); runs over it are counted, not stopped.</param>
public sealed record ModelManifest(
    string Name,
    string Version,
    InputSpec Input,
    ImagePreprocessing Preprocessing,
    OutputDecoding Output,
    TimeSpan LatencyBudget)
{
    /// <summary>The task, from the type of <see cref="Output"/>.</summary>
    public ModelKind Kind => Output switch
    {
        TopKDecoding => ModelKind.Classification,
        DetectionDecoding => ModelKind.Detection,
        _ => ModelKind.Embedding,
    };

    /// <summary>"name@version", for messages and logs.</summary>
    public string Id => $"{Name}@{Version}";

    /// <summary>
    /// Checks the manifest's own consistency (names, ranges, shape against layout and preprocessing).
    /// <see cref="ModelManifestJson.Parse(string)"/> does this already; call it for manifests built in code.
    /// </summary>
    /// <exception cref="ModelManifestException">The first problem found, naming the field by its JSON path.</exception>
    public void Validate() => ManifestRules.Validate(this);
}
