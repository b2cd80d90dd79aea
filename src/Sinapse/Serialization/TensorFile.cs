using Sinapse.IO;
using Sinapse.Tensors;

namespace Sinapse.Serialization;

/// <summary>What a weight file says of one tensor before its data is read.</summary>
public interface ITensorEntry
{
    string Name { get; }
    string DType { get; }
    int[] Shape { get; }
    long ElementCount { get; }
}

/// <summary>
/// A weight file (safetensors, .pth) whose index has been read and validated: tensors by name,
/// read on demand into float32. Each format supplies only how an entry's values are read.
/// </summary>
public abstract class TensorFile<TEntry> where TEntry : ITensorEntry
{
    private readonly Dictionary<string, TEntry> byName;

    private protected TensorFile(string path, List<TEntry> entries)
    {
        Path = path;
        Entries = entries;
        byName = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
    }

    public string Path { get; }

    public IReadOnlyList<TEntry> Entries { get; }

    public bool Contains(string name) => byName.ContainsKey(name);

    public TEntry this[string name] => byName.TryGetValue(name, out var entry) ? entry
        : throw new KeyNotFoundException($"{Path} has no tensor '{name}' (it has {Entries.Count}: {SafeTensorsFile.Preview(Entries.Select(e => e.Name))}).");

    /// <summary>Reads tensor <paramref name="name"/> as a new float tensor.</summary>
    public Tensor Read(string name)
    {
        var entry = this[name];
        if (entry.ElementCount > Array.MaxLength)
            throw new InvalidDataException($"{Path}: tensor {entry} has {entry.ElementCount:N0} elements, more than a Sinapse tensor can hold.");
        var tensor = new Tensor(new Shape(entry.Shape), new float[entry.ElementCount]);
        ReadFiniteValues(entry, tensor.Span);
        return tensor;
    }

    /// <summary>
    /// Reads tensor <paramref name="name"/> into <paramref name="destination"/>, whose shape it
    /// must have (checked before any data is read).
    /// </summary>
    public void ReadInto(string name, Tensor destination, string? expectedBy = null)
    {
        var entry = this[name];
        if (!entry.Shape.AsSpan().SequenceEqual(destination.Shape.Dimensions))
            throw new InvalidDataException($"{Path}: tensor '{name}' has shape {SafeTensors.FormatShape(entry.Shape)} but {expectedBy ?? "the destination"} expects {destination.Shape}.");
        ReadFiniteValues(entry, destination.Span);
    }

    /// <summary>A NaN or infinite weight would only show up later as NaN predictions, so it is refused here, naming the tensor.</summary>
    private void ReadFiniteValues(TEntry entry, Span<float> destination)
    {
        ReadValues(entry, destination);
        InputFile.CheckFinite(destination, Path, $"tensor '{entry.Name}'");
    }

    /// <summary>The entry's values, converted to float32, into <paramref name="destination"/> (its element count long).</summary>
    private protected abstract void ReadValues(TEntry entry, Span<float> destination);
}
