using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using System.Runtime.InteropServices;
using Sinapse.IO;
using Sinapse.Tensors;

namespace Sinapse.Data;

/// <summary>The element types an IDX header can declare (its third byte).</summary>
public enum IdxType : byte
{
    UnsignedByte = 0x08,
    SignedByte = 0x09,
    Int16 = 0x0B,
    Int32 = 0x0C,
    Float32 = 0x0D,
    Float64 = 0x0E,
}

/// <summary>
/// Reads and writes IDX files, the format of MNIST and Fashion-MNIST: two zero bytes, a type
/// byte, a rank byte, one big-endian int32 per dimension, then the values, big-endian, row-major.
/// Files may be gzip-compressed; that is recognised by the gzip magic, not by the file name.
/// </summary>
public static class Idx
{
    public const int MaxRank = 4;

    // Deflate cannot expand data more than about 1032:1, so a gzip file whose header promises
    // more than this many bytes per compressed byte is truncated, and we can say so before we
    // allocate the tensor. The margin covers the gzip header and the IDX header.
    const long MaxDeflateRatio = 1032;
    const long GzipOverhead = 64;

    const int ChunkBytes = 1 << 20;

    public static Tensor Read(string path)
    {
        using var file = InputFile.OpenRead(path, "IDX file");
        return Read(file, Path.GetFileName(path));
    }

    /// <summary>Reads one IDX tensor from <paramref name="stream"/>; <paramref name="name"/> is what error messages call it.</summary>
    public static Tensor Read(Stream stream, string name) => InputFile.Guard(name, () => ReadUnguarded(stream, name));

    static Tensor ReadUnguarded(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        bool gzip = StartsWithGzipMagic(stream, out var seekable);
        long available = seekable.Length - seekable.Position;
        using var decompressed = gzip ? new GZipStream(seekable, CompressionMode.Decompress, leaveOpen: true) : null;
        var input = decompressed ?? seekable;

        var (type, dimensions) = ReadHeader(input, name);
        int elementSize = ElementSize(type);
        long count = 1;
        foreach (var d in dimensions) count *= d; // cannot overflow: ReadHeader bounded the product
        long dataBytes = count * elementSize;
        long headerBytes = 4 + 4L * dimensions.Length;

        if (!gzip && available < headerBytes + dataBytes)
            throw Truncated(name, dimensions, type, dataBytes, $"the file holds {available - headerBytes}");
        if (gzip && dataBytes > available * MaxDeflateRatio + GzipOverhead)
            throw Truncated(name, dimensions, type, dataBytes, $"its {available} compressed bytes can hold at most {available * MaxDeflateRatio}");

        var tensor = gzip ? ReadDecompressed(input, type, name, dimensions, dataBytes)
            : new Tensor(new Shape(dimensions), GC.AllocateUninitializedArray<float>((int)count));
        if (!gzip) ReadValues(input, type, tensor.Span, 0, name, dimensions, dataBytes);

        long trailing = CountRemainingBytes(input);
        if (trailing > 0)
            throw new InvalidDataException(
                $"{name} has {trailing} bytes after the {Promise(dimensions, type, dataBytes)} of data its header promises; " +
                "the file is damaged, or its header does not describe it.");
        return tensor;
    }

