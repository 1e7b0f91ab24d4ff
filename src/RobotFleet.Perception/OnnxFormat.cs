using System.Globalization;
using System.Text;

namespace RobotFleet.Perception;

/// <summary>
/// Checks on raw bytes before ONNX Runtime sees them (stages 1 and 2 of <see cref="ModelCheckStage"/>): is this an
/// ONNX model at all, and is its protobuf whole? Cheap (no model is built): the top level of the ONNX
/// <c>ModelProto</c> and the fields of its <c>GraphProto</c> are walked with the protobuf wire format rules
/// (https://protobuf.dev/programming-guides/encoding/; field numbers from onnx/onnx.proto3).
/// </summary>
/// <remarks>Stateless; safe to call from any thread.</remarks>
public static class OnnxFormat
{
    private const int SniffLength = 1024;

    // onnx.proto3, message ModelProto.
    private static readonly Dictionary<int, (string Name, int WireType)> ModelFields = new()
    {
        [1] = ("ir_version", 0),
        [2] = ("producer_name", 2),
        [3] = ("producer_version", 2),
        [4] = ("domain", 2),
        [5] = ("model_version", 0),
        [6] = ("doc_string", 2),
        [7] = ("graph", 2),
        [8] = ("opset_import", 2),
        [14] = ("metadata_props", 2),
        [20] = ("training_info", 2),
        [25] = ("functions", 2),
    };

    // onnx.proto3, message GraphProto.
    private static readonly Dictionary<int, (string Name, int WireType)> GraphFields = new()
    {
        [1] = ("node", 2),
        [2] = ("name", 2),
        [5] = ("initializer", 2),
        [10] = ("doc_string", 2),
        [11] = ("input", 2),
        [12] = ("output", 2),
        [13] = ("value_info", 2),
        [14] = ("quantization_annotation", 2),
        [15] = ("sparse_initializer", 2),
        [16] = ("metadata_props", 2),
    };

    /// <summary>
    /// Runs the format checks on <paramref name="bytes"/>: not ONNX at all (empty, Git LFS or git-annex pointer, HTML,
    /// text, a known other format), then truncated or corrupt protobuf, or no graph.
    /// </summary>
    /// <returns>A rejected result naming the problem, or null when the bytes look like a whole ONNX model.</returns>
    public static ModelCheckResult? Check(ReadOnlySpan<byte> bytes)
    {
        return NotOnnx(bytes) ?? WalkModel(bytes);
    }

