using System.Diagnostics.CodeAnalysis;
namespace RobotFleet.Vda5050.V2;

/// <summary>The VDA 5050 factsheet message (topic <c>factsheet</c>, §6.15, retained): what the robot is and can do.</summary>
public sealed record Factsheet : Header
{
    /// <summary>Type of robot.</summary>
    public required TypeSpecification TypeSpecification { get; init; }

    /// <summary>Physical parameters.</summary>
    public required PhysicalParameters PhysicalParameters { get; init; }

    /// <summary>Protocol limits.</summary>
    public required ProtocolLimits ProtocolLimits { get; init; }

    /// <summary>Protocol features, including the supported actions.</summary>
    public required ProtocolFeatures ProtocolFeatures { get; init; }

    /// <summary>Geometry (envelopes, wheels).</summary>
    [AllowNull] public AgvGeometry AgvGeometry { get; init => field = value ?? new(); } = new();

    /// <summary>Load handling.</summary>
    [AllowNull] public LoadSpecification LoadSpecification { get; init => field = value ?? new(); } = new();
}

/// <summary>Robot type (§6.15.1).</summary>
public sealed record TypeSpecification
{
    /// <summary>Series name.</summary>
    public required string SeriesName { get; init; }

    /// <summary>Series description.</summary>
    public string? SeriesDescription { get; init; }

    /// <summary><c>DIFF</c>, <c>OMNI</c> or <c>THREEWHEEL</c>.</summary>
    public required string AgvKinematic { get; init; }

    /// <summary><c>FORKLIFT</c>, <c>CONVEYOR</c>, <c>TUGGER</c> or <c>CARRIER</c>.</summary>
    public required string AgvClass { get; init; }

    /// <summary>Maximum load, kg.</summary>
    public required double MaxLoadMass { get; init; }

    /// <summary>Localisation types, e.g. <c>NATURAL</c>.</summary>
    [AllowNull] public IReadOnlyList<string> LocalizationTypes { get; init => field = value ?? []; } = [];

    /// <summary>Navigation types, e.g. <c>VIRTUAL_LINE_GUIDED</c>.</summary>
    [AllowNull] public IReadOnlyList<string> NavigationTypes { get; init => field = value ?? []; } = [];
}

/// <summary>Physical parameters (§6.15.2): m/s, m/s², metres.</summary>
public sealed record PhysicalParameters
{
    /// <summary>Minimum controlled speed, m/s.</summary>
    public required double SpeedMin { get; init; }

    /// <summary>Maximum speed, m/s.</summary>
    public required double SpeedMax { get; init; }

    /// <summary>Maximum acceleration, m/s².</summary>
    public required double AccelerationMax { get; init; }

    /// <summary>Maximum deceleration, m/s².</summary>
    public required double DecelerationMax { get; init; }

    /// <summary>Minimum height, metres.</summary>
    public double? HeightMin { get; init; }

    /// <summary>Maximum height, metres.</summary>
    public required double HeightMax { get; init; }

    /// <summary>Width, metres.</summary>
    public required double Width { get; init; }

    /// <summary>Length, metres.</summary>
    public required double Length { get; init; }
}

/// <summary>Protocol limits (§6.15.3).</summary>
public sealed record ProtocolLimits
{
    /// <summary>Maximum string lengths (keys as in the schema); empty means no limits.</summary>
    [AllowNull] public IReadOnlyDictionary<string, long> MaxStringLens { get; init => field = value ?? new Dictionary<string, long>(); } = new Dictionary<string, long>();

    /// <summary>Maximum array lengths (keys as in the schema, e.g. <c>order.nodes</c>).</summary>
    [AllowNull] public IReadOnlyDictionary<string, long> MaxArrayLens { get; init => field = value ?? new Dictionary<string, long>(); } = new Dictionary<string, long>();

    /// <summary>Timing limits.</summary>
    public required Timing Timing { get; init; }
}

/// <summary>Timing limits, seconds.</summary>
public sealed record Timing
{
    /// <summary>Minimum interval between orders, seconds.</summary>
    public required double MinOrderInterval { get; init; }

