using System.CommandLine;
using Sinapse.Cli;
using Sinapse.Optimizers;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Cli;

/// <summary>
/// The optimizer options of <c>sinapse train</c>: --weight-decay's per-optimizer default, --dampening and
/// --amsgrad, parsed in process and run as a user runs them (each session a new process).
/// </summary>
public class OptimizerOptionsTests
{
    private static Optimizer Build(params string[] arguments)
    {
        var options = new OptimizerOptions();
        var command = new RootCommand();
        options.AddTo(command);
        var parse = command.Parse(arguments);
        Assert.Empty(parse.Errors);
        return options.Build(parse, [Tensor.Zeros(3)]);
    }

    [Theory]
    [InlineData("adamw", null, 0.01f)]
    [InlineData("adamw", "0", 0f)]
    [InlineData("adamw", "0.2", 0.2f)]
    [InlineData("adam", null, 0f)]
    [InlineData("sgd", null, 0f)]
    [InlineData("rmsprop", "0.1", 0.1f)]
    public void WeightDecayIsTheOptimizersDefaultUnlessGiven(string optimizer, string? weightDecay, float expected)
    {
        string[] arguments = weightDecay == null ? ["--optimizer", optimizer] : ["--optimizer", optimizer, "--weight-decay", weightDecay];
        Assert.Equal(expected, Build(arguments).Groups[0].WeightDecay);
    }

    [Fact]
    public void DampeningReachesTheMomentumOptimizersAndIsRefusedElsewhere()
    {
        Assert.Equal(0.3f, Assert.IsType<Sgd>(Build("--optimizer", "momentum", "--dampening", "0.3")).Dampening);
        Assert.Equal(0f, Assert.IsType<Sgd>(Build("--optimizer", "momentum")).Dampening);
        Assert.Contains("no dampening", Assert.Throws<ArgumentException>(() => Build("--optimizer", "nesterov", "--dampening", "0.3")).Message);
        Assert.Contains("--optimizer adam has none", Assert.Throws<ArgumentException>(() => Build("--optimizer", "adam", "--dampening", "0.3")).Message);
        Assert.Contains("--optimizer sgd has none", Assert.Throws<ArgumentException>(() => Build("--optimizer", "sgd", "--dampening", "0.3")).Message);
    }

    [Fact]
    public void AmsgradReachesAdamAndAdamWAndIsRefusedElsewhere()
    {
        Assert.True(Assert.IsType<Adam>(Build("--optimizer", "adam", "--amsgrad")).Amsgrad);
        var adamW = Assert.IsType<Adam>(Build("--optimizer", "adamw", "--amsgrad"));
        Assert.True(adamW.Amsgrad && adamW.Decoupled);
        Assert.False(Assert.IsType<Adam>(Build("--optimizer", "adam")).Amsgrad);
        Assert.Contains("not of --optimizer rmsprop", Assert.Throws<ArgumentException>(() => Build("--optimizer", "rmsprop", "--amsgrad")).Message);
    }

    [Fact]
    public void MomentumFormReachesTheMomentumOptimizersAndIsRefusedElsewhere()
    {
        Assert.Equal(MomentumForm.Course, Assert.IsType<Sgd>(Build("--optimizer", "momentum", "--momentum-form", "course")).Form);
        Assert.Equal(MomentumForm.Course, Assert.IsType<Sgd>(Build("--optimizer", "nesterov", "--momentum-form", "Course")).Form);
        Assert.Equal(MomentumForm.PyTorch, Assert.IsType<Sgd>(Build("--optimizer", "momentum", "--momentum-form", "pytorch")).Form);
        Assert.Equal(MomentumForm.PyTorch, Assert.IsType<Sgd>(Build("--optimizer", "momentum")).Form);
        Assert.Contains("Expected course or pytorch", Assert.Throws<ArgumentException>(() => Build("--optimizer", "momentum", "--momentum-form", "keras")).Message);
        Assert.Contains("--optimizer adam has none", Assert.Throws<ArgumentException>(() => Build("--optimizer", "adam", "--momentum-form", "course")).Message);
    }

