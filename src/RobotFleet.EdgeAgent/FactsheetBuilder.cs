using RobotFleet.Vda5050.V2;

namespace RobotFleet.EdgeAgent;

/// <summary>Builds the minimal VDA 5050 2.1 factsheet (§6.15) of a robot from the agent options and the firmware's actions.</summary>
internal static class FactsheetBuilder
{
    private static readonly string[] AllScopes = ["INSTANT", "NODE", "EDGE"];

    public static Factsheet Build(EdgeAgentOptions options, IReadOnlyCollection<string> firmwareActions, long headerId, DateTimeOffset now) => new()
    {
        HeaderId = headerId,
        Timestamp = now,
        Manufacturer = options.Manufacturer,
        SerialNumber = options.SerialNumber,
        TypeSpecification = new TypeSpecification
        {
            SeriesName = options.SeriesName,
            AgvKinematic = "DIFF",
            AgvClass = "CARRIER",
            MaxLoadMass = 50,
            LocalizationTypes = ["NATURAL"],
            NavigationTypes = ["AUTONOMOUS"],
        },
        PhysicalParameters = new PhysicalParameters
        {
            SpeedMin = 0.01,
            SpeedMax = options.MaxSpeed,
            AccelerationMax = 0.5,
            DecelerationMax = 0.5,
            HeightMax = 1.2,
            Width = 0.6,
            Length = 0.8,
        },
        ProtocolLimits = new ProtocolLimits
        {
            Timing = new Timing
            {
                MinOrderInterval = 0.1,
                MinStateInterval = 0.05,
                DefaultStateInterval = options.StateInterval.TotalSeconds,
                VisualizationInterval = options.VisualizationInterval.TotalSeconds,
            },
        },
        ProtocolFeatures = new ProtocolFeatures
        {
            OptionalParameters = [],
            AgvActions =
            [
                .. EdgeAgent.AgentInstantActions.Select(type => new AgvAction
                {
                    ActionType = type,
                    ActionScopes = ["INSTANT"],
                    ActionParameters = type == "initPosition"
                        ? [new("x", "FLOAT"), new("y", "FLOAT"), new("theta", "FLOAT"), new("mapId", "STRING"), new("lastNodeId", "STRING")]
                        : EdgeAgent.ModelActions.TryGetValue(type, out var modelParameters) ? [.. modelParameters.Select(p => new AgvActionParameter(p, "STRING"))] : null,
                }),
                .. firmwareActions.Select(type => new AgvAction { ActionType = type, ActionScopes = AllScopes }),
            ],
        },
        AgvGeometry = new AgvGeometry(),
        LoadSpecification = new LoadSpecification
        {
            LoadPositions = ["default"],
            LoadSets = [new LoadSet { SetName = "DEFAULT", LoadType = "BOX", MaxWeight = 50 }],
        },
    };
}
