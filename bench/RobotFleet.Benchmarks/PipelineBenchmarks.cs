using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using RobotFleet.Perception;

namespace RobotFleet.Benchmarks;

/// <summary>
/// Overhead of the edge agent's perception pipeline over ONNX Runtime itself, on the pretrained ResNet18 (NuGet
/// Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1) with one intra-op thread, one inter-op thread, sequential execution,
/// all graph optimisations and no spinning on both sides. Baseline: a bare <see cref="InferenceSession.Run(RunOptions,
/// IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue}, IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue})"/>
/// with preallocated input and output <see cref="OrtValue"/>s, the input already holding the preprocessed tensor.
/// Candidate: what the agent's perception loop does per frame, <see cref="ModelHost"/> to <see cref="ModelSession"/>,
/// from the same preprocessed tensor (<see cref="ModelHost.RunTensor"/>: copy into the pooled input tensor, run with
/// the I/O binding, decode the 512 features, timing and latency statistics). A second candidate row starts from the
/// 224 x 224 BGR frame the tensor was made from (<see cref="ModelHost.Run"/>, preprocessing included). Setup checks
/// that all three compute the same features.
/// </summary>
[Config(typeof(PercentileConfig))]
[MemoryDiagnoser]
public class PipelineBenchmarks
{
    private const double Tolerance = 1e-4;

    private InferenceSession _bare = null!;
    private SessionOptions _bareOptions = null!;
    private RunOptions _runOptions = null!;
    private string[] _inputNames = null!;
    private string[] _outputNames = null!;
    private OrtValue[] _inputs = null!;
    private OrtValue[] _outputs = null!;
    private ModelHost _host = null!;
    private float[] _tensor = null!;
    private ImageFrame _frame = null!;

    [GlobalSetup]
    public void Setup()
    {
        var bytes = File.ReadAllBytes(PerceptionBenchmarks.ResNet18Path());
        var manifest = ModelManifestJson.Parse(PerceptionBenchmarks.Manifest);
        var p = manifest.Preprocessing;

        // The agent's side: ModelHost serving a ModelSession with the defaults (1 intra-op, 1 inter-op thread).
        var options = new ModelSessionOptions { IntraOpThreads = 1, InterOpThreads = 1 };
        _host = new ModelHost(ModelSession.Load(bytes, manifest, options));

        // One 224 x 224 BGR frame; its preprocessed tensor is the input of the baseline and of the tensor row.
        _frame = PerceptionBenchmarks.TestCard(p.Width, p.Height);
        var preprocessor = new ImagePreprocessor(p);
        _tensor = new float[preprocessor.TensorLength];
        preprocessor.Preprocess(_frame, _tensor);

        // The baseline: the same ONNX Runtime settings as ModelSessionOptions.ToOrt gives the session above.
        _bareOptions = new SessionOptions
        {
            IntraOpNumThreads = options.IntraOpThreads,
            InterOpNumThreads = options.InterOpThreads,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        _bareOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        _bareOptions.AddSessionConfigEntry("session.inter_op.allow_spinning", "0");
        _bare = new InferenceSession(bytes, _bareOptions);
        _runOptions = new RunOptions();
        _inputNames = [manifest.Input.Name];
        _outputNames = [manifest.Output.TensorName];
        var outputShape = _bare.OutputMetadata[manifest.Output.TensorName].Dimensions.Select(d => d < 0 ? 1L : d).ToArray();
        var input = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, p.InputShape());
        _tensor.CopyTo(input.GetTensorMutableDataAsSpan<float>());
        _inputs = [input];
        _outputs = [OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, outputShape)];

        _ = Bare();
        var reference = _outputs[0].GetTensorDataAsSpan<float>().ToArray();
        var fromTensor = PipelineFromTensor();
        var fromFrame = PipelineFromFrame();
        var diffTensor = MaxAbsDiff(reference, fromTensor);
        var diffFrame = MaxAbsDiff(reference, fromFrame);
        var scale = reference.Max(Math.Abs);
        Console.WriteLine(
            $"// PipelineBenchmarks setup: {reference.Length} features (max |x| {scale:G4}); max abs diff vs bare Run: from tensor {diffTensor:G3}, from frame {diffFrame:G3}");
        if (diffTensor > Tolerance * Math.Max(1, scale) || diffFrame > Tolerance * Math.Max(1, scale))
        {
            throw new InvalidOperationException($"Pipeline and bare Run disagree: max abs diff {diffTensor} (tensor), {diffFrame} (frame)");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _host.Dispose();
        foreach (var v in _inputs.Concat(_outputs))
        {
            v.Dispose();
        }
        _runOptions.Dispose();
        _bare.Dispose();
        _bareOptions.Dispose();
    }

    [Benchmark(Baseline = true, Description = "bare InferenceSession.Run, preallocated OrtValues (baseline)")]
    public float Bare()
    {
        _bare.Run(_runOptions, _inputNames, _inputs, _outputNames, _outputs);
        return _outputs[0].GetTensorDataAsSpan<float>()[0];
    }

    [Benchmark(Description = "agent pipeline: ModelHost.RunTensor, preprocessed tensor")]
    public float[] PipelineFromTensor() => _host.RunTensor(_tensor).Embedding;

    [Benchmark(Description = "agent pipeline: ModelHost.Run, 224x224 frame incl. preprocessing")]
    public float[] PipelineFromFrame() => _host.Run(_frame).Embedding;

    /// <summary>One pipeline run from the preprocessed tensor, for its own stage times (not a benchmark).</summary>
    internal InferenceTiming PipelineTiming() => _host.RunTensor(_tensor).Timing;

    private static double MaxAbsDiff(float[] a, float[] b) =>
        a.Length != b.Length ? double.PositiveInfinity : a.Zip(b, (x, y) => (double)Math.Abs(x - y)).DefaultIfEmpty(0).Max();

    /// <summary>The default columns plus median and 95th percentile.</summary>
    private sealed class PercentileConfig : ManualConfig
    {
        public PercentileConfig()
        {
            AddColumn(StatisticColumn.Median, StatisticColumn.P95);
        }
    }
}
