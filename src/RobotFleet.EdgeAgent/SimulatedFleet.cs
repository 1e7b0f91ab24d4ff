using MQTTnet.Formatter;
using RobotFleet.FirmwareBridge;
using RobotFleet.FirmwareBridge.Simulator;
using RobotFleet.Maps;
using RobotFleet.Vda5050;

namespace RobotFleet.EdgeAgent;

/// <summary>Where a simulated robot starts: a waypoint (its VDA <c>lastNodeId</c>) and its site-local coordinates.</summary>
/// <param name="WaypointId">Waypoint id, reported as the robot's initial <c>lastNodeId</c>.</param>
/// <param name="X">x in site-local metres (east).</param>
/// <param name="Y">y in site-local metres (north).</param>
/// <param name="MapId">Map level id.</param>
public sealed record RobotPlacement(string WaypointId, double X, double Y, string MapId)
{
    /// <summary>
    /// Picks <paramref name="count"/> distinct start waypoints on a map: parking and charger locations
    /// first, then other named locations, then the remaining waypoints, each group in id order.
    /// </summary>
    /// <exception cref="ArgumentException">The map has fewer than <paramref name="count"/> waypoints (<see cref="TooMany"/>).</exception>
    public static IReadOnlyList<RobotPlacement> FromMap(SiteMap map, int count)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (TooMany(map, count) is { } tooMany)
            throw new ArgumentException(tooMany, nameof(count));
        var byName = map.Locations.Values.OrderBy(l => l.Name, StringComparer.Ordinal).ToList();
        var preferred = byName.Where(l => l.Kinds.Contains(LocationKind.Parking) || l.Kinds.Contains(LocationKind.Charger)).Select(l => l.WaypointId);
        var named = byName.Select(l => l.WaypointId);
        var rest = map.Waypoints.Keys.Order(StringComparer.Ordinal);
        var chosen = preferred.Concat(named).Concat(rest).Distinct().Take(count)
            .Select(id => map.Waypoints[id])
            .Select(w => new RobotPlacement(w.Id, w.X, w.Y, w.LevelId))
            .ToList();
        return chosen;
    }

    /// <summary>
    /// Why <paramref name="count"/> robots cannot start on the map, one waypoint each (<see cref="FromMap"/>), for a refusal
    /// naming the option: <c>the map 'office' has 29 waypoints, one robot each at most</c>; null when they can.
    /// </summary>
    public static string? TooMany(SiteMap map, int count)
    {
        ArgumentNullException.ThrowIfNull(map);
        return count > map.Waypoints.Count
            ? FormattableString.Invariant($"the map '{map.Id}' has {map.Waypoints.Count} waypoints, one robot each at most")
            : null;
    }
}

/// <summary>Settings of a <see cref="SimulatedFleet"/>.</summary>
public sealed record SimulatedFleetOptions
{
    /// <summary>MQTT broker address, <c>mqtt://host:port</c> or <c>mqtts://host:port</c> (TLS), optionally with <c>user:password@</c>.</summary>
    public Uri Broker { get; init; } = new("mqtt://127.0.0.1:1883");

    /// <summary>CA file for an <c>mqtts://</c> broker (see <see cref="EdgeAgentOptions.BrokerCaFile"/>); null: the system trust store.</summary>
    public string? BrokerCaFile { get; init; }

    /// <summary>MQTT user name of every robot; null: the URL's, or none.</summary>
    public string? BrokerUsername { get; init; }

    /// <summary>MQTT password of every robot; null: the URL's, or none.</summary>
    public string? BrokerPassword { get; init; }

    /// <summary>MQTT protocol version of every robot's client.</summary>
    public MqttProtocolVersion ProtocolVersion { get; init; } = MqttProtocolVersion.V500;

    /// <summary>VDA 5050 interface name (first topic level).</summary>
    public string InterfaceName { get; init; } = Vda5050Topics.DefaultInterfaceName;

    /// <summary>Manufacturer of every robot.</summary>
    public string Manufacturer { get; init; } = "RobotFleet";

