using RobotFleet.ControlPlane.Models;
using RobotFleet.EdgeAgent;
using RobotFleet.Maps;

namespace RobotFleet.Server.Hosting;

/// <summary>
/// Starts N simulated robots in process (each an edge agent with its own MQTT client on the
/// embedded broker), placed on distinct parking or charger locations, and stops them on shutdown.
/// </summary>
public sealed class SimulatedRobots(ServerOptions options, SiteMap map, IServiceProvider services, ILogger<SimulatedRobots> logger) : IHostedService
{
    /// <summary>The running fleet; null before start or with no robots.</summary>
    public SimulatedFleet? Fleet { get; private set; }

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.NoSimulation || options.Robots <= 0)
            return;
        Fleet = await SimulatedFleet.StartAsync(new SimulatedFleetOptions
        {
            Broker = options.Broker ?? new Uri($"mqtt://127.0.0.1:{services.GetRequiredService<EmbeddedBroker>().Port}"),
            BrokerCaFile = options.Broker is null ? null : options.MqttCaFile,
            BrokerUsername = options.Broker is null ? null : options.MqttUsername,
            BrokerPassword = options.Broker is null ? null : options.MqttPassword,
            ProtocolVersion = RobotFleet.Vda5050.MqttBrokerSettings.ParseProtocol(options.MqttProtocol) == RobotFleet.Vda5050.MqttProtocol.V311
                ? MQTTnet.Formatter.MqttProtocolVersion.V311 : MQTTnet.Formatter.MqttProtocolVersion.V500,
            Placements = RobotPlacement.FromMap(map, options.Robots),
            TimeScale = options.TimeScale,
            // Each robot keeps its models in {dir}/{serial} and trusts the fleet's registry key, so rollouts reach it.
            Agent = new EdgeAgentOptions
            {
                SerialNumber = "template",
                ModelDirectory = ModelDirectory(),
                TrustedKeys = [services.GetRequiredService<ModelRegistry>().SigningPublicKeyPem],
                PerceptionRate = options.PerceptionRate,
                ModelStatusInterval = options.SimulatedModelStatusInterval,
            },
        }, cancellationToken);
        logger.LogInformation("Started {Count} simulated robots on map '{Map}' at time scale x{Scale}", options.Robots, map.Id, options.TimeScale);
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Fleet is not null)
            await Fleet.DisposeAsync();
        if (_temporary is not null && Directory.Exists(_temporary))
            Directory.Delete(_temporary, recursive: true);
    }

    private string? _temporary;

    /// <summary>The simulated robots' model directory: <c>{data}/simulated-robots</c>, or a temporary one without a data directory.</summary>
    private string ModelDirectory()
    {
        if (options.DataDirectory is { } data)
            return Directory.CreateDirectory(Path.Combine(data, "simulated-robots")).FullName;
        _temporary = Directory.CreateTempSubdirectory("robotfleet-sim-models-").FullName;
        return _temporary;
    }
}
