using System.Diagnostics;
using Sinapse.Cli;
using Sinapse.Data;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Cli;

/// <summary>Resuming from a checkpoint ends with the weights of one uninterrupted run, through the command line, each session a new process.</summary>
public class TrainResumeTests
{
    /// <summary>Small MNIST-shaped IDX files whose classes can be told apart.</summary>
    internal static TempDirectory SyntheticIdx(int train, int test = 100)
    {
        var directory = new TempDirectory();
        var rng = new Rng(3);
        foreach (var (images, labels, count) in new[] { (Mnist.TrainImages, Mnist.TrainLabels, train), (Mnist.TestImages, Mnist.TestLabels, test) })
        {
            var x = Tensor.Uniform(new Shape(count, 28, 28), 0, 60, rng);
            var y = Tensor.Zeros(count);
            for (int i = 0; i < count; i++)
            {
                int label = rng.NextInt(10);
                y.Span[i] = label;
                for (int r = 2 * label; r < 2 * label + 6; r++)
                    for (int c = 4; c < 20; c++) x.Span[(i * 28 + r) * 28 + c] += 150;
            }
            for (int i = 0; i < x.Length; i++) x.Span[i] = MathF.Floor(x.Span[i]);
            Idx.Write(directory.File(images), x);
            Idx.Write(directory.File(labels), y);
        }
        return directory;
    }

    private static string[] Options(string data, string output, int epochs, params string[] more) => Options(data, output, epochs, 32, more);

    private static string[] Options(string data, string output, int epochs, int hidden, params string[] more) =>
        ["train", "--data", data, "--model", "mlp", "--hidden", hidden.ToString(System.Globalization.CultureInfo.InvariantCulture), "--dropout", "0.2", "--optimizer", "adam", "--schedule", "cosine",
         "--validation", "100", "--batch-size", "32", "--threads", "2", "--epochs", epochs.ToString(System.Globalization.CultureInfo.InvariantCulture), "--out", output, .. more];

    private static byte[] Weights(string run) => File.ReadAllBytes(Path.Combine(run, "model", SavedModel.WeightsFile));

    [Theory]
    [InlineData("fp32")]
    [InlineData("fp16")]   // the resumed session must train in fp16 again (the scaler's state: CheckpointTests)
    public void ThreePlusThreeEpochsInTwoProcessesEqualSixInOne(string precision)
    {
        using var data = SyntheticIdx(600);
        using var runs = new TempDirectory();
        string whole = runs.File("whole"), split = runs.File("split");
        CliRunner.Succeed(Options(data.Path, whole, 6, "--precision", precision));
        CliRunner.Succeed(Options(data.Path, split, 6, "--precision", precision, "--save-every", "3", "--stop-after", "3"));
        Assert.Equal([3], Checkpoint.List(Path.Combine(split, "checkpoints")).Select(c => c.Epoch));
        var output = CliRunner.Succeed("train", "--resume", split);
        Assert.Contains("Resuming", output);
        Assert.Equal(Weights(whole), Weights(split));
        Assert.Equal(File.ReadAllLines(Path.Combine(whole, "history.csv")).Select(Losses), File.ReadAllLines(Path.Combine(split, "history.csv")).Select(Losses));
    }

    /// <summary>The losses and accuracies of a history.csv line, without the timings.</summary>
    private static string Losses(string line) => string.Join(',', line.Split(',').Take(5));

    [Fact]
    public void KilledMidRunItResumesFromTheNewestIntactCheckpoint()
    {
        using var data = SyntheticIdx(6000);
        using var runs = new TempDirectory();
        string whole = runs.File("whole"), killed = runs.File("killed");
        using (var process = Process.Start(SinapseProcess.StartInfo(Options(data.Path, killed, 8, 128, "--save-every", "1", "--keep", "2")))
            ?? throw new InvalidOperationException("could not start the sinapse process"))
        {
            var first = Path.Combine(killed, "checkpoints", Checkpoint.DirectoryName(1), Checkpoint.ManifestFile);
            var clock = Stopwatch.StartNew();
            while (!File.Exists(first) && !process.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(5);
            Assert.True(File.Exists(first), "no checkpoint appeared: " + (process.HasExited ? process.StandardError.ReadToEnd() : "timed out"));
            Assert.False(process.HasExited, "the run finished before it could be killed; make its epochs longer");
            process.Kill(entireProcessTree: true); // SIGKILL: no chance to clean up
            process.WaitForExit();
        }
        var root = Path.Combine(killed, "checkpoints");
        var visible = Checkpoint.List(root);
        Assert.NotEmpty(visible);
        foreach (var (_, directory) in visible) Checkpoint.Load(directory); // every visible checkpoint is whole
        Assert.False(File.Exists(Path.Combine(killed, "model", SavedModel.WeightsFile)));

        var output = CliRunner.Succeed("train", "--resume", killed);
        Assert.Contains("Resuming", output);
        CliRunner.Succeed(Options(data.Path, whole, 8, 128));
        Assert.Equal(Weights(whole), Weights(killed));
    }
}
