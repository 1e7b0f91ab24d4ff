using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace RobotFleet.Server.Tests;

/// <summary>
/// A background service that fails stops the host (BackgroundServiceExceptionBehavior.StopHost); the server then exits with a
/// failure's code and one line naming the service, not 0 as after a stop (found by a new user: a service manager restarting on
/// failure would not have restarted it).
/// </summary>
public sealed class When_a_background_service_fails
{
    [Fact]
    public async Task The_server_exits_1_with_one_line_naming_the_service()
    {
        var (code, error) = await RunAsync(failing: true);

        Assert.Equal(1, code);
        Assert.Equal(["robotfleet: stopped because a background service failed: Failing (InvalidOperationException: the fleet's database went away)"],
            error.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task A_stop_still_exits_0_without_a_line()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        var (code, error) = await RunAsync(failing: false, stop.Token);

        Assert.Equal(0, code);
        Assert.Empty(error);
    }

    private static async Task<(int Code, string Error)> RunAsync(bool failing, CancellationToken cancellationToken = default)
    {
        var options = new ServerOptions { NoSimulation = true, Robots = 0, HttpPort = 0, MqttPort = 0 };
        var app = RobotFleetServer.Build(options, builder =>
        {
            builder.Logging.ClearProviders(); // the host logs the failure with its stack trace: not wanted in the test's output
            if (failing)
                builder.Services.AddHostedService<Failing>();
        });
        using var error = new StringWriter();
        var run = ServerCommand.RunServerAsync(app, options, error, cancellationToken);
        Assert.Same(run, await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60), CancellationToken.None)));
        return (await run, error.ToString());
    }

    private sealed class Failing : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            await Task.Delay(500, stoppingToken);
            throw new InvalidOperationException("the fleet's database went away");
        }
    }
}
