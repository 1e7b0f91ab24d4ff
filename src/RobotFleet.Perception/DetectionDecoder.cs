using System.Buffers;

namespace RobotFleet.Perception;

/// <summary>
/// Detection decoding for the <c>xyxy-score-class</c> layout (rows of x1, y1, x2, y2, score, class; see
/// <see cref="DetectionDecoding"/>): score threshold, then greedy non-maximum suppression (NMS).
/// </summary>
/// <remarks>
/// Greedy NMS as in Felzenszwalb, Girshick, McAllester and Ramanan, "Object Detection with Discriminatively Trained
/// Part-Based Models", IEEE PAMI 32(9), 2010, and as implemented by <c>torchvision.ops.nms</c> /
/// <c>batched_nms</c>: sort candidates by score, descending; repeatedly keep the best remaining box and drop every
/// remaining box whose intersection-over-union with it is strictly greater than the threshold (only boxes of the
/// same class unless class-agnostic). IoU = area(A ∩ B) / area(A ∪ B); boxes with no area have IoU 0 with anything.
/// O(n²) in the candidates that pass the score threshold. Stateless; scratch comes from <see cref="ArrayPool{T}"/>;
/// safe to call from any thread.
/// </remarks>
public static class DetectionDecoder
{
    /// <summary>Values per row of the layout.</summary>
    public const int RowLength = 6;

    /// <summary>Intersection over union of two boxes given by corners; 0 when either has no area.</summary>
    public static float IntersectionOverUnion(float ax1, float ay1, float ax2, float ay2, float bx1, float by1, float bx2, float by2)
    {
        var areaA = Math.Max(0f, ax2 - ax1) * Math.Max(0f, ay2 - ay1);
        var areaB = Math.Max(0f, bx2 - bx1) * Math.Max(0f, by2 - by1);
        if (areaA <= 0 || areaB <= 0)
        {
            return 0f;
        }
        var iw = Math.Min(ax2, bx2) - Math.Max(ax1, bx1);
        var ih = Math.Min(ay2, by2) - Math.Max(ay1, by1);
        if (iw <= 0 || ih <= 0)
        {
            return 0f;
        }
        var inter = iw * ih;
        return inter / (areaA + areaB - inter);
    }

    /// <summary>
    /// Greedy NMS over rows in the <c>xyxy-score-class</c> layout: returns the indices of the rows kept, best score first.
    /// </summary>
    /// <param name="rows">N x 6 floats, row-major.</param>
    /// <param name="scoreThreshold">Rows with a score below this (or NaN) are dropped before suppression.</param>
    /// <param name="iouThreshold">A row is suppressed when its IoU with a kept row exceeds this.</param>
    /// <param name="classAgnostic">Suppress across classes; otherwise only rows of the same class suppress each other.</param>
    /// <param name="kept">Receives the row indices kept; its length is the most kept.</param>
    /// <returns>How many rows were kept.</returns>
    /// <exception cref="ArgumentException"><paramref name="rows"/> is not a whole number of rows.</exception>
    public static int SelectRows(ReadOnlySpan<float> rows, float scoreThreshold, float iouThreshold, bool classAgnostic, Span<int> kept)
    {
        if (rows.Length % RowLength != 0)
        {
            throw new ArgumentException($"{rows.Length} values are not a whole number of {RowLength}-value rows.", nameof(rows));
        }
        var n = rows.Length / RowLength;
        if (n == 0 || kept.IsEmpty)
        {
            return 0;
        }
        var negScores = ArrayPool<float>.Shared.Rent(n);
        var order = ArrayPool<int>.Shared.Rent(n);
        var suppressed = ArrayPool<bool>.Shared.Rent(n);
        try
        {
            var candidates = 0;
            for (var i = 0; i < n; i++)
            {
                var score = rows[(i * RowLength) + 4];
                if (score >= scoreThreshold)
                {
                    negScores[candidates] = -score;
                    order[candidates] = i;
                    candidates++;
                }
            }
            // Sort by score, descending; equal scores keep no particular order (introsort), as in torchvision.
            negScores.AsSpan(0, candidates).Sort(order.AsSpan(0, candidates));
            Array.Clear(suppressed, 0, candidates);

            var count = 0;
            for (var a = 0; a < candidates && count < kept.Length; a++)
            {
                if (suppressed[a])
                {
                    continue;
                }
                var i = order[a];
                kept[count++] = i;
                var ri = rows.Slice(i * RowLength, RowLength);
                for (var b = a + 1; b < candidates; b++)
                {
                    if (suppressed[b])
                    {
                        continue;
                    }
                    var rj = rows.Slice(order[b] * RowLength, RowLength);
                    if (!classAgnostic && ClassOf(ri[5]) != ClassOf(rj[5]))
                    {
                        continue;
                    }
                    if (IntersectionOverUnion(ri[0], ri[1], ri[2], ri[3], rj[0], rj[1], rj[2], rj[3]) > iouThreshold)
                    {
                        suppressed[b] = true;
                    }
                }
            }
            return count;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(negScores);
            ArrayPool<int>.Shared.Return(order);
            ArrayPool<bool>.Shared.Return(suppressed);
        }
    }

