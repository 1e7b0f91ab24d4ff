using RobotFleet.Vda5050.V2;

namespace RobotFleet.Vda5050.Tests;

public class OrderValidatorTests
{
    /// <summary>A → B → C, all released: nodes 0, 2, 4 and edges A-B 1, B-C 3.</summary>
    private static Order Abc() => Orders.Path("A", "B", "C");

    [Fact]
    public void Valid_order_with_base_horizon_and_actions_has_no_problems() =>
        Assert.Empty(OrderValidator.Validate(Samples.FullOrder()));

    [Fact]
    public void Single_node_order_is_valid() =>
        Assert.Empty(OrderValidator.Validate(Samples.MinimalOrder()));

    /// <summary>Each case breaks exactly one rule: (change, expected field, text the message must contain).</summary>
    private static readonly Dictionary<string, (Func<Order, Order> Break, string Field, string Mentions)> BrokenRules = new()
    {
        ["node/edge count mismatch"] = (o => o with { Edges = o.Edges.Take(1).ToList() }, "edges", "3 nodes need 2 edges, found 1"),
        ["odd node sequenceId"] = (o => o.WithNode(2, n => n with { SequenceId = 5 }), "nodes[2].sequenceId", "'C'"),
        ["even edge sequenceId"] = (o => o.WithNode(2, n => n with { SequenceId = 6 }).WithEdge(1, e => e with { SequenceId = 4 }), "edges[1].sequenceId", "'B-C'"),
        ["non-increasing node sequenceId"] = (o => o.WithNode(2, n => n with { SequenceId = 2 }), "nodes[2].sequenceId", "'C'"),
        ["non-increasing edge sequenceId"] = (o => o.WithEdge(1, e => e with { SequenceId = 1 }), "edges[1].sequenceId", "'B-C'"),
        ["edge end not the next node"] = (o => o.WithEdge(1, e => e with { EndNodeId = "X" }), "edges[1]", "'B-C'"),
        ["edge start not the previous node"] = (o => o.WithEdge(0, e => e with { StartNodeId = "X" }), "edges[0]", "'A-B'"),
        ["node released after horizon"] = (o => o.WithHorizonFrom(1).WithNode(2, n => n with { Released = true }), "nodes[2].released", "'C'"),
        ["edge released with unreleased end node"] = (o => o.WithHorizonFrom(2).WithEdge(1, e => e with { Released = true }), "edges[1].released", "'B-C'"),
        ["first node unreleased"] = (o => o.WithHorizonFrom(0), "nodes[0].released", "'A'"),
        ["duplicate actionId"] = (o => o.WithNode(0, n => n with { Actions = [Orders.Action("pick", "a-1")] }).WithEdge(1, e => e with { Actions = [Orders.Action("beep", "a-1")] }), "edges[1].actions", "'a-1'"),
        ["empty nodeId"] = (o => o.WithNode(0, n => n with { NodeId = "" }).WithEdge(0, e => e with { StartNodeId = "" }), "nodes[0].nodeId", "node 0"),
        ["empty orderId"] = (o => o with { OrderId = " " }, "orderId", "orderId"),
        ["negative orderUpdateId"] = (o => o with { OrderUpdateId = -1 }, "orderUpdateId", "-1"),
        ["empty order"] = (o => o with { Nodes = [], Edges = [] }, "nodes", "at least one node"),
    };

    public static TheoryData<string> BrokenRuleNames => [.. BrokenRules.Keys];

    [Theory]
    [MemberData(nameof(BrokenRuleNames))]
    public void Each_broken_rule_is_reported_once_naming_the_culprit(string rule)
    {
        var (breakRule, field, mentions) = BrokenRules[rule];

        var problem = Assert.Single(OrderValidator.Validate(breakRule(Abc())));

        Assert.Equal((OrderErrorTypes.Validation, field), (problem.ErrorType, problem.Field));
        Assert.Contains(mentions, problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Several_problems_are_all_reported()
    {
        var order = Abc().WithNode(1, n => n with { SequenceId = 3 }).WithEdge(1, e => e with { EndNodeId = "X" });

        Assert.Equal(
            ["nodes[1].sequenceId", "edges[1].sequenceId", "edges[1]"],
            OrderValidator.Validate(order).Select(p => p.Field));
    }

    // The current order: base A(0) → B(2) → C(4) at update 1; an update stitches at C(4).
    private const long CurrentUpdateId = 1;
    private const string LastBaseNodeId = "C";
    private const long LastBaseSequenceId = 4;

    private static Order Update(long orderUpdateId = 2, long firstSequenceId = LastBaseSequenceId, string firstNodeId = LastBaseNodeId) =>
        Orders.PathFrom(firstSequenceId, firstNodeId, "D", "E").WithHorizonFrom(2) with { OrderUpdateId = orderUpdateId };

    private static IReadOnlyList<OrderProblem> ValidateUpdate(Order update) =>
        OrderValidator.ValidateUpdate(update, CurrentUpdateId, LastBaseNodeId, LastBaseSequenceId);

    [Fact]
    public void Stitched_update_is_accepted()
    {
        var update = Update();

        Assert.Empty(OrderValidator.Validate(update));
        Assert.Empty(ValidateUpdate(update));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(CurrentUpdateId)]
    public void Older_or_equal_update_id_is_an_order_update_error(long orderUpdateId)
    {
        var problem = Assert.Single(ValidateUpdate(Update(orderUpdateId)));

        Assert.Equal((OrderErrorTypes.OrderUpdate, "orderUpdateId"), (problem.ErrorType, problem.Field));
        Assert.Contains($"'{Orders.OrderId}'", problem.Message, StringComparison.Ordinal);
        Assert.Contains($"orderUpdateId {orderUpdateId}", problem.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("B", LastBaseSequenceId)]  // wrong node
    [InlineData(LastBaseNodeId, 6)]        // right node, wrong sequenceId
    [InlineData(LastBaseNodeId, 2)]
    public void Update_not_starting_at_the_last_base_node_is_an_order_update_error(string firstNodeId, long firstSequenceId)
    {
        var problem = Assert.Single(ValidateUpdate(Update(firstNodeId: firstNodeId, firstSequenceId: firstSequenceId)));

        Assert.Equal((OrderErrorTypes.OrderUpdate, "nodes[0]"), (problem.ErrorType, problem.Field));
        Assert.Contains($"'{LastBaseNodeId}' (sequenceId {LastBaseSequenceId})", problem.Message, StringComparison.Ordinal);
        Assert.Contains($"'{firstNodeId}' (sequenceId {firstSequenceId})", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Update_without_nodes_is_an_order_update_error() =>
        Assert.Equal("nodes[0]", Assert.Single(ValidateUpdate(Update() with { Nodes = [], Edges = [] })).Field);
}
