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
}
