using Sinapse.Cli.Commands;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Cli;

/// <summary><c>sinapse train</c>'s --normalize minmax with --minmax-range and --early-stopping.</summary>
public class TrainCommandTests
{
    [Fact]
    public void MinMaxRangeMapsTheTrainingSetsRangeOntoLowHigh()
    {
        // Per feature: the first column spans [0, 10], the second [2, 6].
        var features = Tensor.FromArray([0f, 5f, 10f, 2f, 4f, 6f], 3, 2);
        var transform = TrainCommand.ParseTransform("minmax", "-1,1").Fit(features);
        Assert.Equal((-1f, 1f), (transform.Low, transform.High));
        Expect.Close(new[] { -1f, 0.5f, 1f, -1f, -0.2f, 1f }, transform.Apply(features).ToArray(), 1e-6);
        Assert.Equal((0f, 1f), (TrainCommand.ParseTransform("minmax", null).Low, TrainCommand.ParseTransform("minmax", null).High));
    }

    [Theory]
    [InlineData("minmax", "1,-1", "--minmax-range needs LOW < HIGH, got 1,-1")]
    [InlineData("minmax", "-1", "--minmax-range takes two finite numbers LOW,HIGH such as -1,1, got '-1'")]
    [InlineData("minmax", "a,b", "--minmax-range takes two finite numbers LOW,HIGH such as -1,1, got 'a,b'")]
    [InlineData("standardize", "-1,1", "--minmax-range sets the range of --normalize minmax, not of 'standardize'")]
    public void BadMinMaxRangesAreRefused(string normalize, string range, string message) =>
        Assert.Contains(message, Assert.Throws<ArgumentException>(() => TrainCommand.ParseTransform(normalize, range)).Message);

    [Fact]
    public void TrainWithMinMaxRangeSavesTheRangeWithTheModel()
    {
        using var run = new TempDirectory();
        CliRunner.Succeed("train", "--csv", TabularTrainingTests.BundledTable("wine.csv"), "--target", "class", "--normalize", "minmax", "--minmax-range", "-1,1",
            "--epochs", "1", "--threads", "2", "--out", run.Path);
        var transform = Sinapse.Serialization.SavedModel.Load(Path.Combine(run.Path, "model")).Transform!;
        Assert.Equal((-1f, 1f), (transform.Low, transform.High));
    }

    /// <summary>
    /// At a rate of 1e-30 no weight moves (w − 1e-30·g rounds back to w), so the validation loss never improves after
    /// epoch 1 and a patience of 2 must stop the run after epoch 3 of 10.
    /// </summary>
    [Fact]
    public void EarlyStoppingEndsTheRunOnceTheValidationLossStopsImproving()
    {
        using var data = TrainResumeTests.SyntheticIdx(300);
        using var run = new TempDirectory();
        var output = CliRunner.Succeed("train", "--data", data.Path, "--model", "mlp", "--hidden", "16", "--optimizer", "sgd", "--lr", "1e-30", "--validation", "100",
            "--epochs", "10", "--early-stopping", "2", "--threads", "2", "--out", run.Path);
        Assert.Contains("early stopping: stopped after epoch 3; kept the weights of epoch 1", output);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(run.Path, "history.csv")).Length - 1);
        Assert.Contains("--early-stopping watches the validation loss", CliRunner.OneErrorLine("train", "--data", data.Path, "--validation", "0", "--early-stopping", "2"));
        Assert.Contains("patience of 0 or more epochs, got -1", CliRunner.OneErrorLine("train", "--data", data.Path, "--early-stopping", "-1"));
    }

    /// <summary>--limit N trains on the first N examples, holds a tenth of them out and tests on at most N.</summary>
    [Fact]
    public void LimitTrainsOnTheFirstNExamples()
    {
        using var data = TrainResumeTests.SyntheticIdx(600);
        using var run = new TempDirectory();
        var output = CliRunner.Succeed("train", "--data", data.Path, "--model", "mlp", "--hidden", "8", "--epochs", "1", "--limit", "50", "--threads", "2", "--out", run.Path);
        Assert.Contains("on 45 examples", output);
        Assert.Contains("(5 validation, 50 test)", output);
        Assert.Contains("on 40 examples", CliRunner.Succeed("train", "--data", data.Path, "--model", "mlp", "--hidden", "8", "--epochs", "1", "--limit", "50",
            "--validation", "10", "--threads", "2", "--out", run.Path));
        Assert.Contains("--limit must be at least 1 example, got 0", CliRunner.OneErrorLine("train", "--data", data.Path, "--limit", "0"));
    }
}
