using System.Numerics.Tensors;

namespace Sinapse.Autograd;

/// <summary>Which pass of a training step produced a value.</summary>
public enum Pass { Forward, Backward }

/// <summary>A NaN or infinity, located: the layer (its module path and description), the op, and the pass.</summary>
public sealed class NonFiniteValueException(Pass pass, string layer, string op, string detail)
    : ArithmeticException($"A non-finite value ({detail}) first appeared in the {pass.ToString().ToLowerInvariant()} pass of layer {layer}, op {op}.")
{
    public Pass Pass { get; } = pass;
    public string Layer { get; } = layer;
    public string Op { get; } = op;
}

/// <summary>
/// Like torch.autograd.detect_anomaly: while enabled, every layer's output and every gradient an
/// op writes are checked, and the first NaN or infinity stops the step with a
/// <see cref="NonFiniteValueException"/> naming where it arose. Off by default because the checks
/// read every value again; the Trainer turns it on only to replay a step that went wrong.
/// </summary>
public static class AnomalyDetection
{
    [ThreadStatic] private static bool enabled;
    [ThreadStatic] private static string? currentLayer;

    public static bool Enabled => enabled;

    public static Restore Enable()
    {
        var previous = enabled;
        enabled = true;
        return new Restore(previous);
    }

    public readonly struct Restore(bool previous) : IDisposable
    {
        public void Dispose() => enabled = previous;
    }

    /// <summary>The layer whose forward pass is running on this thread (for attributing the ops it records).</summary>
    internal static string? CurrentLayer
    {
        get => currentLayer;
        set => currentLayer = value;
    }

    internal static void Check(Tensor tensor, Pass pass, string? layer, string op)
    {
        var values = tensor.Span;
        if (TensorPrimitives.IsFiniteAll(values)) return;
        int nan = 0, infinite = 0;
        foreach (var v in values)
        {
            if (float.IsNaN(v)) nan++;
            else if (float.IsInfinity(v)) infinite++;
        }
        var detail = $"{(nan > 0 ? $"{nan} NaN" : "")}{(nan > 0 && infinite > 0 ? ", " : "")}{(infinite > 0 ? $"{infinite} infinite" : "")} of {values.Length} values in a tensor {tensor.Shape}";
        throw new NonFiniteValueException(pass, layer ?? "(outside any layer)", op, detail);
    }
}
