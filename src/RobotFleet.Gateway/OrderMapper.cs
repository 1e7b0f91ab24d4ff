using RobotFleet.Contracts;
using RobotFleet.Vda5050.V2;
using VdaAction = RobotFleet.Vda5050.V2.Action;

namespace RobotFleet.Gateway;

/// <summary>
/// Translates the control plane's route commands into VDA 5050 orders and instant actions
/// (waypoint → node with <c>nodePosition</c>, lane → edge with <c>maxSpeed</c>). Pure, thread-safe.
/// </summary>
public static class OrderMapper
{
    /// <summary>Allowed deviation at each node, metres, written into <c>nodePosition.allowedDeviationXY</c>.</summary>
    public const double AllowedDeviationXY = 0.5;

    /// <summary>Maps a route into a VDA order message.</summary>
    /// <param name="route">The route command.</param>
    /// <param name="headerId">Header id for the robot's order topic.</param>
    /// <param name="timestamp">Send time (UTC).</param>
    public static Order ToOrder(DispatchRoute route, long headerId, DateTimeOffset timestamp) => new()
    {
        HeaderId = headerId,
        Timestamp = timestamp,
        Manufacturer = route.Robot.Manufacturer,
        SerialNumber = route.Robot.SerialNumber,
        OrderId = route.OrderId,
        OrderUpdateId = route.OrderUpdateId,
        Nodes = route.Waypoints.Select(w => new Node
        {
            NodeId = w.WaypointId,
            SequenceId = w.SequenceId,
            Released = w.Released,
            NodePosition = new NodePosition { X = w.X, Y = w.Y, MapId = w.MapId, AllowedDeviationXY = AllowedDeviationXY },
            Actions = w.Actions.Select(ToVda).ToList(),
        }).ToList(),
        Edges = route.Lanes.Select(l => new Edge
        {
            EdgeId = l.LaneId,
            SequenceId = l.SequenceId,
            Released = l.Released,
            StartNodeId = l.StartWaypointId,
            EndNodeId = l.EndWaypointId,
            MaxSpeed = l.MaxSpeed,
            Actions = (l.Actions ?? []).Select(ToVda).ToList(),
        }).ToList(),
    };

    /// <summary>Maps instant actions into a VDA instantActions message.</summary>
    public static InstantActions ToInstantActions(TriggerInstantActions command, long headerId, DateTimeOffset timestamp) => new()
    {
        HeaderId = headerId,
        Timestamp = timestamp,
        Manufacturer = command.Robot.Manufacturer,
        SerialNumber = command.Robot.SerialNumber,
        Actions = command.Actions.Select(ToVda).ToList(),
    };

    private static VdaAction ToVda(RobotAction action) => new()
    {
        ActionId = action.ActionId,
        ActionType = action.ActionType,
        BlockingType = Enum.Parse<BlockingType>(action.BlockingType, ignoreCase: true),
        ActionParameters = action.Parameters.Select(p => ActionParameter.Of(p.Key, p.Value)).ToList(),
    };
}
