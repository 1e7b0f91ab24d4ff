using System.Diagnostics;

namespace RobotFleet.TelemetryLoad;

/// <summary>
/// Collects latencies (milliseconds) into a preallocated array, so recording on a receive loop allocates nothing; counts
/// past its capacity still count but are not kept for percentiles. Thread-safe for concurrent <see cref="Add"/>.
/// </summary>
internal sealed class LatencyRecorder(int capacity)
{
    private readonly float[] _values = new float[capacity];
    private readonly long[] _at = new long[capacity];
    private long _count;
    private long _lastAt;

    /// <summary>Values recorded.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary><see cref="Stopwatch.GetTimestamp"/> of the last <see cref="Add"/>, 0 before the first.</summary>
    public long LastAt => Interlocked.Read(ref _lastAt);

    /// <summary>Records one latency, milliseconds.</summary>
    public void Add(double milliseconds)
    {
        var i = Interlocked.Increment(ref _count) - 1;
        var now = Stopwatch.GetTimestamp();
        if (i < _values.Length)
        {
            _values[i] = (float)milliseconds;
            _at[i] = now;
        }

        Interlocked.Exchange(ref _lastAt, now);
    }

    /// <summary>Percentiles of what was kept (nearest rank): p50, p99 and max, milliseconds; NaN when empty.</summary>
    public (double P50, double P99, double Max) Summary()
    {
        var n = (int)Math.Min(Count, _values.Length);
        if (n == 0)
            return (double.NaN, double.NaN, double.NaN);
        var sorted = _values.AsSpan(0, n).ToArray();
        Array.Sort(sorted);
        return (Rank(sorted, 0.50), Rank(sorted, 0.99), sorted[^1]);
    }

    /// <summary>
    /// Per second of arrival from <paramref name="start"/> (a <see cref="Stopwatch.GetTimestamp"/>): count, p99 and max,
    /// milliseconds (for <c>--profile</c>: where in the phase the tail is).
    /// </summary>
    public List<(int Second, int Count, double P99, double Max)> PerSecond(long start)
    {
        var n = (int)Math.Min(Count, _values.Length);
        return Enumerable.Range(0, n)
            .GroupBy(i => (int)Math.Floor(Stopwatch.GetElapsedTime(start, _at[i]).TotalSeconds))
            .OrderBy(g => g.Key)
            .Select(g =>
            {
                var sorted = g.Select(i => _values[i]).Order().ToArray();
                return (g.Key, sorted.Length, Rank(sorted, 0.99), (double)sorted[^1]);
            })
            .ToList();
    }

    private static double Rank(float[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
