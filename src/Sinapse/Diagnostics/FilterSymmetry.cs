using Sinapse.Layers;

namespace Sinapse.Diagnostics;

/// <summary>
/// Whether a convolution's filters are still copies of one another (the symmetry problem: filters
/// that start identical receive identical gradients and never come apart).
/// </summary>
public static class FilterSymmetry
{
    /// <summary>The largest difference, over every pair of filters and every tap, between two filters of a convolution: 0 when all are identical.</summary>
    public static float LargestDifference(Conv2d convolution)
    {
        int size = convolution.Weight.Length / convolution.OutChannels;
        var weights = convolution.Weight.Span;
        float largest = 0;
        for (int a = 0; a < convolution.OutChannels; a++)
            for (int b = a + 1; b < convolution.OutChannels; b++)
                for (int i = 0; i < size; i++) largest = Math.Max(largest, Math.Abs(weights[a * size + i] - weights[b * size + i]));
        return largest;
    }
}
