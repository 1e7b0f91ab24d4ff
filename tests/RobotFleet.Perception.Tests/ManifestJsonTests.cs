using System.Text.Json.Nodes;
using RobotFleet.Perception;

namespace RobotFleet.Perception.Tests;

public class ManifestJsonTests
{
    private const string Classifier = """
        {
          "name": "shelf-classifier",
          "version": "2.1.0+build.7",
          "task": "classification",
          "input": { "name": "image", "elementType": "float32", "shape": ["batch", 3, 224, 224] },
          "preprocessing": {
            "resize": "bilinear",
            "layout": "NCHW",
            "colorOrder": "RGB",
            "pixelScale": 0.00392156862745098,
            "mean": [0.485, 0.456, 0.406],
            "std": [0.229, 0.224, 0.225]
          },
          "output": { "name": "logits", "topK": 3, "labels": ["empty", "half", "full"] },
          "latencyBudgetMs": 40
        }
        """;

    private const string Detector = """
        {
          "name": "obstacle-detector",
          "version": "1.0.0",
          "task": "detection",
          "input": { "name": "images", "elementType": "uint8", "shape": [1, 320, 320, 3] },
          "preprocessing": { "layout": "NHWC", "colorOrder": "BGR" },
          "output": {
            "name": "detections", "layout": "xyxy-score-class", "boxes": "normalized",
            "scoreThreshold": 0.4, "iouThreshold": 0.5, "maxDetections": 20, "classAgnosticNms": true,
            "labels": ["person", "cart"]
          },
          "latencyBudgetMs": 25.5,
          "x-note": "extensions are ignored"
        }
        """;

    [Fact]
    public void Parses_a_classification_manifest()
    {
        var m = ModelManifestJson.Parse(Classifier);

        Assert.Equal("shelf-classifier", m.Name);
        Assert.Equal("2.1.0+build.7", m.Version);
        Assert.Equal(ModelKind.Classification, m.Kind);
        Assert.Equal("image", m.Input.Name);
        Assert.Equal(InputElementType.Float32, m.Input.ElementType);
        Assert.True(m.Input.Shape[0].IsDynamic);
        Assert.Equal("batch", m.Input.Shape[0].Symbol);
        Assert.Equal([3L, 224, 224], m.Input.Shape.Skip(1).Select(d => d.Size));
        Assert.Equal((224, 224), (m.Preprocessing.Width, m.Preprocessing.Height));
        Assert.Equal(TensorLayout.Nchw, m.Preprocessing.Layout);
        Assert.Equal(ColorOrder.Rgb, m.Preprocessing.ColorOrder);
        Assert.Equal(0.485f, m.Preprocessing.Mean[0]);
        Assert.Equal(0.225f, m.Preprocessing.Std[2]);
        var t = Assert.IsType<TopKDecoding>(m.Output);
        Assert.Equal(("logits", 3, true), (t.TensorName, t.TopK, t.Softmax));
        Assert.Equal(["empty", "half", "full"], t.Labels);
        Assert.Equal(TimeSpan.FromMilliseconds(40), m.LatencyBudget);
        Assert.Equal([1L, 3, 224, 224], m.Preprocessing.InputShape());
    }

    [Fact]
    public void Parses_a_detection_manifest_with_defaults_and_ignores_x_fields()
    {
        var m = ModelManifestJson.Parse(Detector);

        Assert.Equal(ModelKind.Detection, m.Kind);
        Assert.Equal(InputElementType.UInt8, m.Input.ElementType);
        Assert.Equal((320, 320, 1f), (m.Preprocessing.Width, m.Preprocessing.Height, m.Preprocessing.PixelScale));
        Assert.Equal([0f, 0f, 0f], m.Preprocessing.Mean);
        Assert.Equal([1f, 1f, 1f], m.Preprocessing.Std);
        Assert.Equal([1L, 320, 320, 3], m.Preprocessing.InputShape());
        var d = Assert.IsType<DetectionDecoding>(m.Output);
        Assert.Equal((BoxCoordinates.Normalized, 0.4f, 0.5f, 20, true), (d.Boxes, d.ScoreThreshold, d.IouThreshold, d.MaxDetections, d.ClassAgnosticNms));
        Assert.Equal(TimeSpan.FromMilliseconds(25.5), m.LatencyBudget);
    }

