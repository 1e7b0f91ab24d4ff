using RobotFleet.Maps.Generated;

namespace RobotFleet.TrafficSim.Tests;

public class TrafficSimulationTests
{
    private static readonly WarehouseGridOptions SmallGrid = new() { Width = 20, Height = 20, Seed = 1 };

    private static async Task<SimResult> RunAsync(int robots, TimeSpan duration, int seed = 1, ControlPlane.TrafficControl traffic = ControlPlane.TrafficControl.Reservation)
    {
        await using var simulation = await TrafficSimulation.StartAsync(WarehouseGrid.Generate(SmallGrid), new SimSettings
        {
            Robots = robots,
            Duration = duration,
            Seed = seed,
            Traffic = traffic,
        });
        return await simulation.RunAsync();
    }

    /// <summary>The robots with random missions for 30 simulated minutes on a shipped site, through the coordinator with the PIBT controller.</summary>
    private static async Task<SimResult> HalfHourWithPibtAsync(string site, int robots, int seed)
    {
        await using var simulation = await TrafficSimulation.StartAsync(Sites.Load(site, seed), new SimSettings
        {
            Robots = robots,
            Duration = TimeSpan.FromMinutes(30),
            Seed = seed,
            Traffic = ControlPlane.TrafficControl.Pibt,
        });
        return await simulation.RunAsync();
    }

    [Fact]
    public async Task Five_robots_on_a_small_grid_complete_missions_for_ten_simulated_minutes_without_collisions()
    {
        var result = await RunAsync(5, TimeSpan.FromMinutes(10));

        Assert.Equal(TimeSpan.FromMinutes(10), result.Simulated);
        Assert.Equal(2400, result.Ticks);
        Assert.True(result.Completed >= 5, $"only {result.Completed} missions completed");
        Assert.Equal(0, result.Failed);
        Assert.Equal(0, result.Collisions);
        Assert.Equal(0, result.HoldConflicts);
        Assert.Equal(0, result.Refusals);
        Assert.True(result.MetresDriven > 500, $"robots drove only {result.MetresDriven} m");
        Assert.Equal(result.Ticks, result.PerTick.Count);
        Assert.Contains("| warehouse-20x20 | 5 |", result.ToMarkdown("test"));
        Assert.Contains("traffic control: the reservation rule", result.ToMarkdown("test"));
    }

    /// <summary>With one robot there is no pair to measure: the report said "never within 2 m" of two robots.</summary>
    [Fact]
    public async Task The_report_of_one_robot_gives_no_closest_approach_of_two()
    {
        var result = await RunAsync(1, TimeSpan.FromMinutes(1));

        Assert.Contains("Closest approach of two robots: - (1 robot).", result.ToMarkdown("test"), StringComparison.Ordinal);
    }

