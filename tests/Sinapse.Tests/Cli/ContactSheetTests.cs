using Sinapse.Cli;
using Sinapse.Tensors;
using Sinapse.Tests.Support;
using SkiaSharp;

namespace Sinapse.Tests.Cli;

/// <summary>Contact sheets carry a title and a label under every tile.</summary>
public class ContactSheetTests
{
    /// <summary>Whether any pixel in rows [top, bottom) is light: text drawn in white on the dark background.</summary>
    private static bool HasText(SKBitmap sheet, int top, int bottom)
    {
        for (int y = top; y < bottom; y++)
            for (int x = 0; x < sheet.Width; x++)
                if (sheet.GetPixel(x, y).Red > 150) return true;
        return false;
    }

    [Fact]
    public void TheSheetHasATitleAboveAndALabelUnderEachTile()
    {
        using var run = new TempDirectory();
        // Black tiles, so that only text can be light.
        var tiles = new[] { Tensor.Zeros(10, 10), Tensor.Zeros(10, 10), Tensor.Zeros(10, 10) };
        ContactSheet.Save(run.File("sheet.png"), "Three black squares", tiles, ["first", "second", "third"], columns: 3, scale: 4, low: 0f, high: 255f);
        Sinapse.Vision.Images.SaveGrid(run.File("grid.png"), tiles, columns: 3, scale: 4, gap: 16, low: 0f, high: 255f);

        using var sheet = SKBitmap.Decode(run.File("sheet.png"));
        using var grid = SKBitmap.Decode(run.File("grid.png"));
        int titleBand = sheet.Height - grid.Height;
        Assert.True(titleBand > 0, "no room above the grid for a title");
        Assert.True(HasText(sheet, 0, titleBand), "no title drawn");
        Assert.False(HasText(sheet, titleBand + 16, titleBand + 16 + 40), "the tiles should stay black");
        Assert.True(HasText(sheet, titleBand + 16 + 40, sheet.Height), "no labels under the tiles");
        Assert.Contains("one label per tile, got 3 tiles and 2 labels",
            Assert.Throws<ArgumentException>(() => ContactSheet.Save(run.File("bad.png"), "t", tiles, ["a", "b"], columns: 3)).Message);
    }
}
