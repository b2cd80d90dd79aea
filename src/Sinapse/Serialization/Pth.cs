using System.Collections;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;
using System.Text.RegularExpressions;
using Razorvine.Pickle;
using Razorvine.Pickle.Objects;
using Sinapse.IO;
using Sinapse.Tensors;

namespace Sinapse.Serialization;

/// <summary>
/// One tensor of a PyTorch .pth state dict, as the pickle describes it: a view (offset, shape,
/// strides, all in elements) into one storage of the archive. Nothing is read until asked.
/// </summary>
public sealed record PthEntry(string Name, string DType, int[] Shape, long[] Stride, long StorageOffset, string StorageKey) : ITensorEntry
{
    public long ElementCount => Shape.Aggregate(1L, (count, dimension) => count * dimension);

    public override string ToString() => $"'{Name}' ({DType} {SafeTensors.FormatShape(Shape)})";
}

/// <summary>
/// PyTorch's own weight files, as torch.save(model.state_dict(), path) writes them since
/// PyTorch 1.6: a zip archive of one folder holding <c>data.pkl</c> (the pickled state dict),
/// <c>data/&lt;key&gt;</c> (each storage's raw little-endian bytes), <c>version</c> and, from
/// PyTorch 2.1, <c>byteorder</c>. The pickle is read like torch.load(weights_only=True): only
/// the globals a state dict needs (torch's tensor rebuilders and storage types,
/// collections.OrderedDict) are understood; any other global is refused, and no pickled code is
/// ever run.
/// </summary>
public static class Pth
{
    /// <summary>The pickle of a state dict is names and shapes only; this bounds what is read before it is parsed.</summary>
    public const long MaxPickleBytes = 256L << 20;

    /// <summary>PyTorch's storage classes, by the dtype names safetensors uses (<see cref="SafeTensors.DTypeSizes"/>).</summary>
    private static readonly Dictionary<string, string> StorageTypes = new()
    {
        ["FloatStorage"] = "F32", ["DoubleStorage"] = "F64", ["HalfStorage"] = "F16", ["BFloat16Storage"] = "BF16",
        ["LongStorage"] = "I64", ["IntStorage"] = "I32", ["ShortStorage"] = "I16", ["CharStorage"] = "I8",
        ["ByteStorage"] = "U8", ["BoolStorage"] = "BOOL",
    };

    /// <summary>A zip archive's first local file header.</summary>
    internal static ReadOnlySpan<byte> ZipSignature => "PK\x03\x04"u8;

    /// <summary>The legacy format's start: pickle protocol 2, then LONG1 of the 10-byte magic number 0x1950a86a20f9469cfc6c.</summary>
    internal static ReadOnlySpan<byte> LegacySignature => [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

    /// <summary>Whether <paramref name="path"/> starts like a torch.save file (a zip archive, or the legacy pickle) rather than safetensors.</summary>
    public static bool IsPthFile(string path)
    {
        Span<byte> head = stackalloc byte[LegacySignature.Length];
        using (var stream = File.OpenRead(path)) head = head[..stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false)];
        return head.StartsWith(ZipSignature) || head.SequenceEqual(LegacySignature);
    }

    /// <summary>Opens and validates <paramref name="path"/>: the archive, the pickle and every tensor's view of its storage. No tensor data is read yet.</summary>
    public static PthFile Open(string path) => PthFile.Open(path);

    /// <summary>Every tensor of the state dict, converted to float, in the order the file stores them.</summary>
    public static List<(string Name, Tensor Tensor)> Load(string path)
    {
        var file = Open(path);
        return [.. file.Entries.Select(e => (e.Name, file.Read(e.Name)))];
    }

    /// <summary>The pickle's storage reference: what persistent_load returns for ('storage', type, key, location, numel).</summary>
    internal sealed record Storage(string Key, string DType, long ElementCount);

    /// <summary>A tensor as _rebuild_tensor_v2 describes it, before it is checked against its storage.</summary>
    internal sealed record TensorView(Storage Storage, long Offset, long[] Shape, long[] Stride);

    /// <summary>torch.FloatStorage and its kin appear only as the type inside a persistent id; they are never called.</summary>
    internal sealed class StorageType(string name, string dtype) : IObjectConstructor
    {
        public string DType => dtype;