    /// <summary>
    /// With three missions a robot open, the assignment served missions of one priority cheapest first: a mission far from
    /// where the robots worked was never assigned in the whole half-hour (its wait was the run's 1,800 s; 1,019 s the
    /// longest wait of a completed one). The queue's ageing (<see cref="ControlPlane.ControlPlaneOptions.QueueAgeingWeight"/>)
    /// bounds the wait at little cost in deliveries.
    /// </summary>
    [Fact]
    public async Task With_more_missions_than_robots_no_mission_waits_the_whole_run_for_a_robot()
    {
        async Task<SimResult> Clinic(double? ageing)
        {
            await using var simulation = await TrafficSimulation.StartAsync(Sites.Load("clinic", 1), new SimSettings
            {
                Robots = 5,
                Duration = TimeSpan.FromMinutes(30),
                Seed = 1,
                Traffic = ControlPlane.TrafficControl.Pibt,
                MissionsPerRobot = 3,
                QueueAgeingWeight = ageing,
            });
            return await simulation.RunAsync();
        }

        var cheapestFirst = await Clinic(0);
        var aged = await Clinic(null);

        Assert.True(cheapestFirst.LongestWaitOpenAtEnd >= 1500, $"without ageing the longest wait of an open mission was {cheapestFirst.LongestWaitOpenAtEnd:F0} s"); // the run shows the fault it guards against
        Assert.True(aged.LongestWaitOpenAtEnd < 1000, $"the longest wait of a mission open at the end was {aged.LongestWaitOpenAtEnd:F0} s");
        Assert.True(aged.QueueWait.Max < 1000, $"a completed mission waited {aged.QueueWait.Max:F0} s for a robot");
        Assert.True(aged.Completed >= 0.95 * cheapestFirst.Completed, $"{aged.Completed} missions completed with ageing, {cheapestFirst.Completed} without");
        Assert.Equal(0, aged.Collisions);
        Assert.Contains("queue ageing 0.1 s of assignment cost per second waited", aged.ToMarkdown("test"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_run_and_another_seed_another()
    {
        var a = await RunAsync(4, TimeSpan.FromMinutes(3), seed: 3);
        var b = await RunAsync(4, TimeSpan.FromMinutes(3), seed: 3);
        var c = await RunAsync(4, TimeSpan.FromMinutes(3), seed: 4);

        Assert.Equal((a.Fingerprint, a.Completed, a.Submitted, a.MetresDriven), (b.Fingerprint, b.Completed, b.Submitted, b.MetresDriven));
        Assert.NotEqual(a.Fingerprint, c.Fingerprint);
    }

    [Theory]
    [InlineData("clinic", 1)]
    [InlineData("clinic", 2)]
    [InlineData("hotel", 1)]
    [InlineData("hotel", 3)]
    public async Task The_coordinator_with_the_PIBT_controller_leaves_no_robot_stuck_on_a_building_with_lifts_and_doors(string site, int seed)
    {
        // Regression: on the Open-RMF clinic and hotel (read with their lifts and doors), 4 of 5 robots stood for good
        // within minutes: a robot coming off a lift (which no robot rides to make room) facing one that wants on, and
        // robots whose renewed claims kept their make-way timer from ever running out. The hotel, seed 1, still left 4 of 5
        // standing for good until the jam fallback. Robots still go two minutes or more without progress now and then (2 to
        // 10 times in these runs; bench/results/traffic-pibt.md): that is measured, not asserted here. Since the coordinator
        // gives the controller the mission's next stop as the goal, not the refuge a push sent the robot to (2026-12-01),
        // its jam fallback and precedence work here too: over seeds 1 to 10 the hotel has 11 stalls instead of 21 but
        // delivers 307 instead of 357 (seed 3: 22 instead of 41; robots queued for the dead-end 'shop' keep taking the
        // waypoint before it from the robot that must leave), the clinic 16 instead of 31 and 433 instead of 414.
        var result = await HalfHourWithPibtAsync(site, 5, seed);

        Assert.Equal(0, result.Collisions);
        Assert.Equal(0, result.HoldConflicts);
        Assert.Equal(0, result.StoodStill);
        Assert.Equal(0, result.StandingAtEnd);
        Assert.True(result.Completed >= 20, $"only {result.Completed} missions completed");
    }

    [Theory]
    [InlineData(9)]
    [InlineData(19)]
    public async Task On_the_office_map_a_jam_of_robots_all_held_up_round_one_hub_clears_without_a_stall(int seed)
    {
        // Regression, traced on seed 8: four robots held up round the hub L1_v49 (one in the dead end to supplies wanting
        // out, one on its way out wanting on, one wanting into the dead end, one behind). Every robot the jam search could
        // take was itself held up, so the controller's plan came only after JamSparesUntilSeconds (60 s without progress),
        // then took 45 s. These two seeds had 2 stalls each (seeds 1 to 20: 9), and a jam of this kind failed a CI run of
        // the killed-control-plane test. On two-way lanes the search now takes them at once (seeds 1 to 20: 3 stalls).
        var result = await HalfHourWithPibtAsync("office", 4, seed);

        Assert.Equal(0, result.Collisions);
        Assert.True(result.Stalls == 0, string.Join(Environment.NewLine, result.StallNotes));
    }

    [Fact]
    public async Task On_the_clinic_one_way_round_a_robot_in_the_lift_rides_back_when_the_robot_at_its_door_cannot_back_away()
    {
        // Regression, seed 9 (twenty-fifth session): with the robots moved in a jam plan never riding a lift to make way,
        // r0002 in the lift at L1_v370, bound out past L1_v404, and r0004 on L1_v404, bound into the lift with robots
        // queued behind it round the one-way loop, stood for good, and the three behind them: all five stalled at the end.
        // Once the robot at the door has gone a minute without progress, a jam plan may now send the robot in the lift back up.
        var drawn = Sites.Load("clinic", 9);
        await using var simulation = await TrafficSimulation.StartAsync(Planning.OneWayLoops.Orient(drawn, keepPassing: true), new SimSettings
        {
            Robots = 5,
            Duration = TimeSpan.FromMinutes(30),
            Seed = 9,
            Traffic = ControlPlane.TrafficControl.Pibt,
        }.WithOneWayLoops(drawn), drawn);
        var result = await simulation.RunAsync();

        Assert.Equal(0, result.Collisions);
        Assert.True(result.StalledAtEnd == 0 && result.StoodStill == 0, string.Join(Environment.NewLine, result.StallNotes));
    }

    [Fact]
    public async Task On_the_hotel_four_robots_queued_for_the_room_at_the_end_of_a_dead_end_corridor_do_not_box_in_the_robot_in_it()
    {
        // Regression, seed 23: four robots bound for L2_master_suite queued into its dead-end corridor behind the robot in
        // it, which wanted out; the queue's push failed at it every step, and the run ended with all five stalled for good.
        // A robot boxed in at the end of a dead-end chain now goes first out to the fork.
        var result = await HalfHourWithPibtAsync("hotel", 5, 23);

        Assert.Equal(0, result.Collisions);
        Assert.True(result.StalledAtEnd == 0, string.Join(Environment.NewLine, result.StallNotes));
    }

    [Fact]
    public async Task The_coordinator_with_the_PIBT_controller_completes_missions_with_twenty_robots_without_collisions_or_a_robot_standing_still()
    {
        // No robot stands still for the stall threshold; one goes 4 minutes without getting nearer its goal (a stall by the
        // simulation's measure since it counts robots pushed back and forth): measured in bench/results, not asserted.
        var result = await RunAsync(20, TimeSpan.FromMinutes(10), traffic: ControlPlane.TrafficControl.Pibt);

        Assert.True(result.Completed >= 40, $"only {result.Completed} missions completed");
        Assert.Equal(0, result.Failed);
        Assert.Equal(0, result.Collisions);
        Assert.Equal(0, result.HoldConflicts);
        Assert.Equal(0, result.Refusals);
        Assert.Equal(0, result.StoodStill);
        Assert.Equal(0, result.StalledAtEnd);
        // The report says which traffic control ran, with PIBT's settings (it did not say before).
        Assert.Contains("traffic control: PIBT, jam fallback after 30 s without progress (sparing robots 10 s without progress until 60 s, not on two-way lanes), precedence after 30 s", result.ToMarkdown("test"));
        // Stall notes give the PIBT controller's reason, not the reservation rule's blocker (they did before).
        Assert.All(result.StallNotes, note => Assert.DoesNotContain("waypoint and branch rules", note));
        Assert.All(result.StallNotes, note => Assert.True(note.Contains("logged at", StringComparison.Ordinal) || note.Contains("logged no wait", StringComparison.Ordinal), note));
    }
}
