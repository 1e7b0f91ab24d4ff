namespace RobotFleet.Perception;

/// <summary>
/// Turns an <see cref="ImageFrame"/> into a model input tensor as an <see cref="ImagePreprocessing"/> says: bilinear
/// resize to the model size, channel order (RGB, BGR or grey), normalisation (pixel x scale - mean) / std for float
/// inputs, and NCHW or NHWC layout, in one pass, written straight into the caller's buffer.
/// </summary>
/// <remarks>
/// Resize: bilinear with half-pixel centres (source x = (x + 0.5) x srcW / dstW - 0.5, clamped to the image), the
/// convention of OpenCV's <c>INTER_LINEAR</c> and of PyTorch's <c>interpolate(..., align_corners=False)</c>; no
/// anti-aliasing when shrinking (as OpenCV). Grey from colour: ITU-R BT.601 luma, Y = 0.299 R + 0.587 G + 0.114 B.
/// The index and weight tables for a frame size are built on the first frame of that size and reused, so frames of
/// a steady size allocate nothing. Thread-safe: the tables are immutable and swapped atomically.
/// </remarks>
public sealed class ImagePreprocessor
{
    private readonly ImagePreprocessing _p;
    private readonly float[] _scale;
    private readonly float[] _offset;
    private ResizeTables? _tables;

    /// <summary>Creates a preprocessor for <paramref name="preprocessing"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="preprocessing"/> is null.</exception>
    /// <exception cref="ArgumentException">Mean or std do not have one value per channel.</exception>
    public ImagePreprocessor(ImagePreprocessing preprocessing)
    {
        ArgumentNullException.ThrowIfNull(preprocessing);
        if (preprocessing.Mean.Count != preprocessing.Channels || preprocessing.Std.Count != preprocessing.Channels)
        {
            throw new ArgumentException($"Mean and std need {preprocessing.Channels} value(s) each.", nameof(preprocessing));
        }
        _p = preprocessing;
        _scale = new float[preprocessing.Channels];
        _offset = new float[preprocessing.Channels];
        for (var c = 0; c < preprocessing.Channels; c++)
        {
            _scale[c] = preprocessing.PixelScale / preprocessing.Std[c];
            _offset[c] = -preprocessing.Mean[c] / preprocessing.Std[c];
        }
    }

    /// <summary>Elements of one input tensor: channels x height x width.</summary>
    public int TensorLength => _p.Channels * _p.Height * _p.Width;

    /// <summary>Writes the normalised float tensor of <paramref name="frame"/> into <paramref name="destination"/>.</summary>
    /// <param name="frame">Any size and pixel format.</param>
    /// <param name="destination">At least <see cref="TensorLength"/> floats, laid out as the preprocessing's layout.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public void Preprocess(ImageFrame frame, Span<float> destination) => Run(frame, destination, Span<byte>.Empty);

    /// <summary>Writes the raw resized pixels (0..255, rounded) of <paramref name="frame"/> into <paramref name="destination"/>, for uint8 models.</summary>
    /// <param name="frame">Any size and pixel format.</param>
    /// <param name="destination">At least <see cref="TensorLength"/> bytes, laid out as the preprocessing's layout.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public void Preprocess(ImageFrame frame, Span<byte> destination) => Run(frame, Span<float>.Empty, destination);

    private void Run(ImageFrame frame, Span<float> floats, Span<byte> bytes)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var toFloat = bytes.IsEmpty;
        if ((toFloat ? floats.Length : bytes.Length) < TensorLength)
        {
            throw new ArgumentException($"The destination needs {TensorLength} elements.", toFloat ? nameof(floats) : nameof(bytes));
        }
        var t = TablesFor(frame);
        var taps = Taps(frame.Format, _p.ColorOrder);
        var src = frame.Pixels;
        var w = _p.Width;
        var h = _p.Height;
        var channels = _p.Channels;
        var nchw = _p.Layout == TensorLayout.Nchw;
        var plane = w * h;

