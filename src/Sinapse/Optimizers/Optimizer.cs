using System.Numerics.Tensors;
using Sinapse.Autograd;
using Sinapse.Kernels;
using Sinapse.Tensors;

namespace Sinapse.Optimizers;

/// <summary>
/// Parameters that share hyper-parameters (PyTorch's param_groups): a lower learning rate for a
/// pretrained body, say. A group made without a weight decay takes its optimizer's default, as a
/// PyTorch group without "weight_decay" does (0, or 0.01 for AdamW).
/// </summary>
public sealed class ParameterGroup(IEnumerable<Tensor> parameters, float learningRate, float? weightDecay = null)
{
    public IReadOnlyList<Tensor> Parameters { get; } = parameters.ToList();
    public float LearningRate { get; set; } = learningRate;
    /// <summary>
    /// Weight decay λ: folded into the gradient (g + λw, an L2 penalty of λ/2·‖w‖²) as PyTorch's
    /// weight_decay, or, for an optimizer made with <c>decoupled: true</c>, w ← (1 − αλ)·w as AdamW.
    /// </summary>
    public float WeightDecay
    {
        get => weightDecay ?? 0f;
        set => weightDecay = value;
    }

    /// <summary>Whether no weight decay was ever given (made without one, never set), so that its optimizer sets its default.</summary>
    internal bool TakesDefaultWeightDecay => weightDecay == null;
}

/// <summary>
/// Updates parameters from their gradients. Each parameter's state (momentum buffers, moment
/// estimates) lives in named buffers, so <see cref="StateDict"/> / <see cref="LoadStateDict"/>
/// capture and restore an optimizer exactly, as PyTorch's state_dict does.
/// </summary>
public abstract class Optimizer : IStateful<OptimizerState>
{
    private readonly Dictionary<Tensor, Dictionary<string, float[]>> state = new(ReferenceEqualityComparer.Instance);
    // Per thread: slices of one update run on several threads at once.
    [ThreadStatic] private static float[][]? scratch;
    private readonly HashSet<Tensor> stepped = new(ReferenceEqualityComparer.Instance);

