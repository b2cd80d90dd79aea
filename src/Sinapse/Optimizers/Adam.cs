using System.Numerics.Tensors;
using Sinapse.Tensors;

namespace Sinapse.Optimizers;

/// <summary>
/// Adam (Kingma and Ba, 2015) with bias-corrected first and second moment estimates; with
/// <c>decoupled</c> it is AdamW (Loshchilov and Hutter), which shrinks weights by α·λ directly
/// instead of adding λw to the gradient. With <c>amsgrad</c> (Reddi et al., 2018) it divides by
/// the largest second moment estimate seen so far, kept as the state "max_exp_avg_sq", so the step
/// size never grows back when the gradients shrink.
/// </summary>
public sealed class Adam : Optimizer
{
    /// <summary>AdamW's weight decay when none is given, as torch.optim.AdamW's (Adam's is 0).</summary>
    public const float DecoupledWeightDecay = 0.01f;

    /// <param name="weightDecay">λ; by default PyTorch's: 0 for Adam, <see cref="DecoupledWeightDecay"/> for AdamW (<paramref name="decoupled"/>).</param>
    public Adam(IEnumerable<Tensor> parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float? weightDecay = null,
        bool decoupled = false, bool amsgrad = false)
        : this([new ParameterGroup(parameters, learningRate, weightDecay)], beta1, beta2, epsilon, decoupled, amsgrad) { }

    /// <param name="groups">Groups made without a weight decay take PyTorch's default: 0 for Adam, <see cref="DecoupledWeightDecay"/> for AdamW.</param>
    public Adam(IEnumerable<ParameterGroup> groups, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, bool decoupled = false, bool amsgrad = false)
        : base(groups, decoupled ? DecoupledWeightDecay : 0f)
    {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) throw new ArgumentException($"Adam's betas must be in [0, 1), got ({beta1}, {beta2}).");
        if (!(epsilon > 0)) throw new ArgumentException($"Adam's epsilon must be > 0, got {epsilon}.");
        (Beta1, Beta2, Epsilon, Decoupled, Amsgrad) = (beta1, beta2, epsilon, decoupled, amsgrad);
    }

    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Epsilon { get; }
    public bool Decoupled { get; }
    public bool Amsgrad { get; }

    protected override IEnumerable<string> RequiredBuffers => Amsgrad ? ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"] : ["exp_avg", "exp_avg_sq"];

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
        // AMSGrad: v_max ← max(v_max, v), and v_max stands for v below.
        if (Amsgrad)
        {
            var largest = state.Buffer("max_exp_avg_sq");
            TensorPrimitives.Max(largest, v, largest);
            v = largest;
        }
        // w ← w + (−α/(1 − β1ᵗ))·m / (√v / √(1 − β2ᵗ) + ε)
        TensorPrimitives.Sqrt(v, term);
        TensorPrimitives.Divide(term, rootCorrection2, term);
        TensorPrimitives.Add(term, Epsilon, term);
        TensorPrimitives.Multiply(m, -stepSize, step);
        TensorPrimitives.Divide(step, term, step);
        TensorPrimitives.Add(parameter, step, parameter);
    }
}
