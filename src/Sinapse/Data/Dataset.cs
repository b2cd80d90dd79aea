using Sinapse.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Sinapse.Data;

/// <summary>
/// Examples held in memory: <see cref="Features"/> of shape [N, ...] and <see cref="Targets"/>
/// of shape [N] (class labels: whole numbers 0..ClassCount-1, stored as floats) or [N, k]
/// (one-hot or regression targets). Both are checked once, here, so that a NaN in the data is
/// reported with its row instead of surfacing as a NaN loss many steps later.
/// </summary>
public sealed class Dataset
{
    /// <summary>
    /// The most classes labels may imply: 2^20. A label of 10^9 is a damaged file or a numeric target, and a
    /// classifier head that wide would take gigabytes before the mistake showed.
    /// </summary>
    public const int MaxClassCount = 1 << 20;

    /// <param name="classCount">For labels: how many classes there are (default: the largest label + 1),
    /// so that a subset missing the last class still knows the full count.</param>
    public Dataset(Tensor features, Tensor targets, int? classCount = null, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        if (features.Rank < 1)
            throw new ArgumentException($"Features need a first (example) axis, got a scalar of shape {features.Shape}.", nameof(features));
        if (targets.Rank is < 1 or > 2)
            throw new ArgumentException(
                $"Targets must be [N] class labels or [N, k] target vectors, got shape {targets.Shape}.", nameof(targets));
        if (features.Shape[0] != targets.Shape[0])
            throw new ArgumentException(
                $"Features and targets must have one row per example: features {features.Shape} have {features.Shape[0]} rows, " +
                $"targets {targets.Shape} have {targets.Shape[0]}.", nameof(targets));
        RequireFinite(features, "features");
        RequireFinite(targets, "targets");

        Features = features;
        Targets = targets;
        if (HasLabels)
        {
            int largest = LargestLabel(targets);
            if (classCount is int given && given <= largest)
                throw new ArgumentException($"classCount is {given}, but the labels go up to {largest}.", nameof(classCount));
            if (classCount > MaxClassCount)
                throw new ArgumentException($"classCount is {classCount:N0}; at most {MaxClassCount:N0} classes are supported.", nameof(classCount));
            ClassCount = classCount ?? largest + 1;
        }
        else if (classCount is int given && given != targets.Shape[1])
            throw new ArgumentException($"classCount is {given}, but the targets {targets.Shape} have {targets.Shape[1]} columns.", nameof(classCount));
        else ClassCount = targets.Shape[1];

        if (classNames != null && classNames.Count != ClassCount)
            throw new ArgumentException($"{classNames.Count} class names were given for {ClassCount} classes.", nameof(classNames));
        ClassNames = classNames;
    }

    public Tensor Features { get; }

    public Tensor Targets { get; }

    public int Count => Features.Shape[0];

    /// <summary>Whether <see cref="Targets"/> are [N] class indices (rather than [N, k] vectors).</summary>
    public bool HasLabels => Targets.Rank == 1;

    /// <summary>The number of classes for labels; the target width k for [N, k] targets.</summary>
    public int ClassCount { get; }

    /// <summary>Readable names of the classes, when the source had them (a CSV with text labels).</summary>
    public IReadOnlyList<string>? ClassNames { get; }

    /// <summary>The shape of one example (features without the example axis), e.g. [1, 28, 28].</summary>
    public Shape FeatureShape => Features.Shape.Features;

