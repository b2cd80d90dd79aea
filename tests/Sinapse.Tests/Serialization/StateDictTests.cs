using Sinapse.Layers;
using Sinapse.Models;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Tests.Support;
using Sinapse.Training;

namespace Sinapse.Tests.Serialization;

/// <summary>Weights from PyTorch (tools/make_interop_fixtures.py) and back.</summary>
public class StateDictTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    private static void AssertMatchesPyTorch(Module model, string io)
    {
        var file = SafeTensors.Load(Fixture(io));
        var output = Trainer.Predict(model, file["input"]);
        Assert.Equal(file["output"].Shape, output.Shape);
        var expected = file["output"].ToArray();
        var actual = output.ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f, $"output {i}: PyTorch {expected[i]}, Sinapse {actual[i]}");
    }

    [Fact]
    public void TheCourseCnnGivesPyTorchsOutputs()
    {
        var model = Cnn.Course(1, 28, 28, 10, rng: new Rng(1));
        StateDict.Load(model, Fixture("interop_cnn.safetensors"));
        AssertMatchesPyTorch(model, "interop_cnn_io.safetensors");
    }

    [Fact]
    public void TheMlpLoadsThroughAPrefixStripAndANameMapping()
    {
        var model = Mlp.Create(784, [32, 16], 10, rng: new Rng(1));
        var mapping = new WeightMapping(new Dictionary<string, string>
        {
            ["fc1.weight"] = "1.weight", ["fc1.bias"] = "1.bias", ["fc2.weight"] = "3.weight", ["fc2.bias"] = "3.bias", ["fc3.weight"] = "5.weight", ["fc3.bias"] = "5.bias",
        }, StripPrefix: "model.");
        StateDict.Load(model, Fixture("interop_mlp.safetensors"), mapping);
        AssertMatchesPyTorch(model, "interop_mlp_io.safetensors");

        var error = Assert.Throws<InvalidDataException>(() => StateDict.Load(Mlp.Create(784, [32, 16], 10), Fixture("interop_mlp.safetensors")));
        Assert.Contains("lacks", error.Message);
        Assert.Contains("model.fc1.weight", error.Message);
    }

    [Fact]
    public void ExportThenImportIsBitwise()
    {
        using var directory = new TempDirectory();
        var model = Cnn.Course(1, 28, 28, 10, new BlockOptions(BatchNorm: true, Rng: new Rng(3)));
        foreach (var (_, buffer) in model.NamedBuffers()) new Rng(4).FillUniform(buffer.Span, 0.5f, 2f);
        var path = directory.File("w.safetensors");
        var rename = model.NamedParameters().ToDictionary(p => p.Name, p => "model." + p.Name);
        StateDict.Save(model, path, rename);
        Assert.Contains("model.0.weight", SafeTensors.Open(path).Entries.Select(e => e.Name));
        Assert.Contains("1.running_mean", SafeTensors.Open(path).Entries.Select(e => e.Name));
        var copy = Cnn.Course(1, 28, 28, 10, new BlockOptions(BatchNorm: true, Rng: new Rng(5)));
        StateDict.Load(copy, path, new WeightMapping(StripPrefix: "model."));
        foreach (var ((name, a), (_, b)) in model.StateDict().Zip(copy.StateDict()))
            Assert.True(a.ToArray().Select(BitConverter.SingleToInt32Bits).SequenceEqual(b.ToArray().Select(BitConverter.SingleToInt32Bits)), name);
    }

    [Fact]
    public void AShapeOrDtypeThatDoesNotMatchTheModelLeavesItUntouched()
    {
        using var directory = new TempDirectory();
        var model = new Sequential(new Linear(4, 3, rng: new Rng(1)), new Relu(), new Linear(3, 2, rng: new Rng(2)));
        var before = model.StateDict().Values.Select(t => t.ToArray()).ToList();

        var wrongShape = directory.File("shape.safetensors");
        SafeTensors.Write(wrongShape, [("0.weight", Tensor.Ones(3, 5)), ("0.bias", Tensor.Ones(3)), ("2.weight", Tensor.Ones(2, 3)), ("2.bias", Tensor.Ones(2))]);
        var error = Assert.Throws<InvalidDataException>(() => StateDict.Load(model, wrongShape));
        Assert.Contains("'0.weight' has shape [3, 5]", error.Message);
        Assert.Contains("[3, 4]", error.Message);

        var wrongDtype = directory.File("dtype.safetensors");
        var header = """{"0.weight":{"dtype":"I64","shape":[3,4],"data_offsets":[0,96]},"0.bias":{"dtype":"F32","shape":[3],"data_offsets":[96,108]},"2.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[108,132]},"2.bias":{"dtype":"F32","shape":[2],"data_offsets":[132,140]}}""";
        SafeTensorsTests.WriteRaw(wrongDtype, header, new byte[140]);
        error = Assert.Throws<InvalidDataException>(() => StateDict.Load(model, wrongDtype));
        Assert.Contains("'0.weight' is I64", error.Message);

        var extra = directory.File("extra.safetensors");
        SafeTensors.Write(extra, [.. model.StateDict().Select(p => (p.Key, p.Value)), ("3.weight", Tensor.Ones(1))]);
        Assert.Contains("3.weight", Assert.Throws<InvalidDataException>(() => StateDict.Load(model, extra)).Message);
        StateDict.Load(model, extra, strict: false);

        Assert.Equal(before, model.StateDict().Values.Select(t => t.ToArray()).ToList());
    }

    [Fact]
    public void PyTorchsScalarInt64BatchCountLoadsIntoTheOneElementBuffer()
    {
        using var directory = new TempDirectory();
        var model = new Sequential(new BatchNorm1d(2));
        var path = directory.File("bn.safetensors");
        var header = """{"0.weight":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"0.bias":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"0.running_mean":{"dtype":"F32","shape":[2],"data_offsets":[16,24]},"0.running_var":{"dtype":"F32","shape":[2],"data_offsets":[24,32]},"0.num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[32,40]}}""";
        var data = new byte[40];
        BitConverter.GetBytes(1f).CopyTo(data, 0);
        BitConverter.GetBytes(17L).CopyTo(data, 32);
        SafeTensorsTests.WriteRaw(path, header, data);
        StateDict.Load(model, path);
        Assert.Equal(17f, ((BatchNorm1d)model[0]).NumBatchesTracked!.Item());
        Assert.Equal(1f, ((BatchNorm1d)model[0]).Weight!.Span[0]);
    }
}
