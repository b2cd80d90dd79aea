using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Sinapse.IO;
using Sinapse.Tensors;

namespace Sinapse.Serialization;

/// <summary>
/// One tensor of a safetensors file, as its header declares it: dtype, shape and the byte range
/// [Begin, End) within the data section.
/// </summary>
public sealed record SafeTensorEntry(string Name, string DType, int[] Shape, long Begin, long End) : ITensorEntry
{
    public long ElementCount => Shape.Aggregate(1L, (count, dimension) => count * dimension);

    public override string ToString() => $"'{Name}' ({DType} {SafeTensors.FormatShape(Shape)})";
}

/// <summary>
/// The safetensors format (Hugging Face's, which PyTorch's <c>safetensors</c> package reads and
/// writes): an 8-byte little-endian header length N, N bytes of JSON mapping each tensor's name
/// to <c>{"dtype", "shape", "data_offsets": [begin, end]}</c> (plus an optional
/// <c>"__metadata__"</c> of string pairs), then the tensors' bytes, little-endian and row-major,
/// offsets counted from the end of the header. Sinapse writes F32 and reads F32, F64, F16, BF16
/// and the integer types (converted to float).
/// </summary>
public static class SafeTensors
{
    /// <summary>The safetensors reference implementation refuses headers over 100 MB; so do we, before reading one.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public const string MetadataKey = "__metadata__";

    /// <summary>Bytes per element of each dtype this reader understands.</summary>
    public static readonly IReadOnlyDictionary<string, int> DTypeSizes = new Dictionary<string, int>
    {
        ["F64"] = 8, ["F32"] = 4, ["F16"] = 2, ["BF16"] = 2,
        ["I64"] = 8, ["I32"] = 4, ["I16"] = 2, ["I8"] = 1, ["U8"] = 1, ["BOOL"] = 1,
    };

    /// <summary>Writes the tensors as F32 to <paramref name="path"/> atomically; returns the file's checksum.</summary>
    public static FileChecksum Write(string path, IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        return AtomicFile.Write(path, stream => Write(stream, list, metadata));
    }

    public static void Write(Stream stream, IReadOnlyList<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, _) in tensors)
        {
            if (string.IsNullOrEmpty(name) || name == MetadataKey) throw new ArgumentException($"'{name}' cannot name a tensor in a safetensors file.");
            if (!seen.Add(name)) throw new ArgumentException($"Two tensors are both named '{name}'; safetensors names must be unique.");
        }
        var json = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                writer.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata) writer.WriteString(key, value);
                writer.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, tensor) in tensors)
            {
                writer.WriteStartObject(name);
                writer.WriteString("dtype", "F32");
                writer.WriteStartArray("shape");
                foreach (var dimension in tensor.Shape.Dimensions) writer.WriteNumberValue(dimension);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                writer.WriteNumberValue(offset += 4L * tensor.Length);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        // Padded with spaces to a multiple of 8, as the reference writer does, so the data is aligned.
        int padded = (json.WrittenCount + 7) / 8 * 8;
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
        stream.Write(length);
        stream.Write(json.WrittenSpan);
        for (int i = json.WrittenCount; i < padded; i++) stream.WriteByte((byte)' ');
        foreach (var (_, tensor) in tensors) WriteFloats(stream, tensor.Span);
    }

    internal static string FormatShape(ReadOnlySpan<int> dimensions) => "[" + string.Join(", ", dimensions.ToArray()) + "]";

    internal static void WriteFloats(Stream stream, ReadOnlySpan<float> values)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors data is little-endian; this machine is not.");
        stream.Write(MemoryMarshal.AsBytes(values));
    }

    /// <summary>Reads and validates <paramref name="path"/>'s header; no tensor data is read yet.</summary>
    public static SafeTensorsFile Open(string path) => SafeTensorsFile.Open(path);

    /// <summary>Every tensor of the file, converted to float.</summary>
    public static Dictionary<string, Tensor> Load(string path)
    {
        var file = Open(path);
        return file.Entries.ToDictionary(e => e.Name, e => file.Read(e.Name), StringComparer.Ordinal);
    }
}

/// <summary>A safetensors file whose header has been read and validated; tensors are read on demand.</summary>
public sealed class SafeTensorsFile : TensorFile<SafeTensorEntry>
{
    private SafeTensorsFile(string path, long dataStart, List<SafeTensorEntry> entries, Dictionary<string, string> metadata) : base(path, entries)
    {
        DataStart = dataStart;
        Metadata = metadata;
    }

