namespace RobotFleet.Benchmarks;

/// <summary>Finds files of the repository from wherever BenchmarkDotNet runs the benchmark process.</summary>
internal static class RepoPaths
{
    private const string SolutionFile = "RobotFleet.sln";

    public static string Root { get; } = FindRoot();

    public static string OfficeMap => Path.Combine(Root, "maps", "office");

    private static string FindRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, SolutionFile)))
                {
                    return dir.FullName;
                }
            }
        }
        throw new InvalidOperationException($"No {SolutionFile} above {AppContext.BaseDirectory} or the current directory.");
    }
}
