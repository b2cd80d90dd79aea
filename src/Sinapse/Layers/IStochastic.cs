using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>
/// A module whose training forward pass draws random numbers (a dropout mask, a dropped path):
/// its generator's state is part of what a training step starts from, so a step can be replayed
/// with the same draws.
/// </summary>
public interface IStochastic
{
    /// <summary>The generator the forward pass draws from.</summary>
    Rng Rng { get; }
}
