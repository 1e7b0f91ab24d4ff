using System.Text.Json;
using System.Text.Json.Serialization;

namespace RobotFleet.ArchitectureTests;

/// <summary>Names a rule lists: project names (exact) and package names (exact or dotted prefix); "*" matches anything.</summary>
public sealed record NameLists
{
    public IReadOnlyList<string> Projects { get; init; } = [];
    public IReadOnlyList<string> Packages { get; init; } = [];
}

/// <summary>What one project may and must not depend on (a row of DESIGN.md §3's dependency table).</summary>
public sealed record ProjectRule
{
    /// <summary>Direct references must be in these lists.</summary>
    public NameLists Allowed { get; init; } = new();

    /// <summary>Checked over the transitive closure; "*" means anything not in <see cref="Allowed"/>.</summary>
    public NameLists Forbidden { get; init; } = new();

    /// <summary>Decisions that depart from the design table (documentation only).</summary>
    public IReadOnlyList<string> Deviations { get; init; } = [];

    /// <summary>Clarifications (documentation only).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    public bool AllowsProject(string name) => Allowed.Projects.Any(p => NameMatch.Project(p, name));

    public bool AllowsPackage(string name) => Allowed.Packages.Any(p => NameMatch.Package(p, name));

    public bool ForbidsProject(string name) =>
        Forbidden.Projects.Any(p => p != NameMatch.Any && NameMatch.Project(p, name))
        || (Forbidden.Projects.Contains(NameMatch.Any) && !AllowsProject(name));

    public bool ForbidsPackage(string name) =>
        Forbidden.Packages.Any(p => p != NameMatch.Any && NameMatch.Package(p, name))
        || (Forbidden.Packages.Contains(NameMatch.Any) && !AllowsPackage(name));
}

/// <summary>The whole dependency table: project name to rule.</summary>
public sealed record DependencyRules
{
    public string Description { get; init; } = "";

    public IReadOnlyDictionary<string, ProjectRule> Projects { get; init; } = new Dictionary<string, ProjectRule>();

    public const string FileName = "dependency-rules.json";

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
    };

    /// <summary>Loads the table shipped next to the test assembly.</summary>
    public static DependencyRules Load() => Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, FileName)));

    public static DependencyRules Parse(string json)
    {
        var rules = JsonSerializer.Deserialize<DependencyRules>(json, Options)
            ?? throw new InvalidDataException($"{FileName} is empty");
        // Project names are case-insensitive on the checker side too.
        return rules with { Projects = new Dictionary<string, ProjectRule>(rules.Projects, StringComparer.OrdinalIgnoreCase) };
    }

    public ProjectRule? Find(string project) => Projects.GetValueOrDefault(project);
}

/// <summary>Name matching used by the rules.</summary>
public static class NameMatch
{
    public const string Any = "*";

    /// <summary>Projects match by exact name (case-insensitive) or "*".</summary>
    public static bool Project(string pattern, string name) =>
        pattern == Any || string.Equals(pattern, name, StringComparison.OrdinalIgnoreCase);

    /// <summary>Packages match by exact id or dotted prefix ("MQTTnet" and "MQTTnet.*" cover "MQTTnet.Server", not "MQTTnetX"), case-insensitive.</summary>
    public static bool Package(string pattern, string id)
    {
        if (pattern == Any)
        {
            return true;
        }
        var prefix = pattern.EndsWith(".*", StringComparison.Ordinal) ? pattern[..^2] : pattern;
        return string.Equals(prefix, id, StringComparison.OrdinalIgnoreCase)
            || id.StartsWith(prefix + ".", StringComparison.OrdinalIgnoreCase);
    }
}
