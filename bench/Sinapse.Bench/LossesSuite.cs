using Sinapse.Autograd;
using Sinapse.Ops;
using Sinapse.Tensors;
using TorchSharp;
using static TorchSharp.torch;
using SinapseTensor = Sinapse.Tensors.Tensor;
using TorchTensor = TorchSharp.torch.Tensor;

namespace Sinapse.Bench;

/// <summary>
/// Cross-entropy on integer labels, forward + backward (the loss's own gradient, seeded by
/// backward of the scalar): the CNN training step's batch of 64 over 10 classes, an ImageNet-sized
/// head [256, 1000] plain and with class weights and label smoothing 0.1, and a segmentation map
/// [4, 21, 64, 64] with its class axis 1.
/// </summary>
public static class LossesSuite
{
    public static IEnumerable<BenchRecord> Run(BenchOptions options)
    {
        yield return Case(options, "cross_entropy [64,10]", [64, 10]);
        yield return Case(options, "cross_entropy [256,1000]", [256, 1000]);
        yield return Case(options, "cross_entropy [256,1000] weight, smoothing 0.1", [256, 1000], weightedAndSmoothed: true);
        yield return Case(options, "cross_entropy [4,21,64,64]", [4, 21, 64, 64]);
    }

    static BenchRecord Case(BenchOptions options, string name, int[] shape, bool weightedAndSmoothed = false)
    {
        var rng = new Rng(3);
        var logits = SinapseTensor.Uniform(new Shape(shape), -3f, 3f, rng);
        logits.RequiresGrad = true;
        var labelShape = shape.Where((_, axis) => axis != 1).ToArray();
        var labels = SinapseTensor.RandInt(shape[1], new Shape(labelShape), rng);
        var weight = weightedAndSmoothed ? SinapseTensor.Uniform(new Shape(shape[1]), 0.5f, 2f, rng) : null;
        float smoothing = weightedAndSmoothed ? 0.1f : 0f;

        using var disposeScope = NewDisposeScope();
        var torchLogits = tensor(logits.ToArray(), shape.Select(d => (long)d).ToArray()).requires_grad_(true);
        var torchLabels = tensor(labels.ToArray().Select(l => (long)l).ToArray(), labelShape.Select(d => (long)d).ToArray());
        var torchWeight = weight == null ? null : tensor(weight.ToArray());

        var (ms, torchMs) = BenchTiming.Compare(options,
            () =>
            {
                using var scope = TensorScope.Begin();
                F.CrossEntropy(logits, labels, weight: weight, labelSmoothing: smoothing).Backward();
                Tape.ZeroGrad(logits);
            },
            () =>
            {
                using var step = NewDisposeScope();
                nn.functional.cross_entropy(torchLogits, torchLabels, torchWeight, label_smoothing: smoothing).backward();
                torchLogits.grad = null;
            });
        return new BenchRecord("losses", name + " fwd+bwd", ms, torchMs);
    }
}
