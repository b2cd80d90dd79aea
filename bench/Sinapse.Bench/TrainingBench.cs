using Sinapse.Data;
using Sinapse.Layers;
using Sinapse.Losses;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Training;
using TorchSharp;
using static TorchSharp.torch;
using SinapseTensor = Sinapse.Tensors.Tensor;

namespace Sinapse.Bench;

/// <summary>
/// What the end-to-end training suites share: the data (Fashion-MNIST when the Debian package is
/// installed, else synthetic images of the same size), and one shuffled epoch on each side with
/// the same model, loss and optimizer.
/// </summary>
public static class TrainingBench
{
    const string FashionMnist = "/usr/share/datasets/fashion-mnist";

    /// <summary>60,000 training images [N, 1, 28, 28] scaled to [0, 1] with 10 classes, and where they came from.</summary>
    public static (Dataset Train, string Source) LoadImages()
    {
        if (Directory.Exists(FashionMnist))
        {
            var (train, _) = Mnist.Load(FashionMnist);
            return (InputTransform.Scale(1f / 255f).Apply(train), "Fashion-MNIST");
        }
        var rng = new Rng(7);
        var features = SinapseTensor.Uniform(new Shape(60000, 1, 28, 28), 0f, 1f, rng);
        var labels = SinapseTensor.Zeros(60000);
        for (int i = 0; i < 60000; i++) labels.Span[i] = rng.NextInt(10);
        return (new Dataset(features, labels, classCount: 10), "synthetic");
    }

    /// <summary>Sinapse's side: Trainer.Fit for one epoch over a seeded, shuffling loader.</summary>
    public sealed class SinapseSide(Module model, Func<IEnumerable<SinapseTensor>, Optimizer> optimizer, Dataset train, int batchSize)
    {
        readonly Trainer trainer = new(model, new CrossEntropyLoss(), optimizer(model.Parameters()));
        readonly DataLoader loader = new(train, batchSize, shuffle: true, rng: new Rng(1));

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

    /// <summary>TorchSharp's side: the usual loop over a random permutation, each step in a dispose scope.</summary>
    public sealed class TorchSide : IDisposable
    {
        readonly nn.Module<torch.Tensor, torch.Tensor> model;
        readonly optim.Optimizer optimizer;
        readonly nn.Module<torch.Tensor, torch.Tensor, torch.Tensor> loss = nn.CrossEntropyLoss();
        readonly torch.Tensor features, labels;
        readonly int batchSize;

        public TorchSide(nn.Module<torch.Tensor, torch.Tensor> model, Func<IEnumerable<TorchSharp.Modules.Parameter>, optim.Optimizer> optimizer, Dataset train, int batchSize)
        {
            (this.model, this.batchSize) = (model, batchSize);
            this.optimizer = optimizer(model.parameters());
            features = tensor(train.Features.ToArray(), train.Features.Shape.ToArray().Select(d => (long)d).ToArray());
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
                optimizer.zero_grad();
                var output = loss.forward(model.forward(features.index_select(0, rows)), labels.index_select(0, rows));
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