    /// <summary>
    /// At a constant rate the two forms take the same steps; under a decaying schedule the course's velocity keeps the
    /// old rate in μv while PyTorch's buffer rescales all of it, so the trained weights differ.
    /// </summary>
    [Fact]
    public void TrainWithTheCourseMomentumFormDiffersFromPyTorchsOnceTheRateDecays()
    {
        using var runs = new TempDirectory();
        string[] common = ["--csv", TabularTrainingTests.BundledTable("wine.csv"), "--target", "class", "--optimizer", "momentum", "--schedule", "linear",
                           "--batch-size", "16", "--threads", "2"];
        string course = runs.File("course"), pytorch = runs.File("pytorch");
        Assert.Contains("course momentum form", Train(course, 2, 0, [.. common, "--momentum-form", "course"]));
        Train(pytorch, 2, 0, common);
        Assert.NotEqual(Weights(course), Weights(pytorch));
    }

    private static byte[] Weights(string run) => File.ReadAllBytes(Path.Combine(run, "model", SavedModel.WeightsFile));

    /// <summary>
    /// A run of <paramref name="epochs"/> epochs, whole or stopped after <paramref name="stopAfter"/> and resumed in a
    /// second process; returns the first session's output.
    /// </summary>
    private static string Train(string output, int epochs, int stopAfter, string[] common)
    {
        string[] run = ["train", .. common, "--epochs", $"{epochs}", "--out", output];
        if (stopAfter == 0) return CliRunner.Succeed(run);
        var first = CliRunner.Succeed([.. run, "--save-every", $"{stopAfter}", "--stop-after", $"{stopAfter}"]);
        Assert.Contains("Resuming", CliRunner.Succeed("train", "--resume", output));
        return first;
    }

    [Fact]
    public void TrainWithAmsgradKeepsItsMaximumInTheCheckpointAndResumesBitwise()
    {
        using var data = TrainResumeTests.SyntheticIdx(600);
        using var runs = new TempDirectory();
        string[] common = ["--data", data.Path, "--model", "mlp", "--hidden", "32", "--optimizer", "adamw", "--amsgrad", "--validation", "100", "--batch-size", "32", "--threads", "2"];
        string whole = runs.File("whole"), split = runs.File("split");
        var header = Train(whole, 4, 0, common);
        Assert.Contains("adamw lr 0.001, weight decay 0.01, amsgrad", header);
        Train(split, 4, 2, common);
        var checkpoint = Checkpoint.Load(Checkpoint.List(Path.Combine(split, "checkpoints")).Single(c => c.Epoch == 2).Directory);
        Assert.All(checkpoint.Optimizer.Parameters, buffers => Assert.Contains("max_exp_avg_sq", buffers.Keys));
        Assert.Equal(Weights(whole), Weights(split));
        Assert.Contains("--amsgrad is a variant of adam and adamw", CliRunner.OneErrorLine("train", "--optimizer", "sgd", "--amsgrad"));
    }

    [Fact]
    public void TrainWithDampeningChangesTheRunAndResumesBitwise()
    {
        using var runs = new TempDirectory();
        string[] common = ["--csv", TabularTrainingTests.BundledTable("wine.csv"), "--target", "class", "--optimizer", "momentum", "--batch-size", "16", "--threads", "2"];
        string whole = runs.File("whole"), split = runs.File("split"), undamped = runs.File("undamped");
        Assert.Contains("momentum lr 0.01, dampening 0.5", Train(whole, 4, 0, [.. common, "--dampening", "0.5"]));
        Train(split, 4, 2, [.. common, "--dampening", "0.5"]);
        Assert.Equal(Weights(whole), Weights(split));
        Train(undamped, 4, 0, common);
        Assert.NotEqual(Weights(whole), Weights(undamped));
        Assert.Contains("no dampening", CliRunner.OneErrorLine("train", "--optimizer", "nesterov", "--dampening", "0.5"));
    }
}
