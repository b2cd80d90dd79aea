using System.Text.Json;
using Sinapse.Layers;
using Sinapse.Models;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Tests.Support;
using Sinapse.Vision;

namespace Sinapse.Tests.Serialization;

/// <summary>PyTorch's own torch.save files (tools/make_pth_fixtures.py).</summary>
public class PthTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "pth", name);

    /// <summary>The file the malicious fixtures' pickled code would create, were it ever run.</summary>
    private const string Marker = "/tmp/sinapse_pth_fixture_ran";

    // Width 0.25 with 10 classes, untrained (random batch-norm statistics and biases), eval mode, 2×3×32×32 inputs;
    // v3_small stored float32, the others float16 (PyTorch ran the float16-rounded weights).
    [Theory]
    [InlineData("mobilenet_v3_small")]
    [InlineData("mobilenet_v3_large")]
    [InlineData("mobilenet_v2")]
    public void TorchvisionMobileNetsGiveTorchvisionsOutputs(string name)
    {
        var model = name switch
        {
            "mobilenet_v3_small" => MobileNet.V3Small(10, 0.25f),
            "mobilenet_v3_large" => MobileNet.V3Large(10, 0.25f),
            _ => MobileNet.V2(10, 0.25f),
        };
        // torchvision's state_dict names are the model's own: strict, with no mapping.
        StateDict.Load(model, Fixture(name + ".pth"));
        var io = SafeTensors.Load(Fixture(name + "_io.safetensors"));
        model.Eval();
        Expect.Close(io["output"].Span, model.Call(io["input"]).Span, 1e-4, name);
    }

    [Fact]
    public void EveryLayoutAndDTypeReadsAsPyTorchHoldsIt()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Fixture("tensors.json")));
        var expected = json.RootElement.GetProperty("tensors");
        var file = Pth.Open(Fixture("tensors.pth"));
        Assert.Equal(expected.EnumerateObject().Select(p => p.Name).Order(), file.Entries.Select(e => e.Name).Order());
        Assert.Equal("F16", file["float16"].DType);
        Assert.Equal("BF16", file["bfloat16"].DType);
        Assert.Equal("I64", file["int64_scalar"].DType);
        Assert.Equal([1L, 4L], file["transposed"].Stride);
        Assert.Equal(5, file["window"].StorageOffset);
        Assert.Equal([5L, 2L], file["stepped"].Stride);
        Assert.Equal([1L, 0L], file["expanded"].Stride);
        foreach (var (name, tensor) in Pth.Load(Fixture("tensors.pth")))
        {
            var case_ = expected.GetProperty(name);
            Assert.Equal(case_.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()), tensor.Shape.Dimensions.ToArray());
            var values = case_.GetProperty("values").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            Expect.Close(values, tensor.Span, 1e-6, name);
        }
    }

    [Fact]
    public void AnMlpLoadsAndMissingOrUnexpectedTensorsAreNamed()
    {
        var model = new Sequential(new Linear(4, 3), new Relu(), new Linear(3, 2));
        StateDict.Load(model, Fixture("mlp.pth"));
        var file = Pth.Open(Fixture("mlp.pth"));
        Assert.Equal(file.Read("2.bias").ToArray(), model.NamedParameters().Single(p => p.Name == "2.bias").Tensor.ToArray());

        var bigger = new Sequential(new Linear(4, 3), new Relu(), new Linear(3, 2), new Relu(), new Linear(2, 2));
        var missing = Assert.Throws<InvalidDataException>(() => StateDict.Load(bigger, Fixture("mlp.pth"))).Message;
        Assert.Contains("lacks 2", missing);
        Assert.Contains("4.weight, 4.bias", missing);
        Assert.Contains("mlp.pth", missing);

        var smaller = new Sequential(new Linear(4, 3));
        var unexpected = Assert.Throws<InvalidDataException>(() => StateDict.Load(smaller, Fixture("mlp.pth"))).Message;
        Assert.Contains("2 tensors the model does not: 2.weight, 2.bias", unexpected);
        StateDict.Load(smaller, Fixture("mlp.pth"), strict: false);

        var wrongShape = new Sequential(new Linear(4, 3), new Relu(), new Linear(3, 5));
        Assert.Contains("'2.weight' has shape [2, 3], but the model's parameter '2.weight' has shape [5, 3]",
            Assert.Throws<InvalidDataException>(() => StateDict.Load(wrongShape, Fixture("mlp.pth"))).Message);
    }

    [Fact]
    public void ParametersSavedWithKeepVarsAreTheirTensors()
    {
        var tensors = Pth.Load(Fixture("mlp.pth"));
        var parameters = Pth.Load(Fixture("mlp_parameters.pth"));
        Assert.Equal(tensors.Select(t => t.Name), parameters.Select(p => p.Name));
        foreach (var ((name, tensor), (_, parameter)) in tensors.Zip(parameters)) Assert.Equal(tensor.ToArray(), parameter.ToArray());
    }

    [Theory]
    [InlineData("malicious_system.pth", "posix.system")]
    [InlineData("malicious_eval.pth", "__builtin__.eval")]   // protocol 2 names builtins as Python 2 did
    public void APickledCallIsRefusedByNameAndNothingRuns(string fixture, string global)
    {
        File.Delete(Marker);
        var error = Assert.Throws<InvalidDataException>(() => Pth.Open(Fixture(fixture)));
        Assert.Contains($"refused to load the pickled global '{global}'", error.Message);
        Assert.Contains(fixture, error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Throws<InvalidDataException>(() => StateDict.Load(new Sequential(new Linear(2, 1)), Fixture(fixture), strict: false));
        Assert.False(File.Exists(Marker));
    }

    [Fact]
    public void TruncatedAndCorruptArchivesAreNamed()
    {
        using var directory = new TempDirectory();
        var bytes = File.ReadAllBytes(Fixture("tensors.pth"));

        var truncated = directory.File("truncated.pth");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        var error = Assert.Throws<InvalidDataException>(() => Pth.Open(truncated)).Message;
        Assert.StartsWith($"{truncated} is not a valid PyTorch .pth file: ", error);
        Assert.Contains("truncated", error);

        // One bit flipped in the stored bytes of "float32": the archive still opens, its CRC-32 does not match.
        var corrupt = directory.File("corrupt.pth");
        var float32 = System.Runtime.InteropServices.MemoryMarshal.AsBytes(Pth.Open(Fixture("tensors.pth")).Read("float32").Span).ToArray();
        int at = bytes.AsSpan().IndexOf(float32);
        Assert.True(at > 0);
        bytes[at + 5] ^= 0x10;
        File.WriteAllBytes(corrupt, bytes);
        var file = Pth.Open(corrupt);
        error = Assert.Throws<InvalidDataException>(() => file.Read("float32")).Message;
        Assert.Contains("tensors/data/0 fails its CRC-32 check", error);
        Assert.Contains("corrupt", error);

        var notZip = directory.File("text.pth");
        File.WriteAllText(notZip, "PK but not a zip archive at all");
        Assert.Contains("not a readable zip archive", Assert.Throws<InvalidDataException>(() => Pth.Open(notZip)).Message);
    }

    [Fact]
    public void AStorageShorterThanItsTensorsIsRefusedBeforeAnyRead()
    {
        // tensors.pth with the 24 bytes of "float32"'s storage replaced by 16: the pickle still says 6 values.
        using var directory = new TempDirectory();
        var path = directory.File("short.pth");
        using (var source = System.IO.Compression.ZipFile.OpenRead(Fixture("tensors.pth")))
        using (var target = System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Create))
            foreach (var entry in source.Entries)
            {
                using var from = entry.Open();
                using var to = target.CreateEntry(entry.FullName, System.IO.Compression.CompressionLevel.NoCompression).Open();
                if (entry.FullName == "tensors/data/0") to.Write(new byte[16]);
                else from.CopyTo(to);
            }
        var error = Assert.Throws<InvalidDataException>(() => Pth.Open(path)).Message;
        Assert.Contains("storage '0' holds 6 F32 values (24 bytes), but its entry has 16 bytes", error);
        Assert.StartsWith($"{path} is not a valid PyTorch .pth file", error);
    }

    [Fact]
    public void TheLegacyFormatIsRefusedWithAWayOut()
    {
        var error = Assert.Throws<InvalidDataException>(() => StateDict.Load(new Sequential(new Linear(4, 3)), Fixture("mlp_legacy.pth"))).Message;
        Assert.Contains("legacy (pre-1.6) format", error);
        Assert.Contains("mlp_legacy.pth", error);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.NegativeInfinity)]
    public void ANonFiniteWeightIsRefusedNamingTheTensor(float bad)
    {
        using var directory = new TempDirectory();
        var path = directory.File("bad.pth");
        File.Copy(Fixture("mlp.pth"), path);
        var first = Pth.Open(path).Entries[0];
        // Rewrite the first storage with the same length, so the archive stays consistent and only the value is bad.
        using (var archive = new System.IO.Compression.ZipArchive(File.Open(path, FileMode.Open), System.IO.Compression.ZipArchiveMode.Update))
        {
            var entry = archive.Entries.First(e => e.FullName.EndsWith("/data/" + first.StorageKey, StringComparison.Ordinal));
            var bytes = new byte[entry.Length]; // read before opening: an entry open in update mode has no length
            using (var stream = entry.Open()) stream.ReadExactly(bytes);
            BitConverter.TryWriteBytes(bytes.AsSpan((int)first.StorageOffset * 4, 4), bad);
            string name = entry.FullName;
            entry.Delete();
            using var replaced = archive.CreateEntry(name, System.IO.Compression.CompressionLevel.NoCompression).Open();
            replaced.Write(bytes);
        }
        var message = HostileFiles.RefusedInOneLine(() => Pth.Load(path), path);
        Assert.Contains($"'{first.Name}'", message);
        Assert.Contains(bad.ToString(System.Globalization.CultureInfo.InvariantCulture), message);
    }
}
