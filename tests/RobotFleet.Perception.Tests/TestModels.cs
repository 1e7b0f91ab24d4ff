using Google.Protobuf;
using Onnx;
using RobotFleet.Perception;

namespace RobotFleet.Perception.Tests;

/// <summary>Small ONNX models built in code (OnnxSharp's generated ModelProto), loaded by ONNX Runtime from bytes.</summary>
internal static class TestModels
{
    public const TensorProto.Types.DataType F32 = TensorProto.Types.DataType.Float;
    public const TensorProto.Types.DataType U8 = TensorProto.Types.DataType.Uint8;
    public const TensorProto.Types.DataType I64 = TensorProto.Types.DataType.Int64;

    public static readonly string[] ColourLabels = ["red", "green", "blue", "other"];

    /// <summary>A dimension: int/long = fixed, string = named dynamic, null = anonymous dynamic.</summary>
    public static ValueInfoProto Value(string name, TensorProto.Types.DataType type, params object?[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            shape.Dim.Add(d switch
            {
                int i => new TensorShapeProto.Types.Dimension { DimValue = i },
                long l => new TensorShapeProto.Types.Dimension { DimValue = l },
                string s => new TensorShapeProto.Types.Dimension { DimParam = s },
                _ => new TensorShapeProto.Types.Dimension(),
            });
        }
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    public static TensorProto Floats(string name, long[] dims, params float[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)F32 };
        t.Dims.AddRange(dims);
        t.FloatData.AddRange(values);
        return t;
    }

