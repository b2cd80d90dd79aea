using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sinapse.Data;
using Sinapse.IO;
using Sinapse.Optimizers;
using Sinapse.Optimizers.Schedules;
using Sinapse.Tensors;
using Sinapse.Training;

namespace Sinapse.Serialization;

/// <summary>
/// A whole training run at the end of an epoch, enough to continue it bitwise as if it had never
/// stopped: the composition of the <see cref="IStateful{TState}.StateDict"/>s of the model (a
/// <see cref="SavedModel"/> directory: model.json + weights.safetensors, buffers included), the
/// optimizer (its buffers in optimizer.safetensors, its step count and group hyper-parameters in
/// checkpoint.json), and, in checkpoint.json, the scheduler, the loss scaler (float16 training),
/// every named Rng, the training data loader's position when given, and the History; with the
/// epoch, the caller's extra data (the command line, say), and the length and XxHash64 of every
/// other file. Loading checks every field's range, so an edited manifest is a one-line error.
/// </summary>
/// <remarks>
/// A checkpoint is a directory <c>epoch-NNNN</c>. It is written under a hidden temporary name,
/// each file flushed to disk, the manifest last, and then renamed into place: a reader never sees
/// a half-written checkpoint, and <see cref="FindLatest"/> skips anything that does not verify.
/// </remarks>
public sealed class Checkpoint
{
    public const string ManifestFile = "checkpoint.json";
    public const string OptimizerFile = "optimizer.safetensors";
    public const string Format = "sinapse-checkpoint";

    private Checkpoint(string directory, SavedModel model, int epoch, OptimizerState optimizer, SchedulerState? scheduler,
        Dictionary<string, RngState> rngStates, History history, JsonObject? extra, Precision precision, LossScalerState? lossScaler, DataLoaderState? loader)
    {
        Loader = loader;
        Precision = precision;
        LossScaler = lossScaler;
        Directory = directory;
        Model = model;
        Epoch = epoch;
        Optimizer = optimizer;
        Scheduler = scheduler;
        RngStates = rngStates;
        History = history;
        Extra = extra;
    }

    public string Directory { get; }
    public SavedModel Model { get; }
    public int Epoch { get; }
    public OptimizerState Optimizer { get; }
    public SchedulerState? Scheduler { get; }
    public IReadOnlyDictionary<string, RngState> RngStates { get; }
    public History History { get; }
    public JsonObject? Extra { get; }

    /// <summary>The precision the run trained in: resuming in another would not continue the same run.</summary>
    public Precision Precision { get; }

    /// <summary>The dynamic loss scaler's state, when the run used one (float16).</summary>
    public LossScalerState? LossScaler { get; }

    /// <summary>The training data loader's position, when it was saved with the checkpoint.</summary>
    public DataLoaderState? Loader { get; }

    /// <summary>
    /// Why each newer checkpoint than this one was passed over by <see cref="FindLatest"/>
    /// ("epoch-0004: … is corrupted"), newest first; empty when this is the newest.
    /// </summary>
    public IReadOnlyList<string> Skipped { get; private set; } = [];

    /// <summary>The name of epoch <paramref name="epoch"/>'s checkpoint directory.</summary>
    public static string DirectoryName(int epoch) => string.Create(CultureInfo.InvariantCulture, $"epoch-{epoch:D4}");

