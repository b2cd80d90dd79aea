using System.Diagnostics;
using Sinapse.Autograd;
using Sinapse.Data;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Training;

namespace Sinapse.Cli.Experiments;

/// <summary>
/// Mixed precision: the course CNN trained on MNIST in float32, bfloat16 and float16
/// (with dynamic loss scaling) from the same initial weights and batch order, comparing speed
/// (time per training step), memory (bytes the linear and convolution layers save for backward, and the
/// peak of pooled tensor memory during training) and test accuracy.
/// </summary>
internal sealed class PrecisionExperiment : Experiment
{
    public override string Name => "precision";
    public override string Title => "Mixed precision: float32, bfloat16 and float16 on the course CNN";

    public override void Run(ExperimentOptions options, Report report)
    {
        var (train, test) = ExperimentData.ScaledMnist(options, options.Quick ? 1000 : null, options.Quick ? 500 : null);
        int epochs = options.Quick ? 1 : 3;
        const int batch = 64;
        const float learningRate = 1e-3f;
        report.Text($"The course CNN (Conv 32 → pool → Conv 64 → pool → Conv 64 → Dense 10, ReLU), Adam lr {learningRate}, batch {batch}, {epochs} epochs on " +
                    $"{train.Count:N0} MNIST images (X/255), tested on {test.Count:N0}; {Budget(options)}, seed {options.Seed}, {Kernels.Workers.Count} threads. " +
                    "Each run starts from the same weights and sees the batches in the same order. Under bf16/fp16 the linear and convolution layers round " +
                    "their inputs, weights and outputs to 16 bits, multiply with float32 accumulation and keep 16-bit copies for backward; the master weights " +
                    "and Adam's update stay float32; fp16 adds dynamic loss scaling (GradScaler's rules, initial scale 2^16).");
        Precision[] precisions = [Precision.Float32, Precision.BFloat16, Precision.Float16];
        var runs = precisions.Select(p => new PrecisionRun(p, options.Seed, learningRate, train, batch)).ToArray();
        // Speed first (which also warms the JIT up for the training below): the runs take turns in
        // samples of a few steps, in a rotating order, so the shared machine's slow spells fall on all alike.
        var stepMilliseconds = StepMilliseconds(runs, train, batch, samples: options.Quick ? 1 : 9, stepsPerSample: options.Quick ? 2 : 20);
        foreach (var run in runs) run.Reset();
        var divergence = new Dictionary<Precision, string>();
        for (int epoch = 1; epoch <= epochs; epoch++)
            foreach (var run in runs.Where(r => !divergence.ContainsKey(r.Precision)))
            {
                TensorScope.ResetPeakBytes();
                try
                {
                    run.Trainer.Fit(run.Loader, epoch, null, run.Trainer.History);
                }
                catch (TrainingDivergedException e)
                {
                    divergence[run.Precision] = e.Message;
                }
                run.PeakBytes = Math.Max(run.PeakBytes, TensorScope.PeakBytes);
            }

        var firstGradients = FirstGradients(Precision.Float32, null, options.Seed, train, batch);
        var rows = new List<string[]>();
        var curves = new List<Series>();
        var csv = new List<object?[]>();
        for (int r = 0; r < runs.Length; r++)
        {
            var run = runs[r];
            string key = MixedPrecision.ShortName(run.Precision);
            var history = run.Trainer.History;
            double? accuracy = divergence.ContainsKey(run.Precision) ? null : run.Trainer.Evaluate(test).Accuracy;
            var scaler = run.Trainer.LossScaler;
            report.Figures[$"{key}.accuracy"] = accuracy ?? double.NaN;
            report.Figures[$"{key}.step_ms"] = stepMilliseconds[r];
            report.Figures[$"{key}.saved_bytes"] = run.SavedBytes;
            report.Figures[$"{key}.peak_pool_bytes"] = run.PeakBytes;
            report.Figures[$"{key}.skipped_steps"] = scaler?.SkippedSteps ?? 0;
            rows.Add([key, accuracy is null ? "diverged" : Percent(accuracy), G3(stepMilliseconds[r]), KiB(run.SavedBytes), MiB(run.PeakBytes),
                scaler != null ? $"{scaler.Scale} ({scaler.SkippedSteps} skipped)" : "—"]);
            curves.Add(new Series(key, ExperimentData.Steps(history.StepLosses.Count), ExperimentData.Smooth(history.StepLosses, 50)));
            foreach (var e in history.Epochs) csv.Add([key, e.Epoch, e.TrainLoss, e.TrainAccuracy, e.Seconds, run.SavedBytes, run.PeakBytes, accuracy]);
        }
        report.Heading("Speed, memory and accuracy");
        report.Table(["precision", "test accuracy", "median step (ms)", "saved for backward per step (KiB)", "peak pooled tensors (MiB)", "final loss scale"], rows);
        Plots.Lines(report.PathOf("loss.png"), "Training loss (moving average over 50 updates)", "update", "cross-entropy", curves);
        report.Image("loss.png", "Training loss per precision");
        report.Csv("precision.csv", "precision,epoch,train_loss,train_accuracy,seconds,saved_bytes_per_step,peak_pool_bytes,test_accuracy", csv);

        report.Heading("Float16 underflow and loss scaling");
        var underflow = new List<string[]>();
        foreach (var (label, key, scaler) in new (string, string, LossScaler?)[] { ("fp16 without loss scaling", "unscaled", null), ("fp16, loss scaled by 2^16", "scaled", new LossScaler()) })
        {
            var gradients = FirstGradients(Precision.Float16, scaler, options.Seed, train, batch);
            double lost = LostFraction(firstGradients, gradients);
            report.Figures[$"fp16.{key}.lost_fraction"] = lost;
            underflow.Add([label, Percent(lost)]);
        }
        report.Text("The first update's weight gradients in float16, against float32's from the same weights and batch: the share of gradient values " +
                    "that are non-zero in float32 but were flushed to zero in float16.");
        report.Table(["run", "gradient values lost to underflow"], underflow);

        report.Heading("What the figures show");
        double fp32Saved = report.Figures["fp32.saved_bytes"], bf16Saved = report.Figures["bf16.saved_bytes"];
        double skipped = report.Figures["fp16.skipped_steps"];
        report.Text($"Accuracy: the three runs end within {Percent(Spread(report, "accuracy"))} of each other — 16-bit storage with float32 accumulation and " +
                    "float32 master weights costs this network little or nothing. " +
                    $"Memory: the linear and convolution layers keep {Percent(bf16Saved / fp32Saved)} of float32's bytes for backward (16-bit copies of their inputs, " +
                    "plus 16-bit copies of their weights). The peak of pooled tensor memory does not fall with them: Sinapse's tensors are float32, so the " +
                    "activations between layers (ReLU and pooling outputs, which those ops also keep) stay float32 and the 16-bit copies come on top; " +
                    "the saving becomes real only when every op's tensors are 16-bit, as in PyTorch. " +
                    "Speed: .NET 10 has no bfloat16/float16 matrix instructions (no AVX512-BF16 intrinsics), so the products still run on the float32 GEMM, " +
                    "and mixed precision adds conversion passes — rounding the input, weight, output and every gradient, widening the saved copies — to the " +
                    $"same arithmetic: a bf16 step takes {Percent(report.Figures["bf16.step_ms"] / report.Figures["fp32.step_ms"])} and an fp16 step " +
                    $"{Percent(report.Figures["fp16.step_ms"] / report.Figures["fp32.step_ms"])} of a float32 step's time (medians of alternating samples; epoch times, " +
                    "taken while the machine was shared, are in the CSV). " +
                    $"Float16: without loss scaling {Percent(report.Figures["fp16.unscaled.lost_fraction"])} of the first update's gradient values underflow to zero, " +
                    $"with the scale of 2^16 {Percent(report.Figures["fp16.scaled.lost_fraction"])}; " +
                    (skipped > 0 ? $"{skipped} steps were skipped when the scaled gradients overflowed, each halving the scale." : "no scaled gradient overflowed, so no step was skipped."));
    }