    /// <summary>
    /// Writes <paramref name="tensor"/> as an unsigned-byte IDX file (the MNIST type), gzip-compressed
    /// when <paramref name="gzip"/> says so (by default when the name ends in ".gz"). The values must be
    /// whole numbers in 0..255: raw pixels and labels, not normalised inputs.
    /// </summary>
    public static void Write(string path, Tensor tensor, bool? gzip = null)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var bytes = ToBytes(tensor, Path.GetFileName(path));
        // Write beside the target and rename, so an interrupted export never leaves a half file under the real name.
        var temporary = path + ".tmp";
        try
        {
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write))
            {
                bool compress = gzip ?? path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
                using var output = compress ? new GZipStream(file, CompressionLevel.SmallestSize, leaveOpen: true) : (Stream)file;
                WriteUnsignedBytes(output, tensor.Shape, bytes);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>Writes <paramref name="tensor"/> as an uncompressed unsigned-byte IDX stream.</summary>
    public static void Write(Stream stream, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        WriteUnsignedBytes(stream, tensor.Shape, ToBytes(tensor, nameof(tensor)));
    }

    /// <summary>
    /// Peeks at the first two bytes. Detection needs to rewind, so a stream that cannot seek (a
    /// network stream, say) is first copied into memory; files and memory streams are read in place.
    /// </summary>
    static bool StartsWithGzipMagic(Stream stream, out Stream seekable)
    {
        if (!stream.CanSeek)
        {
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            copy.Position = 0;
            stream = copy;
        }
        seekable = stream;
        long start = stream.Position;
        Span<byte> magic = stackalloc byte[2];
        int got = stream.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        stream.Position = start;
        return got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    }

    static (IdxType Type, int[] Dimensions) ReadHeader(Stream input, string name)
    {
        Span<byte> magic = stackalloc byte[4];
        int got = ReadUpTo(input, magic);
        if (got < 4)
            throw new InvalidDataException($"{name} is not an IDX file: it holds {got} bytes, fewer than the 4-byte magic number.");
        if (magic[0] != 0 || magic[1] != 0)
            throw new InvalidDataException(
                $"{name} is not an IDX file: its magic number starts 0x{magic[0]:x2} 0x{magic[1]:x2} where IDX has two zero bytes " +
                "(an MNIST image file starts 00 00 08 03, a label file 00 00 08 01).");
        var type = (IdxType)magic[2];
        if (!Enum.IsDefined(type))
            throw new InvalidDataException(
                $"{name} declares IDX type byte 0x{magic[2]:x2}, which is not one of 0x08 (ubyte), 0x09 (sbyte), 0x0B (int16), " +
                "0x0C (int32), 0x0D (float32), 0x0E (float64).");
        int rank = magic[3];
        if (rank < 1 || rank > MaxRank)
            throw new InvalidDataException($"{name} declares {rank} dimensions; Sinapse reads IDX files with 1 to {MaxRank}.");

        Span<byte> header = stackalloc byte[4 * MaxRank];
        header = header[..(4 * rank)];
        got = ReadUpTo(input, header);
        if (got < header.Length)
            throw new InvalidDataException($"{name} is truncated: its header declares {rank} dimensions ({4 * rank} bytes) but ends after {got}.");

        var dimensions = new int[rank];
        long count = 1;
        for (int axis = 0; axis < rank; axis++)
        {
            dimensions[axis] = BinaryPrimitives.ReadInt32BigEndian(header[(4 * axis)..]);
            if (dimensions[axis] <= 0)
                throw new InvalidDataException($"{name} declares dimension {axis} as {dimensions[axis]}; IDX dimensions must be positive.");
            count *= dimensions[axis];
            if (count > Array.MaxLength)
                throw new InvalidDataException(
                    $"{name} declares dimensions {string.Join("×", dimensions[..(axis + 1)])}..., more than the {Array.MaxLength} values a tensor can hold; the header is damaged.");
        }
        return (type, dimensions);
    }

    static int ElementSize(IdxType type) => type switch
    {
        IdxType.UnsignedByte or IdxType.SignedByte => 1,
        IdxType.Int16 => 2,
        IdxType.Int32 or IdxType.Float32 => 4,
        _ => 8,
    };

    /// <summary>
    /// Decompressed data is read in blocks that are only allocated as the data arrives, so a small
    /// gzip file whose header promises gigabytes costs no more memory than the data it really holds.
    /// </summary>
    static Tensor ReadDecompressed(Stream input, IdxType type, string name, int[] dimensions, long dataBytes)
    {
        long count = dataBytes / ElementSize(type);
        var blocks = new List<float[]>();
        for (long done = 0; done < count;)
        {
            var block = GC.AllocateUninitializedArray<float>((int)Math.Min(count - done, ChunkBytes));
            ReadValues(input, type, block, done, name, dimensions, dataBytes);
            blocks.Add(block);
            done += block.Length;
        }
        var tensor = new Tensor(new Shape(dimensions), GC.AllocateUninitializedArray<float>((int)count));
        int at = 0;
        foreach (var block in blocks)
        {
            block.CopyTo(tensor.Span[at..]);
            at += block.Length;
        }
        return tensor;
    }

    /// <summary>Fills <paramref name="destination"/>, values <paramref name="valuesBefore"/> onwards of the file's data.</summary>
    static void ReadValues(Stream input, IdxType type, Span<float> destination, long valuesBefore, string name, int[] dimensions, long dataBytes)
    {
        int elementSize = ElementSize(type);
        var chunk = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            long done = 0; // values
            while (done < destination.Length)
            {
                int values = (int)Math.Min(destination.Length - done, ChunkBytes / elementSize);
                var bytes = chunk.AsSpan(0, values * elementSize);
                int got = ReadUpTo(input, bytes);
                if (got < bytes.Length)
                    throw Truncated(name, dimensions, type, dataBytes, $"the file holds {(valuesBefore + done) * elementSize + got}");
                Convert(type, bytes, destination.Slice((int)done, values));
                done += values;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <summary>Big-endian IDX values to floats; swaps the bytes in place first (the chunk is scratch).</summary>
    static void Convert(IdxType type, Span<byte> bytes, Span<float> destination)
    {
        switch (type)
        {
            case IdxType.UnsignedByte:
                TensorPrimitives.ConvertTruncating<byte, float>(bytes, destination);
                break;
            case IdxType.SignedByte:
                TensorPrimitives.ConvertTruncating<sbyte, float>(MemoryMarshal.Cast<byte, sbyte>(bytes), destination);
                break;
            case IdxType.Int16:
                var shorts = MemoryMarshal.Cast<byte, short>(bytes);
                SwapIfLittleEndian(shorts);
                TensorPrimitives.ConvertTruncating<short, float>(shorts, destination);
                break;
            case IdxType.Int32:
                var ints = MemoryMarshal.Cast<byte, int>(bytes);
                SwapIfLittleEndian(ints);
                TensorPrimitives.ConvertTruncating<int, float>(ints, destination);
                break;
            case IdxType.Float32:
                var words = MemoryMarshal.Cast<byte, int>(bytes);
                SwapIfLittleEndian(words);
                MemoryMarshal.Cast<int, float>(words).CopyTo(destination);
                break;
            default:
                var longs = MemoryMarshal.Cast<byte, long>(bytes);
                if (BitConverter.IsLittleEndian) BinaryPrimitives.ReverseEndianness(longs, longs);
                TensorPrimitives.ConvertTruncating<double, float>(MemoryMarshal.Cast<long, double>(longs), destination);
                break;
        }
    }

    static void SwapIfLittleEndian(Span<short> values)
    {
        if (BitConverter.IsLittleEndian) BinaryPrimitives.ReverseEndianness(values, values);
    }

    static void SwapIfLittleEndian(Span<int> values)
    {
        if (BitConverter.IsLittleEndian) BinaryPrimitives.ReverseEndianness(values, values);
    }

    static long CountRemainingBytes(Stream input)
    {
        Span<byte> sink = stackalloc byte[4096];
        long total = 0;
        int got;
        while ((got = ReadUpTo(input, sink)) > 0) total += got;
        return total;
    }

    /// <summary>Fills <paramref name="buffer"/> unless the stream ends first.</summary>
    static int ReadUpTo(Stream input, Span<byte> buffer) => input.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);

    static InvalidDataException Truncated(string name, int[] dimensions, IdxType type, long dataBytes, string found) =>
        new($"{name} is truncated: its header promises {Promise(dimensions, type, dataBytes)} of data, {found}.");

    /// <summary>"10000×28×28 = 7840000 bytes", or "10×3 int32 values = 120 bytes" for wider types.</summary>
    static string Promise(int[] dimensions, IdxType type, long dataBytes)
    {
        var shape = string.Join("×", dimensions);
        return type == IdxType.UnsignedByte
            ? $"{shape} = {dataBytes} bytes"
            : $"{shape} {type} values = {dataBytes} bytes";
    }

    static byte[] ToBytes(Tensor tensor, string name)
    {
        if (tensor.Rank < 1 || tensor.Rank > MaxRank)
            throw new ArgumentException($"IDX holds tensors of rank 1 to {MaxRank}; {name} would get shape {tensor.Shape}.", nameof(tensor));
        if (tensor.Length == 0)
            throw new ArgumentException($"IDX dimensions must be positive; {name} would get shape {tensor.Shape}.", nameof(tensor));
        var values = tensor.Span;
        var bytes = new byte[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i];
            if (!(v >= 0 && v <= 255 && v == MathF.Floor(v)))
                throw new ArgumentException(
                    $"An unsigned-byte IDX file holds whole numbers 0..255, but value {i} of the tensor {tensor.Shape} for {name} is {v}. " +
                    "Write raw pixels or labels, before any normalisation.", nameof(tensor));
            bytes[i] = (byte)v;
        }
        return bytes;
    }

    static void WriteUnsignedBytes(Stream output, Shape shape, byte[] data)
    {
        Span<byte> header = stackalloc byte[4 + 4 * MaxRank];
        header[0] = 0;
        header[1] = 0;
        header[2] = (byte)IdxType.UnsignedByte;
        header[3] = (byte)shape.Rank;
        for (int axis = 0; axis < shape.Rank; axis++) BinaryPrimitives.WriteInt32BigEndian(header[(4 + 4 * axis)..], shape[axis]);
        output.Write(header[..(4 + 4 * shape.Rank)]);
        output.Write(data);
    }
}
