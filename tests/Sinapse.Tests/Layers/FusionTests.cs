using Sinapse.Autograd;
using Sinapse.Layers;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Layers;

public class FusionTests
{
    [Fact]
    public void ThePlanPairsEachBatchNormWithTheReluOrHardSwishRightAfterIt()
    {
        Module[] chain = [new Linear(3, 3), new BatchNorm1d(3), new Relu(), new BatchNorm1d(3), new HardSwish(), new Relu(), new BatchNorm1d(3), new Sigmoid(), new BatchNorm1d(3)];
        Assert.Equal([false, true, false, true, false, false, false, false, false], Fusion.Plan(chain));
        Assert.Empty(Fusion.Plan([]));
    }

    private static Sequential Network() =>
        new(new Conv2d(2, 4, 3, rng: new Rng(1)), new BatchNorm2d(4), new HardSwish(), new Conv2d(4, 3, 1, rng: new Rng(2)), new BatchNorm2d(3), new Relu());

    /// <summary>Runs the network on a fixed batch; returns the output and the first convolution's weight gradient.</summary>
    private static (float[] Output, float[] Gradient) Run(Module network)
    {
        network.ZeroGrad();
        var output = network.Call(Expect.Random([2, 2, 6, 6], 3, -2f, 2f));
        F.Sum(F.Multiply(output, Expect.Random([2, 3, 4, 4], 4))).Backward();
        return (output.ToArray(), network.Parameters()[0].Grad!.ToArray());
    }

    [Fact]
    public void FusedAndUnfusedSequentialsAgree()
    {
        var (fused, unfused) = (Run(Network()), Run(new Sequential([.. Network().Layers]) { FuseLayers = false }));
        Assert.Equal(unfused.Output, fused.Output);
        Expect.Close(unfused.Gradient, fused.Gradient, 1e-5, "first convolution's weight gradient");
        using (AnomalyDetection.Enable()) Assert.Equal(unfused.Output, Run(Network()).Output);
    }

    [Fact]
    public void ReplacingTheActivationReplansTheChain()
    {
        var network = Network();
        network.Replace(2, new Sigmoid());
        var reference = Network();
        reference.Replace(2, new Sigmoid());
        reference.FuseLayers = false;
        Assert.Equal(Run(reference).Output, Run(network).Output);
    }

    /// <summary>A module of one's own that applies a chain through the fusion pass.</summary>
    private sealed class Chain : Module
    {
        private readonly Module[] stages;
        private readonly bool[] plan;

        public Chain(params Module[] stages)
        {
            this.stages = stages;
            for (int i = 0; i < stages.Length; i++) RegisterModule(i.ToString(System.Globalization.CultureInfo.InvariantCulture), stages[i]);
            plan = Fusion.Plan(stages);
        }

        public int Fused => plan.Count(p => p);

        protected override Tensor Forward(Tensor input)
        {
            var x = input;
            for (int i = 0; i < stages.Length; i++) x = plan[i] ? stages[i].ForwardFused(x, stages[++i]) : stages[i].Call(x);
            return x;
        }

        public override Shape OutputShape(Shape input) => stages.Aggregate(input, (shape, stage) => stage.OutputShape(shape));
    }

    [Fact]
    public void AModuleOfOnesOwnCanUseThePass()
    {
        var chain = new Chain([.. Network().Layers]);
        Assert.Equal(2, chain.Fused);
        Assert.Equal(Run(Network()).Output, Run(chain).Output);
        Assert.Throws<NotSupportedException>(() => new Relu().ForwardFused(Tensor.Ones(1, 1), new Relu()));
    }
}
