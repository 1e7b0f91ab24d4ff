using System.Globalization;
using RobotFleet.Server.Hosting;
using RobotFleet.TestSupport;

namespace RobotFleet.Server.Tests;

/// <summary>
/// A second server started on the data directory of a running one is refused in one line, exit 1, and the first runs on
/// (found by a new user: the second restored the first one's missions and took them over, the first then crashed).
/// </summary>
public sealed class When_two_servers_share_a_data_directory
{
    [Fact]
    public async Task The_second_is_refused_in_one_line_naming_the_first_and_the_first_runs_on()
    {
        var root = When_the_control_plane_restarts.FindRepoRoot();
        using var scratch = new ScratchDirectory("two-servers");
        var dataDir = scratch.Path;
        var httpPort = EmbeddedBroker.FreePort();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(5) };
        using var first = ChildProcess.Start("two-servers-first", "RobotFleet.Server.dll", Args(root, dataDir, httpPort));
        Assert.True(await ServerHost.WaitUntilAsync(async () =>
        {
            try
            {
                return (await http.GetAsync("/healthz")).IsSuccessStatusCode;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return first.HasExited;
            }
        }, TimeSpan.FromSeconds(60)) && !first.HasExited, "first server up; output:\n" + first.Output);

        using var second = ChildProcess.Start("two-servers-second", "RobotFleet.Server.dll", Args(root, dataDir, EmbeddedBroker.FreePort()));
        Assert.True(await second.WaitForExitAsync(TimeSpan.FromSeconds(60)), "second server exited; output:\n" + second.Output);
        Assert.True(second.ExitCode == 1, $"exit code {second.ExitCode}; output:\n" + second.Output);
        var lines = second.Output.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("$ ", StringComparison.Ordinal)).ToList();
        var expected = string.Create(CultureInfo.InvariantCulture,
            $"robotfleet: data directory '{Path.GetFullPath(dataDir)}' is in use by another server (pid {first.ProcessId}); stop it or give --data-dir");
        Assert.Equal([expected], lines);

        // The first runs on, its lock held; once it has stopped, the directory is free again.
        Assert.False(first.HasExited, "first server still runs; output:\n" + first.Output);
        Assert.True((await http.GetAsync("/healthz")).IsSuccessStatusCode);
        Assert.Throws<DataDirectoryInUseException>(() => DataDirectoryLock.Acquire(dataDir));
        Assert.True(first.Terminate(), "SIGTERM sent");
        Assert.True(await first.WaitForExitAsync(TimeSpan.FromSeconds(30)), "first server exited; output:\n" + first.Output);
        Assert.True(first.ExitCode == 0, $"exit code {first.ExitCode}; output:\n" + first.Output);
        using var free = DataDirectoryLock.Acquire(dataDir);
    }

    [Fact]
    public void A_lock_held_in_this_process_is_refused_too_and_free_once_let_go()
    {
        using var scratch = new ScratchDirectory("lock");
        var dataDir = scratch.Path;
        using (var held = DataDirectoryLock.Acquire(dataDir))
        {
            Assert.Equal(Path.GetFullPath(dataDir), held.Directory);
            var refused = Assert.Throws<DataDirectoryInUseException>(() => DataDirectoryLock.Acquire(dataDir));
            Assert.Equal(Environment.ProcessId, refused.Pid);
        }

        // Let go, the pid file goes first: a server refused before the next one writes its own names no stale pid.
        Assert.False(File.Exists(Path.Combine(dataDir, "robotfleet.pid")));
        using var again = DataDirectoryLock.Acquire(dataDir);
    }

    private static string[] Args(string root, string dataDir, int httpPort) =>
    [
        "--data-dir", dataDir, "--map", Path.Combine(root, "maps", "office"), "--robots", "1",
        "--http-port", httpPort.ToString(CultureInfo.InvariantCulture), "--mqtt-port", EmbeddedBroker.FreePort().ToString(CultureInfo.InvariantCulture),
    ];
}
