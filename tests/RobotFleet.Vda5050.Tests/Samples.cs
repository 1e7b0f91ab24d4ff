using RobotFleet.Vda5050.V2;

namespace RobotFleet.Vda5050.Tests;

/// <summary>Fully populated and minimal examples of every message RobotFleet sends.</summary>
internal static class Samples
{
    public const string Manufacturer = "acme";
    public const string SerialNumber = "amr-7";
    public static readonly DateTimeOffset Timestamp = new(2024, 5, 1, 12, 0, 0, 123, TimeSpan.Zero);

    /// <summary>A → B → C released, D in the horizon; actions at nodes and on an edge, a trajectory.</summary>
    public static Order FullOrder() => Orders.Path("A", "B", "C", "D").WithHorizonFrom(3)
        .WithNode(0, n => n with
        {
            NodeDescription = "dock",
            NodePosition = new NodePosition { X = 1.5, Y = -2.25, Theta = 3.14, AllowedDeviationXY = 0.05, AllowedDeviationTheta = 0.1, MapId = "floor-1", MapDescription = "ground floor" },
            Actions = [Orders.Action("pick", "pick-1", BlockingType.Hard, ActionParameter.Of("stationType", "floor"), ActionParameter.Of("height", 0.35))],
        })
        .WithNode(2, n => n with { Actions = [Orders.Action("drop", "drop-1", BlockingType.Hard, ActionParameter.Of("loadType", "EPAL"))] })
        .WithEdge(0, e => e with
        {
            EdgeDescription = "aisle 3",
            MaxSpeed = 1.2,
            MaxHeight = 2.0,
            MinHeight = 0.1,
            Orientation = 0.0,
            OrientationType = "TANGENTIAL",
            Direction = "left",
            RotationAllowed = false,
            MaxRotationSpeed = 0.5,
            Length = 4.2,
            Trajectory = new Trajectory
            {
                Degree = 1,
                KnotVector = [0, 0, 1, 1],
                ControlPoints = [new ControlPoint { X = 0, Y = 0, Weight = 1 }, new ControlPoint { X = 1, Y = 0 }],
            },
            Actions = [Orders.Action("beep", "beep-1", BlockingType.None, ActionParameter.Of("durationSeconds", 2))],
        }) with
    { ZoneSetId = "zones-1" };

    public static Order MinimalOrder() => new()
    {
        Timestamp = Timestamp,
        Manufacturer = Manufacturer,
        SerialNumber = SerialNumber,
        OrderId = "order-min",
        OrderUpdateId = 0,
        Nodes = [new Node { NodeId = "A", SequenceId = 0, Released = true }],
    };

    public static InstantActions FullInstantActions() => new()
    {
        HeaderId = 3,
        Timestamp = Timestamp,
        Manufacturer = Manufacturer,
        SerialNumber = SerialNumber,
        Actions =
        [
            Orders.Action("cancelOrder", "cancel-1", BlockingType.Hard),
            Orders.Action("startPause", "pause-1", BlockingType.Hard) with { ActionDescription = "operator pause" },
            Orders.Action("initPosition", "init-1", BlockingType.Hard,
                ActionParameter.Of("x", 1.5), ActionParameter.Of("y", 2.5), ActionParameter.Of("theta", 0.0),
                ActionParameter.Of("mapId", "floor-1"), ActionParameter.Of("lastNodeId", "A")),
        ],
    };

    public static InstantActions MinimalInstantActions() => new() { Timestamp = Timestamp, Manufacturer = Manufacturer, SerialNumber = SerialNumber };

    public static State FullState() => new()
    {
        HeaderId = 42,
        Timestamp = Timestamp,
        Manufacturer = Manufacturer,
        SerialNumber = SerialNumber,
        OrderId = Orders.OrderId,
        OrderUpdateId = 2,
        ZoneSetId = "zones-1",
        LastNodeId = "A",
        LastNodeSequenceId = 0,
        Driving = true,
        Paused = false,
        NewBaseRequest = false,
        DistanceSinceLastNode = 0.75,
        OperatingMode = OperatingMode.Automatic,
        NodeStates =
        [
            new NodeState { NodeId = "B", SequenceId = 2, Released = true, NodeDescription = "aisle end", NodePosition = new NodePosition { X = 1, Y = 0, MapId = "floor-1" } },
            new NodeState { NodeId = "C", SequenceId = 4, Released = false },
        ],
        EdgeStates =
        [
            new EdgeState
            {
                EdgeId = "A-B", SequenceId = 1, Released = true, EdgeDescription = "aisle 3",
                Trajectory = new Trajectory { Degree = 1, KnotVector = [0, 0, 1, 1], ControlPoints = [new ControlPoint { X = 0, Y = 0 }, new ControlPoint { X = 1, Y = 0, Weight = 1 }] },
            },
            new EdgeState { EdgeId = "B-C", SequenceId = 3, Released = false },
        ],
        AgvPosition = new AgvPosition { X = 0.75, Y = 0.01, Theta = -0.02, MapId = "floor-1", MapDescription = "ground floor", PositionInitialized = true, LocalizationScore = 0.93, DeviationRange = 0.05 },
        Velocity = new Velocity { Vx = 0.8, Vy = 0, Omega = 0.01 },
        Loads = [new Load { LoadId = "pallet-9", LoadType = "EPAL", LoadPosition = "front", Weight = 250 }],
        ActionStates =
        [
            new ActionState { ActionId = "pick-1", ActionType = "pick", ActionDescription = "pick pallet", ActionStatus = ActionStatus.Finished, ResultDescription = "pallet-9" },
            new ActionState { ActionId = "drop-1", ActionType = "drop", ActionStatus = ActionStatus.Waiting },
        ],
        BatteryState = new BatteryState { BatteryCharge = 81.5, BatteryVoltage = 48.2, BatteryHealth = 97, Charging = false, Reach = 12000 },
        Errors =
        [
            new Error
            {
                ErrorType = OrderErrorTypes.OrderUpdate,
                ErrorReferences = [new Reference("headerId", "17"), new Reference("orderId", Orders.OrderId)],
                ErrorDescription = "update does not start at the last base node",
                ErrorHint = "resend the update from node C",
                ErrorLevel = ErrorLevel.Warning,
            },
        ],
        Information = [new Information { InfoType = "battery", InfoReferences = [new Reference("cell", "3")], InfoDescription = "cell 3 warm", InfoLevel = "INFO" }],
        SafetyState = new SafetyState { EStop = "NONE", FieldViolation = false },
    };

