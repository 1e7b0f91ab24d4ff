using RobotFleet.Perception;

namespace RobotFleet.Perception.Tests;

public class DecoderTests
{
    [Fact]
    public void Top_k_best_first_ties_by_lower_index_nan_never()
    {
        float[] scores = [0.1f, 0.7f, float.NaN, 0.7f, 0.05f, 0.9f];
        var top = new int[3];

        Assert.Equal(3, TopKDecoder.SelectTop(scores, top));
        Assert.Equal([5, 1, 3], top);

        var all = new int[10];
        Assert.Equal(5, TopKDecoder.SelectTop(scores, all));
        Assert.Equal([5, 1, 3, 0, 4], all[..5]);
    }

    [Fact]
    public void Top_k_matches_a_full_sort_on_random_scores()
    {
        var random = new Random(7);
        for (var round = 0; round < 200; round++)
        {
            var scores = Enumerable.Range(0, random.Next(1, 60)).Select(_ => (float)Math.Round(random.NextDouble(), 2)).ToArray();
            var k = random.Next(1, 10);
            var top = new int[k];
            var found = TopKDecoder.SelectTop(scores, top);

            var expected = scores.Select((s, i) => (s, i)).OrderByDescending(x => x.s).ThenBy(x => x.i).Take(k).Select(x => x.i).ToArray();
            Assert.Equal(expected, top[..found]);
        }
    }

    [Fact]
    public void Softmax_probabilities_of_the_top_classes()
    {
        float[] logits = [1f, 0f, 0f, 0.5f];
        var r = TopKDecoder.Decode(logits, 2, softmax: true, ["red", "green", "blue", "other"]);

        var sum = Math.Exp(1) + 1 + 1 + Math.Exp(0.5);
        Assert.Equal(2, r.Length);
        Assert.Equal(("red", 0), (r[0].Label, r[0].ClassId));
        Assert.Equal((float)(Math.Exp(1) / sum), r[0].Score, 6);
        Assert.Equal(("other", 3), (r[1].Label, r[1].ClassId));
        Assert.Equal((float)(Math.Exp(0.5) / sum), r[1].Score, 6);
    }

    [Fact]
    public void Softmax_is_stable_for_large_logits_and_raw_scores_pass_through()
    {
        var r = TopKDecoder.Decode([1000f, 999f], 2, softmax: true, ["a", "b"]);
        Assert.Equal(1 / (1 + Math.Exp(-1)), r[0].Score, 5);
        Assert.False(float.IsNaN(r[1].Score));

        var raw = TopKDecoder.Decode([0.2f, 0.8f], 5, softmax: false, ["a", "b"]);
        Assert.Equal([("b", 0.8f), ("a", 0.2f)], raw.Select(c => (c.Label, c.Score)));
    }

    [Fact]
    public void Intersection_over_union()
    {
        Assert.Equal(1f, DetectionDecoder.IntersectionOverUnion(0, 0, 2, 2, 0, 0, 2, 2));
        Assert.Equal(0f, DetectionDecoder.IntersectionOverUnion(0, 0, 1, 1, 2, 2, 3, 3));
        Assert.Equal(0f, DetectionDecoder.IntersectionOverUnion(0, 0, 1, 1, 1, 0, 2, 1)); // touching edges
        Assert.Equal(1f / 3, DetectionDecoder.IntersectionOverUnion(0, 0, 2, 2, 1, 0, 3, 2), 6);
        Assert.Equal(0.25f, DetectionDecoder.IntersectionOverUnion(0, 0, 4, 4, 1, 1, 3, 3), 6); // contained: 4 / 16
        Assert.Equal(0f, DetectionDecoder.IntersectionOverUnion(0, 0, 0, 5, 0, 0, 5, 5)); // no area
    }

    // Rows: x1, y1, x2, y2, score, class.
    private static readonly float[] Cluster =
    [
        10, 10, 50, 50, 0.90f, 0,   // 0: best person
        12, 12, 52, 52, 0.80f, 0,   // 1: same person, IoU ~0.82 with 0 -> suppressed
        11, 11, 51, 51, 0.85f, 1,   // 2: a cart on the same spot: other class
        100, 100, 140, 140, 0.70f, 0, // 3: another person, far away
        30, 10, 70, 50, 0.75f, 0,   // 4: IoU with 0 = 20*40 / (2*1600 - 800) = 1/3
        0, 0, 5, 5, 0.20f, 0,       // 5: under the score threshold
    ];

    [Fact]
    public void Class_aware_nms_keeps_the_best_of_each_cluster_per_class()
    {
        var kept = new int[10];
        var n = DetectionDecoder.SelectRows(Cluster, scoreThreshold: 0.3f, iouThreshold: 0.5f, classAgnostic: false, kept);

        Assert.Equal([0, 2, 4, 3], kept[..n]);
    }

