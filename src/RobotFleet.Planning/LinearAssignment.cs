namespace RobotFleet.Planning;

/// <summary>
/// Optimal rectangular linear assignment: gives each row a distinct column so that the sum of the chosen costs is
/// minimal. Algorithm: Jonker and Volgenant's shortest augmenting path method (LAPJV; R. Jonker, A. Volgenant,
/// "A shortest augmenting path algorithm for dense and sparse linear assignment problems", Computing 38, 325-340, 1987):
/// column reduction, reduction transfer, two rounds of augmenting row reduction, then Dijkstra-like shortest
/// augmenting paths on reduced costs. O(n^3) worst case for an n x n problem; a rectangular problem is padded to square
/// with zero-cost rows. Deterministic: equal inputs give equal outputs (ties go the same way every time).
/// Stateless and thread-safe.
/// </summary>
public static class LinearAssignment
{
    /// <summary>Solves a rows x columns problem (rows &lt;= columns) given row-major finite costs; returns the column chosen for each row.</summary>
    /// <param name="costs">Row-major costs, <c>costs[row * columns + column]</c>; every value must be finite (model a forbidden pair with a large cost).</param>
    /// <param name="rows">Number of rows (&gt;= 0, &lt;= <paramref name="columns"/>).</param>
    /// <param name="columns">Number of columns.</param>
    /// <returns>For each row, its column; all distinct.</returns>
    /// <exception cref="ArgumentException">Sizes do not match, rows exceed columns, or a cost is not finite.</exception>
    public static int[] Solve(ReadOnlySpan<double> costs, int rows, int columns)
    {
        if (rows < 0 || columns < 0 || rows > columns || costs.Length != rows * columns)
        {
            throw new ArgumentException($"Need rows <= columns and {rows} x {columns} costs; got {costs.Length} costs.", nameof(costs));
        }
        foreach (var cost in costs)
        {
            if (!double.IsFinite(cost))
            {
                throw new ArgumentException("Every cost must be finite; model a forbidden pair with a large finite cost.", nameof(costs));
            }
        }
        if (rows == 0)
        {
            return [];
        }
        if (rows == columns)
        {
            return SolveSquare(costs, columns);
        }

        // Pad with zero-cost rows: whatever columns they take are the ones the real rows leave.
        var square = new double[columns * columns];
        costs.CopyTo(square);
        return SolveSquare(square, columns)[..rows];
    }

    /// <summary>Sum of the chosen costs.</summary>
    /// <param name="costs">Row-major costs as given to <see cref="Solve"/>.</param>
    /// <param name="columns">Number of columns.</param>
    /// <param name="columnOfRow">The column of each row.</param>
    /// <returns>The total.</returns>
    public static double TotalCost(ReadOnlySpan<double> costs, int columns, IReadOnlyList<int> columnOfRow)
    {
        ArgumentNullException.ThrowIfNull(columnOfRow);
        var total = 0.0;
        for (var i = 0; i < columnOfRow.Count; i++)
        {
            total += costs[(i * columns) + columnOfRow[i]];
        }
        return total;
    }