    /// <summary>One precision's model, trainer and data order, built from the seed.</summary>
    private sealed class PrecisionRun(Precision precision, ulong seed, float learningRate, Dataset train, int batch)
    {
        public Precision Precision { get; } = precision;
        public Trainer Trainer { get; private set; } = Build(precision, seed, learningRate, out _);
        public DataLoader Loader { get; private set; } = null!;
        public long SavedBytes { get; } = SavedBytesOfOneBatch(Build(precision, seed, learningRate, out _), train, batch);
        public long PeakBytes { get; set; }

        /// <summary>Starts over from the seed's weights and batch order (after the warm-up step).</summary>
        public void Reset()
        {
            Trainer = Build(Precision, seed, learningRate, out var rng);
            Loader = new DataLoader(train, batch, rng: rng);
        }

        public static Trainer Build(Precision precision, ulong seed, float learningRate, out Rng rng)
        {
            rng = new Rng(seed);
            var model = Cnn.Course(1, 28, 28, 10, rng: rng);
            return new Trainer(model, new CrossEntropyLoss(), new Adam(model.Parameters(), learningRate))
            {
                Precision = precision,
                LossScaler = precision == Precision.Float16 ? new LossScaler() : null,
            };
        }
    }

    /// <summary>
    /// Median milliseconds per training step of each run: samples of <paramref name="stepsPerSample"/>
    /// steps on the same few batches, the runs taking turns in a rotating order.
    /// </summary>
    private static double[] StepMilliseconds(PrecisionRun[] runs, Dataset train, int batch, int samples, int stepsPerSample)
    {
        var batches = Enumerable.Range(0, 4).Select(i => (train.Features.Slice(i * batch, batch), train.Targets.Slice(i * batch, batch))).ToArray();
        var times = runs.Select(_ => new List<double>()).ToArray();
        for (int sample = 0; sample < samples; sample++)
            for (int turn = 0; turn < runs.Length; turn++)
            {
                int r = (turn + sample) % runs.Length;
                long start = Stopwatch.GetTimestamp();
                for (int step = 0; step < stepsPerSample; step++) runs[r].Trainer.TrainStep(batches[step % batches.Length].Item1, batches[step % batches.Length].Item2);
                times[r].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds / stepsPerSample);
            }
        return times.Select(t => t.Order().ElementAt(t.Count / 2)).ToArray();
    }

    /// <summary>Every weight gradient of the first training step from the seed's weights (unscaled, when a scaler is given).</summary>
    private static float[] FirstGradients(Precision precision, LossScaler? scaler, ulong seed, Dataset train, int batch)
    {
        var trainer = PrecisionRun.Build(precision, seed, 1e-3f, out _);
        trainer.LossScaler = scaler;
        trainer.TrainStep(train.Features.Slice(0, batch), train.Targets.Slice(0, batch));
        return trainer.Model.Parameters().SelectMany(p => p.Grad!.ToArray()).ToArray();
    }

    /// <summary>The share of the reference's non-zero values that are zero in <paramref name="gradients"/>.</summary>
    private static double LostFraction(float[] reference, float[] gradients)
    {
        int nonZero = reference.Count(g => g != 0);
        int lost = reference.Zip(gradients, (r, g) => r != 0 && g == 0).Count(x => x);
        return (double)lost / Math.Max(nonZero, 1);
    }

    /// <summary>The bytes the linear and convolution layers keep for backward after one forward pass over a batch.</summary>
    private static long SavedBytesOfOneBatch(Trainer trainer, Dataset train, int batch)
    {
        using var scope = TensorScope.Begin();
        using var autocast = MixedPrecision.Autocast(trainer.Precision);
        var rows = Enumerable.Range(0, batch).ToArray();
        var loss = trainer.Loss.Forward(trainer.Model.Call(train.Features.GatherRows(rows)), train.Targets.GatherRows(rows));
        return Tape.SavedBytes(loss);
    }

    private static double Spread(Report report, string figure)
    {
        var values = new[] { "fp32", "bf16", "fp16" }.Select(k => report.Figures[$"{k}.{figure}"]).ToArray();
        return values.Max() - values.Min();
    }

    private static string KiB(long bytes) => (bytes / 1024.0).ToString("N0", System.Globalization.CultureInfo.InvariantCulture);

    private static string MiB(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
}
