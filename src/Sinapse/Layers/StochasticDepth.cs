using System.Globalization;
using Sinapse.Ops;
using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>
/// Stochastic depth (Huang et al., 2016) as torchvision's StochasticDepth(p, mode): placed at the
/// end of a residual branch, it drops the branch for a sample ("row") or for the whole batch
/// ("batch") with probability p in training, so the block passes only its shortcut; see
/// <see cref="F.StochasticDepth"/>. The identity in evaluation mode. The draws come from
/// <paramref name="rng"/>, or <see cref="Rng.Global"/> when none is given.
/// </summary>
public sealed class StochasticDepth : Module
{
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

    public override Tensor Forward(Tensor input) => F.StochasticDepth(input, P, Mode, Training, rng ?? Rng.Global);

    public override Shape OutputShape(Shape input) => input;

    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"StochasticDepth(p={P}, mode={Mode})");
}
