using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Sinapse.IO;
using Sinapse.Tensors;

namespace Sinapse.Serialization;

/// <summary>
/// NumPy's .npy files (format 1.0–3.0): the magic "\x93NUMPY", a version, a header length, a
/// Python-dict header with 'descr', 'fortran_order' and 'shape', then the array's bytes.
/// Reads float32, float64 and uint8 (and int64/int32) in C order, as float; writes float32.
/// </summary>
public static partial class Npy
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static Tensor Read(string path)
    {
        using var stream = InputFile.OpenRead(path, ".npy file");
        return Read(stream, path);
    }

    public static Tensor Read(Stream stream, string name) => InputFile.Guard(name, () => ReadUnguarded(stream, name));

    static Tensor ReadUnguarded(Stream stream, string name)
    {
        Span<byte> prefix = stackalloc byte[10];
        if (stream.ReadAtLeast(prefix, 10, throwOnEndOfStream: false) < 10 || !prefix[..6].SequenceEqual(Magic))
            throw new InvalidDataException($"{name} is not a .npy file (it does not start with \\x93NUMPY).");
        byte major = prefix[6];
        long headerLength;
        if (major == 1) headerLength = BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..]);
        else if (major is 2 or 3)
        {
            Span<byte> more = stackalloc byte[2];
            stream.ReadExactly(more);
            headerLength = BinaryPrimitives.ReadUInt32LittleEndian([prefix[8], prefix[9], more[0], more[1]]);
        }
        else throw new InvalidDataException($"{name}: unsupported .npy version {major}.{prefix[7]}.");
        if (headerLength > 1 << 20) throw new InvalidDataException($"{name}: a header of {headerLength:N0} bytes is not plausible.");
        var headerBytes = new byte[headerLength];
        if (stream.ReadAtLeast(headerBytes, headerBytes.Length, throwOnEndOfStream: false) < headerBytes.Length)
            throw new InvalidDataException($"{name} is truncated inside its header.");
        var header = Encoding.Latin1.GetString(headerBytes);
        var descr = DescrPattern().Match(header) is { Success: true } d ? d.Groups[1].Value : throw InputFile.Error(name, "header", "a 'descr' entry", InputFile.Quote(header.Trim(), 80));
        if (FortranPattern().Match(header) is { Success: true } f && f.Groups[1].Value == "True")
            throw new InvalidDataException($"{name} is stored in Fortran (column-major) order; save it in C order (np.ascontiguousarray).");
        var shapeText = ShapePattern().Match(header) is { Success: true } s ? s.Groups[1].Value : throw InputFile.Error(name, "header", "a 'shape' entry", InputFile.Quote(header.Trim(), 80));
        var shape = shapeText.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(t => int.TryParse(t.TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : throw new InvalidDataException($"{name}: bad shape ({shapeText}).")).ToArray();
        long count = 1;
        foreach (var dimension in shape)
        {
            // Checked before multiplying, so a product that would overflow (or wrap round to 0) is refused.
            if (dimension != 0 && count > Array.MaxLength / dimension)
                throw InputFile.Error(name, "'shape'", $"at most {Array.MaxLength:N0} elements", $"({shapeText})");
            count *= dimension;
        }
        int size = descr switch
        {
            "<f4" => 4, "<f8" => 8, "|u1" or "<u1" or "|i1" => 1, "<i8" => 8, "<i4" => 4,
            _ => throw new InvalidDataException($"{name}: dtype '{descr}' is not supported (float32 '<f4', float64 '<f8', uint8 '|u1', int32, int64 are)."),
        };
        long remaining = stream.CanSeek ? stream.Length - stream.Position : long.MaxValue;
        if (remaining < count * size)
            throw new InvalidDataException($"{name} is truncated: shape ({shapeText}) of {descr} needs {count * size:N0} bytes of data, the file has {remaining:N0}.");
        var tensor = new Tensor(new Shape(shape), new float[count]);
        var values = tensor.Span;
        var bytes = new byte[Math.Min(count * size, 1 << 16) / size * size + size];
        for (int done = 0; done < values.Length;)
        {
            int n = (int)Math.Min(values.Length - done, bytes.Length / size);
            stream.ReadExactly(bytes, 0, n * size);
            for (int i = 0; i < n; i++)
                values[done + i] = descr switch
                {
                    "<f4" => BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(4 * i)),
                    "<f8" => (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(8 * i)),
                    "<i8" => BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(8 * i)),
                    "<i4" => BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4 * i)),
                    "|i1" => (sbyte)bytes[i],
                    _ => bytes[i],
                };
            done += n;
        }
        return tensor;
    }

    /// <summary>Writes a float32 C-order .npy file (version 1.0), atomically.</summary>
    public static void Write(string path, Tensor tensor) => AtomicFile.Write(path, stream => Write(stream, tensor));

    public static void Write(Stream stream, Tensor tensor)
    {
        var dims = tensor.Shape.ToArray();
        string shape = dims.Length == 1 ? $"{dims[0]}," : string.Join(", ", dims);
        var header = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({shape}), }}";
        // Padded with spaces and a newline so the data starts on a multiple of 64 bytes, as NumPy writes it.
        int total = (10 + header.Length + 1 + 63) / 64 * 64;
        header = header.PadRight(total - 10 - 1) + "\n";
        stream.Write(Magic);
        stream.Write([1, 0]);
        Span<byte> length = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)header.Length);
        stream.Write(length);
        stream.Write(Encoding.Latin1.GetBytes(header));
        SafeTensors.WriteFloats(stream, tensor.Span);
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
