using Sinapse.Data;
using Sinapse.Tensors;
using Sinapse.Tests.Support;
using Sinapse.Vision;

namespace Sinapse.Tests.Cli;

/// <summary>Bad input reaches the user of the command as one clear line on stderr, never a stack trace.</summary>
public class CliErrorTests
{
    /// <summary>A directory in MNIST's layout with small valid files, for one of them to be spoiled.</summary>
    private static TempDirectory SmallIdxDirectory(int images = 20, int labels = 20)
    {
        var directory = new TempDirectory();
        var pixels = Tensor.Zeros(images, 4, 4);
        var classes = Tensor.Zeros(labels);
        for (int i = 0; i < labels; i++) classes.Span[i] = i % 10;
        Idx.Write(directory.File(Mnist.TrainImages), pixels);
        Idx.Write(directory.File(Mnist.TestImages), pixels);
        Idx.Write(directory.File(Mnist.TrainLabels), classes);
        Idx.Write(directory.File(Mnist.TestLabels), classes);
        return directory;
    }

    [Fact]
    public void ATruncatedIdxFile()
    {
        using var directory = SmallIdxDirectory();
        var path = directory.File(Mnist.TrainImages);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 10)]);

        var line = CliRunner.OneErrorLine("train", "--data", directory.Path, "--validation", "0");
        Assert.Contains("truncated", line);
        Assert.Contains(Mnist.TrainImages, line);
    }

    [Fact]
    public void AWrongMagicNumber()
    {
        using var directory = SmallIdxDirectory();
        var path = directory.File(Mnist.TrainLabels);
        var bytes = File.ReadAllBytes(path);
        bytes[0] = 0x12;
        File.WriteAllBytes(path, bytes);

        var line = CliRunner.OneErrorLine("train", "--data", directory.Path, "--validation", "0");
        Assert.Contains("magic", line, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void MoreLabelsThanImages()
    {
        using var directory = SmallIdxDirectory(images: 20, labels: 25);
        var line = CliRunner.OneErrorLine("train", "--data", directory.Path, "--validation", "0");
        Assert.Contains("20", line);
        Assert.Contains("25", line);
    }

    [Theory]
    [InlineData("--lr", "NaN", "--lr")]
    [InlineData("--lr", "-0.5", "--lr")]
    [InlineData("--epochs", "0", "--epochs")]
    [InlineData("--batch-size", "0", "--batch-size")]
    [InlineData("--hidden", "256,x", "--hidden")]
    [InlineData("--activation", "swoosh", "swoosh")]
    [InlineData("--model", "resnet", "resnet")]
    [InlineData("--dropout", "1.5", "--dropout")]
    [InlineData("--batch-norm-eps", "-0.001", "--batch-norm-eps")]
    [InlineData("--batch-norm-momentum", "1.5", "--batch-norm-momentum")]
    [InlineData("--clip-norm", "-1", "--clip-norm")]
    [InlineData("--restarts", "0", "--restarts")]
    [InlineData("--optimizer", "lbfgs", "lbfgs")]
    [InlineData("--schedule", "sawtooth", "sawtooth")]
    [InlineData("--threads", "0", "--threads")]
    [InlineData("--step-epochs", "0", "--step-epochs")]
    [InlineData("--gamma", "1.5", "--gamma")]
    [InlineData("--precision", "fp8", "fp32, bf16 or fp16")]
    public void BadArguments(string option, string value, string named)
    {
        var line = CliRunner.OneErrorLine(option == "--model" ? ["train", option, value] : ["train", "--model", "mlp", option, value]);
        Assert.Contains(named, line);
    }

    [Theory]
    [InlineData("momentum", "-0.5", "momentum")]
    [InlineData("rmsprop", "1.5", "momentum")]
    public void ANegativeOrTooLargeMomentum(string optimizer, string momentum, string named)
    {
        var line = CliRunner.OneErrorLine("train", "--model", "mlp", "--optimizer", optimizer, "--momentum", momentum);
        Assert.Contains(named, line, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("mobilenet_v3_small", "--activation", "tanh", "--activation does not apply to --model mobilenet_v3_small")]
    [InlineData("mobilenet_v2", "--batch-norm", null, "--batch-norm does not apply")]
    [InlineData("cnn", "--width", "0.5", "--width does not apply to --model cnn")]
    [InlineData("cnn", "--hidden", "64", "--hidden does not apply to --model cnn")]
    [InlineData("mlp", "--batch-norm-eps", "0.001", "give --batch-norm as well")]
    [InlineData("cnn", "--batch-norm-momentum", "0.01", "give --batch-norm as well")]
    public void OptionsThatDoNotApplyToTheModelAreNamed(string model, string option, string? value, string expected)
    {
        var line = CliRunner.OneErrorLine(value == null ? ["summary", "--model", model, option] : ["summary", "--model", model, option, value]);
        Assert.Contains(expected, line);
    }

    [Fact]
    public void SummaryPrintsEveryLayerAndTheTotals()
    {
        var output = CliRunner.Succeed("summary", "--model", "mlp");
        Assert.Contains("Linear(784 -> 256)", output);
        Assert.Contains("[1, 10]", output);
        Assert.Contains("242,762", output);
    }

    [Fact]
    public void SummaryOfTheCourseCnnShowsReceptiveFields()
    {
        var output = CliRunner.Succeed("summary", "--model", "cnn");
        Assert.Contains("Conv2d(1 -> 32, k=3, pad 1)", output);
        Assert.Contains("18×18", output);
        Assert.Contains("65,994", output);
    }

    [Fact]
    public void AFileThatIsNotAnImage()
    {
        using var directory = new TempDirectory();
        var path = directory.File("notes.png");
        File.WriteAllText(path, "this is text, not a picture");
        var line = CliRunner.OneErrorLine("filters", "--image", path, "--out", directory.Path);
        Assert.Contains("notes.png", line);
        Assert.Contains("not an image", line);
    }

    [Fact]
    public void FiltersWritesOnePngPerFilterAndAContactSheet()
    {
        using var directory = new TempDirectory();
        CliRunner.Succeed("filters", "--out", directory.Path);
        foreach (var name in new[] { "identity", "edges-laplacian", "sharpen", "box-blur", "gaussian-blur", "contact-sheet" })
        {
            var bytes = File.ReadAllBytes(directory.File(name + ".png"));
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        }
        // The identity filter returns the digit itself: the PNG decodes to the bundled test image.
        var identity = Images.Load(directory.File("identity.png"), grayscale: true);
        var digit = Sinapse.Data.Mnist.LoadBundled().Test.Features.Slice(0, 1);
        Assert.Equal(digit.ToArray(), identity.ToArray().Select(v => MathF.Round(v)).ToArray());
    }
}