    public static State MinimalState() => new() { Timestamp = Timestamp, Manufacturer = Manufacturer, SerialNumber = SerialNumber };

    public static Connection Connection(ConnectionState state) => new()
    {
        HeaderId = 5,
        Timestamp = Timestamp,
        Manufacturer = Manufacturer,
        SerialNumber = SerialNumber,
        ConnectionState = state,
    };

    public static Factsheet FullFactsheet() => MinimalFactsheet() with
    {
        HeaderId = 1,
        TypeSpecification = new TypeSpecification
        {
            SeriesName = "AMR-7", SeriesDescription = "pallet mover", AgvKinematic = "DIFF", AgvClass = "CARRIER", MaxLoadMass = 1000,
            LocalizationTypes = ["NATURAL", "REFLECTOR"], NavigationTypes = ["AUTONOMOUS"],
        },
        PhysicalParameters = new PhysicalParameters { SpeedMin = 0.01, SpeedMax = 1.5, AccelerationMax = 0.5, DecelerationMax = 0.8, HeightMin = 0.3, HeightMax = 0.5, Width = 0.8, Length = 1.2 },
        ProtocolLimits = new ProtocolLimits
        {
            MaxStringLens = new Dictionary<string, long> { ["msgLen"] = 65536, ["idLen"] = 64 },
            MaxArrayLens = new Dictionary<string, long> { ["order.nodes"] = 100, ["order.edges"] = 99 },
            Timing = new Timing { MinOrderInterval = 0.5, MinStateInterval = 0.1, DefaultStateInterval = 30, VisualizationInterval = 0.2 },
        },
        ProtocolFeatures = new ProtocolFeatures
        {
            OptionalParameters = [new OptionalParameter("order.nodes.nodePosition.allowedDeviationTheta", "SUPPORTED", "honoured")],
            AgvActions =
            [
                new AgvAction
                {
                    ActionType = "pick", ActionDescription = "pick a load", ActionScopes = ["NODE"], ResultDescription = "load id",
                    ActionParameters = [new AgvActionParameter("stationType", "STRING", "station", IsOptional: true), new AgvActionParameter("height", "NUMBER")],
                    // BlockingTypes stays unset: the 2.1.0 schema puts a string enum on this array, so no array value validates.
                },
                new AgvAction { ActionType = "cancelOrder", ActionScopes = ["INSTANT"] },
            ],
        },
        AgvGeometry = new AgvGeometry
        {
            Envelopes2d = [new Envelope2d { Set = "default", Description = "footprint", PolygonPoints = [new ControlPoint { X = 0.6, Y = 0.4 }, new ControlPoint { X = -0.6, Y = 0.4 }, new ControlPoint { X = -0.6, Y = -0.4 }] }],
        },
        LoadSpecification = new LoadSpecification
        {
            LoadPositions = ["front"],
            LoadSets = [new LoadSet { SetName = "DEFAULT", LoadType = "EPAL", MaxWeight = 1000, PickTime = 8, DropTime = 6 }],
        },
    };

    public static Factsheet MinimalFactsheet() => new()
    {
        Timestamp = Timestamp,
        Manufacturer = Manufacturer,
        SerialNumber = SerialNumber,
        TypeSpecification = new TypeSpecification { SeriesName = "AMR-7", AgvKinematic = "DIFF", AgvClass = "CARRIER", MaxLoadMass = 0 },
        PhysicalParameters = new PhysicalParameters { SpeedMin = 0, SpeedMax = 1, AccelerationMax = 1, DecelerationMax = 1, HeightMax = 0.5, Width = 0.8, Length = 1.2 },
        ProtocolLimits = new ProtocolLimits { Timing = new Timing { MinOrderInterval = 1, MinStateInterval = 1 } },
        ProtocolFeatures = new ProtocolFeatures(),
    };

    public static Visualization FullVisualization() => new()
    {
        HeaderId = 9,
        Timestamp = Timestamp,
        Manufacturer = Manufacturer,
        SerialNumber = SerialNumber,
        AgvPosition = new AgvPosition { X = 1, Y = 2, Theta = 0.5, MapId = "floor-1", PositionInitialized = true, LocalizationScore = 0.9 },
        Velocity = new Velocity { Vx = 0.5, Omega = 0.1 },
    };

    public static Visualization MinimalVisualization() => new() { Timestamp = Timestamp, Manufacturer = Manufacturer, SerialNumber = SerialNumber };
}
