using Microsoft.ML.OnnxRuntime;

namespace RobotFleet.Perception;

/// <summary>
/// How ONNX Runtime runs one model version: thread counts (always set explicitly: ONNX Runtime's own default depends
/// on the machine), spinning, graph optimisation and how many preallocated run buffers are kept idle.
/// </summary>
/// <remarks>Immutable; safe to share between threads and sessions.</remarks>
public sealed record ModelSessionOptions
{
    /// <summary>Threads one run may use inside an operator (ONNX Runtime <c>IntraOpNumThreads</c>), at least 1. Default 1.</summary>
    public int IntraOpThreads { get; init; } = 1;

    /// <summary>Threads for running independent graph nodes in parallel (<c>InterOpNumThreads</c>), at least 1. Default 1 (sequential execution).</summary>
    public int InterOpThreads { get; init; } = 1;

    /// <summary>
    /// Let idle intra-op threads spin-wait for work (<c>session.intra_op.allow_spinning</c>). Lower latency, but they
    /// burn CPU between frames, which an edge computer shares with navigation. Default false.
    /// </summary>
    public bool AllowSpinning { get; init; }

    /// <summary>ONNX Runtime graph optimisation level. Default: all optimisations.</summary>
    public GraphOptimizationLevel OptimizationLevel { get; init; } = GraphOptimizationLevel.ORT_ENABLE_ALL;

    /// <summary>
    /// Preallocated input/output buffer sets kept while idle, at least 1. One set serves one run at a time; more
    /// concurrent runs create more sets, and those above this number are freed when their run ends. Default 2.
    /// </summary>
    public int MaxIdleRunBuffers { get; init; } = 2;

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A count below 1.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(IntraOpThreads, 1, nameof(IntraOpThreads));
        ArgumentOutOfRangeException.ThrowIfLessThan(InterOpThreads, 1, nameof(InterOpThreads));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxIdleRunBuffers, 1, nameof(MaxIdleRunBuffers));
    }

    internal SessionOptions ToOrt(ModelManifest manifest)
    {
        Validate();
        var o = new SessionOptions
        {
            IntraOpNumThreads = IntraOpThreads,
            InterOpNumThreads = InterOpThreads,
            ExecutionMode = InterOpThreads > 1 ? ExecutionMode.ORT_PARALLEL : ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = OptimizationLevel,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
            LogId = manifest.Id,
        };
        o.AddSessionConfigEntry("session.intra_op.allow_spinning", AllowSpinning ? "1" : "0");
        o.AddSessionConfigEntry("session.inter_op.allow_spinning", AllowSpinning ? "1" : "0");
        return o;
    }
}
