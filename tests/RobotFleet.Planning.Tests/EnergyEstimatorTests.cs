using RobotFleet.FirmwareBridge;
using RobotFleet.FirmwareBridge.Simulator;

namespace RobotFleet.Planning.Tests;

public sealed class EnergyEstimatorTests
{
    /// <summary>The simulator's drain, percent points per metre (0.05: ten times the planner's old fixed default).</summary>
    private static readonly double SimulatorDrain = new SimulatedRobotOptions().BatteryDrainPerMetre;

    [Theory]
    [InlineData(false, 0.02)] // the simulator's exact state of charge
    [InlineData(true, 0.05)]  // reported in whole percents, as many robots do
    public async Task Converges_on_the_simulated_robots_drain(bool wholePercents, double tolerance)
    {
        Assert.Equal(0.05, SimulatorDrain);
        var clock = new ManualClock();
        await using var robot = new SimulatedRobot(new SimulatedRobotOptions { TimeProvider = clock, InitialPose = new Pose(0, 0, 0, "L1") });
        var estimator = new EnergyEstimator();
        var estimate = estimator.Initial;
        Assert.Equal(EnergyModel.DefaultPercentPerMetre, estimator.PercentPerMetre(estimate), 12);

        // Consecutive reports as the coordinator gets them: one per waypoint reached, on straight legs 1-40 m long.
        var random = new Random(7);
        var previous = robot.Telemetry;
        var driven = 0.0;
        while (driven < 1600)
        {
            var (x, y) = (random.NextDouble() * 40, random.NextDouble() * 40);
            var leg = Math.Sqrt(Math.Pow(x - previous.Pose.X, 2) + Math.Pow(y - previous.Pose.Y, 2));
            var arrived = robot.NavigateAsync(new NavigationGoal("w", x, y, null, "L1", 1.0), CancellationToken.None);
            clock.Advance(TimeSpan.FromSeconds(leg + 1)); // 1 m/s
            await robot.StopAsync(CancellationToken.None); // brings the simulation to now (it arrived) and samples
            await arrived;
            var current = robot.Telemetry;
            Assert.False(current.Charging);
            var metres = Math.Sqrt(Math.Pow(current.Pose.X - previous.Pose.X, 2) + Math.Pow(current.Pose.Y - previous.Pose.Y, 2));
            estimate = estimator.Observe(estimate, metres, Reading(previous.BatteryCharge) - Reading(current.BatteryCharge));
            driven += metres;
            previous = current;
        }

        Assert.Equal(0, estimate.Rejected);
        Assert.InRange(estimator.PercentPerMetre(estimate), SimulatorDrain * (1 - tolerance), SimulatorDrain * (1 + tolerance));
        Assert.InRange(robot.Telemetry.BatteryCharge, 15, 25); // 1.6 km at 0.05 %/m: the figure is real, not the default

        double Reading(double charge) => wholePercents ? Math.Round(charge) : charge;
    }

    [Fact]
    public async Task A_charge_between_two_reports_is_rejected_not_learned()
    {
        var clock = new ManualClock();
        await using var robot = new SimulatedRobot(new SimulatedRobotOptions { TimeProvider = clock, InitialBattery = 50 });
        var estimator = new EnergyEstimator();
        var before = robot.Telemetry;

        // Charges for a minute at the charger (0.5 %/s), then drives 10 m: the battery rose by far more than 10 m could explain.
        var charging = robot.PerformActionAsync("startCharging", new Dictionary<string, string>(), CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(1));
        await charging;
        clock.Advance(TimeSpan.FromSeconds(60));
        var arrived = robot.NavigateAsync(new NavigationGoal("w", 10, 0, null, "L1", 1.0), CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(11));
        await robot.StopAsync(CancellationToken.None);
        await arrived;
        var after = robot.Telemetry;
        Assert.True(after.BatteryCharge > before.BatteryCharge + 20);

        var estimate = estimator.Observe(estimator.Initial, 10, before.BatteryCharge - after.BatteryCharge);

        Assert.Equal((0, 1), (estimate.Accepted, estimate.Rejected));
        Assert.Equal(EnergyModel.DefaultPercentPerMetre, estimator.PercentPerMetre(estimate), 12);
    }

