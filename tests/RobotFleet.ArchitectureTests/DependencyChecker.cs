namespace RobotFleet.ArchitectureTests;

/// <summary>One broken rule; <see cref="Message"/> names the project, the dependency and how it is reached.</summary>
/// <param name="Project">The project whose rule is broken.</param>
/// <param name="Dependency">The offending project or package ("" for a project without a rule).</param>
/// <param name="Message">Human-readable explanation.</param>
public sealed record Violation(string Project, string Dependency, string Message)
{
    public override string ToString() => Message;
}

/// <summary>Checks a <see cref="ProjectGraph"/> against <see cref="DependencyRules"/>.</summary>
public static class DependencyChecker
{
    public static IReadOnlyList<Violation> Check(ProjectGraph graph, DependencyRules rules)
    {
        var violations = new List<Violation>();
        foreach (var project in graph.Projects.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            var rule = rules.Find(project.Name);
            if (rule is null)
            {
                violations.Add(new(project.Name, "", $"{project.Name} has no rule in {DependencyRules.FileName}: add one (DESIGN.md §3)."));
                continue;
            }
            violations.AddRange(CheckOne(graph, project, rule));
        }
        return violations;
    }

    private static IEnumerable<Violation> CheckOne(ProjectGraph graph, ProjectNode project, ProjectRule rule)
    {
        var reported = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

        // Forbidden: over everything reachable, each reached by its shortest chain of project references.
        foreach (var (reached, chain) in Reachable(graph, project))
        {
            if (reached.Name != project.Name && rule.ForbidsProject(reached.Name) && reported.Add(reached.Name))
            {
                yield return new(project.Name, reached.Name,
                    $"{project.Name} must not reference project {reached.Name} (via {string.Join(" -> ", chain)}).");
            }
            foreach (var package in graph.Find(reached.Name)?.PackageReferences ?? [])
            {
                if (rule.ForbidsPackage(package) && reported.Add(package))
                {
                    yield return new(project.Name, package,
                        $"{project.Name} must not reference package {package} (via {string.Join(" -> ", chain)} -> package {package}).");
                }
            }
        }

        // Allowed: direct references only; anything not listed is a violation.
        foreach (var reference in project.ProjectReferences)
        {
            if (!rule.AllowsProject(reference) && reported.Add(reference))
            {
                yield return new(project.Name, reference,
                    $"{project.Name} references project {reference}, which its rule does not allow.");
            }
        }
        foreach (var package in project.PackageReferences)
        {
            if (!rule.AllowsPackage(package) && reported.Add(package))
            {
                yield return new(project.Name, package,
                    $"{project.Name} references package {package}, which its rule does not allow.");
            }
        }
    }

    /// <summary>The project itself and every project reachable through project references (breadth first), with the chain of names leading there.</summary>
    private static IEnumerable<(ProjectNode Node, IReadOnlyList<string> Chain)> Reachable(ProjectGraph graph, ProjectNode start)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { start.Name };
        var queue = new Queue<(ProjectNode, IReadOnlyList<string>)>();
        queue.Enqueue((start, [start.Name]));
        while (queue.TryDequeue(out var item))
        {
            yield return item;
            var (node, chain) = item;
            foreach (var reference in node.ProjectReferences)
            {
                if (seen.Add(reference))
                {
                    // A reference outside the graph (e.g. a test project) is a leaf with no references of its own.
                    var next = graph.Find(reference) ?? new ProjectNode(reference, "", [], []);
                    queue.Enqueue((next, [.. chain, next.Name]));
                }
            }
        }
    }
}
