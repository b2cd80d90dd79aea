using System.Diagnostics;
using System.Globalization;
using Sinapse.Cli.Experiments;
using Sinapse.Data;
using Sinapse.Layers;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Training;
using Sinapse.Vision;

namespace Sinapse.Cli;

/// <summary>The target task's budget, the same for every method.</summary>
/// <param name="LearningRate">Adam's rate for new layers and for training from scratch.</param>
/// <param name="FineTuneRate">Adam's rate for the pretrained layers when fine-tuning.</param>
/// <param name="FineTuneLayers">When given, a method of its own fine-tunes only the trunk's last this many layers with parameters, before the one that fine-tunes all of them.</param>
/// <param name="Augmentation">Applied to the training batches of the methods that see images (not to the frozen features, computed once).</param>
internal sealed record TransferBudget(int Epochs, int BatchSize, float LearningRate, float FineTuneRate, int? FineTuneLayers = null, Action<Tensor, Rng>? Augmentation = null);

/// <summary>One method's outcome: its trained network, its history (validation figures per epoch when given validation data) and its test evaluation.</summary>
internal sealed record TransferResult(string Method, Module Model, long TrainableParameters, History History, Evaluation Test, double Seconds);

/// <summary>
/// An ImageNet-pretrained MobileNet to transfer from: <paramref name="Load"/> gives a fresh copy each
/// call, <paramref name="Untrained"/> the same architecture with random weights for a number of classes,
/// and <paramref name="Transform"/> maps pixels 0..255 to the inputs the pretrained weights expect.
/// </summary>
internal sealed record TransferBase(string Name, Func<MobileNet> Load, Func<int, Rng, MobileNet> Untrained, InputTransform Transform);

internal static class TransferComparison
{
    /// <summary>The inputs as the course gives them to the network: pixels X/255.</summary>
    public static InputTransform Scale { get; } = InputTransform.Scale(1f / 255f);

    public const string Frozen = "(a) new head, frozen features", FineTuned = "(b) fine-tune all layers", Scratch = "(c) from scratch";

    /// <summary>The names of the last two methods when fine-tuning the last blocks comes before them as (b).</summary>
    public const string FineTunedAfterBlocks = "(c) fine-tune all layers", ScratchAfterBlocks = "(d) from scratch";

