using SkiaSharp;
using Sinapse.Vision;
using Sinapse.Data;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Cli;

/// <summary><c>sinapse train --images DIR</c>: any model on a folder of colour or grey images with train/ and test/, run as a user runs it.</summary>
public class ImageOptionsTests
{
    static readonly string[] Classes = ["cat", "dog", "ship"];

    /// <summary>root/{train,test}/&lt;class&gt;/*.png of random images of <paramref name="size"/>², colour or stored with one grey channel.</summary>
    static TempDirectory Folder(bool grey = false, int size = 12)
    {
        var root = new TempDirectory();
        var rng = new Rng(5);
        foreach (var (split, count) in new[] { ("train", 5), ("test", 2) })
            foreach (var name in Classes)
            {
                Directory.CreateDirectory(root.File(Path.Combine(split, name)));
                for (int i = 0; i < count; i++)
                {
                    var path = root.File(Path.Combine(split, name, $"{i}.png"));
                    if (!grey)
                    {
                        Images.SavePng(path, Tensor.Uniform(new Shape(3, size, size), 0f, 255f, rng), 0f, 255f);
                        continue;
                    }
                    using var bitmap = new SKBitmap(size, size, SKColorType.Gray8, SKAlphaType.Opaque);
                    bitmap.Erase(new SKColor((byte)rng.NextInt(256), 0, 0));
                    using var data = SKImage.FromBitmap(bitmap).Encode(SKEncodedImageFormat.Png, 100);
                    File.WriteAllBytes(path, data.ToArray());
                }
            }
        return root;
    }

    [Fact]
    public void TheCourseCnnTrainsOnColourImagesWithImageNetNormalisationAndAugmentation()
    {
        using var images = Folder(size: 32);   // the course CNN's three convolutions and poolings need 32×32 (CIFAR's size)
        using var output = new TempDirectory();
        var stdout = CliRunner.Succeed("train", "--images", images.Path, "--epochs", "1", "--batch-size", "4", "--normalize", "imagenet",
            "--augment", "flip,crop", "--out", output.Path);

        // 15 training images: a tenth (1) held out for validation, 14 to train on, 6 to test.
        Assert.Contains("on 14 examples from", stdout);
        Assert.Contains("(1 validation, 6 test)", stdout);
        Assert.Matches(@"peak resident memory: [\d,]+ MB", stdout);
        var saved = SavedModel.Load(output.File("model"));
        Assert.Equal(new Shape(3, 32, 32), saved.ExampleShape);
        Assert.Equal(Classes, saved.ClassNames);
        Assert.Equal(new[] { 0.485f * 255, 0.456f * 255, 0.406f * 255 }, saved.Transform!.Mean!);
        Assert.Equal(new[] { 0.229f * 255, 0.224f * 255, 0.225f * 255 }, saved.Transform!.StandardDeviation!);
        Assert.Matches(@"^0: (cat|dog|ship) ", CliRunner.Succeed("predict", "--model", output.File("model"), "--input", images.File(Path.Combine("test", "dog", "0.png")), "--top", "1").Trim());
    }

    [Fact]
    public void GreyImagesStayOneChannelAndAreResized()
    {
        using var images = Folder(grey: true);
        using var output = new TempDirectory();
        CliRunner.Succeed("train", "--images", images.Path, "--image-size", "8", "--epochs", "1", "--validation", "3", "--model", "mlp", "--hidden", "8", "--out", output.Path);
        Assert.Equal(new Shape(1, 8, 8), SavedModel.Load(output.File("model")).ExampleShape);
    }

    [Fact]
    public void RgbTurnsGreyImagesIntoThreeChannels()
    {
        using var images = Folder(grey: true);
        using var output = new TempDirectory();
        CliRunner.Succeed("train", "--images", images.Path, "--channels", "rgb", "--epochs", "1", "--model", "mobilenet_v3_small", "--width", "0.25", "--out", output.Path);
        Assert.Equal(new Shape(3, 12, 12), SavedModel.Load(output.File("model")).ExampleShape);
    }

    [Theory]
    [InlineData("--augment", "blur", "Unknown --augment 'blur'. Expected flip, crop")]
    [InlineData("--channels", "cmyk", "Unknown --channels 'cmyk'. Expected rgb, gray or stored")]
    [InlineData("--normalize", "imagenett", "Expected scale, standardize, minmax, imagenet or none")]
    public void BadImageOptionsAreNamed(string option, string value, string expected)
    {
        using var images = Folder();
        Assert.Contains(expected, CliRunner.OneErrorLine("train", "--images", images.Path, option, value, "--epochs", "1"));
    }

    [Fact]
    public void ImageOptionsNeedAnImageFolder()
    {
        Assert.Contains("--image-size applies to an image folder; give --images DIR too", CliRunner.OneErrorLine("train", "--image-size", "32"));
    }

    [Fact]
    public void OnlyOneSourceOfTrainingData()
    {
        using var images = Folder();
        Assert.Contains("--images, --csv and --data each name the training data", CliRunner.OneErrorLine("train", "--images", images.Path, "--data", images.Path));
    }
}
