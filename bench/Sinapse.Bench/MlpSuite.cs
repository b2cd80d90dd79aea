using Sinapse.Data;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Training;
using TorchSharp;
using static TorchSharp.torch;
using SinapseTensor = Sinapse.Tensors.Tensor;

namespace Sinapse.Bench;

/// <summary>
/// Training the course's MLP 784-256-128-64-10 (ReLU, softmax cross-entropy, SGD lr 0.01) on
/// both sides: `mlp` is one shuffled epoch at batch 128 over 60,000 images, `step1` is 2,000
/// online-learning steps at batch 1, where per-step overhead dominates.
/// </summary>
public static class MlpSuite
{
    const string FashionMnist = "/usr/share/datasets/fashion-mnist";
    static readonly int[] Hidden = [256, 128, 64];

    public static IEnumerable<BenchRecord> RunEpoch(BenchOptions options)
    {
        var (train, source) = LoadImages();
        var sinapse = new SinapseMlp(train, batchSize: 128);
        using var torchSide = new TorchMlp(train, batchSize: 128);
        var (sinapseMs, torchMs) = BenchTiming.Compare(options with { WarmupMilliseconds = 0 }, sinapse.Epoch, torchSide.Epoch);
        Console.WriteLine($"mlp: {train.Count:N0} {source} images; Sinapse allocates {sinapse.BytesPerStep() / 1024.0:F1} KB per steady-state step (100 steps)");
        yield return new BenchRecord("mlp", $"epoch batch 128 ({source})", sinapseMs, torchMs);
    }

    public static IEnumerable<BenchRecord> RunOnline(BenchOptions options)
    {
        var (train, source) = LoadImages();
        var subset = train.Subset(Enumerable.Range(0, 2000).ToArray());
        var sinapse = new SinapseMlp(subset, batchSize: 1);
        using var torchSide = new TorchMlp(subset, batchSize: 1);
        var (sinapseMs, torchMs) = BenchTiming.Compare(options with { WarmupMilliseconds = 0 }, sinapse.Epoch, torchSide.Epoch);
        yield return new BenchRecord("step1", $"2000 steps batch 1 ({source})", sinapseMs, torchMs);
    }

    /// <summary>Fashion-MNIST from the Debian package when installed, else 60,000 synthetic 784-d inputs with 10 classes.</summary>
    static (Dataset Train, string Source) LoadImages()
    {
        if (Directory.Exists(FashionMnist))
        {
            var (train, _) = Mnist.Load(FashionMnist);
            return (InputTransform.Scale(1f / 255f).Apply(train), "Fashion-MNIST");
        }
        var rng = new Rng(7);
        var features = SinapseTensor.Uniform(new Shape(60000, 784), 0f, 1f, rng);
        var labels = SinapseTensor.Zeros(60000);
        for (int i = 0; i < 60000; i++) labels.Span[i] = rng.NextInt(10);
        return (new Dataset(features, labels, classCount: 10), "synthetic");
    }

    sealed class SinapseMlp
    {
        readonly Trainer trainer;
        readonly DataLoader loader;

        public SinapseMlp(Dataset train, int batchSize)
        {
            var rng = new Rng(1);
            var model = Mlp.Create(784, Hidden, 10, "relu", rng: rng);
            trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), 0.01f));
            loader = new DataLoader(train, batchSize, shuffle: true, rng: rng);
        }

        public void Epoch() => trainer.Fit(loader, 1);

        /// <summary>Managed bytes this thread allocates per training step once buffers and pools are warm.</summary>
        public double BytesPerStep()
        {
            var batches = new List<(SinapseTensor, SinapseTensor)>();
            foreach (var (x, y) in loader) { batches.Add((x.Clone(), y.Clone())); if (batches.Count == 2) break; }
            for (int i = 0; i < 10; i++) trainer.TrainStep(batches[i % 2].Item1, batches[i % 2].Item2);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 100; i++) trainer.TrainStep(batches[i % 2].Item1, batches[i % 2].Item2);
            return (GC.GetAllocatedBytesForCurrentThread() - before) / 100.0;
        }
    }

    sealed class TorchMlp : IDisposable
    {
        readonly nn.Module<torch.Tensor, torch.Tensor> model;
        readonly optim.Optimizer optimizer;
        readonly nn.Module<torch.Tensor, torch.Tensor, torch.Tensor> loss = nn.CrossEntropyLoss();
        readonly torch.Tensor features, labels;
        readonly int batchSize;

        public TorchMlp(Dataset train, int batchSize)
        {
            this.batchSize = batchSize;
            manual_seed(1);
            model = nn.Sequential(
                nn.Linear(784, Hidden[0]), nn.ReLU(),
                nn.Linear(Hidden[0], Hidden[1]), nn.ReLU(),
                nn.Linear(Hidden[1], Hidden[2]), nn.ReLU(),
                nn.Linear(Hidden[2], 10));
            optimizer = optim.SGD(model.parameters(), 0.01);
            features = tensor(train.Features.ToArray(), [train.Count, 784]);
            labels = tensor(train.Targets.ToArray().Select(v => (long)v).ToArray(), [train.Count]);
        }

        public void Epoch()
        {
            long count = features.shape[0];
            using var epochScope = NewDisposeScope();
            var order = randperm(count);
            for (long start = 0; start < count; start += batchSize)
            {
                using var stepScope = NewDisposeScope();
                var rows = order.narrow(0, start, Math.Min(batchSize, count - start));
                var x = features.index_select(0, rows);
                var y = labels.index_select(0, rows);
                optimizer.zero_grad();
                var output = loss.forward(model.forward(x), y);
                output.backward();
                optimizer.step();
            }
        }

        public void Dispose()
        {
            features.Dispose();
            labels.Dispose();
            model.Dispose();
        }
    }
}
