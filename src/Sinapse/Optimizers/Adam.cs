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

    protected override void Update(Span<float> parameter, Span<float> gradient, ParameterGroup group, ParameterState state)
    {
        if (Decoupled) TensorPrimitives.Multiply(parameter, 1f - group.LearningRate * group.WeightDecay, parameter);
        else AddWeightDecay(gradient, parameter, group.WeightDecay);
        var m = state.Buffer("exp_avg");
        var v = state.Buffer("exp_avg_sq");
        double correction1 = 1 - Math.Pow(Beta1, StepCount);
        double correction2 = 1 - Math.Pow(Beta2, StepCount);
        float stepSize = (float)(group.LearningRate / correction1);
        float rootCorrection2 = (float)Math.Sqrt(correction2);
        for (int i = 0; i < parameter.Length; i++)
        {
            float g = gradient[i];
            m[i] = Beta1 * m[i] + (1 - Beta1) * g;
            v[i] = Beta2 * v[i] + (1 - Beta2) * g * g;
            // PyTorch's arrangement: w −= (α / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
            parameter[i] -= stepSize * m[i] / (MathF.Sqrt(v[i]) / rootCorrection2 + Epsilon);
        }
    }
}
