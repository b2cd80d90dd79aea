using Sinapse.Models;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Cli;

/// <summary>Files built to crash, hang or exhaust the tool get one error line from it.</summary>
public class HostileInputTests
{
    private static TempDirectory ModelDirectory(Shape example)
    {
        var directory = new TempDirectory();
        new SavedModel(Mlp.Create(example.Size, [3], 2), example).Save(directory.Path);
        return directory;
    }

    [Theory]
    [InlineData("huge.png")]
    [InlineData("huge.bmp")]
    public void PredictRefusesAnImageDeclaring100000SquaredPixels(string name)
    {
        using var model = ModelDirectory(new Shape(3, 4, 4));
        var path = model.File(name);
        File.WriteAllBytes(path, name.EndsWith(".png") ? HostileFiles.PngHeader(100_000, 100_000) : HostileFiles.BmpHeader(100_000, 100_000));
        Assert.Contains(name, CliRunner.OneErrorLine("predict", "--model", model.Path, "--input", path, "--top", "1"));
    }

    [Fact]
    public void FiltersRefusesAPngBomb()
    {
        using var directory = new TempDirectory();
        var path = directory.File("bomb.png");
        File.WriteAllBytes(path, HostileFiles.PngHeader(16384, 16384));
        Assert.Contains("bomb.png", CliRunner.OneErrorLine("filters", "--image", path, "--out", directory.Path));
    }

    [Fact]
    public void PredictRefusesANamedPipe()
    {
        using var model = ModelDirectory(new Shape(4));
        var path = model.File("in.npy");
        HostileFiles.MakeFifo(path);
        Assert.Contains("in.npy", CliRunner.OneErrorLine("predict", "--model", model.Path, "--input", path, "--top", "1"));
    }

    [Fact]
    public void PredictRefusesAnEmptyBatch()
    {
        using var model = ModelDirectory(new Shape(4));
        var path = model.File("none.npy");
        Npy.Write(path, Tensor.Zeros(0, 4));
        Assert.Contains("none.npy", CliRunner.OneErrorLine("predict", "--model", model.Path, "--input", path, "--top", "1"));
    }

    [Fact]
    public void TrainRefusesAHiddenSizeBeyondInt32()
    {
        var line = CliRunner.OneErrorLine("train", "--model", "mlp", "--hidden", "99999999999", "--epochs", "1");
        Assert.Contains("--hidden", line);
    }

    [Theory]
    [InlineData("huge.png")]
    [InlineData("huge.bmp")]
    public void FiltersRefusesAnImageDeclaring100000SquaredPixels(string name)
    {
        using var directory = new TempDirectory();
        var path = directory.File(name);
        File.WriteAllBytes(path, name.EndsWith(".png") ? HostileFiles.PngHeader(100_000, 100_000) : HostileFiles.BmpHeader(100_000, 100_000));
        Assert.Contains(name, CliRunner.OneErrorLine("filters", "--image", path, "--out", directory.Path));
    }

    [Fact]
    public void TrainRefusesTenThousandThreads()
    {
        var line = CliRunner.OneErrorLine("train", "--model", "mlp", "--threads", "10000", "--epochs", "1");
        Assert.Contains("--threads", line);
        Assert.Contains("10000", line);
    }

    [Fact]
    public void TrainRefusesAHiddenLayerTooWideToAllocate()
    {
        var (exitCode, output, error) = CliRunner.Run("train", "--model", "mlp", "--hidden", "64,5000000", "--epochs", "1");
        Assert.Equal(1, exitCode);
        Assert.Contains("--hidden", error);
        Assert.DoesNotContain("Training", output);
    }

    /// <summary>An --out that cannot be written is found before training, not after it (when the model would be lost).</summary>
    [Theory]
    [InlineData("/dev/null")]
    [InlineData("FILE/run")]
    [InlineData("FILE")]
    public void TrainRefusesAnUnwritableOutBeforeTraining(string output)
    {
        using var directory = new TempDirectory();
        File.WriteAllText(directory.File("FILE"), "not a directory");
        var target = output.StartsWith('/') ? output : directory.File(output);
        var (exitCode, stdout, error) = CliRunner.Run("train", "--csv", TabularTrainingTests.BundledTable("wine.csv"), "--target", "class", "--epochs", "1", "--out", target);
        Assert.Equal(1, exitCode);
        Assert.StartsWith("error: --out", error.Trim());
        Assert.DoesNotContain('\n', error.Trim());
        Assert.DoesNotContain("Training", stdout);
    }

    [Fact]
    public void TrainRefusesATableWithOneClass()
    {
        using var directory = new TempDirectory();
        var path = directory.File("one.csv");
        File.WriteAllText(path, "x,label\n1,a\n2,a\n3,a\n4,a\n5,a\n6,a\n7,a\n8,a\n");
        var line = CliRunner.OneErrorLine("train", "--csv", path, "--target", "label", "--epochs", "1", "--out", directory.File("run"));
        Assert.Contains("one.csv", line);
        Assert.Contains("two classes", line);
    }

    [Theory]
    [InlineData("--target", "/nope", "/nope")]
    [InlineData("--target-examples", "2000000000", "--target-examples")]
    [InlineData("--target-classes", "5,99", "99")]
    public void TransferChecksTheTargetTaskBeforePretraining(string option, string value, string named)
    {
        var (exitCode, output, error) = CliRunner.Run("transfer", option, value);
        Assert.Equal(1, exitCode);
        Assert.Contains(named, error);
        Assert.DoesNotContain("Pretraining", output);
    }

    [Fact]
    public void ExportRefusesAnOutputInsideADeviceBeforeBuilding()
    {
        var line = CliRunner.OneErrorLine("export", "--model", "mlp", "--output", "/dev/null/model.onnx");
        Assert.Contains("/dev/null", line);
        Assert.Contains("expected a directory", line);
    }
}