    private static int[] SolveSquare(ReadOnlySpan<double> c, int n)
    {
        var x = new int[n]; // column of each row
        var y = new int[n]; // row of each column
        Array.Fill(x, -1);
        Array.Fill(y, -1);
        if (n == 1)
        {
            x[0] = 0;
            return x;
        }

        var v = new double[n]; // column prices (dual variables)
        var free = new int[n];
        var matches = new int[n];

        // Column reduction: v[j] = column minimum; the minimum's row takes the column if it has none yet.
        // Scanned row by row for memory locality; strict '<' keeps the first (lowest) row on ties, as a column scan would.
        var argMin = new int[n];
        c[..n].CopyTo(v);
        for (var i = 1; i < n; i++)
        {
            var row = c.Slice(i * n, n);
            for (var j = 0; j < n; j++)
            {
                if (row[j] < v[j])
                {
                    v[j] = row[j];
                    argMin[j] = i;
                }
            }
        }
        for (var j = n - 1; j >= 0; j--)
        {
            var imin = argMin[j];
            if (++matches[imin] == 1)
            {
                x[imin] = j;
                y[j] = imin;
            }
        }

        // Reduction transfer: rows with exactly one column pass their slack to that column's price.
        var numFree = 0;
        for (var i = 0; i < n; i++)
        {
            if (matches[i] == 0)
            {
                free[numFree++] = i;
            }
            else if (matches[i] == 1)
            {
                var j1 = x[i];
                var row = c.Slice(i * n, n);
                var min = double.PositiveInfinity;
                for (var j = 0; j < n; j++)
                {
                    if (j != j1 && row[j] - v[j] < min)
                    {
                        min = row[j] - v[j];
                    }
                }
                v[j1] -= min;
            }
        }

        // Augmenting row reduction, two rounds. A displaced row is retried at once only while the column price strictly
        // drops; a step budget stops float-sized decrements from cycling for long (such rows go to the augmentation phase).
        var budget = 16L * n;
        for (var round = 0; round < 2; round++)
        {
            var k = 0;
            var previousFree = numFree;
            numFree = 0;
            while (k < previousFree)
            {
                var i = free[k++];
                var row = c.Slice(i * n, n);
                var umin = row[0] - v[0];
                var usubmin = double.PositiveInfinity;
                int j1 = 0, j2 = 0;
                for (var j = 1; j < n; j++)
                {
                    var h = row[j] - v[j];
                    if (h < usubmin)
                    {
                        if (h >= umin)
                        {
                            usubmin = h;
                            j2 = j;
                        }
                        else
                        {
                            usubmin = umin;
                            umin = h;
                            j2 = j1;
                            j1 = j;
                        }
                    }
                }

                var i0 = y[j1];
                var decreased = umin < usubmin;
                if (decreased)
                {
                    v[j1] -= usubmin - umin;
                }
                else if (i0 >= 0)
                {
                    j1 = j2;
                    i0 = y[j2];
                }
                x[i] = j1;
                y[j1] = i;
                if (i0 >= 0)
                {
                    if (decreased && --budget > 0)
                    {
                        free[--k] = i0;
                    }
                    else
                    {
                        free[numFree++] = i0;
                    }
                }
            }
        }

        // Augmentation: one shortest augmenting path (Dijkstra on reduced costs) per row still free.
        var d = new double[n];
        var pred = new int[n];
        var columnList = new int[n];
        for (var f = 0; f < numFree; f++)
        {
            var freeRow = free[f];
            var start = c.Slice(freeRow * n, n);
            for (var j = 0; j < n; j++)
            {
                d[j] = start[j] - v[j];
                pred[j] = freeRow;
                columnList[j] = j;
            }

            // columnList[0..low) scanned; [low..up) at the current minimum, to scan; [up..n) not yet reached.
            int low = 0, up = 0, last = 0, endOfPath = -1;
            var min = 0.0;
            var found = false;
            do
            {
                if (up == low)
                {
                    last = low - 1;
                    min = d[columnList[up++]];
                    for (var k = up; k < n; k++)
                    {
                        var j = columnList[k];
                        var h = d[j];
                        if (h <= min)
                        {
                            if (h < min)
                            {
                                up = low;
                                min = h;
                            }
                            columnList[k] = columnList[up];
                            columnList[up++] = j;
                        }
                    }
                    for (var k = low; k < up; k++)
                    {
                        if (y[columnList[k]] < 0)
                        {
                            endOfPath = columnList[k];
                            found = true;
                            break;
                        }
                    }
                }

                if (!found)
                {
                    var j1 = columnList[low++];
                    var i = y[j1];
                    var row = c.Slice(i * n, n);
                    var h = row[j1] - v[j1] - min;
                    for (var k = up; k < n; k++)
                    {
                        var j = columnList[k];
                        var reduced = row[j] - v[j] - h;
                        if (reduced < d[j])
                        {
                            pred[j] = i;
                            if (reduced == min)
                            {
                                if (y[j] < 0)
                                {
                                    endOfPath = j;
                                    found = true;
                                    break;
                                }
                                columnList[k] = columnList[up];
                                columnList[up++] = j;
                            }
                            d[j] = reduced;
                        }
                    }
                }
            }
            while (!found);

            // Update the prices of the scanned columns, then flip the alternating path.
            for (var k = 0; k <= last; k++)
            {
                var j1 = columnList[k];
                v[j1] += d[j1] - min;
            }
            int row0;
            do
            {
                row0 = pred[endOfPath];
                y[endOfPath] = row0;
                (endOfPath, x[row0]) = (x[row0], endOfPath);
            }
            while (row0 != freeRow);
        }

        return x;
    }
}
