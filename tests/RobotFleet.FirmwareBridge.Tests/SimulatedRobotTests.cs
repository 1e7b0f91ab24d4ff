using System.Diagnostics;
using RobotFleet.FirmwareBridge;
using RobotFleet.FirmwareBridge.Simulator;

namespace RobotFleet.FirmwareBridge.Tests;

public sealed class SimulatedRobotTests
{
    private const double TimeScale = 20;

    private static SimulatedRobot Create(double battery = 100, double maxSpeed = 1.0) => new(new SimulatedRobotOptions
    {
        TimeScale = TimeScale,
        TickInterval = TimeSpan.FromMilliseconds(10),
        InitialBattery = battery,
        MaxSpeed = maxSpeed,
        InitialPose = new Pose(0, 0, 0, "L1"),
    });

    private static NavigationGoal Goal(double x, double y, double maxSpeed = 2.0) => new("wp", x, y, null, "L1", maxSpeed);

    private static double SimulatedSeconds(Stopwatch sw) => sw.Elapsed.TotalSeconds * TimeScale;

    [Fact]
    public async Task Reaches_goal_in_expected_simulated_time()
    {
        await using var robot = Create();
        var sw = Stopwatch.StartNew();
        await robot.NavigateAsync(Goal(6, 8), CancellationToken.None); // 10 m at 1 m/s = 10 s simulated

        Assert.InRange(SimulatedSeconds(sw), 9.5, 15);
        var t = robot.Telemetry;
        Assert.Equal(6, t.Pose.X, 6);
        Assert.Equal(8, t.Pose.Y, 6);
        Assert.Equal(Math.Atan2(8, 6), t.Pose.Theta, 6);
        Assert.False(t.Driving);
    }

    [Fact]
    public async Task Respects_lane_speed_limit()
    {
        await using var robot = Create();
        var maxSeen = 0.0;
        robot.TelemetryUpdated += t => maxSeen = Math.Max(maxSeen, t.LinearVelocity);
        var sw = Stopwatch.StartNew();
        await robot.NavigateAsync(Goal(0, 5, maxSpeed: 0.5), CancellationToken.None); // 5 m at 0.5 m/s = 10 s

        Assert.InRange(SimulatedSeconds(sw), 9.5, 15);
        Assert.Equal(0.5, maxSeen, 6);
        Assert.Equal(Math.PI / 2, robot.Telemetry.Pose.Theta, 6);
    }

    [Fact]
    public async Task Battery_drains_proportionally_to_distance()
    {
        await using var robot = Create();
        await robot.NavigateAsync(Goal(10, 0, maxSpeed: 10), CancellationToken.None);
        Assert.Equal(100 - (10 * 0.05), robot.Telemetry.BatteryCharge, 6);
        await robot.NavigateAsync(Goal(-10, 0, maxSpeed: 10), CancellationToken.None);
        Assert.Equal(100 - (30 * 0.05), robot.Telemetry.BatteryCharge, 6);
    }

    [Fact]
    public async Task Low_battery_raises_warning_and_empty_battery_refuses_to_navigate()
    {
        await using (var low = Create(battery: 5))
        {
            Assert.Contains(low.Telemetry.Faults, f => f.Code == "batteryLow" && f.Severity == FaultSeverity.Warning);
        }

        await using var empty = Create(battery: 0);
        await Assert.ThrowsAsync<FirmwareException>(() => empty.NavigateAsync(Goal(1, 0), CancellationToken.None));
    }

    [Fact]
    public async Task Stop_halts_at_once_and_cancels_navigation()
    {
        await using var robot = Create();
        var nav = robot.NavigateAsync(Goal(100, 0), CancellationToken.None);
        await Task.Delay(100);
        await robot.StopAsync(CancellationToken.None);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => nav);
        var x = robot.Telemetry.Pose.X;
        Assert.InRange(x, 0.1, 50);
        Assert.False(robot.Telemetry.Driving);
        await Task.Delay(50);
        Assert.Equal(x, robot.Telemetry.Pose.X);
    }

    [Fact]
    public async Task Cancellation_token_cancels_navigation()
    {
        await using var robot = Create();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => robot.NavigateAsync(Goal(100, 0), cts.Token));
        Assert.False(robot.Telemetry.Driving);
    }

    [Fact]
    public async Task Action_takes_its_duration_divided_by_time_scale()
    {
        await using var robot = Create();
        var sw = Stopwatch.StartNew();
        await robot.PerformActionAsync("pick", new Dictionary<string, string>(), CancellationToken.None); // 2 s simulated

        Assert.InRange(SimulatedSeconds(sw), 1.9, 6);
    }

    [Fact]
    public async Task Charging_actions_switch_charging()
    {
        await using var robot = Create(battery: 50);
        await robot.PerformActionAsync("startCharging", new Dictionary<string, string>(), CancellationToken.None);
        Assert.True(robot.Telemetry.Charging);
        await Task.Delay(100);
        Assert.True(robot.Telemetry.BatteryCharge > 50);
        await robot.PerformActionAsync("stopCharging", new Dictionary<string, string>(), CancellationToken.None);
        Assert.False(robot.Telemetry.Charging);
    }

    [Fact]
    public async Task Unknown_action_is_not_supported()
    {
        await using var robot = Create();
        Assert.DoesNotContain("teleport", robot.SupportedActions);
        await Assert.ThrowsAsync<NotSupportedException>(() => robot.PerformActionAsync("teleport", new Dictionary<string, string>(), CancellationToken.None));
    }

    [Fact]
    public async Task Telemetry_is_raised_every_tick()
    {
        await using var robot = Create();
        var count = 0;
        robot.TelemetryUpdated += _ => Interlocked.Increment(ref count);
        await Task.Delay(200);
        Assert.InRange(Volatile.Read(ref count), 2, 40);
    }
}
