namespace RobotFleet.Contracts;

/// <summary>An action to run at a waypoint or at once.</summary>
/// <param name="ActionId">Unique id.</param>
/// <param name="ActionType">VDA 5050 action type, e.g. <c>pick</c>, <c>drop</c>, <c>cancelOrder</c>.</param>
/// <param name="BlockingType">"NONE", "SOFT" or "HARD".</param>
/// <param name="Parameters">Key/value parameters.</param>
public sealed record RobotAction(string ActionId, string ActionType, string BlockingType, IReadOnlyDictionary<string, string> Parameters);

/// <summary>One waypoint of a dispatched route (becomes a VDA node).</summary>
/// <param name="WaypointId">Waypoint id (VDA nodeId).</param>
/// <param name="SequenceId">Even sequence id.</param>
/// <param name="Released">True when part of the released base.</param>
/// <param name="X">metres.</param>
/// <param name="Y">metres.</param>
/// <param name="MapId">level.</param>
/// <param name="Actions">Actions at this waypoint.</param>
public sealed record RouteWaypoint(string WaypointId, long SequenceId, bool Released, double X, double Y, string MapId, IReadOnlyList<RobotAction> Actions);

/// <summary>One lane of a dispatched route (becomes a VDA edge).</summary>
/// <param name="LaneId">Lane id (VDA edgeId).</param>
/// <param name="SequenceId">Odd sequence id.</param>
/// <param name="Released">True when part of the released base.</param>
/// <param name="StartWaypointId">From waypoint.</param>
/// <param name="EndWaypointId">To waypoint.</param>
/// <param name="MaxSpeed">Speed limit, m/s; null for none.</param>
/// <param name="Actions">
/// Actions the robot runs as it enters the lane (VDA 5050 edge actions; a HARD one before it drives on), e.g. an
/// <c>openDoor</c> that could not go on the waypoint before, already released; null or empty for none.
/// </param>
public sealed record RouteLane(string LaneId, long SequenceId, bool Released, string StartWaypointId, string EndWaypointId, double? MaxSpeed, IReadOnlyList<RobotAction>? Actions = null);

/// <summary>
/// Command to the gateway: send a robot its route as a VDA 5050 order (new order or order update).
/// Waypoints and lanes alternate along the route; released ones come first.
/// </summary>
/// <param name="Robot">Target robot.</param>
/// <param name="OrderId">Order id.</param>
/// <param name="OrderUpdateId">Update id, 0 for a new order.</param>
/// <param name="Waypoints">Waypoints in route order.</param>
/// <param name="Lanes">Lanes in route order (one fewer than waypoints).</param>
public sealed record DispatchRoute(RobotId Robot, string OrderId, long OrderUpdateId, IReadOnlyList<RouteWaypoint> Waypoints, IReadOnlyList<RouteLane> Lanes);

/// <summary>Command to the gateway: send a robot instant actions (VDA 5050 instantActions).</summary>
/// <param name="Robot">Target robot.</param>
/// <param name="Actions">Actions to run now.</param>
public sealed record TriggerInstantActions(RobotId Robot, IReadOnlyList<RobotAction> Actions);
