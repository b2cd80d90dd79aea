using Sinapse.Vision;
using Sinapse.Cli.Commands;
using Sinapse.Data;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Cli;

/// <summary>predict's input convention (raw values, the model's transform applied once), --resize, --grayscale and its default top-1 line.</summary>
public class PredictCommandTests
{
    /// <summary>A small MLP trained on 28×28 IDX images, saved with its 1/255 scaling.</summary>
    private static string TrainedModel(TempDirectory run)
    {
        using var data = TrainResumeTests.SyntheticIdx(100, 20);
        CliRunner.Succeed("train", "--data", data.Path, "--model", "mlp", "--hidden", "8", "--epochs", "1", "--validation", "0", "--threads", "2", "--out", run.Path);
        return Path.Combine(run.Path, "model");
    }

    [Fact]
    public void InputsAlreadyScaledToZeroOneAreRefusedUnlessNormalizedIsGiven()
    {
        using var run = new TempDirectory();
        var model = TrainedModel(run);
        var scaled = Tensor.Uniform(new Shape(3, 1, 28, 28), 0f, 1f, new Rng(5));
        Npy.Write(run.File("scaled.npy"), scaled);

        var line = CliRunner.OneErrorLine("predict", "--model", model, "--input", run.File("scaled.npy"));
        Assert.Contains("expected raw values as the model was trained from (pixels 0-255), which its saved transform Scale(×0.00392157) rescales itself, found values all within [0, 1], already scaled", line);
        Assert.Contains("--normalized", line);
        // Given as what they are, the same values are predicted: one top-1 line per input, without --top or --output.
        var lines = CliRunner.Succeed("predict", "--model", model, "--input", run.File("scaled.npy"), "--normalized").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Matches(@"^2: \S+ \d+\.\d ?%\r?$", lines[2]);
        // Raw pixels (whole numbers) pass as before.
        Npy.Write(run.File("raw.npy"), Tensor.Full(new Shape(1, 28, 28), 255f));
        Assert.StartsWith("0: ", CliRunner.Succeed("predict", "--model", model, "--input", run.File("raw.npy")));
    }

    /// <summary>A min-max transform fitted on raw pixels scales down as 1/255 does; one fitted on values within [0, 1] does not, and its inputs pass.</summary>
    [Fact]
    public void AMinMaxTransformFittedOnRawPixelsRefusesScaledInputsToo()
    {
        using var run = new TempDirectory();
        var scaled = Tensor.FromArray([0f, 0.25f, 0.5f, 1f]);
        var onPixels = InputTransform.MinMax(perChannel: false).Fit(Tensor.FromArray([0f, 128f, 255f, 3f]).ReshapedTo(4, 1));
        Assert.Contains("already scaled", Assert.Throws<ArgumentException>(() => PredictCommand.RefuseScaledTwice("x.npy", scaled, onPixels)).Message);
        PredictCommand.RefuseScaledTwice("x.npy", Tensor.FromArray([0f, 1f, 255f]), onPixels);                               // raw pixels
        PredictCommand.RefuseScaledTwice("x.npy", scaled, InputTransform.MinMax(perChannel: false).Fit(scaled.ReshapedTo(4, 1)));   // trained on [0, 1]
        PredictCommand.RefuseScaledTwice("x.npy", scaled, InputTransform.Standardize().Fit(Tensor.FromArray([0f, 255f]).ReshapedTo(2, 1)));
    }

    [Fact]
    public void AnImageOfAnotherSizeIsResizedWithResize()
    {
        using var run = new TempDirectory();
        var model = TrainedModel(run);
        Images.SavePng(run.File("big.png"), Tensor.Uniform(new Shape(3, 40, 56), 0f, 255f, new Rng(2)), 0f, 255f);

        var line = CliRunner.OneErrorLine("predict", "--model", model, "--input", run.File("big.png"));
        Assert.Contains("the image is 56x40 pixels; the model expects 28x28", line);
        Assert.Contains("--resize", line);
        Assert.StartsWith("0: ", CliRunner.Succeed("predict", "--model", model, "--input", run.File("big.png"), "--resize"));
    }

    [Fact]
    public void GrayscaleReadsAColourImageAsLumaInEachChannel()
    {
        using var run = new TempDirectory();
        var colours = Tensor.Zeros(3, 2, 2);
        colours.Span[0] = 255f;                    // one red pixel
        Images.SavePng(run.File("red.png"), colours, 0f, 255f);

        var gray = PredictCommand.ReadInputs(run.File("red.png"), new Shape(3, 2, 2), grayscale: true);
        Assert.Equal(new Shape(1, 3, 2, 2), gray.Shape);
        float luma = 0.299f * 255f;
        Expect.Close(new[] { luma, 0, 0, 0, luma, 0, 0, 0, luma, 0, 0, 0 }, gray.ToArray(), 1e-3);
        Assert.Equal(255f, PredictCommand.ReadInputs(run.File("red.png"), new Shape(3, 2, 2)).Span[0]);
    }
}
