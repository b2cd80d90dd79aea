using System.Globalization;

namespace Sinapse.Training;

/// <summary>
/// Prints one line per epoch, as Keras's <c>fit(verbose=2)</c> does:
/// <c>Epoch 3/10 - 4.2s - loss: 0.1234 - accuracy: 0.9612 - val_loss: 0.1301 - val_accuracy: 0.9598</c>.
/// A <see cref="Trainer"/> whose <see cref="Trainer.Verbose"/> is true adds one for the length of each
/// <see cref="Trainer.Fit(Sinapse.Data.DataLoader, int, Sinapse.Data.Dataset?, CancellationToken)"/>;
/// add one yourself to print to another writer.
/// </summary>
public sealed class ConsoleProgress(TextWriter? writer = null) : Callback
{
    /// <summary>
    /// The default of <see cref="Trainer.Verbose"/>: true when standard output is a terminal (a console
    /// application run by hand, where Keras's fit also prints), false when it is redirected to a file or
    /// pipe (services, test runners, tools that print their own progress).
    /// </summary>
    public static bool VerboseByDefault { get; set; } = !Console.IsOutputRedirected;

    /// <summary>Where the lines go; null writes to <see cref="Console.Out"/> as it is at the time.</summary>
    public TextWriter? Writer { get; } = writer;

    private int epochs;

    public override void OnBatchEnd(Trainer trainer, in BatchProgress progress) => epochs = progress.Epochs;

    public override void OnEpochEnd(Trainer trainer, EpochRecord record) =>
        (Writer ?? Console.Out).WriteLine(string.Create(CultureInfo.InvariantCulture, $"Epoch {record.Epoch}/{epochs} - {record.Seconds:F1}s - {Figures(record)}"));

    /// <summary>An epoch's figures in Keras's words: <c>loss: 0.1234 - accuracy: 0.9612 - val_loss: … - val_accuracy: …</c>, leaving out what was not measured.</summary>
    internal static string Figures(EpochRecord record)
    {
        var parts = new List<string> { Figure("loss", record.TrainLoss) };
        if (record.TrainAccuracy is double accuracy) parts.Add(Figure("accuracy", accuracy));
        if (record.ValidationLoss is double validationLoss) parts.Add(Figure("val_loss", validationLoss));
        if (record.ValidationAccuracy is double validationAccuracy) parts.Add(Figure("val_accuracy", validationAccuracy));
        return string.Join(" - ", parts);
    }

    private static string Figure(string name, double value) => string.Create(CultureInfo.InvariantCulture, $"{name}: {value:F4}");

    /// <summary>Adds a progress line printer to <paramref name="trainer"/> for one Fit when it is verbose and has none; disposing removes it.</summary>
    internal static Attachment? Attach(Trainer trainer)
    {
        if (!trainer.Verbose || trainer.Callbacks.Any(c => c is ConsoleProgress)) return null;
        var progress = new ConsoleProgress();
        trainer.Callbacks.Add(progress);
        return new Attachment(trainer, progress);
    }

    internal sealed class Attachment(Trainer trainer, ConsoleProgress progress) : IDisposable
    {
        public void Dispose() => trainer.Callbacks.Remove(progress);
    }
}