        public object construct(object[] args) => throw new PickleException($"torch.{name} is called, which a state dict never does");
    }

    /// <summary>collections.OrderedDict(), which is how a state dict is pickled.</summary>
    private sealed class OrderedDictConstructor : IObjectConstructor
    {
        public object construct(object[] args) => args.Length == 0 ? new OrderedDict() : throw new PickleException("collections.OrderedDict is given arguments, which a state dict's never is");
    }

    /// <summary>collections.OrderedDict as a Hashtable, the dictionary type the pickler fills, plus the attributes a pickle may set on it.</summary>
    internal sealed class OrderedDict : Hashtable
    {
        /// <summary>state_dict's <c>_metadata</c> attribute (per-module versions), which loading weights does not need.</summary>
        public void __setstate__(Hashtable state) => Metadata = state;

        public Hashtable? Metadata { get; private set; }
    }

    /// <summary>torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]).</summary>
    private sealed class RebuildTensor : IObjectConstructor
    {
        public object construct(object[] args)
        {
            if (args.Length is < 4 or > 7) throw new PickleException($"_rebuild_tensor_v2 is given {args.Length} arguments, not 6");
            if (args[0] is not Storage storage) throw new PickleException($"_rebuild_tensor_v2's storage is a {Describe(args[0])}, not a storage reference");
            return new TensorView(storage, Integer(args[1], "storage offset"), Integers(args[2], "size"), Integers(args[3], "stride"));
        }
    }

    /// <summary>torch._utils._rebuild_parameter(data, requires_grad, backward_hooks): a Parameter is its tensor.</summary>
    private sealed class RebuildParameter : IObjectConstructor
    {
        public object construct(object[] args) => args.Length == 3 && args[0] is TensorView view ? view
            : throw new PickleException("_rebuild_parameter is not given (tensor, requires_grad, hooks)");
    }

    private static long Integer(object? value, string what) => value switch
    {
        int i => i,
        long l => l,
        _ => throw new PickleException($"the {what} is a {Describe(value)}, not an integer"),
    };

    private static long[] Integers(object? value, string what) => value is object[] tuple
        ? [.. tuple.Select(v => Integer(v, what + " element"))]
        : throw new PickleException($"the {what} is a {Describe(value)}, not a tuple of integers");

    internal static string Describe(object? value) => value switch
    {
        null => "None",
        ClassDict classDict => $"{classDict.ClassName} object",
        ClassDictConstructor global => $"global {global.module}.{global.name}",
        _ => value.GetType().Name,
    };

    /// <summary>A Razorvine unpickler whose persistent ids are the archive's storages.</summary>
    internal sealed class StateDictUnpickler(Func<object, Storage> storage) : Unpickler
    {
        static StateDictUnpickler()
        {
            // Razorvine resolves globals through one process-wide table; these entries are the whole allow-list.
            // Anything else it turns into inert ClassDicts, which PthFile.Open refuses by name.
            registerConstructor("collections", "OrderedDict", new OrderedDictConstructor());
            registerConstructor("torch._utils", "_rebuild_tensor_v2", new RebuildTensor());
            registerConstructor("torch._utils", "_rebuild_parameter", new RebuildParameter());
            foreach (var (name, dtype) in StorageTypes) registerConstructor("torch", name, new StorageType(name, dtype));
        }

        protected override object persistentLoad(object pid) => storage(pid);
    }

    /// <summary>The one global Razorvine could not resolve, from its complaint about constructing it.</summary>
    internal static readonly Regex UnresolvedGlobal = new(@"construction of ClassDict \(for ([^)]+)\)", RegexOptions.CultureInvariant);
}

/// <summary>A .pth archive whose pickle has been read and whose tensors have been checked against their storages.</summary>
public sealed class PthFile : TensorFile<PthEntry>
{
    private readonly Dictionary<string, long> storageBytes;
    private readonly string prefix;

    /// <summary>The entries are the state dict's tensors in the order of their storages (torch.save's order for a state dict of separate tensors).</summary>
    private PthFile(string path, string prefix, List<PthEntry> entries, Dictionary<string, long> storageBytes) : base(path, entries)
    {
        this.prefix = prefix;
        this.storageBytes = storageBytes;
    }

