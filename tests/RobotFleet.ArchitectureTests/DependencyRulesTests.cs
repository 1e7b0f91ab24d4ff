using System.Text.RegularExpressions;

namespace RobotFleet.ArchitectureTests;

/// <summary>
/// DESIGN.md §3: the dependency table (dependency-rules.json) holds for the real csproj files under src/ and
/// firmware-bridge/, every such project has a rule, every project is in RobotFleet.sln, and the checker does catch
/// violations (fed a deliberately bad fake graph).
/// </summary>
public sealed partial class DependencyRulesTests
{
    private static readonly string[] CheckedFolders = ["src", "firmware-bridge"];
    private static readonly string[] SolutionFolders = ["src", "firmware-bridge", "tests", "bench"];

    private static readonly DependencyRules Rules = DependencyRules.Load();

    [Fact]
    public void Projects_under_src_and_firmware_bridge_follow_the_dependency_rules()
    {
        var graph = ProjectGraph.Load(RepoFiles.Root, CheckedFolders);
        Assert.NotEmpty(graph.Projects);

        var violations = DependencyChecker.Check(graph, Rules);

        Assert.True(violations.Count == 0,
            $"{violations.Count} dependency rule violation(s) (rules: tests/RobotFleet.ArchitectureTests/{DependencyRules.FileName}):\n  "
            + string.Join("\n  ", violations));
    }

    [Fact]
    public void Every_project_under_src_and_firmware_bridge_has_a_rule()
    {
        var missing = ProjectGraph.Load(RepoFiles.Root, CheckedFolders).Projects
            .Select(p => p.Name)
            .Where(name => Rules.Find(name) is null)
            .Order(StringComparer.Ordinal)
            .ToArray();

        Assert.True(missing.Length == 0,
            $"Projects without a rule in {DependencyRules.FileName}: {string.Join(", ", missing)}. Add a row (DESIGN.md §3).");
    }

    [Fact]
    public void Every_project_is_in_the_solution_and_every_solution_entry_exists()
    {
        var root = RepoFiles.Root;
        var inSolution = SolutionProjectPaths(File.ReadAllText(Path.Combine(root, RepoFiles.SolutionFile)))
            .ToHashSet(StringComparer.Ordinal);
        var onDisk = SolutionFolders
            .Select(f => Path.Combine(root, f))
            .Where(Directory.Exists)
            .SelectMany(RepoFiles.Csproj)
            .Select(p => Path.GetRelativePath(root, p).Replace('\\', '/'))
            .ToHashSet(StringComparer.Ordinal);

        var notInSolution = onDisk.Except(inSolution).Order(StringComparer.Ordinal).ToArray();
        var missingOnDisk = inSolution.Where(p => !File.Exists(Path.Combine(root, p))).Order(StringComparer.Ordinal).ToArray();

        Assert.True(notInSolution.Length == 0,
            $"Not in {RepoFiles.SolutionFile} (so not built or tested by CI): {string.Join(", ", notInSolution)}. Add with: dotnet sln {RepoFiles.SolutionFile} add <path>");
        Assert.True(missingOnDisk.Length == 0,
            $"{RepoFiles.SolutionFile} lists projects that do not exist: {string.Join(", ", missingOnDisk)}");
    }

