using SkiaSharp;
using Sinapse.IO;
using Sinapse.Tensors;

namespace Sinapse.Vision;

/// <summary>Reading images into tensors and writing tensors as PNG pictures (through SkiaSharp).</summary>
public static class Images
{
    /// <summary>
    /// Decodes a PNG, JPEG, BMP, GIF or WebP file into [C, H, W] floats in 0..255: C = 1 for
    /// <paramref name="grayscale"/> (ITU-R BT.601 luma), else 3 (RGB).
    /// </summary>
    public static Tensor Load(string path, bool grayscale = false)
    {
        using var bitmap = Decode(path);
        int height = bitmap.Height, width = bitmap.Width;
        var pixels = bitmap.GetPixelSpan();
        int rowBytes = bitmap.RowBytes;
        var image = new Tensor(new Shape(grayscale ? 1 : 3, height, width), new float[(grayscale ? 1 : 3) * height * width]);
        var values = image.Span;
        int plane = height * width;
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int at = y * rowBytes + 4 * x, i = y * width + x;
                float r = pixels[at], g = pixels[at + 1], b = pixels[at + 2];
                if (grayscale) values[i] = 0.299f * r + 0.587f * g + 0.114f * b;
                else (values[i], values[plane + i], values[2 * plane + i]) = (r, g, b);
            }
        return image;
    }

    /// <summary>
    /// Decodes <paramref name="path"/> as RGBA after reading its header: the declared size is checked
    /// against <see cref="InputFile.MaxImagePixels"/> before any pixel memory is allocated, and a file
    /// whose data ends early or is corrupt is an error rather than a partly grey picture.
    /// </summary>
    static SKBitmap Decode(string path)
    {
        using var codec = OpenCodec(path);
        var info = codec.Info;
        long pixels = (long)info.Width * info.Height;
        if (pixels > InputFile.MaxImagePixels)
            throw InputFile.Error(path, "image header", $"at most {InputFile.MaxImagePixels:N0} pixels", $"{info.Width}x{info.Height} = {pixels:N0}");
        var bitmap = new SKBitmap(new SKImageInfo(info.Width, info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var result = codec.GetPixels(bitmap.Info, bitmap.GetPixels());
        if (result != SKCodecResult.Success)
        {
            bitmap.Dispose();
            throw InputFile.Error(path, $"{codec.EncodedFormat} pixel data",
                $"{info.Width}x{info.Height} pixels", result == SKCodecResult.IncompleteInput ? "fewer (the file is truncated)" : $"data the decoder rejects ({result})");
        }
        return bitmap;
    }

    static SKCodec OpenCodec(string path)
    {
        InputFile.Length(path, "image file");
        return SKCodec.Create(path)
            ?? throw InputFile.Error(path, "header", "a PNG, JPEG, BMP, GIF or WebP image", "bytes no decoder recognises: it is not an image");
    }

    /// <summary>
    /// How many channels the file stores, read from its header without decoding the pixels: 1 for
    /// grey images (with or without alpha), 3 for colour ones.
    /// </summary>
    public static int StoredChannels(string path)
    {
        using var codec = OpenCodec(path);
        return codec.Info.ColorType is SKColorType.Gray8 or SKColorType.Alpha8 ? 1 : 3;
    }

    /// <summary>
    /// Writes [H, W], [1, H, W] or [3, H, W] as a PNG. Values are mapped to 0..255 from
    /// [<paramref name="low"/>, <paramref name="high"/>], by default from the tensor's own range.
    /// </summary>
    public static void SavePng(string path, Tensor image, float? low = null, float? high = null) => Write(path, EncodePng(image, low, high));

    /// <summary>The PNG bytes of <see cref="SavePng"/>, for showing an image without a file (in a notebook, say).</summary>
    public static byte[] EncodePng(Tensor image, float? low = null, float? high = null)
    {
        var (channels, height, width) = ImageShape(image.Shape);
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        var pixels = bitmap.GetPixelSpan();
        Paint(pixels, bitmap.RowBytes, 0, 0, image.Span, channels, height, width, 1, low, high);
        return Encode(bitmap);
    }

    /// <summary>
    /// Lays out several images as a grid of tiles, each enlarged <paramref name="scale"/> times
    /// (nearest neighbour, so a 3×3 filter stays nine visible squares) and mapped to 0..255 from
    /// its own range unless [<paramref name="low"/>, <paramref name="high"/>] is given for all.
    /// Learned filters and filtered pictures are shown this way.
    /// </summary>
    public static void SaveGrid(string path, IReadOnlyList<Tensor> tiles, int columns = 8, int scale = 1, int gap = 2, float? low = null, float? high = null) =>
        Write(path, EncodeGrid(tiles, columns, scale, gap, low, high));

    /// <summary>The PNG bytes of <see cref="SaveGrid"/>.</summary>
    public static byte[] EncodeGrid(IReadOnlyList<Tensor> tiles, int columns = 8, int scale = 1, int gap = 2, float? low = null, float? high = null)
    {
        if (tiles.Count == 0) throw new ArgumentException("A grid needs at least one image.");
        if (columns < 1 || scale < 1 || gap < 0) throw new ArgumentException($"A grid needs columns >= 1, scale >= 1 and gap >= 0, got {columns}, {scale}, {gap}.");
        var shapes = tiles.Select(t => ImageShape(t.Shape)).ToList();
        int tileHeight = shapes.Max(s => s.Height) * scale, tileWidth = shapes.Max(s => s.Width) * scale;
        columns = Math.Min(columns, tiles.Count);
        int rows = (tiles.Count + columns - 1) / columns;
        using var bitmap = new SKBitmap(columns * (tileWidth + gap) + gap, rows * (tileHeight + gap) + gap, SKColorType.Rgba8888, SKAlphaType.Opaque);
        bitmap.Erase(new SKColor(40, 40, 40));
        var pixels = bitmap.GetPixelSpan();
        for (int i = 0; i < tiles.Count; i++)
        {
            var (channels, height, width) = shapes[i];
            Paint(pixels, bitmap.RowBytes, gap + (i / columns) * (tileHeight + gap), gap + (i % columns) * (tileWidth + gap),
                tiles[i].Span, channels, height, width, scale, low, high);
        }
        return Encode(bitmap);
    }

    private static (int Channels, int Height, int Width) ImageShape(Shape shape) => shape.Rank switch
    {
        2 => (1, shape[0], shape[1]),
        3 when shape[0] is 1 or 3 => (shape[0], shape[1], shape[2]),
        _ => throw new ArgumentException($"An image tensor is [H, W], [1, H, W] or [3, H, W]; got {shape}."),
    };

    private static void Paint(Span<byte> pixels, int rowBytes, int top, int left, ReadOnlySpan<float> values, int channels, int height, int width, int scale, float? low, float? high)
    {
        float min = low ?? System.Numerics.Tensors.TensorPrimitives.Min(values);
        float max = high ?? System.Numerics.Tensors.TensorPrimitives.Max(values);
        float range = max > min ? max - min : 1f;
        int plane = height * width;
        for (int y = 0; y < height * scale; y++)
            for (int x = 0; x < width * scale; x++)
            {
                int source = (y / scale) * width + x / scale;
                int at = (top + y) * rowBytes + 4 * (left + x);
                for (int c = 0; c < 3; c++)
                {
                    float v = values[(channels == 1 ? 0 : c) * plane + source];
                    pixels[at + c] = (byte)Math.Clamp(MathF.Round(255f * (v - min) / range), 0f, 255f);
                }
                pixels[at + 3] = 255;
            }
    }

    private static byte[] Encode(SKBitmap bitmap)
    {
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    private static void Write(string path, byte[] png)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory != null) Directory.CreateDirectory(directory);
        File.WriteAllBytes(path, png);
    }
}
