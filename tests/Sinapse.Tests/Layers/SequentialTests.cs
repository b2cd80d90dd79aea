using Sinapse.Autograd;
using Sinapse.Layers;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Layers;

public class SequentialTests
{
    /// <summary>Passes its input through, remembering it, to see what became of a layer's input afterwards.</summary>
    private sealed class Witness : Module
    {
        public Tensor? Seen { get; private set; }
        protected override Tensor Forward(Tensor input) => Seen = input;
        public override Shape OutputShape(Shape input) => input;
    }

    [Fact]
    public void InferenceReturnsEachIntermediateToThePoolOnceTheNextLayerHasRun()
    {
        var witness = new Witness();
        var model = new Sequential(new Linear(4, 6, rng: new Rng(1)), witness, new Relu(), new Flatten(), new Dropout(0.5f), new Linear(6, 2, rng: new Rng(2)));
        model.Eval();
        var input = Tensor.Uniform(new Shape(3, 4), -1, 1, new Rng(3));
        var expected = model.Call(input);
        using (GradMode.NoGrad())
        using (TensorScope.Begin())
        {
            var output = model.Call(input);
            Assert.Equal(expected.ToArray(), output.ToArray());
            // The first Linear's output (what the witness saw) is gone; the input and the output are not.
            Assert.Contains("the Sequential that made it", Assert.Throws<ObjectDisposedException>(() => witness.Seen!.Span.Length).Message);
            Assert.Equal(12, input.Span.Length);
        }
        using (TensorScope.Begin())
        {
            model.Call(input);
            Assert.Equal(18, witness.Seen!.Span.Length);   // recording gradients: intermediates live to the scope's end
        }
    }

    [Fact]
    public void ParametersAreNamedByPositionAsInPyTorch()
    {
        var model = new Sequential(new Flatten(), new Linear(4, 3), new Relu(), new Linear(3, 2, useBias: false),
            new Sequential(new Linear(2, 2)));
        Assert.Equal(["1.weight", "1.bias", "3.weight", "4.0.weight", "4.0.bias"], model.NamedParameters().Select(p => p.Name).ToArray());
        Assert.Equal("weight", model.NamedParameters().First().Tensor.Name);
        Assert.Equal(5, model.Parameters().Count);
        Assert.Equal(4 * 3 + 3 + 3 * 2 + 2 * 2 + 2, model.ParameterCount());
    }

    [Fact]
    public void ThePlainCaseStartsAtZero()
    {
        var model = new Sequential(new Linear(3, 2), new Relu(), new Linear(2, 1));
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias"], model.NamedParameters().Select(p => p.Name).ToArray());
        Assert.Equal(3 * 2 + 2 + 2 + 1, model.ParameterCount());
    }

    [Fact]
    public void ForwardAndOutputShapeAgree()
    {
        var model = new Sequential(new Flatten(), new Linear(12, 5), new Relu(), new Linear(5, 3));
        var x = Tensor.Zeros(2, 3, 4);
        Assert.Equal(new Shape(2, 3), model.OutputShape(x.Shape));
        Assert.Equal(new Shape(2, 3), model.Call(x).Shape);
        Assert.Equal(4, model.Count);
        Assert.IsType<Relu>(model[2]);
    }

    [Fact]
    public void ShapeErrorsNameTheLayer()
    {
        var model = new Sequential(new Linear(12, 5), new Linear(6, 3));
        var error = Assert.Throws<ArgumentException>(() => model.OutputShape(new Shape(2, 12)));
        Assert.Contains("Linear(6 -> 3)", error.Message);
        Assert.Contains("[2, 5]", error.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BatchNormThenAnActivationGivesWhatTheLayersGiveOneByOne(bool training)
    {
        // Sequential fuses BN with the ReLU or hard-swish after it, except under anomaly detection.
        Tensor[] Run(bool fused)
        {
            var model = new Sequential(new Conv2d(2, 3, 3, padding: new Padding(1), rng: new Rng(1)), new BatchNorm2d(3), new HardSwish(),
                new Conv2d(3, 3, 1, rng: new Rng(2)), new BatchNorm2d(3), new Relu());
            if (!training) model.Eval();
            var x = Tensor.Uniform(new Shape(2, 2, 5, 5), -2f, 2f, new Rng(3));
            x.RequiresGrad = true;
            using var anomalies = fused ? default : AnomalyDetection.Enable();
            var y = model.Call(x);
            Sinapse.Ops.F.Sum(Sinapse.Ops.F.Multiply(y, Tensor.Uniform(y.Shape, -1f, 1f, new Rng(4)))).Backward();
            return [y, x.Grad!, .. model.Parameters().Select(p => p.Grad!)];
        }
        var (expected, actual) = (Run(false), Run(true));
        Assert.Equal(expected[0].ToArray(), actual[0].ToArray());
        for (int i = 1; i < expected.Length; i++) Assert.Equal(expected[i].ToArray(), actual[i].ToArray());
    }

    [Fact]
    public void SplitHeadCutsBeforeTheLastLinearAndTheDropoutBeforeIt()
    {
        var model = new Sequential(new Linear(4, 8, rng: new Rng(1)), new Relu(), new Dropout(0.5f), new Linear(8, 3, rng: new Rng(2)));
        var (trunk, head) = model.SplitHead();
        Assert.Equal([model[0], model[1]], trunk.Layers);
        Assert.Equal([model[2], model[3]], head.Layers);
        var input = Expect.Random(2, 4);
        using (GradMode.NoGrad())
        {
            model.Eval();
            Assert.Equal(model.Call(input).ToArray(), head.Call(trunk.Call(input)).ToArray());
        }
        var none = Assert.Throws<InvalidOperationException>(() => new Sequential(new Relu()).SplitHead());
        Assert.Contains("no Linear layer", none.Message);
    }
}
