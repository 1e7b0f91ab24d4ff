using RobotFleet.Perception;

namespace RobotFleet.Perception.Tests;

public class ModelSessionTests
{
    [Theory]
    [InlineData(255, 0, 0, "red")]
    [InlineData(0, 255, 0, "green")]
    [InlineData(0, 0, 255, "blue")]
    [InlineData(40, 40, 40, "other")]
    public void Classifies_solid_colours(byte r, byte g, byte b, string expected)
    {
        using var session = ModelSession.Load(TestModels.Classifier(), TestModels.ClassifierManifest());

        var result = session.Run(TestModels.Solid(32, 24, r, g, b));

        Assert.Equal(ModelKind.Classification, result.Kind);
        Assert.Equal(expected, result.Classes[0].Label);
        Assert.Equal(4, result.Classes.Count);
        Assert.Equal(1f, result.Classes.Sum(c => c.Score), 5);
        Assert.Equal(("colour-classifier", "1.0.0"), (result.ModelName, result.ModelVersion));
        Assert.Empty(result.Detections);
        Assert.Empty(result.Embedding);
    }

    [Fact]
    public void Softmax_score_matches_the_logits()
    {
        using var session = ModelSession.Load(TestModels.Classifier(), TestModels.ClassifierManifest(topK: 1));

        var top = Assert.Single(session.Run(TestModels.Solid(8, 8, 255, 0, 0)).Classes);

        // logits [1, 0, 0, 0.5]
        Assert.Equal((float)(Math.E / (Math.E + 2 + Math.Exp(0.5))), top.Score, 5);
    }

    [Theory]
    [InlineData(PixelFormat.Rgb24)]
    [InlineData(PixelFormat.Bgr24)]
    [InlineData(PixelFormat.Rgba32)]
    [InlineData(PixelFormat.Bgra32)]
    public void Every_pixel_format_gives_the_same_answer(PixelFormat format)
    {
        using var session = ModelSession.Load(TestModels.Classifier(), TestModels.ClassifierManifest());
        Assert.Equal("blue", session.Run(TestModels.Solid(10, 10, 10, 20, 200, format)).Classes[0].Label);
    }

    [Fact]
    public void A_bgr_model_sees_blue_where_an_rgb_model_sees_red()
    {
        using var bgr = ModelSession.Load(TestModels.Classifier(), TestModels.ClassifierManifest(colour: ColorOrder.Bgr));
        Assert.Equal("blue", bgr.Run(TestModels.Solid(8, 8, 255, 0, 0)).Classes[0].Label);
    }

    [Fact]
    public void A_preprocessed_tensor_gives_what_the_frame_gives()
    {
        var manifest = TestModels.ClassifierManifest();
        using var session = ModelSession.Load(TestModels.Classifier(), manifest);
        using var host = new ModelHost(ModelSession.Load(TestModels.Classifier(), manifest));
        var frame = TestModels.Solid(32, 24, 0, 0, 255);
        var preprocessor = new ImagePreprocessor(manifest.Preprocessing);
        var tensor = new float[preprocessor.TensorLength];
        preprocessor.Preprocess(frame, tensor);

        var fromFrame = session.Run(frame);
        var fromTensor = session.RunTensor(tensor);
        var throughHost = host.RunTensor(tensor);

        Assert.Equal(fromFrame.Classes, fromTensor.Classes);
        Assert.Equal(fromFrame.Classes, throughHost.Classes);
        Assert.Equal("blue", fromTensor.Classes[0].Label);
        Assert.Equal(2, session.Latency.Runs);
        Assert.Throws<ArgumentException>(() => session.RunTensor(new float[tensor.Length - 1]));
        Assert.Throws<ArgumentException>(() => host.RunTensor(new float[tensor.Length + 1]));
    }

    [Fact]
    public void A_float_tensor_is_refused_by_a_uint8_model()
    {
        var manifest = TestModels.ClassifierManifest(elementType: InputElementType.UInt8, layout: TensorLayout.Nhwc);
        using var session = ModelSession.Load(TestModels.Classifier(uint8Nhwc: true), manifest);

        Assert.Throws<InvalidOperationException>(() => session.RunTensor(new float[new ImagePreprocessor(manifest.Preprocessing).TensorLength]));
    }

