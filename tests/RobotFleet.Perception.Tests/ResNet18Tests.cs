using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using RobotFleet.Perception;
using RobotFleet.TestSupport;
using Xunit.Abstractions;

namespace RobotFleet.Perception.Tests;

/// <summary>
/// The real pretrained ResNet18 (CNTK export, 63.6 MB) that NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18
/// 0.23.1 ships; read from the NuGet cache, never committed. It is a featurizer: input Input247 float32
/// [1, 3, 224, 224] (BGR, 0..255 minus a mean image), output Pooling395_Output_0 [1, 512, 1, 1] (global average
/// pool, no classifier head), so it runs as an embedding model here.
/// </summary>
[Collection(nameof(NotInParallel))]
public class ResNet18Tests(ITestOutputHelper output)
{
    private const string Manifest = ResNet18Package.Manifest;

    [Fact]
    public void Pretrained_resnet18_loads_validates_runs_and_is_timed()
    {
        var bytes = File.ReadAllBytes(ModelFile("ResNet18Onnx/ResNet18.onnx"));
        var manifest = ModelManifestJson.Parse(Manifest);

        // Load and validate: format, contract, dry run on zeros.
        var check = ModelInspector.Check(bytes, manifest);
        Assert.True(check.Accepted, check.Message);
        Assert.Equal("'Input247' float32 [1, 3, 224, 224]", $"'{check.Signature!.Inputs[0].Name}' {check.Signature.Inputs[0].Describe()}");
        Assert.Equal("float32 [1, 512, 1, 1]", check.Signature.Outputs.Single(o => o.Name == "Pooling395_Output_0").Describe());
        Assert.Equal("CNTK", check.Signature.ProducerName);
        output.WriteLine($"ResNet18.onnx: {bytes.Length:N0} bytes; {check.Message}");

        // The wrong input name is caught by the contract check, a cut file by the format check.
        Assert.Equal(ModelProblem.InputNameMismatch, ModelInspector.Check(bytes, manifest with { Input = manifest.Input with { Name = "data" } }).Problem);
        Assert.Equal(ModelProblem.Truncated, ModelInspector.CheckFormat(bytes.AsSpan(0, bytes.Length / 2)).Problem);

        // Run on a synthetic 224 x 224 image, and on a 640 x 480 BGR frame that has to be resized.
        using var session = ModelSession.Load(bytes, manifest, new ModelSessionOptions { IntraOpThreads = 1 });
        var features = session.Run(Synthetic(224, 224, PixelFormat.Rgb24)).Embedding;
        Assert.Equal(512, features.Length);
        Assert.All(features, f => Assert.True(float.IsFinite(f) && f >= 0, $"{f}")); // ReLU then average pool
        Assert.Contains(features, f => f > 0);
        var resized = session.Run(Synthetic(640, 480, PixelFormat.Bgr24)).Embedding;
        Assert.Equal(512, resized.Length);
        Assert.NotEqual(features, resized);
    }

    [Fact]
    public void Our_preprocessing_matches_the_packages_own_preprocessing_model()
    {
        var resnet = File.ReadAllBytes(ModelFile("ResNet18Onnx/ResNet18.onnx"));
        var prep = File.ReadAllBytes(ModelFile("ResNetPrepOnnx/ResNetPreprocess.onnx"));
        var frame = Synthetic(224, 224, PixelFormat.Rgb24);

        // Reference: ML.NET's pipeline. ResNetPreprocess.onnx takes RGB 0..255 (NCHW), reorders to BGR and
        // subtracts a per-pixel mean image; its output feeds ResNet18.onnx.
        var reference = ReferenceFeatures(prep, resnet, frame);

        var manifest = ModelManifestJson.Parse(Manifest);
        using var ours = ModelSession.Load(resnet, manifest);
        using var wrongOrder = ModelSession.Load(resnet, manifest with { Preprocessing = manifest.Preprocessing with { ColorOrder = ColorOrder.Rgb } });
        var good = Cosine(reference, ours.Run(frame).Embedding);
        var swapped = Cosine(reference, wrongOrder.Run(frame).Embedding);
        output.WriteLine($"cosine similarity to ML.NET's preprocessing: BGR (ours) {good:F5}, RGB (wrong order) {swapped:F5}");

        // Per-channel means instead of the per-pixel mean image: close, not identical.
        Assert.True(good > 0.99, $"cosine {good}");
        Assert.True(good > swapped, $"BGR {good} vs RGB {swapped}");
    }