    /// <summary>Examples given as rows of <paramref name="features"/> with integer class labels.</summary>
    public static Dataset FromArrays(float[,] features, int[] labels, int? classCount = null)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var targets = NewTensor(new Shape(labels.Length));
        var span = targets.Span;
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] < 0) throw new ArgumentException($"Class labels must be 0 or more; labels[{i}] is {labels[i]}.", nameof(labels));
            span[i] = labels[i];
        }
        return new Dataset(Tensor.FromArray(features), targets, classCount);
    }

    /// <summary>Examples given as rows of <paramref name="features"/> with target vectors (one-hot or regression).</summary>
    public static Dataset FromArrays(float[,] features, float[,] targets) =>
        new(Tensor.FromArray(features), Tensor.FromArray(targets));

    /// <summary>The examples at <paramref name="indices"/>, in that order (repeats allowed, as in a bootstrap sample).</summary>
    public Dataset Subset(ReadOnlySpan<int> indices)
    {
        for (int i = 0; i < indices.Length; i++)
            if ((uint)indices[i] >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(indices), $"indices[{i}] is {indices[i]}, outside the {Count} examples of this dataset.");
        return new Dataset(GatherRows(Features, indices), GatherRows(Targets, indices), ClassCount, ClassNames);
    }

    /// <summary>
    /// A random split, reproducible from <paramref name="seed"/>: the first part holds
    /// round(<paramref name="fraction"/>·N) examples (0.75 for a 75/25 train/test split), the second
    /// the rest. Each part keeps the examples in their original order; loaders shuffle.
    /// </summary>
    public (Dataset First, Dataset Second) Split(double fraction, ulong seed)
    {
        if (!(fraction > 0 && fraction < 1))
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "the share of the first part must lie strictly between 0 and 1, e.g. 0.75");
        var order = new int[Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        new Rng(seed).Shuffle(order.AsSpan());
        int firstCount = (int)Math.Round(fraction * Count, MidpointRounding.AwayFromZero);
        var first = order.AsSpan(0, firstCount);
        var second = order.AsSpan(firstCount);
        first.Sort();
        second.Sort();
        return (Subset(first), Subset(second));
    }

    /// <summary>
    /// The examples whose label is one of <paramref name="classes"/>. With <paramref name="relabel"/>,
    /// classes[i] becomes label i (digits 5..9 become 0..4 for a new five-class head); without it the
    /// labels and <see cref="ClassCount"/> stay as they are.
    /// </summary>
    public Dataset FilterClasses(int[] classes, bool relabel)
    {
        ArgumentNullException.ThrowIfNull(classes);
        if (!HasLabels) throw new InvalidOperationException($"FilterClasses needs [N] class labels; these targets have shape {Targets.Shape}.");
        if (classes.Length == 0) throw new ArgumentException("Name at least one class to keep.", nameof(classes));
        var newLabel = new int[ClassCount];
        newLabel.AsSpan().Fill(-1);
        for (int i = 0; i < classes.Length; i++)
        {
            if ((uint)classes[i] >= (uint)ClassCount)
                throw new ArgumentOutOfRangeException(nameof(classes), $"classes[{i}] is {classes[i]}, but the labels are 0..{ClassCount - 1}.");
            if (newLabel[classes[i]] >= 0) throw new ArgumentException($"Class {classes[i]} is listed twice.", nameof(classes));
            newLabel[classes[i]] = i;
        }

        var labels = Targets.Span;
        var kept = new List<int>();
        for (int row = 0; row < Count; row++)
            if (newLabel[(int)labels[row]] >= 0) kept.Add(row);
        var rows = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(kept);
        var targets = GatherRows(Targets, rows);
        if (!relabel) return new Dataset(GatherRows(Features, rows), targets, ClassCount, ClassNames);

        var relabelled = targets.Span;
        for (int i = 0; i < relabelled.Length; i++) relabelled[i] = newLabel[(int)relabelled[i]];
        var names = ClassNames == null ? null : Array.ConvertAll(classes, c => ClassNames[c]);
        return new Dataset(GatherRows(Features, rows), targets, classes.Length, names);
    }

    /// <summary>The same examples with [N] labels turned into [N, ClassCount] one-hot targets.</summary>
    public Dataset WithOneHotTargets()
    {
        if (!HasLabels) throw new InvalidOperationException($"The targets are already vectors of shape {Targets.Shape}.");
        return new Dataset(Features, OneHot(Targets, ClassCount), ClassCount, ClassNames);
    }

    /// <summary>[N] class labels → [N, <paramref name="classes"/>] rows of zeros with a one at the label.</summary>
    public static Tensor OneHot(Tensor labels, int classes)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Rank != 1) throw new ArgumentException($"One-hot encoding takes [N] labels, got shape {labels.Shape}.", nameof(labels));
        if (classes <= 0) throw new ArgumentOutOfRangeException(nameof(classes), classes, "the number of classes must be positive");
        var values = labels.Span;
        for (int i = 0; i < values.Length; i++)
            if (!(values[i] >= 0 && values[i] < classes && values[i] == MathF.Floor(values[i])))
                throw new ArgumentException($"Label {i} is {values[i]}, not a class index in 0..{classes - 1}.", nameof(labels));
        var oneHot = NewTensor(new Shape(values.Length, classes));
        var rows = oneHot.Span;
        rows.Clear();
        for (int i = 0; i < values.Length; i++) rows[i * classes + (int)values[i]] = 1f;
        return oneHot;
    }

    public override string ToString() =>
        $"Dataset of {Count} examples: features {Features.Shape}, targets {Targets.Shape}" + (HasLabels ? $", {ClassCount} classes" : "");

    /// <summary>
    /// A tensor that belongs to the dataset for good: never from the pool, even when made inside a
    /// TensorScope, which would otherwise hand its buffer back when the scope ends.
    /// </summary>
    internal static Tensor NewTensor(Shape shape) => new(shape, GC.AllocateUninitializedArray<float>(shape.Size));

    static Tensor GatherRows(Tensor source, ReadOnlySpan<int> rows)
    {
        var result = NewTensor(source.Shape.WithBatch(rows.Length));
        source.GatherRows(rows, result);
        return result;
    }

    /// <summary>One vectorised pass over everything; the row-by-row search runs only once a bad value is known to exist.</summary>
    static void RequireFinite(Tensor tensor, string what)
    {
        var values = tensor.Span;
        if (values.IsEmpty || TensorPrimitives.IsFiniteAll<float>(values)) return;   // IsFiniteAll says false for no values
        int index = TensorPrimitives.IndexOfMax(values); // NaN wins IndexOfMax; +Inf does too when there is no NaN
        if (float.IsFinite(values[index])) index = TensorPrimitives.IndexOfMin(values); // only -Inf is left
        int rowLength = tensor.Length / tensor.Shape[0];
        int row = index / rowLength;
        throw new ArgumentException(
            $"The {what} of example (row) {row} hold {values[index]} at position {index - row * rowLength} of {rowLength}; " +
            "data must be finite. Remove or impute the missing values before training.", what);
    }

    static int LargestLabel(Tensor labels)
    {
        var values = labels.Span;
        if (values.Length == 0) return -1;
        for (int i = 0; i < values.Length; i++)
            if (!(values[i] >= 0 && values[i] == MathF.Floor(values[i])))
                throw new ArgumentException(
                    $"Targets of shape [N] are class labels and must be whole numbers 0 or more, but label {i} is {values[i]}. " +
                    "For regression targets use shape [N, 1].", "targets");
        float largest = TensorPrimitives.Max(values);
        if (largest >= MaxClassCount)
            throw new ArgumentException(
                $"Class labels go up to {largest:R}, implying more than the {MaxClassCount:N0} classes supported. " +
                "For a numeric target use shape [N, 1] (regression).", "targets");
        return (int)largest;
    }
}
