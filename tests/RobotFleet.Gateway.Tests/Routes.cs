using RobotFleet.Contracts;
using RobotFleet.Maps;

namespace RobotFleet.Gateway.Tests;

/// <summary>Builds <see cref="DispatchRoute"/> commands the way the control plane does.</summary>
internal static class Routes
{
    public static readonly RobotId R1 = new("Acme", "r1");

    public static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly Lazy<SiteMap> LazyOffice = new(() =>
        SiteMapGeoJson.Load(Path.Combine(AppContext.BaseDirectory, "ShippedMaps", "office")));

    public static SiteMap Office => LazyOffice.Value;

    public static RobotAction Action(string id, string type, string blocking = "HARD", params (string Key, string Value)[] parameters) =>
        new(id, type, blocking, parameters.ToDictionary(p => p.Key, p => p.Value));

    /// <summary>A straight test route w0..w(n-1), 5 m apart, released through <paramref name="releasedThrough"/>, sequence ids from <paramref name="firstSequenceId"/>.</summary>
    public static DispatchRoute Line(
        string orderId, long orderUpdateId, int waypoints, int releasedThrough, int firstWaypoint = 0, long firstSequenceId = 0,
        Func<int, IReadOnlyList<RobotAction>>? actionsAt = null)
    {
        var nodes = Enumerable.Range(0, waypoints).Select(i => new RouteWaypoint(
            $"w{firstWaypoint + i}", firstSequenceId + (2 * i), i <= releasedThrough, 5.0 * (firstWaypoint + i), 0, "L1",
            actionsAt?.Invoke(firstWaypoint + i) ?? [])).ToList();
        var lanes = Enumerable.Range(0, waypoints - 1).Select(i => new RouteLane(
            $"w{firstWaypoint + i}-w{firstWaypoint + i + 1}", firstSequenceId + (2 * i) + 1, i + 1 <= releasedThrough,
            nodes[i].WaypointId, nodes[i + 1].WaypointId, i % 2 == 0 ? 0.8 : null)).ToList();
        return new DispatchRoute(R1, orderId, orderUpdateId, nodes, lanes);
    }

    /// <summary>A map route as a command: even node and odd edge sequence ids, the first <paramref name="released"/> waypoints released.</summary>
    public static DispatchRoute FromMap(SiteMap map, Route route, string orderId, int released, IReadOnlyList<RobotAction> goalActions)
    {
        var nodes = route.WaypointIds.Select((id, i) =>
        {
            var w = map.Waypoints[id];
            return new RouteWaypoint(id, 2L * i, i < released, w.X, w.Y, w.LevelId, i == route.WaypointIds.Count - 1 ? goalActions : []);
        }).ToList();
        var lanes = route.Lanes.Select((l, i) =>
            new RouteLane(l.Id, (2L * i) + 1, i + 1 < released, l.FromWaypointId, l.ToWaypointId, l.SpeedLimit)).ToList();
        return new DispatchRoute(R1, orderId, 0, nodes, lanes);
    }
}