    /// <summary>
    /// Writes the trainer's state after <paramref name="epoch"/> (and the training
    /// <paramref name="loader"/>'s position, when given) as <paramref name="root"/>/epoch-NNNN
    /// and, when <paramref name="keep"/> is positive, deletes all but the newest <paramref name="keep"/>
    /// checkpoints. Returns the new checkpoint's directory.
    /// </summary>
    public static string Save(string root, Trainer trainer, int epoch, IReadOnlyDictionary<string, Rng> rngs, Shape exampleShape,
        InputTransform? transform = null, IReadOnlyList<string>? classNames = null, JsonObject? extra = null, int keep = 0, DataLoader? loader = null)
    {
        System.IO.Directory.CreateDirectory(root);
        var final = Path.Combine(root, DirectoryName(epoch));
        var temporary = Path.Combine(root, $".{DirectoryName(epoch)}.{Guid.NewGuid():N}.tmp");
        try
        {
            new SavedModel(trainer.Model, exampleShape, transform, classNames).Save(temporary);
            var state = trainer.Optimizer.StateDict();
            var parameterNames = ParameterNames(trainer);
            var buffers = new List<(string, Tensor)>();
            for (int i = 0; i < state.Parameters.Count; i++)
                foreach (var (name, values) in state.Parameters[i].OrderBy(b => b.Key, StringComparer.Ordinal))
                    buffers.Add((string.Create(CultureInfo.InvariantCulture, $"{i}.{name}"), Tensor.FromArray(values, values.Length)));
            var files = new JsonObject();
            foreach (var file in new[] { SavedModel.SpecFile, SavedModel.WeightsFile })
                files[file] = Describe(FileChecksum.Of(Path.Combine(temporary, file)));
            files[OptimizerFile] = Describe(SafeTensors.Write(Path.Combine(temporary, OptimizerFile), buffers));
            var manifest = new JsonObject
            {
                ["format"] = Format,
                ["version"] = 1,
                ["epoch"] = epoch,
                ["optimizer"] = new JsonObject
                {
                    ["type"] = trainer.Optimizer.GetType().Name,
                    ["stepCount"] = state.StepCount,
                    ["groups"] = new JsonArray(state.Groups.Select(g => (JsonNode)new JsonObject { ["learningRate"] = g.LearningRate, ["weightDecay"] = g.WeightDecay }).ToArray()),
                    ["parameters"] = new JsonArray(parameterNames.Select(n => (JsonNode)n).ToArray()),
                },
                ["schedulePosition"] = trainer.Scheduler?.StateDict().Position,
                ["precision"] = MixedPrecision.ShortName(trainer.Precision),
                ["lossScaler"] = trainer.LossScaler?.StateDict() is { } scaler ? new JsonObject
                {
                    ["scale"] = scaler.Scale, ["growthTracker"] = scaler.GrowthTracker, ["skippedSteps"] = scaler.SkippedSteps,
                    ["growthFactor"] = scaler.GrowthFactor, ["backoffFactor"] = scaler.BackoffFactor, ["growthInterval"] = scaler.GrowthInterval,
                } : null,
                ["rngs"] = new JsonObject(rngs.Select(r => new KeyValuePair<string, JsonNode?>(r.Key,
                    new JsonArray(r.Value.StateDict().ToHex().Select(w => (JsonNode)w).ToArray())))),
                ["loader"] = loader?.StateDict() is { } position ? new JsonObject
                {
                    ["epoch"] = position.Epoch, ["rng"] = new JsonArray(position.Rng.ToHex().Select(w => (JsonNode)w).ToArray()),
                } : null,
                ["history"] = trainer.History.StateDict(),
                ["extra"] = extra?.DeepClone(),
                ["files"] = files,
            };
            AtomicFile.WriteAllText(Path.Combine(temporary, ManifestFile), manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            if (System.IO.Directory.Exists(final)) Remove(final);
            System.IO.Directory.Move(temporary, final);
        }
        catch
        {
            try { System.IO.Directory.Delete(temporary, recursive: true); } catch (IOException) { }
            throw;
        }
        if (keep > 0)
            foreach (var old in List(root).SkipLast(keep)) Remove(old.Directory);
        return final;
    }

    /// <summary>The checkpoint directories under <paramref name="root"/>, oldest first (by epoch), without verifying them.</summary>
    public static List<(int Epoch, string Directory)> List(string root)
    {
        if (!System.IO.Directory.Exists(root)) return [];
        return System.IO.Directory.GetDirectories(root, "epoch-*")
            .Select(d => (Ok: int.TryParse(Path.GetFileName(d)["epoch-".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int e), Epoch: e, Directory: d))
            .Where(d => d.Ok && File.Exists(Path.Combine(d.Directory, ManifestFile)))
            .OrderBy(d => d.Epoch).Select(d => (d.Epoch, d.Directory)).ToList();
    }

    /// <summary>
    /// The newest checkpoint under <paramref name="path"/> that loads and verifies; <paramref name="path"/>
    /// may be a checkpoint itself, a directory of checkpoints, or a run directory with a "checkpoints"
    /// folder. Throws, naming what was tried, when there is none.
    /// </summary>
    public static Checkpoint FindLatest(string path)
    {
        if (File.Exists(Path.Combine(path, ManifestFile))) return Load(path);
        var root = List(path).Count == 0 && System.IO.Directory.Exists(Path.Combine(path, "checkpoints")) ? Path.Combine(path, "checkpoints") : path;
        var candidates = List(root);
        if (candidates.Count == 0) throw new FileNotFoundException($"No checkpoint (epoch-NNNN/{ManifestFile}) found in {path}.");
        var problems = new List<string>();
        for (int i = candidates.Count - 1; i >= 0; i--)
        {
            try
            {
                var found = Load(candidates[i].Directory);
                found.Skipped = problems;
                return found;
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                problems.Add($"{Path.GetFileName(candidates[i].Directory)}: {e.Message}");
            }
        }
        throw new InvalidDataException($"None of the {candidates.Count} checkpoints in {root} is intact: {string.Join(" / ", problems)}");
    }

    /// <summary>Reads and verifies a checkpoint directory (every file against the manifest) without touching any trainer.</summary>
    public static Checkpoint Load(string directory, Rng? rng = null)
    {
        var manifestPath = Path.Combine(directory, ManifestFile);
        if (!File.Exists(manifestPath)) throw new FileNotFoundException($"{directory} is not a checkpoint: it has no {ManifestFile}.", manifestPath);
        JsonObject manifest;
        try
        {
            manifest = JsonNode.Parse(InputFile.ReadJsonText(manifestPath, "checkpoint manifest (JSON)")) as JsonObject ?? throw new InvalidDataException($"{manifestPath} is not a JSON object.");
            if (manifest["format"]?.GetValue<string>() != Format) throw new InvalidDataException($"{manifestPath} is not a Sinapse checkpoint manifest.");
            foreach (var (file, checksum) in manifest["files"]!.AsObject())
                new FileChecksum(checksum!["length"]!.GetValue<long>(), checksum["xxhash64"]!.GetValue<string>()).Verify(Path.Combine(directory, file), manifestPath);
            var model = SavedModel.Load(directory, rng);
            var optimizer = manifest["optimizer"]!.AsObject();
            var names = optimizer["parameters"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
            var parameters = names.Select(_ => new Dictionary<string, float[]>()).ToList();
            foreach (var entry in SafeTensors.Open(Path.Combine(directory, OptimizerFile)).Entries)
            {
                int dot = entry.Name.IndexOf('.', StringComparison.Ordinal);
                if (dot < 0 || !int.TryParse(entry.Name[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out int index) || index >= parameters.Count)
                    throw new InvalidDataException($"{Path.Combine(directory, OptimizerFile)}: tensor '{entry.Name}' names no parameter of the {parameters.Count} in {manifestPath}.");
            }
            var buffers = SafeTensors.Load(Path.Combine(directory, OptimizerFile));
            foreach (var (name, tensor) in buffers)
            {
                int dot = name.IndexOf('.', StringComparison.Ordinal);
                parameters[int.Parse(name[..dot], CultureInfo.InvariantCulture)][name[(dot + 1)..]] = tensor.ToArray();
            }
            var state = new OptimizerState(optimizer["stepCount"]!.GetValue<long>(),
                optimizer["groups"]!.AsArray().Select(g => (g!["learningRate"]!.GetValue<float>(), g["weightDecay"]!.GetValue<float>())).ToList(), parameters);
            var rngs = manifest["rngs"]!.AsObject().ToDictionary(r => r.Key, r => RngState.FromHex(r.Value!.AsArray().Select(w => w!.GetValue<string>()).ToList()));
            var scaler = manifest["lossScaler"] is JsonObject s
                ? new LossScalerState(s["scale"]!.GetValue<float>(), s["growthTracker"]!.GetValue<int>(), s["skippedSteps"]!.GetValue<long>(),
                    s["growthFactor"]!.GetValue<float>(), s["backoffFactor"]!.GetValue<float>(), s["growthInterval"]!.GetValue<int>())
                : null;
            var history = new History();
            history.LoadStateDict(manifest["history"]!.AsObject());
            int epoch = manifest["epoch"]!.GetValue<int>();
            // The manifest is not checksummed, so each number is checked against what the rest of it implies.
            if (epoch < 1 || epoch != history.Epochs.Count)
                throw new InvalidDataException($"{manifestPath}: epoch is {epoch}, but a checkpoint follows epoch 1 or later and its history has {history.Epochs.Count} epochs.");
            long? position = manifest["schedulePosition"]?.GetValue<long>();
            if (position is < 0 || position > history.StepLosses.Count)
                throw new InvalidDataException($"{manifestPath}: schedulePosition is {position}, outside 0 to the {history.StepLosses.Count} updates the run has made.");
            var loader = manifest["loader"] is JsonObject l
                ? new DataLoaderState(l["epoch"]!.GetValue<int>(), RngState.FromHex(l["rng"]!.AsArray().Select(w => w!.GetValue<string>()).ToList()))
                : (DataLoaderState?)null;
            if (loader is { Epoch: < 0 } negative)
                throw new InvalidDataException($"{manifestPath}: the loader has started {negative.Epoch} epochs; it must be 0 or more.");
            return new Checkpoint(directory, model, epoch, state, position is long p ? new SchedulerState(p) : null, rngs,
                history, manifest["extra"]?.DeepClone().AsObject(),
                manifest["precision"] is { } precision ? MixedPrecision.Parse(precision.GetValue<string>(), "precision") : Precision.Float32, scaler, loader);
        }
        catch (Exception e) when (InputFile.IsMalformedContent(e))
        {
            throw new InvalidDataException(InputFile.OneLine($"{manifestPath} is malformed: {e.Message}"), e);
        }
    }

    /// <summary>
    /// Puts the run back: the trainer's model gets the weights and buffers, its optimizer the
    /// state, its scheduler the position, each Rng of <paramref name="rngs"/> its saved state, and
    /// <paramref name="loader"/>, when given, its position (the checkpoint must hold one). Returns
    /// the History to continue with (see <see cref="Trainer.Fit(DataLoader, int, Dataset?, History, CancellationToken)"/>).
    /// </summary>
    public History Restore(Trainer trainer, IReadOnlyDictionary<string, Rng> rngs, DataLoader? loader = null)
    {
        var names = ParameterNames(trainer);
        if (loader != null && Loader == null)
            throw new InvalidDataException($"{Directory}: the checkpoint holds no data loader position to restore (it was saved without one).");
        if (Optimizer.Parameters.Count != names.Count)
            throw new InvalidDataException($"{Directory}: the checkpoint's optimizer has {Optimizer.Parameters.Count} parameters, this run's has {names.Count}: the model or the optimizer differs.");
        if (Precision != trainer.Precision)
            throw new InvalidDataException($"{Directory}: the checkpoint was trained in {MixedPrecision.ShortName(Precision)}, this run trains in {MixedPrecision.ShortName(trainer.Precision)}: give the same --precision.");
        if ((LossScaler == null) != (trainer.LossScaler == null))
            throw new InvalidDataException($"{Directory}: the checkpoint was saved {(LossScaler == null ? "without" : "with")} loss scaling, this run trains {(trainer.LossScaler == null ? "without" : "with")} it: give the same --precision.");
        foreach (var (name, rng) in rngs)
            if (!RngStates.ContainsKey(name)) throw new InvalidDataException($"{Directory}: the checkpoint has no state for the Rng '{name}' (it has {string.Join(", ", RngStates.Keys)}).");
        trainer.Model.LoadStateDict(Model.Model.StateDict());
        trainer.Optimizer.LoadStateDict(Optimizer);
        if (trainer.Scheduler != null && Scheduler is { } scheduler) trainer.Scheduler.LoadStateDict(scheduler);
        if (LossScaler != null) trainer.LossScaler!.LoadStateDict(LossScaler);
        foreach (var (name, rng) in rngs) rng.LoadStateDict(RngStates[name]);
        if (loader != null) loader.LoadStateDict(Loader!.Value);
        return History;
    }

    private static List<string> ParameterNames(Trainer trainer)
    {
        var names = new Dictionary<Tensor, string>(ReferenceEqualityComparer.Instance);
        foreach (var (name, tensor) in trainer.Model.NamedParameters()) names[tensor] = name;
        return trainer.Optimizer.Groups.SelectMany(g => g.Parameters).Select(p => names.TryGetValue(p, out var n) ? n : p.Name ?? "?").ToList();
    }

    private static JsonObject Describe(FileChecksum checksum) => new() { ["length"] = checksum.Length, ["xxhash64"] = checksum.XxHash64 };

    /// <summary>
    /// Deletes what interrupted writes left under <paramref name="root"/>: the hidden
    /// ".epoch-NNNN.….tmp" directories of checkpoints never finished and the ".….deleting" ones of
    /// removals cut short. Returns their names. Call it when a run starts, before any write of its own.
    /// </summary>
    public static List<string> RemoveInterrupted(string root)
    {
        if (!System.IO.Directory.Exists(root)) return [];
        var leftovers = System.IO.Directory.GetDirectories(root, ".epoch-*.tmp").Concat(System.IO.Directory.GetDirectories(root, ".epoch-*.deleting")).ToList();
        foreach (var leftover in leftovers) System.IO.Directory.Delete(leftover, recursive: true);
        return leftovers.Select(Path.GetFileName).ToList()!;
    }

    private static void Remove(string directory)
    {
        // Renamed away first, so no reader sees a checkpoint with some files already deleted.
        var doomed = Path.Combine(Path.GetDirectoryName(directory)!, $".{Path.GetFileName(directory)}.{Guid.NewGuid():N}.deleting");
        System.IO.Directory.Move(directory, doomed);
        System.IO.Directory.Delete(doomed, recursive: true);
    }
}

/// <summary>Saves a <see cref="Checkpoint"/> every <see cref="Every"/> epochs of a <see cref="Trainer.Fit(DataLoader, int, Dataset?, CancellationToken)"/>.</summary>
public sealed class CheckpointCallback(string root, int every, IReadOnlyDictionary<string, Rng> rngs, Shape exampleShape,
    InputTransform? transform = null, IReadOnlyList<string>? classNames = null, JsonObject? extra = null, int keep = 0, DataLoader? loader = null) : Callback
{
    public int Every { get; } = every > 0 ? every : throw new ArgumentOutOfRangeException(nameof(every), every, "Checkpoint every 1 or more epochs.");

    /// <summary>The newest checkpoint written, if any.</summary>
    public string? Last { get; private set; }

    /// <summary>The leftovers of interrupted writes that <see cref="OnTrainBegin"/> removed.</summary>
    public IReadOnlyList<string> Removed { get; private set; } = [];

    public override void OnTrainBegin(Trainer trainer) => Removed = Checkpoint.RemoveInterrupted(root);

    public override void OnEpochEnd(Trainer trainer, EpochRecord record)
    {
        if (record.Epoch % Every == 0) Last = Checkpoint.Save(root, trainer, record.Epoch, rngs, exampleShape, transform, classNames, extra, keep, loader);
    }
}
