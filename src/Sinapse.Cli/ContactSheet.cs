using System.Globalization;
using Sinapse.Vision;
using Sinapse.Data;
using Sinapse.Diagnostics;
using Sinapse.Layers;
using Sinapse.Tensors;
using SkiaSharp;

namespace Sinapse.Cli;

/// <summary>
/// A grid of images (filters, filtered pictures, reconstructions) with a title above it and a label
/// under each tile, so that a sheet looked at on its own says what it shows.
/// </summary>
internal static class ContactSheet
{
    private const int LabelBand = 16, TitleBand = 30, LabelSize = 12, TitleSize = 16;

    /// <summary>Writes <paramref name="tiles"/> ([H, W], [1, H, W] or [3, H, W]) as a PNG grid of <paramref name="columns"/>, as <see cref="Images.SaveGrid"/> lays them out.</summary>
    public static void Save(string path, string title, IReadOnlyList<Tensor> tiles, IReadOnlyList<string> labels, int columns, int scale = 1, float? low = null, float? high = null)
    {
        if (labels.Count != tiles.Count) throw new ArgumentException($"A contact sheet needs one label per tile, got {tiles.Count} tiles and {labels.Count} labels.");
        // The library draws the grid, its gaps as tall as a label; the title and the labels are written around and under the tiles.
        Images.SaveGrid(path, tiles, columns, scale, gap: LabelBand, low, high);
        using var grid = SKBitmap.Decode(path);
        int tileWidth = tiles.Max(t => t.Shape[^1]) * scale, tileHeight = tiles.Max(t => t.Shape[^2]) * scale;
        columns = Math.Min(columns, tiles.Count);
        // ScottPlot's font lookup, which finds a font without fontconfig, as the plots' titles do.
        var typeface = ScottPlot.Fonts.GetTypeface(ScottPlot.Fonts.Default, false, false);
        using var titleFont = new SKFont(typeface, TitleSize);
        using var labelFont = new SKFont(typeface, LabelSize);
        int width = Math.Max(grid.Width, (int)MathF.Ceiling(titleFont.MeasureText(title)) + 2 * LabelBand);
        float left = (width - grid.Width) / 2f;
        using var sheet = new SKBitmap(width, grid.Height + TitleBand, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using (var canvas = new SKCanvas(sheet))
        using (var ink = new SKPaint { Color = SKColors.White, IsAntialias = true })
        {
            canvas.Clear(new SKColor(40, 40, 40));
            canvas.DrawBitmap(grid, left, TitleBand);
            canvas.DrawText(title, width / 2f, TitleBand - 9, SKTextAlign.Center, titleFont, ink);
            for (int i = 0; i < tiles.Count; i++)
            {
                float centre = left + LabelBand + (i % columns) * (tileWidth + LabelBand) + tileWidth / 2f;
                float baseline = TitleBand + LabelBand + (i / columns) * (tileHeight + LabelBand) + tileHeight + LabelSize;
                canvas.DrawText(Shortened(labels[i], tileWidth + LabelBand - 2, labelFont), centre, baseline, SKTextAlign.Center, labelFont, ink);
            }
        }
        using var image = SKImage.FromBitmap(sheet);
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        png.SaveTo(file);
    }

    /// <summary>A convolution's filters, numbered from 1, eight to a row and enlarged twelve times (a 3×3 filter shows as nine squares).</summary>
    public static void Filters(string path, string title, Conv2d convolution)
    {
        var tiles = FilterImages.Of(convolution);
        Save(path, title, tiles, Enumerable.Range(1, tiles.Count).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList(), columns: 8, scale: 12);
    }

    /// <summary><paramref name="label"/>, cut and ended with "…" where it is wider than <paramref name="room"/> pixels.</summary>
    private static string Shortened(string label, float room, SKFont font)
    {
        if (font.MeasureText(label) <= room) return label;
        while (label.Length > 1 && font.MeasureText(label + "…") > room) label = label[..^1];
        return label + "…";
    }
}
