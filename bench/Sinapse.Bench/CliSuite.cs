using System.Diagnostics;
using Sinapse.Cli.Commands;
using Sinapse.Data;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Optimizers.Schedules;
using Sinapse.Tensors;
using Sinapse.Training;

namespace Sinapse.Bench;

/// <summary>
/// The CLI's own training loop against the library's: `sinapse train --model mlp --batch-size 1
/// --epochs 1` run in this process (its option parsing, trainer, schedule, callbacks and progress
/// output) on 2,000 MNIST examples (the other 58,000 held out), against Trainer.Fit with
/// DataLoader.Online on the same examples with the same model, Adam and cosine schedule. Each
/// side's figure is the epoch's training time (the CLI's from its history.csv), so loading the
/// data and evaluating are not counted. Ratio = CLI / library.
/// </summary>
public static class CliSuite
{
    const int Held = 58000;

    public static IEnumerable<BenchRecord> Run(BenchOptions options)
    {
        string output = Path.Combine(Path.GetTempPath(), $"sinapse-bench-cli-{Environment.ProcessId}");
        string[] arguments = ["train", "--model", "mlp", "--batch-size", "1", "--epochs", "1", "--validation", Held.ToString(),
                              "--threads", options.Threads.ToString(), "--out", output];

        var (train, _) = Mnist.LoadBundled();
        var (examples, _) = train.Split(1.0 - (double)Held / train.Count, 42);
        examples = InputTransform.Scale(1f / 255f).Apply(examples);

        double Cli()
        {
            var console = Console.Out;
            Console.SetOut(TextWriter.Null);
            try
            {
                if (TrainCommand.Create().Parse(arguments).Invoke() != 0) throw new InvalidOperationException("sinapse train failed");
            }
            finally { Console.SetOut(console); }
            var last = File.ReadLines(Path.Combine(output, "history.csv")).Last().Split(',');
            return double.Parse(last[5], System.Globalization.CultureInfo.InvariantCulture) * 1000;
        }

        double Library()
        {
            var rng = new Rng(42);
            var model = Mlp.Create(784, [256, 128, 64], 10, "relu", rng: rng);
            var optimizer = new Adam(model.Parameters(), 1e-3f);
            var loader = DataLoader.Online(examples, rng);
            var trainer = new Trainer(model, new CrossEntropyLoss(), optimizer) { Scheduler = new LearningRateScheduler(optimizer, new CosineSchedule(loader.BatchesPerEpoch)) };
            var clock = Stopwatch.StartNew();
            trainer.Fit(loader, 1);
            return clock.Elapsed.TotalMilliseconds;
        }

        Cli();
        Library();
        var cliSamples = new double[options.Reps];
        var librarySamples = new double[options.Reps];
        for (int rep = 0; rep < options.Reps; rep++)
        {
            cliSamples[rep] = Cli();
            librarySamples[rep] = Library();
        }
        Directory.Delete(output, recursive: true);
        yield return new BenchRecord("cli", $"online epoch, {examples.Count:N0} steps batch 1 (MNIST)", BenchTiming.Median(cliSamples), BenchTiming.Median(librarySamples)) { Against = "library loop" };
    }
}
