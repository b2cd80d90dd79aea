using System.Globalization;
using Sinapse.Data;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Training;

namespace Sinapse.Cli.Experiments;

/// <summary>The course's three learning modes: online (one example per update), full-batch (one update per epoch) and mini-batch learning with the same learning rate and epochs.</summary>
internal sealed class ModesExperiment : Experiment
{
    public override string Name => "modes";
    public override string Title => "Online, full-batch and mini-batch learning";

    /// <summary>Records the loss over the whole training set after every epoch, outside the timed part.</summary>
    private sealed class TrainingLoss(Dataset train) : Callback
    {
        public List<(double Seconds, double Loss)> Points { get; } = [];
        private double seconds;

        public override void OnTrainBegin(Trainer trainer)
        {
            seconds = 0;
            Points.Add((0, trainer.Evaluate(train).Loss));
        }

        public override void OnEpochEnd(Trainer trainer, EpochRecord record)
        {
            seconds += record.Seconds;
            Points.Add((seconds, trainer.Evaluate(train).Loss));
        }
    }

    public override void Run(ExperimentOptions options, Report report)
    {
        var (train, test) = ExperimentData.ScaledMnist(options, options.Quick ? 300 : 10_000, options.Quick ? 1000 : null);
        int epochs = options.Quick ? 2 : 10;
        const float learningRate = 0.01f;
        var modes = new (string Label, int Batch)[] { ("online (m = 1)", 1), ("mini-batch m = 16", 16), ("mini-batch m = 64", 64), ("mini-batch m = 256", 256), ($"full batch (m = {train.Count})", train.Count) };
        report.Text($"MLP 784-64-10 (ReLU), plain SGD lr {learningRate}, {epochs} epochs over the same {train.Count:N0} MNIST images ({Budget(options)}, seed {options.Seed}). " +
                    "Online learning updates after every example (reshuffled each epoch), mini-batch after every m examples drawn without replacement, full batch once per epoch " +
                    "with the gradient averaged over all examples. The loss is measured on the whole training set after each epoch; time counts training only.");
        var rows = new List<string[]>();
        var byEpoch = new List<Series>();
        var byTime = new List<Series>();
        var csv = new List<object?[]>();
        foreach (var (label, batch) in modes)
        {
            var rng = new Rng(options.Seed);
            var model = Mlp.Create(784, [64], 10, new BlockOptions(Rng: rng));
            var trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), learningRate));
            var recorder = new TrainingLoss(train);
            trainer.Callbacks.Add(recorder);
            var loader = batch == 1 ? DataLoader.Online(train, rng) : batch == train.Count ? DataLoader.FullBatch(train) : DataLoader.MiniBatch(train, batch, rng);
            var history = trainer.Fit(loader, epochs);
            var accuracy = trainer.Evaluate(test).Accuracy;
            byEpoch.Add(new Series(label, Enumerable.Range(0, recorder.Points.Count).Select(i => (double)i).ToArray(), recorder.Points.Select(p => p.Loss).ToArray()));
            byTime.Add(new Series(label, recorder.Points.Select(p => p.Seconds).ToArray(), recorder.Points.Select(p => p.Loss).ToArray()));
            for (int i = 0; i < recorder.Points.Count; i++) csv.Add([batch, i, recorder.Points[i].Seconds, recorder.Points[i].Loss]);
            string key = batch == 1 ? "online" : batch == train.Count ? "full" : $"m{batch}";
            report.Figures[$"{key}.loss"] = recorder.Points[^1].Loss;
            report.Figures[$"{key}.updates"] = trainer.Optimizer.StepCount;
            report.Figures[$"{key}.seconds"] = recorder.Points[^1].Seconds;
            rows.Add([label, trainer.Optimizer.StepCount.ToString("N0", CultureInfo.InvariantCulture), recorder.Points[^1].Seconds.ToString("F2", CultureInfo.InvariantCulture),
                      F4(recorder.Points[^1].Loss), Percent(accuracy)]);
        }
        report.Heading("Results");
        report.Table(["mode", "updates", "training seconds", "final training loss", "test accuracy"], rows);
        Plots.Lines(report.PathOf("loss-per-epoch.png"), "Training-set loss against epochs", "epoch", "loss", byEpoch, markers: true);
        Plots.Lines(report.PathOf("loss-per-second.png"), "Training-set loss against wall-clock time", "seconds of training", "loss", byTime, markers: true);
        report.Image("loss-per-epoch.png", "Loss against epochs");
        report.Image("loss-per-second.png", "Loss against wall-clock time");
        report.Csv("losses.csv", "batch_size,epoch,seconds,training_loss", csv);
        report.Heading("What the figures show");
        var fastest = modes.Select(m => m.Batch == 1 ? "online" : m.Batch == train.Count ? "full" : $"m{m.Batch}")
            .Zip(modes, (key, m) => (m.Label, Seconds: report.Figures[$"{key}.seconds"], Loss: report.Figures[$"{key}.loss"])).ToList();
        report.Text($"Per epoch, the more updates a mode makes the further it gets: online learning ({report.Figures["online.updates"]:N0} updates) ends at loss {F4(report.Figures["online.loss"])}, " +
                    $"full batch ({report.Figures["full.updates"]:N0} updates, one per epoch) at {F4(report.Figures["full.loss"])}. " +
                    $"Per second the picture changes: an online update costs almost as much as a mini-batch update (the work per example is tiny, the per-update overhead is not), " +
                    $"so online took {fastest[0].Seconds:F2} s against {fastest[2].Seconds:F2} s for m = 64. " +
                    "Mini-batches combine many updates per epoch with vectorised, cheap updates — which is why they are the default.");
    }
}
