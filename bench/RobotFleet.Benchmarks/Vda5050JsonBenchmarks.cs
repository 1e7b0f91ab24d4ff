using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using BenchmarkDotNet.Attributes;
using RobotFleet.Vda5050;
using RobotFleet.Vda5050.V2;

namespace RobotFleet.Benchmarks;

/// <summary>
/// VDA 5050 state round trip (serialise to UTF-8 + parse back) of a realistic mid-order state (10 node states,
/// 9 edge states, 5 action states): <see cref="Vda5050Json"/> (source-generated <see cref="Vda5050JsonContext"/>)
/// against reflection-based <see cref="JsonSerializer"/> with equivalent options.
/// </summary>
[MemoryDiagnoser]
public class Vda5050JsonBenchmarks
{
    /// <summary>The options Vda5050JsonContext is generated with, resolved by reflection instead.</summary>
    private static readonly JsonSerializerOptions ReflectionOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
        RespectNullableAnnotations = true,
        Converters = { new UtcTimestampConverter(), new LenientInt64Converter() },
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    };

    private State _state = null!;

    [GlobalSetup]
    public void Setup()
    {
        _state = RealisticState();
        // Both must write the same JSON and read back an equal message, or the comparison is meaningless.
        var ours = Vda5050Json.SerializeToUtf8Bytes(_state);
        var theirs = JsonSerializer.SerializeToUtf8Bytes(_state, ReflectionOptions);
        if (!ours.AsSpan().SequenceEqual(theirs))
        {
            throw new InvalidOperationException("Baseline options do not write the same JSON as Vda5050Json.");
        }
        var back = Vda5050Json.Deserialize<State>(ours);
        if (back.NodeStates.Count != 10 || back.ActionStates.Count != 5 || back.AgvPosition != _state.AgvPosition)
        {
            throw new InvalidOperationException("Round trip lost data.");
        }
        _ = JsonSerializer.Deserialize<State>(theirs, ReflectionOptions);
    }

    [Benchmark(Baseline = true, Description = "JsonSerializer reflection (baseline)")]
    public State Reflection()
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(_state, ReflectionOptions);
        return JsonSerializer.Deserialize<State>(bytes, ReflectionOptions)!;
    }

    [Benchmark(Description = "Vda5050Json (source-generated)")]
    public State SourceGenerated()
    {
        var bytes = Vda5050Json.SerializeToUtf8Bytes(_state);
        return Vda5050Json.Deserialize<State>(bytes);
    }

    internal static State RealisticState()
    {
        var nodes = Enumerable.Range(0, 10).Select(i => new NodeState
        {
            NodeId = $"L1_v{40 + i}",
            SequenceId = 2 * (i + 3),
            Released = i < 6,
            NodePosition = new NodePosition { X = 7.03 + i * 1.25, Y = -2.11 - i * 0.5, Theta = i * 0.3 - 1.5, AllowedDeviationXY = 0.1, MapId = "L1" },
        }).ToArray();
        var edges = Enumerable.Range(0, 9).Select(i => new EdgeState
        {
            EdgeId = $"lane-{40 + i}-{41 + i}",
            SequenceId = 2 * (i + 3) + 1,
            Released = i < 5,
        }).ToArray();
        string[] types = ["pick", "drop", "startCharging", "detectObject", "robotfleet.downloadModel"];
        ActionStatus[] statuses = [ActionStatus.Finished, ActionStatus.Running, ActionStatus.Waiting, ActionStatus.Waiting, ActionStatus.Failed];
        var actions = Enumerable.Range(0, 5).Select(i => new ActionState
        {
            ActionId = $"order-2024-000123/action-{i}",
            ActionType = types[i],
            ActionStatus = statuses[i],
            ResultDescription = i == 4 ? "download failed: hash mismatch for model person-detector 1.4.2" : null,
        }).ToArray();
        return new State
        {
            HeaderId = 123_456,
            Timestamp = new DateTimeOffset(2025, 11, 29, 12, 34, 56, 789, TimeSpan.Zero),
            Manufacturer = "RobotFleet",
            SerialNumber = "sim-0007",
            OrderId = "order-2024-000123",
            OrderUpdateId = 3,
            LastNodeId = "L1_v39",
            LastNodeSequenceId = 4,
            Driving = true,
            Paused = false,
            NewBaseRequest = false,
            DistanceSinceLastNode = 0.84,
            OperatingMode = OperatingMode.Automatic,
            NodeStates = nodes,
            EdgeStates = edges,
            AgvPosition = new AgvPosition { X = 6.21, Y = -1.98, Theta = 0.785, MapId = "L1", PositionInitialized = true, LocalizationScore = 0.97 },
            Velocity = new Velocity { Vx = 0.8, Vy = 0, Omega = 0.05 },
            Loads = [new Load { LoadId = "tote-42", LoadType = "tote", Weight = 3.5 }],
            ActionStates = actions,
            BatteryState = new BatteryState { BatteryCharge = 76.5, BatteryVoltage = 24.1, Charging = false, Reach = 5400 },
            Errors =
            [
                new Error
                {
                    ErrorType = "orderUpdateError",
                    ErrorLevel = ErrorLevel.Warning,
                    ErrorDescription = "order update 2 is older than 3",
                    ErrorReferences = [new Reference("orderId", "order-2024-000123"), new Reference("orderUpdateId", "2")],
                },
            ],
            Information = [new Information { InfoType = "perception", InfoLevel = "INFO", InfoDescription = "person-detector 1.4.1 active" }],
            SafetyState = new SafetyState { EStop = "NONE", FieldViolation = false },
        };
    }
}
