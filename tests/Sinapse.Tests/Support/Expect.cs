using Sinapse.Autograd;
using Sinapse.Tensors;

namespace Sinapse.Tests.Support;

/// <summary>Numeric assertions shared by the op, loss and optimizer tests.</summary>
public static class Expect
{
    /// <summary>
    /// Every element within <paramref name="relative"/> of the reference. Elements far smaller than
    /// the array's largest are compared against 1% of that largest magnitude instead, since float32
    /// cancellation leaves them an absolute, not a relative, error.
    /// </summary>
    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double relative = 1e-5, string what = "")
    {
        Assert.True(expected.Length == actual.Length, $"{what}: expected {expected.Length} values, got {actual.Length}.");
        double scale = 0;
        foreach (var e in expected) scale = Math.Max(scale, Math.Abs(e));
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = relative * Math.Max(Math.Abs(expected[i]), 0.01 * scale) + 1e-30;
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance,
                $"{what}[{i}]: expected {expected[i]:G9}, got {actual[i]:G9} (difference {Math.Abs(expected[i] - actual[i]):G3}, tolerance {tolerance:G3}).");
        }
    }

    public static void Close(float expected, float actual, double relative = 1e-5, string what = "")
    {
        double tolerance = relative * Math.Max(Math.Abs(expected), 1e-30);
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"{what}: expected {expected:G9}, got {actual:G9}.");
    }

    /// <summary>Backpropagation agrees with central finite differences for every input element.</summary>
    public static void GradientsMatch(Func<Tensor[], Tensor> function, params Tensor[] inputs) =>
        GradientsMatch(function, inputs, 1e-2);

    public static void GradientsMatch(Func<Tensor[], Tensor> function, Tensor[] inputs, double epsilon)
    {
        var result = GradCheck.Check(function, inputs, epsilon);
        Assert.True(result.Passed, result.ToString());
    }

    /// <summary>Values in [low, high], pushed at least <paramref name="margin"/> away from each kink, from a fixed seed.</summary>
    public static Tensor AwayFromKinks(int[] shape, float low, float high, float[] kinks, float margin = 0.15f, ulong seed = 5)
    {
        var t = Tensor.Uniform(new Shape(shape), low, high, new Rng(seed));
        var values = t.Span;
        for (int i = 0; i < values.Length; i++)
            foreach (var kink in kinks)
                if (MathF.Abs(values[i] - kink) < margin) values[i] = kink + (values[i] >= kink ? margin : -margin);
        return t;
    }

    public static Tensor Random(params int[] shape) => Random(shape, 11);

    public static Tensor Random(int[] shape, ulong seed, float low = -2f, float high = 2f) =>
        Tensor.Uniform(new Shape(shape), low, high, new Rng(seed));

    /// <summary>A random tensor that requires a gradient, as a trainable parameter does.</summary>
    public static Tensor Parameter(int[] shape, ulong seed)
    {
        var p = Random(shape, seed);
        p.RequiresGrad = true;
        return p;
    }
}