    /// <summary>
    /// Decodes detection rows into boxes in frame pixels: score threshold, NMS, then corners scaled from the box units
    /// to the frame and clamped to it.
    /// </summary>
    /// <param name="rows">N x 6 floats, row-major.</param>
    /// <param name="decoding">Thresholds, units and labels.</param>
    /// <param name="inputWidth">Model input width in pixels (for <see cref="BoxCoordinates.InputPixels"/>).</param>
    /// <param name="inputHeight">Model input height in pixels.</param>
    /// <param name="frameWidth">Width of the frame the boxes are reported in.</param>
    /// <param name="frameHeight">Height of the frame.</param>
    /// <returns>At most <see cref="DetectionDecoding.MaxDetections"/> detections, best score first.</returns>
    /// <exception cref="ArgumentException"><paramref name="rows"/> is not a whole number of rows.</exception>
    public static Detection[] Decode(ReadOnlySpan<float> rows, DetectionDecoding decoding, int inputWidth, int inputHeight, int frameWidth, int frameHeight)
    {
        ArgumentNullException.ThrowIfNull(decoding);
        var most = Math.Min(decoding.MaxDetections, rows.Length / RowLength);
        var kept = ArrayPool<int>.Shared.Rent(Math.Max(most, 1));
        try
        {
            var count = SelectRows(rows, decoding.ScoreThreshold, decoding.IouThreshold, decoding.ClassAgnosticNms, kept.AsSpan(0, most));
            var (sx, sy) = decoding.Boxes == BoxCoordinates.Normalized
                ? ((float)frameWidth, (float)frameHeight)
                : ((float)frameWidth / inputWidth, (float)frameHeight / inputHeight);
            var result = new Detection[count];
            for (var k = 0; k < count; k++)
            {
                var r = rows.Slice(kept[k] * RowLength, RowLength);
                var x1 = Math.Clamp(r[0] * sx, 0, frameWidth);
                var y1 = Math.Clamp(r[1] * sy, 0, frameHeight);
                var x2 = Math.Clamp(r[2] * sx, x1, frameWidth);
                var y2 = Math.Clamp(r[3] * sy, y1, frameHeight);
                var cls = ClassOf(r[5]);
                result[k] = new Detection(x1, y1, x2, y2, r[4], cls, LabelOf(cls, decoding.Labels));
            }
            return result;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(kept);
        }
    }

    private static int ClassOf(float value) => float.IsFinite(value) ? (int)MathF.Round(Math.Clamp(value, -1, int.MaxValue / 2)) : -1;

    private static string LabelOf(int cls, IReadOnlyList<string> labels) =>
        cls >= 0 && cls < labels.Count ? labels[cls] : LabelCache.Of(cls);
}

/// <summary>Index labels ("0", "1", ...) for models without labels, cached so decoding does not format numbers per frame.</summary>
internal static class LabelCache
{
    private static readonly string[] Small = Enumerable.Range(0, 1024).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    public static string Of(int index) => index >= 0 && index < Small.Length
        ? Small[index]
        : index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static string[] Range(int count) => Enumerable.Range(0, count).Select(Of).ToArray();
}
