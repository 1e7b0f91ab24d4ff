using System.Diagnostics;
using System.Globalization;

namespace RobotFleet.Benchmarks;

/// <summary>
/// The pipeline suite without BenchmarkDotNet, for a shared machine (<c>-- --pipeline-quick [iterations]</c>): the three
/// rows of <see cref="PipelineBenchmarks"/> interleaved, one call of each per iteration in a rotating order, so a change
/// of load hits all rows alike. Prints median and 95th percentile of wall time and of process CPU time (after a warm-up
/// tenth), the ratio of medians against the bare run, and the pipeline's own stages as <c>InferenceTiming</c> measured them.
/// </summary>
internal static class PipelineQuickRun
{
    public static void Run(int iterations)
    {
        var bench = new PipelineBenchmarks();
        bench.Setup();
        try
        {
            var rows = new (string Name, Action Call)[]
            {
                ("bare InferenceSession.Run (baseline)", () => bench.Bare()),
                ("ModelHost.RunTensor, preprocessed tensor", () => bench.PipelineFromTensor()),
                ("ModelHost.Run, 224x224 frame incl. preprocessing", () => bench.PipelineFromFrame()),
            };
            var wall = rows.Select(_ => new List<double>()).ToArray();
            var cpu = rows.Select(_ => new List<double>()).ToArray();
            for (var i = 0; i < iterations; i++)
            {
                for (var k = 0; k < rows.Length; k++)
                {
                    var r = (i + k) % rows.Length;
                    var cpu0 = Environment.CpuUsage.TotalTime;
                    var t0 = Stopwatch.GetTimestamp();
                    rows[r].Call();
                    wall[r].Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                    cpu[r].Add((Environment.CpuUsage.TotalTime - cpu0).TotalMilliseconds);
                }
            }
            var skip = iterations / 10;
            double Median(List<double> xs) => Percentile(xs.Skip(skip), 0.5);
            var wallBase = Median(wall[0]);
            var cpuBase = Median(cpu[0]);
            Console.WriteLine($"// pipeline quick run: {iterations} interleaved iterations, first {skip} dropped");
            Console.WriteLine("| row | wall median | wall p95 | wall ratio of medians | CPU median | CPU p95 | CPU ratio of medians |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
            for (var r = 0; r < rows.Length; r++)
            {
                var w = wall[r].Skip(skip).ToList();
                var c = cpu[r].Skip(skip).ToList();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {rows[r].Name} | {Percentile(w, 0.5):0.00} ms | {Percentile(w, 0.95):0.00} ms | {Percentile(w, 0.5) / wallBase:0.000} | {Percentile(c, 0.5):0.00} ms | {Percentile(c, 0.95):0.00} ms | {Percentile(c, 0.5) / cpuBase:0.000} |"));
            }
            var timings = Enumerable.Range(0, 50).Select(_ => bench.PipelineTiming()).ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"// ModelSession's own stage times from a preprocessed tensor (median of 50): copy in {Percentile(timings.Select(t => t.Preprocess.TotalMilliseconds), 0.5):0.000} ms, " +
                $"run {Percentile(timings.Select(t => t.Inference.TotalMilliseconds), 0.5):0.00} ms, decode {Percentile(timings.Select(t => t.Decode.TotalMilliseconds), 0.5):0.000} ms"));
        }
        finally
        {
            bench.Cleanup();
        }
    }

    private static double Percentile(IEnumerable<double> values, double q)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
    }
}
