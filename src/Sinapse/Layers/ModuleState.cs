using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>What <see cref="Module.LoadStateDict(IReadOnlyDictionary{string, Tensor}, bool)"/> did not match (PyTorch's missing_keys and unexpected_keys).</summary>
public sealed record IncompatibleKeys(IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys);

public abstract partial class Module : IStateful<IReadOnlyDictionary<string, Tensor>>
{
    /// <summary>
    /// Every parameter, then every buffer, by its dotted path ("0.weight", "1.running_mean"), as
    /// PyTorch's state_dict: the live tensors, not copies, so save or clone them before training on.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> StateDict()
    {
        var state = new OrderedDictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in NamedParameters().Concat(NamedBuffers())) state.Add(name, tensor);
        return state;
    }

    void IStateful<IReadOnlyDictionary<string, Tensor>>.LoadStateDict(IReadOnlyDictionary<string, Tensor> state) => LoadStateDict(state);

    /// <summary>
    /// Copies <paramref name="state"/>'s values into the parameters and buffers of the same names,
    /// as PyTorch's load_state_dict. With <paramref name="strict"/> the names must match exactly,
    /// and one line lists every missing and unexpected key; without it those are only returned.
    /// A shape mismatch is always an error (a scalar and a one-element tensor count as the same,
    /// for PyTorch's num_batches_tracked). Nothing is copied unless everything fits.
    /// </summary>
    public IncompatibleKeys LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(state);
        var own = StateDict();
        var missing = own.Keys.Where(name => !state.ContainsKey(name)).ToList();
        var unexpected = state.Keys.Where(name => !own.ContainsKey(name)).ToList();
        if (strict && (missing.Count > 0 || unexpected.Count > 0))
            throw new ArgumentException($"Error(s) in loading state_dict for {GetType().Name}:"
                + (missing.Count > 0 ? $" Missing key(s) in state_dict: {Quote(missing)}." : "")
                + (unexpected.Count > 0 ? $" Unexpected key(s) in state_dict: {Quote(unexpected)}." : ""));
        var matched = own.Where(p => state.ContainsKey(p.Key)).Select(p => (p.Key, Target: p.Value, Source: state[p.Key])).ToList();
        foreach (var (name, target, source) in matched)
            if (!SameShape(source.Shape.Dimensions, target.Shape))
                throw new ArgumentException($"Error(s) in loading state_dict for {GetType().Name}: size mismatch for {name}: copying a tensor with shape {source.Shape}, the shape in the current model is {target.Shape}.");
        foreach (var (_, target, source) in matched)
            if (!ReferenceEquals(source, target)) source.Span.CopyTo(target.Span);
        return new IncompatibleKeys(missing, unexpected);
    }

    /// <summary>Equal shapes, or a scalar and a one-element tensor of any rank.</summary>
    internal static bool SameShape(ReadOnlySpan<int> given, Shape target)
    {
        long size = 1;
        foreach (var d in given) size *= d;
        return given.SequenceEqual(target.Dimensions) || (target.Size == 1 && size == 1 && (given.Length == 0 || target.Rank == 0));
    }

    private static string Quote(List<string> names) => string.Join(", ", names.Take(20).Select(n => $"\"{n}\"")) + (names.Count > 20 ? $" and {names.Count - 20} more" : "");
}