    [Theory]
    [InlineData(Classifier)]
    [InlineData(Detector)]
    public void Serialize_round_trips(string json)
    {
        var m = ModelManifestJson.Parse(json);
        var again = ModelManifestJson.Parse(ModelManifestJson.Serialize(m));

        Assert.Equal(ModelManifestJson.Serialize(m), ModelManifestJson.Serialize(again));
        Assert.Equal(m.Name, again.Name);
        Assert.Equal(m.Input.Shape, again.Input.Shape);
        Assert.Equal(m.Preprocessing.Mean, again.Preprocessing.Mean);
        Assert.Equal(m.LatencyBudget, again.LatencyBudget);
        Assert.Equal(m.Kind, again.Kind);
    }

    [Fact]
    public void Embedding_manifest_with_dynamic_size_needs_width_and_height()
    {
        const string json = """
            { "name": "features", "version": "1", "task": "embedding",
              "input": { "name": "x", "elementType": "float32", "shape": [null, 1, "h", -1] },
              "preprocessing": { "layout": "NCHW", "colorOrder": "GRAY", "pixelScale": 1, "height": 64 },
              "output": { "name": "y", "l2Normalize": true },
              "latencyBudgetMs": 5 }
            """;

        var e = Assert.Throws<ModelManifestException>(() => ModelManifestJson.Parse(json));
        Assert.Equal("preprocessing.width", e.Field);
        Assert.Contains("required", e.Message, StringComparison.Ordinal);

        var m = ModelManifestJson.Parse(json.Replace("\"height\": 64", "\"height\": 64, \"width\": 32", StringComparison.Ordinal));
        Assert.Equal((32, 64, 1), (m.Preprocessing.Width, m.Preprocessing.Height, m.Preprocessing.Channels));
        Assert.True(Assert.IsType<EmbeddingDecoding>(m.Output).L2Normalize);
    }

    public static TheoryData<string, Action<JsonObject>, string, string> BrokenManifests => new()
    {
        { "missing name", o => o.Remove("name"), "name", "is required" },
        { "name with a slash", o => o["name"] = "shelf/classifier", "name", "contains '/'" },
        { "task unknown", o => o["task"] = "segmentation", "task", "'segmentation' is not one of" },
        { "task in capitals", o => o["task"] = "Detection", "task", "did you mean 'detection'" },
        { "misspelt field", o => { o["preprocesing"] = o["preprocessing"]!.DeepClone(); o.Remove("preprocessing"); }, "preprocesing", "unknown field" },
        { "wrong case", o => { o["Version"] = "1"; o.Remove("version"); }, "Version", "did you mean 'version'" },
        { "input not an object", o => o["input"] = "image", "input", "expected an object" },
        { "element type", o => o["input"]!["elementType"] = "int64", "input.elementType", "'int64' is not one of" },
        { "zero dimension", o => o["input"]!["shape"]![2] = 0, "input.shape[2]", "positive integer" },
        { "rank 3", o => o["input"]!["shape"]!.AsArray().RemoveAt(0), "input.shape", "4 dimensions" },
        { "batch of 2", o => o["input"]!["shape"]![0] = 2, "input.shape[0]", "batch dimension must be 1 or dynamic" },
        { "channels vs colour", o => o["input"]!["shape"]![1] = 1, "input.shape[1]", "RGB has 3 channel(s)" },
        { "height vs preprocessing", o => o["preprocessing"]!["height"] = 200, "input.shape[2]", "preprocessing.height is 200" },
        { "layout unknown", o => o["preprocessing"]!["layout"] = "CHW", "preprocessing.layout", "'CHW' is not one of" },
        { "resize unknown", o => o["preprocessing"]!["resize"] = "nearest", "preprocessing.resize", "only resize is 'bilinear'" },
        { "pixelScale missing", o => o["preprocessing"]!.AsObject().Remove("pixelScale"), "preprocessing.pixelScale", "required for float32" },
        { "mean count", o => o["preprocessing"]!["mean"]!.AsArray().RemoveAt(2), "preprocessing.mean", "needs 3 value(s)" },
        { "mean not a number", o => o["preprocessing"]!["mean"]![1] = "0.4", "preprocessing.mean[1]", "expected a number" },
        { "std zero", o => o["preprocessing"]!["std"]![2] = 0, "preprocessing.std[2]", "positive" },
        { "topK zero", o => o["output"]!["topK"] = 0, "output.topK", "at least 1" },
        { "topK fraction", o => o["output"]!["topK"] = 2.5, "output.topK", "expected an integer" },
        { "empty label", o => o["output"]!["labels"]![1] = "", "output.labels[1]", "non-empty string" },
        { "detection field on classifier", o => o["output"]!["iouThreshold"] = 0.5, "output.iouThreshold", "unknown field" },
        { "budget missing", o => o.Remove("latencyBudgetMs"), "latencyBudgetMs", "is required" },
        { "budget negative", o => o["latencyBudgetMs"] = -5, "latencyBudgetMs", "positive" },
    };

