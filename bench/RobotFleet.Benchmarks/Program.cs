using System.Globalization;
using BenchmarkDotNet.Running;

namespace RobotFleet.Benchmarks;

/// <summary>
/// Entry point: pick suites with BenchmarkDotNet's switcher, e.g. <c>-- --filter '*'</c> or <c>-- --filter '*Routing*'</c>;
/// or <c>-- --assignment-quick GoodsToPerson|AisleGrid [iterations]</c> for the assignment figures without BenchmarkDotNet;
/// or <c>-- --pipeline-quick [iterations]</c> for the perception pipeline's overhead, rows interleaved;
/// or <c>-- --routing-quick [iterations]</c> for route queries against QuikGraph, rows interleaved.
/// Iterations are a positive whole number; a wrong argument prints one line and exits with 2 before any setup.
/// </summary>
public static class Program
{
    public const int UsageError = 2;

    private static readonly string[] AssignmentSites = ["GoodsToPerson", "AisleGrid"];

    public static int Main(string[] args)
    {
        switch (args)
        {
            case ["--assignment-quick"]:
                return Usage("--assignment-quick: missing the site: GoodsToPerson or AisleGrid (then optionally iterations, a positive whole number)");
            case ["--assignment-quick", var site, .. var rest]:
            {
                if (!AssignmentSites.Contains(site, StringComparer.Ordinal))
                    return Usage($"--assignment-quick {site}: unknown site; expected {string.Join(" or ", AssignmentSites)}");
                if (!Iterations("--assignment-quick " + site, rest, 30, out var n))
                    return UsageError;
                AssignmentQuickRun.Run(site, n);
                return 0;
            }
            case ["--routing-quick", .. var runs]:
            {
                if (!Iterations("--routing-quick", runs, 15, out var n))
                    return UsageError;
                RouteQueryQuickRun.Run(n);
                return 0;
            }
            case ["--pipeline-quick", .. var more]:
            {
                if (!Iterations("--pipeline-quick", more, 200, out var n))
                    return UsageError;
                PipelineQuickRun.Run(n);
                return 0;
            }
            default:
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
                return 0;
        }
    }

    /// <summary>The optional iterations argument of a quick run: none (the default) or one positive whole number.</summary>
    private static bool Iterations(string flag, string[] rest, int fallback, out int iterations)
    {
        iterations = fallback;
        switch (rest)
        {
            case []:
                return true;
            case [var text] when int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0:
                iterations = n;
                return true;
            case [var text]:
                Usage($"{flag} {text}: iterations must be a positive whole number, e.g. {flag} {fallback}");
                return false;
            default:
                Usage($"{flag} {string.Join(' ', rest)}: expected at most one argument, the iterations (a positive whole number)");
                return false;
        }
    }

    private static int Usage(string line)
    {
        Console.Error.WriteLine("benchmarks: " + line);
        return UsageError;
    }
}
