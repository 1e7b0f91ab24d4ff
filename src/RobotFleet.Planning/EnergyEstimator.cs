namespace RobotFleet.Planning;

/// <summary>Settings of the <see cref="EnergyEstimator"/>; all energies in percent points of battery, distances in metres.</summary>
public sealed record EnergyEstimatorOptions
{
    /// <summary>What a robot is assumed to use before it has driven: percent per metre (default <see cref="EnergyModel.DefaultPercentPerMetre"/>, 0.005).</summary>
    public double PriorPercentPerMetre { get; init; } = EnergyModel.DefaultPercentPerMetre;

    /// <summary>How many metres of driving the prior counts as (default 50 m); it fades like any other evidence.</summary>
    public double PriorWeightMetres { get; init; } = 50;

    /// <summary>Distance driven over which the weight of earlier evidence halves (default 500 m): the estimate follows an ageing battery.</summary>
    public double HalfLifeMetres { get; init; } = 500;

    /// <summary>Lowest estimate returned, percent per metre (default 0.0005: 200 km per full battery).</summary>
    public double MinPercentPerMetre { get; init; } = 0.0005;

    /// <summary>Highest estimate returned, and the highest drain a sample may show before it is rejected, percent per metre (default 0.5: 200 m per full battery).</summary>
    public double MaxPercentPerMetre { get; init; } = 0.5;

    /// <summary>
    /// Resolution of the reported state of charge, percent points (default 1, robots that report whole percents): a sample may
    /// differ from any drain within the bounds by this much (a reading that steps down just after a short drive, or jitters up).
    /// </summary>
    public double ReadingResolutionPercent { get; init; } = 1;
}

/// <summary>
/// What the estimator has learned about one robot: exponentially weighted sums of distance driven and battery used (the prior
/// included as pseudo-evidence), and how many samples it took or rejected. Immutable; produced by <see cref="EnergyEstimator"/>.
/// </summary>
/// <param name="WeightedMetres">Weighted metres driven (the prior's metres included), &gt; 0.</param>
/// <param name="WeightedDropPercent">Weighted percent points used over those metres.</param>
/// <param name="Accepted">Samples taken in.</param>
/// <param name="Rejected">Samples rejected as impossible (a charge, a battery swap, a jump of the reading, a bad number).</param>
public sealed record EnergyEstimate(double WeightedMetres, double WeightedDropPercent, int Accepted, int Rejected);

/// <summary>
/// Learns a robot's energy use, percent of battery per metre driven, from consecutive state reports while it is not charging:
/// each sample is (metres driven, percent points used) between two reports. Pure and immutable: <see cref="Observe"/> returns
/// a new <see cref="EnergyEstimate"/>; thread-safe.
/// <para>
/// Algorithm: a ratio of exponentially weighted sums, with the weights decaying with distance driven, not with time
/// (exponential smoothing, R. G. Brown, "Statistical forecasting for inventory control", 1959; applied to a ratio
/// estimator, so that many short samples count as much as one long one):
/// <c>M := 2^(-d/H) M + d</c>, <c>E := 2^(-d/H) E + e</c>, estimate = clamp(E / M, min, max), starting from
/// <c>M = PriorWeightMetres</c>, <c>E = PriorPercentPerMetre x PriorWeightMetres</c>. Robust to noise: a reading quantised
/// to whole percents gives mostly zero drops and an occasional step; the sums average them without bias (no sample is
/// dropped for being small or slightly negative). A sample is rejected when its drop lies outside
/// <c>[-MaxPercentPerMetre x d - resolution, MaxPercentPerMetre x d + resolution]</c> (a charge or swap that was missed,
/// a reading that jumped), or when a number is not finite or the distance is negative; a zero distance carries nothing.
/// After driving x metres at a steady drain k the prior's weight is <c>PriorWeightMetres x 2^(-x/H)</c> against about
/// <c>(H / ln 2)(1 - 2^(-x/H))</c> metres of evidence for k: with the defaults the prior's share is under 0.5 % after 2 km.
/// </para>
/// </summary>
public sealed class EnergyEstimator
{
    /// <summary>Creates an estimator.</summary>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <exception cref="ArgumentException">A setting is not finite, not positive where it must be, or the bounds are reversed or exclude the prior.</exception>
    public EnergyEstimator(EnergyEstimatorOptions? options = null)
    {
        Options = options ?? new EnergyEstimatorOptions();
        var o = Options;
        if (!(o.MinPercentPerMetre > 0) || !(o.MaxPercentPerMetre >= o.MinPercentPerMetre) || !double.IsFinite(o.MaxPercentPerMetre)
            || !(o.PriorPercentPerMetre >= o.MinPercentPerMetre && o.PriorPercentPerMetre <= o.MaxPercentPerMetre)
            || !(o.PriorWeightMetres > 0) || !double.IsFinite(o.PriorWeightMetres)
            || !(o.HalfLifeMetres > 0) || !double.IsFinite(o.HalfLifeMetres)
            || !(o.ReadingResolutionPercent >= 0) || !double.IsFinite(o.ReadingResolutionPercent))
        {
            throw new ArgumentException(
                "Energy estimator options: need 0 < MinPercentPerMetre <= PriorPercentPerMetre <= MaxPercentPerMetre (finite), PriorWeightMetres > 0, HalfLifeMetres > 0 and ReadingResolutionPercent >= 0.",
                nameof(options));
        }
        Initial = new EnergyEstimate(o.PriorWeightMetres, o.PriorPercentPerMetre * o.PriorWeightMetres, 0, 0);
    }

    /// <summary>The settings in use.</summary>
    public EnergyEstimatorOptions Options { get; }

    /// <summary>The estimate of a robot never seen driving: the prior.</summary>
    public EnergyEstimate Initial { get; }

    /// <summary>Takes in one sample.</summary>
    /// <param name="estimate">The robot's estimate so far (<see cref="Initial"/> for a new robot).</param>
    /// <param name="metres">Distance driven between the two reports, metres.</param>
    /// <param name="dropPercent">Battery at the first report minus battery at the second, percent points.</param>
    /// <returns>The updated estimate (the same values when the sample carries nothing, counted as rejected when it is impossible).</returns>
    public EnergyEstimate Observe(EnergyEstimate estimate, double metres, double dropPercent)
    {
        ArgumentNullException.ThrowIfNull(estimate);
        if (!double.IsFinite(metres) || !double.IsFinite(dropPercent) || metres < 0)
        {
            return estimate with { Rejected = estimate.Rejected + 1 };
        }
        if (metres == 0)
        {
            return estimate;
        }
        var allowance = (Options.MaxPercentPerMetre * metres) + Options.ReadingResolutionPercent;
        if (Math.Abs(dropPercent) > allowance)
        {
            return estimate with { Rejected = estimate.Rejected + 1 };
        }
        var keep = Math.Pow(2, -metres / Options.HalfLifeMetres);
        return new EnergyEstimate(
            (keep * estimate.WeightedMetres) + metres,
            (keep * estimate.WeightedDropPercent) + dropPercent,
            estimate.Accepted + 1,
            estimate.Rejected);
    }

    /// <summary>The estimated use, percent per metre, within [MinPercentPerMetre, MaxPercentPerMetre].</summary>
    /// <param name="estimate">A robot's estimate.</param>
    /// <returns>Percent points per metre.</returns>
    public double PercentPerMetre(EnergyEstimate estimate)
    {
        ArgumentNullException.ThrowIfNull(estimate);
        return Math.Clamp(estimate.WeightedDropPercent / estimate.WeightedMetres, Options.MinPercentPerMetre, Options.MaxPercentPerMetre);
    }
}
