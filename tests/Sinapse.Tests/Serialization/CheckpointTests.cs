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

    /// <summary>
    /// Resuming with the library alone: every object is built afresh from other seeds, so all that
    /// the continuation shares with the first session comes through the checkpoint's states.
    /// </summary>
    [Fact]
    public void ALibraryUserResumesIntoFreshObjectsBitwise()
    {
        using var directory = new TempDirectory();
        var (whole, wholeLoader, _) = Run();
        whole.Fit(wholeLoader, 6);

        var (first, firstLoader, firstRng) = Run();
        first.Callbacks.Add(new CheckpointCallback(directory.Path, 3, new Dictionary<string, Rng> { ["run"] = firstRng }, new Shape(6)));
        first.Callbacks.Add(new StopAt(3));
        first.Fit(firstLoader, 6);

        var rng = new Rng(999);
        var model = Mlp.Create(6, [8], 3, new BlockOptions(Dropout: 0.3f, BatchNorm: true, Rng: rng));
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Adam(model.Parameters(), 0.01f));
        var loader = new DataLoader(Data(), 16, rng: rng);
        trainer.Scheduler = new LearningRateScheduler(trainer.Optimizer, new CosineSchedule(6 * loader.BatchesPerEpoch));
        var history = Checkpoint.FindLatest(directory.Path).Restore(trainer, new Dictionary<string, Rng> { ["run"] = rng });
        trainer.Fit(loader, 6, null, history);

        Assert.Equal(whole.History.StepLosses, trainer.History.StepLosses);
        Assert.Equal(whole.Optimizer.StateDict().StepCount, trainer.Optimizer.StateDict().StepCount);
        Assert.Equal(whole.Scheduler!.StateDict(), trainer.Scheduler.StateDict());
        Assert.Equal(whole.Model.StateDict().Keys, trainer.Model.StateDict().Keys);
        foreach (var ((name, a), (_, b)) in whole.Model.StateDict().Zip(trainer.Model.StateDict()))
            Assert.True(a.ToArray().Select(BitConverter.SingleToInt32Bits).SequenceEqual(b.ToArray().Select(BitConverter.SingleToInt32Bits)), name);
    }

    /// <summary>A loader with a generator of its own, which no named Rng covers: its position travels in the checkpoint.</summary>
    [Fact]
    public void TheLoadersPositionTravelsInTheCheckpoint()
    {
        (Trainer Trainer, DataLoader Loader, Dictionary<string, Rng> Rngs) Separate(ulong loaderSeed)
        {
            var (trainer, _, dropout) = Run();
            return (trainer, new DataLoader(Data(), 16, rng: new Rng(loaderSeed)), new Dictionary<string, Rng> { ["dropout"] = dropout });
        }
        using var directory = new TempDirectory();
        var (whole, wholeLoader, _) = Separate(21);
        whole.Fit(wholeLoader, 4);

        var (first, firstLoader, firstRngs) = Separate(21);
        first.Callbacks.Add(new CheckpointCallback(directory.Path, 2, firstRngs, new Shape(6), loader: firstLoader));
        first.Callbacks.Add(new StopAt(2));
        first.Fit(firstLoader, 4);

        var (second, secondLoader, secondRngs) = Separate(77);
        var checkpoint = Checkpoint.FindLatest(directory.Path);
        Assert.Equal(new DataLoaderState(2, firstLoader.StateDict().Rng), checkpoint.Loader);
        second.Fit(secondLoader, 4, null, checkpoint.Restore(second, secondRngs, secondLoader));
        Assert.Equal(whole.History.StepLosses, second.History.StepLosses);

        var (unsaved, unsavedLoader, rng) = Run();
        unsaved.Callbacks.Add(new CheckpointCallback(directory.Path, 1, new Dictionary<string, Rng> { ["run"] = rng }, new Shape(6)));
        unsaved.Fit(unsavedLoader, 1);
        Assert.Contains("holds no data loader position", Assert.Throws<InvalidDataException>(() =>
            Checkpoint.Load(Path.Combine(directory.Path, Checkpoint.DirectoryName(1))).Restore(Run().Trainer, new Dictionary<string, Rng>(), unsavedLoader)).Message);
    }

    [Fact]
    public void TheHistorysStateDictRoundTripsAndChecksItsEpochs()
    {
        var (trainer, loader, _) = Run();
        trainer.Fit(loader, 2);
        var copy = new History();
        copy.LoadStateDict(trainer.History.StateDict());
        Assert.Equal(trainer.History.Epochs, copy.Epochs);
        Assert.Equal(trainer.History.StepLosses, copy.StepLosses);
        Assert.Equal(trainer.History.GradientNorms, copy.GradientNorms);
        var state = trainer.History.StateDict();
        state["epochs"]![1]!["epoch"] = 5;
        Assert.Contains("record 2 says epoch 5", Assert.Throws<ArgumentException>(() => copy.LoadStateDict(state)).Message);
        Assert.Equal(trainer.History.Epochs, copy.Epochs);
    }

    /// <summary>Writes a one-epoch checkpoint, lets <paramref name="edit"/> change its manifest, and returns its directory.</summary>
    private static string EditedCheckpoint(TempDirectory directory, Action<System.Text.Json.Nodes.JsonObject, string> edit)
    {
        var (trainer, loader, rng) = Run();
        trainer.Callbacks.Add(new CheckpointCallback(directory.Path, 1, new Dictionary<string, Rng> { ["run"] = rng }, new Shape(6)));
        trainer.Fit(loader, 1);
        var saved = Path.Combine(directory.Path, Checkpoint.DirectoryName(1));
        var manifestPath = Path.Combine(saved, Checkpoint.ManifestFile);
        var manifest = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifestPath))!.AsObject();
        edit(manifest, saved);
        File.WriteAllText(manifestPath, manifest.ToJsonString());
        return saved;
    }

    [Fact]
    public void AScheduleAtPosition2To62IsRefusedInOneLine()
    {
        using var directory = new TempDirectory();
        var saved = EditedCheckpoint(directory, (manifest, _) => manifest["schedulePosition"] = 1L << 62);
        var message = HostileFiles.RefusedInOneLine(() => Checkpoint.Load(saved), Checkpoint.ManifestFile);
        Assert.Contains($"schedulePosition is {1L << 62}, outside 0 to the 6 updates", message);
    }

    [Theory]
    [InlineData(-5)]
    [InlineData(0)]
    [InlineData(2)]
    public void AnEpochThatTheHistoryDoesNotBearOutIsRefusedInOneLine(int epoch)
    {
        using var directory = new TempDirectory();
        var saved = EditedCheckpoint(directory, (manifest, _) => manifest["epoch"] = epoch);
        var message = HostileFiles.RefusedInOneLine(() => Checkpoint.Load(saved), Checkpoint.ManifestFile);
        Assert.Contains($"epoch is {epoch}, but a checkpoint follows epoch 1 or later and its history has 1 epochs", message);
    }

    [Fact]
    public void AnOptimizerStateMissingAdamsBuffersIsRefusedInOneLine()
    {
        using var directory = new TempDirectory();
        var saved = EditedCheckpoint(directory, (manifest, saved) =>
        {
            // Rewritten without the first parameter's exp_avg, with a matching checksum: only the state itself is wrong.
            var path = Path.Combine(saved, Checkpoint.OptimizerFile);
            var buffers = SafeTensors.Load(path).Where(b => b.Key != "0.exp_avg").Select(b => (b.Key, b.Value)).ToList();
            var checksum = SafeTensors.Write(path, buffers);
            manifest["files"]![Checkpoint.OptimizerFile] = new System.Text.Json.Nodes.JsonObject { ["length"] = checksum.Length, ["xxhash64"] = checksum.XxHash64 };
        });
        var (trainer, _, rng) = Run();
        var error = Assert.Throws<ArgumentException>(() => Checkpoint.Load(saved).Restore(trainer, new Dictionary<string, Rng> { ["run"] = rng }));
        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains("lacks the buffer 'exp_avg' that Adam keeps for every updated parameter", error.Message);
    }

    [Fact]
    public void ACheckpointWriteCutShortIsRemovedAtTheNextStart()
    {
        using var directory = new TempDirectory();
        var leftover = Directory.CreateDirectory(Path.Combine(directory.Path, $".{Checkpoint.DirectoryName(2)}.{Guid.NewGuid():N}.tmp")).FullName;
        File.WriteAllText(Path.Combine(leftover, Checkpoint.OptimizerFile), "half");
        var (trainer, loader, rng) = Run();
        var callback = new CheckpointCallback(directory.Path, 1, new Dictionary<string, Rng> { ["run"] = rng }, new Shape(6));
        trainer.Callbacks.Add(callback);
        trainer.Fit(loader, 1);
        Assert.False(Directory.Exists(leftover));
        Assert.Equal([Path.GetFileName(leftover)], callback.Removed);
        Assert.Equal([1], Checkpoint.List(directory.Path).Select(c => c.Epoch));
    }

    [Fact]
    public void FindLatestSaysWhyItPassedOverANewerCheckpoint()
    {
        using var directory = new TempDirectory();
        var (trainer, loader, rng) = Run();
        trainer.Callbacks.Add(new CheckpointCallback(directory.Path, 1, new Dictionary<string, Rng> { ["run"] = rng }, new Shape(6)));
        trainer.Fit(loader, 2);
        Assert.Empty(Checkpoint.FindLatest(directory.Path).Skipped);
        File.Delete(Path.Combine(directory.Path, Checkpoint.DirectoryName(2), Checkpoint.OptimizerFile));
        var found = Checkpoint.FindLatest(directory.Path);
        Assert.Equal(1, found.Epoch);
        var reason = Assert.Single(found.Skipped);
        Assert.StartsWith($"{Checkpoint.DirectoryName(2)}: ", reason);
        Assert.Contains("is missing", reason);
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
