using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>
/// The fusion pass: in a chain of layers run one after another, a layer that can compute the next
/// one's work in its own pass over memory (<see cref="Module.CanFuseWith"/>; batch norm followed by
/// a ReLU or hard-swish) is planned to run both as one call — one kernel and one op on the tape
/// instead of two, the same forward values, gradients equal to rounding. The model's structure,
/// names and state dict do not change.
/// </summary>
/// <remarks>
/// <see cref="Sequential"/> plans its layers whenever they change and runs the plan unless
/// <see cref="Sequential.FuseLayers"/> is off; a module of one's own that applies a chain can do
/// the same with <see cref="Plan"/> and <see cref="Module.ForwardFused"/>. Under anomaly detection
/// run every layer on its own, so each layer's output is checked.
/// </remarks>
public static partial class Fusion
{
    /// <summary>
    /// For each position of <paramref name="chain"/>, whether that layer runs fused with the next
    /// (which is then not run on its own); a layer already fused into its predecessor starts no pair.
    /// </summary>
    public static bool[] Plan(IReadOnlyList<Module> chain)
    {
        var withNext = new bool[chain.Count];
        for (int i = 0; i + 1 < chain.Count; i++)
            if (chain[i].CanFuseWith(chain[i + 1]))
                withNext[i++] = true;
        return withNext;
    }
}

public abstract partial class Module
{
    /// <summary>Whether <see cref="ForwardFused"/> can run this module and then <paramref name="next"/> in one pass; none can by default.</summary>
    public virtual bool CanFuseWith(Module next) => false;

    /// <summary>This module's forward followed by <paramref name="next"/>'s, in one pass (see <see cref="Fusion"/>).</summary>
    public virtual Tensor ForwardFused(Tensor input, Module next) =>
        throw new NotSupportedException($"{Describe()} cannot fuse with {next.Describe()}; ask CanFuseWith first.");
}