    private static InvalidDataException Invalid(string path, string problem) => new($"{path} is not a valid PyTorch .pth file: {problem}.");

    public static PthFile Open(string path)
    {
        InputFile.Length(path, ".pth file");
        using var archive = OpenArchive(path);
        var pickles = archive.Entries.Where(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal)
            && e.FullName.Count(c => c == '/') == 1).ToList();
        if (pickles.Count != 1)
            throw Invalid(path, pickles.Count == 0 ? "the archive has no <folder>/data.pkl, so it is not a torch.save file" : $"the archive has {pickles.Count} data.pkl files");
        string prefix = pickles[0].FullName[..^"data.pkl".Length];
        if (archive.GetEntry(prefix + "byteorder") is { } byteOrderEntry)
        {
            var order = Encoding.ASCII.GetString(ReadEntry(path, byteOrderEntry, 16)).Trim();
            if (order != "little") throw Invalid(path, $"its tensors are stored {order}-endian; Sinapse reads little-endian files");
        }
        var pickle = ReadEntry(path, pickles[0], Pth.MaxPickleBytes);

        var storages = new Dictionary<string, Pth.Storage>(StringComparer.Ordinal);
        var storageBytes = new Dictionary<string, long>(StringComparer.Ordinal);
        Pth.Storage Resolve(object pid)
        {
            if (pid is not object[] { Length: 5 } tuple || tuple[0] as string != "storage" || tuple[2] is not string key)
                throw new PickleException($"a persistent id is {Pth.Describe(pid)}, not ('storage', type, key, location, size)");
            if (tuple[1] is not Pth.StorageType type)
                throw new PickleException($"storage '{key}' has type {Pth.Describe(tuple[1])}, not one of torch's storage types");
            string dtype = type.DType;
            long count = tuple[4] is int i ? i : tuple[4] is long l ? l : -1;
            if (count < 0) throw new PickleException($"storage '{key}' has size {Pth.Describe(tuple[4])}, not a count");
            if (storages.TryGetValue(key, out var known))
                return known.DType == dtype && known.ElementCount == count ? known
                    : throw new PickleException($"storage '{key}' is {known.ElementCount:N0} {known.DType} values in one place and {count:N0} {dtype} values in another");
            var entry = archive.GetEntry(prefix + "data/" + key) ?? throw new PickleException($"storage '{key}' has no entry {prefix}data/{key} in the archive");
            long bytes = count > long.MaxValue / 8 ? -1 : count * SafeTensors.DTypeSizes[dtype];
            if (entry.Length != bytes) throw new PickleException($"storage '{key}' holds {count:N0} {dtype} values ({bytes:N0} bytes), but its entry has {entry.Length:N0} bytes");
            storageBytes[key] = bytes;
            return storages[key] = new Pth.Storage(key, dtype, count);
        }

