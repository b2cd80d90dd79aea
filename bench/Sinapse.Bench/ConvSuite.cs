using Sinapse.Autograd;
using Sinapse.Ops;
using Sinapse.Tensors;
using static TorchSharp.torch;
using SinapseTensor = Sinapse.Tensors.Tensor;

namespace Sinapse.Bench;

/// <summary>
/// Convolution forward + backward (input, weight and bias gradients) at batch 64: the course
/// CNN's three layers, a MobileNet-style depthwise 3×3 and a 1×1 expansion. Both sides start from
/// inputs that require gradients, seed backward with a preallocated gradient and drop the
/// gradients after each step (Sinapse keeps their buffers; torch sets .grad to None).
/// </summary>
public static class ConvSuite
{
    public static IEnumerable<BenchRecord> Run(BenchOptions options)
    {
        yield return Case(options, "1->32 3x3 pad 1, 28x28", 1, 32, 28, 3, 1, 1);
        yield return Case(options, "32->64 3x3, 14x14", 32, 64, 14, 3, 0, 1);
        yield return Case(options, "64->64 3x3, 6x6", 64, 64, 6, 3, 0, 1);
        yield return Case(options, "depthwise 16 3x3 pad 1, 112x112", 16, 16, 112, 3, 1, 16);
        yield return Case(options, "1x1 16->72, 56x56", 16, 72, 56, 1, 0, 1);
    }

    const int Batch = 64;

    static BenchRecord Case(BenchOptions options, string name, int inChannels, int outChannels, int size, int kernel, int padding, int groups)
    {
        var rng = new Rng(3);
        var x = SinapseTensor.Uniform(new Shape(Batch, inChannels, size, size), -1f, 1f, rng);
        var w = SinapseTensor.Uniform(new Shape(outChannels, inChannels / groups, kernel, kernel), -0.2f, 0.2f, rng);
        var b = SinapseTensor.Uniform(new Shape(outChannels), -0.1f, 0.1f, rng);
        foreach (var t in new[] { x, w, b }) t.RequiresGrad = true;
        int outSize = size + 2 * padding - kernel + 1;
        var seed = SinapseTensor.Uniform(new Shape(Batch, outChannels, outSize, outSize), -1f, 1f, rng);

        void SinapseStep()
        {
            using var scope = TensorScope.Begin();
            var y = F.Conv2d(x, w, b, padding: padding, groups: groups);
            y.Backward(seed);
            Tape.ZeroGrad(x); Tape.ZeroGrad(w); Tape.ZeroGrad(b);
        }

        using var disposeScope = NewDisposeScope();
        var tx = tensor(x.ToArray(), [Batch, inChannels, size, size]).requires_grad_(true);
        var tw = tensor(w.ToArray(), [outChannels, inChannels / groups, kernel, kernel]).requires_grad_(true);
        var tb = tensor(b.ToArray(), [outChannels]).requires_grad_(true);
        var tseed = tensor(seed.ToArray(), [Batch, outChannels, outSize, outSize]);
        long[] strides = [1, 1], paddings = [padding, padding], dilations = [1, 1];

        void TorchStep()
        {
            using var step = NewDisposeScope();
            var y = nn.functional.conv2d(tx, tw, tb, strides, paddings, dilations, groups);
            y.backward([tseed]);
            tx.grad = null; tw.grad = null; tb.grad = null;
        }

        var (sinapseMs, torchMs) = BenchTiming.Compare(options, SinapseStep, TorchStep);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) SinapseStep();
        long perStep = (GC.GetAllocatedBytesForCurrentThread() - before) / 10;
        Console.WriteLine($"conv {name}: Sinapse allocates {perStep / 1024.0:F1} KB per step (graph nodes and closures; buffers are pooled)");

        // Multiply-adds of the forward pass; backward does two more of the same size.
        double flops = 3 * 2.0 * Batch * outChannels * outSize * outSize * (inChannels / groups) * kernel * kernel;
        return new BenchRecord("conv", name, sinapseMs, torchMs)
        {
            SinapseGflops = flops / (sinapseMs * 1e6),
            TorchGflops = flops / (torchMs * 1e6),
        };
    }
}
