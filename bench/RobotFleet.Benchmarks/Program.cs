using BenchmarkDotNet.Running;

namespace RobotFleet.Benchmarks;

/// <summary>
/// Entry point: pick suites with BenchmarkDotNet's switcher, e.g. <c>-- --filter '*'</c> or <c>-- --filter '*Routing*'</c>;
/// or <c>-- --assignment-quick GoodsToPerson [iterations]</c> for the assignment figures without BenchmarkDotNet.
/// </summary>
public static class Program
{
    public static void Main(string[] args)
    {
        if (args is ["--assignment-quick", var site, .. var rest])
        {
            AssignmentQuickRun.Run(site, rest is [var n] ? int.Parse(n, System.Globalization.CultureInfo.InvariantCulture) : 30);
            return;
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