        for (var y = 0; y < h; y++)
        {
            var row0 = t.Row0[y];
            var row1 = t.Row1[y];
            var fy = t.Fy[y];
            for (var x = 0; x < w; x++)
            {
                var c0 = t.Col0[x];
                var c1 = t.Col1[x];
                var fx = t.Fx[x];
                var i00 = row0 + c0;
                var i01 = row0 + c1;
                var i10 = row1 + c0;
                var i11 = row1 + c1;
                var pixel = (y * w) + x;
                for (var c = 0; c < channels; c++)
                {
                    var tap = taps[c];
                    var v = Sample(src, i00, i01, i10, i11, fx, fy, tap.Offset0);
                    if (tap.Weight0 != 1f)
                    {
                        v = (v * tap.Weight0)
                            + (Sample(src, i00, i01, i10, i11, fx, fy, tap.Offset1) * tap.Weight1)
                            + (Sample(src, i00, i01, i10, i11, fx, fy, tap.Offset2) * tap.Weight2);
                    }
                    var at = nchw ? (c * plane) + pixel : (pixel * channels) + c;
                    if (toFloat)
                    {
                        floats[at] = (v * _scale[c]) + _offset[c];
                    }
                    else
                    {
                        bytes[at] = (byte)Math.Clamp(MathF.Round(v), 0f, 255f);
                    }
                }
            }
        }
    }

    private static float Sample(byte[] src, int i00, int i01, int i10, int i11, float fx, float fy, int offset)
    {
        var top = src[i00 + offset] + ((src[i01 + offset] - src[i00 + offset]) * fx);
        var bottom = src[i10 + offset] + ((src[i11 + offset] - src[i10 + offset]) * fx);
        return top + ((bottom - top) * fy);
    }

    private ResizeTables TablesFor(ImageFrame frame)
    {
        var bpp = ImageFrame.BytesPerPixel(frame.Format);
        var t = Volatile.Read(ref _tables);
        if (t is not null && t.SrcWidth == frame.Width && t.SrcHeight == frame.Height && t.BytesPerPixel == bpp)
        {
            return t;
        }
        t = new ResizeTables(frame.Width, frame.Height, bpp, _p.Width, _p.Height);
        Volatile.Write(ref _tables, t);
        return t;
    }

    /// <summary>Source byte offsets (within a pixel) and weights that make one model channel; up to three taps for luma.</summary>
    private readonly record struct Tap(int Offset0, float Weight0, int Offset1, float Weight1, int Offset2, float Weight2)
    {
        public static Tap One(int offset) => new(offset, 1f, 0, 0f, 0, 0f);
    }

    private static readonly Tap[] GrayFromGray = [Tap.One(0)];
    private static readonly Tap[] ColorFromGray = [Tap.One(0), Tap.One(0), Tap.One(0)];
    private static readonly Tap[] RgbFromRgb = [Tap.One(0), Tap.One(1), Tap.One(2)];
    private static readonly Tap[] BgrFromRgb = [Tap.One(2), Tap.One(1), Tap.One(0)];
    private static readonly Tap[] LumaFromRgb = [new(0, 0.299f, 1, 0.587f, 2, 0.114f)];
    private static readonly Tap[] LumaFromBgr = [new(2, 0.299f, 1, 0.587f, 0, 0.114f)];

    private static Tap[] Taps(PixelFormat format, ColorOrder order)
    {
        var frameIsBgr = format is PixelFormat.Bgr24 or PixelFormat.Bgra32;
        return (format, order) switch
        {
            (PixelFormat.Gray8, ColorOrder.Gray) => GrayFromGray,
            (PixelFormat.Gray8, _) => ColorFromGray,
            (_, ColorOrder.Gray) => frameIsBgr ? LumaFromBgr : LumaFromRgb,
            // Same order: channels as they are; opposite order: swap the first and third byte.
            (_, ColorOrder.Rgb) => frameIsBgr ? BgrFromRgb : RgbFromRgb,
            _ => frameIsBgr ? RgbFromRgb : BgrFromRgb,
        };
    }

    /// <summary>Per destination column and row: the byte offsets of the two source pixels and the weight of the second.</summary>
    private sealed class ResizeTables
    {
        public ResizeTables(int srcWidth, int srcHeight, int bytesPerPixel, int dstWidth, int dstHeight)
        {
            SrcWidth = srcWidth;
            SrcHeight = srcHeight;
            BytesPerPixel = bytesPerPixel;
            (Col0, Col1, Fx) = Axis(srcWidth, dstWidth, bytesPerPixel);
            (Row0, Row1, Fy) = Axis(srcHeight, dstHeight, srcWidth * bytesPerPixel);
        }

        public int SrcWidth { get; }

        public int SrcHeight { get; }

        public int BytesPerPixel { get; }

        public int[] Col0 { get; }

        public int[] Col1 { get; }

        public float[] Fx { get; }

        public int[] Row0 { get; }

        public int[] Row1 { get; }

        public float[] Fy { get; }

        private static (int[] I0, int[] I1, float[] F) Axis(int src, int dst, int step)
        {
            var i0 = new int[dst];
            var i1 = new int[dst];
            var f = new float[dst];
            var scale = (double)src / dst;
            for (var d = 0; d < dst; d++)
            {
                var s = Math.Max(0.0, ((d + 0.5) * scale) - 0.5);
                var lo = (int)Math.Floor(s);
                if (lo >= src - 1)
                {
                    i0[d] = i1[d] = (src - 1) * step;
                    f[d] = 0;
                }
                else
                {
                    i0[d] = lo * step;
                    i1[d] = (lo + 1) * step;
                    f[d] = (float)(s - lo);
                }
            }
            return (i0, i1, f);
        }
    }
}