    [Fact]
    public void Noise_and_bad_samples_do_not_move_it_far_and_the_bounds_hold()
    {
        var estimator = new EnergyEstimator(new EnergyEstimatorOptions { MinPercentPerMetre = 0.001, MaxPercentPerMetre = 0.2 });
        var random = new Random(3);
        var estimate = estimator.Initial;
        for (var i = 0; i < 400; i++)
        {
            var metres = random.Next(1, 20);
            estimate = estimator.Observe(estimate, metres, (metres * 0.02) + ((random.NextDouble() - 0.5) * 0.2)); // +-0.1 % of jitter
        }
        Assert.InRange(estimator.PercentPerMetre(estimate), 0.0185, 0.0215); // ~720 m of evidence: within 7.5 %

        var settled = estimate;
        estimate = estimator.Observe(estimate, 5, 40);                      // a 40 % step in 5 m: a jump of the reading
        estimate = estimator.Observe(estimate, 5, -30);                     // a battery swap
        estimate = estimator.Observe(estimate, double.NaN, 1);
        estimate = estimator.Observe(estimate, -3, 1);
        estimate = estimator.Observe(estimate, 0, 2);                       // standing still: nothing to learn
        Assert.Equal(settled.Accepted, estimate.Accepted);
        Assert.Equal(settled.Rejected + 4, estimate.Rejected);
        Assert.Equal(estimator.PercentPerMetre(settled), estimator.PercentPerMetre(estimate), 12);

        // A robot that seems to use nothing, or a lot, stays within the bounds.
        var free = estimator.Initial;
        var hungry = estimator.Initial;
        for (var i = 0; i < 200; i++)
        {
            free = estimator.Observe(free, 10, 0);
            hungry = estimator.Observe(hungry, 10, 2.5);
        }
        Assert.Equal(0.001, estimator.PercentPerMetre(free), 12);
        Assert.Equal(0.2, estimator.PercentPerMetre(hungry), 12);
    }

    [Fact]
    public void Follows_a_change_of_drain_within_a_few_half_lives()
    {
        var estimator = new EnergyEstimator(new EnergyEstimatorOptions { HalfLifeMetres = 200 });
        var estimate = estimator.Initial;
        for (var i = 0; i < 300; i++)
        {
            estimate = estimator.Observe(estimate, 10, 0.1); // 0.01 %/m for 3 km
        }
        Assert.InRange(estimator.PercentPerMetre(estimate), 0.0099, 0.0101);
        for (var i = 0; i < 100; i++)
        {
            estimate = estimator.Observe(estimate, 10, 0.2); // then 0.02 %/m (an ageing battery) for 1 km = 5 half-lives
        }
        Assert.InRange(estimator.PercentPerMetre(estimate), 0.0196, 0.0201);
    }

    [Theory]
    [InlineData(0, 0.5, 0.005, 50, 500)]
    [InlineData(0.01, 0.005, 0.005, 50, 500)]
    [InlineData(0.0005, 0.5, 0.9, 50, 500)]
    [InlineData(0.0005, 0.5, 0.005, 0, 500)]
    [InlineData(0.0005, 0.5, 0.005, 50, double.PositiveInfinity)]
    public void Rejects_options_out_of_range(double min, double max, double prior, double priorMetres, double halfLife)
    {
        var options = new EnergyEstimatorOptions
        {
            MinPercentPerMetre = min,
            MaxPercentPerMetre = max,
            PriorPercentPerMetre = prior,
            PriorWeightMetres = priorMetres,
            HalfLifeMetres = halfLife,
        };

        Assert.Throws<ArgumentException>(() => new EnergyEstimator(options));
    }

    /// <summary>
    /// A clock the test moves: timestamps and timers (the simulator's tick loop and action delays) follow
    /// <see cref="Advance"/> only.
    /// </summary>
    private sealed class ManualClock : TimeProvider
    {
        private readonly List<ManualTimer> _timers = [];
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public override DateTimeOffset GetUtcNow() => new DateTimeOffset(2026, 1, 1, 8, 0, 0, TimeSpan.Zero).AddTicks(GetTimestamp());

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = new ManualTimer(this, callback, state);
            timer.Change(dueTime, period);
            return timer;
        }

        public void Advance(TimeSpan by)
        {
            Interlocked.Add(ref _ticks, by.Ticks);
            List<ManualTimer> due;
            lock (_timers)
            {
                due = [.. _timers.Where(t => t.DueAt <= _ticks)];
            }
            foreach (var timer in due)
            {
                timer.Fire(_ticks);
            }
        }

        private sealed class ManualTimer(ManualClock clock, TimerCallback callback, object? state) : ITimer
        {
            private long _period;

            public long DueAt { get; private set; } = long.MaxValue;

            public bool Change(TimeSpan dueTime, TimeSpan period)
            {
                lock (clock._timers)
                {
                    clock._timers.Remove(this);
                    _period = period == Timeout.InfiniteTimeSpan ? 0 : period.Ticks;
                    if (dueTime != Timeout.InfiniteTimeSpan)
                    {
                        DueAt = clock._ticks + dueTime.Ticks;
                        clock._timers.Add(this);
                    }
                }
                return true;
            }

            public void Fire(long now)
            {
                lock (clock._timers)
                {
                    clock._timers.Remove(this);
                    if (_period > 0)
                    {
                        DueAt = now + _period;
                        clock._timers.Add(this);
                    }
                }
                callback(state);
            }

            public void Dispose()
            {
                lock (clock._timers)
                {
                    clock._timers.Remove(this);
                }
            }

            public ValueTask DisposeAsync()
            {
                Dispose();
                return ValueTask.CompletedTask;
            }
        }
    }
}
