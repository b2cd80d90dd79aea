using System.Globalization;
using System.Text.Json;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

/// <summary>
/// Every reduction against PyTorch 1.13 (Fixtures/reductions.json, written by
/// tools/make_reduction_fixtures.py): values, indices and input gradients, NaN, ties, infinities
/// and empty dims included, and PyTorch's refusals as ArgumentExceptions.
/// </summary>
public class ReductionsTests
{
    const string File = "reductions.json";

    public static TheoryData<string> FixtureCases()
    {
        var labels = new TheoryData<string>();
        foreach (var c in Fixture.Cases(File)) labels.Add(Label(c));
        return labels;
    }

    [Fact]
    public void TheFixtureCoversEveryReduction()
    {
        var cases = Fixture.Cases(File).ToList();
        Assert.Equal(cases.Count, cases.Select(Label).Distinct().Count());
        var ops = cases.Select(c => c.GetProperty("op").GetString()).ToHashSet();
        Assert.Equal(["amax", "amin", "argmax", "argmin", "logsumexp", "max", "min", "norm", "std", "var"], ops.Order());
    }

    [Theory]
    [MemberData(nameof(FixtureCases))]
    public void MatchesPyTorch(string label)
    {
        var c = Fixture.Cases(File).Single(c => Label(c) == label);
        var x = Tensor.FromArray(Values(c, "input")).ReshapedTo(c.Ints("shape"));
        if (c.TryGetProperty("raises", out _))
        {
            // PyTorch raises (its message is in the fixture); Sinapse names the op and the shape.
            var error = Assert.Throws<ArgumentException>(() => Apply(c, x));
            var op = c.GetProperty("op").GetString()!;
            Assert.StartsWith(char.ToUpperInvariant(op[0]) + op[1..] + ":", error.Message);
            Assert.Contains(x.Shape.ToString(), error.Message);
            return;
        }
        x.RequiresGrad = true;
        var (y, indices) = Apply(c, x);
        var shape = new Shape(c.Ints("output_shape"));
        if (indices != null)
        {
            Assert.Equal(shape, indices.Shape);
            Assert.Equal(c.Ints("indices").Select(i => (float)i).ToArray(), indices.ToArray());
            Assert.False(indices.RequiresGrad);
        }
        if (y == null) return;
        Assert.Equal(shape, y.Shape);
        Matches(Values(c, "output"), y.ToArray(), $"{label} output");
        y.Backward(Tensor.FromArray(Values(c, "upstream")).ReshapedTo(shape.ToArray()));
        Matches(Values(c, "grad_input"), x.Grad!.ToArray(), $"{label} input gradient");
    }

    static string Label(JsonElement c) => $"{c.GetProperty("op").GetString()} {c.GetProperty("name").GetString()}";

    static (Tensor? Values, Tensor? Indices) Apply(JsonElement c, Tensor x)
    {
        var p = c.GetProperty("parameters");
        bool keepDim = p.TryGetProperty("keepdim", out var k) && k.GetBoolean();
        int? dim = p.TryGetProperty("dim", out var d) ? d.GetInt32() : null;
        int[]? dims = p.TryGetProperty("dims", out var ds) && ds.ValueKind == JsonValueKind.Array ? ds.EnumerateArray().Select(a => a.GetInt32()).ToArray() : null;
        bool unbiased = !p.TryGetProperty("unbiased", out var u) || u.GetBoolean();
        int? correction = p.TryGetProperty("correction", out var cr) ? cr.GetInt32() : null;
        switch (c.GetProperty("op").GetString())
        {
            case "max": return dim is int maxDim ? F.Max(x, maxDim, keepDim) : (F.Max(x), null);
            case "min": return dim is int minDim ? F.Min(x, minDim, keepDim) : (F.Min(x), null);
            case "amax": return (F.Amax(x, dims!, keepDim), null);
            case "amin": return (F.Amin(x, dims!, keepDim), null);
            case "argmax": return (null, dim is int argmaxDim ? F.Argmax(x, argmaxDim, keepDim) : F.Argmax(x));
            case "argmin": return (null, dim is int argminDim ? F.Argmin(x, argminDim, keepDim) : F.Argmin(x));
            case "var": return (correction is int varCorrection ? F.Var(x, dims!, varCorrection, keepDim) : dims == null ? F.Var(x, unbiased) : F.Var(x, dims, unbiased, keepDim), null);
            case "std": return (correction is int stdCorrection ? F.Std(x, dims!, stdCorrection, keepDim) : dims == null ? F.Std(x, unbiased) : F.Std(x, dims, unbiased, keepDim), null);
            case "logsumexp": return (F.LogSumExp(x, dims!, keepDim), null);
            case "norm":
                float order = p.GetProperty("p").ValueKind == JsonValueKind.String ? float.Parse(p.GetProperty("p").GetString()!, CultureInfo.InvariantCulture) : p.GetProperty("p").GetSingle();
                return (F.Norm(x, order, dims, keepDim), null);
            default: throw new InvalidOperationException($"Unknown op in {File}: {c.GetProperty("op")}.");
        }
    }

    /// <summary>A fixture array; NaN and ±∞ are written as the strings "NaN", "Infinity", "-Infinity" (JSON has no such numbers).</summary>
    static float[] Values(JsonElement c, string property) => c.GetProperty(property).EnumerateArray()
        .Select(v => v.ValueKind == JsonValueKind.String ? float.Parse(v.GetString()!, CultureInfo.InvariantCulture) : (float)v.GetDouble()).ToArray();

    /// <summary>NaN and ±∞ exactly where PyTorch has them; the finite values within 1e-5 relative.</summary>
    static void Matches(float[] expected, float[] actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: expected {expected.Length} values, got {actual.Length}.");
        var finite = new List<int>();
        for (int i = 0; i < expected.Length; i++)
        {
            if (float.IsFinite(expected[i])) finite.Add(i);
            else Assert.True(expected[i].Equals(actual[i]), $"{what}[{i}]: expected {expected[i]}, got {actual[i]}.");
        }
        Expect.Close(finite.Select(i => expected[i]).ToArray(), finite.Select(i => actual[i]).ToArray(), 1e-5, what);
    }
}
