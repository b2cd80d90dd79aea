using Sinapse.Data;
using Sinapse.Models;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Tests.Support;
using Sinapse.Training;

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
}