    /// <param name="defaultWeightDecay">The weight decay of groups made without one (PyTorch's default for the optimizer).</param>
    protected Optimizer(IEnumerable<ParameterGroup> groups, float defaultWeightDecay = 0f)
    {
        Groups = groups.ToList();
        foreach (var group in Groups)
        {
            if (group.TakesDefaultWeightDecay) group.WeightDecay = defaultWeightDecay;
            ValidateGroup(group.LearningRate, group.WeightDecay);
        }
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var p in Groups.SelectMany(g => g.Parameters))
            if (!seen.Add(p)) throw new ArgumentException($"Parameter {p.Name ?? p.Shape.ToString()} appears in more than one parameter group.");
    }

    public IReadOnlyList<ParameterGroup> Groups { get; }

    /// <summary>Updates made so far (schedules and logs count them; each parameter's own count is <see cref="ParameterState.Step"/>).</summary>
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
                var parameterState = StateOf(p);
                parameterState.AdvanceStep();
                // Every update rule is elementwise, so a large parameter is updated in slices on the
                // worker threads with bitwise the same result. A parameter's first update runs whole,
                // because that is when its buffers are created.
                int slices = p.Length >= ParallelLength && stepped.Contains(p) ? Workers.Count : 1;
                if (slices == 1)
                {
                    Update(p.Span, p.Grad.Span, group, parameterState);
                    stepped.Add(p);
                    continue;
                }
                Workers.For(slices, slice =>
                {
                    var (start, length) = Slice(p.Length, slices, slice);
                    Update(p.Span.Slice(start, length), p.Grad.Span.Slice(start, length), group, parameterState.Slice(start, length));
                });
            }
    }

    /// <summary>Below this many values an update is cheaper than waking the workers (memory-bound: ~64 KB).</summary>
    private const int ParallelLength = 16_384;

    /// <summary>Slice <paramref name="index"/> of <paramref name="count"/> near-equal slices, cut at 16-float (one AVX-512 vector) boundaries.</summary>
    private static (int Start, int Length) Slice(int total, int count, int index)
    {
        int vectors = (total + 15) / 16;
        int start = Math.Min(total, vectors * index / count * 16), end = Math.Min(total, vectors * (index + 1) / count * 16);
        return (start, end - start);
    }

    /// <summary>
    /// One parameter's update. The gradient is read-only, as in PyTorch (whose step never writes
    /// p.grad): callbacks that run after the step, such as the gradient-norm monitor, still see it.
    /// </summary>
    protected abstract void Update(Span<float> parameter, ReadOnlySpan<float> gradient, ParameterGroup group, ParameterState state);

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
        if (saved.StepCount < 0) throw new ArgumentException($"The saved optimizer state has a step count of {saved.StepCount}; it must be 0 or more.");
        foreach (var (learningRate, weightDecay) in saved.Groups) ValidateGroup(learningRate, weightDecay);
        for (int i = 0; i < all.Count; i++)
        {
            foreach (var (name, values) in saved.Parameters[i])
                if (values.Length != (name == ParameterState.StepBuffer ? 1 : all[i].Length))
                    throw new ArgumentException($"Saved buffer '{name}' of parameter {i} ({all[i].Name}) has {values.Length} values, the parameter {all[i].Length}.");
            // A buffer is created zeroed on first use, so one missing from an updated parameter would restart its moments silently.
            if (saved.Parameters[i].Count > 0 && RequiredBuffers.FirstOrDefault(b => !saved.Parameters[i].ContainsKey(b)) is { } absent)
                throw new ArgumentException($"The saved state of parameter {i} ({all[i].Name}) lacks the buffer '{absent}' that {GetType().Name} keeps for every updated parameter (it has {string.Join(", ", saved.Parameters[i].Keys)}).");
            if (saved.Parameters[i].TryGetValue(ParameterState.StepBuffer, out var step) && !(step[0] >= 0 && step[0] <= saved.StepCount))
                throw new ArgumentException($"The saved state of parameter {i} ({all[i].Name}) has taken {step[0]} steps, outside 0 to the optimizer's {saved.StepCount}.");
        }
        state.Clear();
        stepped.Clear();
        for (int i = 0; i < all.Count; i++)
        {
            var buffers = saved.Parameters[i].ToDictionary(b => b.Key, b => (float[])b.Value.Clone());
            // A state saved before parameters counted their own steps: each had taken every step.
            if (buffers.Count > 0) buffers.TryAdd(ParameterState.StepBuffer, [saved.StepCount]);
            state[all[i]] = buffers;
        }
        for (int g = 0; g < Groups.Count; g++) (Groups[g].LearningRate, Groups[g].WeightDecay) = saved.Groups[g];
        StepCount = saved.StepCount;
    }

    /// <summary>The buffers every updated parameter has (Adam's exp_avg and exp_avg_sq, say), which a loaded state must hold.</summary>
    protected virtual IEnumerable<string> RequiredBuffers => [];

    /// <summary>
    /// Work buffer <paramref name="slot"/> (1 or 2; 0 holds the decayed gradient) of
    /// <paramref name="length"/> floats for an update's intermediate terms. Not state: its contents
    /// are garbage on entry. Reused across parameters and steps, so vectorised updates allocate nothing.
    /// </summary>
    protected Span<float> Scratch(int slot, int length)
    {
        scratch ??= [[], [], []];
        if (scratch[slot].Length < length) scratch[slot] = new float[length];
        return scratch[slot].AsSpan(0, length);
    }

    /// <summary>
    /// 1 − <paramref name="value"/> for a decay constant such as β or α, as PyTorch gets it:
    /// Python computes 1 − 0.99 in double from the literal (0.01), while 1f − 0.99f is
    /// 0.0099999905, 1.3·10⁻⁶ off (1.3·10⁻⁵ for 0.999) — enough to show in a few steps' cancellation.
    /// </summary>
    protected static float Complement(float value) => (float)(1 - Written(value));

    /// <summary>
    /// The decimal a float hyper-parameter was written as (0.999f → 0.999, not 0.99900001), for
    /// the double arithmetic PyTorch does on Python numbers. A float converts to decimal at 7
    /// significant digits, which recovers the literal.
    /// </summary>
    protected static double Written(float value) => (double)(decimal)value;

    protected static void ValidateLearningRate(float learningRate)
    {
        if (!(learningRate >= 0) || float.IsInfinity(learningRate))
            throw new ArgumentException($"The learning rate must be a finite number >= 0, got {learningRate}.");
    }

    private static void ValidateGroup(float learningRate, float weightDecay)
    {
        ValidateLearningRate(learningRate);
        // As PyTorch's "Invalid weight_decay value": a NaN or negative decay passes no later check.
        if (!(weightDecay >= 0) || float.IsInfinity(weightDecay))
            throw new ArgumentException($"The weight decay must be a finite number >= 0, got {weightDecay}.");
    }

    /// <summary>
    /// Applies the group's weight decay λ, either coupled (g ← g + λw, PyTorch's weight_decay, an L2
    /// penalty of λ/2·‖w‖²) or decoupled (w ← (1 − αλ)·w before the update, as AdamW: the shrink
    /// no longer passes through momentum or adaptive scaling).
    /// </summary>
    /// <returns>The gradient to use: g + λw (in scratch slot 0) for coupled decay, else g itself.</returns>
    protected ReadOnlySpan<float> ApplyWeightDecay(Span<float> parameter, ReadOnlySpan<float> gradient, ParameterGroup group, bool decoupled = false)
    {
        if (group.WeightDecay == 0f) return gradient;
        if (decoupled)
        {
            TensorPrimitives.Multiply(parameter, 1f - group.LearningRate * group.WeightDecay, parameter);
            return gradient;
        }
        var decayed = Scratch(0, gradient.Length);
        TensorPrimitives.MultiplyAdd(parameter, group.WeightDecay, gradient, decayed);
        return decayed;
    }
}

