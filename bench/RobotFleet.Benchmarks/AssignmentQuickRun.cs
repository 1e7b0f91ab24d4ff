using System.Diagnostics;

namespace RobotFleet.Benchmarks;

/// <summary>
/// A quick look at the assignment suite without BenchmarkDotNet: the setup's cost figures over five seeds, then the four
/// operations timed in turn (<c>-- --assignment-quick GoodsToPerson [iterations]</c>). Prints the minimum and median wall
/// time and process CPU time after a warm-up third; on a shared machine the CPU time shows what was ours.
/// </summary>
internal static class AssignmentQuickRun
{
    public static void Run(string site, int iterations)
    {
        var bench = new AssignmentBenchmarks { Site = site };
        bench.Setup();
        var results = new Dictionary<string, List<(double Wall, double Cpu)>>();
        void Time(string name, Action action)
        {
            var cpu = Environment.CpuUsage.TotalTime;
            var clock = Stopwatch.StartNew();
            action();
            var wall = clock.Elapsed.TotalMilliseconds;
            (results.TryGetValue(name, out var list) ? list : results[name] = []).Add((wall, (Environment.CpuUsage.TotalTime - cpu).TotalMilliseconds));
        }
        for (var i = 0; i < iterations; i++)
        {
            Time("Greedy (baseline)", () => bench.Greedy());
            Time("AssignmentPlanner.Plan", () => bench.Plan());
            Time("  BuildCostMatrix", () => bench.CostMatrix());
            Time("  Solve", () => bench.Solve());
        }
        foreach (var (name, list) in results)
        {
            var wall = list.Skip(iterations / 3).Select(x => x.Wall).Order().ToArray();
            var cpu = list.Skip(iterations / 3).Select(x => x.Cpu).Order().ToArray();
            Console.WriteLine($"// [{site}] {name}: wall min {wall[0]:0.0} ms, median {wall[wall.Length / 2]:0.0} ms; process CPU min {cpu[0]:0.0} ms, median {cpu[cpu.Length / 2]:0.0} ms");
        }
    }
}