    public static TensorProto Longs(string name, long[] dims, params long[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)I64 };
        t.Dims.AddRange(dims);
        t.Int64Data.AddRange(values);
        return t;
    }

    public static NodeProto Node(string op, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        var n = new NodeProto { OpType = op, Name = $"{op}_{outputs[0]}" };
        n.Input.AddRange(inputs);
        n.Output.AddRange(outputs);
        n.Attribute.AddRange(attributes);
        return n;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static byte[] Model(GraphProto graph, int opset = 13)
    {
        var m = new ModelProto { IrVersion = 8, ProducerName = "RobotFleet.Perception.Tests", Graph = graph };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return m.ToByteArray();
    }

    /// <summary>
    /// Colour classifier: mean of each channel (GlobalAveragePool), then logits = [R, G, B, 0.5] (channel means after
    /// normalisation). With pixelScale 1/255: a pure red frame scores [1, 0, 0, 0.5].
    /// </summary>
    public static byte[] Classifier(
        string inputName = "image",
        string outputName = "logits",
        object?[]? inputDims = null,
        bool uint8Nhwc = false,
        object?[]? outputDims = null,
        int extraWeights = 0,
        bool secondInput = false)
    {
        var g = new GraphProto { Name = "colour_classifier" };
        var size = 8;
        string x;
        if (uint8Nhwc)
        {
            g.Input.Add(Value(inputName, U8, inputDims ?? [1, size, size, 3]));
            g.Node.Add(Node("Cast", [inputName], ["as_float"], Int("to", (long)F32)));
            g.Node.Add(Node("Transpose", ["as_float"], ["nchw"], Ints("perm", 0, 3, 1, 2)));
            g.Initializer.Add(Floats("inv255", [], 1f / 255));
            g.Node.Add(Node("Mul", ["nchw", "inv255"], ["scaled"]));
            x = "scaled";
        }
        else
        {
            g.Input.Add(Value(inputName, F32, inputDims ?? [1, 3, size, size]));
            x = inputName;
        }
        g.Node.Add(Node("GlobalAveragePool", [x], ["pooled"]));
        g.Node.Add(Node("Flatten", ["pooled"], ["flat"], Int("axis", 1)));
        g.Initializer.Add(Floats("w", [3, 4], 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0));
        g.Initializer.Add(Floats("b", [4], 0, 0, 0, 0.5f));
        g.Node.Add(Node("MatMul", ["flat", "w"], ["mm"]));
        var logits = extraWeights > 0 ? "logits_plain" : outputName;
        g.Node.Add(Node("Add", ["mm", "b"], [logits]));
        if (extraWeights > 0)
        {
            // A large constant that contributes 0 (sum x 0): makes the session hold ~4 bytes x extraWeights of weights.
            var big = new float[extraWeights];
            big.AsSpan().Fill(0.25f);
            g.Initializer.Add(Floats("big", [extraWeights], big));
            g.Initializer.Add(Floats("zero", [], 0f));
            g.Node.Add(Node("ReduceSum", ["big"], ["big_sum"], Int("keepdims", 0)));
            g.Node.Add(Node("Mul", ["big_sum", "zero"], ["nothing"]));
            g.Node.Add(Node("Add", [logits, "nothing"], [outputName]));
        }
        if (secondInput)
        {
            g.Input.Add(Value("threshold", F32, 1));
        }
        g.Output.Add(Value(outputName, F32, outputDims ?? [1, 4]));
        return Model(g);
    }

    public static ModelManifest ClassifierManifest(
        string version = "1.0.0",
        string inputName = "image",
        string outputName = "logits",
        InputElementType elementType = InputElementType.Float32,
        TensorLayout layout = TensorLayout.Nchw,
        ColorOrder colour = ColorOrder.Rgb,
        int size = 8,
        IReadOnlyList<string>? labels = null,
        int topK = 4,
        double budgetMs = 1000) =>
        new(
            "colour-classifier",
            version,
            new InputSpec(inputName, elementType, layout == TensorLayout.Nchw
                ? [TensorDimension.Dynamic("batch"), TensorDimension.Fixed(3), TensorDimension.Fixed(size), TensorDimension.Fixed(size)]
                : [TensorDimension.Fixed(1), TensorDimension.Fixed(size), TensorDimension.Fixed(size), TensorDimension.Fixed(3)]),
            new ImagePreprocessing(size, size, layout, colour, elementType == InputElementType.Float32 ? 1f / 255 : 1f, [0, 0, 0], [1, 1, 1]),
            new TopKDecoding(outputName, topK, Softmax: true, labels ?? ColourLabels),
            TimeSpan.FromMilliseconds(budgetMs));

    /// <summary>
    /// Detector that ignores its input's content: returns the given rows (N x 6, xyxy-score-class in input pixels).
    /// The row count is dynamic ([n, 6], known only at run time) unless <paramref name="fixedRows"/>.
    /// </summary>
    public static byte[] Detector(float[] rows, bool fixedRows = false, int rowWidth = 6, string outputName = "detections", bool batched = false)
    {
        var n = rows.Length / rowWidth;
        var g = new GraphProto { Name = "constant_detector" };
        g.Input.Add(Value("image", F32, 1, 3, 8, 8));
        g.Initializer.Add(Floats("rows", [n, rowWidth], rows));
        g.Initializer.Add(Floats("zero", [], 0f));
        g.Node.Add(Node("ReduceMean", ["image"], ["m"], Ints("axes", 0, 1, 2, 3), Int("keepdims", 0)));
        g.Node.Add(Node("Mul", ["m", "zero"], ["z"]));
        if (batched)
        {
            // [1, N, 6]: the rows with a leading batch dimension.
            g.Initializer.Add(Longs("batch_axis", [1], 0));
            g.Node.Add(Node("Add", ["rows", "z"], ["rows2d"]));
            g.Node.Add(Node("Unsqueeze", ["rows2d", "batch_axis"], [outputName]));
            g.Output.Add(Value(outputName, F32, 1, n, rowWidth));
        }
        else if (fixedRows)
        {
            g.Node.Add(Node("Add", ["rows", "z"], [outputName]));
            g.Output.Add(Value(outputName, F32, n, rowWidth));
        }
        else
        {
            // Slice(rows, 0, n + 0 x mean(input)): the end comes from the input, so shape inference cannot fix the row count.
            g.Initializer.Add(Floats("n_rows", [1], n));
            g.Initializer.Add(Longs("starts", [1], 0));
            g.Initializer.Add(Longs("axes", [1], 0));
            g.Node.Add(Node("Add", ["n_rows", "z"], ["end_f"]));
            g.Node.Add(Node("Cast", ["end_f"], ["end"], Int("to", (long)I64)));
            g.Node.Add(Node("Slice", ["rows", "starts", "end", "axes"], [outputName]));
            g.Output.Add(Value(outputName, F32, "n", rowWidth));
        }
        return Model(g);
    }

    /// <summary>
    /// A detector that really looks at the pixels: on a [1, 3, height, width] frame scaled to 0..1 it thresholds the channel
    /// mean (bright: over <paramref name="threshold"/>), takes the bounding box of the bright pixels (ReduceMax over rows and
    /// columns, then the first and last bright row and column) and returns one row [x1, y1, x2, y2, score, class 0] in
    /// normalized coordinates, the score 0.9 when anything is bright and 0 otherwise (filtered by the score threshold).
    /// One box around all bright pixels: enough for one obstacle in view at a time.
    /// </summary>
    public static byte[] BrightBoxDetector(int width = 160, int height = 120, float threshold = 0.75f)
    {
        var g = new GraphProto { Name = "bright_box_detector" };
        g.Input.Add(Value("image", F32, 1, 3, height, width));
        g.Initializer.Add(Floats("thr", [], threshold));
        g.Initializer.Add(Floats("one", [], 1f));
        g.Initializer.Add(Floats("score_if_any", [], 0.9f));
        g.Initializer.Add(Floats("class", [1], 0f));
        g.Initializer.Add(Floats("col_start", [width], Enumerable.Range(0, width).Select(i => 1f - ((float)i / width)).ToArray()));
        g.Initializer.Add(Floats("col_end", [width], Enumerable.Range(0, width).Select(i => (i + 1f) / width).ToArray()));
        g.Initializer.Add(Floats("row_start", [height], Enumerable.Range(0, height).Select(i => 1f - ((float)i / height)).ToArray()));
        g.Initializer.Add(Floats("row_end", [height], Enumerable.Range(0, height).Select(i => (i + 1f) / height).ToArray()));
        g.Initializer.Add(Longs("out_shape", [2], 1, 6));
        g.Node.Add(Node("ReduceMean", ["image"], ["grey"], Ints("axes", 1), Int("keepdims", 0)));          // [1, h, w]
        g.Node.Add(Node("Greater", ["grey", "thr"], ["bright_b"]));
        g.Node.Add(Node("Cast", ["bright_b"], ["bright"], Int("to", (long)F32)));
        g.Node.Add(Node("ReduceMax", ["bright"], ["cols"], Ints("axes", 1), Int("keepdims", 0)));          // [1, w]
        g.Node.Add(Node("ReduceMax", ["bright"], ["rows"], Ints("axes", 2), Int("keepdims", 0)));          // [1, h]
        g.Node.Add(Node("Mul", ["cols", "col_start"], ["cs"]));
        g.Node.Add(Node("ReduceMax", ["cs"], ["cs_max"], Ints("axes", 1), Int("keepdims", 0)));            // [1]
        g.Node.Add(Node("Sub", ["one", "cs_max"], ["x1"]));
        g.Node.Add(Node("Mul", ["cols", "col_end"], ["ce"]));
        g.Node.Add(Node("ReduceMax", ["ce"], ["x2"], Ints("axes", 1), Int("keepdims", 0)));
        g.Node.Add(Node("Mul", ["rows", "row_start"], ["rs"]));
        g.Node.Add(Node("ReduceMax", ["rs"], ["rs_max"], Ints("axes", 1), Int("keepdims", 0)));
        g.Node.Add(Node("Sub", ["one", "rs_max"], ["y1"]));
        g.Node.Add(Node("Mul", ["rows", "row_end"], ["re"]));
        g.Node.Add(Node("ReduceMax", ["re"], ["y2"], Ints("axes", 1), Int("keepdims", 0)));
        g.Node.Add(Node("ReduceMax", ["cols"], ["any"], Ints("axes", 1), Int("keepdims", 0)));
        g.Node.Add(Node("Mul", ["any", "score_if_any"], ["score"]));
        g.Node.Add(Node("Concat", ["x1", "y1", "x2", "y2", "score", "class"], ["row"], Int("axis", 0)));  // [6]
        g.Node.Add(Node("Reshape", ["row", "out_shape"], ["detections"]));
        g.Output.Add(Value("detections", F32, 1, 6));
        return Model(g);
    }

    /// <summary>Manifest for <see cref="BrightBoxDetector"/>: the camera frame as is (no resize), normalized boxes, one class.</summary>
    public static ModelManifest BrightBoxDetectorManifest(string version = "1.0.0", int width = 160, int height = 120) =>
        new(
            "obstacle-detector",
            version,
            new InputSpec("image", InputElementType.Float32, [TensorDimension.Fixed(1), TensorDimension.Fixed(3), TensorDimension.Fixed(height), TensorDimension.Fixed(width)]),
            new ImagePreprocessing(width, height, TensorLayout.Nchw, ColorOrder.Rgb, 1f / 255, [0, 0, 0], [1, 1, 1]),
            new DetectionDecoding("detections", BoxCoordinates.Normalized, 0.3f, 0.5f, 10, false, ["obstacle"]),
            TimeSpan.FromMilliseconds(1000));

    public static ModelManifest DetectorManifest(string[]? labels = null, float iou = 0.5f, float score = 0.3f, int max = 100, bool agnostic = false, BoxCoordinates boxes = BoxCoordinates.InputPixels) =>
        new(
            "constant-detector",
            "1.0.0",
            new InputSpec("image", InputElementType.Float32, [TensorDimension.Fixed(1), TensorDimension.Fixed(3), TensorDimension.Fixed(8), TensorDimension.Fixed(8)]),
            new ImagePreprocessing(8, 8, TensorLayout.Nchw, ColorOrder.Rgb, 1f / 255, [0, 0, 0], [1, 1, 1]),
            new DetectionDecoding("detections", boxes, score, iou, max, agnostic, labels ?? ["person", "cart"]),
            TimeSpan.FromMilliseconds(1000));

    /// <summary>
    /// Loads fine (height and width are dynamic, so shape inference cannot object) but fails on any 8 x 8 input:
    /// Reshape of 3 x 8 x 8 = 192 values to [1, -1, 7].
    /// </summary>
    public static byte[] FailsAtRunTime() => Flattener([1, 3, "h", "w"], [1, -1, 7], "features");

    /// <summary>Reshape of the input to <paramref name="shape"/>; with dynamic input dimensions, shape inference leaves the output size open.</summary>
    public static byte[] Flattener(object?[] inputDims, long[] shape, string outputName)
    {
        var g = new GraphProto { Name = "reshape" };
        g.Input.Add(Value("image", F32, inputDims));
        g.Initializer.Add(Longs("shape", [shape.Length], shape));
        g.Node.Add(Node("Reshape", ["image", "shape"], [outputName]));
        g.Output.Add(Value(outputName, F32, shape.Select(d => d < 0 ? (object?)"k" : (object?)d).ToArray()));
        return Model(g);
    }

    public static ModelManifest EmbeddingManifest(string outputName = "features", bool l2 = false) =>
        new(
            "embedder",
            "1.0.0",
            new InputSpec("image", InputElementType.Float32, [TensorDimension.Fixed(1), TensorDimension.Fixed(3), TensorDimension.Fixed(8), TensorDimension.Fixed(8)]),
            new ImagePreprocessing(8, 8, TensorLayout.Nchw, ColorOrder.Rgb, 1f / 255, [0, 0, 0], [1, 1, 1]),
            new EmbeddingDecoding(outputName, l2),
            TimeSpan.FromMilliseconds(1000));

    /// <summary>A model whose only output is int64 (ArgMax of the channel means).</summary>
    public static byte[] IntegerOutput()
    {
        var g = new GraphProto { Name = "argmax" };
        g.Input.Add(Value("image", F32, 1, 3, 8, 8));
        g.Node.Add(Node("GlobalAveragePool", ["image"], ["pooled"]));
        g.Node.Add(Node("Flatten", ["pooled"], ["flat"], Int("axis", 1)));
        g.Node.Add(Node("ArgMax", ["flat"], ["logits"], Int("axis", 1)));
        g.Output.Add(Value("logits", I64, 1, 1));
        return Model(g);
    }

    /// <summary>A graph with an operator no runtime knows.</summary>
    public static byte[] UnknownOperator()
    {
        var g = new GraphProto { Name = "unknown_op" };
        g.Input.Add(Value("image", F32, 1, 3, 8, 8));
        g.Node.Add(Node("NoSuchOperator", ["image"], ["logits"]));
        g.Output.Add(Value("logits", F32, 1, 4));
        return Model(g);
    }

    /// <summary>A solid colour frame.</summary>
    public static ImageFrame Solid(int width, int height, byte r, byte g, byte b, PixelFormat format = PixelFormat.Rgb24)
    {
        var bpp = ImageFrame.BytesPerPixel(format);
        var pixels = new byte[width * height * bpp];
        for (var i = 0; i < width * height; i++)
        {
            var p = pixels.AsSpan(i * bpp, bpp);
            switch (format)
            {
                case PixelFormat.Rgb24: p[0] = r; p[1] = g; p[2] = b; break;
                case PixelFormat.Bgr24: p[0] = b; p[1] = g; p[2] = r; break;
                case PixelFormat.Rgba32: p[0] = r; p[1] = g; p[2] = b; p[3] = 255; break;
                case PixelFormat.Bgra32: p[0] = b; p[1] = g; p[2] = r; p[3] = 255; break;
                case PixelFormat.Gray8: p[0] = r; break;
            }
        }
        return new ImageFrame(width, height, format, pixels);
    }
}
