using System.Diagnostics;
using System.Globalization;
using Sinapse.Cli;
using Sinapse.Data;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Cli;

/// <summary>Whatever interrupts or hinders <c>sinapse train</c>, the work it has done is kept or it stops before doing any.</summary>
public class TrainNothingLostTests
{
    private static string[] Options(string data, string output, int epochs, params string[] more) =>
        ["train", "--data", data, "--model", "mlp", "--hidden", "16", "--optimizer", "adam", "--validation", "100", "--batch-size", "32",
         "--threads", "1", "--epochs", epochs.ToString(CultureInfo.InvariantCulture), "--out", output, .. more];

    private static string WeightsFile(string run) => Path.Combine(run, "model", SavedModel.WeightsFile);

    [Fact]
    public void TheModelIsWrittenBeforeTheTestEvaluation()
    {
        using var data = TrainResumeTests.SyntheticIdx(300);
        // A test label the model has no output for makes the evaluation fail, after training.
        var labels = Idx.Read(data.File(Mnist.TestLabels));
        labels.Span[0] = 12;
        Idx.Write(data.File(Mnist.TestLabels), labels);
        using var runs = new TempDirectory();
        var (exitCode, _, error) = CliRunner.Run(Options(data.Path, runs.Path, 1));
        Assert.NotEqual(0, exitCode);
        Assert.Contains("labels go up to 12", error);
        Assert.True(File.Exists(WeightsFile(runs.Path)), "the trained model was lost");
        SavedModel.Load(Path.Combine(runs.Path, "model"));
    }

    [Theory]
    [InlineData("/dev/null")]
    [InlineData("a-file/results")]
    [InlineData("a-file")]
    public void AnUnwritableOutIsFoundBeforeTraining(string output)
    {
        using var data = TrainResumeTests.SyntheticIdx(300);
        using var runs = new TempDirectory();
        File.WriteAllText(runs.File("a-file"), "not a directory");
        var path = output.StartsWith('/') ? output : runs.File(output);
        var (exitCode, stdout, error) = CliRunner.Run(Options(data.Path, path, 1));
        Assert.Equal(1, exitCode);
        Assert.DoesNotContain("Training", stdout);
        Assert.StartsWith($"error: --out {path} ", error);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void ResumingAFinishedRunWhoseModelWasNeverWrittenWritesItAndSaysSo()
    {
        using var data = TrainResumeTests.SyntheticIdx(300);
        using var runs = new TempDirectory();
        CliRunner.Succeed(Options(data.Path, runs.Path, 2, "--save-every", "1"));
        var written = File.ReadAllBytes(WeightsFile(runs.Path));
        // As if killed between the last checkpoint and model/.
        Directory.Delete(Path.Combine(runs.Path, "model"), recursive: true);

        var output = CliRunner.Succeed("train", "--resume", runs.Path);
        Assert.Contains("finished training (epoch 2 of 2)", output);
        Assert.Contains("was never written; writing it from the checkpoint", output);
        Assert.Equal(written, File.ReadAllBytes(WeightsFile(runs.Path)));
        // With model/ in place the run is complete, and resuming it again is refused as before.
        Assert.Contains("already at epoch 2 of 2", CliRunner.OneErrorLine("train", "--resume", runs.Path));
    }

    [Fact]
    public void LeftoversOfAnInterruptedCheckpointWriteAreRemovedAtTheNextStart()
    {
        using var data = TrainResumeTests.SyntheticIdx(300);
        using var runs = new TempDirectory();
        CliRunner.Succeed(Options(data.Path, runs.Path, 2, "--save-every", "1", "--stop-after", "1"));
        var checkpoints = Path.Combine(runs.Path, "checkpoints");
        var leftover = Directory.CreateDirectory(Path.Combine(checkpoints, $".{Checkpoint.DirectoryName(2)}.{Guid.NewGuid():N}.tmp")).FullName;
        File.WriteAllText(Path.Combine(leftover, SavedModel.WeightsFile), "cut short");

        var output = CliRunner.Succeed("train", "--resume", runs.Path);
        Assert.Contains($"Removed {Path.GetFileName(leftover)}", output);
        Assert.Empty(Directory.GetDirectories(checkpoints, ".*"));
    }

    [Fact]
    public void AFallbackToAnOlderCheckpointIsAnnouncedWithItsReason()
    {
        using var data = TrainResumeTests.SyntheticIdx(300);
        using var runs = new TempDirectory();
        CliRunner.Succeed(Options(data.Path, runs.Path, 3, "--save-every", "1", "--stop-after", "2"));
        var newest = Path.Combine(runs.Path, "checkpoints", Checkpoint.DirectoryName(2), Checkpoint.OptimizerFile);
        var bytes = File.ReadAllBytes(newest);
        bytes[^1] ^= 0x40;
        File.WriteAllBytes(newest, bytes);

        var output = CliRunner.Succeed("train", "--resume", runs.Path);
        Assert.Contains($"Passed over the newer checkpoint {Checkpoint.DirectoryName(2)}: ", output);
        Assert.Contains("is corrupted", output);
        Assert.Contains("after epoch 1", output);
    }

    [Fact]
    public void ARunStartedWithRelativePathsResumesFromAnotherDirectory()
    {
        using var data = TrainResumeTests.SyntheticIdx(300);
        using var runs = new TempDirectory();
        Directory.CreateDirectory(runs.File("elsewhere"));
        Directory.CreateSymbolicLink(runs.File("data"), data.Path);
        // --data and --out relative to the first session's working directory.
        Run(runs.Path, Options("data", "run", 2, "--save-every", "1", "--stop-after", "1"));
        var output = Run(runs.File("elsewhere"), ["train", "--resume", runs.File("run")]);
        Assert.Contains("Resuming", output);
        Assert.True(File.Exists(WeightsFile(runs.File("run"))));
        Assert.False(Directory.Exists(Path.Combine(runs.File("elsewhere"), "run")));
    }

    /// <summary><c>sinapse ARGS</c> in <paramref name="workingDirectory"/>, which must succeed; returns its output.</summary>
    private static string Run(string workingDirectory, string[] arguments)
    {
        var start = SinapseProcess.StartInfo(arguments);
        start.WorkingDirectory = workingDirectory;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "timed out");
        Assert.True(process.ExitCode == 0, $"sinapse {string.Join(' ', arguments)} failed:\n{output.Result}\n{error.Result}");
        return output.Result;
    }

