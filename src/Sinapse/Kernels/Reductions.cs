using System.Numerics.Tensors;

namespace Sinapse.Kernels;

/// <summary>Reductions the backward passes need, in a fixed order so results are reproducible.</summary>
public static class Reductions
{
    /// <summary>sums[j] = beta·sums[j] + Σ_r values[r, j]: the gradient of a bias broadcast over rows.</summary>
    public static void SumRows(ReadOnlySpan<float> values, int rows, int columns, Span<float> sums, float beta)
    {
        if (beta == 0f) sums[..columns].Clear();
        for (int r = 0; r < rows; r++) TensorPrimitives.Add(sums[..columns], values.Slice(r * columns, columns), sums[..columns]);
    }
}
