using Sinapse.Tensors;

namespace Sinapse.Data;

/// <summary>Resampling of image tensors [C, H, W] to another size, for loaders, augmentations and model inputs.</summary>
public static class ImageResize
{
    /// <summary>
    /// Resizes an image [C, H, W] to [C, <paramref name="height"/>, <paramref name="width"/>] by
    /// bilinear interpolation with half-pixel centres (PyTorch's align_corners=False, TensorFlow 2's
    /// default) or, without <paramref name="halfPixelCenters"/>, with output pixel i sampled at
    /// input position i·in/out (TensorFlow 1's and TFLite's resize_bilinear, what models trained
    /// there saw); no antialiasing when shrinking.
    /// </summary>
    public static Tensor Bilinear(Tensor image, int height, int width, bool halfPixelCenters = true)
    {
        if (image.Rank != 3) throw new ArgumentException($"Resize needs an image [C, H, W], got {image.Shape}.");
        if (height < 1 || width < 1) throw new ArgumentException($"Resize needs a positive size, got {height}x{width}.");
        int channels = image.Shape[0], inHeight = image.Shape[1], inWidth = image.Shape[2];
        var result = new Tensor(new Shape(channels, height, width), new float[channels * height * width]);
        BilinearRegion(image.Span, channels, inHeight, inWidth, 0, 0, inHeight, inWidth, result.Span, height, width, halfPixelCenters);
        return result;
    }

    /// <summary>
    /// Bilinear resampling of the window (<paramref name="top"/>, <paramref name="left"/>,
    /// <paramref name="regionHeight"/>×<paramref name="regionWidth"/>) of a [C, H, W] image onto
    /// [C, <paramref name="height"/>, <paramref name="width"/>]; samples outside the window are
    /// clamped to its edge. <see cref="Bilinear"/> is the whole-image case; random resized crops use a window.
    /// </summary>
    internal static void BilinearRegion(ReadOnlySpan<float> source, int channels, int inHeight, int inWidth, int top, int left, int regionHeight, int regionWidth,
        Span<float> target, int height, int width, bool halfPixelCenters = true)
    {
        float offset = halfPixelCenters ? 0.5f : 0f;
        for (int y = 0; y < height; y++)
        {
            float sy = Math.Clamp((y + offset) * regionHeight / height - offset, 0f, regionHeight - 1);
            int y0 = (int)sy, y1 = Math.Min(y0 + 1, regionHeight - 1);
            float fy = sy - y0;
            y0 += top;
            y1 += top;
            for (int x = 0; x < width; x++)
            {
                float sx = Math.Clamp((x + offset) * regionWidth / width - offset, 0f, regionWidth - 1);
                int x0 = (int)sx, x1 = Math.Min(x0 + 1, regionWidth - 1);
                float fx = sx - x0;
                x0 += left;
                x1 += left;
                for (int c = 0; c < channels; c++)
                {
                    int plane = c * inHeight * inWidth;
                    float upper = source[plane + y0 * inWidth + x0] * (1 - fx) + source[plane + y0 * inWidth + x1] * fx;
                    float lower = source[plane + y1 * inWidth + x0] * (1 - fx) + source[plane + y1 * inWidth + x1] * fx;
                    target[(c * height + y) * width + x] = upper * (1 - fy) + lower * fy;
                }
            }
        }
    }
}
