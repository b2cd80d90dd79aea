namespace Sinapse.Training;

/// <summary>The outcome of <see cref="Restarts.Run"/>: every run's score and the best run.</summary>
public sealed record RestartResult(int BestRun, Trainer Best, History BestHistory, IReadOnlyList<double> Scores);

/// <summary>
/// Restarts, as the course suggests against bad initialisations: train from several random
/// initialisations and keep the best run.
/// </summary>
public static class Restarts
{
    /// <param name="runs">How many initialisations to try.</param>
    /// <param name="createTrainer">Builds a fresh model, loss and optimizer for run i (seed the model's Rng with i).</param>
    /// <param name="fit">Trains it, returning its history.</param>
    /// <param name="score">Higher is better, e.g. the validation accuracy of the last epoch.</param>
    public static RestartResult Run(int runs, Func<int, Trainer> createTrainer, Func<Trainer, History> fit, Func<Trainer, History, double> score)
    {
        if (runs < 1) throw new ArgumentOutOfRangeException(nameof(runs), runs, "At least one run is needed.");
        var scores = new List<double>();
        (int Run, Trainer Trainer, History History)? best = null;
        for (int run = 0; run < runs; run++)
        {
            var trainer = createTrainer(run);
            var history = fit(trainer);
            double value = score(trainer, history);
            scores.Add(value);
            // A NaN score never wins: NaN > x is false.
            if (best == null || value > scores[best.Value.Run]) best = (run, trainer, history);
        }
        return new RestartResult(best!.Value.Run, best.Value.Trainer, best.Value.History, scores);
    }
}
