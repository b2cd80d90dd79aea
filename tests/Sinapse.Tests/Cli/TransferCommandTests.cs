using Sinapse.Data;
using Sinapse.Tensors;
using Sinapse.Tests.Support;
using Sinapse.Vision;

namespace Sinapse.Tests.Cli;

/// <summary><c>sinapse transfer --base mobilenet_v1|mobilenet_v2</c> on an image folder, run as a user runs it.</summary>
public class TransferCommandTests
{
    /// <summary>An image folder root/train/&lt;class&gt;/*.png and root/test/&lt;class&gt;/*.png of small random colour images.</summary>
    private static TempDirectory ImageFolder(string[] classes, int train = 2, int test = 1)
    {
        var root = new TempDirectory();
        var rng = new Rng(7);
        foreach (var (split, count) in new[] { ("train", train), ("test", test) })
            foreach (var name in classes)
            {
                Directory.CreateDirectory(root.File(Path.Combine(split, name)));
                for (int i = 0; i < count; i++)
                    Images.SavePng(root.File(Path.Combine(split, name, $"{i}.png")), Tensor.Uniform(new Shape(3, 12, 12), 0f, 255f, rng), 0f, 255f);
            }
        return root;
    }

    [Fact]
    public void RunsTheThreeMethodsAndWritesTheTableAndCurves()
    {
        using var images = ImageFolder(["bag", "boot", "shirt"], train: 3);   // 8 to train on, 1 held out for validation
        using var output = new TempDirectory();
        var stdout = CliRunner.Succeed("transfer", "--base", "mobilenet_v1", "--images", images.Path, "--image-size", "32", "--epochs", "1", "--batch-size", "4",
            "--fine-tune-blocks", "2", "--out", output.Path);

        foreach (var method in new[] { "(a) new head, frozen features", "(b) fine-tune the last 2 blocks", "(c) from scratch" })
            Assert.Contains(method, stdout);
        Assert.Contains("test accuracy", stdout);
        var csv = File.ReadAllLines(output.File("transfer.csv"));
        Assert.Equal("method,epoch,train_loss,train_accuracy,validation_loss,validation_accuracy", csv[0]);
        Assert.Equal(4, csv.Length);                                  // one epoch of each method
        Assert.True(new FileInfo(output.File("validation-accuracy.png")).Length > 1000);
        Assert.Contains("| (c) from scratch |", File.ReadAllText(output.File("report.md")));
    }

    [Fact]
    public void TooFewTrainingImagesToHoldSomeOutAreNamed()
    {
        using var images = ImageFolder(["bag", "boot"]);
        var line = CliRunner.OneErrorLine("transfer", "--base", "mobilenet_v1", "--images", images.Path, "--image-size", "32");
        Assert.Contains("too few to hold a tenth out for validation", line);
    }

    [Fact]
    public void AMissingImageFolderIsNamed()
    {
        using var empty = new TempDirectory();
        var missing = Path.Combine(empty.Path, "nowhere");
        var line = CliRunner.OneErrorLine("transfer", "--base", "mobilenet_v1", "--images", missing);
        Assert.Contains(missing, line);
        Assert.Contains("train/", line);
    }

    [Fact]
    public void AnEmptyImageFolderSaysWhatItNeeds()
    {
        using var root = new TempDirectory();
        Directory.CreateDirectory(root.File("train"));
        Directory.CreateDirectory(root.File("test"));
        var line = CliRunner.OneErrorLine("transfer", "--base", "mobilenet_v1", "--images", root.Path);
        Assert.Contains("no class folders", line);
        Assert.Contains(root.File("train"), line);
    }

    [Fact]
    public void OneClassIsNotEnough()
    {
        using var images = ImageFolder(["bag"]);
        var line = CliRunner.OneErrorLine("transfer", "--base", "mobilenet_v1", "--images", images.Path, "--image-size", "16");
        Assert.Contains("one class folder ('bag')", line);
        Assert.Contains("at least two", line);
    }

    [Fact]
    public void AnUndecodableImageIsNamed()
    {
        using var images = ImageFolder(["bag", "boot"]);
        File.WriteAllText(images.File(Path.Combine("train", "boot", "broken.png")), "this is text, not a PNG");
        var line = CliRunner.OneErrorLine("transfer", "--base", "mobilenet_v1", "--images", images.Path, "--image-size", "16");
        Assert.Contains(Path.Combine("boot", "broken.png"), line);
    }

    [Fact]
    public void AnUnknownBaseListsTheValidOnes()
    {
        var line = CliRunner.OneErrorLine("transfer", "--base", "mobilenet_v9");
        Assert.Contains("mobilenet_v9", line);
        Assert.Contains("mobilenet_v2", line);
        Assert.Contains("mobilenet_v1", line);
    }

    [Fact]
    public void ImageOptionsNeedAPretrainedBase()
    {
        var line = CliRunner.OneErrorLine("transfer", "--images", "data/fashion-photos", "--image-size", "32");
        Assert.Contains("--images, --image-size: only with an ImageNet-pretrained --base (mobilenet_v2 or mobilenet_v1)", line);
    }

    [Fact]
    public void TheBundledPhotosAreTenClassesOf200TrainingAnd100TestImages()
    {
        var root = BundledData.Find("fashion-photos", "the tests run inside the repository");
        foreach (var (split, perClass) in new[] { ("train", 200), ("test", 100) })
        {
            var (classes, files) = Sinapse.Vision.ImageFolder.Find(Path.Combine(root, split));
            Assert.Equal(["0-t-shirt-top", "1-trouser", "2-pullover", "3-dress", "4-coat", "5-sandal", "6-shirt", "7-sneaker", "8-bag", "9-ankle-boot"], classes);
            Assert.All(files.GroupBy(f => f.Label), group => Assert.Equal(perClass, group.Count()));
        }
    }
}
