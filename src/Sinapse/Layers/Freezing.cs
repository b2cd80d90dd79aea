using System.Globalization;

namespace Sinapse.Layers;

/// <summary>
/// Freezing parts of a model for transfer learning and fine-tuning. A frozen parameter gets no
/// gradient (its weight-gradient kernels are skipped) and no update, but the layer still passes
/// the input gradient back, so trainable layers before it keep learning.
/// </summary>
/// <remarks>
/// Layers are named by their path ("3", "features.0", as <see cref="Module.NamedModules"/>
/// gives them) or by the index of a direct child (negative from the end: -1 is the last).
/// "The last k" counts layers that have parameters, so activations, pooling and flattening do
/// not use up k: on the course CNN, <c>FreezeAllButLast(1)</c> leaves only the head trainable.
/// </remarks>
public static class Freezing
{
    public static Module Freeze(this Module model, params string[] layers)
    {
        foreach (var layer in Find(model, layers)) layer.Freeze();
        return model;
    }

    public static Module Unfreeze(this Module model, params string[] layers)
    {
        foreach (var layer in Find(model, layers)) layer.Unfreeze();
        return model;
    }

    public static Module Freeze(this Module model, params int[] indices) => model.Freeze(Names(model, indices));

    public static Module Unfreeze(this Module model, params int[] indices) => model.Unfreeze(Names(model, indices));

    /// <summary>Freezes everything except the last <paramref name="k"/> child layers that have parameters (which are unfrozen).</summary>
    public static Module FreezeAllButLast(this Module model, int k)
    {
        var withParameters = ParameterisedChildren(model, k);
        model.Freeze();
        foreach (var layer in withParameters.TakeLast(k)) layer.Unfreeze();
        return model;
    }

    /// <summary>Unfreezes the last <paramref name="k"/> child layers that have parameters, leaving the others as they are (fine-tuning from the back).</summary>
    public static Module UnfreezeLast(this Module model, int k)
    {
        foreach (var layer in ParameterisedChildren(model, k).TakeLast(k)) layer.Unfreeze();
        return model;
    }

    /// <summary>Whether every parameter of <paramref name="module"/> is frozen (false for a layer without parameters).</summary>
    public static bool IsFrozen(this Module module)
    {
        var parameters = module.Parameters();
        return parameters.Count > 0 && parameters.All(p => !p.RequiresGrad);
    }

    private static List<Module> ParameterisedChildren(Module model, int k)
    {
        if (k < 0) throw new ArgumentOutOfRangeException(nameof(k), k, "The number of layers to keep trainable must be 0 or more.");
        var list = model.Children.Select(c => c.Module).Where(m => m.ParameterCount() > 0).ToList();
        if (k > list.Count) throw new ArgumentOutOfRangeException(nameof(k), k, $"{model.Describe()} has only {list.Count} layers with parameters.");
        return list;
    }

    private static string[] Names(Module model, int[] indices)
    {
        var children = model.Children;
        return indices.Select(i =>
        {
            int at = i < 0 ? children.Count + i : i;
            if ((uint)at >= (uint)children.Count)
                throw new ArgumentOutOfRangeException(nameof(indices), i, $"{model.Describe()} has {children.Count} layers (indices 0..{children.Count - 1}, or -1..-{children.Count} from the end).");
            return children[at].Name;
        }).ToArray();
    }

    private static IEnumerable<Module> Find(Module model, string[] layers)
    {
        var all = model.NamedModules().Where(m => m.Name != "").ToDictionary(m => m.Name, m => m.Module, StringComparer.Ordinal);
        foreach (var name in layers)
            yield return all.TryGetValue(name, out var module) ? module
                : throw new ArgumentException($"{model.Describe()} has no layer '{name}'; its layers are {string.Join(", ", model.Children.Select(c => c.Name).Take(20))}"
                    + (model.Children.Count > 20 ? string.Create(CultureInfo.InvariantCulture, $" … ({model.Children.Count} in all)") : "") + ".");
    }
}
