using Sinapse.Data;
using Sinapse.Layers;
using Sinapse.Models;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Tests.Support;
using Sinapse.Training;
using Sinapse.Vision;

namespace Sinapse.Tests.Serialization;

public class SavedModelTests
{
    [Fact]
    public void ADirectoryRebuildsTheModelWithItsTransformAndClasses()
    {
        using var directory = new TempDirectory();
        var model = Cnn.Course(1, 16, 16, 3, new BlockOptions(BatchNorm: true, Dropout: 0.2f, Rng: new Rng(1)));
        foreach (var (_, buffer) in model.NamedBuffers()) buffer.Span.Fill(0.5f);
        var transform = InputTransform.Standardize().Fit(Tensor.Uniform(new Shape(10, 1, 16, 16), 0, 255, new Rng(2)));
        new SavedModel(model, new Shape(1, 16, 16), transform, ["a", "b", "c"]).Save(directory.Path);
        var loaded = SavedModel.Load(directory.Path);
        Assert.Equal(new Shape(1, 16, 16), loaded.ExampleShape);
        Assert.Equal(["a", "b", "c"], loaded.ClassNames);
        Assert.Equal(transform.Mean, loaded.Transform!.Mean);
        var input = Tensor.Uniform(new Shape(2, 1, 16, 16), -1, 1, new Rng(3));
        Assert.Equal(Trainer.Predict(model, input).ToArray(), Trainer.Predict(loaded.Model, input).ToArray());
        Assert.Empty(Directory.GetFiles(directory.Path, "*.tmp"));
    }

    public static TheoryData<string> ZooModels => ["mobilenet_v3_small", "mobilenet_v2", "autoencoder"];

    [Theory]
    [MemberData(nameof(ZooModels))]
    public void ZooModelsRoundTripThroughADirectory(string name)
    {
        using var directory = new TempDirectory();
        var rng = new Rng(4);
        var (model, example) = name switch
        {
            "mobilenet_v3_small" => ((Module)MobileNet.V3Small(5, 0.25f, options: new ConvNormOptions(Rng: rng)), new Shape(3, 32, 32)),
            "mobilenet_v2" => (MobileNet.V2(5, 0.25f, options: new ConvNormOptions(Rng: rng)), new Shape(3, 32, 32)),
            _ => (Autoencoder.Convolutional(1, 28, 28, 16, rng: rng), new Shape(1, 28, 28)),
        };
        foreach (var (_, buffer) in model.NamedBuffers()) buffer.Span.Fill(0.75f);
        new SavedModel(model, example).Save(directory.Path);
        var loaded = SavedModel.Load(directory.Path).Model;
        Assert.Equal(model.Describe(), loaded.Describe());
        Assert.Equal(model.NamedParameters().Select(p => p.Name), loaded.NamedParameters().Select(p => p.Name));
        var input = Tensor.Uniform(new Shape([2, .. example.Dimensions]), -1, 1, new Rng(5));
        Assert.Equal(Trainer.Predict(model, input).ToArray(), Trainer.Predict(loaded, input).ToArray());
    }

    [Fact]
    public void ACorruptedOrTruncatedWeightsFileIsCaught()
    {
        using var directory = new TempDirectory();
        new SavedModel(Mlp.Create(4, [3], 2), new Shape(4)).Save(directory.Path);
        var weights = Path.Combine(directory.Path, SavedModel.WeightsFile);
        var bytes = File.ReadAllBytes(weights);
        bytes[^1] ^= 1;
        File.WriteAllBytes(weights, bytes);
        Assert.Contains("corrupted", Assert.Throws<InvalidDataException>(() => SavedModel.Load(directory.Path)).Message);
        File.WriteAllBytes(weights, bytes[..^4]);
        var error = Assert.Throws<InvalidDataException>(() => SavedModel.Load(directory.Path));
        Assert.Contains("truncated", error.Message);
        Assert.Contains(weights, error.Message);
    }

    /// <summary>A saved two-class MLP whose model.json is then rewritten by <paramref name="edit"/>; returns model.json's path.</summary>
    private static string SavedThenEdited(TempDirectory directory, Func<string, string> edit)
    {
        new SavedModel(Mlp.Create(4, [3], 2), new Shape(4), classNames: ["a", "b"]).Save(directory.Path);
        var spec = Path.Combine(directory.Path, SavedModel.SpecFile);
        File.WriteAllText(spec, edit(File.ReadAllText(spec)));
        return spec;
    }

    [Fact]
    public void AHugeClassNameIsRefused()
    {
        using var directory = new TempDirectory();
        var spec = SavedThenEdited(directory, json => json.Replace("\"a\"", $"\"{new string('a', 100_000)}\""));
        Assert.Contains("classNames", HostileFiles.RefusedInOneLine(() => SavedModel.Load(directory.Path), spec));
    }

    [Fact]
    public void AModelJsonLargerThanTheLimitIsRefusedBeforeParsing()
    {
        using var directory = new TempDirectory();
        var spec = SavedThenEdited(directory, json => json);
        using (var file = new FileStream(spec, FileMode.Open)) file.SetLength(200L << 20); // sparse
        Assert.Contains("at most", HostileFiles.RefusedInOneLine(() => SavedModel.Load(directory.Path), spec));
    }

    [Fact]
    public void ANumberWhereAStringBelongsNamesTheFile()
    {
        using var directory = new TempDirectory();
        var spec = SavedThenEdited(directory, json => json.Replace("\"sinapse-model\"", "5"));
        HostileFiles.RefusedInOneLine(() => SavedModel.Load(directory.Path), spec);
    }

    [Fact]
    public void ADuplicateKeyNamesTheFile()
    {
        using var directory = new TempDirectory();
        var spec = SavedThenEdited(directory, json => json.Replace("\"format\":", "\"format\": \"x\", \"format\":"));
        HostileFiles.RefusedInOneLine(() => SavedModel.Load(directory.Path), spec);
    }

    [Fact]
    public void NaNWeightsAreRefusedNamingTheTensor()
    {
        using var directory = new TempDirectory();
        var model = Mlp.Create(4, [3], 2);
        model.NamedParameters().First().Tensor.Span[1] = float.NaN;
        new SavedModel(model, new Shape(4)).Save(directory.Path);
        var weights = Path.Combine(directory.Path, SavedModel.WeightsFile);
        Assert.Contains(model.NamedParameters().First().Name, HostileFiles.RefusedInOneLine(() => SavedModel.Load(directory.Path), weights));
    }
}
