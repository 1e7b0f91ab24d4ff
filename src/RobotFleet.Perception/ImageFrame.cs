namespace RobotFleet.Perception;

/// <summary>How the bytes of one pixel of an <see cref="ImageFrame"/> are laid out.</summary>
public enum PixelFormat
{
    /// <summary>3 bytes per pixel: red, green, blue.</summary>
    Rgb24,

    /// <summary>3 bytes per pixel: blue, green, red (OpenCV's default order).</summary>
    Bgr24,

    /// <summary>4 bytes per pixel: red, green, blue, alpha (alpha is ignored).</summary>
    Rgba32,

    /// <summary>4 bytes per pixel: blue, green, red, alpha (alpha is ignored).</summary>
    Bgra32,

    /// <summary>1 byte per pixel: luminance.</summary>
    Gray8,
}

/// <summary>
/// One camera image as a model input: <see cref="Width"/> x <see cref="Height"/> pixels, 8 bits per channel,
/// rows top to bottom, pixels left to right, tightly packed (row stride = width x bytes per pixel), pixel bytes in
/// the order of <see cref="Format"/>.
/// </summary>
/// <remarks>
/// The frame wraps the caller's buffer without copying it: do not change <see cref="Pixels"/> while a run that was
/// given this frame is in progress. Immutable otherwise, so safe to share between threads.
/// </remarks>
public sealed class ImageFrame
{
    /// <summary>Wraps <paramref name="pixels"/> as a <paramref name="width"/> x <paramref name="height"/> image.</summary>
    /// <param name="width">Pixels per row, at least 1.</param>
    /// <param name="height">Rows, at least 1.</param>
    /// <param name="format">Layout of one pixel.</param>
    /// <param name="pixels">At least width x height x <see cref="BytesPerPixel(PixelFormat)"/> bytes; extra bytes at the end are ignored.</param>
    /// <exception cref="ArgumentNullException"><paramref name="pixels"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1, or the format is unknown.</exception>
    /// <exception cref="ArgumentException"><paramref name="pixels"/> is shorter than the image.</exception>
    public ImageFrame(int width, int height, PixelFormat format, byte[] pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        var bpp = BytesPerPixel(format);
        var needed = (long)width * height * bpp;
        if (pixels.LongLength < needed)
        {
            throw new ArgumentException(
                $"A {width}x{height} {format} frame needs {needed} bytes, the buffer has {pixels.LongLength}.", nameof(pixels));
        }
        Width = width;
        Height = height;
        Format = format;
        Pixels = pixels;
    }

    /// <summary>Pixels per row.</summary>
    public int Width { get; }

    /// <summary>Number of rows.</summary>
    public int Height { get; }

    /// <summary>Layout of one pixel.</summary>
    public PixelFormat Format { get; }

    /// <summary>The pixel bytes (the caller's buffer, not a copy).</summary>
    public byte[] Pixels { get; }

    /// <summary>Bytes per row: <see cref="Width"/> x bytes per pixel.</summary>
    public int Stride => Width * BytesPerPixel(Format);

    /// <summary>Bytes one pixel of <paramref name="format"/> takes: 1, 3 or 4.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Unknown format.</exception>
    public static int BytesPerPixel(PixelFormat format) => format switch
    {
        PixelFormat.Gray8 => 1,
        PixelFormat.Rgb24 or PixelFormat.Bgr24 => 3,
        PixelFormat.Rgba32 or PixelFormat.Bgra32 => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown pixel format."),
    };
}
