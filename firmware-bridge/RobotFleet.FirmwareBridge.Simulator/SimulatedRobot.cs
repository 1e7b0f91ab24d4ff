namespace RobotFleet.FirmwareBridge.Simulator;

/// <summary>
/// A simulated robot behind the <see cref="IRobotFirmware"/> seam: drives in a straight line to each
/// goal, drains its battery with distance, charges while charging, and performs timed actions.
/// </summary>
/// <remarks>
/// Simulated time is real elapsed time multiplied by <see cref="SimulatedRobotOptions.TimeScale"/>.
/// A background loop advances the simulation every <see cref="SimulatedRobotOptions.TickInterval"/>
/// and raises <see cref="TelemetryUpdated"/> once per tick. All members are thread-safe.
/// Faults: <c>batteryLow</c> (warning) below 10 %, <c>batteryEmpty</c> (fatal) at 0 %.
/// </remarks>
public sealed class SimulatedRobot : IRobotFirmware
{
    /// <summary>State of charge below which the <c>batteryLow</c> warning is raised, percent.</summary>
    public const double BatteryLowThreshold = 10;

    private const double ArrivalTolerance = 1e-6;

    private readonly SimulatedRobotOptions options;
    private readonly TimeProvider clock;
    private readonly Lock gate = new();
    private readonly CancellationTokenSource shutdown = new();
    private readonly Task loop;

    private Pose pose;
    private double battery;
    private bool charging;
    private double speed;
    private long lastTick;
    private ActiveGoal? goal;
    private RobotTelemetry telemetry;
    private readonly Dictionary<string, (double X, double Y, string MapId, double Size)> obstacles = [];

    /// <summary>Creates the robot and starts its simulation loop.</summary>
    /// <exception cref="ArgumentException">Options are out of range (non-positive speed, time scale or tick).</exception>
    public SimulatedRobot(SimulatedRobotOptions? options = null)
    {
        this.options = options ?? new SimulatedRobotOptions();
        if (this.options.TimeScale <= 0 || this.options.MaxSpeed <= 0 || this.options.TickInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException("TimeScale, MaxSpeed and TickInterval must be positive.", nameof(options));
        }

        clock = this.options.TimeProvider;
        pose = this.options.InitialPose;
        battery = Math.Clamp(this.options.InitialBattery, 0, 100);
        SupportedActions = this.options.ActionDurations.Keys.ToArray();
        lastTick = clock.GetTimestamp();
        telemetry = Sample();
        loop = Task.Run(RunLoopAsync);
    }

    /// <inheritdoc />
    public RobotTelemetry Telemetry
    {
        get
        {
            lock (gate)
            {
                return telemetry;
            }
        }
    }

    /// <inheritdoc />
    public event Action<RobotTelemetry>? TelemetryUpdated;

    /// <inheritdoc />
    public IReadOnlyCollection<string> SupportedActions { get; }

    /// <inheritdoc />
    /// <remarks>Navigating ends charging. A new goal replaces (cancels) an outstanding one.</remarks>
    public Task NavigateAsync(NavigationGoal goal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(goal);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }

        ActiveGoal active;
        lock (gate)
        {
            AdvanceLocked();
            if (battery <= 0)
            {
                return Task.FromException(new FirmwareException($"Cannot navigate to '{goal.WaypointId}': battery empty."));
            }

            if (goal.MaxSpeed <= 0)
            {
                return Task.FromException(new FirmwareException($"Cannot navigate to '{goal.WaypointId}': speed limit {goal.MaxSpeed} m/s is not positive."));
            }

            CancelGoalLocked();
            charging = false;
            active = new ActiveGoal(goal);
            this.goal = active;
        }

        active.Registration = cancellationToken.Register(() => CancelGoal(active, cancellationToken));
        if (active.Completion.Task.IsCompleted)
        {
            active.Registration.Unregister();
        }

