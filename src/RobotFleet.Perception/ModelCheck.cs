namespace RobotFleet.Perception;

/// <summary>Which group of checks a <see cref="ModelProblem"/> belongs to; the checks run in this order.</summary>
public enum ModelCheckStage
{
    /// <summary>All checks passed.</summary>
    Passed,

    /// <summary>1. The bytes are not an ONNX model at all (empty, a Git LFS pointer, text, HTML, another file format).</summary>
    NotOnnx,

    /// <summary>2. Protobuf that is truncated or corrupt, or that ONNX Runtime cannot load.</summary>
    Corrupt,

    /// <summary>3. The model's inputs or outputs do not match the manifest (name, element type, shape).</summary>
    Contract,

    /// <summary>4. The model loaded and matched, but running it on a zero input failed.</summary>
    DryRun,
}

/// <summary>Why a model was rejected; <see cref="ModelProblem.None"/> when it was accepted.</summary>
public enum ModelProblem
{
    /// <summary>Accepted.</summary>
    None,

    /// <summary>The file is empty (0 bytes).</summary>
    Empty,

    /// <summary>A Git LFS pointer file (the real model was never fetched: <c>git lfs pull</c>).</summary>
    GitLfsPointer,

    /// <summary>A git-annex pointer (the real model was never fetched: <c>git annex get</c>).</summary>
    GitAnnexPointer,

    /// <summary>An HTML page (typically an error or login page saved instead of the download).</summary>
    Html,

    /// <summary>Other text (JSON, YAML, a log, ...).</summary>
    Text,

    /// <summary>Another binary format recognised by its magic number (ZIP/PyTorch, gzip, PNG, JPEG, ELF, TensorFlow Lite, ...).</summary>
    OtherFormat,

    /// <summary>Protobuf cut short: a field declares more bytes than the file has.</summary>
    Truncated,

    /// <summary>Bytes that are not well-formed protobuf, or protobuf without an ONNX graph.</summary>
    CorruptProtobuf,

    /// <summary>Well-formed protobuf that ONNX Runtime refuses to load (invalid graph, unsupported operator or opset, ...).</summary>
    RuntimeLoadFailed,

    /// <summary>The model has no input with the manifest's input name.</summary>
    InputNameMismatch,

    /// <summary>The manifest's input exists but has another element type.</summary>
    InputTypeMismatch,

    /// <summary>The input's rank or a fixed dimension disagrees with the manifest or with the shape fed per frame.</summary>
    InputShapeMismatch,

    /// <summary>The model has inputs besides the manifest's image input (they would never be fed).</summary>
    UnexpectedInputs,

    /// <summary>The model has no output with the manifest's output name.</summary>
    OutputNameMismatch,

    /// <summary>The output is not a float32 tensor.</summary>
    OutputTypeMismatch,

    /// <summary>The output's shape cannot be decoded as the manifest says (class count vs labels, detection rows not 6 wide, ...).</summary>
    OutputShapeMismatch,

    /// <summary>Running the model on a zero input failed, or its output could not be decoded.</summary>
    DryRunFailed,
}

/// <summary>One input or output tensor as the model declares it.</summary>
/// <param name="Name">Name in the ONNX graph.</param>
/// <param name="ElementType">ONNX element type name (<c>float32</c>, <c>uint8</c>, <c>int64</c>, ...), or the value kind for non-tensors.</param>
/// <param name="Dimensions">Dimensions; -1 where dynamic.</param>
/// <param name="Symbols">Names of dynamic dimensions (empty string where none or fixed).</param>
public sealed record TensorSignature(string Name, string ElementType, IReadOnlyList<long> Dimensions, IReadOnlyList<string> Symbols)
{
    /// <summary>Like <c>float32 [1, 3, 224, 224]</c>, with dynamic dimensions by name or <c>?</c>.</summary>
    public string Describe() =>
        $"{ElementType} [{string.Join(", ", Dimensions.Select((d, i) => d >= 0 ? d.ToString(System.Globalization.CultureInfo.InvariantCulture) : (i < Symbols.Count && Symbols[i].Length > 0 ? Symbols[i] : "?")))}]";
}

