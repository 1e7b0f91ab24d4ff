using System.Collections.Concurrent;
using RobotFleet.Perception;
using Xunit.Abstractions;

namespace RobotFleet.Perception.Tests;

/// <summary>Memory figures need a quiet process: these tests do not run alongside the other test classes.</summary>
[CollectionDefinition(nameof(NotInParallel), DisableParallelization = true)]
public class NotInParallel;

[Collection(nameof(NotInParallel))]
public class ModelHostTests(ITestOutputHelper output)
{
    private static readonly ImageFrame Red = TestModels.Solid(16, 16, 255, 0, 0);

    private static ModelSession Version(string version, byte[]? model = null, ModelSessionOptions? options = null) =>
        ModelSession.Load(model ?? TestModels.Classifier(), TestModels.ClassifierManifest(version: version), options);

    [Fact]
    public void Runs_in_progress_finish_on_the_old_session_which_is_released_after_the_last_one()
    {
        using var host = new ModelHost(Version("1"));
        var v1 = host.Current!;
        Assert.True(v1.TryAcquireRun()); // a run in progress on version 1

        var retired = host.Swap(Version("2"));

        Assert.Equal("2", host.Run(Red).ModelVersion); // new runs go to the new version at once
        Assert.True(v1.IsRetired);
        Assert.False(retired.IsCompleted); // version 1 still has its run
        Assert.Equal(2, host.LiveSessions);

        v1.ReleaseRun(); // the last run on version 1 ends

        Assert.True(retired.IsCompletedSuccessfully);
        Assert.True(v1.Released.IsCompletedSuccessfully);
        Assert.Equal(1, host.LiveSessions);
        Assert.Equal("2", host.Run(Red).ModelVersion);
    }

    [Fact]
    public void Swap_without_runs_in_progress_releases_the_old_session_at_once()
    {
        using var host = new ModelHost(Version("1"));
        var v1 = host.Current!;
        host.Run(Red);

        var retired = host.Swap(Version("2"));

        Assert.True(retired.IsCompletedSuccessfully);
        Assert.True(v1.Released.IsCompleted);
        Assert.Equal((1, 2L), (host.LiveSessions, host.Swaps));
    }

