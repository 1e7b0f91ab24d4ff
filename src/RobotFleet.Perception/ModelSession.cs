using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace RobotFleet.Perception;

/// <summary>Run counts and latency of one <see cref="ModelSession"/> since it was loaded (the load's dry runs excluded).</summary>
/// <param name="Runs">Runs finished.</param>
/// <param name="OverBudget">Runs whose total time exceeded the manifest's latency budget.</param>
/// <param name="Mean">Mean total time per run (zero before the first run).</param>
/// <param name="Max">Longest total time of a run.</param>
/// <param name="Last">Total time of the most recent run.</param>
public readonly record struct LatencyStatistics(long Runs, long OverBudget, TimeSpan Mean, TimeSpan Max, TimeSpan Last);

/// <summary>
/// One loaded model version: an ONNX Runtime session created once, checked against its manifest on load (see
/// <see cref="ModelInspector"/>), that turns frames into results: preprocess into a preallocated input tensor
/// (<see cref="OrtValue"/>), run, decode. Latency is measured per stage for every run.
/// </summary>
/// <remarks>
/// <para>Thread-safe: <see cref="Run"/> may be called from many threads at once. Each concurrent run takes one set of
/// preallocated buffers (input tensor, output tensor, <see cref="OrtIoBinding"/>) from a small pool, so a steady
/// stream of frames allocates no tensors: frames are written straight into native tensor memory and fixed-shape
/// outputs are read from preallocated native memory. Outputs whose shape depends on the data (detection outputs
/// with a dynamic row count) are allocated by ONNX Runtime's CPU arena per run. The decoded result (a few small
/// objects) is allocated per run.</para>
/// <para>Lifetime: the session is reference-counted. <see cref="Dispose"/> only marks it retired: runs already in
/// progress finish on it, new runs are refused with <see cref="ObjectDisposedException"/>, and the native session and
/// buffers are released when the last run ends (<see cref="Released"/> completes then). This is what lets
/// <see cref="ModelHost"/> swap models without stopping.</para>
/// </remarks>
public sealed class ModelSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly SessionOptions _ortOptions;
    private readonly ImagePreprocessor _preprocessor;
    private readonly long[] _inputShape;
    private readonly string _outputName;
    private readonly int _maxIdle;
    private readonly Stack<RunBuffers> _idle = new();
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Action> _onReleased = [];
    private long[]? _staticOutputShape;
    private IReadOnlyList<string> _classLabels = [];
    private int _refs = 1;
    private int _retired;
    private bool _isReleased;

    private long _runs;
    private long _overBudget;
    private long _totalTicks;
    private long _maxTicks;
    private long _lastTicks;

    private ModelSession(InferenceSession session, SessionOptions ortOptions, ModelManifest manifest, ModelSessionOptions options, ModelSignature signature)
    {
        _session = session;
        _ortOptions = ortOptions;
        Manifest = manifest;
        Options = options;
        Signature = signature;
        _preprocessor = new ImagePreprocessor(manifest.Preprocessing);
        _inputShape = manifest.Preprocessing.InputShape();
        _outputName = manifest.Output.TensorName;
        _maxIdle = options.MaxIdleRunBuffers;
        LoadCheck = new ModelCheckResult(ModelProblem.None, "accepted", signature);
    }

    /// <summary>The manifest the model was checked against.</summary>
    public ModelManifest Manifest { get; }

    /// <summary>The thread and buffer settings in force.</summary>
    public ModelSessionOptions Options { get; }

    /// <summary>The inputs and outputs the model declares.</summary>
    public ModelSignature Signature { get; }

    /// <summary>The accepted check result of the load, with the dry-run and warm-run times.</summary>
    public ModelCheckResult LoadCheck { get; private set; }

    /// <summary>Completes when the native session and buffers have been released (after <see cref="Dispose"/> and the last run).</summary>
    public Task Released => _released.Task;

    /// <summary>True once <see cref="Dispose"/> was called (runs in progress may still be finishing).</summary>
    public bool IsRetired => Volatile.Read(ref _retired) != 0;

    /// <summary>Runs in progress right now.</summary>
    public int RunsInProgress => Math.Max(0, Volatile.Read(ref _refs) - (IsRetired ? 0 : 1));

    /// <summary>Run counts and latency so far.</summary>
    public LatencyStatistics Latency
    {
        get
        {
            var runs = Interlocked.Read(ref _runs);
            var total = Interlocked.Read(ref _totalTicks);
            return new LatencyStatistics(
                runs,
                Interlocked.Read(ref _overBudget),
                runs == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(0, total / runs),
                Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _maxTicks)),
                Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _lastTicks)));
        }
    }

    /// <summary>
    /// Checks <paramref name="model"/> against <paramref name="manifest"/> (format, protobuf, contract, dry run on a zero
    /// input; see <see cref="ModelInspector.Check"/>) and keeps the session for running frames.
    /// </summary>
    /// <param name="model">The <c>.onnx</c> file's bytes (not kept: ONNX Runtime copies what it needs).</param>
    /// <param name="manifest">The model's contract.</param>
    /// <param name="options">Threads and buffers; null for the defaults (1 intra-op thread, 1 inter-op thread).</param>
    /// <returns>A session ready to run.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ModelManifestException">The manifest itself is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="ModelRejectedException">A check failed; <see cref="ModelRejectedException.Result"/> says which.</exception>
    public static ModelSession Load(byte[] model, ModelManifest manifest, ModelSessionOptions? options = null)
    {
        var (result, session) = Open(model, manifest, options ?? new ModelSessionOptions(), keep: true);
        result.ThrowIfRejected();
        return session!;
    }

    /// <summary>Reads a <c>.onnx</c> file and loads it as <see cref="Load(byte[], ModelManifest, ModelSessionOptions?)"/> does.</summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="ModelRejectedException">A check failed.</exception>
    /// <exception cref="ModelManifestException">The manifest itself is invalid.</exception>
    public static ModelSession Load(string path, ModelManifest manifest, ModelSessionOptions? options = null) =>
        Load(File.ReadAllBytes(path), manifest, options);

    /// <summary>
    /// Runs one frame: preprocess into the input tensor, run the model, decode the output. Measures each stage and
    /// counts the run against the latency budget.
    /// </summary>
    /// <param name="frame">Any size and pixel format; it is resized to the model's input.</param>
    /// <returns>The decoded result, stamped with this session's model name and version.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="frame"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The session was disposed before the run started.</exception>
    /// <exception cref="OnnxRuntimeException">ONNX Runtime failed during the run.</exception>
    /// <exception cref="InvalidOperationException">The output could not be decoded (e.g. detection rows not 6 wide).</exception>
    public InferenceResult Run(ImageFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return TryRun(frame, out var result)
            ? result!
            : throw new ObjectDisposedException(nameof(ModelSession), $"Model {Manifest.Id} was disposed.");
    }

    /// <summary>
    /// Runs an input that is already preprocessed: copies <paramref name="input"/> into the preallocated input tensor,
    /// runs the model and decodes the output as <see cref="Run(ImageFrame)"/> does (detection boxes are then in model
    /// input pixels). For callers that preprocess themselves, and for measuring the pipeline without preprocessing.
    /// </summary>
    /// <param name="input">The float32 input tensor, exactly as many elements as the model input, in its layout.</param>
    /// <returns>The decoded result, stamped with this session's model name and version.</returns>
    /// <exception cref="ArgumentException"><paramref name="input"/> has the wrong length.</exception>
    /// <exception cref="InvalidOperationException">The model input is not float32, or the output could not be decoded.</exception>
    /// <exception cref="ObjectDisposedException">The session was disposed before the run started.</exception>
    /// <exception cref="OnnxRuntimeException">ONNX Runtime failed during the run.</exception>
    public InferenceResult RunTensor(ReadOnlySpan<float> input)
    {
        CheckTensor(input.Length);
        return TryRunTensor(input, out var result)
            ? result!
            : throw new ObjectDisposedException(nameof(ModelSession), $"Model {Manifest.Id} was disposed.");
    }

    /// <summary>Retires the session: new runs are refused; the native resources are released after the last run in progress.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _retired, 1) == 0)
        {
            Exit();
        }
    }

    /// <summary>Runs unless the session is retired; false then (used by <see cref="ModelHost"/> to retry on the new session).</summary>
    internal bool TryRun(ImageFrame frame, out InferenceResult? result)
    {
        if (!TryEnter())
        {
            result = null;
            return false;
        }
        try
        {
            result = RunCore(frame, default);
            return true;
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Runs a preprocessed input unless the session is retired; false then (see <see cref="TryRun"/>).</summary>
    internal bool TryRunTensor(ReadOnlySpan<float> input, out InferenceResult? result)
    {
        if (!TryEnter())
        {
            result = null;
            return false;
        }
        try
        {
            result = RunCore(null, input);
            return true;
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Throws unless a float32 tensor of <paramref name="length"/> elements fits the model input.</summary>
    internal void CheckTensor(int length)
    {
        if (Manifest.Input.ElementType != InputElementType.Float32)
        {
            throw new InvalidOperationException($"Model {Manifest.Id} takes {Manifest.Input.ElementType} input, not float32.");
        }
        if (length != _preprocessor.TensorLength)
        {
            throw new ArgumentException($"Model {Manifest.Id} takes {_preprocessor.TensorLength} input elements, not {length}.", nameof(length));
        }
    }

    /// <summary>Holds the session as a run in progress does (tests use it to stand for a long run).</summary>
    internal bool TryAcquireRun() => TryEnter();

    /// <summary>Ends what <see cref="TryAcquireRun"/> began.</summary>
    internal void ReleaseRun() => Exit();

    /// <summary>Calls <paramref name="action"/> once the native resources are released (at once if they already are).</summary>
    internal void OnReleased(Action action)
    {
        lock (_onReleased)
        {
            if (!_isReleased)
            {
                _onReleased.Add(action);
                return;
            }
        }
        action();
    }

    private bool TryEnter()
    {
        var refs = Volatile.Read(ref _refs);
        while (refs > 0 && Volatile.Read(ref _retired) == 0)
        {
            var seen = Interlocked.CompareExchange(ref _refs, refs + 1, refs);
            if (seen == refs)
            {
                return true;
            }
            refs = seen;
        }
        return false;
    }

    private void Exit()
    {
        if (Interlocked.Decrement(ref _refs) == 0)
        {
            ReleaseNative();
        }
    }

    private void ReleaseNative()
    {
        lock (_idle)
        {
            while (_idle.TryPop(out var b))
            {
                b.Dispose();
            }
        }
        _session.Dispose();
        _ortOptions.Dispose();
        Action[] callbacks;
        lock (_onReleased)
        {
            _isReleased = true;
            callbacks = [.. _onReleased];
            _onReleased.Clear();
        }
        foreach (var callback in callbacks)
        {
            callback();
        }
        _released.TrySetResult();
    }

    /// <summary>One run on <paramref name="frame"/>, or on the preprocessed <paramref name="tensor"/> when the frame is null.</summary>
    private InferenceResult RunCore(ImageFrame? frame, ReadOnlySpan<float> tensor)
    {
        var buffers = Rent();
        try
        {
            var t0 = Stopwatch.GetTimestamp();
            if (frame is null)
            {
                tensor.CopyTo(buffers.Input.GetTensorMutableDataAsSpan<float>());
            }
            else if (Manifest.Input.ElementType == InputElementType.Float32)
            {
                _preprocessor.Preprocess(frame, buffers.Input.GetTensorMutableDataAsSpan<float>());
            }
            else
            {
                _preprocessor.Preprocess(frame, buffers.Input.GetTensorMutableDataAsSpan<byte>());
            }
            var t1 = Stopwatch.GetTimestamp();
            _session.RunWithBinding(buffers.RunOptions, buffers.Binding);
            var t2 = Stopwatch.GetTimestamp();
            var p = Manifest.Preprocessing;
            var (classes, detections, embedding) = Decode(buffers, frame?.Width ?? p.Width, frame?.Height ?? p.Height);
            var t3 = Stopwatch.GetTimestamp();
            var timing = new InferenceTiming(Stopwatch.GetElapsedTime(t0, t1), Stopwatch.GetElapsedTime(t1, t2), Stopwatch.GetElapsedTime(t2, t3));
            var result = new InferenceResult(Manifest, classes, detections, embedding, timing);
            Record(t3 - t0, result.OverBudget);
            return result;
        }
        finally
        {
            Return(buffers);
        }
    }

    private void Record(long ticks, bool overBudget)
    {
        Interlocked.Increment(ref _runs);
        Interlocked.Add(ref _totalTicks, ticks);
        Interlocked.Exchange(ref _lastTicks, ticks);
        if (overBudget)
        {
            Interlocked.Increment(ref _overBudget);
        }
        var max = Interlocked.Read(ref _maxTicks);
        while (ticks > max)
        {
            var seen = Interlocked.CompareExchange(ref _maxTicks, ticks, max);
            if (seen == max)
            {
                break;
            }
            max = seen;
        }
    }

    private (IReadOnlyList<ClassScore>, IReadOnlyList<Detection>, float[]) Decode(RunBuffers buffers, int frameWidth, int frameHeight)
    {
        if (buffers.Output is { } preallocated)
        {
            return DecodeSpan(preallocated.GetTensorDataAsSpan<float>(), _staticOutputShape!, frameWidth, frameHeight);
        }
        using var outputs = buffers.Binding.GetOutputValues();
        var value = outputs[0];
        return DecodeSpan(value.GetTensorDataAsSpan<float>(), value.GetTensorTypeAndShape().Shape, frameWidth, frameHeight);
    }

    private (IReadOnlyList<ClassScore>, IReadOnlyList<Detection>, float[]) DecodeSpan(ReadOnlySpan<float> data, long[] shape, int frameWidth, int frameHeight)
    {
        switch (Manifest.Output)
        {
            case TopKDecoding t:
                if (data.Length != _classLabels.Count)
                {
                    throw new InvalidOperationException(
                        $"Output '{_outputName}' has shape {ManifestRules.Shape(shape)} ({data.Length} scores), expected {_classLabels.Count} classes.");
                }
                return (TopKDecoder.Decode(data, t.TopK, t.Softmax, _classLabels), [], []);
            case DetectionDecoding d:
                if (!IsDetectionShape(shape))
                {
                    throw new InvalidOperationException(
                        $"Output '{_outputName}' has shape {ManifestRules.Shape(shape)}; the {DetectionDecoding.Layout} layout needs [N, 6] or [1, N, 6].");
                }
                var p = Manifest.Preprocessing;
                return ([], DetectionDecoder.Decode(data, d, p.Width, p.Height, frameWidth, frameHeight), []);
            case EmbeddingDecoding e:
                var vector = data.ToArray();
                if (e.L2Normalize)
                {
                    var norm = Math.Sqrt(vector.Sum(v => (double)v * v));
                    if (norm > 0)
                    {
                        for (var i = 0; i < vector.Length; i++)
                        {
                            vector[i] = (float)(vector[i] / norm);
                        }
                    }
                }
                return ([], [], vector);
            default:
                throw new InvalidOperationException($"Unsupported output decoding {Manifest.Output.GetType().Name}.");
        }
    }

    private static bool IsDetectionShape(long[] shape) =>
        (shape.Length == 2 && shape[1] == DetectionDecoder.RowLength)
        || (shape.Length == 3 && shape[0] == 1 && shape[2] == DetectionDecoder.RowLength);

    private RunBuffers Rent()
    {
        lock (_idle)
        {
            if (_idle.TryPop(out var b))
            {
                return b;
            }
        }
        return new RunBuffers(_session, Manifest.Input.Name, _inputShape, ElementType(Manifest.Input.ElementType), _outputName, _staticOutputShape);
    }

    private void Return(RunBuffers buffers)
    {
        lock (_idle)
        {
            if (_idle.Count < _maxIdle && ReferenceEquals(buffers.StaticOutputShape, _staticOutputShape))
            {
                _idle.Push(buffers);
                return;
            }
        }
        buffers.Dispose();
    }

    internal static TensorElementType ElementType(InputElementType type) =>
        type == InputElementType.Float32 ? TensorElementType.Float : TensorElementType.UInt8;

    /// <summary>One run's native buffers: input tensor, output tensor (when its shape is fixed), binding, run options.</summary>
    private sealed class RunBuffers : IDisposable
    {
        public RunBuffers(InferenceSession session, string inputName, long[] inputShape, TensorElementType inputType, string outputName, long[]? staticOutputShape)
        {
            StaticOutputShape = staticOutputShape;
            RunOptions = new RunOptions();
            Input = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, inputType, inputShape);
            Binding = session.CreateIoBinding();
            Binding.BindInput(inputName, Input);
            if (staticOutputShape is not null)
            {
                Output = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, staticOutputShape);
                Binding.BindOutput(outputName, Output);
            }
            else
            {
                Binding.BindOutputToDevice(outputName, OrtMemoryInfo.DefaultInstance);
            }
        }

        public long[]? StaticOutputShape { get; }

        public RunOptions RunOptions { get; }

        public OrtValue Input { get; }

        public OrtValue? Output { get; }

        public OrtIoBinding Binding { get; }

        public void Dispose()
        {
            Binding.Dispose();
            Output?.Dispose();
            Input.Dispose();
            RunOptions.Dispose();
        }
    }

    // ---------------------------------------------------------------- load and checks

    /// <summary>All checks in order; keeps the session when <paramref name="keep"/> and accepted, else disposes it.</summary>
    internal static (ModelCheckResult Result, ModelSession? Session) Open(byte[] model, ModelManifest manifest, ModelSessionOptions options, bool keep)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(options);
        manifest.Validate();
        options.Validate();

        if (OnnxFormat.Check(model) is { } formatProblem)
        {
            return (formatProblem, null);
        }

        var ortOptions = options.ToOrt(manifest);
        InferenceSession ort;
        try
        {
            ort = new InferenceSession(model, ortOptions);
        }
        catch (OnnxRuntimeException e)
        {
            ortOptions.Dispose();
            return (ModelCheckResult.Fail(ModelProblem.RuntimeLoadFailed, $"ONNX Runtime cannot load the model: {Clean(e.Message)}"), null);
        }

        var signature = SignatureOf(ort);
        var session = new ModelSession(ort, ortOptions, manifest, options, signature);
        var ok = false;
        try
        {
            var result = ContractCheck(ort, manifest, signature) ?? session.DryRun();
            ok = result.Accepted && keep;
            if (result.Accepted)
            {
                session.LoadCheck = result;
            }
            return (result, ok ? session : null);
        }
        finally
        {
            if (!ok)
            {
                session.Dispose();
            }
        }
    }

    private ModelCheckResult DryRun()
    {
        // 1. A zero input, output bound without a preallocated buffer: learns the real output shape.
        long[] outputShape;
        var dryStart = Stopwatch.GetTimestamp();
        using (var probe = new RunBuffers(_session, Manifest.Input.Name, _inputShape, ElementType(Manifest.Input.ElementType), _outputName, null))
        {
            try
            {
                ClearInput(probe.Input);
                _session.RunWithBinding(probe.RunOptions, probe.Binding);
                using var outputs = probe.Binding.GetOutputValues();
                var info = outputs[0].GetTensorTypeAndShape();
                outputShape = info.Shape;
                if (info.ElementDataType != TensorElementType.Float)
                {
                    return ModelCheckResult.Fail(ModelProblem.DryRunFailed,
                        $"dry run on a zero input: output '{_outputName}' came back as {OrtTypeName(info.ElementDataType)}, not float32", Signature);
                }
                if (Manifest.Output is TopKDecoding t)
                {
                    var count = (int)info.ElementCount;
                    if (t.Labels.Count > 0 && t.Labels.Count != count)
                    {
                        return ModelCheckResult.Fail(ModelProblem.DryRunFailed,
                            $"dry run on a zero input: output '{_outputName}' has shape {ManifestRules.Shape(outputShape)} ({count} classes), but the manifest has {t.Labels.Count} labels", Signature);
                    }
                    _classLabels = t.Labels.Count > 0 ? t.Labels : LabelCache.Range(count);
                }
                if (Manifest.Output is DetectionDecoding && !IsDetectionShape(outputShape))
                {
                    return ModelCheckResult.Fail(ModelProblem.DryRunFailed,
                        $"dry run on a zero input: output '{_outputName}' has shape {ManifestRules.Shape(outputShape)}; the {DetectionDecoding.Layout} layout needs [N, 6] or [1, N, 6]", Signature);
                }
            }
            catch (OnnxRuntimeException e)
            {
                return ModelCheckResult.Fail(ModelProblem.DryRunFailed,
                    $"dry run on a zero input {ManifestRules.Shape(_inputShape)} failed: {Clean(e.Message)}", Signature);
            }
        }
        var dryRun = Stopwatch.GetElapsedTime(dryStart);

        // 2. Outputs whose shape follows from the (fixed) input shape get preallocated buffers from now on.
        var declared = Signature.Outputs.First(o => o.Name == _outputName).Dimensions;
        if (Manifest.Kind != ModelKind.Detection || declared.All(d => d >= 0))
        {
            _staticOutputShape = outputShape;
        }

        // 3. A warm run through the buffers frames will use: a first latency figure, and the first pooled buffer set.
        TimeSpan warm;
        try
        {
            var buffers = Rent();
            try
            {
                ClearInput(buffers.Input);
                var start = Stopwatch.GetTimestamp();
                _session.RunWithBinding(buffers.RunOptions, buffers.Binding);
                var p = Manifest.Preprocessing;
                _ = Decode(buffers, p.Width, p.Height);
                warm = Stopwatch.GetElapsedTime(start);
            }
            finally
            {
                Return(buffers);
            }
        }
        catch (Exception e) when (e is OnnxRuntimeException or InvalidOperationException)
        {
            return ModelCheckResult.Fail(ModelProblem.DryRunFailed, $"second dry run on a zero input failed: {Clean(e.Message)}", Signature);
        }

        return new ModelCheckResult(ModelProblem.None, $"accepted: {Manifest.Id}, dry run {dryRun.TotalMilliseconds:F1} ms, warm run {warm.TotalMilliseconds:F1} ms", Signature, dryRun, warm);
    }

    private void ClearInput(OrtValue input)
    {
        if (Manifest.Input.ElementType == InputElementType.Float32)
        {
            input.GetTensorMutableDataAsSpan<float>().Clear();
        }
        else
        {
            input.GetTensorMutableDataAsSpan<byte>().Clear();
        }
    }

    private static ModelCheckResult? ContractCheck(InferenceSession ort, ModelManifest m, ModelSignature sig)
    {
        var name = m.Input.Name;
        if (!ort.InputMetadata.TryGetValue(name, out var input))
        {
            return ModelCheckResult.Fail(ModelProblem.InputNameMismatch,
                $"input name mismatch: the manifest names input '{name}', the model's inputs are {List(sig.Inputs)}", sig);
        }
        var inputSig = sig.Inputs.First(i => i.Name == name);
        var wanted = ElementType(m.Input.ElementType);
        if (input.OnnxValueType != OnnxValueType.ONNX_TYPE_TENSOR || input.ElementDataType != wanted)
        {
            return ModelCheckResult.Fail(ModelProblem.InputTypeMismatch,
                $"input element type mismatch: model input '{name}' is {inputSig.Describe()}, the manifest says {ManifestRules.Json(m.Input.ElementType)}", sig);
        }
        var fed = m.Preprocessing.InputShape();
        var dims = input.Dimensions;
        if (dims.Length != fed.Length)
        {
            return ModelCheckResult.Fail(ModelProblem.InputShapeMismatch,
                $"input shape mismatch: model input '{name}' is {inputSig.Describe()} (rank {dims.Length}), the manifest declares [{string.Join(", ", m.Input.Shape)}] (rank 4)", sig);
        }
        for (var i = 0; i < dims.Length; i++)
        {
            var declared = m.Input.Shape[i];
            if (dims[i] > 0 && (dims[i] != fed[i] || (!declared.IsDynamic && declared.Size != dims[i])))
            {
                return ModelCheckResult.Fail(ModelProblem.InputShapeMismatch,
                    $"input shape mismatch: model input '{name}' is {inputSig.Describe()}, the manifest declares [{string.Join(", ", m.Input.Shape)}] and feeds {ManifestRules.Shape(fed)} ({ManifestRules.Json(m.Preprocessing.Layout)}); dimension {i} differs ({dims[i]} vs {fed[i]})", sig);
            }
        }
        var others = sig.Inputs.Where(i => i.Name != name).ToList();
        if (others.Count > 0)
        {
            return ModelCheckResult.Fail(ModelProblem.UnexpectedInputs,
                $"the model has input(s) besides '{name}': {List(others)}; only models with a single image input are supported", sig);
        }

        var outName = m.Output.TensorName;
        if (!ort.OutputMetadata.TryGetValue(outName, out var output))
        {
            return ModelCheckResult.Fail(ModelProblem.OutputNameMismatch,
                $"output name mismatch: the manifest names output '{outName}', the model's outputs are {List(sig.Outputs)}", sig);
        }
        var outSig = sig.Outputs.First(o => o.Name == outName);
        if (output.OnnxValueType != OnnxValueType.ONNX_TYPE_TENSOR || output.ElementDataType != TensorElementType.Float)
        {
            return ModelCheckResult.Fail(ModelProblem.OutputTypeMismatch,
                $"output type mismatch: model output '{outName}' is {outSig.Describe()}, decoding needs float32", sig);
        }
        var od = output.Dimensions;
        switch (m.Output)
        {
            case TopKDecoding t when t.Labels.Count > 0:
                var classes = od.Select((d, i) => d < 0 && i == 0 ? 1 : d).ToArray();
                if (classes.All(d => d > 0) && classes.Aggregate(1L, (a, d) => a * d) != t.Labels.Count)
                {
                    return ModelCheckResult.Fail(ModelProblem.OutputShapeMismatch,
                        $"output shape mismatch: model output '{outName}' is {outSig.Describe()} ({classes.Aggregate(1L, (a, d) => a * d)} classes), but the manifest has {t.Labels.Count} labels", sig);
                }
                break;
            case DetectionDecoding:
                var rankOk = od.Length is 2 or 3;
                var lastOk = rankOk && (od[^1] < 0 || od[^1] == DetectionDecoder.RowLength);
                var batchOk = od.Length != 3 || od[0] < 0 || od[0] == 1;
                if (!rankOk || !lastOk || !batchOk)
                {
                    return ModelCheckResult.Fail(ModelProblem.OutputShapeMismatch,
                        $"output shape mismatch: model output '{outName}' is {outSig.Describe()}; the {DetectionDecoding.Layout} layout needs [N, 6] or [1, N, 6]", sig);
                }
                break;
        }
        return null;
    }

    private static ModelSignature SignatureOf(InferenceSession ort)
    {
        static TensorSignature Of(string name, NodeMetadata meta) => new(
            name,
            meta.OnnxValueType == OnnxValueType.ONNX_TYPE_TENSOR ? OrtTypeName(meta.ElementDataType) : meta.OnnxValueType.ToString(),
            meta.OnnxValueType == OnnxValueType.ONNX_TYPE_TENSOR ? meta.Dimensions.Select(d => (long)d).ToArray() : [],
            meta.OnnxValueType == OnnxValueType.ONNX_TYPE_TENSOR ? meta.SymbolicDimensions.Select(s => s ?? "").ToArray() : []);

        string producer;
        try
        {
            producer = ort.ModelMetadata.ProducerName ?? "";
        }
        catch (OnnxRuntimeException)
        {
            producer = "";
        }
        return new ModelSignature(
            ort.InputMetadata.Select(kv => Of(kv.Key, kv.Value)).ToArray(),
            ort.OutputMetadata.Select(kv => Of(kv.Key, kv.Value)).ToArray(),
            producer);
    }

    private static string List(IEnumerable<TensorSignature> tensors)
    {
        var items = tensors.Select(t => $"'{t.Name}' {t.Describe()}").ToList();
        return items.Count == 0 ? "(none)" : string.Join(", ", items);
    }

    internal static string OrtTypeName(TensorElementType type) => type switch
    {
        TensorElementType.Float => "float32",
        TensorElementType.Double => "float64",
        TensorElementType.Float16 => "float16",
        TensorElementType.BFloat16 => "bfloat16",
        TensorElementType.UInt8 => "uint8",
        TensorElementType.Int8 => "int8",
        TensorElementType.UInt16 => "uint16",
        TensorElementType.Int16 => "int16",
        TensorElementType.UInt32 => "uint32",
        TensorElementType.Int32 => "int32",
        TensorElementType.UInt64 => "uint64",
        TensorElementType.Int64 => "int64",
        TensorElementType.Bool => "bool",
        TensorElementType.String => "string",
        _ => type.ToString().ToLowerInvariant(),
    };

    private static string Clean(string message) => message.Replace("\r", "", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal).Trim();
}
