using System.Text;
using RobotFleet.Perception;

namespace RobotFleet.Perception.Tests;

/// <summary>The acceptance checks on raw bytes, in their order: not ONNX, corrupt, contract, dry run.</summary>
public class ModelCheckTests
{
    private static readonly byte[] Good = TestModels.Classifier();

    private static ModelCheckResult Check(byte[] bytes, ModelManifest? manifest = null) =>
        ModelInspector.Check(bytes, manifest ?? TestModels.ClassifierManifest());

    private static void AssertRejected(ModelCheckResult r, ModelProblem problem, ModelCheckStage stage, params string[] texts)
    {
        Assert.False(r.Accepted, r.Message);
        Assert.True(problem == r.Problem, $"expected {problem}, got {r}");
        Assert.Equal(stage, r.Stage);
        foreach (var text in texts)
        {
            Assert.Contains(text, r.Message, StringComparison.Ordinal);
        }
        Assert.Equal(r.Message, Assert.Throws<ModelRejectedException>(r.ThrowIfRejected).Message);
    }

    [Fact]
    public void A_good_model_is_accepted_with_its_signature_and_dry_run_times()
    {
        var r = Check(Good);

        Assert.True(r.Accepted, r.Message);
        Assert.Equal(ModelCheckStage.Passed, r.Stage);
        var input = Assert.Single(r.Signature!.Inputs);
        Assert.Equal("image", input.Name);
        Assert.Equal("float32 [1, 3, 8, 8]", input.Describe());
        Assert.Equal("float32 [1, 4]", Assert.Single(r.Signature.Outputs).Describe());
        Assert.Equal("RobotFleet.Perception.Tests", r.Signature.ProducerName);
        Assert.NotNull(r.DryRunTime);
        Assert.NotNull(r.WarmRunTime);
        Assert.True(ModelInspector.CheckFormat(Good).Accepted);
    }

    // ---------------------------------------------------------------- 1. not ONNX at all

    [Fact]
    public void Empty_file()
    {
        AssertRejected(Check([]), ModelProblem.Empty, ModelCheckStage.NotOnnx, "empty file (0 bytes), not an ONNX model");
    }

    [Fact]
    public void Git_lfs_pointer()
    {
        var pointer = Encoding.ASCII.GetBytes(
            "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 46827520\n");

        AssertRejected(Check(pointer), ModelProblem.GitLfsPointer, ModelCheckStage.NotOnnx,
            "Git LFS pointer, not an ONNX model", "sha256:4d7a2146", "46827520 bytes", "git lfs pull");
    }

    [Fact]
    public void Git_annex_pointer()
    {
        var pointer = Encoding.ASCII.GetBytes("/annex/objects/SHA256E-s46827520--4d7a214614ab2935c943f9e0ff69d22e.onnx\n");
        AssertRejected(Check(pointer), ModelProblem.GitAnnexPointer, ModelCheckStage.NotOnnx, "git-annex pointer, not an ONNX model");
    }

    [Theory]
    [InlineData("<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head></html>")]
    [InlineData("\n  <html lang=\"en\"><body>Sign in</body></html>")]
    public void Html_page(string html)
    {
        AssertRejected(Check(Encoding.UTF8.GetBytes(html)), ModelProblem.Html, ModelCheckStage.NotOnnx, "HTML page, not an ONNX model");
    }

    [Theory]
    [InlineData("{ \"name\": \"shelf-classifier\" }", "JSON text (a manifest in place of the model?), not an ONNX model")]
    [InlineData("model weights: see the wiki\r\n", "text file, not an ONNX model")]
    [InlineData("ünïcödé text file", "text file, not an ONNX model")]
    public void Text(string text, string message)
    {
        AssertRejected(Check(Encoding.UTF8.GetBytes(text)), ModelProblem.Text, ModelCheckStage.NotOnnx, message);
    }

