using SkiaSharp;
using Sinapse.Data;
using Sinapse.Tensors;
using Sinapse.Tests.Support;
using Sinapse.Vision;

namespace Sinapse.Tests.Vision;

public class ImageFolderTests
{
    /// <summary>An RGB image [3, H, W] whose every pixel is (r, g, b).</summary>
    static Tensor Solid(int height, int width, float r, float g, float b)
    {
        var image = Tensor.Zeros(3, height, width);
        var plane = height * width;
        image.Span[..plane].Fill(r);
        image.Span.Slice(plane, plane).Fill(g);
        image.Span.Slice(2 * plane, plane).Fill(b);
        return image;
    }

    static void Save(string path, Tensor image)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        Images.SavePng(path, image, 0f, 255f);
    }

    /// <summary>A PNG stored with one grey channel (SavePng always writes colour).</summary>
    static void SaveGray(string path, int height, int width, byte value)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bitmap = new SKBitmap(width, height, SKColorType.Gray8, SKAlphaType.Opaque);
        bitmap.Erase(new SKColor(value, value, value));
        using var data = SKImage.FromBitmap(bitmap).Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }

    [Fact]
    public void ClassesAreSortedFoldersAndFilesSortedWithin()
    {
        using var root = new TempDirectory();
        Save(root.File("dog/b.png"), Solid(4, 4, 20, 0, 0));
        Save(root.File("dog/a.png"), Solid(4, 4, 10, 0, 0));
        Save(root.File("Zebra/1.png"), Solid(4, 4, 30, 0, 0));
        Save(root.File("dog/more/c.png"), Solid(4, 4, 40, 0, 0));
        File.WriteAllText(root.File("dog/notes.txt"), "not an image, and skipped as torchvision skips it");

        var (classes, files) = ImageFolder.Find(root.Path);
        Assert.Equal(["Zebra", "dog"], classes); // ordinal, as Python sorts: upper case first
        Assert.Equal(["1.png", "a.png", "b.png", "c.png"], files.Select(f => Path.GetFileName(f.Path)));
        Assert.Equal([0, 1, 1, 1], files.Select(f => f.Label));

        var data = ImageFolder.Load(root.Path, size: 4, normalization: ImageNormalization.None);
        Assert.Equal(new Shape(4, 3, 4, 4), data.Features.Shape);
        Assert.Equal(["Zebra", "dog"], data.ClassNames);
        Assert.Equal(2, data.ClassCount);
        Assert.Equal([0f, 1f, 1f, 1f], data.Targets.ToArray());
        Assert.Equal([30f, 10f, 20f, 40f], Enumerable.Range(0, 4).Select(i => data.Features[i, 0, 2, 2]));
    }

    [Fact]
    public void ShorterSideIsResizedThenTheCentreCropped()
    {
        using var root = new TempDirectory();
        // 4 high, 8 wide: column x holds 10·x, so the centre crop of width 4 holds columns 2..5.
        var wide = Tensor.Zeros(3, 4, 8);
        for (int c = 0; c < 3; c++) for (int y = 0; y < 4; y++) for (int x = 0; x < 8; x++) wide[c, y, x] = 10 * x;
        Save(root.File("a/wide.png"), wide);
        var data = ImageFolder.Load(root.Path, size: 4, normalization: ImageNormalization.None);
        Assert.Equal([20f, 30f, 40f, 50f], Enumerable.Range(0, 4).Select(x => data.Features[0, 1, 3, x]));

        // Shorter side 8 first: the image doubles to 8x16 (bilinear), then the central 4x4 is kept.
        var resized = ImageFolder.Load(root.Path, size: 4, resize: 8, normalization: ImageNormalization.None);
        var expected = ImageFolder.CropCentre(ImageResize.Bilinear(Images.Load(root.File("a/wide.png")), 8, 16), 4);
        Assert.Equal(expected.ToArray(), resized.Features.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageFolder.Load(root.Path, size: 4, resize: 3));
    }

    [Fact]
    public void NormalisationsMatchTheirDefinitions()
    {
        using var root = new TempDirectory();
        Save(root.File("a/x.png"), Solid(2, 2, 255, 0, 51));
        var imageNet = ImageFolder.Load(root.Path, size: 2);
        Assert.Equal((1f - 0.485f) / 0.229f, imageNet.Features[0, 0, 1, 1], 5);
        Assert.Equal(-0.456f / 0.224f, imageNet.Features[0, 1, 0, 0], 5);
        Assert.Equal((0.2f - 0.406f) / 0.225f, imageNet.Features[0, 2, 0, 1], 5);
        var plusMinus = ImageFolder.Load(root.Path, size: 2, normalization: ImageNormalization.PlusMinusOne);
        Assert.Equal(1f, plusMinus.Features[0, 0, 0, 0]);
        Assert.Equal(-1f, plusMinus.Features[0, 1, 0, 0]);
        Assert.Equal(-0.6f, plusMinus.Features[0, 2, 0, 0], 6);
        var unit = ImageFolder.Load(root.Path, size: 2, normalization: ImageNormalization.UnitRange);
        Assert.Equal(0.2f, unit.Features[0, 2, 1, 0], 6);
    }

    [Fact]
    public void ChannelsAreConvertedOrKeptAsStored()
    {
        using var root = new TempDirectory();
        SaveGray(root.File("a/grey.png"), 3, 3, 100);
        SaveGray(root.File("b/grey.png"), 3, 3, 200);
        var rgb = ImageFolder.Load(root.Path, size: 3, normalization: ImageNormalization.None);
        Assert.Equal(new Shape(2, 3, 3, 3), rgb.Features.Shape);
        Assert.Equal(100f, rgb.Features[0, 2, 1, 1]);
        var stored = ImageFolder.Load(root.Path, size: 3, normalization: ImageNormalization.None, channels: ImageChannels.AsStored);
        Assert.Equal(new Shape(2, 1, 3, 3), stored.Features.Shape);
        Assert.Equal(200f, stored.Features[1, 0, 0, 0], 3);

        Save(root.File("b/colour.png"), Solid(3, 3, 1, 2, 3));
        var error = Assert.Throws<InvalidDataException>(() => ImageFolder.Load(root.Path, size: 3, channels: ImageChannels.AsStored));
        Assert.Contains("colour.png has 3", error.Message);
        Assert.Contains("grey.png has 1", error.Message);
        var gray = ImageFolder.Load(root.Path, size: 3, normalization: ImageNormalization.None, channels: ImageChannels.Grayscale);
        Assert.Equal(new Shape(3, 1, 3, 3), gray.Features.Shape);
    }

    [Fact]
    public void SplitIsSeededAndKeepsTheClassNames()
    {
        using var root = new TempDirectory();
        for (int i = 0; i < 8; i++) Save(root.File($"{(i % 2 == 0 ? "even" : "odd")}/{i}.png"), Solid(2, 2, i, i, i));
        var data = ImageFolder.Load(root.Path, size: 2, normalization: ImageNormalization.None);
        var (train, test) = data.Split(0.75, seed: 3);
        var (again, _) = data.Split(0.75, seed: 3);
        Assert.Equal((6, 2), (train.Count, test.Count));
        Assert.Equal(train.Features.ToArray(), again.Features.ToArray());
        Assert.Equal(["even", "odd"], test.ClassNames);
    }

    [Fact]
    public void BadFoldersAreNamed()
    {
        using var root = new TempDirectory();
        Assert.Throws<DirectoryNotFoundException>(() => ImageFolder.Load(root.File("missing")));
        File.WriteAllText(root.File("loose.txt"), "");
        Assert.Contains("has no class folders", Assert.Throws<InvalidDataException>(() => ImageFolder.Load(root.Path)).Message);

        Save(root.File("cat/1.png"), Solid(2, 2, 0, 0, 0));
        Directory.CreateDirectory(root.File("dog"));
        File.WriteAllText(root.File("dog/readme.md"), "no images here");
        Assert.Contains("'dog'", Assert.Throws<InvalidDataException>(() => ImageFolder.Load(root.Path, size: 2)).Message);

        File.WriteAllText(root.File("dog/broken.jpg"), "this is text, not a JPEG");
        var error = Assert.Throws<InvalidDataException>(() => ImageFolder.Load(root.Path, size: 2));
        Assert.Contains("broken.jpg", error.Message);
        Assert.Contains("class 'dog'", error.Message);
    }
}
