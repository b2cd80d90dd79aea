using System.Numerics.Tensors;
using Sinapse.Tensors;

namespace Sinapse.Optimizers;

/// <summary>
/// AdaGrad (Duchi et al., 2011), as torch.optim.Adagrad: each weight's step is divided by the root
/// of its summed squared gradients, s ← s + g²; w ← w − α_t·g / (√s + ε), with
/// α_t = α / (1 + (t − 1)·lrDecay). Weights with large past gradients slow down for good, which
/// suits sparse features and eventually stalls dense ones (the motivation for RMSProp).
/// </summary>
public sealed class AdaGrad : Optimizer
{
    public AdaGrad(IEnumerable<Tensor> parameters, float learningRate = 1e-2f, float learningRateDecay = 0f, float weightDecay = 0f,
        float initialAccumulatorValue = 0f, float epsilon = 1e-10f)
        : this([new ParameterGroup(parameters, learningRate, weightDecay)], learningRateDecay, initialAccumulatorValue, epsilon) { }

    public AdaGrad(IEnumerable<ParameterGroup> groups, float learningRateDecay = 0f, float initialAccumulatorValue = 0f, float epsilon = 1e-10f) : base(groups)
    {
        if (!(learningRateDecay >= 0) || float.IsInfinity(learningRateDecay)) throw new ArgumentException($"AdaGrad's learning-rate decay must be a finite number >= 0, got {learningRateDecay}.");
        if (!(initialAccumulatorValue >= 0) || float.IsInfinity(initialAccumulatorValue)) throw new ArgumentException($"AdaGrad's initial accumulator value must be a finite number >= 0, got {initialAccumulatorValue}.");
        if (!(epsilon >= 0)) throw new ArgumentException($"AdaGrad's epsilon must be >= 0, got {epsilon}.");
        (LearningRateDecay, InitialAccumulatorValue, Epsilon) = (learningRateDecay, initialAccumulatorValue, epsilon);
    }

    public float LearningRateDecay { get; }
    public float InitialAccumulatorValue { get; }
    public float Epsilon { get; }

    protected override IEnumerable<string> RequiredBuffers => ["sum"];

    protected override void Update(Span<float> parameter, ReadOnlySpan<float> gradient, ParameterGroup group, ParameterState state)
    {
        gradient = ApplyWeightDecay(parameter, gradient, group);
        bool first = !state.Has("sum");
        var sum = state.Buffer("sum");
        if (first) sum.Fill(InitialAccumulatorValue);
        var denominator = Scratch(1, parameter.Length);
        var step = Scratch(2, parameter.Length);
        float rate = (float)(group.LearningRate / (1 + (state.Step - 1) * (double)LearningRateDecay));
        // PyTorch's ops in order: s.addcmul_(g, g); std = s.sqrt().add_(ε); w.addcdiv_(g, std, −α_t).
        TensorPrimitives.MultiplyAdd(gradient, gradient, sum, sum);
        TensorPrimitives.Sqrt(sum, denominator);
        TensorPrimitives.Add(denominator, Epsilon, denominator);
        TensorPrimitives.Multiply(gradient, -rate, step);
        TensorPrimitives.Divide(step, denominator, step);
        TensorPrimitives.Add(parameter, step, parameter);
    }
}
