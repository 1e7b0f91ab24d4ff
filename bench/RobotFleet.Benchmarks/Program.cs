using BenchmarkDotNet.Running;

namespace RobotFleet.Benchmarks;

/// <summary>
/// Entry point: pick suites with BenchmarkDotNet's switcher, e.g. <c>-- --filter '*'</c> or <c>-- --filter '*Routing*'</c>;
/// or <c>-- --assignment-quick GoodsToPerson [iterations]</c> for the assignment figures without BenchmarkDotNet;
/// or <c>-- --pipeline-quick [iterations]</c> for the perception pipeline's overhead, rows interleaved;
/// or <c>-- --routing-quick [iterations]</c> for route queries against QuikGraph, rows interleaved.
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
        if (args is ["--routing-quick", .. var runs])
        {
            RouteQueryQuickRun.Run(runs is [var n] ? int.Parse(n, System.Globalization.CultureInfo.InvariantCulture) : 15);
            return;
        }
        if (args is ["--pipeline-quick", .. var more])
        {
            PipelineQuickRun.Run(more is [var n] ? int.Parse(n, System.Globalization.CultureInfo.InvariantCulture) : 200);
            return;
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
