using RobotFleet.Contracts;
using RobotFleet.Vda5050.V2;
using static RobotFleet.Gateway.Tests.Routes;
using State = RobotFleet.Vda5050.V2.State;

namespace RobotFleet.Gateway.Tests;

public sealed class StateMapperTests
{
    internal static State BaseState(long headerId = 0) => new()
    {
        HeaderId = headerId,
        Timestamp = T0.AddSeconds(headerId),
        Manufacturer = "Acme",
        SerialNumber = "r1",
        OrderId = "order-1",
        OrderUpdateId = 0,
        LastNodeId = "w0",
        LastNodeSequenceId = 0,
        Driving = true,
        Paused = false,
        NodeStates = [new NodeState { NodeId = "w1", SequenceId = 2, Released = true }, new NodeState { NodeId = "w2", SequenceId = 4, Released = false }],
        ActionStates = [new ActionState { ActionId = "a-pick", ActionType = "pick", ActionStatus = ActionStatus.Running }],
        AgvPosition = new AgvPosition { X = 1, Y = 2, Theta = 0.5, MapId = "L1", PositionInitialized = true },
        BatteryState = new BatteryState { BatteryCharge = 80 },
    };

    private static RobotStateChanged Domain(State state) => StateMapper.ToDomain(R1, state);

    [Fact]
    public void Maps_a_state_into_the_domain()
    {
        var state = Domain(BaseState() with
        {
            Errors = [new Error { ErrorType = "noRouteError", ErrorLevel = ErrorLevel.Fatal, ErrorDescription = "blocked" }],
        });

        Assert.Equal((R1, T0, "order-1", 0L, "w0", 0L, true, false), (state.Robot, state.Timestamp, state.OrderId, state.OrderUpdateId, state.LastNodeId, state.LastNodeSequenceId, state.Driving, state.Paused));
        Assert.Equal(["w1", "w2"], state.PendingWaypointIds);
        Assert.Equal(new RobotActionProgress("a-pick", "pick", RobotActionStatus.Running, null), Assert.Single(state.Actions));
        Assert.Equal(new RobotErrorInfo("noRouteError", "FATAL", "blocked", null), Assert.Single(state.Errors));
        Assert.Equal(new RobotPosition(1, 2, 0.5, "L1"), state.Position);
        Assert.Equal(80, state.BatteryCharge);
    }

    [Fact]
    public void Absent_paused_and_pose_read_as_not_paused_and_unknown()
    {
        var state = Domain(BaseState() with { Paused = null, AgvPosition = null });

        Assert.False(state.Paused);
        Assert.Null(state.Position);
    }

    [Theory]
    [InlineData(null, null, null, null)]
    [InlineData("order-7", null, "order-7", null)]
    [InlineData("order-7", "3", "order-7", 3L)]
    [InlineData("order-7", "three", "order-7", null)]
    [InlineData("order-7", "-1", "order-7", null)]
    public void The_orderId_and_orderUpdateId_error_references_are_mapped(string? referencedOrder, string? referencedUpdate, string? expected, long? expectedUpdate)
    {
        List<Reference> references = [new Reference("headerId", "12")];
        if (referencedOrder is not null)
            references.AddRange([new Reference("orderId", referencedOrder), new Reference("nodeId", "w3")]);
        if (referencedUpdate is not null)
            references.Add(new Reference("orderUpdateId", referencedUpdate));
        var state = Domain(BaseState() with
        {
            Errors = [new Error { ErrorType = "orderUpdateError", ErrorLevel = ErrorLevel.Warning, ErrorReferences = references }],
        });

        var error = Assert.Single(state.Errors);
        Assert.Equal(("orderUpdateError", "WARNING", expected, expectedUpdate), (error.ErrorType, error.Level, error.OrderId, error.OrderUpdateId));
    }

    public static TheoryData<string, Func<State, State>, bool> Changes => new()
    {
        { "nothing", s => s with { HeaderId = s.HeaderId + 1, Timestamp = s.Timestamp.AddSeconds(0.1) }, false },
        { "pose", s => s with { AgvPosition = s.AgvPosition! with { X = 1.3, Theta = 0.7 } }, false },
        { "battery", s => s with { BatteryState = new BatteryState { BatteryCharge = 79.5, Charging = true } }, false },
        { "velocity", s => s with { Velocity = new Velocity { Vx = 0.4 } }, false },
        { "pose and battery", s => s with { AgvPosition = s.AgvPosition! with { Y = 9 }, BatteryState = new BatteryState { BatteryCharge = 10 } }, false },
        { "order", s => s with { OrderId = "order-2" }, true },
        { "order update", s => s with { OrderUpdateId = 1 }, true },
        { "last node", s => s with { LastNodeId = "w1", LastNodeSequenceId = 2 }, true },
        { "last node sequence", s => s with { LastNodeSequenceId = 8 }, true },
        { "driving", s => s with { Driving = false }, true },
        { "paused", s => s with { Paused = true }, true },
        { "pending nodes", s => s with { NodeStates = s.NodeStates.Skip(1).ToList() }, true },
        { "action status", s => s with { ActionStates = [s.ActionStates[0] with { ActionStatus = ActionStatus.Finished }] }, true },
        { "error", s => s with { Errors = [new Error { ErrorType = "x", ErrorLevel = ErrorLevel.Warning }] }, true },
    };

