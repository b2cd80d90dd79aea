using System.Text;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Serialization;

public class NpyTests
{
    private static byte[] File10(string descr, string shape, byte[] data)
    {
        var header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({shape}), }}";
        header = header.PadRight(118) + "\n";
        return [0x93, .. "NUMPY"u8.ToArray(), 1, 0, (byte)header.Length, 0, .. Encoding.Latin1.GetBytes(header), .. data];
    }

    [Fact]
    public void RoundTripsFloat32()
    {
        using var directory = new TempDirectory();
        var t = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        Npy.Write(directory.File("a.npy"), t);
        var back = Npy.Read(directory.File("a.npy"));
        Assert.Equal(t.Shape, back.Shape);
        Assert.Equal(t.ToArray(), back.ToArray());
        Assert.Equal(0, (new FileInfo(directory.File("a.npy")).Length - 24) % 64);
    }

    [Fact]
    public void ReadsUint8AndFloat64()
    {
        using var directory = new TempDirectory();
        File.WriteAllBytes(directory.File("u.npy"), File10("|u1", "3,", [0, 128, 255]));
        Assert.Equal([0f, 128f, 255f], Npy.Read(directory.File("u.npy")).ToArray());
        File.WriteAllBytes(directory.File("d.npy"), File10("<f8", "1, 2", [.. BitConverter.GetBytes(0.5), .. BitConverter.GetBytes(-1.25)]));
        var d = Npy.Read(directory.File("d.npy"));
        Assert.Equal(new Shape(1, 2), d.Shape);
        Assert.Equal([0.5f, -1.25f], d.ToArray());
    }

    [Fact]
    public void RejectsTruncatedFortranAndUnknownFiles()
    {
        using var directory = new TempDirectory();
        File.WriteAllBytes(directory.File("t.npy"), File10("<f4", "4,", new byte[8]));
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => Npy.Read(directory.File("t.npy"))).Message);
        File.WriteAllBytes(directory.File("f.npy"), File10("<f4", "1,", new byte[4]).Select(b => b).ToArray());
        var fortran = File.ReadAllBytes(directory.File("f.npy"));
        var text = Encoding.Latin1.GetString(fortran).Replace("False", "True ");
        File.WriteAllBytes(directory.File("f.npy"), Encoding.Latin1.GetBytes(text));
        Assert.Contains("Fortran", Assert.Throws<InvalidDataException>(() => Npy.Read(directory.File("f.npy"))).Message);
        File.WriteAllBytes(directory.File("c.npy"), File10("<c8", "1,", new byte[8]));
        Assert.Contains("<c8", Assert.Throws<InvalidDataException>(() => Npy.Read(directory.File("c.npy"))).Message);
    }

    [Theory]
    [InlineData("2147483647, 2147483647, 4")] // overflows a long to a negative count
    [InlineData("65536, 65536, 65536, 65536")] // 2^64: wraps round to 0
    public void AShapeWhoseProductOverflowsIsRefused(string shape)
    {
        using var directory = new TempDirectory();
        var path = directory.File("overflow.npy");
        File.WriteAllBytes(path, File10("<f4", shape, new byte[16]));
        Assert.Contains("shape", HostileFiles.RefusedInOneLine(() => Npy.Read(path), path));
    }

    [Fact]
    public void AVersion2FileCutInsideItsHeaderLengthNamesTheFile()
    {
        using var directory = new TempDirectory();
        var path = directory.File("cut.npy");
        File.WriteAllBytes(path, [0x93, .. "NUMPY"u8.ToArray(), 2, 0, 0x10, 0]);
        Assert.Contains("end of the file", HostileFiles.RefusedInOneLine(() => Npy.Read(path), path));
    }
}
