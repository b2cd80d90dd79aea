using System.Globalization;
using Sinapse.Data;
using Sinapse.Training;
using Spectre.Console;

namespace Sinapse.Cli;

/// <summary>A live progress bar per epoch on a terminal; one plain line per epoch when the output is redirected.</summary>
internal static class TrainingProgress
{
    /// <param name="resumed">The history of a run restored from a checkpoint, to continue; null for a new run.</param>
    public static History Run(Trainer trainer, DataLoader loader, int epochs, Dataset? validation, History? resumed = null)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive || Console.IsOutputRedirected)
        {
            trainer.Callbacks.Add(new PlainLines());
            return trainer.Fit(loader, epochs, validation, resumed ?? new History());
        }
        History? history = null;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                var bars = new Bars(context);
                trainer.Callbacks.Add(bars);
                try { history = trainer.Fit(loader, epochs, validation, resumed ?? new History()); }
                finally { trainer.Callbacks.Remove(bars); }
            });
        return history!;
    }

    private static string Describe(in BatchProgress p) => string.Create(CultureInfo.InvariantCulture,
        $"epoch {p.Epoch}/{p.Epochs}  loss {p.EpochLoss:F4}{(p.EpochAccuracy is double a ? $"  acc {a:F4}" : "")}  {p.SamplesPerSecond:N0} samples/s");

    private sealed class Bars(ProgressContext context) : Callback
    {
        private ProgressTask? task;
        private long lastRefresh;

        public override void OnEpochBegin(Trainer trainer, int epoch) => task = context.AddTask($"epoch {epoch}");

        public override void OnBatchEnd(Trainer trainer, in BatchProgress progress)
        {
            // Redrawing on every online-learning step would cost more than the step itself.
            long now = Environment.TickCount64;
            if (progress.Batch != progress.BatchesPerEpoch && now - lastRefresh < 100) return;
            lastRefresh = now;
            task!.MaxValue = progress.BatchesPerEpoch;
            task.Value = progress.Batch;
            task.Description = Markup.Escape(Describe(progress));
        }

        public override void OnEpochEnd(Trainer trainer, EpochRecord record)
        {
            if (record.ValidationAccuracy is double accuracy)
                task!.Description += string.Create(CultureInfo.InvariantCulture, $"  val acc {accuracy:F4}");
            task!.StopTask();
        }
    }

    private sealed class PlainLines : Callback
    {
        public override void OnEpochEnd(Trainer trainer, EpochRecord r) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"epoch {r.Epoch}: loss {r.TrainLoss:F4}{(r.TrainAccuracy is double a ? $"  acc {a:F4}" : "")}" +
            $"{(r.ValidationAccuracy is double v ? $"  val acc {v:F4}" : "")}  {r.Seconds:F1} s  {r.SamplesPerSecond:N0} samples/s"));
    }
}
