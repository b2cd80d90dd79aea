using System.Diagnostics;
using System.Globalization;
using Sinapse.Data;
using Sinapse.Kernels;
using Sinapse.Serialization;

namespace Sinapse.Cli.Experiments;

/// <summary>
/// Resuming from a checkpoint: training stopped after half its epochs, checkpointed, and continued by a new
/// <c>sinapse train --resume</c> process ends with exactly the weights of the same run done in one
/// go. Every session is a real child process of the command line, so nothing survives between them
/// but the checkpoint's files.
/// </summary>
internal sealed class ResumeExperiment : Experiment
{
    public override string Name => "resume";
    public override string Title => "Resume equivalence: 2 × 50 epochs through a checkpoint and a new process vs 100 epochs in one run";

    private static readonly TimeSpan SessionTimeout = TimeSpan.FromMinutes(30);

    public override void Run(ExperimentOptions options, Report report)
    {
        int half = options.Quick ? 2 : 50, total = 2 * half;
        var (train, test) = ExperimentData.Mnist(options, options.Quick ? 600 : 2500, options.Quick ? 200 : 1000);
        int validation = train.Count / 5;
        // The sessions' files (data, checkpoints, models) are scratch: only the comparison goes in the report.
        var scratch = Path.Combine(Path.GetTempPath(), "sinapse-resume-" + Guid.NewGuid().ToString("N"));
        try
        {
            var data = Path.Combine(scratch, "data");
            Directory.CreateDirectory(data);
            foreach (var (set, images, labels) in new[] { (train, Mnist.TrainImages, Mnist.TrainLabels), (test, Mnist.TestImages, Mnist.TestLabels) })
            {
                Idx.Write(Path.Combine(data, images), set.Features.ReshapedTo(set.Count, set.FeatureShape[^2], set.FeatureShape[^1]));
                Idx.Write(Path.Combine(data, labels), set.Targets);
            }
            string oneRun = Path.Combine(scratch, "one-run"), twoSessions = Path.Combine(scratch, "two-sessions");
            string[] Train(string output, params string[] more) =>
                ["train", "--data", data, "--model", "mlp", "--hidden", "64", "--dropout", "0.2", "--optimizer", "adam", "--lr", "0.001", "--schedule", "cosine",
                 "--validation", Invariant(validation), "--batch-size", "64", "--epochs", Invariant(total), "--seed", Invariant(options.Seed),
                 "--threads", Invariant(Workers.Count), "--out", output, .. more];
            string trainCommand = "sinapse " + string.Join(' ', Train("OUT")).Replace(data, "DATA", StringComparison.Ordinal);
            report.Text($"`sinapse train` of an MLP 784-64-10 with dropout 0.2, Adam lr 0.001 and a cosine schedule over {total} epochs (batch 64) on {train.Count - validation:N0} MNIST images " +
                        $"({validation:N0} held out for validation; {Budget(options)}, seed {options.Seed}), run three times as child processes of the command line: " +
                        $"once for all {total} epochs; then with `--save-every {half} --stop-after {half}`, which checkpoints and exits after epoch {half}; " +
                        $"then `sinapse train --resume` on that run's directory, a new process that rebuilds everything (model, Adam's moments, the schedule's position, " +
                        $"the dropout and shuffling generators) from the checkpoint's files alone. The options of the runs: `{trainCommand}`.");

            var seconds = new List<(string Session, double Seconds)>();
            string Session(string label, string[] arguments)
            {
                var clock = Stopwatch.StartNew();
                var (exitCode, output, error) = SinapseProcess.Run(arguments, SessionTimeout);
                if (exitCode != 0) throw new InvalidOperationException($"sinapse {string.Join(' ', arguments)} failed (exit code {exitCode}): {error.Trim()}");
                seconds.Add((label, clock.Elapsed.TotalSeconds));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label}: {clock.Elapsed.TotalSeconds:F1} s"));
                return output;
            }
            Session($"one run, epochs 1–{total}", Train(oneRun));
            Session($"session 1, epochs 1–{half}", Train(twoSessions, "--save-every", Invariant(half), "--stop-after", Invariant(half)));
            var first = ReadHistory(Path.Combine(twoSessions, "history.csv"));
            var resumed = Session($"session 2 (--resume), epochs {half + 1}–{total}", ["train", "--resume", twoSessions, "--threads", Invariant(Workers.Count)]);
            if (!resumed.Contains("Resuming", StringComparison.Ordinal)) throw new InvalidOperationException($"sinapse train --resume {twoSessions} did not resume:\n{resumed}");

            var whole = SavedModel.Load(Path.Combine(oneRun, "model")).Model.StateDict();
            var split = SavedModel.Load(Path.Combine(twoSessions, "model")).Model.StateDict();
            double largest = 0;
            long values = 0;
            foreach (var ((name, a), (otherName, b)) in whole.Zip(split))
            {
                if (name != otherName || a.Shape != b.Shape) throw new InvalidOperationException($"The two models differ in structure: {name} {a.Shape} against {otherName} {b.Shape}.");
                ReadOnlySpan<float> left = a.Span, right = b.Span;
                for (int i = 0; i < left.Length; i++) largest = Math.Max(largest, Math.Abs((double)left[i] - right[i]));
                values += left.Length;
            }
            bool sameBytes = File.ReadAllBytes(Path.Combine(oneRun, "model", SavedModel.WeightsFile)).AsSpan()
                .SequenceEqual(File.ReadAllBytes(Path.Combine(twoSessions, "model", SavedModel.WeightsFile)));
            var once = ReadHistory(Path.Combine(oneRun, "history.csv"));
            var twice = ReadHistory(Path.Combine(twoSessions, "history.csv"));
            if (once.Count != total || twice.Count != total || first.Count != half)
                throw new InvalidOperationException($"Expected {total} epochs in both histories and {half} after session 1, found {once.Count}, {twice.Count} and {first.Count}.");
            double lossDifference = once.Zip(twice).Max(p => Math.Max(Math.Abs(p.First.TrainLoss - p.Second.TrainLoss), Math.Abs(p.First.ValidationLoss - p.Second.ValidationLoss)));
            report.Figures["largest_weight_difference"] = largest;
            report.Figures["identical_weight_files"] = sameBytes ? 1 : 0;
            report.Figures["largest_loss_difference"] = lossDifference;
            report.Figures["weights"] = values;

            report.Heading($"{total} epochs in one process against {half} + {half} in two");
            report.Table(["run", "processes", "final train loss", "final validation loss", "final validation accuracy", "seconds"],
            [
                [$"{total} epochs in one run", "1", F4(once[^1].TrainLoss), F4(once[^1].ValidationLoss), Percent(once[^1].ValidationAccuracy), Invariant(seconds[0].Seconds, "F1")],
                [$"{half} + {half} epochs, checkpoint and --resume between", "2", F4(twice[^1].TrainLoss), F4(twice[^1].ValidationLoss), Percent(twice[^1].ValidationAccuracy),
                 Invariant(seconds[1].Seconds + seconds[2].Seconds, "F1")],
            ]);
            report.Table(["comparison of the two runs", "value"],
            [
                [$"largest weight difference (over all {values:N0} weights and buffers)", largest == 0 ? "0 (exactly)" : G3(largest)],
                ["weights.safetensors byte for byte", sameBytes ? "identical" : "different"],
                ["largest per-epoch loss difference (train and validation, history.csv)", lossDifference == 0 ? "0 (exactly)" : G3(lossDifference)],
            ]);
            var epochs = once.Select(e => (double)e.Epoch).ToArray();
            Plots.Lines(report.PathOf("loss.png"), $"Loss per epoch: one run against two sessions (new process after epoch {half})", "epoch", "loss (log scale)",
            [
                new Series($"one run (1–{total}): train", epochs, once.Select(e => e.TrainLoss).ToArray(), Wide: true),
                new Series($"one run (1–{total}): validation", epochs, once.Select(e => e.ValidationLoss).ToArray(), Wide: true),
                new Series($"session 1 (1–{half}): train", epochs[..half], first.Select(e => e.TrainLoss).ToArray()),
                new Series($"session 1 (1–{half}): validation", epochs[..half], first.Select(e => e.ValidationLoss).ToArray()),
                new Series($"session 2 ({half + 1}–{total}): train", epochs[half..], twice[half..].Select(e => e.TrainLoss).ToArray()),
                new Series($"session 2 ({half + 1}–{total}): validation", epochs[half..], twice[half..].Select(e => e.ValidationLoss).ToArray()),
            ], logY: true, markers: true);
            report.Image("loss.png", "Training and validation loss per epoch: the one run (broad pale lines) with the two sessions drawn over it");
            report.Csv("losses.csv", "epoch,one_run_train_loss,one_run_validation_loss,two_sessions_train_loss,two_sessions_validation_loss,session",
                once.Zip(twice).Select(p => new object?[] { p.First.Epoch, p.First.TrainLoss, p.First.ValidationLoss, p.Second.TrainLoss, p.Second.ValidationLoss, p.First.Epoch <= half ? 1 : 2 }));

            report.Heading("What the figures show");
            report.Text((largest == 0
                    ? $"The run stopped after epoch {half} and continued in a new process ends with exactly the weights of the run that never stopped: the largest difference over all {values:N0} weights is 0, " +
                      $"and the weight files are {(sameBytes ? "identical byte for byte" : "different only in their metadata")}. "
                    : $"The resumed run ends {G3(largest)} away from the run that never stopped — a bug: some state (a generator, the optimizer's moments, the schedule) was not restored exactly. ") +
                $"The loss curves lie on top of each other{(lossDifference == 0 ? " to the last printed digit" : $" within {G3(lossDifference)}")}: session 2 picks up at epoch {half + 1} where the one run is at that point, " +
                "because the checkpoint holds everything that decides the next step — the weights, Adam's step count and moments, the schedule's position and the state of every random generator " +
                "(each epoch's shuffle and the dropout masks) — and nothing else does.");
        }
        finally
        {
            try { Directory.Delete(scratch, recursive: true); } catch (IOException) { }
        }
    }

    private sealed record EpochLosses(int Epoch, double TrainLoss, double ValidationLoss, double? ValidationAccuracy);

    /// <summary>The epochs of a run's history.csv (<see cref="Sinapse.Training.History.ToCsv"/>).</summary>
    private static List<EpochLosses> ReadHistory(string path) =>
        File.ReadLines(path).Skip(1).Where(line => line.Length > 0).Select(line =>
        {
            var cells = line.Split(',');
            return new EpochLosses(int.Parse(cells[0], CultureInfo.InvariantCulture), double.Parse(cells[1], CultureInfo.InvariantCulture),
                double.Parse(cells[3], CultureInfo.InvariantCulture), cells[4].Length > 0 ? double.Parse(cells[4], CultureInfo.InvariantCulture) : null);
        }).ToList();

    private static string Invariant(IFormattable value, string? format = null) => value.ToString(format, CultureInfo.InvariantCulture);
}
