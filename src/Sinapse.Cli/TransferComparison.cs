using System.Diagnostics;
using System.Globalization;
using Sinapse.Data;
using Sinapse.Layers;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Training;

namespace Sinapse.Cli;

/// <summary>The target task's budget, the same for the three methods.</summary>
/// <param name="LearningRate">Adam's rate for new layers and for training from scratch.</param>
/// <param name="FineTuneRate">Adam's rate for the pretrained layers when fine-tuning.</param>
internal sealed record TransferBudget(int Epochs, int BatchSize, float LearningRate, float FineTuneRate);

/// <summary>One method's outcome: its history (validation figures per epoch when given validation data) and its test evaluation.</summary>
internal sealed record TransferResult(string Method, long TrainableParameters, History History, Evaluation Test, double Seconds);

/// <summary>
/// The course's transfer-learning comparison, behind both <c>sinapse transfer</c> and
/// <c>sinapse experiment transfer</c>: a CNN pretrained on a source task, then a target task with
/// few labels learned three ways on the same budget — (a) a new head on the frozen features,
/// (b) a new head and every layer fine-tuned, the pretrained ones at a low learning rate, (c) from scratch.
/// </summary>
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
    /// Learns the target task three ways from <paramref name="pretrained"/> (left untouched) on the same
    /// budget and the same batch order; each result is evaluated on <paramref name="test"/>.
    /// </summary>
    public static List<TransferResult> Compare(Sequential pretrained, int classes, Dataset train, Dataset? validation, Dataset test, TransferBudget budget, ulong seed)
    {
        Sequential Clone()
        {
            var copy = (Sequential)ModelSpec.FromJson(ModelSpec.ToJson(pretrained), new Rng(seed + 2));
            StateDict.Copy(pretrained, copy);
            return copy;
        }
        var results = new List<TransferResult>();
        void Run(string method, Sequential model, Optimizer optimizer)
        {
            var trainer = new Trainer(model, new CrossEntropyLoss(), optimizer);
            var watch = Stopwatch.StartNew();
            var history = trainer.Fit(new DataLoader(train, budget.BatchSize, rng: new Rng(seed + 4)), budget.Epochs, validation);
            results.Add(new TransferResult(method, model.ParameterCount(trainableOnly: true), history, trainer.Evaluate(test), watch.Elapsed.TotalSeconds));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{method}: test accuracy {results[^1].Test.Accuracy:F4} ({results[^1].Seconds:F1} s)"));
        }

        var frozen = Clone();
        frozen.ReplaceHead(classes, new Rng(seed + 3));
        frozen.FreezeAllButLast(1);
        Run(Frozen, frozen, new Adam(frozen.Parameters().Where(p => p.RequiresGrad), budget.LearningRate));

        var tuned = Clone();
        var head = tuned.ReplaceHead(classes, new Rng(seed + 3));
        var headParameters = head.Parameters().ToHashSet(ReferenceEqualityComparer.Instance);
        Run(FineTuned, tuned, new Adam([new ParameterGroup(tuned.Parameters().Where(p => !headParameters.Contains(p)), budget.FineTuneRate),
                                        new ParameterGroup(head.Parameters(), budget.LearningRate)]));

        var fresh = Cnn.Course(train.FeatureShape[0], train.FeatureShape[1], train.FeatureShape[2], classes, rng: new Rng(seed + 5));
        Run(Scratch, fresh, new Adam(fresh.Parameters(), budget.LearningRate));
        return results;
    }
}
