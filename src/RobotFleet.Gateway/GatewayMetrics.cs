using System.Diagnostics.Metrics;

namespace RobotFleet.Gateway;

/// <summary>
/// The gateway's metrics, on the <see cref="System.Diagnostics.Metrics"/> meter <see cref="MeterName"/> (for OpenTelemetry,
/// <c>dotnet-counters</c> or a <see cref="MeterListener"/>). Recording costs nothing while nothing listens. Thread-safe.
/// </summary>
public static class GatewayMetrics
{
    /// <summary>The meter's name: <c>RobotFleet.Gateway</c>.</summary>
    public const string MeterName = "RobotFleet.Gateway";

    /// <summary>
    /// Name of the histogram of state age, milliseconds: from a VDA 5050 <c>state</c>'s <c>timestamp</c> (the robot's clock)
    /// to the moment its robot's twin holds it (this process's clock), one value per state applied to a twin. It is the
    /// ingest lag, plus the robot's clock offset where the two clocks differ.
    /// </summary>
    public const string StateAgeName = "robotfleet.gateway.state.age";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>The state-age histogram (see <see cref="StateAgeName"/>).</summary>
    internal static readonly Histogram<double> StateAge = Meter.CreateHistogram<double>(StateAgeName, "ms",
        "Age of a VDA 5050 state when its robot's twin was updated: its timestamp to the update");
}
