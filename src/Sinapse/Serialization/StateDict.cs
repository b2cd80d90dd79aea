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
/// A model's <see cref="Module.StateDict"/> in files: saved to safetensors, loaded from
/// safetensors or PyTorch's .pth.
/// </summary>
public static class StateDict
{
    /// <summary>
    /// Writes the model's parameters and buffers as F32 safetensors (atomically), under the
    /// model's names or, through <paramref name="rename"/>, under another framework's.
    /// </summary>
    public static FileChecksum Save(Module model, string path, IReadOnlyDictionary<string, string>? rename = null, IReadOnlyDictionary<string, string>? metadata = null) =>
        SafeTensors.Write(path, model.StateDict().Select(p => (rename != null && rename.TryGetValue(p.Key, out var other) ? other : p.Key, p.Value)), metadata);

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
        var targets = model.StateDict();
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
            if (!Module.SameShape(entry.Shape, target.Shape))
                throw new InvalidDataException($"{path}: tensor '{entry.Name}' has shape {SafeTensors.FormatShape(entry.Shape)}, but the model's {role} '{name}' has shape {target.Shape}.");
        }
        foreach (var (name, entry) in sources)
        {
            var target = targets[name];
            file.ReadInto(entry.Name, entry.Shape.AsSpan().SequenceEqual(target.Shape.Dimensions) ? target : target.ReshapedTo(entry.Shape), $"the model's '{name}'");
        }
    }
}
