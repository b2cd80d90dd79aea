namespace Sinapse.Optimizers.Schedules;

/// <summary>Whether a schedule's position counts updates (iterations) or epochs.</summary>
public enum ScheduleUnit { Iteration, Epoch }

/// <summary>
/// A learning rate as a function of the position j (updates or epochs done) and the group's base
/// rate α₀. Stateless: the position lives in <see cref="LearningRateScheduler"/>, so saving it is
/// saving one number.
/// </summary>
public abstract class LearningRateSchedule
{
    public abstract float Rate(float baseRate, long position);

    public abstract string Describe();

    public override string ToString() => Describe();

    protected static void RequirePositive(long value, string name)
    {
        if (value <= 0) throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive.");
    }

    protected static void RequireFraction(float value, string name, bool allowAboveOne = false)
    {
        if (!(value >= 0) || (!allowAboveOne && value > 1) || float.IsInfinity(value))
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [0, {(allowAboveOne ? "∞" : "1")}).");
    }
}

/// <summary>α_j = α₀.</summary>
public sealed class ConstantSchedule : LearningRateSchedule
{
    public override float Rate(float baseRate, long position) => baseRate;
    public override string Describe() => "constant";
}

/// <summary>
/// The course's linear decay: α_j = (1 − j/τ)·α₀ + (j/τ)·α_τ for j ≤ τ, then α_τ, with
/// α_τ = <paramref name="finalFraction"/>·α₀ (the course suggests about 1 % of α₀).
/// </summary>
public sealed class LinearDecaySchedule(long tau, float finalFraction = 0.01f) : LearningRateSchedule
{
    public long Tau { get; } = tau > 0 ? tau : throw new ArgumentOutOfRangeException(nameof(tau), tau, "τ must be positive.");
    public float FinalFraction { get; } = finalFraction >= 0 && float.IsFinite(finalFraction) ? finalFraction : throw new ArgumentOutOfRangeException(nameof(finalFraction), finalFraction, "The final fraction must be a finite number >= 0.");

    public override float Rate(float baseRate, long position)
    {
        double j = Math.Min(position, Tau) / (double)Tau;
        return (float)((1 - j) * baseRate + j * FinalFraction * baseRate);
    }

    public override string Describe() => $"linear(tau={Tau}, final={FinalFraction}·lr)";
}

/// <summary>α₀·γ^⌊j / stepSize⌋: the rate drops by γ every <c>stepSize</c> positions.</summary>
public sealed class StepSchedule : LearningRateSchedule
{
    public StepSchedule(long stepSize, float gamma = 0.1f)
    {
        RequirePositive(stepSize, nameof(stepSize));
        RequireFraction(gamma, nameof(gamma));
        (StepSize, Gamma) = (stepSize, gamma);
    }

    public long StepSize { get; }
    public float Gamma { get; }
    public override float Rate(float baseRate, long position) => (float)(baseRate * Math.Pow(Gamma, position / StepSize));
    public override string Describe() => $"step(every {StepSize}, gamma={Gamma})";
}

/// <summary>α₀·γ^j.</summary>
public sealed class ExponentialSchedule : LearningRateSchedule
{
    public ExponentialSchedule(float gamma)
    {
        RequireFraction(gamma, nameof(gamma));
        Gamma = gamma;
    }

    public float Gamma { get; }
    public override float Rate(float baseRate, long position) => (float)(baseRate * Math.Pow(Gamma, position));
    public override string Describe() => $"exponential(gamma={Gamma})";
}

/// <summary>Cosine annealing (Loshchilov and Hutter): α_min + (α₀ − α_min)·(1 + cos(πj/τ))/2 for j ≤ τ, then α_min.</summary>
public sealed class CosineSchedule : LearningRateSchedule
{
    public CosineSchedule(long tau, float finalFraction = 0f)
    {
        RequirePositive(tau, nameof(tau));
        RequireFraction(finalFraction, nameof(finalFraction));
        (Tau, FinalFraction) = (tau, finalFraction);
    }

    public long Tau { get; }
    public float FinalFraction { get; }

    public override float Rate(float baseRate, long position)
    {
        double minimum = FinalFraction * baseRate;
        double j = Math.Min(position, Tau) / (double)Tau;
        return (float)(minimum + (baseRate - minimum) * (1 + Math.Cos(Math.PI * j)) / 2);
    }

    public override string Describe() => $"cosine(tau={Tau}, final={FinalFraction}·lr)";
}

/// <summary>Linear warm-up from α₀/w to α₀ over the first w positions, then <c>after</c> from position 0.</summary>
public sealed class WarmupSchedule : LearningRateSchedule
{
    public WarmupSchedule(long warmup, LearningRateSchedule after)
    {
        RequirePositive(warmup, nameof(warmup));
        (Warmup, After) = (warmup, after);
    }

    public long Warmup { get; }
    public LearningRateSchedule After { get; }

    public override float Rate(float baseRate, long position) =>
        position < Warmup ? baseRate * (position + 1) / Warmup : After.Rate(baseRate, position - Warmup);

    public override string Describe() => $"warmup({Warmup}) then {After.Describe()}";
}
