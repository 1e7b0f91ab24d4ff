using RobotFleet.Contracts;
using RobotFleet.Vda5050.V2;

namespace RobotFleet.Gateway;

/// <summary>
/// Translates VDA 5050 state, connection and factsheet messages into domain terms (twin updates
/// and <see cref="RobotStateChanged"/>), and tells significant changes from telemetry. Pure, thread-safe.
/// </summary>
public static class StateMapper
{
    /// <summary>The domain connection state for a VDA connection state.</summary>
    public static RobotConnectionState ToDomain(ConnectionState state) => state switch
    {
        ConnectionState.Online => RobotConnectionState.Online,
        ConnectionState.Offline => RobotConnectionState.Offline,
        _ => RobotConnectionState.ConnectionBroken,
    };

    /// <summary>Maps a VDA state into the domain snapshot event.</summary>
    /// <param name="robot">The robot it came from.</param>
    /// <param name="state">The VDA state message.</param>
    /// <param name="receivedAt">When the gateway received it (UTC, the control plane's clock); null when not known.</param>
    public static RobotStateChanged ToDomain(RobotId robot, State state, DateTimeOffset? receivedAt = null) => new(
        robot,
        state.Timestamp,
        state.OrderId,
        state.OrderUpdateId,
        state.LastNodeId,
        state.LastNodeSequenceId,
        state.Driving,
        state.Paused ?? false,
        state.NodeStates.Select(n => n.NodeId).ToList(),
        state.ActionStates.Select(a => new RobotActionProgress(a.ActionId, a.ActionType ?? "", ToDomain(a.ActionStatus), a.ResultDescription)).ToList(),
        state.Errors.Select(e => new RobotErrorInfo(e.ErrorType, e.ErrorLevel == ErrorLevel.Fatal ? "FATAL" : "WARNING", e.ErrorDescription,
            e.ErrorReferences?.FirstOrDefault(r => r.ReferenceKey == "orderId")?.ReferenceValue,
            long.TryParse(e.ErrorReferences?.FirstOrDefault(r => r.ReferenceKey == "orderUpdateId")?.ReferenceValue, System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out var update) ? update : null)).ToList(),
        state.AgvPosition is { } p ? new RobotPosition(p.X, p.Y, p.Theta, p.MapId) : null,
        state.BatteryState.BatteryCharge,
        receivedAt);

    /// <summary>The twin after a state message.</summary>
    public static RobotTwin Apply(RobotTwin twin, RobotStateChanged state, DateTimeOffset receivedAt) => twin with
    {
        Position = state.Position ?? twin.Position,
        BatteryCharge = state.BatteryCharge,
        OrderId = state.OrderId,
        OrderUpdateId = state.OrderUpdateId,
        LastNodeId = state.LastNodeId,
        Driving = state.Driving,
        Paused = state.Paused,
        Errors = state.Errors,
        LastStateAt = receivedAt,
        // The first state of a robot never heard of means it is connected; after that the connection topic decides.
        Connection = twin.Connection == RobotConnectionState.Unknown ? RobotConnectionState.Online : twin.Connection,
    };

    /// <summary>
    /// True when anything the control plane reacts to differs: order, update, last node, driving,
    /// paused, pending waypoints, action statuses or errors. Pose and battery alone are not significant.
    /// </summary>
    public static bool IsSignificantChange(RobotStateChanged? previous, RobotStateChanged current) =>
        previous is null
        || previous.OrderId != current.OrderId
        || previous.OrderUpdateId != current.OrderUpdateId
        || previous.LastNodeId != current.LastNodeId
        || previous.LastNodeSequenceId != current.LastNodeSequenceId
        || previous.Driving != current.Driving
        || previous.Paused != current.Paused
        || !previous.PendingWaypointIds.SequenceEqual(current.PendingWaypointIds)
        || !previous.Actions.SequenceEqual(current.Actions)
        || !previous.Errors.SequenceEqual(current.Errors);

    /// <summary>The named events implied by going from <paramref name="previous"/> to <paramref name="current"/>.</summary>
    public static IEnumerable<object> DerivedEvents(RobotStateChanged? previous, RobotStateChanged current)
    {
        if (current.LastNodeId.Length > 0 && (previous is null || previous.LastNodeId != current.LastNodeId || previous.LastNodeSequenceId != current.LastNodeSequenceId))
            yield return new RobotNodeReached(current.Robot, current.OrderId, current.LastNodeId, current.LastNodeSequenceId, current.Timestamp);

        var before = previous?.Actions.ToDictionary(a => a.ActionId, a => a.Status) ?? [];
        foreach (var action in current.Actions.Where(a => a.Status is RobotActionStatus.Finished or RobotActionStatus.Failed))
        {
            if (!before.TryGetValue(action.ActionId, out var status) || status != action.Status)
                yield return new RobotActionEnded(current.Robot, current.OrderId, action, current.Timestamp);
        }

        foreach (var error in current.Errors.Except(previous?.Errors ?? []))
            yield return new RobotErrorRaised(current.Robot, error, current.Timestamp);
    }

    private static RobotActionStatus ToDomain(ActionStatus status) => status switch
    {
        ActionStatus.Waiting => RobotActionStatus.Waiting,
        ActionStatus.Initializing => RobotActionStatus.Initializing,
        ActionStatus.Running => RobotActionStatus.Running,
        ActionStatus.Paused => RobotActionStatus.Paused,
        ActionStatus.Finished => RobotActionStatus.Finished,
        _ => RobotActionStatus.Failed,
    };
}
