using System.Text;
using RobotFleet.Perception;
using RobotFleet.Perception.Tests;

namespace RobotFleet.TestSupport;

/// <summary>
/// Model packages (.onnx bytes + manifest JSON bytes) for registry tests, built in code from the Perception tests'
/// TestModels (linked alongside this file): an 8x8 colour classifier and the ways an upload goes wrong.
/// </summary>
internal static class ModelPackages
{
    public static readonly byte[] Classifier = TestModels.Classifier();

    public static byte[] Manifest(ModelManifest manifest) => Encoding.UTF8.GetBytes(ModelManifestJson.Serialize(manifest));

    public static byte[] ClassifierManifest(string version = "1.0.0", string inputName = "image", InputElementType elementType = InputElementType.Float32, double budgetMs = 1000) =>
        Manifest(TestModels.ClassifierManifest(version: version, inputName: inputName, elementType: elementType, budgetMs: budgetMs));

    /// <summary>A detector that finds the simulator's bright obstacle box in the camera frame from its pixels.</summary>
    public static readonly byte[] ObstacleDetector = TestModels.BrightBoxDetector();

    /// <summary>Manifest of <see cref="ObstacleDetector"/>.</summary>
    public static byte[] ObstacleDetectorManifest(string version = "1.0.0") => Manifest(TestModels.BrightBoxDetectorManifest(version));

    /// <summary>What a clone without <c>git lfs pull</c> holds instead of the model.</summary>
    public static readonly byte[] LfsPointer = Encoding.ASCII.GetBytes(
        "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 46827520\n");

    /// <summary>The classifier cut in the middle (an interrupted download).</summary>
    public static byte[] Truncated => Classifier[..(Classifier.Length / 2)];

    /// <summary>Loads, matches its manifest, fails on the zero input (Reshape of 192 values to [1, -1, 7]).</summary>
    public static byte[] FailsDryRun => TestModels.FailsAtRunTime();

    public static byte[] FailsDryRunManifest => Manifest(TestModels.EmbeddingManifest());

    /// <summary>The classifier with extra (zero-contributing) weights: other bytes, same contract.</summary>
    public static readonly byte[] ClassifierOtherBytes = TestModels.Classifier(extraWeights: 16);
}
