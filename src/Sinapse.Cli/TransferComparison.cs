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

/// <summary>The target task's budget, the same for the three methods.</summary>
/// <param name="LearningRate">Adam's rate for new layers and for training from scratch.</param>
/// <param name="FineTuneRate">Adam's rate for the pretrained layers when fine-tuning.</param>
/// <param name="FineTuneLayers">How many of the trunk's last layers with parameters are fine-tuned (null: all of them).</param>
/// <param name="Augmentation">Applied to the training batches of the methods that see images (not to the frozen features, computed once).</param>
internal sealed record TransferBudget(int Epochs, int BatchSize, float LearningRate, float FineTuneRate, int? FineTuneLayers = null, Action<Tensor, Rng>? Augmentation = null);

/// <summary>One method's outcome: its history (validation figures per epoch when given validation data) and its test evaluation.</summary>
internal sealed record TransferResult(string Method, long TrainableParameters, History History, Evaluation Test, double Seconds);

internal static class TransferComparison
{
    /// <summary>The inputs as the course gives them to the network: pixels X/255.</summary>
    public static InputTransform Scale { get; } = InputTransform.Scale(1f / 255f);

    public const string Frozen = "(a) new head, frozen features", FineTuned = "(b) fine-tune all layers", Scratch = "(c) from scratch";

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
    /// The comparison from an ImageNet-pretrained MobileNet (<see cref="Pretrained.Load"/>): (b)
    /// fine-tunes the trunk's last <see cref="TransferBudget.FineTuneLayers"/> blocks, and (c) trains
    /// the same architecture from random weights — with batch norm, which the pretrained file has
    /// folded into its convolutions, because without it a network this deep barely trains.
    /// <paramref name="validation"/> is evaluated after every epoch, for the curves; <paramref name="test"/> once per method, at the end.
    /// </summary>
    public static List<TransferResult> Compare(string pretrained, Dataset train, Dataset validation, Dataset test, TransferBudget budget, ulong seed)
    {
        var reference = Pretrained.Load(pretrained);
        int blocks = reference.Features.Layers.Count(block => block.ParameterCount() > 0);
        if (budget.FineTuneLayers > blocks)
            throw new ArgumentException($"{pretrained} has {blocks} blocks to fine-tune; the last {budget.FineTuneLayers} were asked for.");
        int classes = train.ClassCount;
        return Compare(() => Pretrained.Load(pretrained).ToSequential(), rng => reference.UntrainedCopy(classes, rng), classes, train, validation, test, budget, seed);
    }

    /// <summary>
    /// Learns the target task three ways on the same budget (the same epochs and batches of the same
    /// shuffled examples; (a) draws no augmentation, so its shuffles part from the others' after the
    /// first epoch); each result is evaluated on <paramref name="test"/> once, at the end, and on
    /// <paramref name="validation"/> after every epoch when given. <paramref name="pretrained"/> gives a fresh copy of the pretrained network each time it is
    /// called; <paramref name="scratch"/> builds the untrained network from an Rng.
    /// </summary>
    /// <remarks>
    /// (a) computes the frozen trunk's features of every image once (in eval mode) and trains the new
    /// head on them — the usual way on a budget, which also means no augmentation for (a) — then puts
    /// trunk and head back together and evaluates that on the test images. (b) freezes the trunk but
    /// for its last <see cref="TransferBudget.FineTuneLayers"/> layers (all when null); the frozen front
    /// records nothing on the tape, so it costs one forward pass per batch.
    /// </remarks>
    public static List<TransferResult> Compare(Func<Sequential> pretrained, Func<Rng, Module> scratch, int classes, Dataset train, Dataset? validation, Dataset test,
        TransferBudget budget, ulong seed)
    {
        var results = new List<TransferResult>();
        // The test evaluation is the trainer's model on the test set unless evaluate says otherwise.
        void Run(string method, Module model, Optimizer optimizer, Dataset data, Dataset? checks, Action<Tensor, Rng>? augmentation, Stopwatch watch, Func<Trainer, Evaluation>? evaluate = null)
        {
            var trainer = new Trainer(model, new CrossEntropyLoss(), optimizer);
            var history = trainer.Fit(new DataLoader(data, budget.BatchSize, rng: new Rng(seed + 4)) { Augmentation = augmentation }, budget.Epochs, checks);
            results.Add(new TransferResult(method, model.ParameterCount(trainableOnly: true), history, evaluate?.Invoke(trainer) ?? trainer.Evaluate(test), watch.Elapsed.TotalSeconds));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{method}: test accuracy {results[^1].Test.Accuracy:F4} ({results[^1].Seconds:F1} s)"));
        }

        var (trunk, head) = pretrained().SplitHead();
        var frozenClock = Stopwatch.StartNew();
        trunk.Freeze();
        head.Freeze();
        head.ReplaceHead(classes, new Rng(seed + 3));
        Dataset Features(Dataset images) => new(Trainer.Predict(trunk, images.Features), images.Targets, images.ClassCount, images.ClassNames);
        var trainFeatures = Features(train);
        var validationFeatures = validation == null ? null : Features(validation);
        Run(Frozen, head, new Adam(head.Parameters().Where(p => p.RequiresGrad), budget.LearningRate), trainFeatures, validationFeatures, null, frozenClock,
            trainer => new Trainer(new Sequential(trunk, head), trainer.Loss, trainer.Optimizer).Evaluate(test));

        (trunk, head) = pretrained().SplitHead();
        trunk.Freeze();
        if (budget.FineTuneLayers is int layers) trunk.UnfreezeLast(layers); else trunk.Unfreeze();
        var newHead = head.ReplaceHead(classes, new Rng(seed + 3));
        var headParameters = newHead.Parameters().ToHashSet(ReferenceEqualityComparer.Instance);
        var tuned = new Sequential(trunk, head);
        Run(budget.FineTuneLayers is int count ? $"(b) fine-tune the last {count} blocks" : FineTuned, tuned,
            new Adam([new ParameterGroup(tuned.Parameters().Where(p => p.RequiresGrad && !headParameters.Contains(p)), budget.FineTuneRate),
                      new ParameterGroup(newHead.Parameters(), budget.LearningRate)]),
            train, validation, budget.Augmentation, Stopwatch.StartNew());

        var fresh = scratch(new Rng(seed + 5));
        Run(Scratch, fresh, new Adam(fresh.Parameters(), budget.LearningRate), train, validation, budget.Augmentation, Stopwatch.StartNew());
        return results;
    }

    /// <summary>A result's validation accuracy after every epoch, as a curve for <see cref="Plots.Lines"/>.</summary>
    public static Series AccuracyCurve(TransferResult result) =>
        new(result.Method, result.History.Epochs.Select(e => (double)e.Epoch).ToArray(), result.History.Epochs.Select(e => e.ValidationAccuracy ?? double.NaN).ToArray());

    /// <summary>A result's epochs as CSV rows: method, epoch, training loss and accuracy, validation loss and accuracy.</summary>
    public static IEnumerable<object?[]> CsvRows(TransferResult result) =>
        result.History.Epochs.Select(e => new object?[] { result.Method, e.Epoch, e.TrainLoss, e.TrainAccuracy, e.ValidationLoss, e.ValidationAccuracy });
}
