using RobotFleet.Vda5050.V2;
using VdaAction = RobotFleet.Vda5050.V2.Action;

namespace RobotFleet.Vda5050.Tests;

/// <summary>Builds orders for tests: a straight path of released nodes, then tweaks with <c>with</c>.</summary>
internal static class Orders
{
    public const string OrderId = "order-1";

    /// <summary>Nodes <paramref name="nodeIds"/> with sequence ids 0, 2, 4, … and edges "A-B", … with 1, 3, …; all released.</summary>
    public static Order Path(params string[] nodeIds) => PathFrom(0, nodeIds);

    /// <summary>As <see cref="Path"/>, the first node having sequence id <paramref name="firstSequenceId"/>.</summary>
    public static Order PathFrom(long firstSequenceId, params string[] nodeIds) => new()
    {
        HeaderId = 1,
        Timestamp = Samples.Timestamp,
        Manufacturer = Samples.Manufacturer,
        SerialNumber = Samples.SerialNumber,
        OrderId = OrderId,
        OrderUpdateId = 0,
        Nodes = nodeIds.Select((id, i) => new Node
        {
            NodeId = id,
            SequenceId = firstSequenceId + 2 * i,
            Released = true,
            NodePosition = new NodePosition { X = i, Y = 0, MapId = "floor-1" },
        }).ToList(),
        Edges = nodeIds.Zip(nodeIds.Skip(1), (from, to) => (from, to)).Select((e, i) => new Edge
        {
            EdgeId = $"{e.from}-{e.to}",
            SequenceId = firstSequenceId + 2 * i + 1,
            Released = true,
            StartNodeId = e.from,
            EndNodeId = e.to,
        }).ToList(),
    };

    /// <summary>Unreleases node <paramref name="firstHorizonNode"/> onwards and the edges leading to them.</summary>
    public static Order WithHorizonFrom(this Order order, int firstHorizonNode) => order with
    {
        Nodes = order.Nodes.Select((n, i) => i >= firstHorizonNode ? n with { Released = false } : n).ToList(),
        Edges = order.Edges.Select((e, i) => i + 1 >= firstHorizonNode ? e with { Released = false } : e).ToList(),
    };

    public static Order WithNode(this Order order, int index, Func<Node, Node> change) =>
        order with { Nodes = order.Nodes.Select((n, i) => i == index ? change(n) : n).ToList() };

    public static Order WithEdge(this Order order, int index, Func<Edge, Edge> change) =>
        order with { Edges = order.Edges.Select((e, i) => i == index ? change(e) : e).ToList() };

    public static VdaAction Action(string actionType, string actionId, BlockingType blocking = BlockingType.None, params ActionParameter[] parameters) =>
        new() { ActionType = actionType, ActionId = actionId, BlockingType = blocking, ActionParameters = parameters };
}
