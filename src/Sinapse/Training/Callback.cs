namespace Sinapse.Training;

/// <summary>Where a training run stands after a batch, for progress displays and monitors.</summary>
public readonly record struct BatchProgress(
    int Epoch,
    int Epochs,
    int Batch,
    int BatchesPerEpoch,
    float Loss,
    double EpochLoss,
    double? EpochAccuracy,
    double SamplesPerSecond);

/// <summary>Hooks into <see cref="Trainer.Fit(Data.DataLoader, int, Data.Dataset?, CancellationToken)"/>, as Keras callbacks: override what you need.</summary>
public abstract class Callback
{
    public virtual void OnTrainBegin(Trainer trainer) { }
    public virtual void OnEpochBegin(Trainer trainer, int epoch) { }
    public virtual void OnBatchEnd(Trainer trainer, in BatchProgress progress) { }
    public virtual void OnEpochEnd(Trainer trainer, EpochRecord record) { }
    public virtual void OnTrainEnd(Trainer trainer, History history) { }
}
