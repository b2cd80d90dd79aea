using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Cli;

/// <summary>evaluate, predict and summary on a model directory that train wrote.</summary>
public class ModelCommandsTests
{
    [Fact]
    public void AZooMobileNetTrainsOnImagesAndIsSummarisedBlockByBlock()
    {
        using var data = TrainResumeTests.SyntheticIdx(64, 16);
        using var run = new TempDirectory();
        CliRunner.Succeed("train", "--data", data.Path, "--model", "mobilenet_v3_small", "--width", "0.25", "--epochs", "1", "--batch-size", "16", "--validation", "0", "--out", run.Path);
        var summary = CliRunner.Succeed("summary", "--model", Path.Combine(run.Path, "model"));
        Assert.Contains("features.11", summary);
        Assert.Contains("InvertedResidual(", summary);
        Assert.Contains("classifier.3", summary);
    }

    [Fact]
    public void BatchNormEpsAndMomentumReachEveryBatchNormLayer()
    {
        var mlp = CliRunner.Succeed("summary", "--model", "mlp", "--batch-norm", "--batch-norm-eps", "0.001", "--batch-norm-momentum", "0.01");
        Assert.Equal(3, mlp.Split('\n').Count(line => line.Contains("BatchNorm1d") && line.Contains("eps=0.001, momentum=0.01")));
        var mobileNet = CliRunner.Succeed("summary", "--model", "mobilenet_v2", "--width", "0.25", "--batch-norm-eps", "0.002");
        var batchNorms = mobileNet.Split('\n').Where(line => line.Contains("BatchNorm2d")).ToList();
        Assert.NotEmpty(batchNorms);
        Assert.All(batchNorms, line => Assert.Contains("eps=0.002", line));
    }

    [Fact]
    public void SummaryOfAZooArchitectureUsesImageNetsInputByDefault()
    {
        var summary = CliRunner.Succeed("summary", "--model", "mobilenet_v2", "--classes", "1000");
        Assert.Contains("[1, 3, 224, 224]", summary);
        Assert.Contains("features.17", summary);
        Assert.Contains("Total parameters: 3,504,872", summary);
    }

    /// <summary>A small MLP trained for two epochs on the IDX data in <paramref name="data"/>, written under <paramref name="run"/>; its model directory.</summary>
    internal static string TrainMlp(string data, string run)
    {
        CliRunner.Succeed("train", "--data", data, "--model", "mlp", "--hidden", "16", "--epochs", "2", "--validation", "0", "--out", run);
        return Path.Combine(run, "model");
    }

    [Fact]
    public void EvaluatePredictAndSummaryReadTheTrainedModel()
    {
        using var data = TrainResumeTests.SyntheticIdx(300, 50);
        using var run = new TempDirectory();
        var model = TrainMlp(data.Path, run.Path);

        var evaluation = CliRunner.Succeed("evaluate", "--model", model, "--data", data.Path);
        Assert.Contains("accuracy:", evaluation);
        Assert.Contains("confusion matrix", evaluation);

        var summary = CliRunner.Succeed("summary", "--model", model);
        Assert.Contains("Trainable parameters: 12,730", summary);
        Assert.Contains("Input transform: Scale", summary);

        var inputs = Tensor.Uniform(new Shape(3, 1, 28, 28), 0, 255, new Rng(1));
        Npy.Write(run.File("in.npy"), inputs);
        var predicted = CliRunner.Succeed("predict", "--model", model, "--input", run.File("in.npy"), "--output", run.File("out.npy"), "--top", "2");
        Assert.Contains("2: ", predicted);
        var probabilities = Npy.Read(run.File("out.npy"));
        Assert.Equal(new Shape(3, 10), probabilities.Shape);
        Assert.Equal(1f, probabilities.ToArray()[..10].Sum(), 4);

        File.WriteAllText(run.File("in.csv"), string.Join(',', Enumerable.Range(0, 784).Select(i => $"p{i}")) + "\n" + string.Join(',', inputs.ToArray()[..784]) + "\n");
        CliRunner.Succeed("predict", "--model", model, "--input", run.File("in.csv"), "--output", run.File("out.csv"));
        var lines = File.ReadAllLines(run.File("out.csv"));
        Assert.Equal(2, lines.Length);
        // One row alone may take another GEMM path than the batch of three: equal to rounding.
        var fromCsv = lines[1].Split(',')[..10].Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        for (int c = 0; c < 10; c++) Assert.Equal(probabilities.Span[c], fromCsv[c], 5);
    }
}
