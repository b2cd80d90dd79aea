using System.Globalization;
using System.Text;
using Sinapse.Kernels;
using Sinapse.Ops;
using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>The arguments of a <see cref="BatchNorm1d"/> or <see cref="BatchNorm2d"/>; a null momentum is a cumulative average.</summary>
public sealed record BatchNormConfig(int NumFeatures, float Eps = 1e-5f, float? Momentum = 0.1f, bool Affine = true, bool TrackRunningStats = true);

/// <summary>
/// What BatchNorm1d and BatchNorm2d share, as PyTorch's _BatchNorm: parameters "weight" (γ, ones)
/// and "bias" (β, zeros) when affine; buffers "running_mean" (zeros), "running_var" (ones) and
/// "num_batches_tracked" when tracking running statistics. Training mode normalises with the
/// batch's statistics and moves the running ones; evaluation mode normalises with the running ones.
/// </summary>
public abstract class BatchNormBase : Module
{
    public BatchNormConfig GetConfig() => new(NumFeatures, Eps, Momentum, Affine, TrackRunningStats);

    private protected BatchNormBase(string kind, int numFeatures, float eps, float? momentum, bool affine, bool trackRunningStats)
    {
        if (numFeatures <= 0) throw new ArgumentException($"{kind} needs a positive number of features, got {numFeatures}.");
        if (!(eps >= 0f)) throw new ArgumentException($"{kind}({numFeatures}): eps must be >= 0, got {eps}.");
        if (momentum is float m && !(m >= 0f && m <= 1f)) throw new ArgumentException($"{kind}({numFeatures}): momentum must be in [0, 1] (or null for a cumulative average), got {m}.");
        Kind = kind;
        NumFeatures = numFeatures;
        Eps = eps;
        Momentum = momentum;
        Affine = affine;
        TrackRunningStats = trackRunningStats;
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Empty(numFeatures));
            Bias = RegisterParameter("bias", Tensor.Empty(numFeatures));
        }
        if (trackRunningStats)
        {
            RunningMean = RegisterBuffer("running_mean", Tensor.Empty(numFeatures));
            RunningVar = RegisterBuffer("running_var", Tensor.Empty(numFeatures));
            // A scalar like PyTorch's, so its strict load_state_dict takes our files; a float
            // where PyTorch keeps an int64: exact up to 2^24 batches.
            NumBatchesTracked = RegisterBuffer("num_batches_tracked", Tensor.Empty());
        }
        ResetParameters();
    }

    private string Kind { get; }

    /// <summary>The channels (features) normalised: axis 1 of the input.</summary>
    public int NumFeatures { get; }

    public float Eps { get; }

    /// <summary>The weight of the batch in the running statistics; null for a cumulative average over all batches seen.</summary>
    public float? Momentum { get; }

    public bool Affine { get; }

    public bool TrackRunningStats { get; }

    /// <summary>γ, or null when not affine.</summary>
    public Tensor? Weight { get; }

    /// <summary>β, or null when not affine.</summary>
    public Tensor? Bias { get; }

    public Tensor? RunningMean { get; }

    public Tensor? RunningVar { get; }

    public Tensor? NumBatchesTracked { get; }

    public void ResetRunningStats()
    {
        RunningMean?.Span.Fill(0f);
        RunningVar?.Span.Fill(1f);
        NumBatchesTracked?.Span.Fill(0f);
    }

    public void ResetParameters()
    {
        ResetRunningStats();
        Weight?.Span.Fill(1f);
        Bias?.Span.Fill(0f);
    }

    protected override Tensor Forward(Tensor input) => Forward(input, FusedActivation.None);

    /// <summary>The batch-norm kernels apply a ReLU or hard-swish to their output in the same pass.</summary>
    public override bool CanFuseWith(Module next) => Activation(next) != FusedActivation.None;

    public override Tensor ForwardFused(Tensor input, Module next) =>
        CanFuseWith(next) ? Forward(input, Activation(next)) : base.ForwardFused(input, next);

    private static FusedActivation Activation(Module next) => next switch
    {
        Relu => FusedActivation.Relu,
        HardSwish => FusedActivation.HardSwish,
        _ => FusedActivation.None,
    };

    /// <summary>The forward pass with an activation applied in the same pass.</summary>
    internal Tensor Forward(Tensor input, FusedActivation activation)
    {
        CheckInput(input.Shape);
        float factor = Momentum ?? 0f;
        if (Training && NumBatchesTracked != null)
        {
            float batches = ++NumBatchesTracked.Span[0];
            if (Momentum == null) factor = 1f / batches;
        }
        // As PyTorch: batch statistics in training, and always when no running statistics are kept.
        return F.BatchNorm(input, RunningMean, RunningVar, Weight, Bias, training: Training || RunningMean == null, factor, Eps, activation);
    }

    public override Shape OutputShape(Shape input)
    {
        CheckInput(input);
        return input;
    }

    /// <summary>Throws, naming the layer and both shapes, unless the input has an accepted rank and NumFeatures channels on axis 1.</summary>
    private protected abstract void CheckInput(Shape input);

    private protected void Reject(Shape input, string expected) =>
        throw new ArgumentException($"{Describe()} expects an input {expected}, got {input}.");

    public override string Describe()
    {
        var text = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"{Kind}({NumFeatures}"));
        if (Eps != 1e-5f) text.Append(CultureInfo.InvariantCulture, $", eps={Eps}");
        if (Momentum != 0.1f) text.Append(CultureInfo.InvariantCulture, $", momentum={(Momentum is float m ? m.ToString(CultureInfo.InvariantCulture) : "None")}");
        if (!Affine) text.Append(", affine=False");
        if (!TrackRunningStats) text.Append(", track_running_stats=False");
        return text.Append(')').ToString();
    }
}

/// <summary>Batch normalisation for dense layers ([N, C]) and sequences ([N, C, L]): statistics per feature over N (and L).</summary>
public sealed class BatchNorm1d(int numFeatures, float eps = 1e-5f, float? momentum = 0.1f, bool affine = true, bool trackRunningStats = true)
    : BatchNormBase("BatchNorm1d", numFeatures, eps, momentum, affine, trackRunningStats), IConfigurable<BatchNorm1d, BatchNormConfig>
{
    public static BatchNorm1d FromConfig(BatchNormConfig c, Rng? rng) => new(c.NumFeatures, c.Eps, c.Momentum, c.Affine, c.TrackRunningStats);

    private protected override void CheckInput(Shape input)
    {
        if ((input.Rank != 2 && input.Rank != 3) || input[1] != NumFeatures)
            Reject(input, $"[N, {NumFeatures}] or [N, {NumFeatures}, L]");
    }
}

/// <summary>Batch normalisation for convolutions ([N, C, H, W]): statistics per channel over N·H·W.</summary>
public sealed class BatchNorm2d(int numFeatures, float eps = 1e-5f, float? momentum = 0.1f, bool affine = true, bool trackRunningStats = true)
    : BatchNormBase("BatchNorm2d", numFeatures, eps, momentum, affine, trackRunningStats), IConfigurable<BatchNorm2d, BatchNormConfig>
{
    public static BatchNorm2d FromConfig(BatchNormConfig c, Rng? rng) => new(c.NumFeatures, c.Eps, c.Momentum, c.Affine, c.TrackRunningStats);

    private protected override void CheckInput(Shape input)
    {
        if (input.Rank != 4 || input[1] != NumFeatures) Reject(input, $"[N, {NumFeatures}, H, W]");
    }
}
