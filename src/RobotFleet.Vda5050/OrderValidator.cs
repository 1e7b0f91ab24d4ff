using RobotFleet.Vda5050.V2;

namespace RobotFleet.Vda5050;

/// <summary>VDA 5050 error types an AGV reports about orders (§6.10.9, §6.6.1).</summary>
public static class OrderErrorTypes
{
    /// <summary>The order is malformed.</summary>
    public const string Validation = "validationError";

    /// <summary>The order cannot be executed (e.g. the robot is busy with another order).</summary>
    public const string Order = "orderError";

    /// <summary>The update is older than the current one or not stitched at the last base node.</summary>
    public const string OrderUpdate = "orderUpdateError";

    /// <summary>A node cannot be reached.</summary>
    public const string NoRoute = "noRouteError";

    /// <summary>cancelOrder arrived with no order running.</summary>
    public const string NoOrderToCancel = "noOrderToCancel";
}

/// <summary>One thing wrong with an order.</summary>
/// <param name="ErrorType">VDA error type (<see cref="OrderErrorTypes"/>).</param>
/// <param name="Field">JSON path of the offending field, e.g. <c>nodes[2].sequenceId</c>.</param>
/// <param name="Message">What is wrong, naming the node or edge.</param>
public sealed record OrderProblem(string ErrorType, string Field, string Message);

/// <summary>
/// Checks VDA 5050 orders (§6.6): structure of one order, and how an update stitches onto the
/// current order. Pure and thread-safe.
/// </summary>
public static class OrderValidator
{
    /// <summary>
    /// Validates an order's structure: node count = edge count + 1, even node and odd edge sequence
    /// ids in increasing order, each edge joins its neighbouring nodes, the first node released, the
    /// base (released) before the horizon, the base ending on a node, and unique action ids.
    /// </summary>
    /// <returns>All problems found (each <see cref="OrderErrorTypes.Validation"/>); empty when valid.</returns>
    public static IReadOnlyList<OrderProblem> Validate(Order order)
    {
        var problems = new List<OrderProblem>();
        void Add(string field, string message) => problems.Add(new(OrderErrorTypes.Validation, field, message));

        if (string.IsNullOrWhiteSpace(order.OrderId))
            Add("orderId", "orderId is empty");
        if (order.OrderUpdateId < 0)
            Add("orderUpdateId", $"orderUpdateId {order.OrderUpdateId} is negative");
        if (order.Nodes.Count == 0)
        {
            Add("nodes", "an order needs at least one node");
            return problems;
        }

        if (order.Edges.Count != order.Nodes.Count - 1)
            Add("edges", $"{order.Nodes.Count} nodes need {order.Nodes.Count - 1} edges, found {order.Edges.Count}");
        if (!order.Nodes[0].Released)
            Add("nodes[0].released", $"first node '{order.Nodes[0].NodeId}' must be released");

        var horizonStarted = false;
        long previousSequence = long.MinValue;
        for (var i = 0; i < order.Nodes.Count; i++)
        {
            var node = order.Nodes[i];
            if (string.IsNullOrEmpty(node.NodeId))
                Add($"nodes[{i}].nodeId", $"node {i} has an empty nodeId");
            if (node.SequenceId % 2 != 0)
                Add($"nodes[{i}].sequenceId", $"node '{node.NodeId}' has odd sequenceId {node.SequenceId}; node sequenceIds are even");
            if (node.SequenceId <= previousSequence)
                Add($"nodes[{i}].sequenceId", $"node '{node.NodeId}' sequenceId {node.SequenceId} does not increase");
            previousSequence = node.SequenceId;
            CheckReleaseOrder(node.Released, $"nodes[{i}]", $"node '{node.NodeId}'", ref horizonStarted, Add);

            if (i >= order.Edges.Count)
                continue;
            var edge = order.Edges[i];
            if (edge.SequenceId % 2 != 1)
                Add($"edges[{i}].sequenceId", $"edge '{edge.EdgeId}' has even sequenceId {edge.SequenceId}; edge sequenceIds are odd");
            if (edge.SequenceId <= previousSequence)
                Add($"edges[{i}].sequenceId", $"edge '{edge.EdgeId}' sequenceId {edge.SequenceId} does not lie between its nodes");
            previousSequence = edge.SequenceId;
            if (i + 1 < order.Nodes.Count && (edge.StartNodeId != node.NodeId || edge.EndNodeId != order.Nodes[i + 1].NodeId))
                Add($"edges[{i}]", $"edge '{edge.EdgeId}' joins '{edge.StartNodeId}'->'{edge.EndNodeId}' but its neighbouring nodes are '{node.NodeId}'->'{order.Nodes[i + 1].NodeId}'");
            if (edge.Released && i + 1 < order.Nodes.Count && !order.Nodes[i + 1].Released)
                Add($"edges[{i}].released", $"edge '{edge.EdgeId}' is released but its end node is not; the base must end on a node");
            CheckReleaseOrder(edge.Released, $"edges[{i}]", $"edge '{edge.EdgeId}'", ref horizonStarted, Add);
        }

        var actionIds = new HashSet<string>();
        foreach (var (action, field) in order.Nodes.SelectMany((n, i) => n.Actions.Select(a => (a, $"nodes[{i}].actions"))).Concat(
                     order.Edges.SelectMany((e, i) => e.Actions.Select(a => (a, $"edges[{i}].actions")))))
        {
            if (!actionIds.Add(action.ActionId))
                Add(field, $"actionId '{action.ActionId}' is used twice in the order");
        }

        return problems;
    }

    /// <summary>
    /// Validates an order update against the order being executed (§6.6.1): same order id, a higher
    /// update id, and the update's first node equal (id and sequence id) to the current last base node.
    /// </summary>
    /// <param name="update">The received order with the current order's id.</param>
    /// <param name="currentOrderUpdateId">Update id of the order being executed.</param>
    /// <param name="lastBaseNodeId">Node id of the current base's last node.</param>
    /// <param name="lastBaseSequenceId">Its sequence id.</param>
    /// <returns>Problems (each <see cref="OrderErrorTypes.OrderUpdate"/>); empty when the update stitches. A repeated update id is the caller's to ignore before calling this.</returns>
    public static IReadOnlyList<OrderProblem> ValidateUpdate(Order update, long currentOrderUpdateId, string lastBaseNodeId, long lastBaseSequenceId)
    {
        var problems = new List<OrderProblem>();
        if (update.OrderUpdateId <= currentOrderUpdateId)
        {
            problems.Add(new(OrderErrorTypes.OrderUpdate, "orderUpdateId",
                $"orderUpdateId {update.OrderUpdateId} of order '{update.OrderId}' is not newer than the current {currentOrderUpdateId}"));
        }

        var first = update.Nodes.Count > 0 ? update.Nodes[0] : null;
        if (first is null || first.NodeId != lastBaseNodeId || first.SequenceId != lastBaseSequenceId)
        {
            problems.Add(new(OrderErrorTypes.OrderUpdate, "nodes[0]",
                $"update must start at the last base node '{lastBaseNodeId}' (sequenceId {lastBaseSequenceId}), " +
                $"starts at '{first?.NodeId}' (sequenceId {first?.SequenceId})"));
        }

        return problems;
    }

    private static void CheckReleaseOrder(bool released, string field, string what, ref bool horizonStarted, Action<string, string> add)
    {
        if (!released)
            horizonStarted = true;
        else if (horizonStarted)
            add($"{field}.released", $"{what} is released after the horizon started; the base must come before the horizon");
    }
}
