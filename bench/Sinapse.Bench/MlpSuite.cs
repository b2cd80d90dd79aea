using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Sinapse.Bench;

/// <summary>
/// Training the course's MLP 784-256-128-64-10 (ReLU, softmax cross-entropy, SGD lr 0.01) on
/// both sides: `mlp` is one shuffled epoch at batch 128 over 60,000 images, `step1` is 2,000
/// online-learning steps at batch 1, where per-step overhead dominates.
/// </summary>
public static class MlpSuite
{
    public static IEnumerable<BenchRecord> RunEpoch(BenchOptions options)
    {
        var (train, source) = TrainingBench.LoadImages();
        var sinapse = Sinapse(train, 128);
        using var torchSide = Torch(train, 128);
        var (sinapseMs, torchMs) = BenchTiming.Compare(options with { WarmupMilliseconds = 0, WarmupCalls = 1 }, sinapse.Epoch, torchSide.Epoch);
        Console.WriteLine($"mlp: {train.Count:N0} {source} images; Sinapse allocates {sinapse.BytesPerStep() / 1024.0:F1} KB per steady-state step (100 steps)");
        yield return new BenchRecord("mlp", $"epoch batch 128 ({source})", sinapseMs, torchMs);
    }

    public static IEnumerable<BenchRecord> RunOnline(BenchOptions options)
    {
        var (train, source) = TrainingBench.LoadImages();
        var subset = train.Subset(Enumerable.Range(0, 2000).ToArray());
        var sinapse = Sinapse(subset, 1);
        using var torchSide = Torch(subset, 1);
        var (sinapseMs, torchMs) = BenchTiming.Compare(options with { WarmupMilliseconds = 0, WarmupCalls = 1 }, sinapse.Epoch, torchSide.Epoch);
        yield return new BenchRecord("step1", $"2000 steps batch 1 ({source})", sinapseMs, torchMs);
    }

    static TrainingBench.SinapseSide Sinapse(Data.Dataset train, int batchSize) =>
        new(SinapseModel(), parameters => new Sgd(parameters, 0.01f), train, batchSize);

    internal static Layers.Module SinapseModel() => Mlp.Create(784, [256, 128, 64], 10, "relu", rng: new Rng(1));

    static TrainingBench.TorchSide Torch(Data.Dataset train, int batchSize) =>
        new(TorchModel(), parameters => optim.SGD(parameters, 0.01), train, batchSize);

    /// <summary>The same MLP in TorchSharp, seeded.</summary>
    internal static nn.Module<torch.Tensor, torch.Tensor> TorchModel()
    {
        manual_seed(1);
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 256), nn.ReLU(),
            nn.Linear(256, 128), nn.ReLU(),
            nn.Linear(128, 64), nn.ReLU(),
            nn.Linear(64, 10));
    }
}
