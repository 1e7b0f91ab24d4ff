namespace RobotFleet.Perception;

/// <summary>
/// Classification decoding: the k largest scores, best first, with an optional softmax.
/// Softmax is the numerically stable form p_i = exp(x_i - max) / sum_j exp(x_j - max) (Goodfellow, Bengio, Courville,
/// <i>Deep Learning</i>, 2016, §4.1); since it is monotonic, the top k are chosen on the raw scores and only their
/// probabilities are computed, so no buffer of K probabilities is needed.
/// </summary>
/// <remarks>Stateless, allocation-free; safe to call from any thread.</remarks>
public static class TopKDecoder
{
    /// <summary>Finds the <c>indices.Length</c> largest values of <paramref name="scores"/>, best first (ties: lower index first).</summary>
    /// <param name="scores">One score per class; NaN scores are never selected.</param>
    /// <param name="indices">Receives the class indices; its length is k.</param>
    /// <returns>How many were found: min(k, number of non-NaN scores).</returns>
    /// <remarks>O(K x k): insertion into a sorted window, fast for the small k used in practice.</remarks>
    public static int SelectTop(ReadOnlySpan<float> scores, Span<int> indices)
    {
        var k = indices.Length;
        var count = 0;
        for (var i = 0; i < scores.Length; i++)
        {
            var s = scores[i];
            if (float.IsNaN(s) || (count == k && (k == 0 || s <= scores[indices[k - 1]])))
            {
                continue;
            }
            var at = count < k ? count++ : k - 1;
            while (at > 0 && scores[indices[at - 1]] < s)
            {
                indices[at] = indices[at - 1];
                at--;
            }
            indices[at] = i;
        }
        return count;
    }

    /// <summary>Decodes one classification output.</summary>
    /// <param name="scores">One score (logit or probability) per class.</param>
    /// <param name="k">How many classes to report, at least 1.</param>
    /// <param name="softmax">Turn the scores into softmax probabilities.</param>
    /// <param name="labels">Label per class index; must have <c>scores.Length</c> entries.</param>
    /// <returns>Up to k classes, best first.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> below 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="labels"/> has a different count than <paramref name="scores"/>.</exception>
    public static ClassScore[] Decode(ReadOnlySpan<float> scores, int k, bool softmax, IReadOnlyList<string> labels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count != scores.Length)
        {
            throw new ArgumentException($"{labels.Count} labels for {scores.Length} classes.", nameof(labels));
        }
        k = Math.Min(k, scores.Length);
        Span<int> top = k <= 256 ? stackalloc int[k] : new int[k];
        var found = SelectTop(scores, top);
        var result = new ClassScore[found];
        var max = found > 0 ? scores[top[0]] : 0f;
        var sum = 0.0;
        if (softmax)
        {
            foreach (var s in scores)
            {
                if (!float.IsNaN(s))
                {
                    sum += Math.Exp(s - max);
                }
            }
        }
        for (var i = 0; i < found; i++)
        {
            var c = top[i];
            var score = softmax ? (float)(Math.Exp(scores[c] - max) / sum) : scores[c];
            result[i] = new ClassScore(c, labels[c], score);
        }
        return result;
    }
}
