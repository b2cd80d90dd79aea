using Sinapse.Layers;
using Sinapse.Tensors;

namespace Sinapse.Serialization;

/// <summary>
/// How the names in a weights file written elsewhere become the model's names: first
/// <see cref="StripPrefix"/> is removed from every file name that starts with it ("model." or
/// "module." of a wrapped PyTorch model), then <see cref="Names"/> renames what is left
/// ("fc1.weight" → "1.weight"). Names not listed keep their (stripped) name.
/// </summary>
public sealed record WeightMapping(IReadOnlyDictionary<string, string>? Names = null, string? StripPrefix = null)
{
    public string ToModelName(string fileName)
    {
        var name = StripPrefix is { Length: > 0 } prefix && fileName.StartsWith(prefix, StringComparison.Ordinal) ? fileName[prefix.Length..] : fileName;
        return Names != null && Names.TryGetValue(name, out var renamed) ? renamed : name;
    }
}

/// <summary>
/// A model's state as PyTorch's state_dict: every parameter and buffer by its dotted path
/// ("0.weight", "1.running_mean"), saved to safetensors and loaded from safetensors or PyTorch's .pth.
/// </summary>
public static class StateDict
{
    /// <summary>Parameters, then buffers, each in registration order.</summary>
    public static List<(string Name, Tensor Tensor)> Of(Module model) => [.. model.NamedParameters(), .. model.NamedBuffers()];

    /// <summary>
    /// Writes the model's parameters and buffers as F32 safetensors (atomically), under the
    /// model's names or, through <paramref name="rename"/>, under another framework's.
    /// </summary>
    public static FileChecksum Save(Module model, string path, IReadOnlyDictionary<string, string>? rename = null, IReadOnlyDictionary<string, string>? metadata = null) =>
        SafeTensors.Write(path, Of(model).Select(p => (rename != null && rename.TryGetValue(p.Name, out var other) ? other : p.Name, p.Tensor)), metadata);

    /// <summary>
    /// Loads weights from a safetensors file or a PyTorch .pth file (torch.save of a state dict;
    /// told apart by their first bytes) into <paramref name="model"/>. Every check happens
    /// before any value is copied, so a mismatch leaves the model as it was: each of the model's
    /// tensors must be in the file (after <paramref name="mapping"/>) with the same shape
    /// (a scalar and a one-element tensor count as the same, for PyTorch's num_batches_tracked),
    /// parameters must be floating point, and with <paramref name="strict"/> the file may hold
    /// nothing else.
    /// </summary>
    public static void Load(Module model, string path, WeightMapping? mapping = null, bool strict = true)
    {
        if (File.Exists(path) && Pth.IsPthFile(path)) Load(model, Pth.Open(path), mapping, strict);
        else Load(model, SafeTensors.Open(path), mapping, strict);
    }

    private static void Load<TEntry>(Module model, TensorFile<TEntry> file, WeightMapping? mapping, bool strict) where TEntry : ITensorEntry
    {
        string path = file.Path;
        var parameters = model.NamedParameters().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var targets = Of(model).ToDictionary(p => p.Name, p => p.Tensor, StringComparer.Ordinal);
        var sources = new Dictionary<string, TEntry>(StringComparer.Ordinal);
        var unexpected = new List<string>();
        foreach (var entry in file.Entries)
        {
            var name = mapping?.ToModelName(entry.Name) ?? entry.Name;
            if (!targets.ContainsKey(name)) { unexpected.Add(entry.Name == name ? name : $"{entry.Name} (as {name})"); continue; }
            if (!sources.TryAdd(name, entry))
                throw new InvalidDataException($"{path}: both '{sources[name].Name}' and '{entry.Name}' map to the model's '{name}'.");
        }
        var missing = targets.Keys.Where(n => !sources.ContainsKey(n)).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"{path} lacks {missing.Count} of the model's tensors: {SafeTensorsFile.Preview(missing)}"
                + (unexpected.Count > 0 ? $"; it has instead {SafeTensorsFile.Preview(unexpected)} (a name mapping or prefix to strip may be needed)" : "") + ".");
        if (strict && unexpected.Count > 0)
            throw new InvalidDataException($"{path} has {unexpected.Count} tensors the model does not: {SafeTensorsFile.Preview(unexpected)}.");
        foreach (var (name, entry) in sources)
        {
            var target = targets[name];
            string role = parameters.Contains(name) ? "parameter" : "buffer";
            if (role == "parameter" && entry.DType is not ("F32" or "F64" or "F16" or "BF16"))
                throw new InvalidDataException($"{path}: tensor '{entry.Name}' is {entry.DType}, but the model's parameter '{name}' needs floating point (F32, F64, F16 or BF16).");
            if (!SameShape(entry.Shape, target.Shape))
                throw new InvalidDataException($"{path}: tensor '{entry.Name}' has shape {SafeTensors.FormatShape(entry.Shape)}, but the model's {role} '{name}' has shape {target.Shape}.");
        }
        foreach (var (name, entry) in sources)
        {
            var target = targets[name];
            file.ReadInto(entry.Name, entry.Shape.AsSpan().SequenceEqual(target.Shape.Dimensions) ? target : target.ReshapedTo(entry.Shape), $"the model's '{name}'");
        }
    }

    /// <summary>Copies every parameter and buffer of <paramref name="source"/> into <paramref name="destination"/>, which must have the same names and shapes.</summary>
    public static void Copy(Module source, Module destination)
    {
        var from = Of(source).ToDictionary(p => p.Name, p => p.Tensor, StringComparer.Ordinal);
        var to = Of(destination);
        foreach (var (name, tensor) in to)
        {
            if (!from.TryGetValue(name, out var value)) throw new ArgumentException($"The source model has no '{name}'.");
            if (value.Shape != tensor.Shape) throw new ArgumentException($"'{name}' has shape {value.Shape} in the source model but {tensor.Shape} in the destination.");
        }
        foreach (var (name, tensor) in to) from[name].Span.CopyTo(tensor.Span);
    }

    private static bool SameShape(int[] file, Shape model) =>
        file.AsSpan().SequenceEqual(model.Dimensions) || (model.Size == 1 && file.Aggregate(1L, (a, b) => a * b) == 1 && (file.Length == 0 || model.Rank == 0));
}
