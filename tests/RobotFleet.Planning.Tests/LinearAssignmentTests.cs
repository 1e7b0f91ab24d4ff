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

    [Theory]
    [InlineData(41, true)]
    [InlineData(42, false)]
    public void Matches_a_reference_Hungarian_algorithm_on_larger_instances(int seed, bool integerCosts)
    {
        // Sizes past the 256-bit vector width and its remainders; small integer costs give many ties (grid travel times do).
        var random = new Random(seed);
        for (var instance = 0; instance < 60; instance++)
        {
            var columns = random.Next(5, 90);
            var rows = random.Next(1, columns + 1);
            var costs = Enumerable.Range(0, rows * columns)
                .Select(_ => integerCosts ? random.Next(0, 12) : random.NextDouble() * 1000)
                .ToArray();

            var solution = LinearAssignment.Solve(costs, rows, columns);

            Assert.Equal(rows, solution.Distinct().Count());
            Assert.Equal(ReferenceHungarian(costs, rows, columns), LinearAssignment.TotalCost(costs, columns, solution), 6);
        }
    }

    /// <summary>Kuhn-Munkres with potentials, O(rows^2 x columns) (the textbook shortest-augmenting-path form), for rows &lt;= columns.</summary>
    private static double ReferenceHungarian(double[] costs, int rows, int columns)
    {
        var u = new double[rows + 1];
        var v = new double[columns + 1];
        var p = new int[columns + 1];   // row (1-based) matched to column j; 0 = none
        var way = new int[columns + 1];
        for (var i = 1; i <= rows; i++)
        {
            p[0] = i;
            var j0 = 0;
            var minv = Enumerable.Repeat(double.PositiveInfinity, columns + 1).ToArray();
            var used = new bool[columns + 1];
            do
            {
                used[j0] = true;
                int i0 = p[j0], j1 = 0;
                var delta = double.PositiveInfinity;
                for (var j = 1; j <= columns; j++)
                {
                    if (!used[j])
                    {
                        var cur = costs[((i0 - 1) * columns) + j - 1] - u[i0] - v[j];
                        if (cur < minv[j])
                        {
                            minv[j] = cur;
                            way[j] = j0;
                        }
                        if (minv[j] < delta)
                        {
                            delta = minv[j];
                            j1 = j;
                        }
                    }
                }
                for (var j = 0; j <= columns; j++)
                {
                    if (used[j])
                    {
                        u[p[j]] += delta;
                        v[j] -= delta;
                    }
                    else
                    {
                        minv[j] -= delta;
                    }
                }
                j0 = j1;
            }
            while (p[j0] != 0);
            do
            {
                var j1 = way[j0];
                p[j0] = p[j1];
                j0 = j1;
            }
            while (j0 != 0);
        }
        var total = 0.0;
        for (var j = 1; j <= columns; j++)
        {
            if (p[j] != 0)
            {
                total += costs[((p[j] - 1) * columns) + j - 1];
            }
        }
        return total;
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