    /// <summary>Serial numbers are <c>{SerialPrefix}-1</c> … <c>{SerialPrefix}-N</c>.</summary>
    public string SerialPrefix { get; init; } = "sim";

    /// <summary>Start positions, one robot per entry (see <see cref="RobotPlacement.FromMap"/>).</summary>
    public required IReadOnlyList<RobotPlacement> Placements { get; init; }

    /// <summary>Simulated seconds per real second for every robot.</summary>
    public double TimeScale { get; init; } = 1;

    /// <summary>Template for each robot's simulation (speed, battery, action durations); pose and time scale are set per robot.</summary>
    public SimulatedRobotOptions Robot { get; init; } = new();

    /// <summary>
    /// Template for each robot's agent settings (rates, backoff, log, trusted keys); broker, identity and start node are set
    /// per robot, and a <see cref="EdgeAgentOptions.ModelDirectory"/> becomes <c>{dir}/{serialNumber}</c>.
    /// </summary>
    public EdgeAgentOptions Agent { get; init; } = new() { SerialNumber = "template" };
}

/// <summary>
/// N simulated robots, each with its own <see cref="SimulatedRobot"/>, <see cref="EdgeAgent"/> and
/// MQTT client, for the standalone agent and for in-process demos and tests. Thread-safe.
/// </summary>
public sealed class SimulatedFleet : IAsyncDisposable
{
    private readonly List<(EdgeAgent Agent, SimulatedRobot Robot)> members;

    private SimulatedFleet(List<(EdgeAgent, SimulatedRobot)> members) => this.members = members;

    /// <summary>The robots' agents, in serial-number order (<c>{prefix}-1</c> first).</summary>
    public IReadOnlyList<EdgeAgent> Agents => members.ConvertAll(m => m.Agent);

    /// <summary>Creates and starts one simulated robot per placement; each connects in the background.</summary>
    /// <exception cref="ArgumentException">No placements, or a non-positive time scale.</exception>
    public static async Task<SimulatedFleet> StartAsync(SimulatedFleetOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Placements.Count == 0)
        {
            throw new ArgumentException("A simulated fleet needs at least one placement.", nameof(options));
        }

        var members = new List<(EdgeAgent, SimulatedRobot)>();
        var fleet = new SimulatedFleet(members);
        try
        {
            for (var i = 0; i < options.Placements.Count; i++)
            {
                var place = options.Placements[i];
                var robot = new SimulatedRobot(options.Robot with
                {
                    InitialPose = new Pose(place.X, place.Y, 0, place.MapId),
                    TimeScale = options.TimeScale,
                });
                var serial = $"{options.SerialPrefix}-{i + 1}";
                var agent = new EdgeAgent(options.Agent with
                {
                    ModelDirectory = options.Agent.ModelDirectory is { } models ? Path.Combine(models, serial) : null,
                    Broker = options.Broker,
                    BrokerCaFile = options.BrokerCaFile,
                    BrokerUsername = options.BrokerUsername,
                    BrokerPassword = options.BrokerPassword,
                    ProtocolVersion = options.ProtocolVersion,
                    InterfaceName = options.InterfaceName,
                    Manufacturer = options.Manufacturer,
                    SerialNumber = serial,
                    InitialLastNodeId = place.WaypointId,
                }, robot);
                members.Add((agent, robot));
                await agent.StartAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            await fleet.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return fleet;
    }

    /// <summary>Finds a robot's simulation by serial number (to place obstacles in its world, say), or null.</summary>
    public SimulatedRobot? Simulation(string serialNumber) => members.Find(m => m.Agent.SerialNumber == serialNumber).Robot;

    /// <summary>Finds a robot's agent by serial number, or null.</summary>
    public EdgeAgent? Find(string serialNumber) => members.Find(m => m.Agent.SerialNumber == serialNumber).Agent;

    /// <summary>Stops every agent gracefully (OFFLINE published) and disposes the simulations.</summary>
    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(members.Select(async m =>
        {
            await m.Agent.DisposeAsync().ConfigureAwait(false);
            await m.Robot.DisposeAsync().ConfigureAwait(false);
        })).ConfigureAwait(false);
    }
}
