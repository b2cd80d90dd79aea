using System.Globalization;
using Sinapse.Ops;
using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>
/// Inverted dropout (see <see cref="F.Dropout"/>): active in training mode, the identity in
/// evaluation mode. The mask is drawn from the constructor's <c>rng</c>, or <see cref="Rng.Global"/>
/// when none is given.
/// </summary>
/// <summary>The argument of a <see cref="Dropout"/> or <see cref="Dropout2d"/>: the probability of zeroing.</summary>
public sealed record DropoutConfig(float P = 0.5f);

public sealed class Dropout : Module, IConfigurable<Dropout, DropoutConfig>, IStochastic
{
    public DropoutConfig GetConfig() => new(P);
    public static Dropout FromConfig(DropoutConfig config, Rng? rng) => new(config.P, rng);

    private readonly Rng? rng;

    public Dropout(float p = 0.5f, Rng? rng = null)
    {
        F.CheckDropProbability("Dropout", p);
        P = p;
        this.rng = rng;
    }

    /// <summary>The probability of dropping an element.</summary>
    public float P { get; }

    public Rng Rng => rng ?? Rng.Global;

    protected override Tensor Forward(Tensor input) => F.Dropout(input, P, Training, Rng);

    public override Shape OutputShape(Shape input) => input;

    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"Dropout(p={P})");
}

/// <summary>
/// Channel dropout over [N, C, H, W] (see <see cref="F.Dropout2d"/>): zeroes whole feature maps,
/// which suits convolutions, whose neighbouring activations are strongly correlated.
/// </summary>
public sealed class Dropout2d : Module, IConfigurable<Dropout2d, DropoutConfig>, IStochastic
{
    public DropoutConfig GetConfig() => new(P);
    public static Dropout2d FromConfig(DropoutConfig config, Rng? rng) => new(config.P, rng);

    private readonly Rng? rng;

    public Dropout2d(float p = 0.5f, Rng? rng = null)
    {
        F.CheckDropProbability("Dropout2d", p);
        P = p;
        this.rng = rng;
    }

    /// <summary>The probability of dropping a channel.</summary>
    public float P { get; }

    public Rng Rng => rng ?? Rng.Global;

    protected override Tensor Forward(Tensor input)
    {
        OutputShape(input.Shape);
        return F.Dropout2d(input, P, Training, Rng);
    }

    public override Shape OutputShape(Shape input)
    {
        if (input.Rank != 4) throw new ArgumentException($"{Describe()} expects an input [N, C, H, W], got {input}.");
        return input;
    }

    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"Dropout2d(p={P})");
}
