using System.Numerics.Tensors;
using Sinapse.Tensors;

namespace Sinapse.Optimizers;

/// <summary>
/// Dynamic loss scaling for float16 training, with torch.amp.GradScaler's rules: backpropagate
/// the loss times <see cref="Scale"/> so that small gradients stay above float16's underflow;
/// <see cref="Unscale"/> divides the gradients back (before clipping, as PyTorch documents) and
/// says whether they are all finite; a step whose gradients are not is skipped — it is the scale
/// that overflowed, not training that diverged — and <see cref="Update"/> halves the scale;
/// after <see cref="GrowthInterval"/> finite steps in a row the scale doubles.
/// </summary>
public sealed class LossScaler : IStateful<LossScalerState>
{
    public LossScaler(float initialScale = 65536f, float growthFactor = 2f, float backoffFactor = 0.5f, int growthInterval = 2000)
    {
        if (!(initialScale > 0) || float.IsInfinity(initialScale)) throw new ArgumentOutOfRangeException(nameof(initialScale), initialScale, "The initial scale must be a finite number > 0.");
        if (!(growthFactor > 1) || float.IsInfinity(growthFactor)) throw new ArgumentOutOfRangeException(nameof(growthFactor), growthFactor, "The growth factor must be a finite number > 1.");
        if (!(backoffFactor > 0 && backoffFactor < 1)) throw new ArgumentOutOfRangeException(nameof(backoffFactor), backoffFactor, "The backoff factor must be in (0, 1).");
        if (growthInterval < 1) throw new ArgumentOutOfRangeException(nameof(growthInterval), growthInterval, "The growth interval must be at least 1 step.");
        (Scale, GrowthFactor, BackoffFactor, GrowthInterval) = (initialScale, growthFactor, backoffFactor, growthInterval);
    }

    /// <summary>The factor the loss is multiplied by before backpropagation.</summary>
    public float Scale { get; private set; }

    public float GrowthFactor { get; }
    public float BackoffFactor { get; }
    public int GrowthInterval { get; }

    /// <summary>Finite steps in a row since the scale last changed (GradScaler's _growth_tracker).</summary>
    public int GrowthTracker { get; private set; }

    /// <summary>Steps skipped so far because their gradients overflowed.</summary>
    public long SkippedSteps { get; private set; }

    /// <summary>
    /// Multiplies every gradient by 1/<see cref="Scale"/> (computed in double and rounded to float,
    /// as GradScaler does) and returns whether they are all finite; when not, skip the step.
    /// </summary>
    public bool Unscale(IEnumerable<Tensor> parameters)
    {
        float inverse = (float)(1.0 / Scale);
        bool finite = true;
        foreach (var p in parameters)
        {
            if (p.Grad == null) continue;
            var g = p.Grad.Span;
            finite &= TensorPrimitives.IsFiniteAll(g);
            TensorPrimitives.Multiply(g, inverse, g);
        }
        return finite;
    }

    /// <summary>GradScaler.update: backs off on an overflow (and restarts the count), grows after <see cref="GrowthInterval"/> finite steps.</summary>
    public void Update(bool foundNonFinite)
    {
        if (foundNonFinite)
        {
            Scale *= BackoffFactor;
            GrowthTracker = 0;
            SkippedSteps++;
            return;
        }
        if (++GrowthTracker < GrowthInterval) return;
        // As PyTorch: a scale that would become infinite stays where it is.
        float grown = Scale * GrowthFactor;
        if (float.IsFinite(grown)) Scale = grown;
        GrowthTracker = 0;
    }

    public LossScalerState StateDict() => new(Scale, GrowthTracker, SkippedSteps, GrowthFactor, BackoffFactor, GrowthInterval);

    /// <summary>Puts a saved state back; the hyper-parameters must be the ones it was saved with.</summary>
    public void LoadStateDict(LossScalerState state)
    {
        if (state.GrowthFactor != GrowthFactor || state.BackoffFactor != BackoffFactor || state.GrowthInterval != GrowthInterval)
            throw new ArgumentException($"The saved loss scaler grows ×{state.GrowthFactor} every {state.GrowthInterval} steps and backs off ×{state.BackoffFactor}; " +
                $"this one ×{GrowthFactor} every {GrowthInterval} and ×{BackoffFactor}.");
        if (!(state.Scale > 0) || !float.IsFinite(state.Scale) || state.GrowthTracker < 0 || state.GrowthTracker >= GrowthInterval || state.SkippedSteps < 0)
            throw new ArgumentException($"The saved loss scaler state is invalid: scale {state.Scale}, growth tracker {state.GrowthTracker}, skipped steps {state.SkippedSteps}.");
        (Scale, GrowthTracker, SkippedSteps) = (state.Scale, state.GrowthTracker, state.SkippedSteps);
    }

    public override string ToString() => $"dynamic loss scaling (scale {Scale}, ×{GrowthFactor} every {GrowthInterval} finite steps, ×{BackoffFactor} on overflow)";
}

/// <summary>What a checkpoint keeps of a <see cref="LossScaler"/>.</summary>
public sealed record LossScalerState(float Scale, int GrowthTracker, long SkippedSteps, float GrowthFactor, float BackoffFactor, int GrowthInterval);