    [Theory]
    [MemberData(nameof(BrokenManifests))]
    public void Errors_name_the_field(string why, Action<JsonObject> breakIt, string field, string text)
    {
        var o = JsonNode.Parse(Classifier)!.AsObject();
        breakIt(o);

        var e = Assert.Throws<ModelManifestException>(() => ModelManifestJson.Parse(o.ToJsonString()));

        Assert.True(field == e.Field, $"{why}: field '{e.Field}', message: {e.Message}");
        Assert.Contains(text, e.Message, StringComparison.Ordinal);
        Assert.StartsWith($"manifest field '{field}': ", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"iouThreshold": 0}""", "output.iouThreshold")]
    [InlineData("""{"scoreThreshold": 1.5}""", "output.scoreThreshold")]
    [InlineData("""{"layout": "cxcywh"}""", "output.layout")]
    [InlineData("""{"boxes": "pixels"}""", "output.boxes")]
    [InlineData("""{"maxDetections": 0}""", "output.maxDetections")]
    public void Detection_errors_name_the_field(string patch, string field)
    {
        var o = JsonNode.Parse(Detector)!.AsObject();
        foreach (var (k, v) in JsonNode.Parse(patch)!.AsObject())
        {
            o["output"]![k] = v!.DeepClone();
        }

        var e = Assert.Throws<ModelManifestException>(() => ModelManifestJson.Parse(o.ToJsonString()));
        Assert.Equal(field, e.Field);
    }

    [Fact]
    public void Uint8_inputs_refuse_normalisation()
    {
        var o = JsonNode.Parse(Detector)!.AsObject();
        o["preprocessing"]!["mean"] = new JsonArray(1, 2, 3);

        var e = Assert.Throws<ModelManifestException>(() => ModelManifestJson.Parse(o.ToJsonString()));
        Assert.Equal("preprocessing", e.Field);
        Assert.Contains("uint8 inputs take raw pixel values", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "not valid JSON")]
    [InlineData("{\"name\": ", "not valid JSON at line 1")]
    [InlineData("[]", "expected an object")]
    [InlineData("{\"name\": \"a\", \"name\": \"b\"}", "appears more than once")]
    public void Not_json_or_not_an_object(string json, string text)
    {
        var e = Assert.Throws<ModelManifestException>(() => ModelManifestJson.Parse(json));
        Assert.Contains(text, e.Message, StringComparison.Ordinal);
        Assert.True(e.Field is "$" or "name", e.Field);
    }

    [Fact]
    public void TryParse_returns_the_error()
    {
        Assert.False(ModelManifestJson.TryParse("{}", out var m, out var error));
        Assert.Null(m);
        Assert.Equal("name", error!.Field);
        Assert.True(ModelManifestJson.TryParse(Classifier, out m, out error));
        Assert.NotNull(m);
        Assert.Null(error);
    }

    [Fact]
    public void Manifests_built_in_code_are_validated_too()
    {
        var m = TestModels.ClassifierManifest() with { LatencyBudget = TimeSpan.Zero };
        Assert.Equal("latencyBudgetMs", Assert.Throws<ModelManifestException>(m.Validate).Field);
        var bad = TestModels.ClassifierManifest() with { Preprocessing = TestModels.ClassifierManifest().Preprocessing with { Std = [1, 1] } };
        Assert.Equal("preprocessing.std", Assert.Throws<ModelManifestException>(bad.Validate).Field);
    }
}
