using RobotFleet.FirmwareBridge;
using RobotFleet.FirmwareBridge.Simulator;

namespace RobotFleet.FirmwareBridge.Tests;

public sealed class SimulatedCameraTests
{
    [Fact]
    public async Task An_obstacle_ahead_is_drawn_where_the_pinhole_model_puts_it_and_floor_point_inverts_it()
    {
        await using var robot = new SimulatedRobot(new SimulatedRobotOptions { InitialPose = new Pose(1, 1, Math.PI / 2, "L1") });
        var empty = (await robot.CaptureAsync(CancellationToken.None))!;
        Assert.All(empty.Pixels, p => Assert.Equal(128, p));

        // Heading north from (1, 1): an obstacle at (0.5, 3) is 2 m ahead and 0.5 m to the left.
        robot.PlaceObstacle("crate", 0.5, 3, "L1");
        var frame = (await robot.CaptureAsync(CancellationToken.None))!;
        var camera = frame.Camera;
        Assert.Equal((160, 120), (camera.Width, camera.Height));
        Assert.Equal(3 * 160 * 120, frame.Pixels.Length);
        var bright = Enumerable.Range(0, camera.Width * camera.Height).Where(i => frame.Pixels[i * 3] == 240).Select(i => (X: i % camera.Width, Y: i / camera.Width)).ToList();

        // f = 80 px (90 degrees over 160 px): centre column 80 - 0.5 x 80 / 2 = 60, half width 10; bottom row 60 + 0.5 x 80 / 2 = 80, top 60.
        Assert.Equal((50, 69), (bright.Min(p => p.X), bright.Max(p => p.X)));
        Assert.Equal((60, 79), (bright.Min(p => p.Y), bright.Max(p => p.Y)));
        var floor = camera.FloorPoint(60, 80, frame.Pose)!.Value;
        Assert.Equal(0.5, floor.X, 6);
        Assert.Equal(3, floor.Y, 6);
        Assert.Null(camera.FloorPoint(60, 60, frame.Pose)); // the horizon row does not see the floor
    }

    [Fact]
    public async Task Obstacles_behind_too_far_or_on_another_level_are_not_drawn()
    {
        await using var robot = new SimulatedRobot(new SimulatedRobotOptions { InitialPose = new Pose(0, 0, 0, "L1") });
        robot.PlaceObstacle("behind", -2, 0, "L1");
        robot.PlaceObstacle("far", 6, 0, "L1");
        robot.PlaceObstacle("upstairs", 2, 0, "L2");
        var frame = (await robot.CaptureAsync(CancellationToken.None))!;
        Assert.All(frame.Pixels, p => Assert.Equal(128, p));

        robot.PlaceObstacle("near", 2, 0, "L1");
        Assert.Contains((byte)240, (await robot.CaptureAsync(CancellationToken.None))!.Pixels);
        Assert.True(robot.RemoveObstacle("near"));
        Assert.DoesNotContain((byte)240, (await robot.CaptureAsync(CancellationToken.None))!.Pixels);
    }

    [Fact]
    public async Task Firmware_without_a_camera_returns_no_frame()
    {
        IRobotFirmware firmware = new NoCamera();
        Assert.Null(await firmware.CaptureAsync(CancellationToken.None));
    }

    private sealed class NoCamera : IRobotFirmware
    {
        public RobotTelemetry Telemetry => throw new NotSupportedException();

        public IReadOnlyCollection<string> SupportedActions => [];

        public event Action<RobotTelemetry>? TelemetryUpdated { add { } remove { } }

        public Task NavigateAsync(NavigationGoal goal, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task PerformActionAsync(string actionType, IReadOnlyDictionary<string, string> parameters, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task InitPositionAsync(Pose pose, CancellationToken cancellationToken) => Task.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
