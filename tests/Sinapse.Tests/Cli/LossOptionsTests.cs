using System.CommandLine;
using Sinapse.Cli;
using Sinapse.Losses;
using Sinapse.Serialization;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Cli;

/// <summary>
/// The loss options of <c>sinapse train</c>, --label-smoothing and --class-weights: parsed in
/// process, and run as a user runs them (each session a new process).
/// </summary>
public class LossOptionsTests
{
    private static CrossEntropyLoss Build(int classes, params string[] arguments)
    {
        var options = new LossOptions();
        var command = new RootCommand();
        options.AddTo(command);
        var parse = command.Parse(arguments);
        Assert.Empty(parse.Errors);
        return options.Build(parse, classes);
    }

    [Fact]
    public void TheOptionsReachTheCrossEntropyLoss()
    {
        var plain = Build(3);
        Assert.Equal((0f, null), (plain.LabelSmoothing, plain.Weight));
        Assert.Equal(0.1f, Build(3, "--label-smoothing", "0.1").LabelSmoothing);
        Assert.Equal([1f, 2.5f, 0f], Build(3, "--class-weights", "1, 2.5,0").Weight!.ToArray());
        Assert.Equal("cross_entropy(0.1)", Build(3, "--label-smoothing", "0.1").Name);
    }

    [Theory]
    [InlineData("--label-smoothing", "1.5", "--label-smoothing must be in [0, 1], got 1.5")]
    [InlineData("--label-smoothing", "-0.1", "--label-smoothing must be in [0, 1], got -0.1")]
    [InlineData("--class-weights", "1,2", "--class-weights gives 2 weights, but the data has 3 classes")]
    [InlineData("--class-weights", "1,x,2", "'x' is not one")]
    [InlineData("--class-weights", "1,-2,2", "'-2' is not one")]
    public void BadValuesAreNamed(string option, string value, string message) =>
        Assert.Contains(message, Assert.Throws<ArgumentException>(() => Build(3, option, value)).Message);

    private static byte[] Weights(string run) => File.ReadAllBytes(Path.Combine(run, "model", SavedModel.WeightsFile));

    [Fact]
    public void TrainWithLabelSmoothingChangesTheRunAndResumesBitwise()
    {
        using var runs = new TempDirectory();
        string[] common = ["train", "--csv", TabularTrainingTests.BundledTable("wine.csv"), "--target", "class", "--batch-size", "16", "--threads", "2", "--epochs", "4"];
        string smoothed = runs.File("smoothed"), split = runs.File("split"), plain = runs.File("plain");
        Assert.Contains("label smoothing 0.1,", CliRunner.Succeed([.. common, "--label-smoothing", "0.1", "--out", smoothed]));
        CliRunner.Succeed([.. common, "--label-smoothing", "0.1", "--out", split, "--save-every", "2", "--stop-after", "2"]);
        Assert.Contains("Resuming", CliRunner.Succeed("train", "--resume", split));
        Assert.Equal(Weights(smoothed), Weights(split));
        Assert.DoesNotContain("label smoothing", CliRunner.Succeed([.. common, "--out", plain]));
        Assert.NotEqual(Weights(smoothed), Weights(plain));
        Assert.Contains("--label-smoothing must be in [0, 1], got 2", CliRunner.OneErrorLine([.. common, "--label-smoothing", "2", "--out", plain]));
    }

    [Fact]
    public void TrainWithClassWeightsNamesThemAndChecksTheirCount()
    {
        using var runs = new TempDirectory();
        string[] common = ["train", "--csv", TabularTrainingTests.BundledTable("wine.csv"), "--target", "class", "--batch-size", "16", "--threads", "2", "--epochs", "1"];
        Assert.Contains("class weights 1,3,0.5,", CliRunner.Succeed([.. common, "--class-weights", "1,3,0.5", "--out", runs.File("weighted")]));
        Assert.Contains("--class-weights gives 2 weights, but the data has 3 classes", CliRunner.OneErrorLine([.. common, "--class-weights", "1,3", "--out", runs.File("bad")]));
    }
}
