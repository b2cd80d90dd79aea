using System.Globalization;
using System.Text;

namespace Sinapse.Training;

/// <summary>One epoch's figures. Validation figures are null without validation data; accuracies are null for non-classification targets.</summary>
public sealed record EpochRecord(
    int Epoch,
    double TrainLoss,
    double? TrainAccuracy,
    double? ValidationLoss,
    double? ValidationAccuracy,
    double Seconds,
    double SamplesPerSecond,
    float LearningRate,
    long Updates);

/// <summary>What <see cref="Trainer.Fit"/> returns, like Keras's History: per-epoch records and every step's loss.</summary>
public sealed class History
{
    public List<EpochRecord> Epochs { get; } = [];

    /// <summary>The loss of every update, in order (the per-iteration curve).</summary>
    public List<float> StepLosses { get; } = [];

    /// <summary>‖∇‖₂ over all trainable parameters at every update, before any clipping.</summary>
    public List<float> GradientNorms { get; } = [];

    /// <summary>The learning rate at every update, recorded by a <see cref="LearningRateLogger"/>.</summary>
    public List<float> LearningRates { get; } = [];

    /// <summary>Per-layer gradient and weight norms, recorded by a <see cref="Diagnostics.GradientMonitor"/>.</summary>
    public List<Diagnostics.LayerNorms> LayerNorms { get; } = [];

    public EpochRecord? Last => Epochs.Count == 0 ? null : Epochs[^1];

    public string ToCsv()
    {
        var text = new StringBuilder("epoch,train_loss,train_accuracy,val_loss,val_accuracy,seconds,samples_per_second,learning_rate,updates\n");
        foreach (var e in Epochs)
            text.AppendLine(string.Join(',', e.Epoch, F(e.TrainLoss), F(e.TrainAccuracy), F(e.ValidationLoss), F(e.ValidationAccuracy),
                F(e.Seconds), F(e.SamplesPerSecond), F(e.LearningRate), e.Updates));
        return text.ToString();
    }

    /// <summary>
    /// A one-line summary: epochs and updates, the last epoch's figures and, with validation, the
    /// epoch of the lowest validation loss — <c>History: 5 epochs, 4,220 updates; last: loss: 0.0312 - accuracy: 0.9901 - …; best val_loss 0.0400 at epoch 4</c>.
    /// </summary>
    public override string ToString()
    {
        if (Last is not { } last) return "History: no epochs yet";
        var text = string.Create(CultureInfo.InvariantCulture, $"History: {Epochs.Count} epoch{(Epochs.Count == 1 ? "" : "s")}, {last.Updates:N0} updates; last: {ConsoleProgress.Figures(last)}");
        if (Epochs.Where(e => e.ValidationLoss != null).MinBy(e => e.ValidationLoss) is { } best)
            text += string.Create(CultureInfo.InvariantCulture, $"; best val_loss {best.ValidationLoss:F4} at epoch {best.Epoch}");
        return text;
    }

    public void SaveCsv(string path) => File.WriteAllText(path, ToCsv());

    private static string F(double? value) => value?.ToString("G6", CultureInfo.InvariantCulture) ?? "";
}
