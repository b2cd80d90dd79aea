using Sinapse.Vision;
using Sinapse.Autograd;
using Sinapse.Layers;
using Sinapse.Models;
using Sinapse.Ops;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Layers;

public class InferenceFusionTests
{
    /// <summary>Running statistics and affine parameters away from their initial values, so a fold that ignored any of them would show.</summary>
    private static void Randomize(Module model, ulong seed)
    {
        var rng = new Rng(seed);
        foreach (var (_, module) in model.NamedModules())
            if (module is BatchNormBase norm)
            {
                Tensor.Uniform(new Shape(norm.NumFeatures), -0.5f, 0.5f, rng).Span.CopyTo(norm.RunningMean!.Span);
                Tensor.Uniform(new Shape(norm.NumFeatures), 0.2f, 3f, rng).Span.CopyTo(norm.RunningVar!.Span);
                if (norm.Affine)
                {
                    Tensor.Uniform(new Shape(norm.NumFeatures), 0.5f, 2f, rng).Span.CopyTo(norm.Weight!.Span);
                    Tensor.Uniform(new Shape(norm.NumFeatures), -1f, 1f, rng).Span.CopyTo(norm.Bias!.Span);
                }
            }
    }

    private static float[] Infer(Module model, Tensor input)
    {
        using var noGrad = GradMode.NoGrad();
        return model.Call(input).ToArray();
    }

    public static TheoryData<string> Blocks => new() { "relu", "relu6", "hard_swish", "none", "depthwise", "bias", "not affine", "tensorflow same", "no norm" };

    private static Sequential Block(string kind)
    {
        var rng = new Rng(3);
        return kind switch
        {
            "depthwise" => new Sequential(new Conv2d(4, 4, 3, 2, new Padding(1), groups: 4, useBias: false, rng: rng), new BatchNorm2d(4), new HardSwish()),
            "bias" => new Sequential(new Conv2d(4, 6, 3, rng: rng), new BatchNorm2d(6), new Relu()),
            "not affine" => new Sequential(new Conv2d(4, 6, 1, useBias: false, rng: rng), new BatchNorm2d(6, affine: false)),
            "tensorflow same" => new Sequential(new Conv2d(4, 6, 3, 2, Padding.TensorFlowSame, useBias: false, rng: rng), new BatchNorm2d(6, eps: 1e-3f), new Relu6()),
            "none" => new Sequential(new Conv2d(4, 6, 1, useBias: false, rng: rng), new BatchNorm2d(6)),
            "no norm" => new Sequential(new Conv2d(4, 6, 3, 2, rng: rng), new HardSwish()),
            _ => new Sequential(new Conv2d(4, 6, 3, padding: new Padding(1), useBias: false, rng: rng), new BatchNorm2d(6), Activation.Parse(kind)),
        };
    }

    [Theory]
    [MemberData(nameof(Blocks))]
    public void AFusedBlockComputesWhatTheLayersDid(string kind)
    {
        var block = Block(kind);
        Randomize(block, 7);
        block.Eval();
        var input = Expect.Random([2, 4, 8, 8], 5);
        var expected = Infer(block, input);
        var convolution = block[0];
        using (Fusion.FuseForInference(block))
        {
            var fused = Assert.IsType<FusedConv2d>(block[0]);
            // Without a batch norm to fold the model's own convolution runs.
            Assert.Equal(kind == "no norm", ReferenceEquals(convolution, fused.Convolution));
            Assert.All(block.Layers.Skip(1), layer => Assert.IsType<Identity>(layer));
            Expect.Close(expected, Infer(block, input), 1e-5, $"{kind} fused");
            // With a tape the activation runs as its own op, and the result is the same.
            Expect.Close(expected, block.Call(input).ToArray(), 1e-5, $"{kind} fused, with gradients");
        }
        Expect.Close(expected, Infer(block, input), 0, $"{kind} after the fusion");
    }

    [Fact]
    public void MobileNetV3SmallFusedComputesWhatItDid()
    {
        var model = MobileNet.V3Small(10, widthMultiplier: 0.5f, options: new ConvNormOptions(Rng: new Rng(1)));
        Randomize(model, 2);
        model.Eval();
        var input = Expect.Random([2, 3, 64, 64], 4);
        var expected = Infer(model, input);
        using (Fusion.FuseForInference(model))
        {
            Assert.DoesNotContain(model.NamedModules(), m => m.Module is BatchNormBase);
            Expect.Close(expected, Infer(model, input), 1e-5, "fused MobileNetV3-Small");
        }
    }

