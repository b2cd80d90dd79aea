using System.Numerics.Tensors;
using Sinapse.Autograd;
using Sinapse.Kernels;
using Sinapse.Tensors;

namespace Sinapse.Ops;

public static partial class F
{
    /// <summary>
    /// Cross-entropy of softmax(<paramref name="logits"/>) over the class axis, as PyTorch's
    /// cross_entropy. The logits are [N, C], [N, C, d1, d2, …] (classes on axis 1) or one
    /// example [C]; the target holds class indices, whole numbers of shape [N], [N, d1, d2, …]
    /// or [], or class probabilities (one-hot or soft) of the logits' own shape. Fused: the
    /// gradient is softmax·Σq − q for the target weights q of each position, with no softmax
    /// kept on the tape and no division by a probability.
    /// </summary>
    /// <param name="weight">
    /// One weight per class [C], or null. A class-index target's term is scaled by its class's
    /// weight and the mean divides by the sum of those weights; with probabilities each class's
    /// share is scaled and the mean divides by the number of positions. It receives no gradient.
    /// </param>
    /// <param name="ignoreIndex">
    /// Class-index targets equal to it contribute nothing, neither to the sum nor to the mean's
    /// denominator, so a mean over nothing but ignored targets is NaN. Probability targets take
    /// none: it must stay negative.
    /// </param>
    /// <param name="labelSmoothing">
    /// ε in [0, 1]: each target becomes (1 − ε)·target + ε/C over the classes, weights applied
    /// after, with the mean's denominator unchanged.
    /// </param>
    public static Tensor CrossEntropy(Tensor logits, Tensor target, Reduction reduction = Reduction.Mean,
        Tensor? weight = null, int ignoreIndex = -100, float labelSmoothing = 0f)
    {
        const string op = "CrossEntropy";
        var axis = ClassAxis.Of(op, logits, target, weight, ignoreIndex, allowProbabilities: true);
        CheckLabelSmoothing(op, labelSmoothing);
        int positions = axis.Positions, classes = axis.Classes;
        bool labels = axis.Labels;
        // The target weights of a position are q = (1 − ε)·(w_y·onehot(y) or w ⊙ t) + (ε/C)·w.
        float kept = 1f - labelSmoothing, spread = classes == 0 ? 0f : labelSmoothing / classes;
        float weightTotal = weight == null ? classes : TensorPrimitives.Sum(weight.Span);
        var rows = axis.ClassLast(logits);
        var targetRows = labels ? target : axis.ClassLast(target);
        var probabilities = Tensor.Empty(positions, classes);
        var masses = Tensor.Empty(positions);
        var terms = Tensor.Empty(axis.OutputShape);

        ForPositions(positions, classes, (start, end) =>
        {
            ReadOnlySpan<float> z = rows.Span, t = targetRows.Span, w = weight == null ? default : weight.Span;
            Span<float> scratch = weight != null && !labels ? new float[classes] : default;
            for (int r = start; r < end; r++)
            {
                if (classes == 0 || (labels && t[r] == ignoreIndex))
                {
                    terms.Span[r] = masses.Span[r] = 0f;
                    continue;
                }
                var row = z.Slice(r * classes, classes);
                var p = probabilities.Span.Slice(r * classes, classes);
                int top = TensorPrimitives.IndexOfMax(row);
                TensorPrimitives.Subtract(row, row[top], p);
                // With s = z − max, −Σ q·log softmax = Σq·log Σ e^s − Σ q·s: two non-negative parts, no cancellation.
                float hit, mass;
                if (labels)
                {
                    int y = (int)t[r];
                    float wy = weight == null ? 1f : w[y];
                    mass = kept * wy;
                    hit = kept * wy * p[y];
                }
                else
                {
                    var probability = t.Slice(r * classes, classes);
                    if (weight != null)
                    {
                        TensorPrimitives.Multiply(probability, w, scratch);
                        probability = scratch;
                    }
                    mass = kept * TensorPrimitives.Sum(probability);
                    hit = kept * TensorPrimitives.Dot(probability, p);
                }
                if (labelSmoothing != 0f)
                {
                    mass += spread * weightTotal;
                    hit += spread * (weight == null ? TensorPrimitives.Sum(p) : TensorPrimitives.Dot(w, p));
                }
                TensorPrimitives.Exp(p, p);
                // Σ e^s = 1 + rest (e^0 = 1 at the maximum), with rest summed apart: log(1 + rest) keeps
                // its digits when one class dominates, where log of the rounded sum would keep none.
                float rest = Others(p, top);
                TensorPrimitives.Divide(p, 1f + rest, p);
                terms.Span[r] = mass * (float)Math.Log(1.0 + rest) - hit;
                masses.Span[r] = mass;
            }
        });

        double denominator = labels ? LabelWeightSum(target.Span, weight, ignoreIndex) : classes == 0 ? double.NaN : positions;
        var loss = Reduce(terms, reduction, denominator);
        if (Tape.NeedsGrad(logits))
            Tape.Record(op, loss, gradOutput =>
            {
                var gradient = Tape.GradientTarget(logits, out float beta);
                // Along the last axis the rows are the gradient's own; along axis 1 they are gathered and scattered back.
                bool direct = ReferenceEquals(rows, logits);
                var rowGradients = direct ? logits.Grad! : Tensor.Empty(positions, classes);
                bool accumulate = direct && beta != 0f;
                ForPositions(positions, classes, (start, end) =>
                {
                    ReadOnlySpan<float> t = targetRows.Span, w = weight == null ? default : weight.Span;
                    for (int r = start; r < end; r++)
                    {
                        var d = rowGradients.Span.Slice(r * classes, classes);
                        if (classes == 0 || (labels && t[r] == ignoreIndex))
                        {
                            if (!accumulate) d.Clear();
                            continue;
                        }
                        int y = labels ? (int)t[r] : -1;
                        float scale = ReducedGradient(gradOutput, reduction, denominator, r), mass = masses.Span[r];
                        var p = probabilities.Span.Slice(r * classes, classes);
                        var probability = labels ? default : t.Slice(r * classes, classes);
                        int top = TensorPrimitives.IndexOfMax(p);
                        float before = accumulate ? d[top] : 0f;
                        // d = scale·(p·Σq − q); beta = 0: d may hold a stale or pooled buffer (NaN included), so it is written, not read.
                        if (accumulate) TensorPrimitives.MultiplyAdd(p, scale * mass, d, d);
                        else TensorPrimitives.Multiply(p, scale * mass, d);
                        float hit = scale * kept;
                        if (labels) d[y] -= hit * (weight == null ? 1f : w[y]);
                        else if (weight == null) TensorPrimitives.MultiplyAdd(probability, -hit, d, d);
                        else for (int c = 0; c < classes; c++) d[c] -= hit * w[c] * probability[c];
                        if (labelSmoothing != 0f)
                        {
                            if (weight == null) TensorPrimitives.Subtract(d, scale * spread, d);
                            else TensorPrimitives.MultiplyAdd(w, -scale * spread, d, d);
                        }
                        // At the most probable class p·Σq − q cancels as p nears 1; written Σ_{j≠top} q_j − Σq·Σ_{j≠top} p_j it keeps its digits.
                        float othersQ = (labels ? (y == top ? 0f : kept * (weight == null ? 1f : w[y])) : kept * Others(probability, top, w))
                            + spread * (weightTotal - (weight == null ? 1f : w[top]));
                        d[top] = before + scale * (othersQ - mass * Others(p, top));
                    }
                });
                if (!direct) axis.ScatterClassLast(rowGradients.Span, gradient, accumulate: beta != 0f);
            }, logits);
        return loss;
    }