    [Fact]
    public void Class_agnostic_nms_suppresses_across_classes()
    {
        var kept = new int[10];
        var n = DetectionDecoder.SelectRows(Cluster, 0.3f, 0.5f, classAgnostic: true, kept);

        Assert.Equal([0, 4, 3], kept[..n]);
    }

    [Fact]
    public void Iou_equal_to_the_threshold_is_not_suppressed_only_above_it()
    {
        var kept = new int[10];
        Assert.Equal([0, 2, 4, 3], kept[..DetectionDecoder.SelectRows(Cluster, 0.3f, 1f / 3, false, kept)]);
        Assert.Equal([0, 2, 3], kept[..DetectionDecoder.SelectRows(Cluster, 0.3f, 0.33f, false, kept)]);
    }

    [Fact]
    public void Max_detections_and_threshold_zero()
    {
        var kept = new int[2];
        Assert.Equal(2, DetectionDecoder.SelectRows(Cluster, 0.3f, 0.5f, false, kept));
        Assert.Equal([0, 2], kept);

        var all = new int[10];
        var n = DetectionDecoder.SelectRows(Cluster, 0f, 1f, false, all);
        Assert.Equal(6, n); // IoU threshold 1: nothing is suppressed
    }

    [Fact]
    public void Nms_matches_a_reference_implementation_on_random_boxes()
    {
        var random = new Random(42);
        for (var round = 0; round < 300; round++)
        {
            var n = random.Next(0, 40);
            var rows = new float[n * 6];
            for (var i = 0; i < n; i++)
            {
                var x = (float)random.Next(0, 50);
                var y = (float)random.Next(0, 50);
                rows[(i * 6) + 0] = x;
                rows[(i * 6) + 1] = y;
                rows[(i * 6) + 2] = x + random.Next(1, 30);
                rows[(i * 6) + 3] = y + random.Next(1, 30);
                rows[(i * 6) + 4] = (float)(random.Next(0, 100_000) / 100_000.0); // distinct enough: ties have no defined order
                rows[(i * 6) + 5] = random.Next(0, 3);
            }
            var iou = (float)(0.1 + (random.NextDouble() * 0.8));
            var agnostic = random.Next(2) == 0;
            var kept = new int[n + 1];
            var count = DetectionDecoder.SelectRows(rows, 0.25f, iou, agnostic, kept);

            Assert.Equal(ReferenceNms(rows, 0.25f, iou, agnostic), kept[..count]);
        }
    }

    /// <summary>Textbook greedy NMS on a list: take the best, remove what overlaps it, repeat.</summary>
    private static int[] ReferenceNms(float[] rows, float scoreThreshold, float iou, bool agnostic)
    {
        var remaining = Enumerable.Range(0, rows.Length / 6)
            .Where(i => rows[(i * 6) + 4] >= scoreThreshold)
            .OrderByDescending(i => rows[(i * 6) + 4]).ThenBy(i => i)
            .ToList();
        var keep = new List<int>();
        while (remaining.Count > 0)
        {
            var best = remaining[0];
            keep.Add(best);
            remaining.RemoveAt(0);
            remaining.RemoveAll(j =>
                (agnostic || rows[(j * 6) + 5] == rows[(best * 6) + 5])
                && DetectionDecoder.IntersectionOverUnion(
                    rows[best * 6], rows[(best * 6) + 1], rows[(best * 6) + 2], rows[(best * 6) + 3],
                    rows[j * 6], rows[(j * 6) + 1], rows[(j * 6) + 2], rows[(j * 6) + 3]) > iou);
        }
        return [.. keep];
    }

    [Fact]
    public void Decode_scales_input_pixels_to_the_frame_clamps_and_labels()
    {
        float[] rows = [2, 1, 6, 4, 0.9f, 1, -3, 0, 9, 8, 0.8f, 7];
        var decoding = TestModels.DetectorManifest().Output as DetectionDecoding;

        var d = DetectionDecoder.Decode(rows, decoding!, inputWidth: 8, inputHeight: 8, frameWidth: 640, frameHeight: 480);

        Assert.Equal(2, d.Length);
        Assert.Equal(new Detection(160, 60, 480, 240, 0.9f, 1, "cart"), d[0]);
        Assert.Equal(new Detection(0, 0, 640, 480, 0.8f, 7, "7"), d[1]); // clamped; class without a label
    }

    [Fact]
    public void Decode_normalised_boxes()
    {
        var decoding = (DetectionDecoding)TestModels.DetectorManifest(boxes: BoxCoordinates.Normalized).Output;
        var d = DetectionDecoder.Decode([0.25f, 0.5f, 0.75f, 1f, 0.5f, 0], decoding, 8, 8, 200, 100);
        Assert.Equal(new Detection(50, 50, 150, 100, 0.5f, 0, "person"), Assert.Single(d));
    }

    [Fact]
    public void Rows_must_be_whole()
    {
        Assert.Throws<ArgumentException>(() => DetectionDecoder.SelectRows(new float[7], 0, 0.5f, false, new int[2]));
    }
}
