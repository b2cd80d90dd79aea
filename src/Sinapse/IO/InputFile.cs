using System.Text;
using System.Text.Json;

namespace Sinapse.IO;

/// <summary>
/// What every reader of a file does before it trusts it, and the one form of its errors: the file
/// is a regular file (symbolic links followed) of bounded size, and a failure is one line naming the
/// file, where in it, what was expected and what was found.
/// </summary>
public static class InputFile
{
    /// <summary>The largest JSON document (model.json, a checkpoint manifest) that is read: 16 MiB.</summary>
    public const long MaxJsonBytes = 16L << 20;

    /// <summary>The largest CSV file that is read: 1 GiB (its values as floats take about as much again).</summary>
    public const long MaxCsvBytes = 1L << 30;

    /// <summary>The longest CSV line, in characters: 1 Mi.</summary>
    public const int MaxCsvLineLength = 1 << 20;

    /// <summary>The most pixels an image may declare: 2^26 (8192×8192), whose RGB floats take 768 MiB.</summary>
    public const long MaxImagePixels = 1L << 26;

    /// <summary>
    /// The size in bytes of the regular file at <paramref name="path"/> (a <paramref name="kind"/>,
    /// "CSV file" say), after checking that it exists, is not empty, is at most
    /// <paramref name="maxBytes"/> long, and is not a pipe or device: those report a size of 0, and
    /// reading them could block forever (a named pipe) or never end (/dev/zero). <paramref name="content"/>
    /// is what an empty one lacks ("data rows" for a table).
    /// </summary>
    public static long Length(string path, string kind, long maxBytes = long.MaxValue, string content = "data")
    {
        ArgumentNullException.ThrowIfNull(path);
        var info = new FileInfo(path);
        if (info.LinkTarget != null && info.ResolveLinkTarget(returnFinalTarget: true) is FileInfo target) info = target;
        if (!info.Exists)
            throw new FileNotFoundException(Directory.Exists(info.FullName)
                ? $"{path}: expected a regular {kind}, found a directory."
                : $"{kind} {path} does not exist (not found at {Path.GetFullPath(path)}).", path);
        // Pipes, character and block devices and /proc entries all stat with size 0, as does an empty file; none can be read as data.
        if (info.Length == 0)
            throw new InvalidDataException($"{path} holds no {content}: expected a regular {kind}, found {(info.FullName == Path.GetFullPath(path) ? "" : $"{info.FullName}, ")}0 bytes (an empty file, or a pipe or device, which are not read).");
        if (info.Length > maxBytes)
            throw new InvalidDataException($"{path}: expected at most {maxBytes:N0} bytes ({kind}), found {info.Length:N0}.");
        return info.Length;
    }

    /// <summary>Opens <paramref name="path"/> for reading after the checks of <see cref="Length"/>.</summary>
    public static FileStream OpenRead(string path, string kind, long maxBytes = long.MaxValue, string content = "data")
    {
        Length(path, kind, maxBytes, content);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
    }

    /// <summary>Reads a UTF-8 JSON file of at most <see cref="MaxJsonBytes"/>, checked before anything is read.</summary>
    public static string ReadJsonText(string path, string kind)
    {
        Length(path, kind, MaxJsonBytes);
        return File.ReadAllText(path, Encoding.UTF8);
    }

