using Sinapse.Init;
using Sinapse.Ops;
using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>A dense (fully connected) layer, y = x·Wᵀ + b: n·m weights and m biases for n inputs and m outputs.</summary>
/// <summary>The arguments of a <see cref="Linear"/> layer (the initialisers are not saved: the weights are).</summary>
public sealed record LinearConfig(int InFeatures, int OutFeatures, bool Bias = true);

public sealed class Linear : Module, IConfigurable<Linear, LinearConfig>
{
    public LinearConfig GetConfig() => new(InFeatures, OutFeatures, Bias != null);
    public static Linear FromConfig(LinearConfig c, Rng? rng) => new(c.InFeatures, c.OutFeatures, c.Bias, rng: rng);

    public Linear(int inFeatures, int outFeatures, bool useBias = true, Initializer? weightInit = null, Initializer? biasInit = null, Rng? rng = null)
    {
        if (inFeatures <= 0 || outFeatures <= 0) throw new ArgumentException($"Linear needs positive sizes, got {inFeatures} -> {outFeatures}.");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        WeightInit = weightInit ?? Initializer.GlorotUniform();
        BiasInit = biasInit ?? Initializer.Zeros();
        Weight = RegisterParameter("weight", Tensor.Empty(outFeatures, inFeatures));
        if (useBias) Bias = RegisterParameter("bias", Tensor.Empty(outFeatures));
        ResetParameters(rng);
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }
    public Initializer WeightInit { get; }
    public Initializer BiasInit { get; }
    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    public void ResetParameters(Rng? rng = null)
    {
        rng ??= Rng.Global;
        WeightInit.Fill(Weight.Span, InFeatures, OutFeatures, rng);
        if (Bias != null) BiasInit.Fill(Bias.Span, InFeatures, OutFeatures, rng);
    }

    protected override Tensor Forward(Tensor input) => F.Linear(input, Weight, Bias);

    public override Shape OutputShape(Shape input)
    {
        ExpectFeatures(input, input.Rank - 1, InFeatures, "input features");
        var output = input.ToArray();
        output[^1] = OutFeatures;
        return output;
    }

    public override string Describe() => $"Linear({InFeatures} -> {OutFeatures}{(Bias == null ? ", no bias" : "")})";
}
