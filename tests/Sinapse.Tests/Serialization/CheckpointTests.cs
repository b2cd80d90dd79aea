using Sinapse.Data;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Optimizers.Schedules;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Tests.Support;
using Sinapse.Training;

namespace Sinapse.Tests.Serialization;

public class CheckpointTests
{
    private static Dataset Data()
    {
        var rng = new Rng(5);
        var x = Tensor.Uniform(new Shape(96, 6), -1, 1, rng);
        var y = Tensor.Zeros(96);
        for (int i = 0; i < 96; i++) y.Span[i] = x.Span[i * 6] + x.Span[i * 6 + 1] > 0 ? 1 : i % 3 == 0 ? 2 : 0;
        return new Dataset(x, y, 3);
    }

    private static (Trainer Trainer, DataLoader Loader, Rng Rng) Run(bool float16 = false)
    {
        var rng = new Rng(11);
        var model = Mlp.Create(6, [8], 3, new BlockOptions(Dropout: 0.3f, BatchNorm: true, Rng: rng));
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Adam(model.Parameters(), 0.01f));
        var loader = new DataLoader(Data(), 16, rng: rng);
        trainer.Scheduler = new LearningRateScheduler(trainer.Optimizer, new CosineSchedule(6 * loader.BatchesPerEpoch));
        // A short growth interval, so the scale moves during the run and resuming must restore it.
        if (float16) (trainer.Precision, trainer.LossScaler) = (Precision.Float16, new LossScaler(initialScale: 1 << 24, growthInterval: 4));
        return (trainer, loader, rng);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ThreePlusThreeEpochsEqualSixBitwise(bool float16)
    {
        using var directory = new TempDirectory();
        var (whole, wholeLoader, _) = Run(float16);
        whole.Fit(wholeLoader, 6);

        var (first, firstLoader, firstRng) = Run(float16);
        first.Callbacks.Add(new CheckpointCallback(directory.Path, 3, new Dictionary<string, Rng> { ["run"] = firstRng }, new Shape(6), keep: 1));
        first.Callbacks.Add(new StopAt(3));
        first.Fit(firstLoader, 6);

        var (second, secondLoader, secondRng) = Run(float16);
        var checkpoint = Checkpoint.FindLatest(directory.Path);
        Assert.Equal(3, checkpoint.Epoch);
        var history = checkpoint.Restore(second, new Dictionary<string, Rng> { ["run"] = secondRng });
        second.Fit(secondLoader, 6, null, history);

        Assert.Equal(6, second.History.Epochs.Count);
        Assert.Equal(whole.History.StepLosses, second.History.StepLosses);
        foreach (var ((name, a), (_, b)) in whole.Model.StateDict().Zip(second.Model.StateDict()))
            Assert.True(a.ToArray().SequenceEqual(b.ToArray()), name);
        Assert.Equal(whole.LossScaler?.StateDict(), second.LossScaler?.StateDict());
        if (float16) Assert.True(whole.LossScaler!.SkippedSteps > 0 && whole.LossScaler.Scale != 1 << 24, "the scale must have moved");
    }

    [Fact]
    public void ACheckpointResumesOnlyInItsPrecisionAndWithItsLossScaling()
    {
        using var directory = new TempDirectory();
        var (first, loader, rng) = Run(float16: true);
        first.Callbacks.Add(new CheckpointCallback(directory.Path, 1, new Dictionary<string, Rng> { ["run"] = rng }, new Shape(6)));
        first.Fit(loader, 1);
        var checkpoint = Checkpoint.FindLatest(directory.Path);
        Assert.Equal(Precision.Float16, checkpoint.Precision);
        var rngs = new Dictionary<string, Rng> { ["run"] = rng };
        var error = Assert.Throws<InvalidDataException>(() => checkpoint.Restore(Run().Trainer, rngs));
        Assert.Contains("trained in fp16, this run trains in fp32", error.Message);
        var unscaled = Run(float16: true).Trainer;
        unscaled.LossScaler = null;
        Assert.Contains("with loss scaling", Assert.Throws<InvalidDataException>(() => checkpoint.Restore(unscaled, rngs)).Message);
    }

