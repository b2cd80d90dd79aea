using System.Text.Json;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

/// <summary>
/// Linear, Conv2d and Conv1d under <c>MixedPrecision.Autocast(Precision.BFloat16)</c> against
/// torch.autocast("cpu", dtype=torch.bfloat16) in PyTorch 1.13 (Fixtures/autocast.json, written by
/// tools/make_precision_fixtures.py): output and input, weight and bias gradients. torch 1.13's CPU
/// autocast runs no float16 and keeps conv_transpose in float32, so neither has a PyTorch reference;
/// <see cref="WeightedTests"/> covers them against our own float32 ops on rounded values.
/// </summary>
public class WeightedFixtureTests
{
    private static readonly string[] Results = ["output", "grad_input", "grad_weight", "grad_bias"];

    public static TheoryData<string> Cases => new(Fixture.Cases("autocast.json").Select(c => c.GetProperty("name").GetString()!));

    /// <summary>The case run in Sinapse: (result name, PyTorch's values, ours) for each of <see cref="Results"/> the case has.</summary>
    private static IEnumerable<(string Result, float[] Expected, float[] Actual)> Run(JsonElement c)
    {
        var parameters = c.GetProperty("parameters");
        int Int(string name, int fallback) => parameters.TryGetProperty(name, out var value) ? value.GetInt32() : fallback;
        var x = Tensor.FromArray(c.Floats("input"), c.Ints("input_shape"));
        var w = Tensor.FromArray(c.Floats("weight"), c.Ints("weight_shape"));
        var b = c.TryGetProperty("bias", out _) ? Tensor.FromArray(c.Floats("bias")) : null;
        foreach (var t in new[] { x, w, b }) if (t != null) t.RequiresGrad = true;
        int stride = Int("stride", 1), padding = Int("padding", 0), groups = Int("groups", 1);

        Tensor y;
        using (MixedPrecision.Autocast(Precision.BFloat16))
            y = c.GetProperty("op").GetString() switch
            {
                "linear" => F.Linear(x, w, b),
                "conv2d" => F.Conv2d(x, w, b, stride, padding, groups: groups),
                "conv1d" => F.Conv1d(x, w, b, stride, padding, groups: groups),
                var op => throw new InvalidDataException($"autocast.json: unknown op '{op}'."),
            };
        Assert.Equal(new Shape(c.Ints("output_shape")), y.Shape);
        y.Backward(Tensor.FromArray(c.Floats("upstream"), y.Shape.ToArray()));

        float[]?[] actual = [y.ToArray(), x.Grad!.ToArray(), w.Grad!.ToArray(), b?.Grad!.ToArray()];
        for (int i = 0; i < Results.Length; i++)
            if (actual[i] != null) yield return (Results[i], c.Floats(Results[i]), actual[i]!);
    }

    /// <summary>One bfloat16 unit in the last place (8 significant bits) at the magnitude of <paramref name="value"/>.</summary>
    private static float BFloat16Ulp(float value) => value == 0f ? 0f : MathF.ScaleB(1f, MathF.ILogB(value) - 7);

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorchWithinOneBFloat16Ulp(string name)
    {
        // Both sides accumulate in float32 and round once to bfloat16, but in different orders (oneDNN's
        // blocking against our GEMM's), so a sum that lands near a rounding boundary can round to the
        // neighbouring bfloat16: one unit of the larger magnitude apart, never more.
        foreach (var (result, expected, actual) in Run(Fixture.Case("autocast.json", name)))
        {
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
            {
                float ulp = BFloat16Ulp(Math.Max(Math.Abs(expected[i]), Math.Abs(actual[i])));
                Assert.True(Math.Abs(expected[i] - actual[i]) <= ulp,
                    $"{name} {result}[{i}]: PyTorch {expected[i]:R}, Sinapse {actual[i]:R}, more than one bfloat16 ulp ({ulp:R}) apart.");
            }
        }
    }

    [Fact]
    public void MostValuesAreExactlyPyTorchs()
    {
        // One-ulp differences must stay the rare rounding-boundary cases: a systematic difference
        // (a float32 bias, a gradient left unrounded) would move most values and fail here.
        var all = Fixture.Cases("autocast.json").SelectMany(Run).ToList();
        foreach (var result in Results)
        {
            var pairs = all.Where(r => r.Result == result).SelectMany(r => r.Expected.Zip(r.Actual)).ToList();
            double equal = pairs.Count(p => p.First == p.Second) / (double)pairs.Count;
            Assert.True(equal >= 0.95, $"{result}: only {equal:P1} of {pairs.Count} values equal PyTorch's exactly.");
        }
    }
}