    /// <summary>
    /// SIGKILL at a different moment of each session, most often inside a checkpoint write: every
    /// checkpoint left visible verifies, and the run resumed after the last kill ends with the
    /// weights of a run never interrupted.
    /// </summary>
    [Fact]
    public void KilledAgainAndAgainDuringCheckpointWritesItEndsAsAnUninterruptedRun()
    {
        using var data = TrainResumeTests.SyntheticIdx(600);
        using var runs = new TempDirectory();
        string whole = runs.File("whole"), killed = runs.File("killed");
        var root = Path.Combine(killed, "checkpoints");
        const int epochs = 30;
        var random = new Random(5);
        int kills = 0;
        for (int session = 0; session < 5; session++)
        {
            var arguments = session == 0 ? Options(data.Path, killed, epochs, "--save-every", "1", "--keep", "2") : ["train", "--resume", killed];
            int before = Checkpoint.List(root).Select(c => c.Epoch).DefaultIfEmpty(0).Max();
            using var process = Process.Start(SinapseProcess.StartInfo(arguments))!;
            var clock = Stopwatch.StartNew();
            // Killed just after a new checkpoint appears, a few milliseconds into the next epoch's write or training.
            while (!process.HasExited && Checkpoint.List(root).Select(c => c.Epoch).DefaultIfEmpty(0).Max() <= before && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(1);
            Thread.Sleep(random.Next(0, 25));
            if (process.HasExited) break;
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            kills++;
            foreach (var (_, directory) in Checkpoint.List(root)) Checkpoint.Load(directory);
        }
        Assert.Equal(5, kills);
        Assert.True(Checkpoint.List(root).Max(c => c.Epoch) < epochs, "the run finished before the last kill");
        CliRunner.Succeed("train", "--resume", killed);
        Assert.Empty(Directory.GetDirectories(root, ".*"));
        CliRunner.Succeed(Options(data.Path, whole, epochs));
        Assert.Equal(File.ReadAllBytes(WeightsFile(whole)), File.ReadAllBytes(WeightsFile(killed)));
    }
}