    /// <summary>
    /// The course CNN trained with Adam on the (scaled, relabelled) source task, and its accuracy on
    /// the source's test examples; the seed draws its weights and then its batches.
    /// </summary>
    public static (Sequential Model, double? TestAccuracy) Pretrain(Dataset source, Dataset sourceTest, int classes, int epochs, float learningRate, ulong seed)
    {
        var rng = new Rng(seed);
        var model = Cnn.Course(source.FeatureShape[0], source.FeatureShape[1], source.FeatureShape[2], classes, rng: rng);
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Adam(model.Parameters(), learningRate));
        TrainingProgress.Run(trainer, new DataLoader(source, 64, rng: rng), epochs, null);
        return (model, trainer.Evaluate(sourceTest).Accuracy);
    }

    /// <summary>
    /// The few labelled target examples: <paramref name="count"/> drawn at random (seed + 1) from
    /// <paramref name="target"/>, and the next <paramref name="validationCount"/> of the same draw for
    /// validation (null when 0), so adding validation never changes the training examples.
    /// </summary>
    public static (Dataset Train, Dataset? Validation) Draw(Dataset target, int count, int validationCount, ulong seed)
    {
        if (count + validationCount > target.Count)
            throw new ArgumentException($"{count} training{(validationCount > 0 ? $" and {validationCount} validation" : "")} examples are more than the {target.Count} examples of the target classes.");
        var order = Enumerable.Range(0, target.Count).ToArray();
        new Rng(seed + 1).Shuffle(order.AsSpan());
        return (target.Subset(order.AsSpan(0, count)), validationCount > 0 ? target.Subset(order.AsSpan(count, validationCount)) : null);
    }

    /// <summary>
    /// The comparison from a course CNN <paramref name="pretrained"/> on the source task (left
    /// untouched): every layer is fine-tuned in (b), and (c) is a new course CNN.
    /// </summary>
    public static List<TransferResult> Compare(Sequential pretrained, int classes, Dataset train, Dataset? validation, Dataset test, TransferBudget budget, ulong seed)
    {
        Sequential Copy()
        {
            var copy = (Sequential)ModelSpec.FromJson(ModelSpec.ToJson(pretrained), new Rng(seed + 2));
            copy.LoadStateDict(pretrained.StateDict());
            return copy;
        }
        var shape = train.FeatureShape;
        return Compare(Copy, rng => Cnn.Course(shape[0], shape[1], shape[2], classes, rng: rng), classes, train, validation, test, budget, seed);
    }

    /// <summary>
    /// The comparison from an ImageNet-pretrained MobileNet: (b) fine-tunes the trunk's last
    /// <see cref="TransferBudget.FineTuneLayers"/> blocks, (c) all of them, and (d) trains the same
    /// architecture from random weights. <paramref name="validation"/> is evaluated after every epoch,
    /// for the curves; <paramref name="test"/> once per method, at the end.
    /// </summary>
    public static List<TransferResult> Compare(TransferBase pretrained, Dataset train, Dataset validation, Dataset test, TransferBudget budget, ulong seed)
    {
        int blocks = pretrained.Load().Features.Layers.Count(block => block.ParameterCount() > 0);
        if (budget.FineTuneLayers > blocks)
            throw new ArgumentException($"{pretrained.Name} has {blocks} blocks to fine-tune; the last {budget.FineTuneLayers} were asked for.");
        int classes = train.ClassCount;
        return Compare(() => pretrained.Load().ToSequential(), rng => pretrained.Untrained(classes, rng), classes, train, validation, test, budget, seed);
    }

    /// <summary>
    /// One of the MobileNets that ship with Sinapse (<see cref="Pretrained.Load"/>, TFLite files trained on x/127.5 − 1);
    /// from scratch, its architecture with batch norm, which the pretrained file has folded into its convolutions,
    /// because without it a network this deep barely trains.
    /// </summary>
    public static TransferBase Bundled(string name)
    {
        var reference = Pretrained.Load(name);
        return new TransferBase(name, () => Pretrained.Load(name), (classes, rng) => reference.UntrainedCopy(classes, rng), InputTransform.Normalize([127.5f, 127.5f, 127.5f], [127.5f, 127.5f, 127.5f]));
    }

    /// <summary>
    /// The zoo's <paramref name="name"/> (torchvision's architecture) at <paramref name="width"/> with the weights of
    /// <paramref name="weights"/> (.pth or safetensors, torchvision's names), as many classes as the file's head has;
    /// its inputs are normalised with ImageNet's mean and std, as torchvision's pretrained models expect.
    /// </summary>
    public static TransferBase FromWeights(string name, string weights, float width)
    {
        var build = ModelOptions.MobileNetBuilder(name) ?? throw new ArgumentException($"--weights applies to a zoo MobileNet ({ModelOptions.ArchitectureNames}), not '{name}'.");
        if (!File.Exists(weights)) throw new FileNotFoundException($"--weights {weights}: no such file.", weights);
        var head = build(1000, width, null, new ConvNormOptions(), 3).Classifier.NamedParameters().Last(p => p.Name.EndsWith(".weight", StringComparison.Ordinal)).Name;
        int[] shape = Pth.IsPthFile(weights) ? Pth.Open(weights)["classifier." + head].Shape : SafeTensors.Open(weights)["classifier." + head].Shape;
        if (shape.Length != 2) throw new InvalidDataException($"{weights}: the head 'classifier.{head}' has shape [{string.Join(", ", shape)}], not [classes, features].");
        MobileNet Load()
        {
            var model = build(shape[0], width, null, new ConvNormOptions(), 3);
            StateDict.Load(model, weights);
            return model;
        }
        return new TransferBase(name, Load, (classes, rng) => build(classes, width, null, new ConvNormOptions(Rng: rng), 3), Commands.TrainCommand.ParseTransform("imagenet", null));
    }

    /// <summary>
    /// Learns the target task three ways, four with <see cref="TransferBudget.FineTuneLayers"/>, on the
    /// same budget (the same epochs and batches of the same shuffled examples; (a) draws no augmentation,
    /// so its shuffles part from the others' after the first epoch); each result is evaluated on
    /// <paramref name="test"/> once, at the end, and on <paramref name="validation"/> after every epoch
    /// when given. <paramref name="pretrained"/> gives a fresh copy of the pretrained network each time it
    /// is called; <paramref name="scratch"/> builds the untrained network from an Rng.
    /// </summary>
    /// <remarks>
    /// (a) computes the frozen trunk's features of every image once (in eval mode) and trains the new
    /// head on them — the usual way on a budget, which also means no augmentation for (a) — then puts
    /// trunk and head back together and evaluates that on the test images. With
    /// <see cref="TransferBudget.FineTuneLayers"/>, (b) freezes the trunk but for its last layers; the
    /// frozen front records nothing on the tape, so it costs one forward pass per batch. The next method
    /// fine-tunes every layer, the pretrained ones at the low rate; the last trains from scratch.
    /// </remarks>
    public static List<TransferResult> Compare(Func<Sequential> pretrained, Func<Rng, Module> scratch, int classes, Dataset train, Dataset? validation, Dataset test,
        TransferBudget budget, ulong seed)
    {
        var results = new List<TransferResult>();
        // The test evaluation is the trainer's model on the test set unless evaluate says otherwise.
        void Run(string method, Module model, Optimizer optimizer, Dataset data, Dataset? checks, Action<Tensor, Rng>? augmentation, Stopwatch watch, Func<Trainer, (Module, Evaluation)>? evaluate = null)
        {
            var trainer = new Trainer(model, new CrossEntropyLoss(), optimizer);
            var history = trainer.Fit(new DataLoader(data, budget.BatchSize, rng: new Rng(seed + 4)) { Augmentation = augmentation }, budget.Epochs, checks);
            var (network, evaluation) = evaluate?.Invoke(trainer) ?? (model, trainer.Evaluate(test));
            results.Add(new TransferResult(method, network, model.ParameterCount(trainableOnly: true), history, evaluation, watch.Elapsed.TotalSeconds));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{method}: test accuracy {evaluation.Accuracy:F4} ({results[^1].Seconds:F1} s)"));
        }

        var (trunk, head) = pretrained().SplitHead();
        var frozenClock = Stopwatch.StartNew();
        trunk.Freeze();
        head.Freeze();
        head.ReplaceHead(classes, new Rng(seed + 3));
        Dataset Features(Dataset images) => new(Trainer.Predict(trunk, images.Features), images.Targets, images.ClassCount, images.ClassNames);
        var trainFeatures = Features(train);
        var validationFeatures = validation == null ? null : Features(validation);
        Run(Frozen, head, new Adam(head.Parameters().Where(p => p.RequiresGrad), budget.LearningRate), trainFeatures, validationFeatures, null, frozenClock, trainer =>
        {
            var network = new Sequential(trunk, head);
            return (network, new Trainer(network, trainer.Loss, trainer.Optimizer).Evaluate(test));
        });

        bool blocksFirst = budget.FineTuneLayers != null;
        foreach (int? layers in blocksFirst ? [budget.FineTuneLayers, null] : new int?[] { null })
        {
            (trunk, head) = pretrained().SplitHead();
            trunk.Freeze();
            if (layers is int count) trunk.UnfreezeLast(count); else trunk.Unfreeze();
            var newHead = head.ReplaceHead(classes, new Rng(seed + 3));
            var headParameters = newHead.Parameters().ToHashSet(ReferenceEqualityComparer.Instance);
            var tuned = new Sequential(trunk, head);
            Run(layers is int last ? $"(b) fine-tune the last {last} blocks" : blocksFirst ? FineTunedAfterBlocks : FineTuned, tuned,
                new Adam([new ParameterGroup(tuned.Parameters().Where(p => p.RequiresGrad && !headParameters.Contains(p)), budget.FineTuneRate),
                          new ParameterGroup(newHead.Parameters(), budget.LearningRate)]),
                train, validation, budget.Augmentation, Stopwatch.StartNew());
        }

        var fresh = scratch(new Rng(seed + 5));
        Run(blocksFirst ? ScratchAfterBlocks : Scratch, fresh, new Adam(fresh.Parameters(), budget.LearningRate), train, validation, budget.Augmentation, Stopwatch.StartNew());
        return results;
    }

    /// <summary>A result's validation accuracy after every epoch, as a curve for <see cref="Plots.Lines"/>.</summary>
    public static Series AccuracyCurve(TransferResult result) =>
        new(result.Method, result.History.Epochs.Select(e => (double)e.Epoch).ToArray(), result.History.Epochs.Select(e => e.ValidationAccuracy ?? double.NaN).ToArray());

    /// <summary>A result's epochs as CSV rows: method, epoch, training loss and accuracy, validation loss and accuracy.</summary>
    public static IEnumerable<object?[]> CsvRows(TransferResult result) =>
        result.History.Epochs.Select(e => new object?[] { result.Method, e.Epoch, e.TrainLoss, e.TrainAccuracy, e.ValidationLoss, e.ValidationAccuracy });
}
