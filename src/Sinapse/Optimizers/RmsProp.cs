using System.Numerics.Tensors;
using Sinapse.Tensors;

namespace Sinapse.Optimizers;

/// <summary>
/// RMSProp (Hinton's lecture 6e), as torch.optim.RMSprop: AdaGrad with a forgetting sum,
/// s ← αs + (1 − α)g²; w ← w − lr·g / (√s + ε). Centered, it divides by an estimate of the
/// gradient's variance instead, s − ḡ² with ḡ ← αḡ + (1 − α)g; with momentum μ it keeps
/// b ← μb + g / (√s + ε) and steps w ← w − lr·b.
/// </summary>
public sealed class RmsProp : Optimizer
{
    public RmsProp(IEnumerable<Tensor> parameters, float learningRate = 1e-2f, float alpha = 0.99f, float epsilon = 1e-8f, float weightDecay = 0f,
        float momentum = 0f, bool centered = false)
        : this([new ParameterGroup(parameters, learningRate, weightDecay)], alpha, epsilon, momentum, centered) { }

    public RmsProp(IEnumerable<ParameterGroup> groups, float alpha = 0.99f, float epsilon = 1e-8f, float momentum = 0f, bool centered = false) : base(groups)
    {
        if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentException($"RMSProp's smoothing constant alpha must be in [0, 1], got {alpha}.");
        if (!(epsilon >= 0)) throw new ArgumentException($"RMSProp's epsilon must be >= 0, got {epsilon}.");
        if (!(momentum >= 0 && momentum < 1)) throw new ArgumentException($"RMSProp's momentum must be in [0, 1), got {momentum}.");
        (Alpha, Epsilon, Momentum, Centered) = (alpha, epsilon, momentum, centered);
    }

    public float Alpha { get; }
    public float Epsilon { get; }
    public float Momentum { get; }
    public bool Centered { get; }

    protected override IEnumerable<string> RequiredBuffers =>
        ["square_avg", .. Centered ? new[] { "grad_avg" } : [], .. Momentum > 0f ? new[] { "momentum_buffer" } : []];

    protected override void Update(Span<float> parameter, ReadOnlySpan<float> gradient, ParameterGroup group, ParameterState state)
    {
        gradient = ApplyWeightDecay(parameter, gradient, group);
        var squareAverage = state.Buffer("square_avg");
        var average = Scratch(1, parameter.Length);
        var step = Scratch(2, parameter.Length);
        // PyTorch's ops in order, so each rounds as it does:
        // s ← s·α + ((1 − α)·g)·g
        TensorPrimitives.Multiply(squareAverage, Alpha, squareAverage);
        TensorPrimitives.Multiply(gradient, Complement(Alpha), step);
        TensorPrimitives.MultiplyAdd(step, gradient, squareAverage, squareAverage);
        if (Centered)
        {
            // ḡ ← ḡ·α + (1 − α)·g; avg = √(s − ḡ·ḡ)
            var gradientAverage = state.Buffer("grad_avg");
            TensorPrimitives.Multiply(gradientAverage, Alpha, gradientAverage);
            TensorPrimitives.MultiplyAdd(gradient, Complement(Alpha), gradientAverage, gradientAverage);
            TensorPrimitives.Multiply(gradientAverage, gradientAverage, average);
            TensorPrimitives.Subtract(squareAverage, average, average);
            TensorPrimitives.Sqrt(average, average);
        }
        else TensorPrimitives.Sqrt(squareAverage, average);
        TensorPrimitives.Add(average, Epsilon, average);
        if (Momentum > 0f)
        {
            // b ← b·μ + g / avg; w ← w − lr·b
            var buffer = state.Buffer("momentum_buffer");
            TensorPrimitives.Divide(gradient, average, step);
            TensorPrimitives.MultiplyAdd(buffer, Momentum, step, buffer);
            TensorPrimitives.MultiplyAdd(buffer, -group.LearningRate, parameter, parameter);
        }
        else
        {
            // w ← w + (−lr·g) / avg
            TensorPrimitives.Multiply(gradient, -group.LearningRate, step);
            TensorPrimitives.Divide(step, average, step);
            TensorPrimitives.Add(parameter, step, parameter);
        }
    }
}