    [Theory]
    [MemberData(nameof(Changes))]
    public void Only_what_the_control_plane_reacts_to_is_significant(string what, Func<State, State> change, bool significant)
    {
        var before = BaseState();

        Assert.True(significant == StateMapper.IsSignificantChange(Domain(before), Domain(change(before))), what);
    }

    [Fact]
    public void The_first_state_is_significant()
    {
        Assert.True(StateMapper.IsSignificantChange(null, Domain(BaseState())));
    }

    [Fact]
    public void Node_reached_is_derived_once()
    {
        var s0 = Domain(BaseState());
        var s1 = Domain(BaseState(1) with { LastNodeId = "w1", LastNodeSequenceId = 2 });
        var s2 = Domain(BaseState(2) with { LastNodeId = "w1", LastNodeSequenceId = 2, Driving = false });

        Assert.Equal([new RobotNodeReached(R1, "order-1", "w1", 2, s1.Timestamp)], StateMapper.DerivedEvents(s0, s1).OfType<RobotNodeReached>());
        Assert.Empty(StateMapper.DerivedEvents(s1, s2).OfType<RobotNodeReached>());
    }

    [Fact]
    public void No_node_reached_while_the_last_node_is_unknown()
    {
        Assert.Empty(StateMapper.DerivedEvents(null, Domain(BaseState() with { LastNodeId = "" })).OfType<RobotNodeReached>());
    }

    [Theory]
    [InlineData(ActionStatus.Finished, RobotActionStatus.Finished)]
    [InlineData(ActionStatus.Failed, RobotActionStatus.Failed)]
    public void Action_ended_is_derived_once(ActionStatus end, RobotActionStatus expected)
    {
        var running = Domain(BaseState());
        var ended = Domain(BaseState(1) with { ActionStates = [new ActionState { ActionId = "a-pick", ActionType = "pick", ActionStatus = end, ResultDescription = "done" }] });
        var still = Domain(BaseState(2) with { ActionStates = ended.Actions.Select(a => new ActionState { ActionId = a.ActionId, ActionType = a.ActionType, ActionStatus = end, ResultDescription = "done" }).ToList(), Driving = false });

        var events = StateMapper.DerivedEvents(running, ended).OfType<RobotActionEnded>().ToList();
        Assert.Equal([new RobotActionEnded(R1, "order-1", new RobotActionProgress("a-pick", "pick", expected, "done"), ended.Timestamp)], events);
        Assert.Empty(StateMapper.DerivedEvents(ended, still).OfType<RobotActionEnded>());
        Assert.Empty(StateMapper.DerivedEvents(null, running).OfType<RobotActionEnded>());
    }

    [Fact]
    public void New_error_is_raised_once()
    {
        var blocked = new Error { ErrorType = "noRouteError", ErrorLevel = ErrorLevel.Fatal, ErrorDescription = "w3 blocked", ErrorReferences = [new Reference("orderId", "order-1")] };
        var low = new Error { ErrorType = "batteryLow", ErrorLevel = ErrorLevel.Warning };
        var s0 = Domain(BaseState());
        var s1 = Domain(BaseState(1) with { Errors = [blocked] });
        var s2 = Domain(BaseState(2) with { Errors = [blocked] });
        var s3 = Domain(BaseState(3) with { Errors = [blocked, low] });

        Assert.Equal([new RobotErrorRaised(R1, new RobotErrorInfo("noRouteError", "FATAL", "w3 blocked", "order-1"), s1.Timestamp)],
            StateMapper.DerivedEvents(s0, s1).OfType<RobotErrorRaised>());
        Assert.Empty(StateMapper.DerivedEvents(s1, s2).OfType<RobotErrorRaised>());
        Assert.Equal(["batteryLow"], StateMapper.DerivedEvents(s2, s3).OfType<RobotErrorRaised>().Select(e => e.Error.ErrorType));
    }

    [Fact]
    public void Apply_updates_the_twin_and_keeps_the_last_known_pose()
    {
        var twin = RobotTwin.New(R1);
        var at = T0.AddSeconds(5);

        twin = StateMapper.Apply(twin, Domain(BaseState()), at);
        twin = StateMapper.Apply(twin, Domain(BaseState(1) with { AgvPosition = null, BatteryState = new BatteryState { BatteryCharge = 60 } }), at.AddSeconds(1));

        Assert.Equal(RobotConnectionState.Online, twin.Connection);
        Assert.Equal(new RobotPosition(1, 2, 0.5, "L1"), twin.Position);
        Assert.Equal((60.0, "order-1", "w0", true), (twin.BatteryCharge!.Value, twin.OrderId, twin.LastNodeId, twin.Driving));
        Assert.Equal(at.AddSeconds(1), twin.LastStateAt);
    }
}
