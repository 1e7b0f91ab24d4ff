namespace RobotFleet.Planning.Tests;

public sealed class EnergyModelTests
{
    [Fact]
    public void Estimates_the_slope_from_noisy_history()
    {
        var random = new Random(5);
        var samples = Enumerable.Range(0, 200)
            .Select(_ => random.Next(20, 400))
            .Select(d => new EnergySample(d, (d * 0.008) + ((random.NextDouble() - 0.5) * 0.2)))
            .ToList();

        Assert.Equal(0.008, EnergyModel.EstimatePercentPerMetre(samples), 4);
    }

    [Fact]
    public void Ignores_charging_and_nonsense_samples()
    {
        EnergySample[] samples = [new(100, 1), new(100, 1), new(50, -20), new(0, 3), new(double.NaN, 1), new(100, double.PositiveInfinity)];

        Assert.Equal(0.01, EnergyModel.EstimatePercentPerMetre(samples), 12);
    }

    [Fact]
    public void Short_history_gives_the_default()
    {
        Assert.Equal(EnergyModel.DefaultPercentPerMetre, EnergyModel.EstimatePercentPerMetre([]));
        Assert.Equal(EnergyModel.DefaultPercentPerMetre, EnergyModel.EstimatePercentPerMetre([new(150, 5)]));
        Assert.Equal(0.002, EnergyModel.EstimatePercentPerMetre([new(50, 5)], fallbackPercentPerMetre: 0.002));
    }
}
