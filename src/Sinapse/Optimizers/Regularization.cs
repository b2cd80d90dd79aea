using System.Globalization;
using System.Numerics.Tensors;
using System.Text;
using Sinapse.Autograd;
using Sinapse.Layers;
using Sinapse.Tensors;

namespace Sinapse.Optimizers;

/// <summary>
/// L1 and L2 penalties on a model's weights, added to the loss as one op on the tape (set
/// <see cref="Training.Trainer.Regularization"/>, or add <see cref="Penalty(Module)"/> to a loss).
/// The convention is Keras's regularizers: l1·Σ|w| + l2·Σw², so the gradient gains
/// l1·sign(w) + 2·l2·w. (PyTorch's weight_decay λ is the gradient term λw, i.e. l2 = λ/2; for
/// decoupled weight decay use <see cref="Adam"/> or <see cref="Sgd"/> with <c>decoupled: true</c>.)
/// <para>
/// By default only weights are penalised — parameters named "weight" — and not biases nor the
/// scale γ of normalisation layers (modules whose type name contains "Norm", which name γ
/// "weight" as PyTorch does). Frozen parameters are left out: the penalty could not move them.
/// </para>
/// </summary>
public sealed class Regularization
{
    /// <param name="l1">λ₁ of λ₁·Σ|w| (Keras's <c>l1</c>): pushes weights to exactly/near zero, a sparse model.</param>
    /// <param name="l2">λ₂ of λ₂·Σw² (Keras's <c>l2</c>): shrinks weights in proportion to their size.</param>
    /// <param name="appliesTo">Which parameters to penalise, given the owning module and the parameter's own name; <see cref="IsWeight"/> by default.</param>
    public Regularization(float l1 = 0f, float l2 = 0f, Func<Module, string, bool>? appliesTo = null)
    {
        if (!(l1 >= 0) || float.IsInfinity(l1)) throw new ArgumentOutOfRangeException(nameof(l1), l1, "The L1 factor must be a finite number >= 0.");
        if (!(l2 >= 0) || float.IsInfinity(l2)) throw new ArgumentOutOfRangeException(nameof(l2), l2, "The L2 factor must be a finite number >= 0.");
        (L1, L2, AppliesTo) = (l1, l2, appliesTo ?? IsWeight);
    }

    public float L1 { get; }
    public float L2 { get; }
    public Func<Module, string, bool> AppliesTo { get; }

    /// <summary>The default selection: parameters named "weight", except in normalisation layers.</summary>
    public static bool IsWeight(Module owner, string name) =>
        name == "weight" && !owner.GetType().Name.Contains("Norm", StringComparison.Ordinal);

    /// <summary>The trainable parameters of <paramref name="model"/> this penalty applies to.</summary>
    public List<Tensor> Weights(Module model)
    {
        var weights = new List<Tensor>();
        foreach (var (_, module) in model.NamedModules())
            foreach (var (name, parameter) in module.OwnParameters)
                if (parameter.RequiresGrad && AppliesTo(module, name)) weights.Add(parameter);
        return weights;
    }

    /// <summary>l1·Σ|w| + l2·Σw² over <paramref name="model"/>'s selected weights, as a scalar on the tape.</summary>
    public Tensor Penalty(Module model) => Penalty(Weights(model), L1, L2);

    /// <summary>l1·Σ|w| + l2·Σw² over <paramref name="weights"/>, as a scalar recorded on the tape.</summary>
    public static Tensor Penalty(IReadOnlyList<Tensor> weights, float l1, float l2)
    {
        double sum = 0;
        foreach (var w in weights)
        {
            if (l1 != 0f) sum += l1 * (double)TensorPrimitives.SumOfMagnitudes(w.Span);
            if (l2 != 0f) sum += l2 * (double)TensorPrimitives.SumOfSquares(w.Span);
        }
        var y = Tensor.Scalar((float)sum);
        if (weights.Count > 0)
            Tape.Record("Regularization", y, dy =>
            {
                float upstream = dy.Span[0], scale1 = l1 * upstream, scale2 = 2 * l2 * upstream;
                foreach (var w in weights)
                {
                    if (!w.RequiresGrad) continue;
                    var values = w.Span;
                    var target = Tape.GradientTarget(w, out float beta);
                    if (beta == 0f) TensorPrimitives.Multiply(values, scale2, target);
                    else TensorPrimitives.MultiplyAdd(values, scale2, target, target);
                    // d|w|/dw = sign(w), 0 at 0 as in PyTorch; TensorPrimitives has no float-valued sign.
                    if (scale1 != 0f)
                        for (int i = 0; i < values.Length; i++)
                            target[i] += values[i] > 0f ? scale1 : values[i] < 0f ? -scale1 : 0f;
                }
            }, [.. weights]);
        return y;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"L1 {L1:G4}·Σ|w| + L2 {L2:G4}·Σw²");

    /// <summary>
    /// How sparse <paramref name="model"/> is: per layer (module path), the share of parameters with
    /// |w| below <paramref name="threshold"/>, and in total. Only weights (<see cref="IsWeight"/>)
    /// unless <paramref name="weightsOnly"/> is false. Frozen parameters count too.
    /// </summary>
    public static SparsityReport Sparsity(Module model, float threshold = 1e-3f, bool weightsOnly = true)
    {
        if (!(threshold >= 0)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The threshold must be >= 0.");
        var layers = new List<LayerSparsity>();
        foreach (var (path, module) in model.NamedModules())
        {
            long below = 0, count = 0;
            foreach (var (name, parameter) in module.OwnParameters)
            {
                if (weightsOnly && !IsWeight(module, name)) continue;
                foreach (var value in parameter.Span)
                    if (MathF.Abs(value) < threshold) below++;
                count += parameter.Length;
            }
            if (count > 0) layers.Add(new LayerSparsity(path.Length == 0 ? "(model)" : path, below, count));
        }
        return new SparsityReport(threshold, layers);
    }
}

/// <summary>One layer's sparsity: <see cref="Below"/> of its <see cref="Count"/> weights have |w| under the threshold.</summary>
public sealed record LayerSparsity(string Layer, long Below, long Count)
{
    public double Share => Count == 0 ? 0 : (double)Below / Count;
}

/// <summary>Per-layer and total share of weights with |w| below <see cref="Threshold"/>; prints as a table.</summary>
public sealed record SparsityReport(float Threshold, IReadOnlyList<LayerSparsity> Layers)
{
    public long Below => Layers.Sum(l => l.Below);
    public long Count => Layers.Sum(l => l.Count);
    public double Share => Count == 0 ? 0 : (double)Below / Count;

    public override string ToString()
    {
        int width = Math.Max(5, Layers.Count == 0 ? 0 : Layers.Max(l => l.Layer.Length));
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Sparsity (|w| < {Threshold:G3})\n");
        foreach (var layer in Layers.Append(new LayerSparsity("total", Below, Count)))
            text.Append(CultureInfo.InvariantCulture, $"  {layer.Layer.PadRight(width)}  {layer.Below,9:N0} / {layer.Count,9:N0}  {layer.Share * 100,6:0.0}%\n");
        return text.ToString().TrimEnd('\n');
    }
}
