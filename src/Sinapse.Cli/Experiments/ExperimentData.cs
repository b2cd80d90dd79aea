using Sinapse.Data;
using Sinapse.Training;

namespace Sinapse.Cli.Experiments;

/// <summary>Data and training helpers the experiments share.</summary>
internal static class ExperimentData
{
    /// <summary>
    /// MNIST (bundled, or from --data) as loaded (pixels 0..255), the first
    /// <paramref name="trainCount"/>/<paramref name="testCount"/> examples of each part (null: all).
    /// </summary>
    public static (Dataset Train, Dataset Test) Mnist(ExperimentOptions options, int? trainCount = null, int? testCount = null)
    {
        var (train, test) = options.Data is { } directory ? Sinapse.Data.Mnist.Load(directory) : Sinapse.Data.Mnist.LoadBundled();
        return (First(train, trainCount), First(test, testCount));
    }

    /// <summary>As <see cref="Mnist"/>, scaled to [0, 1] (X/255), the course's input normalisation.</summary>
    public static (Dataset Train, Dataset Test) ScaledMnist(ExperimentOptions options, int? trainCount = null, int? testCount = null)
    {
        var (train, test) = Mnist(options, trainCount, testCount);
        var scale = InputTransform.Scale(1f / 255f);
        return (scale.Apply(train), scale.Apply(test));
    }

    public static Dataset First(Dataset data, int? count) =>
        count is int n && n < data.Count ? data.Subset(Enumerable.Range(0, n).ToArray()) : data;

    /// <summary>Trains; a run that produces NaN/Inf stops with the trainer's explanation instead of an exception.</summary>
    public static (History History, string? Divergence) TryFit(Trainer trainer, DataLoader loader, int epochs, Dataset? validation = null)
    {
        try
        {
            return (trainer.Fit(loader, epochs, validation), null);
        }
        catch (TrainingDivergedException e)
        {
            return (trainer.History, e.Message);
        }
    }

    /// <summary>A moving average over <paramref name="window"/> points, for readable per-iteration loss curves.</summary>
    public static double[] Smooth(IReadOnlyList<float> values, int window)
    {
        var result = new double[values.Count];
        double sum = 0;
        for (int i = 0; i < values.Count; i++)
        {
            sum += values[i];
            if (i >= window) sum -= values[i - window];
            result[i] = sum / Math.Min(i + 1, window);
        }
        return result;
    }

    public static double[] Steps(int count) => Enumerable.Range(1, count).Select(i => (double)i).ToArray();
}
