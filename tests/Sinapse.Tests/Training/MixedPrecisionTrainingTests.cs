using Sinapse.Data;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Training;

namespace Sinapse.Tests.Training;

/// <summary>The course CNN trained on a slice of the bundled MNIST in each precision.</summary>
public class MixedPrecisionTrainingTests
{
    [Theory]
    [InlineData(Precision.Float32)]
    [InlineData(Precision.BFloat16)]
    [InlineData(Precision.Float16)]
    public void TheCourseCnnLearnsMnistInEveryPrecision(Precision precision)
    {
        var (train, test) = Mnist.LoadBundled();
        var scale = InputTransform.Scale(1f / 255f);
        var data = scale.Apply(train.Subset(Enumerable.Range(0, 1536).ToArray()));
        var check = scale.Apply(test.Subset(Enumerable.Range(0, 500).ToArray()));
        var model = Cnn.Course(1, 28, 28, 10, rng: new Rng(3));
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Adam(model.Parameters(), 2e-3f))
        {
            Precision = precision,
            LossScaler = precision == Precision.Float16 ? new LossScaler() : null,
        };
        trainer.Fit(data, epochs: 1, batchSize: 32, rng: new Rng(4));
        var accuracy = trainer.Evaluate(check).Accuracy!.Value;
        Assert.True(accuracy > 0.8, $"{precision}: test accuracy {accuracy:F3} after 48 updates.");
        Assert.All(model.Parameters(), p => Assert.True(p.Span.ToArray().All(float.IsFinite)));
    }
}
