using System.Globalization;
using System.IO.Hashing;
using Sinapse.IO;

namespace Sinapse.Serialization;

/// <summary>A file's length and XxHash64, as stored in model.json and checkpoint manifests to verify the file on load.</summary>
public sealed record FileChecksum(long Length, string XxHash64)
{
    /// <summary>Reads the whole file once, in blocks.</summary>
    public static FileChecksum Of(string path)
    {
        var hash = new XxHash64();
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        hash.Append(stream);
        return new FileChecksum(stream.Length, Format(hash.GetCurrentHashAsUInt64()));
    }

    internal static string Format(ulong hash) => hash.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>Throws <see cref="InvalidDataException"/>, naming the file, when it is missing, of another length or another checksum.</summary>
    public void Verify(string path, string describedBy)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} is missing ({describedBy} lists it).", path);
        long length = InputFile.Length(path, $"file {describedBy} lists"); // a pipe or device is refused before it is hashed
        if (length != Length)
            throw new InvalidDataException($"{path} has {length:N0} bytes but {describedBy} says {Length:N0}: the file is truncated or was replaced.");
        var actual = Of(path);
        if (actual.XxHash64 != XxHash64)
            throw new InvalidDataException($"{path} is corrupted: its XxHash64 is {actual.XxHash64} but {describedBy} records {XxHash64}.");
    }
}

/// <summary>
/// Writes that are never seen half-done: the bytes go to a temporary file in the same directory,
/// are flushed to the disk, and the temporary file is renamed over the target (an atomic replace
/// on one file system). A crash leaves either the old file or the new one, plus at worst a
/// stray ".tmp" file.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/> and returns the new file's checksum.</summary>
    public static FileChecksum Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            var hash = new XxHash64();
            long length;
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                using (var hashing = new HashingStream(file, hash)) write(hashing);
                length = file.Length;
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
            return new FileChecksum(length, FileChecksum.Format(hash.GetCurrentHashAsUInt64()));
        }
        catch
        {
            try { File.Delete(temporary); } catch (IOException) { }
            throw;
        }
    }

    public static FileChecksum WriteAllText(string path, string text) =>
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true);
            writer.Write(text);
        });

    /// <summary>Hashes what passes through on its way to the file, so the file need not be read back.</summary>
    private sealed class HashingStream(Stream inner, XxHash64 hash) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            hash.Append(buffer);
            inner.Write(buffer);
        }

        protected override void Dispose(bool disposing)
        {
            // The file belongs to the caller, who flushes it to disk.
            if (disposing) inner.Flush();
            base.Dispose(disposing);
        }
    }
}
