using Sinapse.Autograd;
using Sinapse.Ops;
using Sinapse.Tensors;
using TorchSharp;
using static TorchSharp.torch;
using SinapseTensor = Sinapse.Tensors.Tensor;
using TorchTensor = TorchSharp.torch.Tensor;

namespace Sinapse.Bench;

/// <summary>
/// The open tensor ops a user composes models from: broadcast arithmetic, an elementwise
/// function, an axis reduction, softmax, a batched matrix product and a transpose copy. Each
/// differentiable case is timed forward alone and forward + backward (seeded with a fixed
/// gradient, inputs' gradients dropped after each step on both sides).
/// </summary>
public static class OpsSuite
{
    public static IEnumerable<BenchRecord> Run(BenchOptions options)
    {
        foreach (var record in Case(options, "broadcast add [256,1024]+[1024]", [[256, 1024], [1024]], x => x[0] + x[1], x => x[0] + x[1])) yield return record;
        foreach (var record in Case(options, "broadcast mul [256,1024]*[1024]", [[256, 1024], [1024]], x => x[0] * x[1], x => x[0] * x[1])) yield return record;
        foreach (var record in Case(options, "exp [4096,1024]", [[4096, 1024]], x => x[0].Exp(), x => x[0].exp())) yield return record;
        foreach (var record in Case(options, "sum last axis [4096,1024]", [[4096, 1024]], x => x[0].Sum(-1), x => x[0].sum(-1))) yield return record;
        foreach (var record in Case(options, "softmax last axis [4096,1024]", [[4096, 1024]], x => F.Softmax(x[0], -1), x => x[0].softmax(-1))) yield return record;
        foreach (var record in Case(options, "bmm [64,128,64]x[64,64,128]", [[64, 128, 64], [64, 64, 128]], x => F.Bmm(x[0], x[1]), x => x[0].bmm(x[1]))) yield return record;
        // torch's transpose is a strided view; .contiguous() makes the copy Sinapse's Transpose makes.
        foreach (var record in Case(options, "transpose copy [2048,2048]", [[2048, 2048]], x => F.Transpose(x[0], 0, 1), x => x[0].t().contiguous())) yield return record;
    }

    /// <summary>The forward record, then the forward + backward one, for inputs of the given shapes.</summary>
    static IEnumerable<BenchRecord> Case(BenchOptions options, string name, int[][] shapes,
        Func<SinapseTensor[], SinapseTensor> sinapse, Func<TorchTensor[], TorchTensor> libtorch)
    {
        var rng = new Rng(5);
        var inputs = shapes.Select(shape => SinapseTensor.Uniform(new Shape(shape), -1f, 1f, rng)).ToArray();
        foreach (var input in inputs) input.RequiresGrad = true;
        SinapseTensor seed;
        using (GradMode.NoGrad()) seed = SinapseTensor.Uniform(sinapse(inputs).Shape, -1f, 1f, rng);

        using var disposeScope = NewDisposeScope();
        var torchInputs = inputs.Select((input, i) => tensor(input.ToArray(), shapes[i].Select(d => (long)d).ToArray()).requires_grad_(true)).ToArray();
        var torchSeed = tensor(seed.ToArray(), seed.Shape.ToArray().Select(d => (long)d).ToArray());

        var (forwardMs, torchForwardMs) = BenchTiming.Compare(options,
            () =>
            {
                using var scope = TensorScope.Begin();
                using var noGrad = GradMode.NoGrad();
                sinapse(inputs);
            },
            () =>
            {
                using var step = NewDisposeScope();
                using var noGrad = torch.no_grad();
                libtorch(torchInputs);
            });
        yield return new BenchRecord("ops", name + " fwd", forwardMs, torchForwardMs);

        var (stepMs, torchStepMs) = BenchTiming.Compare(options,
            () =>
            {
                using var scope = TensorScope.Begin();
                sinapse(inputs).Backward(seed);
                foreach (var input in inputs) Tape.ZeroGrad(input);
            },
            () =>
            {
                using var step = NewDisposeScope();
                libtorch(torchInputs).backward([torchSeed]);
                foreach (var input in torchInputs) input.grad = null;
            });
        yield return new BenchRecord("ops", name + " fwd+bwd", stepMs, torchStepMs);
    }
}
