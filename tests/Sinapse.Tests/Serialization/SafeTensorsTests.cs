using System.Buffers.Binary;
using System.Text;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Serialization;

public class SafeTensorsTests
{
    /// <summary>A file with the given JSON header (unpadded) and data bytes.</summary>
    internal static void WriteRaw(string path, string header, byte[] data, long? declaredLength = null)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)(declaredLength ?? json.Length));
        json.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + json.Length);
        File.WriteAllBytes(path, bytes);
    }

    [Fact]
    public void RoundTripsFloatsBitwiseWithMetadata()
    {
        using var directory = new TempDirectory();
        var path = directory.File("t.safetensors");
        var a = Tensor.FromArray([1f, -2.5f, float.Epsilon, 3e38f, -0f, 7f], 2, 3);
        var b = Tensor.FromArray([42f], 1);
        SafeTensors.Write(path, [("a", a), ("b.bias", b)], new Dictionary<string, string> { ["format"] = "pt" });
        Assert.Equal(0, (new FileInfo(path).Length - 8 - 6 * 4 - 4) % 8);
        var file = SafeTensors.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal([2, 3], file["a"].Shape);
        Assert.Equal(a.ToArray().Select(BitConverter.SingleToInt32Bits), file.Read("a").ToArray().Select(BitConverter.SingleToInt32Bits));
        Assert.Equal([42f], file.Read("b.bias").ToArray());
        Assert.Empty(Directory.GetFiles(directory.Path, "*.tmp"));
    }

    [Fact]
    public void ReadsOtherDtypesAsFloat()
    {
        using var directory = new TempDirectory();
        var path = directory.File("t.safetensors");
        var data = new List<byte>();
        data.AddRange(BitConverter.GetBytes(2.5));                       // F64 [1]
        data.AddRange(BitConverter.GetBytes((Half)1.5f));                // F16 [1]
        data.AddRange(BitConverter.GetBytes((ushort)(BitConverter.SingleToInt32Bits(-3f) >> 16))); // BF16 [1]
        data.AddRange(BitConverter.GetBytes(-7L));                       // I64 [1]
        data.AddRange([200, 1]);                                         // U8 [2]
        WriteRaw(path, """{"d":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"h":{"dtype":"F16","shape":[1],"data_offsets":[8,10]},"b":{"dtype":"BF16","shape":[],"data_offsets":[10,12]},"i":{"dtype":"I64","shape":[1],"data_offsets":[12,20]},"u":{"dtype":"U8","shape":[2],"data_offsets":[20,22]}}""", [.. data]);
        var all = SafeTensors.Load(path);
        Assert.Equal(2.5f, all["d"].Item());
        Assert.Equal(1.5f, all["h"].Item());
        Assert.Equal(-3f, all["b"].Item());
        Assert.Equal(-7f, all["i"].Item());
        Assert.Equal([200f, 1f], all["u"].ToArray());
    }

    public static TheoryData<string, string, int, long?, string> BadHeaders => new()
    {
        // name, header, data bytes, declared header length, expected words
        { "offsets past the end", """{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", 8, null, "beyond the data section" },
        { "10^12 elements", """{"w":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,4000000000000]}}""", 8, null, "'w'" },
        { "size mismatch", """{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8, null, "needs 12 bytes" },
        { "unknown dtype", """{"w":{"dtype":"F128","shape":[1],"data_offsets":[0,8]}}""", 8, null, "unknown dtype 'F128'" },
        { "negative dimension", """{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", 8, null, "not a whole number >= 0" },
        { "overlap", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, null, "overlapping" },
        { "gap", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, null, "gap" },
        { "not JSON", """{"w":{"dtype":"F32",""", 8, null, "not valid JSON" },
        { "header longer than the file", """{}""", 0, 1_000_000, "truncated" },
        { "element count overflow", """{"w":{"dtype":"F32","shape":[2147483647,2147483647,2147483647],"data_offsets":[0,8]}}""", 8, null, "more elements than can be counted" },
        { "missing offsets", """{"w":{"dtype":"F32","shape":[2]}}""", 8, null, "data_offsets" },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void RejectsBadHeadersBeforeReadingData(string name, string header, int dataBytes, long? declared, string expected)
    {
        using var directory = new TempDirectory();
        var path = directory.File(name.Replace(' ', '_') + ".safetensors");
        WriteRaw(path, header, new byte[dataBytes], declared);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InvalidDataException>(() => SafeTensors.Open(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains(expected, error.Message);
        Assert.Contains(path, error.Message);
        Assert.True(allocated < 1 << 20, $"{allocated:N0} bytes allocated while rejecting {name}");
    }

    [Fact]
    public void ATruncatedFileIsReported()
    {
        using var directory = new TempDirectory();
        var path = directory.File("t.safetensors");
        SafeTensors.Write(path, [("w", Tensor.Ones(100))]);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^10]);
        var error = Assert.Throws<InvalidDataException>(() => SafeTensors.Open(path));
        Assert.Contains("'w'", error.Message);
        File.WriteAllBytes(path, bytes[..5]);
        Assert.Contains("fewer than the 8", Assert.Throws<InvalidDataException>(() => SafeTensors.Open(path)).Message);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void ANonFiniteWeightIsRefusedNamingTheTensor(float bad)
    {
        using var directory = new TempDirectory();
        var path = directory.File("weights.safetensors");
        var weight = Tensor.FromArray([1f, 2f, bad, 4f], 2, 2);
        SafeTensors.Write(path, [("fc.weight", weight)]);
        var message = HostileFiles.RefusedInOneLine(() => SafeTensors.Load(path), path);
        Assert.Contains("'fc.weight'", message);
        Assert.Contains("element 2", message);
    }

    [Fact]
    public void AnEmptyTensorPassesTheFiniteCheck()
    {
        using var directory = new TempDirectory();
        var path = directory.File("empty.safetensors");
        SafeTensors.Write(path, [("bias", Tensor.Zeros(0)), ("weight", Tensor.FromArray([1f], 1))]);
        Assert.Equal(0, SafeTensors.Load(path)["bias"].Length);
    }

    [Fact]
    public void AHeaderThatIsNotUtf8IsRefusedNamingTheFile()
    {
        using var directory = new TempDirectory();
        var path = directory.File("latin1.safetensors");
        SafeTensors.Write(path, [("wXight", Tensor.Zeros(2))]);
        var bytes = File.ReadAllBytes(path);
        // A lone 0xE9 (é in Latin-1) is invalid UTF-8 inside the tensor's name.
        bytes[bytes.AsSpan().IndexOf("wXight"u8) + 1] = 0xE9;
        File.WriteAllBytes(path, bytes);
        Assert.Contains("UTF-8", HostileFiles.RefusedInOneLine(() => SafeTensors.Load(path), path));
    }
}
