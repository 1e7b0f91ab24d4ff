using RobotFleet.FirmwareBridge;
using RobotFleet.FirmwareBridge.Simulator;
using RobotFleet.Vda5050;
using RobotFleet.Vda5050.V2;
using VdaAction = RobotFleet.Vda5050.V2.Action;

namespace RobotFleet.EdgeAgent.Tests;

/// <summary>Broker + one simulated robot + its agent + a recorder, all started; robot starts on node n1 at (0, 0) on map L1.</summary>
internal sealed class Harness : IAsyncDisposable
{
    public const string Manufacturer = "TestCo";
    public const string Serial = "r1";
    public const double TimeScale = 50;

    private long headerId;

    private Harness(TestBroker broker, SimulatedRobot robot, EdgeAgent agent, Recorder recorder)
    {
        Broker = broker;
        Robot = robot;
        Agent = agent;
        Recorder = recorder;
    }

    public TestBroker Broker { get; }

    public SimulatedRobot Robot { get; }

    public EdgeAgent Agent { get; private set; }

    public Recorder Recorder { get; }

    /// <summary>Stops the agent (OFFLINE) and starts a new one on the same robot with <paramref name="options"/>, as a process restart would.</summary>
    public async Task RestartAgentAsync(EdgeAgentOptions options)
    {
        await Agent.DisposeAsync();
        Agent = new EdgeAgent(options, Robot);
        await Agent.StartAsync();
        await Recorder.WaitForAsync<Connection>("connection", c => c.ConnectionState == ConnectionState.Online && Agent.IsConnected);
    }

    public static async Task<Harness> StartAsync(double battery = 100, Func<EdgeAgentOptions, EdgeAgentOptions>? configure = null)
    {
        var broker = await TestBroker.StartAsync();
        var recorder = await Recorder.ConnectAsync(broker, Manufacturer, Serial);
        var robot = new SimulatedRobot(new SimulatedRobotOptions
        {
            TimeScale = TimeScale,
            TickInterval = TimeSpan.FromMilliseconds(10),
            InitialPose = new Pose(0, 0, 0, "L1"),
            InitialBattery = battery,
        });
        await recorder.SubscribeExtensionsAsync(Manufacturer, Serial);
        var agent = new EdgeAgent(configure is null ? Options(broker) : configure(Options(broker)), robot);
        await agent.StartAsync();
        var harness = new Harness(broker, robot, agent, recorder);
        await recorder.WaitForAsync<Connection>("connection", c => c.ConnectionState == ConnectionState.Online);
        return harness;
    }

    public static EdgeAgentOptions Options(TestBroker broker) => new()
    {
        Broker = broker.Uri,
        Manufacturer = Manufacturer,
        SerialNumber = Serial,
        InitialLastNodeId = "n1",
        StateInterval = TimeSpan.FromMilliseconds(200),
        IdleStateInterval = TimeSpan.FromMilliseconds(200),
        VisualizationInterval = TimeSpan.FromMilliseconds(200),
        ReconnectDelayMin = TimeSpan.FromMilliseconds(50),
        ReconnectDelayMax = TimeSpan.FromMilliseconds(300),
    };

    public static Node N(string id, long sequenceId, double x, bool released = true, params VdaAction[] actions) => new()
    {
        NodeId = id,
        SequenceId = sequenceId,
        Released = released,
        NodePosition = new NodePosition { X = x, Y = 0, MapId = "L1" },
        Actions = actions,
    };

    public static Edge E(string id, long sequenceId, string from, string to, bool released = true, double? maxSpeed = null) => new()
    {
        EdgeId = id,
        SequenceId = sequenceId,
        StartNodeId = from,
        EndNodeId = to,
        Released = released,
        MaxSpeed = maxSpeed,
    };

    public static VdaAction A(string type, string id, BlockingType blocking = BlockingType.Hard) => new() { ActionType = type, ActionId = id, BlockingType = blocking };

    public Order Order(string orderId, long updateId, Node[] nodes, Edge[] edges) => new()
    {
        HeaderId = Interlocked.Increment(ref headerId),
        Timestamp = DateTimeOffset.UtcNow,
        Manufacturer = Manufacturer,
        SerialNumber = Serial,
        OrderId = orderId,
        OrderUpdateId = updateId,
        Nodes = nodes,
        Edges = edges,
    };

    public Task SendAsync(Order order) => Recorder.PublishAsync("order", Vda5050Json.SerializeToUtf8Bytes(order));

    public Task SendInstantAsync(params VdaAction[] actions) => Recorder.PublishAsync("instantActions", Vda5050Json.SerializeToUtf8Bytes(new InstantActions
    {
        HeaderId = Interlocked.Increment(ref headerId),
        Timestamp = DateTimeOffset.UtcNow,
        Manufacturer = Manufacturer,
        SerialNumber = Serial,
        Actions = actions,
    }));

    public Task<State> WaitForStateAsync(Func<State, bool> match, double seconds = 30) => Recorder.WaitForAsync("state", match, seconds);

    /// <summary>Sends a stateRequest and waits for it to finish: every message sent before it has been handled.</summary>
    public async Task<State> SyncAsync()
    {
        var id = $"sync-{Guid.NewGuid():N}";
        await SendInstantAsync(A("stateRequest", id, BlockingType.None));
        return await WaitForStateAsync(s => s.ActionStates.Any(a => a.ActionId == id && a.ActionStatus == ActionStatus.Finished));
    }

    public async ValueTask DisposeAsync()
    {
        await Agent.DisposeAsync();
        await Robot.DisposeAsync();
        await Recorder.DisposeAsync();
        await Broker.DisposeAsync();
    }
}
