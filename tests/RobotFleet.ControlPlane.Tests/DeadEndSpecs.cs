using RobotFleet.Contracts;
using RobotFleet.Maps;

namespace RobotFleet.ControlPlane.Tests;

/// <summary>
/// The dead-end branch rule (see <c>TrafficController</c>) on a loop with a room R1 - R2 off B: a robot bound for the room
/// waits before its mouth B while another robot is in it; an idle robot in the room is moved out, even when the robots
/// outside shut it in.
/// </summary>
public sealed class When_a_robot_heads_into_a_dead_end_where_another_robot_stands
{
    private static readonly HashSet<string> Room = ["R1", "R2"];

    [Fact]
    public async Task Should_wait_before_the_mouth_move_the_idle_robot_out_and_then_go_in()
    {
        await using var fleet = await Fleet.StartAsync(TestMaps.LoopWithRoom());
        var idle = await fleet.AddRobotAsync("idle", "R2");
        var comer = await fleet.AddRobotAsync("comer", "A");
        var inRoom = new List<int>();

        await fleet.SubmitAsync("m1", "a", "r2");

        Assert.Equal(comer.Id, fleet.Mission("m1").Robot);
        await fleet.RunUntilAsync(() => Done(fleet, inRoom, "m1"), maxRounds: 120);
        Assert.Equal(MissionStatus.Completed, fleet.Mission("m1").Status);
        Assert.All(inRoom, count => Assert.True(count <= 1, "two robots in the room"));
        // The idle robot left the room for the nearest free waypoint off the comer's way (C: A is where the comer waits).
        Assert.Equal(["R2", "R1", "B", "C"], idle.Trail);
        // The comer waited at A, before the mouth B, until the room was empty (before, it drove on to R1 and both were stuck).
        Assert.Equal(["A", "B", "R1", "R2"], comer.Trail);
        Assert.DoesNotContain(fleet.Log, l => l.Contains("no free waypoint", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Should_move_out_an_idle_robot_shut_in_by_the_robots_outside()
    {
        // Pinned to the reservation rule (its move-aside orders).
        await using var fleet = await Fleet.StartAsync(TestMaps.LoopWithRoom(), traffic: TrafficControl.Reservation);
        var shutIn = await fleet.AddRobotAsync("shut-in", "R2");
        var comer = await fleet.AddRobotAsync("comer", "A");
        var bystander = await fleet.AddRobotAsync("bystander", "C");
        var inRoom = new List<int>();

        await fleet.SubmitAsync("m1", "a", "r2");

        Assert.Equal(comer.Id, fleet.Mission("m1").Robot);
        await fleet.RunUntilAsync(() => Done(fleet, inRoom, "m1"), maxRounds: 160);
        Assert.Equal(MissionStatus.Completed, fleet.Mission("m1").Status);
        Assert.All(inRoom, count => Assert.True(count <= 1, "two robots in the room"));
        // Both ways out of B were taken (A by the comer, C by the idle bystander): the shut-in robot was sent out anyway,
        // through C, and the bystander was moved on out of its way.
        Assert.Equal(["R2", "R1", "B", "C", "D"], shutIn.Trail);
        Assert.Equal(["C", "D", "E"], bystander.Trail);
        Assert.Equal(["A", "B", "R1", "R2"], comer.Trail);
        Assert.Contains(fleet.Log, l => l.Contains("waiting for the robots on its way out", StringComparison.Ordinal));
    }

    /// <summary>Records how many robots hold a waypoint of the room this round; true once the mission is final.</summary>
    private static bool Done(Fleet fleet, List<int> inRoom, string missionId)
    {
        inRoom.Add(fleet.Robots.Values.Count(r => r.HeldWaypoints.Overlaps(Room)));
        return fleet.Mission(missionId).IsFinal;
    }
}

/// <summary>
/// The SIGKILL acceptance run in the harness, over many seeds: robots start where the edge agent's simulator puts them (on
/// the office map: chargers and parking, all in dead ends), random deliveries between every other location (several of them
/// in dead ends too) are submitted at once, optionally with idle robots parking and a control-plane restart mid-run. Every
/// mission must complete, each pick and drop once, within a bounded simulated time.
/// </summary>
public sealed class When_robots_deliver_in_and_out_of_dead_ends_on_the_office_map
{
    /// <summary>(robots, missions, restart with parking, seed): 3, 4 and 5 robots; before the dead-end rule 5 of the first 10 seeds with 3 robots gridlocked.</summary>
    public static TheoryData<int, int, bool, int> Runs()
    {
        var runs = new TheoryData<int, int, bool, int>();
        for (var seed = 0; seed < 10; seed++)
        {
            runs.Add(3, 20, false, seed);
            runs.Add(4, 20, false, seed);
        }

        for (var seed = 0; seed < 5; seed++)
        {
            runs.Add(3, 30, true, seed);
            runs.Add(4, 40, true, seed);
        }

        // 5 robots: seed 27 sent one robot back and forth between two refuges forever until victims aged.
        for (var seed = 20; seed < 30; seed++)
            runs.Add(5, 30, false, seed);

        return runs;
    }

    [Theory]
    [MemberData(nameof(Runs))]
    public async Task Should_complete_every_delivery_with_each_pick_and_drop_once(int robots, int missions, bool restart, int seed)
    {
        var map = TestMaps.Office();
        using var dir = new TempDataDir();
        await using var fleet = await Fleet.StartAsync(map, dataDirectory: restart ? dir.Path : null, configure: o => restart
            ? new ControlPlaneOptions
            {
                Map = o.Map, BlockedResolveAfter = o.BlockedResolveAfter, ReplanCooldown = o.ReplanCooldown, LostBlockerTimeout = o.LostBlockerTimeout,
                ParkIdleAfter = TimeSpan.FromSeconds(5), DataDirectory = o.DataDirectory,
            }
            : o);
        var byName = map.Locations.Values.OrderBy(l => l.Name, StringComparer.Ordinal).ToList();
        var starts = byName.Where(l => l.Kinds.Contains(LocationKind.Parking) || l.Kinds.Contains(LocationKind.Charger)).Select(l => l.WaypointId)
            .Concat(byName.Select(l => l.WaypointId)).Distinct().Take(robots).ToList();
        for (var i = 0; i < robots; i++)
            await fleet.AddRobotAsync($"r{i + 1}", starts[i]);
        var places = byName.Where(l => !l.Kinds.Contains(LocationKind.Charger) && !l.Kinds.Contains(LocationKind.Parking)).Select(l => l.Name).ToList();
        var random = new Random(seed);
        for (var i = 0; i < missions; i++)
        {
            var pickup = places[random.Next(places.Count)];
            var dropoff = places.Where(l => l != pickup).ElementAt(random.Next(places.Count - 1));
            Assert.IsType<MissionAccepted>(await fleet.SubmitAsync($"m{i:00}", pickup, dropoff));
        }

        var budget = missions * 25; // rounds of 0.5 s: 12.5 simulated seconds a delivery, about three times what they take
        var rounds = 0;
        bool AllFinal() => fleet.Store.All.All(m => m.IsFinal);
        if (restart)
        {
            // Killed after some rounds; the robots drive on through what was released while it is down.
            var killAt = 20 + random.Next(100);
            await fleet.RunUntilAsync(() => rounds++ >= killAt || AllFinal(), maxRounds: budget);
            for (var i = random.Next(12); i > 0; i--)
            {
                foreach (var robot in fleet.Robots.Values)
                {
                    robot.Ingest();
                    robot.Step();
                }

                fleet.Time.Advance(Fleet.Round);
            }

            await fleet.RestartAsync();
        }

        await fleet.RunUntilAsync(() => rounds++ >= budget || AllFinal(), maxRounds: budget);

        Assert.True(AllFinal(), $"not done in {budget} rounds: {string.Join("; ", fleet.Store.All.Where(m => !m.IsFinal).Select(m => $"{m.Id} {m.Status} {m.Robot}"))}\n"
                                + string.Join("\n", fleet.Log.TakeLast(30)));
        Assert.All(fleet.Store.All, m => Assert.Equal(MissionStatus.Completed, m.Status));
        var executed = fleet.Robots.Values.SelectMany(r => r.Executed).ToList();
        foreach (var mission in fleet.Store.All)
        {
            Assert.Equal(1, executed.Count(a => a.StartsWith(mission.Id + "-", StringComparison.Ordinal) && a.EndsWith("-pick", StringComparison.Ordinal)));
            Assert.Equal(1, executed.Count(a => a.StartsWith(mission.Id + "-", StringComparison.Ordinal) && a.EndsWith("-drop", StringComparison.Ordinal)));
        }
    }
}
