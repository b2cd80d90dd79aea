using System.Globalization;
using System.Text.Json;
using Sinapse.Ops;
using Sinapse.Tensors;

namespace Sinapse.Tests.Support;

/// <summary>
/// Runs loss fixture cases (tools/make_fixtures.py's losses, tools/make_loss_option_fixtures.py's
/// families): for each reduction, the loss and its input gradient against PyTorch's, NaN exactly
/// where PyTorch's is NaN, everything else within 1e-5 relative (of the value, or of 1% of the
/// largest value for values near zero, as <see cref="Expect.Close(ReadOnlySpan{float}, ReadOnlySpan{float}, double, string)"/>).
/// </summary>
internal static class LossFixture
{
    public const string Options = "loss_options.json";
    const double Relative = 1e-5;

    /// <summary>The cases of <paramref name="family"/> in loss_options.json (see <see cref="Run(string, Func{JsonElement, bool}, Func{JsonElement, Tensor, Tensor, Reduction, Tensor})"/>).</summary>
    public static (int Cases, double WorstError, string WorstAt) Run(string family, Func<JsonElement, Tensor, Tensor, Reduction, Tensor> loss) =>
        Run(Options, c => c.GetProperty("family").GetString() == family, loss);

    /// <summary>The number of cases of <paramref name="file"/> that <paramref name="selects"/>, the worst relative error among them and where it was.</summary>
    public static (int Cases, double WorstError, string WorstAt) Run(string file, Func<JsonElement, bool> selects, Func<JsonElement, Tensor, Tensor, Reduction, Tensor> loss)
    {
        int count = 0;
        double worst = 0;
        string worstAt = "";
        void Track((double Error, string At) deviation)
        {
            if (deviation.Error > worst) (worst, worstAt) = deviation;
        }
        foreach (var c in Fixture.Cases(file).Where(selects))
        {
            string kind = (c.TryGetProperty("family", out var family) ? family : c.GetProperty("name")).GetString()!;
            string name = $"{kind} case {count} {c.GetProperty("parameters")} input {string.Join("x", c.Ints("input_shape"))}";
            var target = Build(c.ExactFloats("target"), c.Ints("target_shape"));
            foreach (var (reduction, key) in new[] { (Reduction.Mean, "mean"), (Reduction.Sum, "sum"), (Reduction.None, "none") })
            {
                var expected = c.GetProperty(key);
                var x = Build(c.ExactFloats("input"), c.Ints("input_shape"));
                x.RequiresGrad = true;
                var value = loss(c, x, target, reduction);
                if (reduction == Reduction.None)
                {
                    Track(Deviation(expected.ExactFloats("value"), value.Span, $"{name} {key} value"));
                    value.Backward(Build(expected.ExactFloats("upstream"), value.Shape.ToArray()));
                }
                else
                {
                    Track(Deviation([Scalar(expected.GetProperty("value"))], [value.Item()], $"{name} {key} value"));
                    value.Backward();
                }
                // An input with no elements has no gradient to compare.
                if (x.Length > 0) Track(Deviation(expected.ExactFloats("grad"), x.Grad!.Span, $"{name} {key} grad"));
            }
            count++;
        }
        return (count, worst, worstAt);
    }

    /// <summary>The case's optional tensor <paramref name="name"/> (a weight), null when it has none.</summary>
    public static Tensor? Optional(JsonElement c, string name) =>
        c.TryGetProperty(name, out _) ? Build(c.ExactFloats(name), c.Ints(name + "_shape")) : null;

    /// <summary>A tensor of <paramref name="shape"/>, the scalar shape [] included.</summary>
    static Tensor Build(float[] values, int[] shape) => shape.Length == 0 ? Tensor.Scalar(values[0]) : Tensor.FromArray(values, shape);

    static float Scalar(JsonElement value) => value.ValueKind == JsonValueKind.String ? float.Parse(value.GetString()!, CultureInfo.InvariantCulture) : (float)value.GetDouble();

    /// <summary>Asserts the values match and returns the largest |actual − expected| / max(|expected|, 0.01·scale) and where it is.</summary>
    static (double Error, string At) Deviation(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: expected {expected.Length} values, got {actual.Length}.");
        double scale = 0, worst = 0;
        string at = what;
        foreach (var e in expected) if (!float.IsNaN(e)) scale = Math.Max(scale, Math.Abs(e));
        for (int i = 0; i < expected.Length; i++)
        {
            if (float.IsNaN(expected[i]))
            {
                Assert.True(float.IsNaN(actual[i]), $"{what}[{i}]: expected NaN, got {actual[i]:G9}.");
                continue;
            }
            double error = Math.Abs((double)expected[i] - actual[i]) / Math.Max(Math.Max(Math.Abs(expected[i]), 0.01 * scale), 1e-30);
            Assert.True(error <= Relative, $"{what}[{i}]: expected {expected[i]:G9}, got {actual[i]:G9} (relative error {error:G3}).");
            if (error > worst) (worst, at) = (error, $"{what}[{i}] (expected {expected[i]:G9}, got {actual[i]:G9})");
        }
        return (worst, at);
    }
}
