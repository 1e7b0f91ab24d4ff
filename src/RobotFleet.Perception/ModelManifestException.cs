namespace RobotFleet.Perception;

/// <summary>
/// A model manifest is invalid: not JSON, a field missing, of the wrong type, out of range or inconsistent with
/// another field. <see cref="Field"/> names the field by its JSON path (e.g. <c>input.shape[2]</c>, or <c>$</c> for
/// the document itself).
/// </summary>
public sealed class ModelManifestException : Exception
{
    /// <summary>Creates the error for <paramref name="field"/>; the message is "manifest field '{field}': {problem}".</summary>
    /// <param name="field">JSON path of the field, e.g. <c>preprocessing.mean</c>.</param>
    /// <param name="problem">What is wrong, in words.</param>
    /// <param name="inner">The parser's error, if any.</param>
    public ModelManifestException(string field, string problem, Exception? inner = null)
        : base($"manifest field '{field}': {problem}", inner)
    {
        Field = field;
        Problem = problem;
    }

    /// <summary>JSON path of the offending field.</summary>
    public string Field { get; }

    /// <summary>What is wrong, without the field name.</summary>
    public string Problem { get; }
}