    /// <summary>
    /// Negative log-likelihood of <paramref name="logProbabilities"/> (after a log-softmax over
    /// axis 1) at class-index targets, as PyTorch's nll_loss: inputs [N, C], [N, C, d1, …] or
    /// [C], targets [N], [N, d1, …] or []. <paramref name="weight"/> and
    /// <paramref name="ignoreIndex"/> act as in <see cref="CrossEntropy"/>.
    /// </summary>
    public static Tensor NllLoss(Tensor logProbabilities, Tensor labels, Reduction reduction = Reduction.Mean,
        Tensor? weight = null, int ignoreIndex = -100)
    {
        var axis = ClassAxis.Of("NllLoss", logProbabilities, labels, weight, ignoreIndex, allowProbabilities: false);
        var terms = Tensor.Empty(axis.OutputShape);
        ReadOnlySpan<float> x = logProbabilities.Span, y = labels.Span;
        for (int r = 0; r < axis.Positions; r++)
            terms.Span[r] = y[r] == ignoreIndex ? 0f : -(weight == null ? 1f : weight.Span[(int)y[r]]) * x[axis.Offset(r, (int)y[r])];
        double denominator = LabelWeightSum(y, weight, ignoreIndex);
        var loss = Reduce(terms, reduction, denominator);
        if (Tape.NeedsGrad(logProbabilities))
            Tape.Record("NllLoss", loss, gradOutput =>
            {
                var d = Tape.GradientTarget(logProbabilities, out float beta);
                if (beta == 0f) d.Clear();
                ReadOnlySpan<float> y = labels.Span;
                for (int r = 0; r < axis.Positions; r++)
                    if (y[r] != ignoreIndex)
                        d[axis.Offset(r, (int)y[r])] -= ReducedGradient(gradOutput, reduction, denominator, r) * (weight == null ? 1f : weight.Span[(int)y[r]]);
            }, logProbabilities);
        return loss;
    }

