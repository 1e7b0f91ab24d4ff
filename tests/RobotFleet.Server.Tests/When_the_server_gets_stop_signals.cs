using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using RobotFleet.Server.Hosting;
using RobotFleet.TestSupport;

namespace RobotFleet.Server.Tests;

/// <summary>
/// The server process stopped by SIGTERM or Ctrl+C, once or twice in a row (an operator pressing Ctrl+C again, a service manager
/// repeating its stop): it shuts down cleanly, as the web host does, and exits 0.
/// </summary>
public sealed class When_the_server_gets_stop_signals
{
    [Theory]
    [InlineData(1, 15)] // SIGTERM
    [InlineData(2, 15)] // the second crashed the process (exit 134) inside System.CommandLine's handler when stopping took over 2 s,
                        // then ended it (143) when it came after the host had let go of its handlers (CI, loaded)
    [InlineData(1, 2)] // SIGINT (Ctrl+C)
    public async Task Should_shut_down_cleanly_and_exit_0(int signals, int signal)
    {
        var root = When_the_control_plane_restarts.FindRepoRoot();
        var dataDir = Path.Combine(Path.GetTempPath(), $"robotfleet-signals-{Guid.NewGuid():N}");
        var httpPort = EmbeddedBroker.FreePort();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(5) };
        using var server = ChildProcess.Start($"signals-{signals}x{signal}", "RobotFleet.Server.dll",
        [
            "--demo", "--data-dir", dataDir, "--map", Path.Combine(root, "maps", "office"),
            "--http-port", httpPort.ToString(CultureInfo.InvariantCulture), "--mqtt-port", EmbeddedBroker.FreePort().ToString(CultureInfo.InvariantCulture),
        ]);
        try
        {
            Assert.True(await ServerHost.WaitUntilAsync(async () =>
            {
                try
                {
                    return (await http.GetAsync("/healthz")).IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
                catch (TaskCanceledException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(60)), "server up; output:\n" + server.Output);
            // Stopped while robots run missions.
            Assert.True(await ServerHost.WaitUntilAsync(async () =>
                (await http.GetFromJsonAsync<JsonElement>("/api/missions")).EnumerateArray().Any(m => m.GetProperty("status").GetString() == "Executing"),
                TimeSpan.FromSeconds(60)), "a mission executing; output:\n" + server.Output);

            // The second 300 ms after the first (signals sent back to back merge into one), if the server still runs: it
            // stops in well under a second here, so this rarely meets the crash (a stop past 2 s, see the next test).
            Assert.True(server.Terminate(signal), "signal sent; output:\n" + server.Output);
            if (signals > 1)
            {
                await Task.Delay(300);
                server.Terminate(signal);
            }

            Assert.True(await server.WaitForExitAsync(TimeSpan.FromSeconds(30)), "exited within 30 s; output:\n" + server.Output);
            // With the output: exit 134 came once in CI (2026-12-03, two SIGTERMs, loaded) and could not be reproduced.
            Assert.True(server.ExitCode == 0, $"exit code {server.ExitCode}; output:\n" + server.Output);
            Assert.DoesNotContain("Unhandled exception", server.Output, StringComparison.Ordinal);
            Assert.Contains("Application is shutting down", server.Output, StringComparison.Ordinal);
        }
        finally
        {
            try
            {
                Directory.Delete(dataDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    [Theory]
    [InlineData("Message bus:")] // before the broker and the schedules database start
    [InlineData("Embedded MQTT broker listening")] // while the gateway, the schedules database and the web server start
    public async Task Should_stop_cleanly_when_stopped_while_starting(string after)
    {
        // A SIGTERM as the server started ended it with exit 1 and an unhandled exception's stack trace (what was starting,
        // e.g. the schedules database's set-up, cancelled), or with exit 1 and no word at all.
        var root = When_the_control_plane_restarts.FindRepoRoot();
        var dataDir = Path.Combine(Path.GetTempPath(), $"robotfleet-signals-start-{Guid.NewGuid():N}");
        using var server = ChildProcess.Start($"signals-while-starting-{after.Split(' ', ':')[0]}", "RobotFleet.Server.dll",
        [
            "--data-dir", dataDir, "--map", Path.Combine(root, "maps", "office"),
            "--http-port", EmbeddedBroker.FreePort().ToString(CultureInfo.InvariantCulture), "--mqtt-port", EmbeddedBroker.FreePort().ToString(CultureInfo.InvariantCulture),
        ]);
        try
        {
            Assert.True(await ServerHost.WaitUntilAsync(() => Task.FromResult(server.Output.Contains(after, StringComparison.Ordinal) || server.HasExited),
                TimeSpan.FromSeconds(60)), $"'{after}' logged; output:\n" + server.Output);
            Assert.True(server.Terminate(), "signal sent; output:\n" + server.Output);
            Assert.True(await server.WaitForExitAsync(TimeSpan.FromSeconds(30)), "exited within 30 s; output:\n" + server.Output);
            Assert.True(server.ExitCode == 0, $"exit code {server.ExitCode}; output:\n" + server.Output);
            Assert.DoesNotContain("Unhandled exception", server.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("Hosting failed to start", server.Output, StringComparison.Ordinal); // the host's stack trace, before our line
            // Either the stop came before the host was up (said in one line) or the host had just started and shut down.
            Assert.True(server.Output.Contains("robotfleet: stopped while starting", StringComparison.Ordinal)
                        || server.Output.Contains("Application is shutting down", StringComparison.Ordinal), "output:\n" + server.Output);
        }
        finally
        {
            try
            {
                Directory.Delete(dataDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    [Fact]
    public async Task Should_exit_0_when_the_stop_comes_before_the_host_starts()
    {
        // The same in this process, deterministic: the stop is there before the host starts (the test above may meet the
        // host just started instead). Was exit 1 (System.CommandLine reporting the cancelled start).
        var dataDir = Path.Combine(Path.GetTempPath(), $"robotfleet-signals-early-{Guid.NewGuid():N}");
        try
        {
            var code = await ServerCommand.RunAsync(
            [
                "--no-sim", "--data-dir", dataDir, "--map", Path.Combine(When_the_control_plane_restarts.FindRepoRoot(), "maps", "office"),
                "--http-port", EmbeddedBroker.FreePort().ToString(CultureInfo.InvariantCulture), "--mqtt-port", EmbeddedBroker.FreePort().ToString(CultureInfo.InvariantCulture),
            ], ServerCommand.Invocation, new CancellationToken(canceled: true));

            Assert.Equal(0, code);
        }
        finally
        {
            try
            {
                Directory.Delete(dataDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    [Fact]
    public void Should_leave_the_signals_to_the_program()
    {
        // System.CommandLine's handling ended the process (143) when stopping took over 2 s, and a second signal then crashed
        // it (134; seen with --demo missions running: two SIGTERMs 0.3 s apart).
        Assert.Null(ServerCommand.Invocation.ProcessTerminationTimeout);
    }
}
