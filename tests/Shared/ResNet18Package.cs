using System.Reflection;

namespace RobotFleet.TestSupport;

/// <summary>
/// The real pretrained ResNet18 (CNTK export, 63.6 MB) that NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1
/// ships, read from the NuGet cache (never committed), and its manifest. A test project that links this file references
/// the package with <c>GeneratePathProperty="true" ExcludeAssets="all"</c> and records where MSBuild resolved it as
/// assembly metadata <c>ResNet18PackageRoot</c> (and <c>NuGetPackageRoot</c>); see the Perception and Server test projects.
/// </summary>
/// <remarks>
/// A featurizer: input Input247 float32 [1, 3, 224, 224] (BGR, 0..255 minus a mean image), output Pooling395_Output_0
/// [1, 512, 1, 1] (global average pool, no classifier head), so it runs as an embedding model.
/// </remarks>
internal static class ResNet18Package
{
    public const string PackageId = "microsoft.ml.dnnimagefeaturizer.resnet18";
    public const string PackageVersion = "0.23.1";

    /// <summary>The model inside the package, relative to <c>tools/DnnImageModels</c>.</summary>
    public const string Model = "ResNet18Onnx/ResNet18.onnx";

    /// <summary>ML.NET's preprocessing model that feeds <see cref="Model"/>.</summary>
    public const string Preprocessing = "ResNetPrepOnnx/ResNetPreprocess.onnx";

    /// <summary>
    /// A correct manifest for <see cref="Model"/> (name <c>resnet18-features</c>, version <c>0.23.1</c>). BGR channel means
    /// of the package's own ResNetPreprocess.onnx mean image (1 x 3 x 224 x 224, averaged per channel).
    /// </summary>
    public const string Manifest = """
        {
          "name": "resnet18-features",
          "version": "0.23.1",
          "task": "embedding",
          "input": { "name": "Input247", "elementType": "float32", "shape": [1, 3, 224, 224] },
          "preprocessing": {
            "resize": "bilinear", "layout": "NCHW", "colorOrder": "BGR",
            "pixelScale": 1, "mean": [103.063, 115.903, 123.152], "std": [1, 1, 1]
          },
          "output": { "name": "Pooling395_Output_0" },
          "latencyBudgetMs": 100
        }
        """;

    /// <summary>
    /// A file of the package in the NuGet cache: the package folder MSBuild resolved at build time (GeneratePathProperty),
    /// else NuGetPackageRoot, NUGET_PACKAGES or ~/.nuget/packages.
    /// </summary>
    /// <param name="relative">Path under <c>tools/DnnImageModels</c>, e.g. <see cref="Model"/>.</param>
    /// <exception cref="FileNotFoundException">Not restored; the message lists where it looked and how to restore.</exception>
    public static string ModelFile(string relative = Model)
    {
        var metadata = typeof(ResNet18Package).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .GroupBy(a => a.Key)
            .ToDictionary(g => g.Key, g => g.First().Value ?? "");
        var roots = new List<string>();
        if (metadata.GetValueOrDefault("ResNet18PackageRoot") is { Length: > 0 } packageRoot)
            roots.Add(packageRoot);
        foreach (var cache in new[]
        {
            metadata.GetValueOrDefault("NuGetPackageRoot"),
            Environment.GetEnvironmentVariable("NUGET_PACKAGES"),
            Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"),
        })
        {
            if (!string.IsNullOrEmpty(cache))
                roots.Add(Path.Combine(cache, PackageId, PackageVersion));
        }

        var candidates = roots.Select(r => Path.GetFullPath(Path.Combine(r, "tools", "DnnImageModels", relative))).Distinct().ToList();
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException(
                $"{Path.GetFileName(relative)} of NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 {PackageVersion} not found; looked at: " +
                $"{string.Join(", ", candidates)}. Restore the test project (dotnet restore) so NuGet puts the package in its cache.");
    }
}
