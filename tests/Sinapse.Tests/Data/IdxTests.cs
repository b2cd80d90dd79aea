using System.Buffers.Binary;
using System.IO.Compression;
using Sinapse.Data;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Data;

public class IdxTests
{
    static Tensor Images(int count) =>
        Tensor.FromArray(Enumerable.Range(0, count * 2 * 3).Select(i => (float)(i % 256)).ToArray(), count, 2, 3);

    [Theory]
    [InlineData("images-idx3-ubyte")]
    [InlineData("images-idx3-ubyte.gz")]
    public void RoundTripsPlainAndGzip(string name)
    {
        using var dir = new TempDirectory();
        var original = Images(7);
        Idx.Write(dir.File(name), original);
        var read = Idx.Read(dir.File(name));
        Assert.Equal(original.Shape, read.Shape);
        Assert.Equal(original.ToArray(), read.ToArray());
        bool gzipped = File.ReadAllBytes(dir.File(name))[0] == 0x1f;
        Assert.Equal(name.EndsWith(".gz"), gzipped);
    }

    [Fact]
    public void DetectsGzipByContentNotByName()
    {
        using var dir = new TempDirectory();
        var labels = Tensor.FromArray([5f, 0f, 4f]);
        Idx.Write(dir.File("labels-without-extension"), labels, gzip: true);
        Assert.Equal([5f, 0f, 4f], Idx.Read(dir.File("labels-without-extension")).ToArray());
    }

