using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RobotFleet.Planning;

/// <summary>
/// Optimal rectangular linear assignment: gives each row a distinct column so that the sum of the chosen costs is
/// minimal. Algorithm: Jonker and Volgenant's shortest augmenting path method (LAPJV; R. Jonker, A. Volgenant,
/// "A shortest augmenting path algorithm for dense and sparse linear assignment problems", Computing 38, 325-340, 1987):
/// column reduction, reduction transfer, two rounds of augmenting row reduction, then Dijkstra-like shortest
/// augmenting paths on reduced costs (rows scanned over contiguous columns, four per 256-bit vector instruction, instead of
/// through JV's permuted column list). O(n^3) worst case for an n x n problem; a rectangular problem is padded to square
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
        // Columns are ready (not reached at the current minimum), to scan (at the minimum), or scanned. Instead of JV's
        // permuted column list, two arrays make the scans contiguous, so they run 4 columns per instruction (Vector256):
        // open[j] = d[j] for a ready column and -inf otherwise (a row scan improves only where reduced < open[j]);
        // closed[j] = 0 for a ready column and +inf otherwise (the minimum of d + closed is the next level).
        var d = new double[n];
        var open = new double[n];
        var closed = new double[n];
        var pred = new int[n];
        var toScan = new int[n];
        var scanned = new int[n];
        for (var f = 0; f < numFree; f++)
        {
            var freeRow = free[f];
            var start = c.Slice(freeRow * n, n);
            for (var j = 0; j < n; j++)
            {
                d[j] = open[j] = start[j] - v[j];
                pred[j] = freeRow;
            }
            Array.Clear(closed);

            int pending = 0, done = 0, endOfPath = -1;
            var min = 0.0;
            while (endOfPath < 0)
            {
                if (pending == 0)
                {
                    // Next level: the least d among ready columns; all of them become to-scan; a free one ends the path.
                    min = MinSum(d, closed);
                    for (var j = 0; j < n; j++)
                    {
                        if (d[j] + closed[j] == min)
                        {
                            open[j] = double.NegativeInfinity;
                            closed[j] = double.PositiveInfinity;
                            toScan[pending++] = j;
                            if (y[j] < 0 && endOfPath < 0)
                            {
                                endOfPath = j;
                            }
                        }
                    }
                    if (endOfPath >= 0)
                    {
                        break;
                    }
                }

                var j1 = toScan[--pending];
                scanned[done++] = j1;
                var i = y[j1];
                var row = c.Slice(i * n, n);
                var h = row[j1] - v[j1] - min;
                endOfPath = ScanRow(row, v, open, h, min, n, i, d, closed, pred, y, toScan, ref pending);
            }

            // Update the prices of the scanned columns (d - min is 0 for those scanned at the last level), then flip the path.
            for (var k = 0; k < done; k++)
            {
                var j1 = scanned[k];
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

    /// <summary>min over j of d[j] + closed[j] (closed is 0 or +infinity).</summary>
    private static double MinSum(double[] d, double[] closed)
    {
        var n = d.Length;
        ref var dRef = ref MemoryMarshal.GetArrayDataReference(d);
        ref var closedRef = ref MemoryMarshal.GetArrayDataReference(closed);
        var j = 0;
        var best = double.PositiveInfinity;
        if (n >= Vector256<double>.Count)
        {
            var acc = Vector256.Create(double.PositiveInfinity);
            for (; j <= n - Vector256<double>.Count; j += Vector256<double>.Count)
            {
                acc = Vector256.Min(acc, Vector256.LoadUnsafe(ref dRef, (nuint)j) + Vector256.LoadUnsafe(ref closedRef, (nuint)j));
            }
            for (var k = 0; k < Vector256<double>.Count; k++)
            {
                best = Math.Min(best, acc.GetElement(k));
            }
        }
        for (; j < n; j++)
        {
            best = Math.Min(best, d[j] + closed[j]);
        }
        return best;
    }

    /// <summary>
    /// Relaxes the ready columns from row <paramref name="i"/> (reduced cost row[j] - v[j] - h): where that improves d[j], it
    /// becomes d[j] with predecessor i; one that reaches the current minimum moves to the to-scan stack, or ends the path
    /// when it is unassigned. Returns that column, or -1.
    /// </summary>
    private static int ScanRow(ReadOnlySpan<double> row, double[] v, double[] open, double h, double min, int n, int i,
        double[] d, double[] closed, int[] pred, int[] y, int[] toScan, ref int pending)
    {
        ref var rowRef = ref MemoryMarshal.GetReference(row);
        ref var vRef = ref MemoryMarshal.GetArrayDataReference(v);
        ref var openRef = ref MemoryMarshal.GetArrayDataReference(open);
        var j = 0;
        if (n >= Vector256<double>.Count)
        {
            var hv = Vector256.Create(h);
            for (; j <= n - Vector256<double>.Count; j += Vector256<double>.Count)
            {
                // Loads stay within the row and arrays: j + Count <= n.
                var reduced = Vector256.LoadUnsafe(ref rowRef, (nuint)j) - Vector256.LoadUnsafe(ref vRef, (nuint)j) - hv;
                var better = Vector256.LessThan(reduced, Vector256.LoadUnsafe(ref openRef, (nuint)j)).ExtractMostSignificantBits();
                while (better != 0)
                {
                    var k = j + BitOperations.TrailingZeroCount(better);
                    better &= better - 1;
                    if (Relax(k, reduced.GetElement(k - j), min, i, d, open, closed, pred, y, toScan, ref pending))
                    {
                        return k;
                    }
                }
            }
        }
        for (; j < n; j++)
        {
            var reduced = row[j] - v[j] - h;
            if (reduced < open[j] && Relax(j, reduced, min, i, d, open, closed, pred, y, toScan, ref pending))
            {
                return j;
            }
        }
        return -1;
    }

    /// <summary>Takes an improved d[j]; true when j is an unassigned column at the current minimum (the path ends there).</summary>
    private static bool Relax(int j, double reduced, double min, int i, double[] d, double[] open, double[] closed, int[] pred, int[] y, int[] toScan, ref int pending)
    {
        pred[j] = i;
        if (reduced == min)
        {
            if (y[j] < 0)
            {
                return true;
            }
            open[j] = double.NegativeInfinity;
            closed[j] = double.PositiveInfinity;
            toScan[pending++] = j;
        }
        else
        {
            open[j] = reduced;
        }
        d[j] = reduced;
        return false;
    }
}
