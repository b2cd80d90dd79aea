using Sinapse.Autograd;
using Sinapse.Layers;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Training;
using TorchSharp;
using Sinapse.Vision;
using static TorchSharp.torch;
using SinapseTensor = Sinapse.Tensors.Tensor;
using TorchTensor = TorchSharp.torch.Tensor;

namespace Sinapse.Bench;

/// <summary>
/// MobileNetV3-Small (1000 classes) at batch 32, 224×224: inference (eval mode, no gradients) and
/// one training step (train mode, cross-entropy, SGD with momentum 0.9). TorchSharp 0.107 ships no
/// torchvision models (those live in the separate TorchVision package), so its side is built here
/// from torchvision's layer table with TorchSharp's own modules: the same layers, the same BN ε and
/// momentum, the same squeeze-and-excitation widths.
/// </summary>
public static class MobileNetSuite
{
    const int Batch = 32, Size = 224, Classes = 1000;

    public static IEnumerable<BenchRecord> Run(BenchOptions options)
    {
        var rng = new Rng(5);
        var input = SinapseTensor.Uniform(new Shape(Batch, 3, Size, Size), -1f, 1f, rng);
        var labels = SinapseTensor.Zeros(Batch);
        for (int i = 0; i < Batch; i++) labels.Span[i] = rng.NextInt(Classes);

        var model = MobileNet.V3Small(Classes, options: new ConvNormOptions(Rng: new Rng(1)));
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), 0.01f, momentum: 0.9f));

        manual_seed(1);
        using var torchModel = TorchMobileNetV3Small(Classes);
        var torchOptimizer = optim.SGD(torchModel.parameters(), 0.01, momentum: 0.9);
        var torchLoss = nn.CrossEntropyLoss();
        using var torchInput = tensor(input.ToArray(), [Batch, 3, Size, Size]);
        using var torchLabels = tensor(labels.ToArray().Select(v => (long)v).ToArray(), [Batch]);
        long sinapseParameters = model.Parameters().Sum(p => (long)p.Length);
        long torchParameters = torchModel.parameters().Sum(p => p.numel());
        Console.WriteLine($"mobilenet: {sinapseParameters:N0} parameters in Sinapse, {torchParameters:N0} in TorchSharp");

        // Few, long calls: one training step is a few hundred milliseconds. Each side first runs for
        // three seconds, so that .NET's tiered JIT has recompiled the hot kernels (it does so after
        // 30 calls and a pause) before anything is timed; two warm-up calls timed Sinapse's
        // inference half in tier-0 code (57–70 ms instead of the steady 44).
        var measured = options with { SampleMilliseconds = 0, WarmupMilliseconds = 3000, WarmupCalls = 5, Reps = Math.Max(options.Reps, 5) };

        void SinapseInference()
        {
            using var noGrad = GradMode.NoGrad();
            using var scope = TensorScope.Begin();
            model.Call(input);
        }

        void TorchInference()
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            torchModel.forward(torchInput);
        }

        model.Eval();
        torchModel.eval();
        var (sinapseMs, torchMs) = BenchTiming.Compare(measured, SinapseInference, TorchInference);
        yield return new BenchRecord("mobilenet", $"V3-Small inference b{Batch} {Size}x{Size}", sinapseMs, torchMs);

        void SinapseStep() => trainer.TrainStep(input, labels);

        void TorchStep()
        {
            using var scope = NewDisposeScope();
            torchOptimizer.zero_grad();
            torchLoss.forward(torchModel.forward(torchInput), torchLabels).backward();
            torchOptimizer.step();
        }

        model.Train();
        torchModel.train();
        (sinapseMs, torchMs) = BenchTiming.Compare(measured, SinapseStep, TorchStep);
        long before = GC.GetAllocatedBytesForCurrentThread();
        SinapseStep();
        Console.WriteLine($"mobilenet: Sinapse allocates {(GC.GetAllocatedBytesForCurrentThread() - before) / 1024.0:F1} KB per training step");
        yield return new BenchRecord("mobilenet", $"V3-Small train step b{Batch} SGD", sinapseMs, torchMs);
    }

    /// <summary>torchvision's mobilenet_v3_small: BN ε 1e-3, momentum 0.01; SE squeeze to ⌈c/4⌉₈ with ReLU and hard-sigmoid.</summary>
    internal static nn.Module<TorchTensor, TorchTensor> TorchMobileNetV3Small(int classes)
    {
        (int In, int Kernel, int Expanded, int Out, bool Se, bool HardSwish, int Stride)[] table =
        [
            (16, 3, 16, 16, true, false, 2), (16, 3, 72, 24, false, false, 2), (24, 3, 88, 24, false, false, 1),
            (24, 5, 96, 40, true, true, 2), (40, 5, 240, 40, true, true, 1), (40, 5, 240, 40, true, true, 1),
            (40, 5, 120, 48, true, true, 1), (48, 5, 144, 48, true, true, 1), (48, 5, 288, 96, true, true, 2),
            (96, 5, 576, 96, true, true, 1), (96, 5, 576, 96, true, true, 1),
        ];
        var features = new List<nn.Module<TorchTensor, TorchTensor>> { ConvNormActivation(3, 16, 3, 2, 1, true) };
        foreach (var row in table)
        {
            var body = new List<nn.Module<TorchTensor, TorchTensor>>();
            if (row.Expanded != row.In) body.Add(ConvNormActivation(row.In, row.Expanded, 1, 1, 1, row.HardSwish));
            body.Add(ConvNormActivation(row.Expanded, row.Expanded, row.Kernel, row.Stride, row.Expanded, row.HardSwish));
            if (row.Se) body.Add(new SqueezeExcitation(row.Expanded, InvertedResidual.MakeDivisible(row.Expanded / 4)));
            body.Add(ConvNormActivation(row.Expanded, row.Out, 1, 1, 1, null));
            features.Add(new Residual(nn.Sequential(body), row.Stride == 1 && row.In == row.Out));
        }
        features.Add(ConvNormActivation(96, 576, 1, 1, 1, true));
        return nn.Sequential(
            nn.Sequential(features), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Linear(576, 1024), nn.Hardswish(), nn.Dropout(0.2), nn.Linear(1024, classes));
    }

    /// <summary>Conv (no bias) → BN → hard-swish, ReLU (false) or nothing (null).</summary>
    static nn.Module<TorchTensor, TorchTensor> ConvNormActivation(int inChannels, int outChannels, int kernel, int stride, int groups, bool? hardSwish)
    {
        var layers = new List<nn.Module<TorchTensor, TorchTensor>>
        {
            nn.Conv2d(inChannels, outChannels, kernel, stride: stride, padding: (kernel - 1) / 2, groups: groups, bias: false),
            nn.BatchNorm2d(outChannels, eps: 1e-3, momentum: 0.01),
        };
        if (hardSwish == true) layers.Add(nn.Hardswish());
        else if (hardSwish == false) layers.Add(nn.ReLU());
        return nn.Sequential(layers);
    }

    sealed class Residual : nn.Module<TorchTensor, TorchTensor>
    {
        readonly nn.Module<TorchTensor, TorchTensor> block;
        readonly bool residual;

        public Residual(nn.Module<TorchTensor, TorchTensor> block, bool residual) : base(nameof(Residual))
        {
            (this.block, this.residual) = (block, residual);
            RegisterComponents();
        }

        public override TorchTensor forward(TorchTensor input) => residual ? input + block.forward(input) : block.forward(input);
    }

    sealed class SqueezeExcitation : nn.Module<TorchTensor, TorchTensor>
    {
        readonly nn.Module<TorchTensor, TorchTensor> fc1, fc2;

        public SqueezeExcitation(int channels, int squeezed) : base(nameof(SqueezeExcitation))
        {
            fc1 = nn.Conv2d(channels, squeezed, 1);
            fc2 = nn.Conv2d(squeezed, channels, 1);
            RegisterComponents();
        }

        public override TorchTensor forward(TorchTensor input)
        {
            var scale = nn.functional.adaptive_avg_pool2d(input, [1, 1]);
            scale = nn.functional.hardsigmoid(fc2.forward(nn.functional.relu(fc1.forward(scale))));
            return input * scale;
        }
    }
}
