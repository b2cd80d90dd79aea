using System.Numerics.Tensors;
using Sinapse.Tensors;

namespace Sinapse.Optimizers;

/// <summary>
/// Adam (Kingma and Ba, 2015) with bias-corrected first and second moment estimates; with
/// <c>decoupled</c> it is AdamW (Loshchilov and Hutter), which shrinks weights by α·λ directly
/// instead of adding λw to the gradient.
/// </summary>
public sealed class Adam : Optimizer
{
    public Adam(IEnumerable<Tensor> parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0f, bool decoupled = false)
        : this([new ParameterGroup(parameters, learningRate, weightDecay)], beta1, beta2, epsilon, decoupled) { }

    public Adam(IEnumerable<ParameterGroup> groups, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, bool decoupled = false) : base(groups)
    {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) throw new ArgumentException($"Adam's betas must be in [0, 1), got ({beta1}, {beta2}).");
        if (!(epsilon > 0)) throw new ArgumentException($"Adam's epsilon must be > 0, got {epsilon}.");
        (Beta1, Beta2, Epsilon, Decoupled) = (beta1, beta2, epsilon, decoupled);
    }

    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Epsilon { get; }
    public bool Decoupled { get; }

    protected override void Update(Span<float> parameter, ReadOnlySpan<float> gradient, ParameterGroup group, ParameterState state)
    {
        gradient = ApplyWeightDecay(parameter, gradient, group, Decoupled);
        var m = state.Buffer("exp_avg");
        var v = state.Buffer("exp_avg_sq");
        var term = Scratch(1, parameter.Length);
        var step = Scratch(2, parameter.Length);
        double correction1 = 1 - Math.Pow(Written(Beta1), state.Step);
        double correction2 = 1 - Math.Pow(Written(Beta2), state.Step);
        float stepSize = (float)(group.LearningRate / correction1);
        float rootCorrection2 = (float)Math.Sqrt(correction2);
        // Each line is one of PyTorch's tensor ops, in its order, so each rounds as it does.
        // m ← m·β1 + (1 − β1)·g
        TensorPrimitives.Multiply(m, Beta1, m);
        TensorPrimitives.MultiplyAdd(gradient, Complement(Beta1), m, m);
        // v ← v·β2 + ((1 − β2)·g)·g   (addcmul_ with value = 1 − β2)
        TensorPrimitives.Multiply(v, Beta2, v);
        TensorPrimitives.Multiply(gradient, Complement(Beta2), term);
        TensorPrimitives.MultiplyAdd(term, gradient, v, v);
        // w ← w + (−α/(1 − β1ᵗ))·m / (√v / √(1 − β2ᵗ) + ε)
        TensorPrimitives.Sqrt(v, term);
        TensorPrimitives.Divide(term, rootCorrection2, term);
        TensorPrimitives.Add(term, Epsilon, term);
        TensorPrimitives.Multiply(m, -stepSize, step);
        TensorPrimitives.Divide(step, term, step);
        TensorPrimitives.Add(parameter, step, parameter);
    }
}
