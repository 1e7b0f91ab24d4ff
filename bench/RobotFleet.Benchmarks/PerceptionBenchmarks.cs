using System.Reflection;
using BenchmarkDotNet.Attributes;
using RobotFleet.Perception;

namespace RobotFleet.Benchmarks;

/// <summary>
/// Per-frame latency of the pretrained ResNet18 (NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1, read from
/// the NuGet cache) through <see cref="ModelSession.Run"/>: bilinear resize of a 640 x 480 BGR frame to 224 x 224,
/// mean subtraction, inference, copy of the 512 features. Baseline: 1 intra-op thread; against it 2 intra-op
/// threads, without and with spinning. Setup checks that every session computes the same features.
/// </summary>
[MemoryDiagnoser]
public class PerceptionBenchmarks
{
    internal const string Manifest = """
        {
          "name": "resnet18-features", "version": "0.23.1", "task": "embedding",
          "input": { "name": "Input247", "elementType": "float32", "shape": [1, 3, 224, 224] },
          "preprocessing": { "layout": "NCHW", "colorOrder": "BGR", "pixelScale": 1, "mean": [103.063, 115.903, 123.152], "std": [1, 1, 1] },
          "output": { "name": "Pooling395_Output_0" },
          "latencyBudgetMs": 100
        }
        """;

    private ModelSession _one = null!;
    private ModelSession _two = null!;
    private ModelSession _twoSpinning = null!;
    private ImageFrame _frame = null!;

    [GlobalSetup]
    public void Setup()
    {
        var bytes = File.ReadAllBytes(ResNet18Path());
        var manifest = ModelManifestJson.Parse(Manifest);
        _one = ModelSession.Load(bytes, manifest, new ModelSessionOptions { IntraOpThreads = 1 });
        _two = ModelSession.Load(bytes, manifest, new ModelSessionOptions { IntraOpThreads = 2 });
        _twoSpinning = ModelSession.Load(bytes, manifest, new ModelSessionOptions { IntraOpThreads = 2, AllowSpinning = true });
        _frame = TestCard(640, 480);

        var reference = _one.Run(_frame).Embedding;
        foreach (var other in new[] { _two, _twoSpinning })
        {
            var features = other.Run(_frame).Embedding;
            var worst = reference.Zip(features, (a, b) => Math.Abs(a - b) / Math.Max(1e-3f, Math.Abs(a))).Max();
            if (worst > 1e-3)
            {
                throw new InvalidOperationException($"Sessions disagree: worst relative difference {worst}");
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _one.Dispose();
        _two.Dispose();
        _twoSpinning.Dispose();
    }

    [Benchmark(Baseline = true, Description = "ResNet18 frame, 1 intra-op thread (baseline)")]
    public float[] OneThread() => _one.Run(_frame).Embedding;

    [Benchmark(Description = "ResNet18 frame, 2 intra-op threads")]
    public float[] TwoThreads() => _two.Run(_frame).Embedding;

    [Benchmark(Description = "ResNet18 frame, 2 intra-op threads, spinning")]
    public float[] TwoThreadsSpinning() => _twoSpinning.Run(_frame).Embedding;

    internal static string ResNet18Path()
    {
        var root = typeof(PerceptionBenchmarks).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "ResNet18PackageRoot")?.Value;
        var path = string.IsNullOrEmpty(root) ? null : Path.Combine(root, "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
        return path is not null && File.Exists(path)
            ? path
            : throw new FileNotFoundException(
                $"ResNet18.onnx of NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1 not found (looked at '{path}'). Restore bench/RobotFleet.Benchmarks so NuGet puts the package in its cache.");
    }

    internal static ImageFrame TestCard(int width, int height)
    {
        var pixels = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var i = ((y * width) + x) * 3;
                pixels[i] = (byte)((x * 7 + y * 3) % 256);
                pixels[i + 1] = (byte)(255 * y / height);
                pixels[i + 2] = (byte)(255 * x / width);
            }
        }
        return new ImageFrame(width, height, PixelFormat.Bgr24, pixels);
    }
}