    /// <summary>
    /// The lines of a text file of at most <paramref name="maxBytes"/>, streamed; a line longer than
    /// <paramref name="maxLineLength"/> characters is an error before more of it is buffered.
    /// </summary>
    public static IEnumerable<string> ReadLines(string path, string kind, long maxBytes, int maxLineLength)
    {
        using var reader = new StreamReader(OpenRead(path, kind, maxBytes, "data rows"), Encoding.UTF8);
        var line = new StringBuilder();
        var block = new char[1 << 16];
        int lineNumber = 1, read;
        bool afterReturn = false;
        while ((read = reader.Read(block, 0, block.Length)) > 0)
        {
            for (int i = 0; i < read; i++)
            {
                char c = block[i];
                if (c == '\n' && afterReturn) { afterReturn = false; continue; }
                afterReturn = c == '\r';
                if (c is '\n' or '\r')
                {
                    yield return line.ToString();
                    line.Clear();
                    lineNumber++;
                    continue;
                }
                if (line.Length == maxLineLength)
                    throw Error(path, $"line {lineNumber}", $"at most {maxLineLength:N0} characters", "a longer line (is the separator or line ending right?)");
                line.Append(c);
            }
        }
        if (line.Length > 0) yield return line.ToString();
    }

    /// <summary>
    /// Loaded weights must be finite: a NaN or infinity would only show up later as NaN predictions.
    /// The error names the tensor, the first bad value's index and the file.
    /// </summary>
    public static void CheckFinite(ReadOnlySpan<float> values, string file, string tensor)
    {
        // IsFiniteAll is false for an empty span, which holds nothing to refuse.
        if (values.IsEmpty || System.Numerics.Tensors.TensorPrimitives.IsFiniteAll(values)) return;
        int index = 0;
        while (float.IsFinite(values[index])) index++;
        throw Error(file, $"{tensor}, element {index:N0}", "finite weights", values[index].ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>The one form of a loader's error: "file: where: expected …, found …."</summary>
    public static InvalidDataException Error(string file, string where, string expected, string found) =>
        new(OneLine($"{file}: {where}: expected {expected}, found {found}."));

    /// <summary>
    /// Runs a reader over <paramref name="file"/>, turning the exceptions .NET throws for malformed
    /// content (bad JSON, a value of the wrong type, a duplicate key, an early end, a bad index,
    /// corrupt gzip data) into one line naming the file. Errors that already name it pass unchanged.
    /// </summary>
    public static T Guard<T>(string file, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (IsMalformedContent(e) && !e.Message.Contains(file, StringComparison.Ordinal))
        {
            throw new InvalidDataException(OneLine($"{file}: {Describe(e)}"), e);
        }
    }

    // Sinapse's own InvalidDataExceptions already name the file; those from System.IO.Compression do not.
    internal static bool IsMalformedContent(Exception e) => e is JsonException or EndOfStreamException or KeyNotFoundException
        or IndexOutOfRangeException or ArgumentOutOfRangeException or InvalidOperationException or FormatException or OverflowException
        or NullReferenceException or InvalidCastException or (ArgumentException and not ArgumentNullException) || IsGzipFailure(e);

    static bool IsGzipFailure(Exception e) => e is InvalidDataException && e.Source == "System.IO.Compression";

    static string Describe(Exception e) => e switch
    {
        EndOfStreamException => "expected more bytes, found the end of the file (it is truncated)",
        // .NET words a failed gzip checksum as "unsupported compression method"; the data is damaged either way.
        InvalidDataException => "expected intact gzip data, found data that fails to decompress (the file is damaged or truncated)",
        NullReferenceException => "a required field is missing or null",
        JsonException j => $"not valid JSON{(j.LineNumber is long line ? $" at line {line + 1}, byte {j.BytePositionInLine + 1}" : "")} ({e.Message})",
        InvalidOperationException or InvalidCastException => $"a field has the wrong type ({e.Message})",
        _ => e.Message,
    };

    /// <summary>Messages stay on one line and bounded, whatever text from the file they quote.</summary>
    public static string OneLine(string message)
    {
        const int Longest = 1000;
        var line = message.ReplaceLineEndings(" ");
        return line.Length <= Longest ? line : line[..(Longest - 1)] + "…";
    }

    /// <summary>A field quoted from a file, cut to <paramref name="longest"/> characters so one bad field cannot flood the message.</summary>
    public static string Quote(string field, int longest = 40) =>
        field.Length <= longest ? $"'{field}'" : $"'{field[..longest]}…' ({field.Length:N0} characters)";
}