    [Fact]
    public void Rules_name_only_known_projects_and_never_allow_what_they_forbid()
    {
        var problems = new List<string>();
        foreach (var (name, rule) in Rules.Projects)
        {
            foreach (var listed in rule.Allowed.Projects.Concat(rule.Forbidden.Projects).Where(p => p != NameMatch.Any))
            {
                if (Rules.Find(listed) is null)
                {
                    problems.Add($"{name} lists unknown project {listed}");
                }
            }
            foreach (var allowed in rule.Allowed.Projects.Where(p => p != NameMatch.Any && rule.ForbidsProject(p)))
            {
                problems.Add($"{name} both allows and forbids project {allowed}");
            }
            foreach (var allowed in rule.Allowed.Packages.Where(p => p != NameMatch.Any && rule.ForbidsPackage(p)))
            {
                problems.Add($"{name} both allows and forbids package {allowed}");
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Checker_reports_violations_in_a_bad_fake_graph_naming_both_projects()
    {
        const string root = "/fake/repo";
        var graph = ProjectGraph.FromCsproj(
        [
            // Indirect: Planning -> Maps -> Vda5050 (Planning must not reference Vda5050).
            ($"{root}/src/RobotFleet.Planning/RobotFleet.Planning.csproj",
                Csproj(projects: ["../RobotFleet.Maps/RobotFleet.Maps.csproj"])),
            ($"{root}/src/RobotFleet.Maps/RobotFleet.Maps.csproj",
                Csproj(projects: [@"..\RobotFleet.Vda5050\RobotFleet.Vda5050.csproj"], packages: ["NetTopologySuite"])),
            ($"{root}/src/RobotFleet.Vda5050/RobotFleet.Vda5050.csproj", Csproj()),
            // Direct: Gateway -> Planning.
            ($"{root}/src/RobotFleet.Gateway/RobotFleet.Gateway.csproj",
                Csproj(projects: ["../RobotFleet.Planning/RobotFleet.Planning.csproj"], packages: ["MassTransit"])),
            // Package by prefix: ControlPlane -> MQTTnet.Server.
            ($"{root}/src/RobotFleet.ControlPlane/RobotFleet.ControlPlane.csproj", Csproj(packages: ["MQTTnet.Server"])),
            // Indirect package: EdgeAgent -> Gateway -> MassTransit.
            ($"{root}/src/RobotFleet.EdgeAgent/RobotFleet.EdgeAgent.csproj",
                Csproj(projects: ["../RobotFleet.Gateway/RobotFleet.Gateway.csproj"])),
            // A new project nobody wrote a rule for.
            ($"{root}/src/RobotFleet.Brand.New/RobotFleet.Brand.New.csproj", Csproj()),
        ]);

        var violations = DependencyChecker.Check(graph, Rules);
        string Report() => string.Join("\n", violations);

        var indirect = Assert.Single(violations, v => v.Project == "RobotFleet.Planning" && v.Dependency == "RobotFleet.Vda5050");
        Assert.Contains("RobotFleet.Planning", indirect.Message);
        Assert.Contains("RobotFleet.Vda5050", indirect.Message);
        Assert.Contains("RobotFleet.Planning -> RobotFleet.Maps -> RobotFleet.Vda5050", indirect.Message);

        Assert.Contains(violations, v => v.Project == "RobotFleet.Maps" && v.Dependency == "RobotFleet.Vda5050");
        Assert.Contains(violations, v => v.Project == "RobotFleet.Gateway" && v.Dependency == "RobotFleet.Planning");
        Assert.Contains(violations, v => v.Project == "RobotFleet.ControlPlane" && v.Dependency == "MQTTnet.Server");
        var indirectPackage = Assert.Single(violations, v => v.Project == "RobotFleet.EdgeAgent" && v.Dependency == "MassTransit");
        Assert.Contains("RobotFleet.EdgeAgent -> RobotFleet.Gateway -> package MassTransit", indirectPackage.Message);
        Assert.Contains(violations, v => v.Project == "RobotFleet.Brand.New" && v.Message.Contains("no rule"));

        // Nothing flagged that the table allows: Maps -> NetTopologySuite, Gateway -> MassTransit.
        Assert.DoesNotContain(violations, v => v.Dependency == "NetTopologySuite");
        Assert.DoesNotContain(violations, v => v.Project == "RobotFleet.Gateway" && v.Dependency == "MassTransit");
        Assert.True(violations.Count == 7, Report());
    }

    [Fact]
    public void Checker_passes_a_graph_that_follows_the_rules()
    {
        var graph = ProjectGraph.FromCsproj(
        [
            ("/r/src/RobotFleet.Planning/RobotFleet.Planning.csproj", Csproj(projects: ["../RobotFleet.Maps/RobotFleet.Maps.csproj"])),
            ("/r/src/RobotFleet.Maps/RobotFleet.Maps.csproj", Csproj(packages: ["NetTopologySuite", "NetTopologySuite.IO.GeoJSON4STJ", "YamlDotNet"])),
            ("/r/src/RobotFleet.Contracts/RobotFleet.Contracts.csproj", Csproj()),
        ]);

        Assert.Empty(DependencyChecker.Check(graph, Rules));
    }

    private static string Csproj(string[]? projects = null, string[]? packages = null) =>
        $"""
        <Project Sdk="Microsoft.NET.Sdk">
          <ItemGroup>
            {string.Concat((projects ?? []).Select(p => $"<ProjectReference Include=\"{p}\" />"))}
            {string.Concat((packages ?? []).Select(p => $"<PackageReference Include=\"{p}\" />"))}
          </ItemGroup>
        </Project>
        """;

    private static IEnumerable<string> SolutionProjectPaths(string solution) =>
        SolutionProject().Matches(solution)
            .Select(m => m.Groups["path"].Value.Replace('\\', '/'))
            .Where(p => p.EndsWith(".csproj", StringComparison.OrdinalIgnoreCase));

    [GeneratedRegex("""^Project\("\{[^}]+\}"\)\s*=\s*"[^"]*",\s*"(?<path>[^"]+)",""", RegexOptions.Multiline)]
    private static partial Regex SolutionProject();
}
