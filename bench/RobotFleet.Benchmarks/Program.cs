using BenchmarkDotNet.Running;

namespace RobotFleet.Benchmarks;

/// <summary>Entry point: pick suites with BenchmarkDotNet's switcher, e.g. <c>-- --filter '*'</c> or <c>-- --filter '*Routing*'</c>.</summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