    /// <summary>Rejects a label smoothing outside [0, 1] (NaN included), naming <paramref name="owner"/>.</summary>
    internal static void CheckLabelSmoothing(string owner, float labelSmoothing)
    {
        if (!(labelSmoothing >= 0f && labelSmoothing <= 1f))
            throw new ArgumentException($"{owner}: labelSmoothing must be in [0, 1], got {labelSmoothing}.", nameof(labelSmoothing));
    }

    /// <summary>Σ_{j≠skip} values[j] (weighted by <paramref name="weight"/> unless it is empty), summed apart from the skipped one.</summary>
    private static float Others(ReadOnlySpan<float> values, int skip, ReadOnlySpan<float> weight = default) => weight.IsEmpty
        ? TensorPrimitives.Sum(values[..skip]) + TensorPrimitives.Sum(values[(skip + 1)..])
        : TensorPrimitives.Dot(values[..skip], weight[..skip]) + TensorPrimitives.Dot(values[(skip + 1)..], weight[(skip + 1)..]);

    /// <summary>The mean's denominator for class-index targets: the summed weights of the targets not ignored (their count without weights).</summary>
    private static double LabelWeightSum(ReadOnlySpan<float> labels, Tensor? weight, int ignoreIndex)
    {
        double sum = 0;
        foreach (var label in labels)
            if (label != ignoreIndex) sum += weight == null ? 1.0 : weight.Span[(int)label];
        return sum;
    }

    /// <summary>Runs <paramref name="body"/>(start, end) over the positions, split over the workers when the logits are large enough to pay for it.</summary>
    private static void ForPositions(int positions, int classes, Action<int, int> body)
    {
        const int ParallelThreshold = 1 << 14;
        int parts = (long)positions * classes >= ParallelThreshold && positions > 1 ? Workers.Available : 1;
        if (parts == 1) body(0, positions);
        else Workers.For(parts, part =>
        {
            var (start, end) = Kernels.Reductions.Part(positions, part, parts);
            body(start, end);
        });
    }

