using Sinapse.Tensors;

namespace Sinapse.Autograd;

/// <summary>The outcome of a gradient check: the worst disagreement between backpropagation and finite differences.</summary>
public sealed record GradCheckResult(bool Passed, double MaxAbsoluteError, double MaxRelativeError, string Worst)
{
    public override string ToString() => Passed ? $"passed (max error {MaxAbsoluteError:G3})" : $"FAILED at {Worst}";
}

/// <summary>
/// Checks an op's backward pass against central finite differences,
/// ∂L/∂x ≈ (L(x + ε) − L(x − ε)) / 2ε, with L = Σ wᵢ·yᵢ for fixed random weights w so that every
/// output element takes part. Float32 rounding limits the agreement to about 1e-3 relative.
/// </summary>
public static class GradCheck
{
    public static GradCheckResult Check(Func<Tensor[], Tensor> function, Tensor[] inputs, double epsilon = 1e-2, double absoluteTolerance = 1e-3, double relativeTolerance = 1e-2, ulong seed = 1)
    {
        var rng = new Rng(seed);
        foreach (var input in inputs) { input.RequiresGrad = true; input.Grad = null; }
        var output = function(inputs);
        var weights = Tensor.Uniform(output.Shape, -1f, 1f, rng);
        output.Backward(weights);

        double maxAbsolute = 0, maxRelative = 0;
        string worst = "";
        bool passed = true;
        for (int n = 0; n < inputs.Length; n++)
        {
            var input = inputs[n];
            var analytic = input.Grad?.ToArray() ?? new float[input.Length];
            var values = input.Span;
            for (int i = 0; i < input.Length; i++)
            {
                float original = values[i];
                values[i] = (float)(original + epsilon);
                double plus = WeightedSum(function, inputs, weights);
                values[i] = (float)(original - epsilon);
                double minus = WeightedSum(function, inputs, weights);
                values[i] = original;
                double numeric = (plus - minus) / (2 * epsilon);
                double error = Math.Abs(numeric - analytic[i]);
                double relative = error / Math.Max(Math.Abs(numeric), 1e-12);
                if (error > maxAbsolute) { maxAbsolute = error; maxRelative = relative; }
                // Written so that NaN fails: a NaN gradient compares false with every tolerance. Where both
                // sides are NaN (a function undefined there) they agree.
                bool bothNaN = double.IsNaN(numeric) && double.IsNaN(analytic[i]);
                if (!bothNaN && !(error <= absoluteTolerance + relativeTolerance * Math.Abs(numeric)))
                {
                    if (passed) worst = $"input {n} element {i}: backward {analytic[i]:G6}, finite difference {numeric:G6}";
                    passed = false;
                }
            }
        }
        return new GradCheckResult(passed, maxAbsolute, maxRelative, worst);
    }

    private static double WeightedSum(Func<Tensor[], Tensor> function, Tensor[] inputs, Tensor weights)
    {
        using var noGrad = GradMode.NoGrad();
        var y = function(inputs).Span;
        var w = weights.Span;
        double sum = 0;
        for (int i = 0; i < y.Length; i++) sum += (double)w[i] * y[i];
        return sum;
    }
}
