using Sinapse.Cli;
using Sinapse.Data;
using Sinapse.Layers;
using Sinapse.Models;
using Sinapse.Tensors;
using Sinapse.Tests.Support;
using Sinapse.Vision;

namespace Sinapse.Tests.Cli;

public class TransferComparisonTests
{
    /// <summary>Three classes of 16×16 RGB noise, each with its own mean, so that there is something to learn.</summary>
    private static Dataset Images(int perClass, ulong seed)
    {
        var rng = new Rng(seed);
        var features = Tensor.Zeros(3 * perClass, 3, 16, 16);
        var labels = Tensor.Zeros(3 * perClass);
        int plane = 3 * 16 * 16;
        for (int i = 0; i < 3 * perClass; i++)
        {
            labels.Span[i] = i % 3;
            for (int j = 0; j < plane; j++) features.Span[i * plane + j] = (i % 3 - 1) * 0.5f + (rng.NextFloat() - 0.5f);
        }
        return new Dataset(features, labels, 3);
    }

    [Fact]
    public void ThePretrainedMobileNetGetsAHeadForTheNewClasses()
    {
        var (trunk, head) = Pretrained.MobileNetV1().ToSequential().SplitHead();
        Assert.IsType<Dropout>(head[0]);
        Assert.Equal(1001, Assert.IsType<Linear>(head[1]).OutFeatures);
        Assert.IsType<Flatten>(trunk[^1]);

        head.ReplaceHead(3, new Rng(1));
        var network = new Sequential(trunk, head);
        Assert.Equal(new Shape(2, 3), network.OutputShape(new Shape(2, 3, 32, 32)));
        Assert.Equal(new Shape(2, 3), network.Call(Expect.Random(2, 3, 32, 32)).Shape);
    }

    [Fact]
    public void FrozenParametersDoNotChangeAndFineTunedOnesDo()
    {
        var made = new List<Sequential>();
        Sequential Load()
        {
            made.Add(Pretrained.MobileNetV1().ToSequential());
            return made[^1];
        }
        var train = Images(4, 1);
        var results = TransferComparison.Compare(Load, rng => MobileNet.V1(3, 0.25f, options: new ConvNormOptions(Rng: rng)), 3, train, null, Images(2, 2),
            new TransferBudget(Epochs: 1, BatchSize: 6, LearningRate: 1e-2f, FineTuneRate: 1e-2f, FineTuneLayers: 2), seed: 3);

        Assert.Equal(3, results.Count);
        var original = Pretrained.MobileNetV1().ToSequential().NamedParameters().ToDictionary(p => p.Name, p => p.Tensor.ToArray());
        static int Layer(string name) => int.Parse(name[..name.IndexOf('.')], System.Globalization.CultureInfo.InvariantCulture);
        bool Unchanged(string name, Tensor tensor) => original[name].AsSpan().SequenceEqual(tensor.ToArray());
        var (frozen, tuned) = (made[0], made[1]);
        int head = frozen.Count - 1;
        // (a): the whole trunk is as loaded; only the new 3-class head trained.
        foreach (var (name, tensor) in frozen.NamedParameters().Where(p => Layer(p.Name) != head))
            Assert.True(Unchanged(name, tensor), $"(a) changed the frozen {name}");
        // (b): the trunk's last two blocks moved, the earlier ones did not (MobileNetV1 0.25: 14 blocks, pooling, flattening, dropout, the head).
        int firstTuned = head - 3 - 2;
        foreach (var (name, tensor) in tuned.NamedParameters().Where(p => Layer(p.Name) != head))
            Assert.True(Unchanged(name, tensor) == Layer(name) < firstTuned, $"(b): {name} {(Unchanged(name, tensor) ? "did not change" : "changed")}");
        Assert.Equal(256 * 3 + 3, results[0].TrainableParameters);
        Assert.True(results[1].TrainableParameters > results[0].TrainableParameters && results[1].TrainableParameters < results[2].TrainableParameters);
    }

    [Fact]
    public void MoreBlocksToFineTuneThanTheNetworkHasAreRefused()
    {
        var images = Images(1, 4);
        var error = Assert.Throws<ArgumentException>(() => TransferComparison.Compare("mobilenet_v1", images, images, images, new TransferBudget(1, 3, 1e-3f, 1e-4f, FineTuneLayers: 15), seed: 1));
        Assert.Contains("mobilenet_v1 has 14 blocks to fine-tune; the last 15 were asked for", error.Message);
    }

    [Theory]
    [InlineData("mobilenet_v1")]
    [InlineData("mobilenet_v2")]
    public void FromScratchIsThePretrainedArchitectureWithBatchNorm(string name)
    {
        var pretrained = Pretrained.Load(name);
        var scratch = pretrained.UntrainedCopy(4, new Rng(1));
        static List<Shape> Convolutions(MobileNet model) => model.Features.NamedModules().Select(m => m.Module).OfType<Conv2d>().Select(c => c.Weight.Shape).ToList();
        Assert.Equal(Convolutions(pretrained), Convolutions(scratch));
        var norms = scratch.NamedModules().Select(m => m.Module).OfType<BatchNormBase>().ToList();
        Assert.Equal(Convolutions(scratch).Count, norms.Count);
        Assert.All(norms, norm => Assert.Equal(0.1f, norm.Momentum));   // V1's own 0.01 left scratch predicting one class after 8 short epochs
        Assert.Equal(new Shape(1, 4), scratch.OutputShape(new Shape(1, 3, 32, 32)));
    }
}
