using Sinapse.Init;
using Sinapse.Layers;
using Sinapse.Tensors;

namespace Sinapse.Models;

/// <summary>
/// How the zoo builds its hidden blocks: the activation, the weight initialiser, and the course's
/// two regularising additions — batch normalisation (a layer without bias → BN → activation) and
/// dropout after each hidden block.
/// </summary>
/// <param name="BatchNormEps">BN's ε (PyTorch's 1e-5; Keras uses 1e-3).</param>
/// <param name="BatchNormMomentum">BN's running-statistics momentum in PyTorch's sense, the weight of the new batch (0.1; Keras's momentum 0.99 is 0.01 here), or null for a cumulative average.</param>
public sealed record BlockOptions(string Activation = "relu", Initializer? WeightInit = null, bool BatchNorm = false, float Dropout = 0f, Rng? Rng = null, Initializer? BiasInit = null,
    float BatchNormEps = 1e-5f, float? BatchNormMomentum = 0.1f)
{
    /// <summary>A Linear layer with these options' initialisers.</summary>
    public Linear Linear(int inputs, int outputs, bool useBias = true) => new(inputs, outputs, useBias, WeightInit, BiasInit, Rng);

    /// <summary>Linear (no bias under BN, which has its own shift) → [BatchNorm1d] → activation → [Dropout].</summary>
    public IEnumerable<Module> Dense(int inputs, int outputs)
    {
        yield return Linear(inputs, outputs, useBias: !BatchNorm);
        if (BatchNorm) yield return new BatchNorm1d(outputs, BatchNormEps, BatchNormMomentum);
        yield return Layers.Activation.Parse(Activation);
        if (Dropout > 0) yield return new Dropout(Dropout, Rng);
    }

    /// <summary>Conv2d (no bias under BN) → [BatchNorm2d] → activation; dropout is left to the head.</summary>
    public IEnumerable<Module> Convolution(int inputs, int outputs, int kernel, int padding = 0)
    {
        yield return new Conv2d(inputs, outputs, kernel, padding: padding, useBias: !BatchNorm, weightInit: WeightInit, biasInit: BiasInit, rng: Rng);
        if (BatchNorm) yield return new BatchNorm2d(outputs, BatchNormEps, BatchNormMomentum);
        yield return Layers.Activation.Parse(Activation);
    }
}