    [Fact]
    public void DisposingPutsTheOriginalLayersBackAndTrainingIsAsIfNothingWasFused()
    {
        Sequential Network() => new(new Conv2d(2, 4, 3, useBias: false, rng: new Rng(1)), new BatchNorm2d(4), new Relu(), new Flatten(), new Linear(64, 3, rng: new Rng(2)));
        var (folded, plain) = (Network(), Network());
        var layers = folded.Layers.ToArray();
        var keys = folded.StateDict().Keys.ToArray();
        var input = Expect.Random([5, 2, 6, 6], 8);

        folded.Eval();
        using (Fusion.FuseForInference(folded)) Infer(folded, input);
        Assert.Equal(layers, folded.Layers);
        Assert.All(layers, layer => Assert.Same(folded, layer.Parent));
        Assert.Equal(keys, folded.StateDict().Keys);

        foreach (var model in new[] { folded, plain })
        {
            model.Train();
            var optimizer = new Sgd(model.Parameters(), 0.1f);
            for (int step = 0; step < 2; step++)
            {
                model.ZeroGrad();
                F.Sum(F.Multiply(model.Call(input), model.Call(input))).Backward();
                optimizer.Step();
            }
        }
        foreach (var ((name, expected), actual) in plain.StateDict().Zip(folded.StateDict().Values))
            Assert.True(expected.ToArray().AsSpan().SequenceEqual(actual.ToArray()), $"{name} differs after training a model that was fused.");
        // The running statistics moved in training; a new fusion reads them.
        plain.Eval();
        folded.Eval();
        var expectedOutput = Infer(plain, input);
        using (Fusion.FuseForInference(folded)) Expect.Close(expectedOutput, Infer(folded, input), 1e-5, "fused again after training");
    }

    [Fact]
    public void AConvolutionFusesWithTheBatchNormInEvaluationModeAndTheActivationAfterIt()
    {
        var model = new Sequential(new Conv2d(2, 4, 1, rng: new Rng(1)), new BatchNorm2d(4), new Relu(), new BatchNorm2d(4), new Conv2d(4, 4, 1, rng: new Rng(2)), new Relu(),
            new BatchNorm2d(4), new Conv2d(4, 4, 1, rng: new Rng(3)), new Sigmoid(), new Conv2d(4, 4, 1, rng: new Rng(4)), new BatchNorm2d(4), new Relu6());
        var error = Assert.Throws<InvalidOperationException>(() => Fusion.FuseForInference(model));
        Assert.Contains("evaluation mode", error.Message);
        model.Eval();
        model[10].Train();
        using (Fusion.FuseForInference(model))
            Assert.Equal([typeof(FusedConv2d), typeof(Identity), typeof(Identity), typeof(BatchNorm2d), typeof(FusedConv2d), typeof(Identity), typeof(BatchNorm2d),
                typeof(Conv2d), typeof(Sigmoid), typeof(Conv2d), typeof(BatchNorm2d), typeof(Relu6)], model.Layers.Select(l => l.GetType()));
    }

    [Fact]
    public void AFusedModelRefusesToTrain()
    {
        var model = new Sequential(new Conv2d(2, 4, 1, useBias: false, rng: new Rng(1)), new BatchNorm2d(4));
        model.Eval();
        using var fusion = Fusion.FuseForInference(model);
        model.Train();
        var error = Assert.Throws<InvalidOperationException>(() => model.Call(Expect.Random([1, 2, 3, 3], 1)));
        Assert.Contains("evaluation mode", error.Message);
    }

    [Fact]
    public void FusingDrawsNothingFromTheGlobalGenerator()
    {
        var model = new Sequential(new Conv2d(2, 4, 3, useBias: false, rng: new Rng(1)), new BatchNorm2d(4));
        model.Eval();
        var before = Rng.Global.StateDict();
        using (Fusion.FuseForInference(model)) Assert.Equal(before, Rng.Global.StateDict());
    }
}
