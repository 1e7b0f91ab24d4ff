using RobotFleet.Perception;

namespace RobotFleet.Perception.Tests;

public class PreprocessorTests
{
    private static ImagePreprocessing Raw(int w, int h, TensorLayout layout = TensorLayout.Nchw, ColorOrder order = ColorOrder.Rgb) =>
        new(w, h, layout, order, 1f, order == ColorOrder.Gray ? [0f] : [0f, 0f, 0f], order == ColorOrder.Gray ? [1f] : [1f, 1f, 1f]);

    /// <summary>A 2 x 2 RGB frame with distinct bytes: pixel p, channel c = 10 p + c.</summary>
    private static ImageFrame Numbered(PixelFormat format = PixelFormat.Rgb24)
    {
        var rgb = new byte[] { 0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32 };
        if (format == PixelFormat.Bgr24)
        {
            for (var i = 0; i < rgb.Length; i += 3)
            {
                (rgb[i], rgb[i + 2]) = (rgb[i + 2], rgb[i]);
            }
        }
        return new ImageFrame(2, 2, format, rgb);
    }

    [Fact]
    public void Same_size_nchw_copies_each_channel_into_its_plane()
    {
        var t = new float[12];
        new ImagePreprocessor(Raw(2, 2)).Preprocess(Numbered(), t);

        Assert.Equal([0f, 10, 20, 30, 1, 11, 21, 31, 2, 12, 22, 32], t);
    }

    [Fact]
    public void Nhwc_keeps_channels_together()
    {
        var t = new float[12];
        new ImagePreprocessor(Raw(2, 2, TensorLayout.Nhwc)).Preprocess(Numbered(), t);

        Assert.Equal([0f, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32], t);
    }

    [Fact]
    public void Bgr_model_swaps_red_and_blue_and_a_bgr_frame_gives_the_same_tensor()
    {
        var fromRgb = new float[12];
        var fromBgr = new float[12];
        var p = new ImagePreprocessor(Raw(2, 2, TensorLayout.Nchw, ColorOrder.Bgr));
        p.Preprocess(Numbered(), fromRgb);
        p.Preprocess(Numbered(PixelFormat.Bgr24), fromBgr);

        Assert.Equal([2f, 12, 22, 32, 1, 11, 21, 31, 0, 10, 20, 30], fromRgb);
        Assert.Equal(fromRgb, fromBgr);
    }

    [Fact]
    public void Alpha_is_ignored()
    {
        var rgba = new ImageFrame(1, 1, PixelFormat.Bgra32, [30, 20, 10, 99]);
        var t = new float[3];
        new ImagePreprocessor(Raw(1, 1)).Preprocess(rgba, t);
        Assert.Equal([10f, 20, 30], t);
    }

    [Fact]
    public void Mean_std_and_scale_per_channel()
    {
        var p = new ImagePreprocessing(1, 1, TensorLayout.Nchw, ColorOrder.Rgb, 1f / 255, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);
        var t = new float[3];
        new ImagePreprocessor(p).Preprocess(new ImageFrame(1, 1, PixelFormat.Rgb24, [255, 0, 128]), t);

        Assert.Equal((1 - 0.485f) / 0.229f, t[0], 5);
        Assert.Equal(-0.456f / 0.224f, t[1], 5);
        Assert.Equal(((128 / 255f) - 0.406f) / 0.225f, t[2], 5);
    }

    [Fact]
    public void Grey_from_colour_uses_bt601_luma_and_grey_frames_fill_every_channel()
    {
        var t = new float[1];
        new ImagePreprocessor(Raw(1, 1, order: ColorOrder.Gray)).Preprocess(new ImageFrame(1, 1, PixelFormat.Rgb24, [200, 100, 50]), t);
        Assert.Equal((0.299f * 200) + (0.587f * 100) + (0.114f * 50), t[0], 3);

        var rgb = new float[3];
        new ImagePreprocessor(Raw(1, 1)).Preprocess(new ImageFrame(1, 1, PixelFormat.Gray8, [77]), rgb);
        Assert.Equal([77f, 77, 77], rgb);
    }

    [Fact]
    public void Bilinear_upscale_uses_half_pixel_centres_like_opencv()
    {
        // One row [0, 100] to 4 columns: source x = (x + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25 -> clamped 0, 25, 75, 100
        // (OpenCV's INTER_LINEAR and PyTorch's align_corners=False use the same mapping).
        var frame = new ImageFrame(2, 1, PixelFormat.Gray8, [0, 100]);
        var t = new float[4];
        new ImagePreprocessor(Raw(4, 1, order: ColorOrder.Gray)).Preprocess(frame, t);

        Assert.Equal([0f, 25, 75, 100], t);
    }

    [Fact]
    public void Bilinear_downscale_by_two_averages_pairs()
    {
        var frame = new ImageFrame(4, 2, PixelFormat.Gray8, [0, 10, 20, 30, 40, 50, 60, 70]);
        var t = new float[2];
        new ImagePreprocessor(Raw(2, 1, order: ColorOrder.Gray)).Preprocess(frame, t);

        // x: 0.5, 2.5; y: 0.5 -> mean of each 2 x 2 block.
        Assert.Equal([25f, 45], t);
    }

    [Fact]
    public void Uint8_output_rounds_the_interpolated_value()
    {
        var frame = new ImageFrame(2, 1, PixelFormat.Gray8, [0, 101]);
        var t = new byte[4];
        new ImagePreprocessor(Raw(4, 1, order: ColorOrder.Gray)).Preprocess(frame, t);

        Assert.Equal([0, 25, 76, 101], t);
    }

    [Fact]
    public void Frames_of_a_new_size_rebuild_the_tables()
    {
        var p = new ImagePreprocessor(Raw(1, 1, order: ColorOrder.Gray));
        var t = new float[1];
        p.Preprocess(new ImageFrame(1, 1, PixelFormat.Gray8, [9]), t);
        Assert.Equal(9f, t[0]);
        p.Preprocess(new ImageFrame(2, 2, PixelFormat.Gray8, [0, 10, 20, 30]), t);
        Assert.Equal(15f, t[0]);
        p.Preprocess(new ImageFrame(2, 2, PixelFormat.Rgb24, [0, 0, 0, 10, 10, 10, 20, 20, 20, 30, 30, 30]), t);
        Assert.Equal(15f, t[0], 4);
    }

    [Fact]
    public void Bad_frames_and_destinations_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new ImageFrame(4, 4, PixelFormat.Rgb24, new byte[47]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageFrame(0, 4, PixelFormat.Rgb24, []));
        Assert.Throws<ArgumentException>(() => new ImagePreprocessor(Raw(2, 2)).Preprocess(Numbered(), new float[11]));
    }
}