    [Fact]
    public void Latency_per_frame_with_one_and_two_intra_op_threads()
    {
        var bytes = File.ReadAllBytes(ModelFile("ResNet18Onnx/ResNet18.onnx"));
        var manifest = ModelManifestJson.Parse(Manifest);
        var frame = Synthetic(640, 480, PixelFormat.Bgr24);
        const int warmup = 5;
        const int runs = 30;

        foreach (var threads in new[] { 1, 2 })
        {
            using var session = ModelSession.Load(bytes, manifest, new ModelSessionOptions { IntraOpThreads = threads });
            for (var i = 0; i < warmup; i++)
            {
                session.Run(frame);
            }
            var total = new double[runs];
            var inference = new double[runs];
            var preprocess = new double[runs];
            for (var i = 0; i < runs; i++)
            {
                var t = session.Run(frame).Timing;
                total[i] = t.Total.TotalMilliseconds;
                inference[i] = t.Inference.TotalMilliseconds;
                preprocess[i] = t.Preprocess.TotalMilliseconds;
            }
            var stats = session.Latency;
            output.WriteLine(
                $"ResNet18, 640x480 BGR frame -> 224x224, {threads} intra-op thread(s), {runs} runs: total median {Percentile(total, 50):F1} ms, " +
                $"p90 {Percentile(total, 90):F1} ms, max {total.Max():F1} ms; inference median {Percentile(inference, 50):F1} ms; " +
                $"preprocess median {Percentile(preprocess, 50):F2} ms; over the {manifest.LatencyBudget.TotalMilliseconds} ms budget: {stats.OverBudget} of {stats.Runs}; " +
                $"load check: dry run {session.LoadCheck.DryRunTime!.Value.TotalMilliseconds:F0} ms, warm run {session.LoadCheck.WarmRunTime!.Value.TotalMilliseconds:F0} ms");
            Assert.Equal(warmup + runs, stats.Runs);
            Assert.True(Percentile(total, 50) < 5_000, "a ResNet18 frame took over 5 s");
        }
    }

    /// <summary>The package's .onnx files in the NuGet cache (see <see cref="ResNet18Package.ModelFile"/>).</summary>
    internal static string ModelFile(string relative) => ResNet18Package.ModelFile(relative);

    /// <summary>A deterministic test card: gradients, a bright square and a dark stripe.</summary>
    internal static ImageFrame Synthetic(int width, int height, PixelFormat format)
    {
        var bpp = ImageFrame.BytesPerPixel(format);
        var pixels = new byte[width * height * bpp];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var r = (byte)(255 * x / width);
                var g = (byte)(255 * y / height);
                var b = (byte)((x * 7 + y * 3) % 256);
                if (x > width / 4 && x < width / 2 && y > height / 4 && y < height / 2)
                {
                    (r, g, b) = (250, 240, 60);
                }
                if (y > height * 3 / 4 && y < (height * 3 / 4) + (height / 16))
                {
                    (r, g, b) = (10, 10, 30);
                }
                var p = pixels.AsSpan(((y * width) + x) * bpp, 3);
                if (format == PixelFormat.Bgr24)
                {
                    (p[0], p[1], p[2]) = (b, g, r);
                }
                else
                {
                    (p[0], p[1], p[2]) = (r, g, b);
                }
            }
        }
        return new ImageFrame(width, height, format, pixels);
    }

    private static float[] ReferenceFeatures(byte[] prepModel, byte[] resnetModel, ImageFrame rgbFrame)
    {
        const int size = 224;
        var rgb = new float[3 * size * size];
        for (var i = 0; i < size * size; i++)
        {
            for (var c = 0; c < 3; c++)
            {
                rgb[(c * size * size) + i] = rgbFrame.Pixels[(i * 3) + c];
            }
        }
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var prep = new InferenceSession(prepModel, options);
        using var resnet = new InferenceSession(resnetModel, options);
        using var input = OrtValue.CreateTensorValueFromMemory(rgb, [1, 3, size, size]);
        using var runOptions = new RunOptions();
        using var prepared = prep.Run(runOptions, ["OriginalInput"], [input], ["PreprocessedInput"]);
        using var features = resnet.Run(runOptions, ["Input247"], [prepared[0]], ["Pooling395_Output_0"]);
        return features[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return dot / Math.Sqrt(na * nb);
    }

    private static double Percentile(double[] values, int percent)
    {
        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(percent / 100.0 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }
}
