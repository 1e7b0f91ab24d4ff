namespace RobotFleet.Planning;

/// <summary>One observed drive: distance driven in metres and the battery it took, in percent points.</summary>
/// <param name="DistanceMetres">Distance driven, metres.</param>
/// <param name="BatteryDropPercent">Battery at the start minus battery at the end, percent points (negative when it charged on the way).</param>
public sealed record EnergySample(double DistanceMetres, double BatteryDropPercent);

/// <summary>
/// Estimates a robot's energy use in percent of battery per metre from its history: least squares through the origin
/// (drop = k x distance), over samples with a positive distance and a non-negative drop; falls back to a default when the
/// history is too short. Stateless and thread-safe.
/// </summary>
public static class EnergyModel
{
    /// <summary>Fallback consumption, percent per metre (0.005 %/m: 20 km per full battery).</summary>
    public const double DefaultPercentPerMetre = 0.005;

    /// <summary>Least total distance, in metres, the usable samples must cover before the estimate replaces the default.</summary>
    public const double MinimumDistanceMetres = 200;

    /// <summary>Estimates percent per metre from drive samples.</summary>
    /// <param name="samples">Observed drives; samples with a non-positive or non-finite distance, or a negative or non-finite drop, are ignored.</param>
    /// <param name="fallbackPercentPerMetre">Returned when the usable samples cover less than <see cref="MinimumDistanceMetres"/>.</param>
    /// <returns>Estimated consumption in percent per metre (&gt;= 0).</returns>
    public static double EstimatePercentPerMetre(IEnumerable<EnergySample> samples, double fallbackPercentPerMetre = DefaultPercentPerMetre)
    {
        ArgumentNullException.ThrowIfNull(samples);
        double distance = 0, sumDistanceDrop = 0, sumDistanceSquared = 0;
        foreach (var s in samples)
        {
            if (!double.IsFinite(s.DistanceMetres) || s.DistanceMetres <= 0 || !double.IsFinite(s.BatteryDropPercent) || s.BatteryDropPercent < 0)
            {
                continue;
            }
            distance += s.DistanceMetres;
            sumDistanceDrop += s.DistanceMetres * s.BatteryDropPercent;
            sumDistanceSquared += s.DistanceMetres * s.DistanceMetres;
        }
        return distance < MinimumDistanceMetres ? fallbackPercentPerMetre : sumDistanceDrop / sumDistanceSquared;
    }

    /// <summary>Battery needed for a drive, percent points.</summary>
    /// <param name="metres">Distance, metres.</param>
    /// <param name="percentPerMetre">Consumption, percent per metre.</param>
    /// <returns>Percent points.</returns>
    public static double PercentFor(double metres, double percentPerMetre) => metres * percentPerMetre;
}