    [Theory]
    [InlineData(new byte[] { (byte)'P', (byte)'K', 3, 4, 20, 0, 0, 0 }, "ZIP archive (PyTorch")]
    [InlineData(new byte[] { 0x1F, 0x8B, 8, 0, 0, 0 }, "gzip")]
    [InlineData(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10 }, "PNG image")]
    [InlineData(new byte[] { 0x18, 0, 0, 0, (byte)'T', (byte)'F', (byte)'L', (byte)'3', 0, 0 }, "TensorFlow Lite")]
    [InlineData(new byte[] { 0x80, 0x02, (byte)'c', (byte)'t' }, "Python pickle")]
    public void Other_formats(byte[] bytes, string text)
    {
        AssertRejected(Check(bytes), ModelProblem.OtherFormat, ModelCheckStage.NotOnnx, text, "not an ONNX model");
    }

    // ---------------------------------------------------------------- 2. truncated or corrupt

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(0.99)]
    public void Truncated_file(double keep)
    {
        var cut = Good[..(int)(Good.Length * keep)];

        AssertRejected(Check(cut), ModelProblem.Truncated, ModelCheckStage.Corrupt, "truncated ONNX file", "an interrupted download or upload?");
    }

    [Fact]
    public void Truncated_by_one_byte_names_the_last_field()
    {
        // Protobuf writes fields in number order: the opset_import entries (field 8) come last.
        AssertRejected(Check(Good[..^1]), ModelProblem.Truncated, ModelCheckStage.Corrupt, "field 8 (opset_import)", $"the file ends at byte {Good.Length - 1:N0}");
    }

    [Fact]
    public void Truncated_inside_the_graph_names_the_graph_field()
    {
        var (graphAt, _, _) = GraphField(Good);

        AssertRejected(Check(Good[..(graphAt + 40)]), ModelProblem.Truncated, ModelCheckStage.Corrupt,
            $"model field 7 (graph) at byte {graphAt}", "bytes but only");
    }

    [Fact]
    public void Cut_exactly_after_the_graph_is_still_reported_as_truncated()
    {
        var (_, graphStart, graphLength) = GraphField(Good);

        AssertRejected(Check(Good[..(graphStart + graphLength)]), ModelProblem.Truncated, ModelCheckStage.Corrupt,
            "ends right after field 7 (graph)", "without field 8 (opset_import)");
    }

    [Fact]
    public void Every_cut_of_a_model_is_rejected_never_accepted()
    {
        for (var length = 1; length < Good.Length; length++)
        {
            var r = ModelInspector.CheckFormat(Good.AsSpan(0, length));
            Assert.False(r.Accepted, $"cut at {length} of {Good.Length} accepted");
            Assert.True(r.Stage is ModelCheckStage.Corrupt or ModelCheckStage.NotOnnx, $"cut at {length}: {r}");
        }
    }

    /// <summary>Where ModelProto field 7 (graph) starts: its tag, its content and its length.</summary>
    private static (int TagAt, int Start, int Length) GraphField(byte[] model)
    {
        var pos = 0;
        while (true)
        {
            var tagAt = pos;
            var tag = Varint(model, ref pos);
            switch (tag & 7)
            {
                case 0:
                    Varint(model, ref pos);
                    break;
                case 2:
                    var length = (int)Varint(model, ref pos);
                    if (tag >> 3 == 7)
                    {
                        return (tagAt, pos, length);
                    }
                    pos += length;
                    break;
                default:
                    throw new InvalidOperationException("unexpected wire type in a test model");
            }
        }
    }

    private static ulong Varint(byte[] data, ref int pos)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = data[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
    }

    [Fact]
    public void Corrupt_protobuf_wire_type()
    {
        // ir_version = 8, then a tag with wire type 7, which protobuf does not define.
        AssertRejected(Check([0x08, 0x08, 0x3F, 0x00]), ModelProblem.CorruptProtobuf, ModelCheckStage.Corrupt, "corrupt protobuf", "wire type 7");
    }

    [Fact]
    public void Known_field_with_the_wrong_wire_type()
    {
        // Field 7 (graph) encoded as a varint.
        AssertRejected(Check([0x08, 0x08, 0x38, 0x01]), ModelProblem.CorruptProtobuf, ModelCheckStage.Corrupt, "field 7 (graph)", "wire type 0, expected 2");
    }

    [Fact]
    public void Protobuf_without_a_graph()
    {
        AssertRejected(Check([0x08, 0x08, 0x12, 0x02, 0x41, 0x42]), ModelProblem.CorruptProtobuf, ModelCheckStage.Corrupt, "without an ONNX graph");
    }

    [Fact]
    public void Corruption_inside_the_graph()
    {
        var bytes = (byte[])Good.Clone();
        var (_, graphStart, _) = GraphField(bytes);
        bytes[graphStart] = 0x00; // the graph's first field tag now has field number 0

        AssertRejected(Check(bytes), ModelProblem.CorruptProtobuf, ModelCheckStage.Corrupt, $"graph: invalid field number 0 at byte {graphStart}");
    }

    [Fact]
    public void Wellformed_protobuf_that_onnx_runtime_refuses()
    {
        AssertRejected(Check(TestModels.UnknownOperator()), ModelProblem.RuntimeLoadFailed, ModelCheckStage.Corrupt,
            "ONNX Runtime cannot load the model", "NoSuchOperator");
    }

    // ---------------------------------------------------------------- 3. contract

    [Fact]
    public void Input_name_mismatch_lists_the_model_inputs()
    {
        AssertRejected(Check(Good, TestModels.ClassifierManifest(inputName: "images")), ModelProblem.InputNameMismatch, ModelCheckStage.Contract,
            "input name mismatch: the manifest names input 'images', the model's inputs are 'image' float32 [1, 3, 8, 8]");
    }

    [Fact]
    public void Input_element_type_mismatch()
    {
        var manifest = TestModels.ClassifierManifest(elementType: InputElementType.UInt8);

        AssertRejected(Check(Good, manifest), ModelProblem.InputTypeMismatch, ModelCheckStage.Contract,
            "input element type mismatch: model input 'image' is float32 [1, 3, 8, 8], the manifest says uint8");
    }

    [Fact]
    public void Input_shape_mismatch()
    {
        AssertRejected(Check(Good, TestModels.ClassifierManifest(size: 16)), ModelProblem.InputShapeMismatch, ModelCheckStage.Contract,
            "model input 'image' is float32 [1, 3, 8, 8]", "feeds [1, 3, 16, 16]", "dimension 2 differs (8 vs 16)");
    }

    [Fact]
    public void Input_layout_mismatch()
    {
        AssertRejected(Check(Good, TestModels.ClassifierManifest(layout: TensorLayout.Nhwc)), ModelProblem.InputShapeMismatch, ModelCheckStage.Contract,
            "feeds [1, 8, 8, 3] (NHWC)");
    }

    [Fact]
    public void Input_rank_mismatch()
    {
        var model = TestModels.Flattener([3, 8, 8], [1, -1], "features");
        AssertRejected(Check(model, TestModels.EmbeddingManifest()), ModelProblem.InputShapeMismatch, ModelCheckStage.Contract,
            "model input 'image' is float32 [3, 8, 8] (rank 3)");
    }

    [Fact]
    public void Dynamic_model_dimensions_accept_the_fed_shape()
    {
        var model = TestModels.Classifier(inputDims: ["batch", 3, "height", "width"], outputDims: ["batch", 4]);

        var r = Check(model);

        Assert.True(r.Accepted, r.Message);
        Assert.Equal("float32 [batch, 3, height, width]", r.Signature!.Inputs[0].Describe());
    }

    [Fact]
    public void Unexpected_second_input()
    {
        AssertRejected(Check(TestModels.Classifier(secondInput: true)), ModelProblem.UnexpectedInputs, ModelCheckStage.Contract,
            "besides 'image': 'threshold' float32 [1]");
    }

    [Fact]
    public void Output_name_mismatch()
    {
        AssertRejected(Check(Good, TestModels.ClassifierManifest(outputName: "scores")), ModelProblem.OutputNameMismatch, ModelCheckStage.Contract,
            "the manifest names output 'scores', the model's outputs are 'logits' float32 [1, 4]");
    }

    [Fact]
    public void Output_type_mismatch()
    {
        AssertRejected(Check(TestModels.IntegerOutput()), ModelProblem.OutputTypeMismatch, ModelCheckStage.Contract,
            "model output 'logits' is int64 [1, 1], decoding needs float32");
    }

    [Fact]
    public void Labels_do_not_match_the_class_count()
    {
        AssertRejected(Check(Good, TestModels.ClassifierManifest(labels: ["red", "green", "blue"])), ModelProblem.OutputShapeMismatch, ModelCheckStage.Contract,
            "(4 classes), but the manifest has 3 labels");
    }

    [Fact]
    public void Detection_rows_must_be_six_wide()
    {
        var model = TestModels.Detector(new float[10], fixedRows: true, rowWidth: 5);
        AssertRejected(Check(model, TestModels.DetectorManifest()), ModelProblem.OutputShapeMismatch, ModelCheckStage.Contract,
            "'detections' is float32 [2, 5]", "needs [N, 6] or [1, N, 6]");
    }

    // ---------------------------------------------------------------- 4. dry run

    [Fact]
    public void Dry_run_failure()
    {
        AssertRejected(Check(TestModels.FailsAtRunTime(), TestModels.EmbeddingManifest()), ModelProblem.DryRunFailed, ModelCheckStage.DryRun,
            "dry run on a zero input [1, 3, 8, 8] failed", "Reshape");
    }

    [Fact]
    public void Dynamic_class_count_checked_against_labels_in_the_dry_run()
    {
        // Output [1, k] with k open until the input size is known: only the dry run can count the classes.
        var model = TestModels.Flattener([1, 3, "h", "w"], [1, -1], "logits");
        AssertRejected(Check(model, TestModels.ClassifierManifest(labels: ["a", "b"])), ModelProblem.DryRunFailed, ModelCheckStage.DryRun,
            "has shape [1, 192] (192 classes), but the manifest has 2 labels");
    }

    // ---------------------------------------------------------------- order

    [Fact]
    public void Checks_run_in_order_and_stop_at_the_first_problem()
    {
        var wrongEverything = TestModels.ClassifierManifest(inputName: "nope", outputName: "nothing", size: 32);

        Assert.Equal(ModelProblem.Empty, Check([], wrongEverything).Problem);
        Assert.Equal(ModelProblem.Truncated, Check(Good[..^3], wrongEverything).Problem);
        Assert.Equal(ModelProblem.InputNameMismatch, Check(Good, wrongEverything).Problem);
        Assert.Equal(ModelProblem.InputShapeMismatch, Check(Good, TestModels.ClassifierManifest(outputName: "nothing", size: 32)).Problem);
        Assert.Equal(ModelProblem.OutputNameMismatch, Check(Good, TestModels.ClassifierManifest(outputName: "nothing")).Problem);
    }

    [Fact]
    public void Load_throws_the_same_problem()
    {
        var e = Assert.Throws<ModelRejectedException>(() => ModelSession.Load(Good[..^1], TestModels.ClassifierManifest()));
        Assert.Equal(ModelProblem.Truncated, e.Problem);
    }
}
