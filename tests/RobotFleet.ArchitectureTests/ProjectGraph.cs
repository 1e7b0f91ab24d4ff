using System.Xml.Linq;

namespace RobotFleet.ArchitectureTests;

/// <summary>One project as its csproj declares it.</summary>
/// <param name="Name">Project name: the csproj file name without extension.</param>
/// <param name="Path">Full path of the csproj.</param>
/// <param name="ProjectReferences">Names of directly referenced projects.</param>
/// <param name="PackageReferences">Ids of directly referenced packages.</param>
public sealed record ProjectNode(string Name, string Path, IReadOnlyList<string> ProjectReferences, IReadOnlyList<string> PackageReferences);

/// <summary>Projects and their direct references, read from csproj files with System.Xml.Linq.</summary>
public sealed class ProjectGraph
{
    private readonly Dictionary<string, ProjectNode> _nodes;

    public ProjectGraph(IEnumerable<ProjectNode> nodes) =>
        _nodes = nodes.ToDictionary(n => n.Name, StringComparer.OrdinalIgnoreCase);

    public IReadOnlyCollection<ProjectNode> Projects => _nodes.Values;

    public ProjectNode? Find(string name) => _nodes.GetValueOrDefault(name);

    /// <summary>Reads every csproj under the given folders of the repository (bin/ and obj/ skipped).</summary>
    public static ProjectGraph Load(string repoRoot, params string[] folders) =>
        FromCsproj(folders
            .Select(f => System.IO.Path.Combine(repoRoot, f))
            .Where(Directory.Exists)
            .SelectMany(RepoFiles.Csproj)
            .Select(path => (path, File.ReadAllText(path))));

    /// <summary>Builds a graph from (csproj path, csproj XML) pairs; the paths need not exist.</summary>
    public static ProjectGraph FromCsproj(IEnumerable<(string Path, string Xml)> csprojFiles) =>
        new(csprojFiles.Select(f => Parse(f.Path, f.Xml)));

    /// <summary>Parses one csproj: ProjectReference and PackageReference items, whatever their Condition.</summary>
    public static ProjectNode Parse(string csprojPath, string xml)
    {
        var document = XDocument.Parse(xml);
        var directory = System.IO.Path.GetDirectoryName(csprojPath) ?? "";
        var projects = Includes(document, "ProjectReference")
            .Select(include => System.IO.Path.GetFullPath(System.IO.Path.Combine(directory, include.Replace('\\', '/'))))
            .Select(System.IO.Path.GetFileNameWithoutExtension)
            .OfType<string>()
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToArray();
        var packages = Includes(document, "PackageReference").Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        return new ProjectNode(System.IO.Path.GetFileNameWithoutExtension(csprojPath), csprojPath, projects, packages);
    }

    // Items may live in the MSBuild namespace (old-style csproj) or none (SDK-style); Include may list several with ';'.
    private static IEnumerable<string> Includes(XDocument document, string itemName) =>
        document.Descendants()
            .Where(e => e.Name.LocalName == itemName)
            .Select(e => (string?)e.Attribute("Include"))
            .OfType<string>()
            .SelectMany(i => i.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}

/// <summary>Finding the repository and its project files.</summary>
public static class RepoFiles
{
    public const string SolutionFile = "RobotFleet.sln";

    /// <summary>The folder holding RobotFleet.sln, found by walking up from the test assembly.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, SolutionFile)))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No {SolutionFile} in {AppContext.BaseDirectory} or any folder above it.");
    }

    /// <summary>Every csproj under a folder, skipping bin/, obj/ and hidden folders.</summary>
    public static IEnumerable<string> Csproj(string folder) =>
        Directory.EnumerateFiles(folder, "*.csproj", SearchOption.AllDirectories)
            .Where(path => !System.IO.Path.GetRelativePath(folder, path)
                .Split(System.IO.Path.DirectorySeparatorChar)
                .Any(part => part is "bin" or "obj" || part.StartsWith('.')))
            .Order(StringComparer.Ordinal);
}
