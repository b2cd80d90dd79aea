using SkiaSharp;
using Sinapse.Data;
using Sinapse.IO;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Tests.Support;
using Sinapse.Vision;

namespace Sinapse.Tests.Vision;

/// <summary>Images are checked from their header before any pixel memory exists, and a damaged one is an error, never a partial picture.</summary>
public class ImagesTests
{
    [Theory]
    [InlineData("huge.png")]
    [InlineData("huge.bmp")]
    public void AFewBytesDeclaring100000SquaredPixelsAreRefusedBeforeDecoding(string name)
    {
        using var dir = new TempDirectory();
        var path = dir.File(name);
        File.WriteAllBytes(path, name.EndsWith(".png") ? HostileFiles.PngHeader(100_000, 100_000) : HostileFiles.BmpHeader(100_000, 100_000));
        HostileFiles.RefusedInOneLine(() => Images.Load(path), path);
    }

    [Fact]
    public void APng16384SquaredIsRefusedBeforeAllocatingItsPixels()
    {
        using var dir = new TempDirectory();
        var path = dir.File("bomb.png");
        File.WriteAllBytes(path, HostileFiles.PngHeader(16384, 16384));
        var message = HostileFiles.RefusedInOneLine(() => Images.Load(path), path);
        Assert.Contains("16384x16384", message);
        Assert.Contains($"{InputFile.MaxImagePixels:N0}", message);
    }

    [Theory]
    [InlineData(SKEncodedImageFormat.Png, "cut.png")]
    [InlineData(SKEncodedImageFormat.Jpeg, "cut.jpg")]
    public void ATruncatedImageIsAnErrorNotAPartialPicture(SKEncodedImageFormat format, string name)
    {
        using var dir = new TempDirectory();
        var path = dir.File(name);
        using (var bitmap = new SKBitmap(64, 64, SKColorType.Rgba8888, SKAlphaType.Opaque))
        {
            var random = new Random(5);
            var pixels = bitmap.GetPixelSpan();
            for (int i = 0; i < pixels.Length; i++) pixels[i] = i % 4 == 3 ? (byte)255 : (byte)random.Next(256);
            using var image = SKImage.FromBitmap(bitmap);
            using var data = image.Encode(format, 90);
            var bytes = data.ToArray();
            File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        }
        Assert.Contains("truncated", HostileFiles.RefusedInOneLine(() => Images.Load(path), path));
    }

    [Fact]
    public void AnIntactImageStillLoads()
    {
        using var dir = new TempDirectory();
        var path = dir.File("ramp.png");
        var ramp = Tensor.FromArray(Enumerable.Range(0, 12).Select(i => (float)(20 * i)).ToArray(), 3, 4);
        Images.SavePng(path, ramp, 0f, 255f);
        var loaded = Images.Load(path, grayscale: true);
        Assert.Equal(new Shape(1, 3, 4), loaded.Shape);
        Expect.Close(ramp.ToArray(), loaded.ToArray(), 1e-2);
    }

    [Fact]
    public void ANamedPipeIsRefusedWithoutBlocking()
    {
        using var dir = new TempDirectory();
        var path = dir.File("pipe.png");
        HostileFiles.MakeFifo(path);
        HostileFiles.RefusedWithoutBlocking(() => Images.Load(path), path);
    }
}