    [Fact]
    public void Uint8_nhwc_model()
    {
        var manifest = TestModels.ClassifierManifest(elementType: InputElementType.UInt8, layout: TensorLayout.Nhwc);
        using var session = ModelSession.Load(TestModels.Classifier(uint8Nhwc: true), manifest);

        Assert.Equal("green", session.Run(TestModels.Solid(16, 16, 0, 255, 0)).Classes[0].Label);
    }

    [Fact]
    public void Detection_with_a_dynamic_row_count_is_decoded_with_nms_in_frame_pixels()
    {
        float[] rows =
        [
            1, 1, 5, 5, 0.9f, 0,
            1.2f, 1.2f, 5.2f, 5.2f, 0.8f, 0, // overlaps the first: suppressed
            1, 1, 5, 5, 0.7f, 1,             // same place, other class: kept
            6, 6, 8, 8, 0.2f, 0,             // under the threshold
        ];
        using var session = ModelSession.Load(TestModels.Detector(rows), TestModels.DetectorManifest());
        Assert.Equal("float32 [n, 6]", session.Signature.Outputs[0].Describe());

        var result = session.Run(TestModels.Solid(16, 32, 1, 2, 3));

        Assert.Equal(ModelKind.Detection, result.Kind);
        Assert.Equal(
            [new Detection(2, 4, 10, 20, 0.9f, 0, "person"), new Detection(2, 4, 10, 20, 0.7f, 1, "cart")],
            result.Detections);
    }

    [Fact]
    public void The_bright_box_detector_finds_the_box_in_the_pixels_and_nothing_on_a_plain_frame()
    {
        using var session = ModelSession.Load(TestModels.BrightBoxDetector(), TestModels.BrightBoxDetectorManifest());
        var frame = TestModels.Solid(160, 120, 128, 128, 128);
        for (var y = 40; y < 90; y++)
            frame.Pixels.AsSpan(((y * 160) + 30) * 3, 20 * 3).Fill(240); // x 30..50, y 40..90

        var d = Assert.Single(session.Run(frame).Detections);
        Assert.Equal(("obstacle", 0.9f), (d.Label, d.Score));
        Assert.Equal((30f, 40f, 50f, 90f), (d.X1, d.Y1, d.X2, d.Y2), new ToleranceComparer(0.01f));
        Assert.Empty(session.Run(TestModels.Solid(160, 120, 128, 128, 128)).Detections);
    }

    private sealed class ToleranceComparer(float tolerance) : IEqualityComparer<(float, float, float, float)>
    {
        public bool Equals((float, float, float, float) a, (float, float, float, float) b) =>
            Math.Abs(a.Item1 - b.Item1) <= tolerance && Math.Abs(a.Item2 - b.Item2) <= tolerance
            && Math.Abs(a.Item3 - b.Item3) <= tolerance && Math.Abs(a.Item4 - b.Item4) <= tolerance;

        public int GetHashCode((float, float, float, float) obj) => 0;
    }

    [Fact]
    public void Detection_with_fixed_rows_uses_a_preallocated_output()
    {
        using var session = ModelSession.Load(TestModels.Detector([0, 0, 4, 4, 0.9f, 1], fixedRows: true), TestModels.DetectorManifest());
        var d = Assert.Single(session.Run(TestModels.Solid(8, 8, 0, 0, 0)).Detections);
        Assert.Equal("cart", d.Label);
    }

    [Fact]
    public void Detection_rows_with_a_batch_dimension()
    {
        using var session = ModelSession.Load(TestModels.Detector([0, 0, 4, 2, 0.6f, 0], batched: true), TestModels.DetectorManifest());
        Assert.Equal("float32 [1, 1, 6]", session.Signature.Outputs[0].Describe());
        Assert.Equal(new Detection(0, 0, 8, 4, 0.6f, 0, "person"), Assert.Single(session.Run(TestModels.Solid(16, 16, 0, 0, 0)).Detections));
    }

    [Fact]
    public void Embedding_is_the_flattened_output_optionally_normalised()
    {
        var model = TestModels.Classifier(outputName: "features");
        using var raw = ModelSession.Load(model, TestModels.EmbeddingManifest());
        using var unit = ModelSession.Load(model, TestModels.EmbeddingManifest(l2: true));
        var frame = TestModels.Solid(8, 8, 255, 0, 0);

        Assert.Equal([1f, 0, 0, 0.5f], raw.Run(frame).Embedding);
        var v = unit.Run(frame).Embedding;
        Assert.Equal(1f / MathF.Sqrt(1.25f), v[0], 5);
        Assert.Equal(1f, MathF.Sqrt(v.Sum(x => x * x)), 5);
    }

