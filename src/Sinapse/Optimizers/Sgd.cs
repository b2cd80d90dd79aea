using System.Numerics.Tensors;
using Sinapse.Tensors;

namespace Sinapse.Optimizers;

/// <summary>
/// Stochastic gradient descent, w ← w − α·g, optionally with momentum in PyTorch's form
/// (b ← μb + g; w ← w − α·b) or Nesterov's (w ← w − α·(g + μb)).
/// </summary>
public sealed class Sgd : Optimizer
{
    public Sgd(IEnumerable<Tensor> parameters, float learningRate, float momentum = 0f, bool nesterov = false, float weightDecay = 0f)
        : this([new ParameterGroup(parameters, learningRate, weightDecay)], momentum, nesterov) { }

    public Sgd(IEnumerable<ParameterGroup> groups, float momentum = 0f, bool nesterov = false) : base(groups)
    {
        if (!(momentum >= 0 && momentum < 1)) throw new ArgumentException($"SGD momentum must be in [0, 1), got {momentum}.");
        if (nesterov && momentum == 0) throw new ArgumentException("Nesterov momentum needs a momentum > 0.");
        Momentum = momentum;
        Nesterov = nesterov;
    }

    public float Momentum { get; }
    public bool Nesterov { get; }

    protected override void Update(Span<float> parameter, Span<float> gradient, ParameterGroup group, ParameterState state)
    {
        AddWeightDecay(gradient, parameter, group.WeightDecay);
        if (Momentum != 0f)
        {
            bool first = !state.Has("momentum_buffer");
            var buffer = state.Buffer("momentum_buffer");
            // PyTorch starts the buffer at the first gradient rather than at μ·0 + g (the same thing).
            if (first) gradient.CopyTo(buffer);
            else TensorPrimitives.MultiplyAdd(buffer, Momentum, gradient, buffer);
            if (Nesterov) TensorPrimitives.MultiplyAdd(buffer, Momentum, gradient, gradient);
            else buffer.CopyTo(gradient);
        }
        TensorPrimitives.MultiplyAdd(gradient, -group.LearningRate, parameter, parameter);
    }
}
