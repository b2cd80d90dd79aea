using System.Globalization;
using Sinapse.Ops;
using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>The arguments of a <see cref="StochasticDepth"/>: the drop probability and the mode.</summary>
public sealed record StochasticDepthConfig(float P, string Mode = "row");

/// <summary>
/// Stochastic depth (Huang et al., 2016) as torchvision's StochasticDepth(p, mode): placed at the
/// end of a residual branch, it drops the branch for a sample ("row") or for the whole batch
/// ("batch") with probability p in training, so the block passes only its shortcut; see
/// <see cref="F.StochasticDepth"/>. The identity in evaluation mode. The draws come from
/// the generator given to the constructor, or <see cref="Rng.Global"/> when none is given.
/// </summary>
public sealed class StochasticDepth : Module, IConfigurable<StochasticDepth, StochasticDepthConfig>, IStochastic
{
    public StochasticDepthConfig GetConfig() => new(P, Mode);
    public static StochasticDepth FromConfig(StochasticDepthConfig config, Rng? rng) => new(config.P, config.Mode, rng);

    private readonly Rng? rng;

    public StochasticDepth(float p, string mode = "row", Rng? rng = null)
    {
        F.CheckDropProbability("StochasticDepth", p);
        F.CheckStochasticDepthMode(mode);
        P = p;
        Mode = mode;
        this.rng = rng;
    }

    /// <summary>The probability of dropping the branch.</summary>
    public float P { get; }

    /// <summary>"row" (one draw per sample) or "batch" (one draw per pass).</summary>
    public string Mode { get; }

    public Rng Rng => rng ?? Rng.Global;

    protected override Tensor Forward(Tensor input) => F.StochasticDepth(input, P, Mode, Training, Rng);

    public override Shape OutputShape(Shape input) => input;

    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"StochasticDepth(p={P}, mode={Mode})");
}
