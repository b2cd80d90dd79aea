using Sinapse.Autograd;
using Sinapse.Tensors;

namespace Sinapse.Optimizers;

/// <summary>Parameters that share hyper-parameters (PyTorch's param_groups): a lower learning rate for a pretrained body, say.</summary>
public sealed class ParameterGroup(IEnumerable<Tensor> parameters, float learningRate, float weightDecay = 0f)
{
    public IReadOnlyList<Tensor> Parameters { get; } = parameters.ToList();
    public float LearningRate { get; set; } = learningRate;
    /// <summary>L2 penalty folded into the gradient (g + λw), as PyTorch's weight_decay.</summary>
    public float WeightDecay { get; set; } = weightDecay;
}

/// <summary>
/// Updates parameters from their gradients. Each parameter's state (momentum buffers, moment
/// estimates) lives in named buffers, so <see cref="StateDict"/> / <see cref="LoadStateDict"/>
/// capture and restore an optimizer exactly, as PyTorch's state_dict does.
/// </summary>
public abstract class Optimizer
{
    private readonly Dictionary<Tensor, Dictionary<string, float[]>> state = new(ReferenceEqualityComparer.Instance);

    protected Optimizer(IEnumerable<ParameterGroup> groups)
    {
        Groups = groups.ToList();
        foreach (var group in Groups) ValidateLearningRate(group.LearningRate);
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var p in Groups.SelectMany(g => g.Parameters))
            if (!seen.Add(p)) throw new ArgumentException($"Parameter {p.Name ?? p.Shape.ToString()} appears in more than one parameter group.");
    }

    public IReadOnlyList<ParameterGroup> Groups { get; }

    /// <summary>Updates made so far (Adam's bias correction counts them; checkpoints keep them).</summary>
    public long StepCount { get; private set; }

    /// <summary>The first group's learning rate; setting it sets every group's (schedules scale each group's own).</summary>
    public float LearningRate
    {
        get => Groups[0].LearningRate;
        set
        {
            ValidateLearningRate(value);
            foreach (var group in Groups) group.LearningRate = value;
        }
    }

    public void ZeroGrad()
    {
        foreach (var p in Groups.SelectMany(g => g.Parameters)) Tape.ZeroGrad(p);
    }

    /// <summary>Updates every trainable parameter that has a gradient; frozen ones are left alone.</summary>
    public void Step()
    {
        StepCount++;
        foreach (var group in Groups)
            foreach (var p in group.Parameters)
            {
                if (!p.RequiresGrad || p.Grad == null) continue;
                Update(p.Span, p.Grad.Span, group, StateOf(p));
            }
    }

    /// <summary>One parameter's update; <paramref name="gradient"/> may be modified in place (e.g. to add weight decay).</summary>
    protected abstract void Update(Span<float> parameter, Span<float> gradient, ParameterGroup group, ParameterState state);

    private ParameterState StateOf(Tensor parameter)
    {
        if (!state.TryGetValue(parameter, out var buffers)) state[parameter] = buffers = [];
        return new ParameterState(buffers, parameter.Length);
    }

    /// <summary>Every parameter's buffers by (group, index within group) and the step count: enough to resume exactly.</summary>
    public OptimizerState StateDict()
    {
        var parameters = new List<Dictionary<string, float[]>>();
        foreach (var p in Groups.SelectMany(g => g.Parameters))
            parameters.Add(state.TryGetValue(p, out var buffers) ? buffers.ToDictionary(b => b.Key, b => (float[])b.Value.Clone()) : []);
        return new OptimizerState(StepCount, Groups.Select(g => (g.LearningRate, g.WeightDecay)).ToList(), parameters);
    }

    public void LoadStateDict(OptimizerState saved)
    {
        var all = Groups.SelectMany(g => g.Parameters).ToList();
        if (saved.Parameters.Count != all.Count || saved.Groups.Count != Groups.Count)
            throw new ArgumentException($"The saved optimizer state has {saved.Groups.Count} groups and {saved.Parameters.Count} parameters; this optimizer has {Groups.Count} and {all.Count}.");
        for (int i = 0; i < all.Count; i++)
            foreach (var (name, values) in saved.Parameters[i])
                if (values.Length != all[i].Length)
                    throw new ArgumentException($"Saved buffer '{name}' of parameter {i} ({all[i].Name}) has {values.Length} values, the parameter {all[i].Length}.");
        state.Clear();
        for (int i = 0; i < all.Count; i++)
            state[all[i]] = saved.Parameters[i].ToDictionary(b => b.Key, b => (float[])b.Value.Clone());
        for (int g = 0; g < Groups.Count; g++) (Groups[g].LearningRate, Groups[g].WeightDecay) = saved.Groups[g];
        StepCount = saved.StepCount;
    }

    protected static void ValidateLearningRate(float learningRate)
    {
        if (!(learningRate >= 0) || float.IsInfinity(learningRate))
            throw new ArgumentException($"The learning rate must be a finite number >= 0, got {learningRate}.");
    }

    /// <summary>g ← g + λw, PyTorch's coupled weight decay (an L2 penalty of λ/2·‖w‖²).</summary>
    protected static void AddWeightDecay(Span<float> gradient, ReadOnlySpan<float> parameter, float weightDecay)
    {
        if (weightDecay != 0f) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(parameter, weightDecay, gradient, gradient);
    }
}

/// <summary>A parameter's named buffers, created zeroed on first use.</summary>
public readonly struct ParameterState(Dictionary<string, float[]> buffers, int length)
{
    public Span<float> Buffer(string name)
    {
        if (!buffers.TryGetValue(name, out var values)) buffers[name] = values = new float[length];
        return values;
    }

    public bool Has(string name) => buffers.ContainsKey(name);
}

/// <summary>A snapshot of an optimizer: step count, each group's hyper-parameters, each parameter's buffers.</summary>
public sealed record OptimizerState(long StepCount, List<(float LearningRate, float WeightDecay)> Groups, List<Dictionary<string, float[]>> Parameters);