    [Fact]
    public void ReadsWiderTypesBigEndian()
    {
        var bytes = new byte[4 + 4 + 3 * 8];
        bytes[2] = (byte)IdxType.Float64;
        bytes[3] = 1;
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), 3);
        double[] values = [1.5, -2.25, 1e10];
        for (int i = 0; i < 3; i++) BinaryPrimitives.WriteDoubleBigEndian(bytes.AsSpan(8 + 8 * i), values[i]);
        Assert.Equal([1.5f, -2.25f, 1e10f], Idx.Read(new MemoryStream(bytes), "doubles").ToArray());

        var ints = new byte[4 + 8 + 4 * 4];
        ints[2] = (byte)IdxType.Int32;
        ints[3] = 2;
        BinaryPrimitives.WriteInt32BigEndian(ints.AsSpan(4), 2);
        BinaryPrimitives.WriteInt32BigEndian(ints.AsSpan(8), 2);
        int[] intValues = [-7, 0, 65536, 123456];
        for (int i = 0; i < 4; i++) BinaryPrimitives.WriteInt32BigEndian(ints.AsSpan(12 + 4 * i), intValues[i]);
        var tensor = Idx.Read(new MemoryStream(ints), "ints");
        Assert.Equal(new Shape(2, 2), tensor.Shape);
        Assert.Equal([-7f, 0f, 65536f, 123456f], tensor.ToArray());

        var signed = new byte[] { 0, 0, 0x09, 1, 0, 0, 0, 2, 0xff, 0x7f };
        Assert.Equal([-1f, 127f], Idx.Read(new MemoryStream(signed), "sbytes").ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TruncatedFileNamesThePromiseAndWhatIsThere(bool gzip)
    {
        using var dir = new TempDirectory();
        var full = new MemoryStream();
        Idx.Write(full, Tensor.Zeros(10, 28, 28));
        var truncated = full.ToArray()[..(16 + 1000)];
        string name = gzip ? "t10k-images-idx3-ubyte.gz" : "t10k-images-idx3-ubyte";
        File.WriteAllBytes(dir.File(name), gzip ? Gzip(truncated) : truncated);

        var error = Assert.Throws<InvalidDataException>(() => Idx.Read(dir.File(name)));
        Assert.Contains(name, error.Message);
        Assert.Contains("truncated", error.Message);
        Assert.Contains("10×28×28 = 7840 bytes", error.Message);
        Assert.Contains("holds 1000", error.Message);
    }

    [Fact]
    public void HopelesslyTruncatedGzipIsRejectedBeforeAllocating()
    {
        // A header promising 2 GB (8 GB as floats) behind a few compressed bytes: the deflate ratio bound catches it.
        var header = new byte[] { 0, 0, 8, 3, 0, 0, 0x07, 0xd0, 0, 0, 0x03, 0xe8, 0, 0, 0x03, 0xe8 };
        var error = Assert.Throws<InvalidDataException>(() => Idx.Read(new MemoryStream(Gzip(header)), "huge.gz"));
        Assert.Contains("2000×1000×1000 = 2000000000 bytes", error.Message);
        Assert.Contains("compressed bytes can hold at most", error.Message);
    }

    [Fact]
    public void TrailingGarbageIsAnError()
    {
        var stream = new MemoryStream();
        Idx.Write(stream, Tensor.Ones(4));
        stream.Write([1, 2, 3]);
        var error = Assert.Throws<InvalidDataException>(() => Idx.Read(new MemoryStream(stream.ToArray()), "labels"));
        Assert.Contains("3 bytes after the 4 = 4 bytes", error.Message);
    }

    [Fact]
    public void CorruptGzipIsReportedWithTheFileName()
    {
        var stream = new MemoryStream();
        Idx.Write(stream, Tensor.Zeros(100));
        var compressed = Gzip(stream.ToArray());
        for (int i = 10; i < compressed.Length - 8; i++) compressed[i] ^= 0x5a;
        var error = Assert.Throws<InvalidDataException>(() => Idx.Read(new MemoryStream(compressed), "labels.gz"));
        Assert.Contains("labels.gz", error.Message);
    }

    [Fact]
    public void WrongMagicIsNamed()
    {
        var bytes = "PK\u0003\u0004 this is a zip"u8.ToArray();
        var error = Assert.Throws<InvalidDataException>(() => Idx.Read(new MemoryStream(bytes), "archive.zip"));
        Assert.Contains("archive.zip is not an IDX file", error.Message);
        Assert.Contains("0x50 0x4b", error.Message);
    }

    [Fact]
    public void UnknownTypeByteIsNamed()
    {
        var bytes = new byte[] { 0, 0, 0x0A, 1, 0, 0, 0, 1, 0 };
        var error = Assert.Throws<InvalidDataException>(() => Idx.Read(new MemoryStream(bytes), "odd"));
        Assert.Contains("type byte 0x0a", error.Message);
        Assert.Contains("0x08 (ubyte)", error.Message);
    }

    [Theory]
    [InlineData(0, "declares 0 dimensions")]
    [InlineData(5, "declares 5 dimensions")]
    public void RankOutsideOneToFourIsRejected(byte rank, string expected)
    {
        var bytes = new byte[4 + 4 * rank + 1];
        bytes[2] = 8;
        bytes[3] = rank;
        var error = Assert.Throws<InvalidDataException>(() => Idx.Read(new MemoryStream(bytes), "f"));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void NonPositiveOrHugeDimensionsAreRejectedFromTheHeader()
    {
        var negative = new byte[] { 0, 0, 8, 2, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff };
        Assert.Contains("dimension 1 as -1", Assert.Throws<InvalidDataException>(() => Idx.Read(new MemoryStream(negative), "f")).Message);
        var huge = new byte[] { 0, 0, 8, 2, 0x7f, 0, 0, 0, 0x7f, 0, 0, 0 };
        Assert.Contains("more than the", Assert.Throws<InvalidDataException>(() => Idx.Read(new MemoryStream(huge), "f")).Message);
    }

    [Fact]
    public void WriterRefusesValuesThatAreNotBytes()
    {
        var error = Assert.Throws<ArgumentException>(() => Idx.Write(new MemoryStream(), Tensor.FromArray([0f, 0.5f])));
        Assert.Contains("value 1", error.Message);
        Assert.Contains("0.5", error.Message);
    }

    [Fact]
    public void MissingFileSaysWhere()
    {
        var error = Assert.Throws<FileNotFoundException>(() => Idx.Read("no/such/train-images-idx3-ubyte"));
        Assert.Contains("train-images-idx3-ubyte does not exist", error.Message);
    }

    static byte[] Gzip(byte[] data)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(data);
        return output.ToArray();
    }

    [Fact]
    public void AGzipFileDeclaringMillionsOfImagesCostsOnlyTheDataItHolds()
    {
        using var dir = new TempDirectory();
        var path = dir.File("bomb-idx3-ubyte.gz");
        // 1.5M declared 28×28 images; 1.2 MB of incompressible bytes, enough that the deflate ratio alone cannot rule it out.
        var payload = new byte[1_200_000];
        new Random(3).NextBytes(payload);
        using (var gzip = new GZipStream(File.Create(path), CompressionLevel.Fastest))
        {
            gzip.Write([0, 0, 8, 3, 0, 0x16, 0xE3, 0x60, 0, 0, 0, 28, 0, 0, 0, 28]);
            gzip.Write(payload);
        }
        var message = HostileFiles.RefusedInOneLine(() => Idx.Read(path), path);
        Assert.Contains("truncated", message);
    }

    [Fact]
    public void AGzipChecksumErrorIsReportedAsDamageNotAsACompressionMethod()
    {
        using var dir = new TempDirectory();
        var path = dir.File("images-idx3-ubyte.gz");
        Idx.Write(path, Images(5));
        var bytes = File.ReadAllBytes(path);
        bytes[^5] ^= 0xFF; // the CRC-32 in the gzip trailer
        File.WriteAllBytes(path, bytes);
        var message = HostileFiles.RefusedInOneLine(() => Idx.Read(path), path);
        Assert.Contains("damaged", message);
        Assert.DoesNotContain("compression method", message);
    }

    [Fact]
    public void ANamedPipeIsRefusedWithoutBlocking()
    {
        using var dir = new TempDirectory();
        var path = dir.File("train-images-idx3-ubyte");
        HostileFiles.MakeFifo(path);
        Assert.Contains("pipe", HostileFiles.RefusedWithoutBlocking(() => Idx.Read(path), path));
    }
}
