namespace Sinapse.Training;

/// <summary>Classification metrics on a batch of outputs [N, C].</summary>
public static class Metrics
{
    /// <summary>
    /// How many rows' largest output matches the target: a label [N] or the largest entry of a
    /// one-hot row [N, C]. Null when the targets are not classes (regression, autoencoders).
    /// </summary>
    public static int? CountCorrect(Tensor output, Tensor targets)
    {
        if (output.Rank != 2 || output.Shape[1] < 2) return null;
        int rows = output.Shape[0], classes = output.Shape[1];
        bool labels = targets.Rank == 1 && targets.Length == rows;
        if (!labels && targets.Shape != output.Shape) return null;
        var y = output.Span;
        var t = targets.Span;
        // [N, C] targets are classes when each row is a distribution (one-hot or soft labels);
        // an autoencoder's pixels or a multi-output regression have no class to match.
        if (!labels)
            for (int r = 0; r < rows; r++)
            {
                var row = t.Slice(r * classes, classes);
                if (!(System.Numerics.Tensors.TensorPrimitives.Min(row) >= 0 && Math.Abs(System.Numerics.Tensors.TensorPrimitives.Sum(row) - 1f) <= 1e-3f)) return null;
            }
        int correct = 0;
        for (int r = 0; r < rows; r++)
        {
            int predicted = ArgMax(y.Slice(r * classes, classes));
            int actual = labels ? (int)t[r] : ArgMax(t.Slice(r * classes, classes));
            if (predicted == actual) correct++;
        }
        return correct;
    }

    /// <summary>The index of the largest value (the first one on ties).</summary>
    public static int ArgMax(ReadOnlySpan<float> values) => System.Numerics.Tensors.TensorPrimitives.IndexOfMax(values);
}
