using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using RobotFleet.Server.Hosting;
using RobotFleet.TestSupport;

namespace RobotFleet.Server.Tests;

/// <summary>
/// A start-up failure the server reports in one line (a port in use) is that line alone: the host's own "Hosting failed to
/// start" entry, with the exception's stack trace, came before it (found by a new user). Other errors are still logged.
/// </summary>
public sealed class When_the_server_cannot_start
{
    [Theory]
    [InlineData("--http-port", "robotfleet: HTTP port {0} is in use")]
    [InlineData("--mqtt-port", "robotfleet: cannot start the embedded MQTT broker on 127.0.0.1:{0}")]
    public async Task A_port_in_use_is_one_line_without_the_hosts_stack_trace(string option, string expected)
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        using var scratch = new ScratchDirectory("port-taken");
        var dataDir = scratch.Path;
        var args = new List<string> { "--data-dir", dataDir, "--map", Path.Combine(When_the_control_plane_restarts.FindRepoRoot(), "maps", "office"), "--robots", "0" };
        args.AddRange(option == "--http-port"
            ? ["--http-port", port.ToString(CultureInfo.InvariantCulture), "--mqtt-port", "0"]
            : ["--mqtt-port", port.ToString(CultureInfo.InvariantCulture), "--http-port", EmbeddedBroker.FreePort().ToString(CultureInfo.InvariantCulture)]);
        using var server = ChildProcess.Start($"port-taken{option}", "RobotFleet.Server.dll", args);
        Assert.True(await server.WaitForExitAsync(TimeSpan.FromSeconds(60)), "exited within 60 s; output:\n" + server.Output);
        Assert.True(server.ExitCode == 1, $"exit code {server.ExitCode}; output:\n" + server.Output);
        Assert.Contains(string.Format(CultureInfo.InvariantCulture, expected, port), server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Hosting failed to start", server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", server.Output, StringComparison.Ordinal);
    }

    /// <summary>More simulated robots than the map has waypoints: one line naming the option, not an unhandled exception with its stack trace (found by a new user).</summary>
    [Fact]
    public async Task More_robots_than_waypoints_is_one_line_naming_the_option()
    {
        using var scratch = new ScratchDirectory("too-many");
        var dataDir = scratch.Path;
        using var server = ChildProcess.Start("too-many-robots", "RobotFleet.Server.dll",
        [
            "--robots", "30", "--data-dir", dataDir, "--map", Path.Combine(When_the_control_plane_restarts.FindRepoRoot(), "maps", "office"),
            "--http-port", EmbeddedBroker.FreePort().ToString(CultureInfo.InvariantCulture), "--mqtt-port", "0",
        ]);
        Assert.True(await server.WaitForExitAsync(TimeSpan.FromSeconds(60)), "exited within 60 s; output:\n" + server.Output);
        Assert.True(server.ExitCode == 1, $"exit code {server.ExitCode}; output:\n" + server.Output);
        var lines = server.Output.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("$ ", StringComparison.Ordinal));
        Assert.Equal(["robotfleet: --robots 30: the map 'office' has 29 waypoints, one robot each at most"], lines);
    }

    [Theory]
    [InlineData(29, false)] // one on each waypoint
    [InlineData(30, true)] // no simulated robots: the count is not used
    public async Task As_many_robots_as_waypoints_or_no_simulation_is_accepted(int robots, bool noSim)
    {
        var app = RobotFleetServer.Build(new ServerOptions { Robots = robots, NoSimulation = noSim, HttpPort = 0, MqttPort = 0 });
        await app.DisposeAsync();
    }

    [Fact]
    public void The_filter_drops_only_the_hosts_start_up_failure_the_server_reports_itself()
    {
        var inner = new Recorder();
        using var filter = new StartupFaultLogFilter(inner, e => e is IOException);
        var host = filter.CreateLogger(StartupFaultLogFilter.HostCategory);
        var faulted = new EventId(11, StartupFaultLogFilter.StartupFaulted);

        host.Log(LogLevel.Error, faulted, "Hosting failed to start", new IOException("port in use"), (s, _) => s); // reported by the server: dropped
        host.Log(LogLevel.Error, faulted, "Hosting failed to start", new InvalidDataException("something else"), (s, _) => s);
        host.Log(LogLevel.Error, new EventId(9, "BackgroundServiceFaulted"), "BackgroundService failed", new IOException("later"), (s, _) => s);
        filter.CreateLogger("RobotFleet.Server").Log(LogLevel.Error, faulted, "same name, other category", new IOException("x"), (s, _) => s);

        Assert.Equal(["Hosting failed to start", "BackgroundService failed", "same name, other category"], inner.Messages);
    }

    [Fact]
    public void The_filter_takes_the_console_loggers_place()
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddSimpleConsole());

        StartupFaultLogFilter.WrapConsole(services, _ => true);

        using var provider = services.BuildServiceProvider();
        var loggers = provider.GetServices<ILoggerProvider>().ToList();
        Assert.DoesNotContain(loggers, l => l is ConsoleLoggerProvider);
        Assert.Single(loggers.OfType<StartupFaultLogFilter>());
    }

    private sealed class Recorder : ILoggerProvider, ILogger
    {
        public List<string> Messages { get; } = [];

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Messages.Add(formatter(state, exception));

        public void Dispose()
        {
        }
    }
}