    /// <summary>Where the data section starts in the file: 8 + the header length.</summary>
    public long DataStart { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>
    /// Reads the header of <paramref name="path"/> and checks all of it before anything else is
    /// read: the length fits in the file, the JSON is an object of well-formed entries, every
    /// dtype is known, shapes have non-negative dimensions whose byte size (computed without
    /// overflow) equals the entry's offsets, and the offsets tile the data section exactly, in
    /// order, without gaps or overlaps. The only allocation is the header itself.
    /// </summary>
    public static SafeTensorsFile Open(string path)
    {
        InputFile.Length(path, "safetensors file");
        using var handle = File.OpenHandle(path);
        long fileLength = RandomAccess.GetLength(handle);
        if (fileLength < 8) throw Invalid(path, $"the file has {fileLength} bytes, fewer than the 8 of the header length: it is truncated or not a safetensors file");
        Span<byte> prefix = stackalloc byte[8];
        ReadExactly(handle, prefix, 0, path);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > (ulong)(fileLength - 8))
            throw Invalid(path, $"the header declares {headerLength:N0} bytes but only {fileLength - 8:N0} follow the length: the file is truncated or not a safetensors file");
        if (headerLength > SafeTensors.MaxHeaderBytes)
            throw Invalid(path, $"the header declares {headerLength:N0} bytes, more than the {SafeTensors.MaxHeaderBytes:N0} allowed");
        if (headerLength < 2) throw Invalid(path, $"the header has {headerLength} bytes, too few for a JSON object");
        var header = new byte[headerLength];
        ReadExactly(handle, header, 8, path);
        long dataStart = 8 + (long)headerLength, dataLength = fileLength - dataStart;
        // The JSON parser checks the structure but leaves a string's bytes to be decoded when it is read.
        if (!System.Text.Unicode.Utf8.IsValid(header)) throw Invalid(path, "the header is not valid UTF-8 text: the file is corrupt");

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw Invalid(path, $"the header is not valid JSON ({e.Message})");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw Invalid(path, $"the header is a JSON {document.RootElement.ValueKind}, not an object");
            var entries = new List<SafeTensorEntry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!names.Add(property.Name)) throw Invalid(path, $"'{property.Name}' appears twice in the header");
                if (property.Name == SafeTensors.MetadataKey)
                {
                    if (property.Value.ValueKind != JsonValueKind.Object) throw Invalid(path, "__metadata__ must be an object of strings");
                    foreach (var item in property.Value.EnumerateObject())
                        metadata[item.Name] = item.Value.ValueKind == JsonValueKind.String ? item.Value.GetString()!
                            : throw Invalid(path, $"__metadata__ '{item.Name}' is a {item.Value.ValueKind}, not a string");
                    continue;
                }
                entries.Add(ParseEntry(path, property.Name, property.Value));
            }
            entries.Sort((a, b) => a.Begin.CompareTo(b.Begin));
            long expected = 0;
            foreach (var entry in entries)
            {
                if (entry.Begin != expected)
                    throw Invalid(path, entry.Begin < expected
                        ? $"tensor {entry} has data_offsets [{entry.Begin}, {entry.End}], overlapping the previous tensor's data, which ends at {expected}"
                        : $"tensor {entry} starts at {entry.Begin}, leaving a gap after the previous tensor's data, which ends at {expected}");
                if (entry.End > dataLength)
                    throw Invalid(path, $"tensor {entry} has data_offsets [{entry.Begin:N0}, {entry.End:N0}], beyond the data section's {dataLength:N0} bytes: the file is truncated or the header is wrong");
                expected = entry.End;
            }
            if (expected != dataLength)
                throw Invalid(path, $"the tensors cover {expected:N0} bytes of data but the file has {dataLength:N0} after the header");
            return new SafeTensorsFile(path, dataStart, entries, metadata);
        }
    }

    private static SafeTensorEntry ParseEntry(string path, string name, JsonElement value)
    {
        string Where(string what) => $"tensor '{name}': {what}";
        if (value.ValueKind != JsonValueKind.Object) throw Invalid(path, Where($"the entry is a JSON {value.ValueKind}, not an object"));
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Invalid(path, Where("'dtype' is missing or not a string"));
        var dtype = dtypeElement.GetString()!;
        if (!SafeTensors.DTypeSizes.TryGetValue(dtype, out int elementSize))
            throw Invalid(path, Where($"unknown dtype '{dtype}' (expected one of {string.Join(", ", SafeTensors.DTypeSizes.Keys)})"));
        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw Invalid(path, Where("'shape' is missing or not an array"));
        var shape = new int[shapeElement.GetArrayLength()];
        long count = 1;
        int axis = 0;
        foreach (var dimension in shapeElement.EnumerateArray())
        {
            if (dimension.ValueKind != JsonValueKind.Number || !dimension.TryGetInt64(out long size) || size < 0)
                throw Invalid(path, Where($"shape dimension {axis} is {dimension.GetRawText()}, not a whole number >= 0"));
            if (size > int.MaxValue) throw Invalid(path, Where($"shape dimension {axis} is {size:N0}, more than a Sinapse tensor can hold"));
            shape[axis++] = (int)size;
            // Saturating: a product past 2^62 is reported as an overflow, never wrapped round.
            count = size == 0 || count == 0 ? 0 : count > (1L << 62) / size ? -1 : count * size;
            if (count < 0) throw Invalid(path, Where($"the shape {SafeTensors.FormatShape(shape.AsSpan(0, axis))}… has more elements than can be counted"));
        }
        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2
            || !offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            throw Invalid(path, Where("'data_offsets' must be [begin, end] with 0 <= begin <= end"));
        foreach (var property in value.EnumerateObject())
            if (property.Name is not ("dtype" or "shape" or "data_offsets"))
                throw Invalid(path, Where($"unexpected field '{property.Name}'"));
        if (count > long.MaxValue / elementSize || count * elementSize != end - begin)
            throw Invalid(path, Where($"{dtype} {SafeTensors.FormatShape(shape)} needs {(count > long.MaxValue / elementSize ? "more than 2^63" : (count * elementSize).ToString("N0", CultureInfo.InvariantCulture))} bytes, but data_offsets [{begin:N0}, {end:N0}] give {end - begin:N0}"));
        return new SafeTensorEntry(name, dtype, shape, begin, end);
    }

    private protected override void ReadValues(SafeTensorEntry entry, Span<float> destination)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors data is little-endian; this machine is not.");
        using var handle = File.OpenHandle(Path);
        long start = DataStart + entry.Begin;
        if (RandomAccess.GetLength(handle) < DataStart + entry.End)
            throw new InvalidDataException($"{Path} is shorter than when its header was read: tensor {entry} is cut off.");
        if (entry.DType == "F32") ReadExactly(handle, MemoryMarshal.AsBytes(destination), start, Path);
        else ReadConverted(handle, entry, start, destination);
    }

    private void ReadConverted(Microsoft.Win32.SafeHandles.SafeFileHandle handle, SafeTensorEntry entry, long start, Span<float> destination)
    {
        int size = SafeTensors.DTypeSizes[entry.DType];
        var chunk = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            int perChunk = chunk.Length / size;
            for (int done = 0; done < destination.Length; done += perChunk)
            {
                int count = Math.Min(perChunk, destination.Length - done);
                var bytes = chunk.AsSpan(0, count * size);
                ReadExactly(handle, bytes, start + (long)done * size, Path);
                Convert(entry.DType, bytes, destination.Slice(done, count));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    internal static void Convert(string dtype, ReadOnlySpan<byte> bytes, Span<float> values)
    {
        if (dtype == "F32")
        {
            MemoryMarshal.Cast<byte, float>(bytes)[..values.Length].CopyTo(values);
            return;
        }
        for (int i = 0; i < values.Length; i++)
            values[i] = dtype switch
            {
                "F64" => (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes[(8 * i)..]),
                "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(2 * i)..]),
                "BF16" => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]) << 16),
                "I64" => BinaryPrimitives.ReadInt64LittleEndian(bytes[(8 * i)..]),
                "I32" => BinaryPrimitives.ReadInt32LittleEndian(bytes[(4 * i)..]),
                "I16" => BinaryPrimitives.ReadInt16LittleEndian(bytes[(2 * i)..]),
                "I8" => (sbyte)bytes[i],
                "U8" => bytes[i],
                "BOOL" => bytes[i] != 0 ? 1f : 0f,
                _ => throw new InvalidOperationException($"dtype {dtype} has no conversion"),
            };
    }

    private static void ReadExactly(Microsoft.Win32.SafeHandles.SafeFileHandle handle, Span<byte> destination, long offset, string path)
    {
        while (destination.Length > 0)
        {
            int read = RandomAccess.Read(handle, destination, offset);
            if (read == 0) throw new InvalidDataException($"{path} ends early: {destination.Length:N0} more bytes were expected at offset {offset:N0}.");
            destination = destination[read..];
            offset += read;
        }
    }

    private static InvalidDataException Invalid(string path, string problem) => new($"{path} is not a valid safetensors file: {problem}.");

    internal static string Preview(IEnumerable<string> names)
    {
        var list = names.Take(9).ToList();
        return list.Count > 8 ? string.Join(", ", list.Take(8)) + ", …" : string.Join(", ", list);
    }
}