        object root;
        try
        {
            using var unpickler = new Pth.StateDictUnpickler(Resolve);
            root = unpickler.loads(pickle);
        }
        catch (PickleException e) when (Pth.UnresolvedGlobal.Match(e.Message) is { Success: true } match)
        {
            throw Refused(path, match.Groups[1].Value);
        }
        // Whatever else the unpickler throws on bytes that are not a well-formed pickle names the pickle as the culprit.
        catch (Exception e) when (e is not (OutOfMemoryException or InvalidDataException))
        {
            throw Invalid(path, $"its pickle {prefix}data.pkl cannot be read as a state dict ({e.Message.TrimEnd('.')})");
        }
        RefuseForeignObjects(path, root);
        if (root is not Hashtable dictionary) throw Invalid(path, $"its pickle holds a {Pth.Describe(root)}, not a state dict (save model.state_dict())");
        var entries = new List<PthEntry>();
        foreach (var key in dictionary.Keys)
        {
            if (key is not string name) throw Invalid(path, $"its state dict has a key that is a {Pth.Describe(key)}, not a name");
            if (dictionary[key] is not Pth.TensorView view)
                throw Invalid(path, $"'{Printable(name)}' is a {Pth.Describe(dictionary[key])}, not a tensor (save model.state_dict() itself)");
            entries.Add(Check(path, name, view));
        }
        // The pickler's dictionaries do not keep the pickle's order, but torch.save numbers the storages as it writes them.
        entries = [.. entries.OrderBy(e => e.StorageKey.Length).ThenBy(e => e.StorageKey, StringComparer.Ordinal).ThenBy(e => e.StorageOffset).ThenBy(e => e.Name, StringComparer.Ordinal)];
        return new PthFile(path, prefix, entries, storageBytes);
    }

    /// <summary>A name from the file as an error message shows it: control characters escaped, so the message stays one line.</summary>
    private static string Printable(string name) =>
        string.Concat(name.Select(c => char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString()));

    private static InvalidDataException Refused(string path, string global) =>
        new($"{path}: refused to load the pickled global '{Printable(global)}': a .pth state dict needs only torch's tensor rebuilders, storage types and collections.OrderedDict, and nothing from the file was run.");

    /// <summary>
    /// Globals that Razorvine could not resolve become ClassDicts (or stay as bare references);
    /// anywhere in the result, they mean the file named a global outside the allow-list.
    /// </summary>
    private static void RefuseForeignObjects(string path, object? value)
    {
        var pending = new Stack<object?>([value]);
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        while (pending.TryPop(out var item))
        {
            switch (item)
            {
                case null or string or int or long or bool or double or Pth.TensorView:
                    break;
                case ClassDict classDict:
                    throw Refused(path, classDict.ClassName);
                case ClassDictConstructor global:
                    throw Refused(path, $"{global.module}.{global.name}");
                case Hashtable table when seen.Add(table):
                    foreach (DictionaryEntry pair in table) { pending.Push(pair.Key); pending.Push(pair.Value); }
                    if (table is Pth.OrderedDict { Metadata: { } metadata }) pending.Push(metadata);
                    break;
                case IEnumerable list and (ArrayList or object[]) when seen.Add(list):
                    foreach (var element in list) pending.Push(element);
                    break;
                case Hashtable or ArrayList or object[]:
                    break;
                default:
                    throw Invalid(path, $"its pickle holds a {Pth.Describe(item)}, which a state dict never does");
            }
        }
    }

    /// <summary>Checks a view against PyTorch's rules and its storage before anything is allocated for it.</summary>
    private static PthEntry Check(string path, string name, Pth.TensorView view)
    {
        string Where(string what) => $"tensor '{Printable(name)}': {what}";
        if (view.Shape.Length != view.Stride.Length)
            throw Invalid(path, Where($"its size has {view.Shape.Length} dimensions but its stride {view.Stride.Length}"));
        if (view.Offset < 0) throw Invalid(path, Where($"its storage offset is {view.Offset}"));
        var shape = new int[view.Shape.Length];
        long count = 1, last = view.Offset;
        for (int axis = 0; axis < shape.Length; axis++)
        {
            long size = view.Shape[axis], stride = view.Stride[axis];
            if (size < 0 || size > int.MaxValue) throw Invalid(path, Where($"dimension {axis} has size {size}"));
            if (stride < 0) throw Invalid(path, Where($"dimension {axis} has stride {stride}"));
            shape[axis] = (int)size;
            count = size == 0 || count == 0 ? 0 : count > Array.MaxLength / size ? -1 : count * size;
            if (count < 0) throw Invalid(path, Where($"{SafeTensors.FormatShape(shape.AsSpan(0, axis + 1))}… has more elements than a Sinapse tensor can hold"));
            // Saturating: a view past 2^63 is reported as out of its storage, never wrapped round.
            if (size > 1 && stride > 0) last = stride > (long.MaxValue - last) / (size - 1) ? long.MaxValue : last + (size - 1) * stride;
        }
        if (count > 0 && last >= view.Storage.ElementCount)
            throw Invalid(path, Where($"size {SafeTensors.FormatShape(shape)} with stride {SafeTensors.FormatShape(view.Stride.Select(s => (int)Math.Min(s, int.MaxValue)).ToArray())} at offset {view.Offset} reaches element {last:N0}, but its storage '{view.Storage.Key}' has {view.Storage.ElementCount:N0}"));
        return new PthEntry(name, view.Storage.DType, shape, view.Stride, view.Offset, view.Storage.Key);
    }

    private protected override void ReadValues(PthEntry entry, Span<float> destination)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException(".pth data is little-endian; this machine is not.");
        if (destination.Length == 0) return;
        byte[] storage;
        using (var archive = OpenArchive(Path))
        {
            var zipEntry = archive.GetEntry(prefix + "data/" + entry.StorageKey)
                ?? throw new InvalidDataException($"{Path} changed since it was opened: storage '{entry.StorageKey}' is gone.");
            storage = ReadEntry(Path, zipEntry, storageBytes[entry.StorageKey]);
        }
        int size = SafeTensors.DTypeSizes[entry.DType];
        // Row-major walk of the view: the innermost dimension is converted run by run, the outer ones step through their strides.
        int rank = entry.Shape.Length;
        int inner = rank == 0 ? 1 : entry.Shape[^1];
        long innerStride = rank == 0 ? 1 : entry.Stride[^1];
        var index = new int[Math.Max(rank - 1, 0)];
        var run = new byte[inner * size];
        for (int done = 0; done < destination.Length; done += inner)
        {
            long start = entry.StorageOffset;
            for (int axis = 0; axis < index.Length; axis++) start += index[axis] * entry.Stride[axis];
            if (innerStride == 1) storage.AsSpan((int)(start * size), inner * size).CopyTo(run);
            else
                for (int i = 0; i < inner; i++) storage.AsSpan((int)((start + i * innerStride) * size), size).CopyTo(run.AsSpan(i * size));
            SafeTensorsFile.Convert(entry.DType, run, destination.Slice(done, inner));
            for (int axis = index.Length - 1; axis >= 0 && ++index[axis] == entry.Shape[axis]; axis--) index[axis] = 0;
        }
    }

    private static ZipArchive OpenArchive(string path)
    {
        Span<byte> head = stackalloc byte[Pth.LegacySignature.Length];
        var stream = File.OpenRead(path);
        if (stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) == head.Length && head.SequenceEqual(Pth.LegacySignature))
        {
            stream.Dispose();
            throw Invalid(path, "it is in PyTorch's legacy (pre-1.6) format; load it in PyTorch and save it again with torch.save to get the zip format");
        }
        stream.Position = 0;
        ZipArchive? archive = null;
        try
        {
            archive = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: false);
            _ = archive.Entries; // the central directory is read here, so its damage is reported with the rest
            return archive;
        }
        catch (InvalidDataException e)
        {
            archive?.Dispose();
            stream.Dispose();
            throw Invalid(path, $"it is not a readable zip archive, so it is truncated or not a torch.save file ({e.Message.TrimEnd('.')})");
        }
    }

    /// <summary>Reads one archive entry whole, checking its declared lengths before allocating, then its length and CRC-32 as read.</summary>
    private static byte[] ReadEntry(string path, ZipArchiveEntry entry, long maxBytes)
    {
        if (entry.Length > maxBytes || entry.Length > Array.MaxLength)
            throw Invalid(path, $"entry {entry.FullName} declares {entry.Length:N0} bytes, more than the {Math.Min(maxBytes, Array.MaxLength):N0} expected");
        // Deflate expands at most 1032:1, so a larger declared length is a lie, not a reason to allocate.
        if (entry.CompressedLength > new FileInfo(path).Length || entry.Length > entry.CompressedLength * 1032 + 1024)
            throw Invalid(path, $"entry {entry.FullName} declares {entry.Length:N0} bytes from {entry.CompressedLength:N0} stored ones, which the file cannot hold: it is corrupt");
        var bytes = new byte[entry.Length];
        int read;
        try
        {
            using var stream = entry.Open();
            read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw Invalid(path, $"entry {entry.FullName} cannot be read ({e.Message.TrimEnd('.')}): the file is truncated or corrupt");
        }
        if (read != bytes.Length) throw Invalid(path, $"entry {entry.FullName} ends after {read:N0} of its {bytes.Length:N0} bytes: the file is truncated");
        if (Crc32.HashToUInt32(bytes) != entry.Crc32)
            throw Invalid(path, $"entry {entry.FullName} fails its CRC-32 check (the archive says {entry.Crc32:x8}, the bytes give {Crc32.HashToUInt32(bytes):x8}): the file is corrupt");
        return bytes;
    }
}