    [Fact]
    public async Task Two_hundred_swaps_under_concurrent_runs_keep_sessions_and_memory_bounded()
    {
        const int swaps = 200;
        const int runners = 4;
        // Each version holds 1 Mi floats (4 MiB) of weights; constant folding is off so ONNX Runtime keeps them.
        // Leaking the replaced sessions would grow the process by ~200 x 4 MiB (plus ONNX Runtime's copies).
        var model = TestModels.Classifier(extraWeights: 1 << 20);
        var options = new ModelSessionOptions { OptimizationLevel = Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var host = new ModelHost(Version("0", model, options));

        var seen = new ConcurrentDictionary<string, int>();
        var errors = new ConcurrentQueue<Exception>();
        var runs = 0L;
        using var stop = new CancellationTokenSource();
        var threads = Enumerable.Range(0, runners).Select(_ => Task.Factory.StartNew(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var r = host.Run(Red);
                    if (r.Classes[0].Label != "red")
                    {
                        throw new InvalidOperationException($"version {r.ModelVersion} said {r.Classes[0].Label}");
                    }
                    seen.AddOrUpdate(r.ModelVersion, 1, (_, n) => n + 1);
                    Interlocked.Increment(ref runs);
                }
                catch (Exception e)
                {
                    errors.Enqueue(e);
                }
            }
        }, TaskCreationOptions.LongRunning)).ToArray();

        var sessions = new List<ModelSession> { host.Current! };
        var retired = new List<Task>();
        long rssWarm = 0;
        for (var i = 1; i <= swaps; i++)
        {
            var next = Version(i.ToString(System.Globalization.CultureInfo.InvariantCulture), model, options);
            sessions.Add(next);
            retired.Add(host.Swap(next));
            Assert.True(host.LiveSessions <= 1 + runners, $"{host.LiveSessions} live sessions after swap {i}");
            if (i == 20)
            {
                rssWarm = Rss();
            }
        }
        stop.Cancel();
        await Task.WhenAll(threads);

        Assert.Empty(errors);
        await Task.WhenAll(retired).WaitAsync(TimeSpan.FromSeconds(30)); // every replaced session released
        Assert.All(sessions[..^1], s => Assert.True(s.Released.IsCompletedSuccessfully));
        Assert.False(sessions[^1].Released.IsCompleted);
        Assert.Equal(1, host.LiveSessions);
        // During a swap the new session is in before the old one is retired: one more than between swaps.
        Assert.InRange(host.PeakLiveSessions, 1, 2 + runners);
        Assert.Equal(swaps + 1, host.Swaps);
        Assert.All(seen.Keys, v => Assert.InRange(int.Parse(v, System.Globalization.CultureInfo.InvariantCulture), 0, swaps));

        GC.Collect();
        GC.WaitForPendingFinalizers();
        var rssEnd = Rss();
        var growthMiB = (rssEnd - rssWarm) / (1024.0 * 1024);
        output.WriteLine(
            $"{swaps} swaps, {runners} runners, {Interlocked.Read(ref runs)} runs on {seen.Count} versions; peak live sessions {host.PeakLiveSessions}; " +
            $"RSS after 20 swaps {rssWarm / (1024 * 1024)} MiB, at the end {rssEnd / (1024 * 1024)} MiB (growth {growthMiB:F0} MiB)");
        Assert.True(Interlocked.Read(ref runs) > 0);
        // Issue 4's acceptance: resident memory growth <= 50 MB (47.7 MiB) over the swaps.
        Assert.True(growthMiB <= 50e6 / (1024 * 1024), $"RSS grew {growthMiB:F0} MiB over {swaps - 20} swaps of 4 MiB models");
    }

    private static long Rss()
    {
        using var p = System.Diagnostics.Process.GetCurrentProcess();
        p.Refresh();
        return p.WorkingSet64;
    }

    [Fact]
    public void Load_keeps_one_session_per_version()
    {
        using var host = new ModelHost();
        var first = host.Load(TestModels.Classifier(), TestModels.ClassifierManifest(version: "3.0.0"));

        var again = host.Load(TestModels.Classifier(), TestModels.ClassifierManifest(version: "3.0.0"));
        Assert.Same(first, again);
        Assert.Equal(1, host.Swaps);

        var next = host.Load(TestModels.Classifier(), TestModels.ClassifierManifest(version: "3.0.1"));
        Assert.NotSame(first, next);
        Assert.True(first.Released.IsCompleted);
        Assert.Equal("3.0.1", host.Run(Red).ModelVersion);
    }

    [Fact]
    public void A_rejected_model_leaves_the_current_one_serving()
    {
        using var host = new ModelHost(Version("1"));

        var e = Assert.Throws<ModelRejectedException>(() => host.Load(TestModels.Classifier()[..^2], TestModels.ClassifierManifest(version: "2")));

        Assert.Equal(ModelProblem.Truncated, e.Problem);
        Assert.Equal("1", host.Run(Red).ModelVersion);
        Assert.Equal(1, host.LiveSessions);
    }

    [Fact]
    public void No_model_disposed_host_and_disposed_sessions()
    {
        var host = new ModelHost();
        Assert.Throws<InvalidOperationException>(() => host.Run(Red));

        var v1 = Version("1");
        host.Swap(v1);
        Assert.Same(v1, host.Current);
        Assert.True(host.Swap(v1).IsCompleted); // the same session again: nothing to do

        var stale = Version("0");
        stale.Dispose();
        Assert.Throws<ObjectDisposedException>(() => { _ = host.Swap(stale); });

        host.Dispose();
        Assert.Null(host.Current);
        Assert.True(v1.Released.IsCompleted);
        Assert.Throws<ObjectDisposedException>(() => host.Run(Red));
        using var late = Version("2");
        Assert.Throws<ObjectDisposedException>(() => { _ = host.Swap(late); });
        host.Dispose();
    }
}