    private static ModelCheckResult? NotOnnx(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return ModelCheckResult.Fail(ModelProblem.Empty, "empty file (0 bytes), not an ONNX model");
        }
        var head = bytes[..Math.Min(bytes.Length, SniffLength)];
        if (head.StartsWith("version https://git-lfs.github.com/spec/"u8))
        {
            var text = Encoding.UTF8.GetString(head);
            var oid = LineValue(text, "oid ");
            var size = LineValue(text, "size ");
            return ModelCheckResult.Fail(ModelProblem.GitLfsPointer,
                $"Git LFS pointer, not an ONNX model ({bytes.Length} bytes{(oid is null ? "" : $"; points to {oid}")}{(size is null ? "" : $", {size} bytes")}): the real file was never fetched; run 'git lfs pull' and upload the .onnx file itself");
        }
        if (Other(head) is { } format)
        {
            return ModelCheckResult.Fail(ModelProblem.OtherFormat, $"{format}, not an ONNX model");
        }
        if (!LooksLikeText(head))
        {
            return null;
        }
        var start = Encoding.UTF8.GetString(head).TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
        if (start.Contains("/annex/objects/", StringComparison.Ordinal))
        {
            return ModelCheckResult.Fail(ModelProblem.GitAnnexPointer,
                $"git-annex pointer, not an ONNX model ({bytes.Length} bytes): the real file was never fetched; run 'git annex get' and upload the .onnx file itself");
        }
        var lower = start.ToLowerInvariant();
        if (lower.StartsWith("<!doctype html", StringComparison.Ordinal) || lower.StartsWith("<html", StringComparison.Ordinal)
            || lower.Contains("<html", StringComparison.Ordinal) || lower.Contains("<body", StringComparison.Ordinal) || lower.Contains("<head", StringComparison.Ordinal))
        {
            return ModelCheckResult.Fail(ModelProblem.Html,
                $"HTML page, not an ONNX model ({bytes.Length} bytes, starts with '{Excerpt(start)}'): a download that returned a web page (error or login page)?");
        }
        var kind = start.StartsWith('{') || start.StartsWith('[') ? "JSON text (a manifest in place of the model?)" : "text file";
        return ModelCheckResult.Fail(ModelProblem.Text, $"{kind}, not an ONNX model ({bytes.Length} bytes, starts with '{Excerpt(start)}')");
    }

    private static string? Other(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith("PK\x03\x04"u8))
        {
            return "ZIP archive (PyTorch .pt/.pth checkpoints are ZIP archives: export the model with torch.onnx.export)";
        }
        if (Starts(head, 0x1F, 0x8B))
        {
            return "gzip-compressed file (decompress it first)";
        }
        if (Starts(head, 0x89, (byte)'P', (byte)'N', (byte)'G'))
        {
            return "PNG image";
        }
        if (Starts(head, 0xFF, 0xD8, 0xFF))
        {
            return "JPEG image";
        }
        if (Starts(head, 0x7F, (byte)'E', (byte)'L', (byte)'F'))
        {
            return "ELF executable or shared library";
        }
        if (head.Length >= 8 && head[4..8].SequenceEqual("TFL3"u8))
        {
            return "TensorFlow Lite model (convert it to ONNX, e.g. with tf2onnx)";
        }
        if (Starts(head, 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'))
        {
            return "NumPy array file";
        }
        if (head.StartsWith("GGUF"u8))
        {
            return "GGUF model file";
        }
        if (head.Length >= 2 && head[0] == 0x80 && head[1] is >= 2 and <= 5)
        {
            return "Python pickle (a PyTorch checkpoint? export the model with torch.onnx.export)";
        }
        return null;
    }

    private static bool Starts(ReadOnlySpan<byte> head, params ReadOnlySpan<byte> magic) => head.StartsWith(magic);

    private static bool LooksLikeText(ReadOnlySpan<byte> head)
    {
        foreach (var b in head)
        {
            if (b < 0x20 && b is not (byte)'\t' and not (byte)'\n' and not (byte)'\r' and not 0x0C)
            {
                return false;
            }
            if (b == 0x7F)
            {
                return false;
            }
        }
        // Bytes >= 0x80 must form valid UTF-8 (a cut-off last character is fine).
        var probe = head;
        for (var cut = 0; cut < 4 && probe.Length > 0; cut++)
        {
            if (Utf8IsValid(probe))
            {
                return true;
            }
            probe = probe[..^1];
        }
        return false;
    }

    private static bool Utf8IsValid(ReadOnlySpan<byte> bytes) => System.Text.Unicode.Utf8.IsValid(bytes);

    private static string? LineValue(string text, string key)
    {
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                return line[key.Length..].Trim();
            }
        }
        return null;
    }

    private static string Excerpt(string text)
    {
        var line = text.Split('\n')[0].Trim();
        return line.Length <= 40 ? line : line[..40] + "...";
    }

    // ---------------------------------------------------------------- protobuf wire walk

    private static ModelCheckResult? WalkModel(ReadOnlySpan<byte> bytes)
    {
        var sawGraph = false;
        var sawOpset = false;
        var lastField = 0;
        var error = Walk(bytes, 0, ModelFields, "model", (field, start, length) =>
        {
            lastField = field;
            sawOpset |= field == 8 && length >= 0;
            if (field == 7)
            {
                sawGraph = true;
                return (start, length);
            }
            return null;
        }, out var graph);
        if (error is not null)
        {
            return error;
        }
        if (!sawGraph)
        {
            return ModelCheckResult.Fail(ModelProblem.CorruptProtobuf,
                $"protobuf without an ONNX graph (ModelProto field 7 'graph' missing; {Num(bytes.Length)} bytes): not an ONNX model");
        }
        if (!sawOpset)
        {
            // Protobuf has no end marker: a file cut exactly between two fields is well-formed. ONNX writers emit fields
            // in field-number order, so a model that ends with its graph and has no opset_import was most likely cut there.
            return lastField == 7
                ? ModelCheckResult.Fail(ModelProblem.Truncated,
                    $"truncated ONNX file: it ends right after field 7 (graph) at byte {Num(bytes.Length)} without field 8 (opset_import), which every ONNX model has: an interrupted download or upload?")
                : ModelCheckResult.Fail(ModelProblem.CorruptProtobuf,
                    "ONNX model without field 8 (opset_import), which every ONNX model has: corrupt or not an ONNX model");
        }
        return Walk(bytes.Slice(graph.Start, graph.Length), graph.Start, GraphFields, "graph", (_, _, _) => null, out _);
    }

    /// <summary>Called for each field: start is the absolute offset of a length-delimited field's content (-1 for other wire types); a non-null return is kept as the captured field.</summary>
    private delegate (int Start, int Length)? OnField(int field, int start, int length);

    /// <summary>Walks one message's fields: tags, varints and lengths must be well-formed and stay inside the message.</summary>
    private static ModelCheckResult? Walk(
        ReadOnlySpan<byte> message,
        int baseOffset,
        Dictionary<int, (string Name, int WireType)> known,
        string messageName,
        OnField onField,
        out (int Start, int Length) captured)
    {
        captured = default;
        var pos = 0;
        while (pos < message.Length)
        {
            var tagAt = pos;
            if (!ReadVarint(message, ref pos, out var tag, out var truncated))
            {
                return truncated ? Truncated(messageName, "a field tag", baseOffset + tagAt, message.Length - tagAt, baseOffset + message.Length)
                    : Corrupt($"{messageName}: malformed field tag at byte {Num(baseOffset + tagAt)}");
            }
            var field = tag >> 3;
            var wireType = (int)(tag & 7);
            if (field == 0 || field > 536_870_911)
            {
                return Corrupt($"{messageName}: invalid field number {field} at byte {Num(baseOffset + tagAt)}");
            }
            var name = known.TryGetValue((int)field, out var k) ? $"field {field} ({k.Name})" : $"field {field}";
            if (k.Name is not null && k.WireType != wireType)
            {
                return Corrupt($"{messageName}: {name} at byte {Num(baseOffset + tagAt)} has wire type {wireType}, expected {k.WireType}");
            }
            if (wireType != 2)
            {
                _ = onField((int)field, -1, 0);
            }
            switch (wireType)
            {
                case 0:
                    if (!ReadVarint(message, ref pos, out _, out truncated))
                    {
                        return truncated ? Truncated(messageName, name, baseOffset + tagAt, message.Length - pos, baseOffset + message.Length)
                            : Corrupt($"{messageName}: malformed varint in {name} at byte {Num(baseOffset + tagAt)}");
                    }
                    break;
                case 1:
                case 5:
                    var size = wireType == 1 ? 8 : 4;
                    if (message.Length - pos < size)
                    {
                        return Truncated(messageName, name, baseOffset + tagAt, message.Length - pos, baseOffset + message.Length, (ulong)size);
                    }
                    pos += size;
                    break;
                case 2:
                    var lengthAt = pos;
                    if (!ReadVarint(message, ref pos, out var length, out truncated))
                    {
                        return truncated ? Truncated(messageName, name, baseOffset + tagAt, message.Length - lengthAt, baseOffset + message.Length)
                            : Corrupt($"{messageName}: malformed length of {name} at byte {Num(baseOffset + tagAt)}");
                    }
                    if (length > (ulong)(message.Length - pos))
                    {
                        return Truncated(messageName, name, baseOffset + tagAt, message.Length - pos, baseOffset + message.Length, length);
                    }
                    if (onField((int)field, baseOffset + pos, (int)length) is { } c)
                    {
                        captured = c;
                    }
                    pos += (int)length;
                    break;
                default:
                    return Corrupt($"{messageName}: {name} at byte {Num(baseOffset + tagAt)} has wire type {wireType}, which ONNX never uses (corrupt data)");
            }
        }
        return null;
    }

    private static bool ReadVarint(ReadOnlySpan<byte> data, ref int pos, out ulong value, out bool truncated)
    {
        value = 0;
        truncated = false;
        for (var shift = 0; shift < 70; shift += 7)
        {
            if (pos >= data.Length)
            {
                truncated = true;
                return false;
            }
            var b = data[pos++];
            if (shift == 63 && b > 1)
            {
                return false;
            }
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return true;
            }
        }
        return false;
    }

    private static ModelCheckResult Corrupt(string what) =>
        ModelCheckResult.Fail(ModelProblem.CorruptProtobuf, $"corrupt protobuf, not a readable ONNX model: {what}");

    private static ModelCheckResult Truncated(string messageName, string what, int at, int remaining, int end, ulong? declared = null)
    {
        var needs = declared is { } d ? $"declares {Num((long)d)} bytes but only {Num(remaining)} remain" : $"runs past the end ({Num(remaining)} bytes left)";
        return ModelCheckResult.Fail(ModelProblem.Truncated,
            $"truncated ONNX file: {messageName} {what} at byte {Num(at)} {needs} (the {(messageName == "model" ? "file" : messageName)} ends at byte {Num(end)}): an interrupted download or upload?");
    }

    private static string Num(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