        return active.Completion.Task;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken)
    {
        lock (gate)
        {
            AdvanceLocked();
            CancelGoalLocked();
            telemetry = Sample();
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    /// <remarks>Takes the configured duration divided by the time scale; <c>startCharging</c> and
    /// <c>stopCharging</c> switch charging at the end of the action.</remarks>
    public async Task PerformActionAsync(string actionType, IReadOnlyDictionary<string, string> parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actionType);
        if (!options.ActionDurations.TryGetValue(actionType, out var seconds))
        {
            throw new NotSupportedException($"Action type '{actionType}' is not supported by the simulated robot (supported: {string.Join(", ", SupportedActions)}).");
        }

        await Task.Delay(TimeSpan.FromSeconds(seconds / options.TimeScale), clock, cancellationToken).ConfigureAwait(false);
        lock (gate)
        {
            AdvanceLocked();
            if (actionType == "startCharging")
            {
                charging = true;
            }
            else if (actionType == "stopCharging")
            {
                charging = false;
            }

            telemetry = Sample();
        }
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The robot is navigating.</exception>
    public Task InitPositionAsync(Pose pose, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            if (goal is not null)
            {
                return Task.FromException(new InvalidOperationException("Cannot re-initialise the position while navigating."));
            }

            this.pose = pose;
            telemetry = Sample();
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Places (or moves) an obstacle: a grey-white cube of side <paramref name="size"/> metres standing on the floor at
    /// (<paramref name="x"/>, <paramref name="y"/>) on level <paramref name="mapId"/>. Only the camera sees it; it does not block driving.
    /// </summary>
    public void PlaceObstacle(string id, double x, double y, string mapId, double size = 0.5)
    {
        ArgumentNullException.ThrowIfNull(id);
        lock (gate)
        {
            obstacles[id] = (x, y, mapId, size);
        }
    }

    /// <summary>Removes an obstacle; false when there was none with that id.</summary>
    public bool RemoveObstacle(string id)
    {
        lock (gate)
        {
            return obstacles.Remove(id);
        }
    }

    /// <summary>
    /// Renders the forward camera (<see cref="SimulatedRobotOptions.Camera"/>): a mid-grey image (128) with a bright box
    /// (240) for each obstacle on the robot's level ahead within <see cref="SimulatedRobotOptions.CameraRange"/>, drawn
    /// by pinhole projection (nearer obstacles over farther ones), so the box's bottom edge is where it meets the floor.
    /// </summary>
    public Task<CameraFrame?> CaptureAsync(CancellationToken cancellationToken)
    {
        Pose at;
        List<(double X, double Y, string MapId, double Size)> seen;
        lock (gate)
        {
            at = pose;
            seen = [.. obstacles.Values];
        }

        var camera = options.Camera;
        var pixels = new byte[camera.Width * camera.Height * 3];
        pixels.AsSpan().Fill(128);
        var (sin, cos) = Math.SinCos(at.Theta);
        var ahead = seen
            .Where(o => o.MapId == at.MapId)
            .Select(o => (Forward: ((o.X - at.X) * cos) + ((o.Y - at.Y) * sin), Left: (-(o.X - at.X) * sin) + ((o.Y - at.Y) * cos), o.Size))
            .Where(o => o.Forward > 0.1 && o.Forward <= options.CameraRange)
            .OrderByDescending(o => o.Forward);
        foreach (var (forward, left, size) in ahead)
        {
            var u = camera.Cx - (left * camera.Fx / forward);
            var half = size / 2 * camera.Fx / forward;
            var bottom = camera.Cy + (camera.MountHeight * camera.Fy / forward);
            var top = camera.Cy + ((camera.MountHeight - size) * camera.Fy / forward);
            var (x0, x1) = ((int)Math.Clamp(Math.Round(u - half), 0, camera.Width), (int)Math.Clamp(Math.Round(u + half), 0, camera.Width));
            var (y0, y1) = ((int)Math.Clamp(Math.Round(top), 0, camera.Height), (int)Math.Clamp(Math.Round(bottom), 0, camera.Height));
            for (var y = y0; y < y1; y++)
            {
                pixels.AsSpan(((y * camera.Width) + x0) * 3, Math.Max(0, x1 - x0) * 3).Fill(240);
            }
        }

        return Task.FromResult<CameraFrame?>(new CameraFrame(clock.GetUtcNow().UtcDateTime, pixels, camera, at));
    }

    /// <summary>Stops the simulation loop; an outstanding navigation ends cancelled.</summary>
    public async ValueTask DisposeAsync()
    {
        if (shutdown.IsCancellationRequested)
        {
            return;
        }

        shutdown.Cancel();
        lock (gate)
        {
            CancelGoalLocked();
        }

        try
        {
            await loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        shutdown.Dispose();
    }

    private async Task RunLoopAsync()
    {
        using var timer = new PeriodicTimer(options.TickInterval, clock);
        while (await timer.WaitForNextTickAsync(shutdown.Token).ConfigureAwait(false))
        {
            RobotTelemetry sample;
            lock (gate)
            {
                AdvanceLocked();
                telemetry = Sample();
                sample = telemetry;
            }

            try
            {
                TelemetryUpdated?.Invoke(sample);
            }
            catch (Exception)
            {
                // Handlers must not throw (seam contract); a faulty handler must not kill the simulation.
            }
        }
    }

    /// <summary>Advances the simulation to now: motion, battery drain and charging.</summary>
    private void AdvanceLocked()
    {
        var now = clock.GetTimestamp();
        var dt = clock.GetElapsedTime(lastTick, now).TotalSeconds * options.TimeScale;
        lastTick = now;
        if (charging)
        {
            battery = Math.Min(100, battery + (options.ChargeRatePerSecond * dt));
        }

        if (goal is not { } active)
        {
            speed = 0;
            return;
        }

        var target = active.Goal;
        var dx = target.X - pose.X;
        var dy = target.Y - pose.Y;
        var remaining = Math.Sqrt((dx * dx) + (dy * dy));
        speed = Math.Min(target.MaxSpeed, options.MaxSpeed);
        var step = Math.Min(remaining, speed * dt);
        if (options.BatteryDrainPerMetre > 0)
        {
            step = Math.Min(step, battery / options.BatteryDrainPerMetre);
        }

        var heading = remaining > ArrivalTolerance ? Math.Atan2(dy, dx) : pose.Theta;
        var fraction = remaining > ArrivalTolerance ? step / remaining : 1;
        pose = new Pose(pose.X + (dx * fraction), pose.Y + (dy * fraction), heading, target.MapId);
        battery = Math.Max(0, battery - (step * options.BatteryDrainPerMetre));

        if (remaining - step <= ArrivalTolerance)
        {
            pose = new Pose(target.X, target.Y, target.Theta.HasValue ? NormalizeAngle(target.Theta.Value) : heading, target.MapId);
            speed = 0;
            goal = null;
            active.Finish(null);
        }
        else if (battery <= 0)
        {
            speed = 0;
            goal = null;
            active.Finish(new FirmwareException($"Battery empty on the way to '{target.WaypointId}'; the robot stopped."));
        }
    }

    private void CancelGoal(ActiveGoal active, CancellationToken token)
    {
        lock (gate)
        {
            AdvanceLocked();
            if (ReferenceEquals(goal, active))
            {
                goal = null;
                speed = 0;
                telemetry = Sample();
            }
        }

        active.Finish(new OperationCanceledException(token));
    }

    private void CancelGoalLocked()
    {
        if (goal is { } active)
        {
            goal = null;
            speed = 0;
            active.Finish(new OperationCanceledException("Navigation stopped."));
        }
    }

    private RobotTelemetry Sample()
    {
        var faults = new List<FirmwareFault>(1);
        if (battery <= 0)
        {
            faults.Add(new FirmwareFault("batteryEmpty", FaultSeverity.Fatal, "Battery empty: the robot cannot drive."));
        }
        else if (battery < BatteryLowThreshold)
        {
            faults.Add(new FirmwareFault("batteryLow", FaultSeverity.Warning, $"Battery low: {battery:F1} %."));
        }

        return new RobotTelemetry(
            clock.GetUtcNow(),
            pose,
            speed,
            0,
            battery,
            42 + (12 * battery / 100),
            charging,
            speed > 0,
            faults);
    }

    private static double NormalizeAngle(double theta)
    {
        var a = Math.IEEERemainder(theta, 2 * Math.PI);
        return a <= -Math.PI ? a + (2 * Math.PI) : a;
    }

    private sealed class ActiveGoal(NavigationGoal goal)
    {
        public NavigationGoal Goal { get; } = goal;

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Registration { get; set; }

        public void Finish(Exception? error)
        {
            var done = error switch
            {
                null => Completion.TrySetResult(),
                OperationCanceledException oce => Completion.TrySetCanceled(oce.CancellationToken),
                _ => Completion.TrySetException(error),
            };
            if (done)
            {
                // Unregister, not Dispose: Dispose would wait for a running callback that waits for our lock.
                Registration.Unregister();
            }
        }
    }
}
