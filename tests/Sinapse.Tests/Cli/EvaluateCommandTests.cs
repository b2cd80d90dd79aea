using Sinapse.Vision;
using Sinapse.Cli.Commands;
using Sinapse.Data;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Cli;

/// <summary>evaluate on a CSV table (--csv, --target) and on a folder of class folders (--images).</summary>
public class EvaluateCommandTests
{
    [Fact]
    public void EvaluatesAModelTrainedOnATableOnItsCsv()
    {
        using var run = new TempDirectory();
        var wine = TabularTrainingTests.BundledTable("wine.csv");
        CliRunner.Succeed("train", "--csv", wine, "--target", "class", "--epochs", "20", "--batch-size", "16", "--threads", "2", "--out", run.Path);
        var model = Path.Combine(run.Path, "model");

        var output = CliRunner.Succeed("evaluate", "--model", model, "--csv", wine, "--target", "class");
        Assert.Contains("178 rows from", output);
        var accuracy = double.Parse(output.Split('\n').Single(l => l.StartsWith("accuracy:"))["accuracy:".Length..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(accuracy >= 0.85, $"accuracy {accuracy}");
        // Without a table, the MNIST default cannot fit the model: the error says what to give.
        Assert.Contains("the model takes examples of shape [13], the test set has [1, 28, 28]; give --csv FILE --target COLUMN",
            CliRunner.OneErrorLine("evaluate", "--model", model));
        Assert.Contains("--csv needs --target COLUMN", CliRunner.OneErrorLine("evaluate", "--model", model, "--csv", wine));
        Assert.Contains("Give one test set, not --csv and --images", CliRunner.OneErrorLine("evaluate", "--model", model, "--csv", wine, "--target", "class", "--images", run.Path));
    }

    [Fact]
    public void EvaluatesOnAFolderOfClassFolders()
    {
        using var data = TrainResumeTests.SyntheticIdx(200, 20);
        using var run = new TempDirectory();
        CliRunner.Succeed("train", "--data", data.Path, "--model", "mlp", "--hidden", "16", "--epochs", "2", "--validation", "0", "--threads", "2", "--out", run.Path);
        // The synthetic test images, as PNG files in folders named after their class.
        var (_, test) = Mnist.Load(data.Path);
        var folder = Path.Combine(run.Path, "images");
        for (int i = 0; i < test.Count; i++)
        {
            var directory = Path.Combine(folder, ((int)test.Targets.Span[i]).ToString(System.Globalization.CultureInfo.InvariantCulture));
            Directory.CreateDirectory(directory);
            Images.SavePng(Path.Combine(directory, $"{i}.png"), test.Features[i..(i + 1)].ReshapedTo([1, 28, 28]), 0f, 255f);
        }

        var output = CliRunner.Succeed("evaluate", "--model", Path.Combine(run.Path, "model"), "--images", folder);
        Assert.Contains($"{test.Count} test examples from {folder}", output);
        Assert.Contains("accuracy:", output);
    }

    [Fact]
    public void TestLabelsAreRenumberedAsTheModelNumbersItsClasses()
    {
        var test = new Dataset(Tensor.Zeros(2, 3), Tensor.FromArray([0f, 1f]), 2, ["cat", "emu"]);
        var aligned = EvaluateCommand.InModelClasses(test, ["ant", "cat", "dog", "emu"], "pets");
        Assert.Equal([1f, 3f], aligned.Targets.ToArray());
        Assert.Equal(4, aligned.ClassCount);
        var error = Assert.Throws<ArgumentException>(() => EvaluateCommand.InModelClasses(test, ["ant", "cat"], "pets"));
        Assert.Equal("pets: expected the model's classes (ant, cat), found class 'emu'.", error.Message);
    }
}
