namespace RobotFleet.Planning.Tests;

public sealed class LinearAssignmentTests
{
    [Theory]
    [InlineData(1, true)]
    [InlineData(2, false)]
    [InlineData(3, true)]
    public void Matches_brute_force_on_random_rectangular_instances(int seed, bool integerCosts)
    {
        var random = new Random(seed);
        for (var instance = 0; instance < 400; instance++)
        {
            var columns = random.Next(1, 8);
            var rows = random.Next(0, columns + 1);
            // Small integers make many ties (the hard case for augmenting row reduction); doubles include negatives.
            var costs = Enumerable.Range(0, rows * columns)
                .Select(_ => integerCosts ? random.Next(0, 6) : (random.NextDouble() * 200) - 50)
                .ToArray();

            var solution = LinearAssignment.Solve(costs, rows, columns);

            Assert.Equal(rows, solution.Length);
            Assert.Equal(rows, solution.Distinct().Count());
            Assert.All(solution, c => Assert.InRange(c, 0, columns - 1));
            Assert.Equal(BruteForce(costs, rows, columns), LinearAssignment.TotalCost(costs, columns, solution), 9);
        }
    }

    [Fact]
    public void Solves_a_300_by_300_random_instance_to_a_valid_permutation()
    {
        var random = new Random(7);
        const int n = 300;
        var costs = Enumerable.Range(0, n * n).Select(_ => (double)random.Next(0, 1000)).ToArray();

        var solution = LinearAssignment.Solve(costs, n, n);

        Assert.Equal(n, solution.Distinct().Count());
    }

    [Fact]
    public void Same_input_same_output()
    {
        double[] costs = [1, 1, 1, 1, 1, 1, 1, 1, 1];

        Assert.Equal(LinearAssignment.Solve(costs, 3, 3), LinearAssignment.Solve(costs, 3, 3));
    }

    [Fact]
    public void Rejects_infinite_costs_and_more_rows_than_columns()
    {
        Assert.Throws<ArgumentException>(() => LinearAssignment.Solve([1, double.PositiveInfinity], 1, 2));
        Assert.Throws<ArgumentException>(() => LinearAssignment.Solve([1, 2], 2, 1));
    }

    private static double BruteForce(double[] costs, int rows, int columns)
    {
        var used = new bool[columns];
        double Best(int row)
        {
            if (row == rows)
            {
                return 0;
            }
            var best = double.PositiveInfinity;
            for (var c = 0; c < columns; c++)
            {
                if (!used[c])
                {
                    used[c] = true;
                    best = Math.Min(best, costs[(row * columns) + c] + Best(row + 1));
                    used[c] = false;
                }
            }
            return best;
        }
        return Best(0);
    }
}