    [Fact]
    public void Latency_is_measured_and_counted_against_the_budget()
    {
        using var tight = ModelSession.Load(TestModels.Classifier(), TestModels.ClassifierManifest(budgetMs: 0.001));
        using var loose = ModelSession.Load(TestModels.Classifier(), TestModels.ClassifierManifest(budgetMs: 60_000));
        var frame = TestModels.Solid(64, 48, 1, 2, 3);

        for (var i = 0; i < 5; i++)
        {
            var r = tight.Run(frame);
            Assert.True(r.OverBudget);
            Assert.True(r.Timing.Inference > TimeSpan.Zero);
            Assert.Equal(r.Timing.Preprocess + r.Timing.Inference + r.Timing.Decode, r.Timing.Total);
            Assert.False(loose.Run(frame).OverBudget);
        }

        var stats = tight.Latency;
        Assert.Equal((5, 5), (stats.Runs, stats.OverBudget));
        Assert.True(stats.Max >= stats.Mean && stats.Mean > TimeSpan.Zero);
        Assert.Equal(0, loose.Latency.OverBudget);
        Assert.NotNull(tight.LoadCheck.WarmRunTime);
    }

    [Fact]
    public void The_hot_path_allocates_no_tensors()
    {
        // 3 x 64 x 64 floats = 48 KiB per input tensor: any per-frame tensor allocation would show.
        const int size = 64;
        var manifest = TestModels.ClassifierManifest(size: size) with
        {
            Input = new InputSpec("image", InputElementType.Float32, [TensorDimension.Fixed(1), TensorDimension.Fixed(3), TensorDimension.Dynamic("h"), TensorDimension.Dynamic("w")]),
        };
        using var session = ModelSession.Load(TestModels.Classifier(inputDims: [1, 3, "h", "w"]), manifest);
        var frame = TestModels.Solid(320, 240, 10, 200, 30);
        for (var i = 0; i < 20; i++)
        {
            session.Run(frame);
        }

        const int runs = 200;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < runs; i++)
        {
            session.Run(frame);
        }
        var perRun = (GC.GetAllocatedBytesForCurrentThread() - before) / runs;

        // What is left is the decoded result: the result object and 4 class scores.
        Assert.True(perRun < 1024, $"{perRun} bytes allocated per run");
    }

    [Fact]
    public void Concurrent_runs_on_one_session()
    {
        using var session = ModelSession.Load(TestModels.Classifier(), TestModels.ClassifierManifest(), new ModelSessionOptions { MaxIdleRunBuffers = 2 });
        var frames = new[] { TestModels.Solid(8, 8, 255, 0, 0), TestModels.Solid(8, 8, 0, 255, 0), TestModels.Solid(8, 8, 0, 0, 255) };
        string[] expected = ["red", "green", "blue"];

        Parallel.For(0, 600, new ParallelOptions { MaxDegreeOfParallelism = 6 }, i =>
        {
            Assert.Equal(expected[i % 3], session.Run(frames[i % 3]).Classes[0].Label);
        });
        Assert.Equal(600, session.Latency.Runs);
    }

    [Fact]
    public void Dispose_waits_for_runs_in_progress_then_releases()
    {
        var session = ModelSession.Load(TestModels.Classifier(), TestModels.ClassifierManifest());
        Assert.True(session.TryAcquireRun()); // stands for a run in progress
        Assert.Equal(1, session.RunsInProgress);

        session.Dispose();

        Assert.True(session.IsRetired);
        Assert.False(session.Released.IsCompleted);
        Assert.Throws<ObjectDisposedException>(() => session.Run(TestModels.Solid(8, 8, 0, 0, 0)));

        session.ReleaseRun();
        Assert.True(session.Released.IsCompletedSuccessfully);
        session.Dispose(); // idempotent
    }

    [Fact]
    public void Thread_settings_are_validated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            ModelSession.Load(TestModels.Classifier(), TestModels.ClassifierManifest(), new ModelSessionOptions { IntraOpThreads = 0 }));
        using var two = ModelSession.Load(TestModels.Classifier(), TestModels.ClassifierManifest(),
            new ModelSessionOptions { IntraOpThreads = 2, InterOpThreads = 2, AllowSpinning = true });
        Assert.Equal(2, two.Options.IntraOpThreads);
        Assert.Equal("red", two.Run(TestModels.Solid(8, 8, 255, 0, 0)).Classes[0].Label);
    }
}
