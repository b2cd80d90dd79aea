using Sinapse.Data;
using Sinapse.Layers;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Training;

namespace Sinapse.Tests.Models;

public class AutoencoderTests
{
    [Theory]
    [InlineData(DecoderUpsampling.Transposed)]
    [InlineData(DecoderUpsampling.Nearest)]
    public void ConvolutionalRebuildsTheInputShape(DecoderUpsampling upsampling)
    {
        var model = Autoencoder.Convolutional(1, 28, 28, code: 8, upsampling, new Rng(1));
        Assert.Equal(new Shape(3, 1, 28, 28), model.OutputShape(new Shape(3, 1, 28, 28)));
        Assert.Equal(new Shape(3, 8), model.Encoder.OutputShape(new Shape(3, 1, 28, 28)));
        Assert.Equal(new Shape(3, 1, 28, 28), model.Call(Tensor.Zeros(3, 1, 28, 28)).Shape);
    }

    [Fact]
    public void DenseLearnsToReconstructMnistBetterThanTheMeanImage()
    {
        var (train, _) = Mnist.LoadBundled();
        var images = InputTransform.Scale(1f / 255f).Apply(train.Subset(Enumerable.Range(0, 1000).ToArray())).Features;
        var data = new Dataset(images, images.Clone().ReshapedTo(1000, 784));
        var model = Autoencoder.Dense(new Shape(1, 28, 28), [128], code: 32, rng: new Rng(2));
        Assert.Equal(new Shape(1000, 1, 28, 28), model.OutputShape(images.Shape));
        var flat = new Sequential(model, new Flatten());
        var trainer = new Trainer(flat, new MseLoss(), new Adam(flat.Parameters(), 3e-3f));
        var history = trainer.Fit(data, epochs: 8, batchSize: 50, rng: new Rng(3));
        Assert.True(history.Epochs[^1].TrainLoss < 0.6 * history.Epochs[0].TrainLoss, $"{history.Epochs[0].TrainLoss} → {history.Epochs[^1].TrainLoss}");
    }
}