    /// <summary>Minimum interval between states, seconds.</summary>
    public required double MinStateInterval { get; init; }

    /// <summary>Default state interval, seconds.</summary>
    public double? DefaultStateInterval { get; init; }

    /// <summary>Visualization interval, seconds.</summary>
    public double? VisualizationInterval { get; init; }
}

/// <summary>Protocol features (§6.15.4).</summary>
public sealed record ProtocolFeatures
{
    /// <summary>Supported optional parameters.</summary>
    [AllowNull] public IReadOnlyList<OptionalParameter> OptionalParameters { get; init => field = value ?? []; } = [];

    /// <summary>Supported actions.</summary>
    [AllowNull] public IReadOnlyList<AgvAction> AgvActions { get; init => field = value ?? []; } = [];
}

/// <summary>An optional protocol parameter the robot supports.</summary>
/// <param name="Parameter">Full name, e.g. <c>order.nodes.nodePosition.allowedDeviationTheta</c>.</param>
/// <param name="Support"><c>SUPPORTED</c> or <c>REQUIRED</c>.</param>
/// <param name="Description">Optional description.</param>
public sealed record OptionalParameter(string Parameter, string Support, string? Description = null);

/// <summary>An action the robot supports.</summary>
public sealed record AgvAction
{
    /// <summary>Action type.</summary>
    public required string ActionType { get; init; }

    /// <summary>Description.</summary>
    public string? ActionDescription { get; init; }

    /// <summary>Scopes: <c>INSTANT</c>, <c>NODE</c>, <c>EDGE</c>.</summary>
    [AllowNull] public IReadOnlyList<string> ActionScopes { get; init => field = value ?? []; } = [];

    /// <summary>Parameters the action takes.</summary>
    public IReadOnlyList<AgvActionParameter>? ActionParameters { get; init; }

    /// <summary>Result description.</summary>
    public string? ResultDescription { get; init; }

    /// <summary>Allowed blocking types.</summary>
    public IReadOnlyList<BlockingType>? BlockingTypes { get; init; }
}

/// <summary>A parameter of a supported action.</summary>
/// <param name="Key">Key.</param>
/// <param name="ValueDataType"><c>BOOL</c>, <c>NUMBER</c>, <c>INTEGER</c>, <c>FLOAT</c>, <c>STRING</c>, <c>OBJECT</c> or <c>ARRAY</c>.</param>
/// <param name="Description">Description.</param>
/// <param name="IsOptional">True when optional.</param>
public sealed record AgvActionParameter(string Key, string ValueDataType, string? Description = null, bool? IsOptional = null);

/// <summary>Geometry (§6.15.5): envelopes in metres, robot frame.</summary>
public sealed record AgvGeometry
{
    /// <summary>2-D envelopes.</summary>
    public IReadOnlyList<Envelope2d>? Envelopes2d { get; init; }
}

/// <summary>A 2-D envelope polygon in the robot frame, metres.</summary>
public sealed record Envelope2d
{
    /// <summary>Name of the set, e.g. <c>default</c>.</summary>
    public required string Set { get; init; }

    /// <summary>Polygon vertices.</summary>
    [AllowNull] public IReadOnlyList<ControlPoint> PolygonPoints { get; init => field = value ?? []; } = [];

    /// <summary>Description.</summary>
    public string? Description { get; init; }
}

/// <summary>Load handling (§6.15.6).</summary>
public sealed record LoadSpecification
{
    /// <summary>Load positions.</summary>
    public IReadOnlyList<string>? LoadPositions { get; init; }

    /// <summary>Load sets.</summary>
    public IReadOnlyList<LoadSet>? LoadSets { get; init; }
}

/// <summary>A kind of load the robot can carry.</summary>
public sealed record LoadSet
{
    /// <summary>Set name.</summary>
    public required string SetName { get; init; }

    /// <summary>Load type.</summary>
    public required string LoadType { get; init; }

    /// <summary>Maximum weight, kg.</summary>
    public double? MaxWeight { get; init; }

    /// <summary>Pick time, seconds.</summary>
    public double? PickTime { get; init; }

    /// <summary>Drop time, seconds.</summary>
    public double? DropTime { get; init; }
}