/// <summary>A parameter's named buffers, created zeroed on first use, and its step count.</summary>
public readonly struct ParameterState(Dictionary<string, float[]> buffers, int length, int start = 0, int count = -1)
{
    /// <summary>The buffer that counts the parameter's updates: a float, as PyTorch's state["step"], exact to 2^24 steps.</summary>
    public const string StepBuffer = "step";

    /// <summary>
    /// This parameter's updates so far, the current one included. PyTorch counts per parameter,
    /// so a layer unfrozen mid-run starts Adam's bias correction afresh rather than at the optimizer's count.
    /// </summary>
    public long Step => buffers.TryGetValue(StepBuffer, out var step) ? (long)step[0] : 0;

    internal void AdvanceStep()
    {
        if (!buffers.TryGetValue(StepBuffer, out var step)) buffers[StepBuffer] = step = new float[1];
        step[0]++;
    }

    /// <summary>The named buffer (the part of it this update covers), created zeroed on first use.</summary>
    public Span<float> Buffer(string name)
    {
        if (!buffers.TryGetValue(name, out var values)) buffers[name] = values = new float[length];
        return values.AsSpan(start, count < 0 ? length : count);
    }

    public bool Has(string name) => buffers.ContainsKey(name);

    /// <summary>The state of elements [start, start + count) of the parameter, for a sliced update.</summary>
    internal ParameterState Slice(int sliceStart, int sliceCount) => new(buffers, length, start + sliceStart, sliceCount);
}

/// <summary>A snapshot of an optimizer: step count, each group's hyper-parameters, each parameter's buffers.</summary>
public sealed record OptimizerState(long StepCount, List<(float LearningRate, float WeightDecay)> Groups, List<Dictionary<string, float[]>> Parameters);
