using Sinapse.Data;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Optimizers.Schedules;
using Sinapse.Tensors;
using Sinapse.Training;

namespace Sinapse.Cli.Experiments;

/// <summary>Constant learning rate versus the course's linear decay, step decay and cosine decay with warm-up.</summary>
internal sealed class SchedulesExperiment : Experiment
{
    public override string Name => "schedules";
    public override string Title => "Learning-rate schedules";

    public override void Run(ExperimentOptions options, Report report)
    {
        var (train, test) = ExperimentData.ScaledMnist(options, options.Quick ? 1000 : null, options.Quick ? 1000 : null);
        int epochs = options.Quick ? 2 : 10, batch = options.Quick ? 32 : 128;
        const float learningRate = 0.1f;
        long perEpoch = (train.Count + batch - 1) / batch, total = perEpoch * epochs, warmup = Math.Max(1, total / 10);
        // τ ends before the run does, so the plot shows the course's flat α_τ after the decay.
        long tau = Math.Max(1, total * 3 / 4);
        int stepEvery = Math.Max(1, epochs / 3);
        var schedules = new (string Label, LearningRateSchedule Schedule, ScheduleUnit Unit)[]
        {
            ("constant", new ConstantSchedule(), ScheduleUnit.Iteration),
            ($"linear decay to 1% by update {tau} (course)", new LinearDecaySchedule(tau, 0.01f), ScheduleUnit.Iteration),
            ($"step ×0.5 every {stepEvery} epoch(s)", new StepSchedule(stepEvery, 0.5f), ScheduleUnit.Epoch),
            ($"warm-up {warmup} + cosine", new WarmupSchedule(warmup, new CosineSchedule(total - warmup)), ScheduleUnit.Iteration),
        };
        report.Text($"MLP 784-128-64-10 (ReLU), plain SGD with base rate α₀ = {learningRate}, batch {batch}, {epochs} epochs ({total:N0} updates) on {train.Count:N0} MNIST images " +
                    $"({Budget(options)}, seed {options.Seed}). The course's linear decay is α_j = (1 − j/τ)·α₀ + (j/τ)·α_τ with τ = {tau} and α_τ = 0.01·α₀, then flat at α_τ for the last quarter of the run.");
        var rows = new List<string[]>();
        var rates = new List<Series>();
        var losses = new List<Series>();
        var csv = new List<object?[]>();
        foreach (var (label, schedule, unit) in schedules)
        {
            var rng = new Rng(options.Seed);
            var model = Mlp.Create(784, [128, 64], 10, new BlockOptions(Rng: rng));
            var trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), learningRate));
            trainer.Scheduler = new LearningRateScheduler(trainer.Optimizer, schedule, unit);
            trainer.Callbacks.Add(new LearningRateLogger());
            var history = trainer.Fit(new DataLoader(train, batch, rng: rng), epochs);
            var accuracy = trainer.Evaluate(test).Accuracy;
            var steps = ExperimentData.Steps(history.StepLosses.Count);
            rates.Add(new Series(label, steps, history.LearningRates.Select(r => (double)r).ToArray()));
            losses.Add(new Series(label, steps, ExperimentData.Smooth(history.StepLosses, Math.Max(1, history.StepLosses.Count / 50))));
            for (int i = 0; i < history.StepLosses.Count; i++) csv.Add([label, i + 1, history.LearningRates[i], history.StepLosses[i]]);
            string key = label.Split(' ')[0];
            report.Figures[$"{key}.loss"] = history.Epochs[^1].TrainLoss;
            report.Figures[$"{key}.accuracy"] = accuracy ?? double.NaN;
            rows.Add([label, G3(history.LearningRates[^1]), F4(history.Epochs[^1].TrainLoss), Percent(accuracy)]);
        }
        report.Heading("Results");
        report.Table(["schedule", "last learning rate", "last epoch loss", "test accuracy"], rows);
        Plots.Lines(report.PathOf("learning-rate.png"), "Learning rate per update", "update", "learning rate", rates);
        Plots.Lines(report.PathOf("loss.png"), "Training loss per update (moving average)", "update", "loss (log scale)", losses, logY: true);
        report.Image("learning-rate.png", "Learning rate per update");
        report.Image("loss.png", "Training loss per update");
        report.Csv("schedules.csv", "schedule,update,learning_rate,loss", csv);
        report.Heading("What the figures show");
        var best = schedules.MaxBy(s => report.Figures[$"{s.Label.Split(' ')[0]}.accuracy"]);
        var lowest = schedules.MinBy(s => report.Figures[$"{s.Label.Split(' ')[0]}.loss"]);
        report.Text($"Last-epoch training loss: constant {F4(report.Figures["constant.loss"])}, linear decay {F4(report.Figures["linear.loss"])}, " +
                    $"step {F4(report.Figures["step.loss"])}, warm-up + cosine {F4(report.Figures["warm-up.loss"])}; best test accuracy: {best.Label} ({Percent(report.Figures[$"{best.Label.Split(' ')[0]}.accuracy"])}). " +
                    (lowest.Label == "constant"
                        ? "Here the constant rate ends lowest: within this budget the network is still improving quickly at α₀, so every decay only slows it down. " +
                          "A decay pays off when the constant rate has stopped making progress and its loss curve only bounces — a longer run, a larger α₀ or noisier gradients (small batches). "
                        : $"{lowest.Label} ends lowest: shrinking the rate late in training lets SGD settle into a minimum instead of bouncing around it, which shows as a lower, smoother end of its loss curve. ") +
                    "The learning-rate plot shows the shapes: the course's linear decay falls steadily to α_τ at update τ and stays flat there, the step schedule halves at epoch boundaries, and warm-up ramps up before the cosine falls.");
    }
}
