namespace Sinapse.Training;

/// <summary>
/// Stops training when a monitored figure has not improved for <c>patience</c> epochs (Keras's
/// EarlyStopping), optionally putting back the weights of the best epoch.
/// </summary>
public sealed class EarlyStopping : Callback
{
    private float[][]? bestWeights;
    private int epochsWithoutImprovement;

    /// <param name="monitor">val_loss, val_accuracy, loss or accuracy.</param>
    public EarlyStopping(string monitor = "val_loss", int patience = 3, double minDelta = 0, bool restoreBestWeights = true)
    {
        if (patience < 0) throw new ArgumentOutOfRangeException(nameof(patience), patience, "Patience is a number of epochs, 0 or more.");
        if (!(minDelta >= 0)) throw new ArgumentOutOfRangeException(nameof(minDelta), minDelta, "minDelta must be 0 or more.");
        Metric = monitor switch
        {
            "val_loss" => r => r.ValidationLoss,
            "val_accuracy" => r => r.ValidationAccuracy,
            "loss" => r => r.TrainLoss,
            "accuracy" => r => r.TrainAccuracy,
            _ => throw new ArgumentException($"EarlyStopping can monitor val_loss, val_accuracy, loss or accuracy, not '{monitor}'."),
        };
        (Monitor, Patience, MinDelta, RestoreBestWeights) = (monitor, patience, minDelta, restoreBestWeights);
        HigherIsBetter = monitor.EndsWith("accuracy", StringComparison.Ordinal);
    }

    public string Monitor { get; }
    public int Patience { get; }
    public double MinDelta { get; }
    public bool RestoreBestWeights { get; }
    public bool HigherIsBetter { get; }
    private Func<EpochRecord, double?> Metric { get; }

    public double? Best { get; private set; }
    public int BestEpoch { get; private set; }
    /// <summary>The epoch after which training was stopped, or null if it ran to the end.</summary>
    public int? StoppedEpoch { get; private set; }

    public override void OnTrainBegin(Trainer trainer)
    {
        (Best, BestEpoch, StoppedEpoch, epochsWithoutImprovement, bestWeights) = (null, 0, null, 0, null);
    }

    public override void OnEpochEnd(Trainer trainer, EpochRecord record)
    {
        double value = Metric(record) ?? throw new InvalidOperationException(
            $"EarlyStopping monitors {Monitor}, which this run does not report (no validation data, or not a classification?).");
        bool improved = Best is not double best || (HigherIsBetter ? value > best + MinDelta : value < best - MinDelta);
        if (improved)
        {
            (Best, BestEpoch, epochsWithoutImprovement) = (value, record.Epoch, 0);
            if (RestoreBestWeights) bestWeights = trainer.Model.Parameters().Select(p => p.ToArray()).ToArray();
            return;
        }
        if (++epochsWithoutImprovement < Patience) return;   // Keras: stop once `patience` epochs in a row did not improve
        StoppedEpoch = record.Epoch;
        trainer.StopRequested = true;
    }

    public override void OnTrainEnd(Trainer trainer, History history)
    {
        if (!RestoreBestWeights || bestWeights == null || BestEpoch == history.Last?.Epoch) return;
        var parameters = trainer.Model.Parameters();
        for (int i = 0; i < parameters.Count; i++) bestWeights[i].CopyTo(parameters[i].Span);
    }
}

/// <summary>Records the learning rate of every update into <see cref="History.LearningRates"/> (to plot a schedule).</summary>
public sealed class LearningRateLogger : Callback
{
    public override void OnBatchEnd(Trainer trainer, in BatchProgress progress) => trainer.History.LearningRates.Add(trainer.Optimizer.LearningRate);
}
