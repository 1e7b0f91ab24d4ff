using RobotFleet.FirmwareBridge.Simulator;
using RobotFleet.Maps;
using RobotFleet.Vda5050.V2;

namespace RobotFleet.EdgeAgent.Tests;

public sealed class SimulatedFleetTests
{
    [Fact]
    public void Placements_prefer_parking_and_chargers_and_are_distinct()
    {
        var map = SiteMapGeoJson.Load(Path.Combine(RepoRoot(), "maps", "office"));
        var placements = RobotPlacement.FromMap(map, map.Waypoints.Count);

        Assert.Equal(placements.Count, placements.Select(p => p.WaypointId).Distinct().Count());
        var preferred = map.Locations.Values.Where(l => l.Kinds.Contains(LocationKind.Parking) || l.Kinds.Contains(LocationKind.Charger))
            .Select(l => l.WaypointId).ToHashSet();
        Assert.NotEmpty(preferred);
        Assert.All(placements.Take(preferred.Count), p => Assert.Contains(p.WaypointId, preferred));
        Assert.Throws<ArgumentException>(() => RobotPlacement.FromMap(map, map.Waypoints.Count + 1));
    }

    [Fact]
    public async Task Fleet_starts_one_connected_agent_per_placement_and_stops_them_offline()
    {
        await using var broker = await TestBroker.StartAsync();
        await using var r2 = await Recorder.ConnectAsync(broker, "RobotFleet", "sim-2");
        var fleet = await SimulatedFleet.StartAsync(new SimulatedFleetOptions
        {
            Broker = broker.Uri,
            Placements = [new RobotPlacement("a", 0, 0, "L1"), new RobotPlacement("b", 5, 0, "L1")],
            TimeScale = 20,
            Robot = new SimulatedRobotOptions { TickInterval = TimeSpan.FromMilliseconds(20) },
        });
        await using (fleet)
        {
            Assert.Equal(["sim-1", "sim-2"], fleet.Agents.Select(a => a.SerialNumber));
            var state = await r2.WaitForAsync<State>("state", s => s.LastNodeId == "b");
            Assert.Equal(5, state.AgvPosition!.X);
            Assert.Same(fleet.Agents[1], fleet.Find("sim-2"));
        }

        await r2.WaitForAsync<Connection>("connection", c => c.ConnectionState == ConnectionState.Offline);
    }

    internal static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !Directory.Exists(Path.Combine(dir.FullName, "maps", "office")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new DirectoryNotFoundException("repository root with maps/office not found");
    }
}