    private sealed class StopAt(int epoch) : Callback
    {
        public override void OnEpochEnd(Trainer trainer, EpochRecord record) => trainer.StopRequested |= record.Epoch >= epoch;
    }

    [Fact]
    public void KeepsTheLastKAndSkipsACorruptNewest()
    {
        using var directory = new TempDirectory();
        var (trainer, loader, rng) = Run();
        trainer.Callbacks.Add(new CheckpointCallback(directory.Path, 1, new Dictionary<string, Rng> { ["run"] = rng }, new Shape(6), keep: 2));
        trainer.Fit(loader, 4);
        Assert.Equal([3, 4], Checkpoint.List(directory.Path).Select(c => c.Epoch));
        Assert.Empty(Directory.GetDirectories(directory.Path, ".*"));

        var newest = Path.Combine(directory.Path, Checkpoint.DirectoryName(4), Checkpoint.OptimizerFile);
        var bytes = File.ReadAllBytes(newest);
        bytes[^1] ^= 0x40;
        File.WriteAllBytes(newest, bytes);
        Assert.Contains("corrupted", Assert.Throws<InvalidDataException>(() => Checkpoint.Load(Path.GetDirectoryName(newest)!)).Message);
        Assert.Equal(3, Checkpoint.FindLatest(directory.Path).Epoch);
    }

    /// <summary>The manifest is not checksummed: an edited one must still give a clear error, never a crash or a silent negative rate.</summary>
    [Theory]
    [InlineData("run-word", typeof(InvalidDataException))]
    [InlineData("negative-rate", typeof(ArgumentException))]
    [InlineData("negative-steps", typeof(ArgumentException))]
    public void AnEditedManifestIsRefusedWithAClearError(string edit, Type expected)
    {
        using var directory = new TempDirectory();
        var (trainer, loader, rng) = Run();
        var rngs = new Dictionary<string, Rng> { ["run"] = rng };
        trainer.Callbacks.Add(new CheckpointCallback(directory.Path, 1, rngs, new Shape(6)));
        trainer.Fit(loader, 1);
        var manifestPath = Path.Combine(directory.Path, Checkpoint.DirectoryName(1), Checkpoint.ManifestFile);
        var manifest = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifestPath))!.AsObject();
        switch (edit)
        {
            case "run-word": manifest["rngs"]!["run"]![0] = "FFFFFFFFFFFFFFFFFFFF"; break;
            case "negative-rate": manifest["optimizer"]!["groups"]![0]!["learningRate"] = -1f; break;
            case "negative-steps": manifest["optimizer"]!["stepCount"] = -5; break;
        }
        File.WriteAllText(manifestPath, manifest.ToJsonString());

        var error = Record.Exception(() => Checkpoint.Load(Path.GetDirectoryName(manifestPath)!).Restore(Run().Trainer, rngs));
        Assert.NotNull(error);
        Assert.IsType(expected, error);
    }

    [Fact]
    public void AManifestLargerThanTheLimitIsRefusedBeforeParsing()
    {
        using var directory = new TempDirectory();
        var (trainer, loader, rng) = Run();
        trainer.Callbacks.Add(new CheckpointCallback(directory.Path, 1, new Dictionary<string, Rng> { ["run"] = rng }, new Shape(6)));
        trainer.Fit(loader, 1);
        var saved = Checkpoint.FindLatest(directory.Path).Directory;
        var manifest = Path.Combine(saved, Checkpoint.ManifestFile);
        using (var file = new FileStream(manifest, FileMode.Open)) file.SetLength(200L << 20); // sparse
        Assert.Contains("at most", HostileFiles.RefusedInOneLine(() => Checkpoint.Load(saved), manifest));
    }
}
