using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Sinapse.Bench;

/// <summary>One epoch of the course CNN (custom_3_layer) at batch 64 over 60,000 28×28 images, Adam lr 1e-3 on both sides.</summary>
public static class CnnSuite
{
    public static IEnumerable<BenchRecord> Run(BenchOptions options)
    {
        var (train, source) = TrainingBench.LoadImages();
        var sinapse = new TrainingBench.SinapseSide(SinapseModel(), parameters => new Adam(parameters, 1e-3f), train, 64);
        using var torchSide = new TrainingBench.TorchSide(TorchModel(), parameters => optim.Adam(parameters, 1e-3), train, 64);
        var (sinapseMs, torchMs) = BenchTiming.Compare(options with { WarmupMilliseconds = 0, WarmupCalls = 1, Reps = Math.Min(options.Reps, 3) }, sinapse.Epoch, torchSide.Epoch);
        Console.WriteLine($"cnn: {train.Count:N0} {source} images; Sinapse allocates {sinapse.BytesPerStep() / 1024.0:F1} KB per steady-state step (100 steps)");
        yield return new BenchRecord("cnn", $"epoch batch 64 Adam ({source})", sinapseMs, torchMs);
    }

    internal static Layers.Module SinapseModel() => Cnn.Course(1, 28, 28, 10, rng: new Rng(1));

    /// <summary>custom_3_layer in TorchSharp, seeded.</summary>
    internal static nn.Module<torch.Tensor, torch.Tensor> TorchModel()
    {
        manual_seed(1);
        return nn.Sequential(
            nn.Conv2d(1, 32, 3, padding: 1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3), nn.ReLU(),
            nn.Flatten(), nn.Linear(1024, 10));
    }
}
