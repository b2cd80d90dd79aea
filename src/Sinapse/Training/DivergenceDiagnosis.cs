using System.Globalization;
using Sinapse.Autograd;
using Sinapse.Layers;
using Sinapse.Losses;
using Sinapse.Tensors;

namespace Sinapse.Training;

/// <summary>
/// Says why a training step produced a NaN or infinity. It keeps the gradient norms of the last
/// updates (exploding or vanishing?) and, before every step, the state that step starts from
/// beyond the weights: each generator the model's <see cref="IStochastic"/> layers draw from and
/// every buffer (batch norm's running statistics). On a failure it puts that state back and replays
/// the step with anomaly detection on, so the replay draws the same dropout masks and sees the
/// same statistics, and names the first layer and pass that produced a non-finite value.
/// </summary>
internal sealed class DivergenceDiagnosis
{
    private readonly float[] recentNorms = new float[8];
    private long updates;
    private Module? watched;
    private Rng[] generators = [];
    private RngState[] generatorStates = [];
    private Tensor[] buffers = [];
    private float[][] bufferValues = [];

    /// <summary>Remembers the state the step about to run starts from.</summary>
    public void BeginStep(Module model)
    {
        if (!ReferenceEquals(model, watched)) Watch(model);
        for (int i = 0; i < generators.Length; i++) generatorStates[i] = generators[i].StateDict();
        for (int i = 0; i < buffers.Length; i++) buffers[i].Span.CopyTo(bufferValues[i]);
    }

    /// <summary>Records a successful update's gradient norm.</summary>
    public void Updated(double gradientNorm) => recentNorms[updates++ % recentNorms.Length] = (float)gradientNorm;

    private void Watch(Module model)
    {
        watched = model;
        var modules = model.NamedModules().Select(m => m.Module).ToList();
        generators = [.. modules.OfType<IStochastic>().Select(s => s.Rng).Distinct(ReferenceEqualityComparer.Instance).Cast<Rng>()];
        generatorStates = new RngState[generators.Length];
        buffers = [.. model.NamedBuffers().Select(b => b.Tensor)];
        bufferValues = [.. buffers.Select(b => new float[b.Length])];
    }

    /// <summary>
    /// Replays the failed step (the weights are still those it started from) from the state
    /// <see cref="BeginStep"/> kept, and returns the exception to throw, with where and why.
    /// </summary>
    public TrainingDivergedException Diagnose(Module model, Loss loss, Precision precision, Tensor features, Tensor targets,
        float lossValue, double gradientNorm, string position)
    {
        for (int i = 0; i < generators.Length; i++) generators[i].LoadStateDict(generatorStates[i]);
        for (int i = 0; i < buffers.Length; i++) bufferValues[i].CopyTo(buffers[i].Span);
        string where;
        try
        {
            using var detection = AnomalyDetection.Enable();
            using var replay = TensorScope.Begin();
            using var autocast = MixedPrecision.Autocast(precision);
            model.ZeroGrad();
            loss.Forward(model.Call(features), targets).Backward();
            where = double.IsFinite(gradientNorm)
                ? $"Every value is finite, but the gradient norm, {gradientNorm:E2}, is beyond float's range: an update would overflow the weights."
                : "The replay with anomaly detection found no non-finite value (a nondeterministic op?).";
        }
        catch (NonFiniteValueException located)
        {
            where = located.Message;
        }
        catch (ArithmeticException other)
        {
            where = other.Message;
        }
        int count = (int)Math.Min(updates, recentNorms.Length);
        var norms = Enumerable.Range(0, count).Select(i => recentNorms[(updates - count + i) % recentNorms.Length]).ToArray();
        string trend = count == 0 ? "no update had succeeded yet"
            : norms[^1] > 1e6f || (count > 1 && norms[^1] > 1e3f * norms[0]) ? "the gradients were exploding"
            : norms[^1] < 1e-20f ? "the gradients had vanished (values underflowed)"
            : "the gradient norms were moderate: look for NaN in the inputs or an op undefined at its argument (log of 0, division by 0)";
        string recent = count == 0 ? "" : $" (‖∇‖ over the last {count} updates: {string.Join(", ", norms.Select(n => n.ToString("0.###E+0", CultureInfo.InvariantCulture)))})";
        return new TrainingDivergedException(
            $"Training diverged{position}: the loss is {lossValue}. {where} Before it, {trend}{recent}. Lower the learning rate, normalise the inputs, or clip gradients.");
    }
}
