namespace RobotFleet.Perception;

/// <summary>
/// Checks a model's bytes against its manifest before it is accepted, in this order, stopping at the first problem:
/// (1) not an ONNX model at all: empty, Git LFS or git-annex pointer, HTML, other text, another known format;
/// (2) truncated or corrupt protobuf, or protobuf that ONNX Runtime cannot load;
/// (3) the manifest's input missing, of another element type or shape, other inputs, the output missing, not
/// float32, or not decodable as the task says;
/// (4) a dry run on a zero input fails (followed by a warm run, whose time is reported).
/// Each failure is a <see cref="ModelCheckResult"/> with a <see cref="ModelProblem"/> and a message that names it.
/// </summary>
/// <remarks>Stateless; safe to call from any thread. Steps 3 and 4 build an ONNX Runtime session, which is disposed before returning.</remarks>
public static class ModelInspector
{
    /// <summary>Runs all checks; never throws for problems of the model.</summary>
    /// <param name="model">The <c>.onnx</c> file's bytes.</param>
    /// <param name="manifest">The contract to check against.</param>
    /// <param name="options">Thread settings for the dry run; null for the defaults.</param>
    /// <returns>Accepted (with the model's signature and dry-run times), or the first problem.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ModelManifestException">The manifest itself is invalid.</exception>
    public static ModelCheckResult Check(byte[] model, ModelManifest manifest, ModelSessionOptions? options = null) =>
        ModelSession.Open(model, manifest, options ?? new ModelSessionOptions(), keep: false).Result;

    /// <summary>Only the checks on raw bytes (stages 1 and 2 without ONNX Runtime): cheap enough for an upload handler.</summary>
    /// <param name="model">The file's bytes.</param>
    /// <returns>Accepted (meaning: looks like a whole ONNX file), or the first problem.</returns>
    public static ModelCheckResult CheckFormat(ReadOnlySpan<byte> model) =>
        OnnxFormat.Check(model) ?? new ModelCheckResult(ModelProblem.None, "looks like a whole ONNX model");
}
