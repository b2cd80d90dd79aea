using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Hashing;
using System.Text;

namespace Sinapse.Tests.Support;

/// <summary>Small files that lie about themselves, and the checks every reader must pass on them.</summary>
static class HostileFiles
{
    /// <summary>Managed allocation a reader may make on a file that lies about its size.</summary>
    public const long AllocationBudget = 64L << 20;

    /// <summary>
    /// Runs <paramref name="read"/>, which must fail with one line naming <paramref name="file"/>
    /// while allocating under <see cref="AllocationBudget"/> on this thread; returns the message.
    /// </summary>
    public static string RefusedInOneLine(Action read, string file)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.ThrowsAny<Exception>(read);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(error is InvalidDataException or IOException or ArgumentException,
            $"expected a bad-input exception, got {error.GetType().Name}: {error.Message}");
        Assert.Contains(Path.GetFileName(file), error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.True(error.Message.Length < 2000, $"the message is {error.Message.Length:N0} characters long");
        Assert.True(allocated < AllocationBudget, $"the reader allocated {allocated:N0} bytes before refusing {file}: {error.Message}");
        return error.Message;
    }

    /// <summary>A PNG of signature, IHDR declaring <paramref name="width"/>×<paramref name="height"/> RGB, one tiny IDAT and IEND: 69 bytes.</summary>
    public static byte[] PngHeader(int width, int height)
    {
        var stream = new MemoryStream();
        stream.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bits per channel
        header[9] = 2; // RGB
        Chunk(stream, "IHDR", header);
        Chunk(stream, "IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        Chunk(stream, "IEND", []);
        return stream.ToArray();
    }

    static void Chunk(Stream stream, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        stream.Write(word);
        var typed = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        stream.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.HashToUInt32(typed));
        stream.Write(word);
    }

    /// <summary>A 24-bit BMP header declaring <paramref name="width"/>×<paramref name="height"/> pixels, followed by a few bytes.</summary>
    public static byte[] BmpHeader(int width, int height)
    {
        var bytes = new byte[54 + 16];
        WriteBmpHeader(bytes, width, height);
        return bytes;
    }

    /// <summary>Writes the 54-byte header of a 24-bit BMP of <paramref name="bytes"/>' length declaring <paramref name="width"/>×<paramref name="height"/> pixels.</summary>
    public static void WriteBmpHeader(Span<byte> bytes, int width, int height)
    {
        bytes[0] = (byte)'B';
        bytes[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(bytes[2..], bytes.Length);
        BinaryPrimitives.WriteInt32LittleEndian(bytes[10..], 54);
        BinaryPrimitives.WriteInt32LittleEndian(bytes[14..], 40);
        BinaryPrimitives.WriteInt32LittleEndian(bytes[18..], width);
        BinaryPrimitives.WriteInt32LittleEndian(bytes[22..], height);
        BinaryPrimitives.WriteInt16LittleEndian(bytes[26..], 1);
        BinaryPrimitives.WriteInt16LittleEndian(bytes[28..], 24);
    }

    /// <summary>A named pipe nobody writes to: opening it for reading would block forever.</summary>
    public static void MakeFifo(string path)
    {
        using var process = Process.Start(new ProcessStartInfo("/usr/bin/mkfifo", [path]) { UseShellExecute = false })!;
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
    }

    /// <summary>Runs a read that must not block: a hang fails the test after <paramref name="seconds"/> instead of stalling the suite.</summary>
    public static string RefusedWithoutBlocking(Action read, string file, int seconds = 20)
    {
        var task = Task.Run(() => RefusedInOneLine(read, file));
        Assert.True(task.Wait(TimeSpan.FromSeconds(seconds)), $"reading {file} still blocks after {seconds} s");
        return task.Result;
    }
}
