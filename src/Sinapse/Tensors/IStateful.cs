namespace Sinapse.Tensors;

/// <summary>
/// Something whose state a checkpoint saves and restores, as PyTorch's state_dict /
/// load_state_dict: a module's tensors, an optimizer's buffers, a scheduler's position, a loss
/// scaler, an <see cref="Rng"/>, a data loader's position, a training history. A checkpoint is
/// the composition of these states, so continuing from one draws exactly what the uninterrupted
/// run would have drawn.
/// </summary>
/// <typeparam name="TState">The snapshot: a copy, or (for a module) the live tensors, as PyTorch returns them.</typeparam>
public interface IStateful<TState>
{
    /// <summary>The current state.</summary>
    TState StateDict();

    /// <summary>Puts a saved state back; every value is checked before any is changed, and a bad one is a one-line <see cref="ArgumentException"/>.</summary>
    void LoadStateDict(TState state);
}
