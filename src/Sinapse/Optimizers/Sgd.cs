using System.Numerics.Tensors;
using Sinapse.Tensors;

namespace Sinapse.Optimizers;

/// <summary>How SGD keeps its momentum: the two forms are the same method written with different state.</summary>
public enum MomentumForm
{
    /// <summary>PyTorch's: a buffer of summed gradients, b ← μb + g; w ← w − α·b.</summary>
    PyTorch,

    /// <summary>
    /// The course's: a velocity in weight units, v ← μv − αg; w ← w + v. With v = −α·b it gives
    /// the same iterates as PyTorch's form while α is constant. When α changes they part ways:
    /// PyTorch's next step is −α_new·(μb + g), rescaling the whole remembered momentum at once,
    /// while the velocity keeps the old rate in μv and applies α_new only to the new gradient.
    /// </summary>
    Course,
}

/// <summary>
/// Stochastic gradient descent, w ← w − α·g, optionally with momentum (in PyTorch's buffer form or
/// the course's velocity form, see <see cref="MomentumForm"/>) and Nesterov's accelerated gradient.
/// Dampening d, as PyTorch's, lets only (1 − d)·g of each new gradient into the momentum after the
/// first step (which takes the whole gradient).
/// </summary>
public sealed class Sgd : Optimizer
{
    public Sgd(IEnumerable<Tensor> parameters, float learningRate, float momentum = 0f, bool nesterov = false, float weightDecay = 0f,
        MomentumForm form = MomentumForm.PyTorch, bool decoupled = false, float dampening = 0f)
        : this([new ParameterGroup(parameters, learningRate, weightDecay)], momentum, nesterov, form, decoupled, dampening) { }

    /// <param name="decoupled">Weight decay as w ← (1 − αλ)·w before the update (as AdamW) instead of adding λw to the gradient.</param>
    /// <param name="dampening">d in b ← μb + (1 − d)·g; Nesterov's look-ahead needs 0, as in PyTorch.</param>
    public Sgd(IEnumerable<ParameterGroup> groups, float momentum = 0f, bool nesterov = false, MomentumForm form = MomentumForm.PyTorch, bool decoupled = false,
        float dampening = 0f)
        : base(groups)
    {
        if (!(momentum >= 0 && momentum < 1)) throw new ArgumentException($"SGD momentum must be in [0, 1), got {momentum}.");
        if (!float.IsFinite(dampening)) throw new ArgumentException($"SGD dampening must be a finite number, got {dampening}.");
        if (nesterov && (momentum == 0 || dampening != 0))
            throw new ArgumentException($"Nesterov momentum needs a momentum > 0 and no dampening (as in PyTorch), got momentum {momentum} and dampening {dampening}.");
        if (!Enum.IsDefined(form)) throw new ArgumentException($"Unknown momentum form {form}.");
        (Momentum, Nesterov, Form, Decoupled, Dampening) = (momentum, nesterov, form, decoupled, dampening);
    }

    public float Momentum { get; }
    public bool Nesterov { get; }
    public MomentumForm Form { get; }
    public bool Decoupled { get; }
    public float Dampening { get; }

    protected override IEnumerable<string> RequiredBuffers =>
        Momentum == 0f ? [] : [Form == MomentumForm.PyTorch ? "momentum_buffer" : "velocity"];

    protected override void Update(Span<float> parameter, ReadOnlySpan<float> gradient, ParameterGroup group, ParameterState state)
    {
        gradient = ApplyWeightDecay(parameter, gradient, group, Decoupled);
        if (Momentum == 0f) TensorPrimitives.MultiplyAdd(gradient, -group.LearningRate, parameter, parameter);
        else if (Form == MomentumForm.PyTorch) PyTorchMomentum(parameter, gradient, group.LearningRate, state);
        else CourseMomentum(parameter, gradient, group.LearningRate, state);
    }

    // b ← μb + (1 − d)·g; w ← w − α·b, or for Nesterov w ← w − α·(g + μb): torch.optim.SGD's arithmetic.
    private void PyTorchMomentum(Span<float> parameter, ReadOnlySpan<float> gradient, float learningRate, ParameterState state)
    {
        bool first = !state.Has("momentum_buffer");
        var buffer = state.Buffer("momentum_buffer");
        // PyTorch starts the buffer at the first gradient rather than at μ·0 + (1 − d)·g: undamped.
        if (first) gradient.CopyTo(buffer);
        else if (Dampening == 0f) TensorPrimitives.MultiplyAdd(buffer, Momentum, gradient, buffer);
        else
        {
            TensorPrimitives.Multiply(buffer, Momentum, buffer);
            TensorPrimitives.MultiplyAdd(gradient, Complement(Dampening), buffer, buffer);
        }
        ReadOnlySpan<float> direction = buffer;
        if (Nesterov)
        {
            var lookAhead = Scratch(1, parameter.Length);
            TensorPrimitives.MultiplyAdd(buffer, Momentum, gradient, lookAhead);
            direction = lookAhead;
        }
        TensorPrimitives.MultiplyAdd(direction, -learningRate, parameter, parameter);
    }

    /// <summary>
    /// The course's velocity form: v ← μv − αg; w ← w + v.
    /// <para>
    /// The course's Nesterov takes the gradient at the look-ahead point w + μv. A training loop
    /// only computes gradients at the stored parameters, so (Sutskever et al., 2013; PyTorch does
    /// the same in its buffer form) the stored parameter is the look-ahead point θ = w + μv itself.
    /// Then the backward pass's g = ∇J(θ) is exactly the gradient Nesterov asks for, and
    /// θ_new = w_new + μv_new = (θ − μv) + v_new + μv_new = θ + μv_new − αg,
    /// since v_new − μv = −αg. So: v ← μv − αg; θ ← θ + μv − αg. The stored weights lead the
    /// course's w by μv, which vanishes as training settles (v → 0).
    /// </para>
    /// </summary>
    private void CourseMomentum(Span<float> parameter, ReadOnlySpan<float> gradient, float learningRate, ParameterState state)
    {
        // Dampening scales the gradient's share as in PyTorch's buffer, v = −α·b: v ← μv − α(1 − d)·g after the first step.
        float share = state.Has("velocity") ? Complement(Dampening) : 1f;
        var velocity = state.Buffer("velocity");
        TensorPrimitives.Multiply(velocity, Momentum, velocity);
        TensorPrimitives.MultiplyAdd(gradient, -learningRate * share, velocity, velocity);
        if (Nesterov)
        {
            TensorPrimitives.MultiplyAdd(velocity, Momentum, parameter, parameter);
            TensorPrimitives.MultiplyAdd(gradient, -learningRate, parameter, parameter);
        }
        else TensorPrimitives.Add(parameter, velocity, parameter);
    }
}