/// <summary>The inputs and outputs a loaded model declares, and who produced it.</summary>
/// <param name="Inputs">Graph inputs (without initializers), in declaration order.</param>
/// <param name="Outputs">Graph outputs, in declaration order.</param>
/// <param name="ProducerName">The model's producer_name (e.g. <c>pytorch</c>), possibly empty.</param>
public sealed record ModelSignature(IReadOnlyList<TensorSignature> Inputs, IReadOnlyList<TensorSignature> Outputs, string ProducerName);

/// <summary>
/// Outcome of checking a model's bytes against its manifest: accepted, or the first problem found with a message that
/// names it. Checks run in the order of <see cref="ModelCheckStage"/>; later checks are skipped after a failure.
/// </summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
public sealed class ModelCheckResult
{
    internal ModelCheckResult(ModelProblem problem, string message, ModelSignature? signature = null, TimeSpan? dryRun = null, TimeSpan? warmRun = null)
    {
        Problem = problem;
        Message = message;
        Signature = signature;
        DryRunTime = dryRun;
        WarmRunTime = warmRun;
    }

    internal static ModelCheckResult Fail(ModelProblem problem, string message, ModelSignature? signature = null) => new(problem, message, signature);

    /// <summary>True when every check passed.</summary>
    public bool Accepted => Problem == ModelProblem.None;

    /// <summary>The first problem found, or <see cref="ModelProblem.None"/>.</summary>
    public ModelProblem Problem { get; }

    /// <summary>The group of checks the problem belongs to.</summary>
    public ModelCheckStage Stage => StageOf(Problem);

    /// <summary>What was found, in words; names the problem (e.g. "Git LFS pointer, not an ONNX model: ...").</summary>
    public string Message { get; }

    /// <summary>The model's declared inputs and outputs, once ONNX Runtime loaded it; null before that.</summary>
    public ModelSignature? Signature { get; }

    /// <summary>Time of the dry run on a zero input (the first run: includes one-time allocations), when it ran.</summary>
    public TimeSpan? DryRunTime { get; }

    /// <summary>Time of a second run on the zero input (a warm run, a first latency figure), when it ran.</summary>
    public TimeSpan? WarmRunTime { get; }

    /// <summary>The check group of <paramref name="problem"/>.</summary>
    public static ModelCheckStage StageOf(ModelProblem problem) => problem switch
    {
        ModelProblem.None => ModelCheckStage.Passed,
        ModelProblem.Empty or ModelProblem.GitLfsPointer or ModelProblem.GitAnnexPointer or ModelProblem.Html
            or ModelProblem.Text or ModelProblem.OtherFormat => ModelCheckStage.NotOnnx,
        ModelProblem.Truncated or ModelProblem.CorruptProtobuf or ModelProblem.RuntimeLoadFailed => ModelCheckStage.Corrupt,
        ModelProblem.DryRunFailed => ModelCheckStage.DryRun,
        _ => ModelCheckStage.Contract,
    };

    /// <summary>Throws when the model was rejected.</summary>
    /// <exception cref="ModelRejectedException">The model was rejected; carries this result.</exception>
    public void ThrowIfRejected()
    {
        if (!Accepted)
        {
            throw new ModelRejectedException(this);
        }
    }

    /// <summary>"accepted" or "{Problem}: {Message}".</summary>
    public override string ToString() => Accepted ? "accepted" : $"{Problem}: {Message}";
}

/// <summary>A model was rejected on load; <see cref="Result"/> says which check failed and why.</summary>
public sealed class ModelRejectedException : Exception
{
    /// <summary>Wraps a failed check result; the message is the result's message.</summary>
    /// <param name="result">A result that is not accepted.</param>
    public ModelRejectedException(ModelCheckResult result)
        : base((result ?? throw new ArgumentNullException(nameof(result))).Message)
    {
        Result = result;
    }

    /// <summary>The failed check.</summary>
    public ModelCheckResult Result { get; }

    /// <summary>Shortcut for <c>Result.Problem</c>.</summary>
    public ModelProblem Problem => Result.Problem;
}
