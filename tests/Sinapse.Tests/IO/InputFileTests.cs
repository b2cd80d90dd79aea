using Sinapse.Vision;
using Sinapse.IO;
using Sinapse.Serialization;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.IO;

public class InputFileTests
{
    [Fact]
    public void ASymlinkIsMeasuredAtItsTarget()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("real.csv"), "a,b\n1,2\n");
        File.CreateSymbolicLink(dir.File("link.csv"), dir.File("real.csv"));
        Assert.Equal(8, InputFile.Length(dir.File("link.csv"), "CSV file"));
    }

    [Fact]
    public void PipesDevicesEmptyFilesAndDirectoriesAreRefused()
    {
        using var dir = new TempDirectory();
        HostileFiles.MakeFifo(dir.File("pipe"));
        File.WriteAllBytes(dir.File("empty"), []);
        HostileFiles.RefusedWithoutBlocking(() => InputFile.OpenRead(dir.File("pipe"), "data file").Dispose(), "pipe");
        HostileFiles.RefusedInOneLine(() => InputFile.Length("/dev/zero", "data file"), "/dev/zero");
        HostileFiles.RefusedInOneLine(() => InputFile.Length(dir.File("empty"), "data file"), "empty");
        HostileFiles.RefusedInOneLine(() => InputFile.Length(dir.Path, "data file"), dir.Path);
    }

    [Fact]
    public void ALongLineIsRefusedWithItsNumber()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("t.txt"), "ok\r\nfine\n" + new string('z', 50) + "\n");
        Assert.Equal(["ok", "fine"], InputFile.ReadLines(dir.File("t.txt"), "text file", 1000, 40).Take(2));
        var message = HostileFiles.RefusedInOneLine(() => InputFile.ReadLines(dir.File("t.txt"), "text file", 1000, 40).ToList(), "t.txt");
        Assert.Contains("line 3", message);
    }

    [Fact]
    public void MalformedContentBecomesOneLineNamingTheFile()
    {
        var error = Assert.Throws<InvalidDataException>(() => InputFile.Guard<int>("spec.json", () => throw new EndOfStreamException("Unable to read beyond the end of the stream.")));
        Assert.StartsWith("spec.json: ", error.Message);
        Assert.Contains("end of the file", error.Message);
        var index = Assert.Throws<InvalidDataException>(() => InputFile.Guard<int>("a.npy", () => Array.Empty<int>()[0]));
        Assert.StartsWith("a.npy: ", index.Message);
    }

    /// <summary>Every reader, given a named pipe nobody writes to, refuses it at once instead of blocking on the open.</summary>
    [Theory]
    [InlineData("data.idx")]
    [InlineData("table.csv")]
    [InlineData("batch.npy")]
    [InlineData("weights.safetensors")]
    [InlineData("weights.pth")]
    [InlineData("model.onnx")]
    [InlineData("model.tflite")]
    [InlineData("picture.png")]
    [InlineData("model.json")]
    [InlineData("checkpoint.json")]
    public void EveryReaderRefusesANamedPipe(string name)
    {
        using var directory = new TempDirectory();
        var path = directory.File(name);
        HostileFiles.MakeFifo(path);
        Action read = name switch
        {
            "data.idx" => () => Sinapse.Data.Idx.Read(path),
            "table.csv" => () => Sinapse.Data.Csv.Load(path, "label"),
            "batch.npy" => () => Npy.Read(path),
            "weights.safetensors" => () => SafeTensors.Load(path),
            "weights.pth" => () => Pth.Load(path),
            "model.onnx" => () => OnnxImport.Load(path),
            "model.tflite" => () => TfLiteModel.Load(path),
            "picture.png" => () => Sinapse.Vision.Images.Load(path),
            "model.json" => () => SavedModel.Load(directory.Path),
            _ => () => Checkpoint.Load(directory.Path),
        };
        HostileFiles.RefusedWithoutBlocking(read, path);
    }
}