    /// <summary>
    /// The shapes of a loss over a class axis: the input as [N, C, inner] (inner the product of
    /// d1, d2, …; one example [C] is N = 1), one loss term per position (n, i) in the order of the
    /// target's [N, d1, …], and whether the target holds class indices or probabilities.
    /// </summary>
    private readonly record struct ClassAxis(int Batch, int Classes, int Inner, bool Labels, Shape OutputShape)
    {
        public int Positions => Batch * Inner;

        /// <summary>Where class <paramref name="c"/> of position <paramref name="position"/> lies in the input.</summary>
        public int Offset(int position, int c) => ((position / Inner) * Classes + c) * Inner + position % Inner;

        /// <summary>Checks the shapes, the weight and every class index before any arithmetic.</summary>
        public static ClassAxis Of(string op, Tensor input, Tensor target, Tensor? weight, int ignoreIndex, bool allowProbabilities, string? inputName = null)
        {
            string what = inputName ?? (allowProbabilities ? "logits" : "log-probabilities");
            if (input.Rank == 0) throw new ArgumentException($"{op} needs {what} [C], [N, C] or [N, C, d1, …] (classes on axis 1), got a scalar.");
            var dims = input.Shape.ToArray();
            var positionShape = new Shape(dims.Length == 1 ? [] : [dims[0], .. dims[2..]]);
            int classes = dims.Length == 1 ? dims[0] : dims[1];
            int batch = dims.Length == 1 ? 1 : dims[0];
            int inner = 1;
            for (int a = 2; a < dims.Length; a++) inner *= dims[a];
            bool labels = target.Shape == positionShape;
            if (!labels && !(allowProbabilities && target.Shape == input.Shape))
                throw new ArgumentException(allowProbabilities
                    ? $"{op}: logits {input.Shape} need class indices {positionShape} or class probabilities {input.Shape}, got a target of shape {target.Shape}."
                    : $"{op}: {what} {input.Shape} need class indices {positionShape}, got a target of shape {target.Shape}.");
            if (weight != null && (weight.Rank != 1 || weight.Length != classes))
                throw new ArgumentException($"{op}: weight must hold one value per class, [{classes}], got {weight.Shape}.", nameof(weight));
            if (labels)
            {
                var values = target.Span;
                for (int i = 0; i < values.Length; i++)
                {
                    float label = values[i];
                    if (label != ignoreIndex && !(label >= 0 && label < classes && label == MathF.Floor(label)))
                        throw new ArgumentException($"{op}: target {label} at position {i} is not a class index in [0, {classes}) nor the ignore index {ignoreIndex}.");
                }
            }
            else if (ignoreIndex >= 0)
                throw new ArgumentException($"{op}: ignoreIndex applies to class-index targets; with class probabilities it must stay negative (default -100), got {ignoreIndex}.", nameof(ignoreIndex));
            return new ClassAxis(batch, classes, inner, labels, positionShape);
        }

        /// <summary><paramref name="x"/> as [positions, C] rows: itself when the class axis is last, else a copy with it moved there.</summary>
        public Tensor ClassLast(Tensor x)
        {
            if (Inner == 1) return x;
            var rows = Tensor.Empty(Positions, Classes);
            ReadOnlySpan<float> source = x.Span;
            Span<float> destination = rows.Span;
            int block = Classes * Inner;
            for (int n = 0; n < Batch; n++)
                for (int c = 0; c < Classes; c++)
                {
                    var plane = source.Slice(n * block + c * Inner, Inner);
                    var column = destination.Slice(n * block + c);
                    for (int i = 0; i < Inner; i++) column[i * Classes] = plane[i];
                }
            return rows;
        }

        /// <summary>The inverse of <see cref="ClassLast"/>, written into (or, accumulating, added to) <paramref name="destination"/>.</summary>
        public void ScatterClassLast(ReadOnlySpan<float> rows, Span<float> destination, bool accumulate)
        {
            int block = Classes * Inner;
            for (int n = 0; n < Batch; n++)
                for (int c = 0; c < Classes; c++)
                {
                    var plane = destination.Slice(n * block + c * Inner, Inner);
                    var column = rows.Slice(n * block + c);
                    if (accumulate) for (int i = 0; i < Inner; i++) plane[i] += column[i * Classes];
                    else for (int i = 0; i < Inner; i++) plane[i] = column[i * Classes];
                }
        }
    }
}
