using Sinapse.Autograd;
using Sinapse.Ops;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

/// <summary>Linear, convolution and transposed convolution under <see cref="MixedPrecision.Autocast"/>.</summary>
public class WeightedTests
{
    /// <summary>A weighted op with its inputs: (name, shapes of input, weight, bias, function).</summary>
    public static TheoryData<string> Ops => ["linear", "conv2d", "conv2d strided grouped", "depthwise", "conv1d", "conv transpose"];

    private static (int[] Input, int[] Weight, int Bias, Func<Tensor, Tensor, Tensor, Tensor> Op) Case(string name) => name switch
    {
        "linear" => ([5, 7], [4, 7], 4, (x, w, b) => F.Linear(x, w, b)),
        "conv2d" => ([2, 3, 6, 6], [4, 3, 3, 3], 4, (x, w, b) => F.Conv2d(x, w, b, padding: 1)),
        "conv2d strided grouped" => ([2, 4, 7, 7], [6, 2, 3, 3], 6, (x, w, b) => F.Conv2d(x, w, b, stride: 2, padding: 1, groups: 2)),
        "depthwise" => ([2, 4, 6, 6], [4, 1, 3, 3], 4, (x, w, b) => F.Conv2d(x, w, b, padding: 1, groups: 4)),
        "conv1d" => ([2, 3, 9], [5, 3, 3], 5, (x, w, b) => F.Conv1d(x, w, b, stride: 2)),
        "conv transpose" => ([2, 3, 4, 4], [3, 2, 3, 3], 2, (x, w, b) => F.ConvTranspose2d(x, w, b, stride: 2, padding: 1, outputPadding: 1)),
        _ => throw new ArgumentException(name),
    };

    private static Tensor Rounded(Tensor t, Precision precision)
    {
        var copy = Tensor.FromArray(t.ToArray(), t.Shape.ToArray());
        if (precision != Precision.Float32) MixedPrecision.Round(precision, copy.Span);
        return copy;
    }

    private static (Tensor X, Tensor W, Tensor B, Tensor Seed) Inputs(string name)
    {
        var (input, weight, bias, _) = Case(name);
        var x = Expect.Parameter(input, 1);
        var w = Expect.Parameter(weight, 2);
        var b = Expect.Parameter([bias], 3);
        return (x, w, b, Expect.Random([.. Case(name).Op(x.Detach(), w.Detach(), b.Detach()).Shape.ToArray()], 4));
    }

    /// <summary>The op run under autocast: its output and the gradients of input, weight and bias for the seed.</summary>
    private static float[][] Autocast(string name, Precision precision)
    {
        var (x, w, b, seed) = Inputs(name);
        Tensor y;
        using (MixedPrecision.Autocast(precision)) y = Case(name).Op(x, w, b);
        y.Backward(seed);
        return [y.ToArray(), x.Grad!.ToArray(), w.Grad!.ToArray(), b.Grad!.ToArray()];
    }

    [Theory]
    [MemberData(nameof(Ops))]
    public void AutocastEqualsFloat32OnExplicitlyRoundedValues(string name)
    {
        foreach (var precision in new[] { Precision.BFloat16, Precision.Float16 })
        {
            // The reference: the float32 op on 16-bit values, its output and gradients rounded, the incoming gradient too.
            var (x, w, b, seed) = Inputs(name);
            var (xr, wr, br) = (Rounded(x, precision), Rounded(w, precision), Rounded(b, precision));
            foreach (var t in new[] { xr, wr, br }) t.RequiresGrad = true;
            var y = Case(name).Op(xr, wr, br);
            y.Backward(Rounded(seed, precision));
            float[][] expected = [Rounded(y, precision).ToArray(), Rounded(xr.Grad!, precision).ToArray(), Rounded(wr.Grad!, precision).ToArray(), Rounded(br.Grad!, precision).ToArray()];

            var actual = Autocast(name, precision);
            string[] what = ["output", "input gradient", "weight gradient", "bias gradient"];
            for (int i = 0; i < expected.Length; i++) Assert.True(expected[i].SequenceEqual(actual[i]), $"{name} {precision}: {what[i]} differs from the rounded reference.");
        }
    }

    [Theory]
    [MemberData(nameof(Ops))]
    public void AutocastStaysWithinSixteenBitToleranceOfFloat32(string name)
    {
        var exact = Autocast(name, Precision.Float32);
        // Cancellation in the sums leaves an error relative to the largest magnitudes, not to each value: a few units of the format's rounding (2^-9, 2^-12).
        foreach (var (precision, tolerance) in new[] { (Precision.BFloat16, 0.02), (Precision.Float16, 0.003) })
        {
            var approximate = Autocast(name, precision);
            for (int i = 0; i < exact.Length; i++)
            {
                double largest = exact[i].Max(MathF.Abs), error = exact[i].Zip(approximate[i], (e, a) => Math.Abs(e - a)).Max();
                Assert.True(error <= tolerance * largest, $"{name} {precision} result {i}: error {error:G3} against the largest value {largest:G3}.");
            }
            Assert.False(exact[0].SequenceEqual(approximate[0]), "16-bit rounding must show in the output.");
        }
    }

    [Theory]
    [MemberData(nameof(Ops))]
    public void AutocastGradientsMatchFloat32FiniteDifferences(string name)
    {
        var (x, w, b, _) = Inputs(name);
        var op = Case(name).Op;
        foreach (var precision in new[] { Precision.BFloat16, Precision.Float16 })
        {
            // Backpropagation runs under autocast; the finite differences (run without gradients) in float32.
            var result = GradCheck.Check(t =>
            {
                using var autocast = MixedPrecision.Autocast(GradMode.Enabled ? precision : Precision.Float32);
                return op(t[0], t[1], t[2]);
            }, [x, w, b], absoluteTolerance: 0.05, relativeTolerance: 0.03);
            Assert.True(result.Passed, $"{name} {precision}: {result}");
        }
    }

    [Fact]
    public void AWeightUsedTwiceAddsEachRoundedGradient()
    {
        var x1 = Expect.Random([3, 5], 1);
        var x2 = Expect.Random([3, 5], 2);
        var w = Expect.Parameter([2, 5], 3);
        var seed = Expect.Random([3, 2], 4);
        float[] Gradient(params Tensor[] inputs)
        {
            w.Grad = null;
            using (MixedPrecision.Autocast(Precision.Float16))
            {
                var y = F.Linear(inputs[0], w);
                for (int i = 1; i < inputs.Length; i++) y = F.Add(y, F.Linear(inputs[i], w));
                y.Backward(seed);
            }
            return w.Grad!.ToArray();
        }
        var separate = Gradient(x1).Zip(Gradient(x2), (a, c) => a + c).ToArray();
        Assert.Equal(separate, Gradient(x1, x2));
    }

    [Theory]
    [MemberData(nameof(Ops))]
    public void SavedActivationsTakeHalfTheBytes(string name)
    {
        var (x, w, b, _) = Inputs(name);
        using var scope = TensorScope.Begin();
        var full = Case(name).Op(x, w, b);
        Assert.Equal(x.Length * 4L, Tape.SavedBytes(full));
        foreach (var precision in new[] { Precision.BFloat16, Precision.Float16 })
        {
            Tensor y;
            using (MixedPrecision.Autocast(precision)) y = Case(name).Op(x, w, b);
            // The 16-bit copies of input and weight, whose ushort storage the op holds.
            Assert.Equal(x.Length * 2L + w.Length * 2L, Tape.SavedBytes(y));
        }
    }

    [Theory]
    [MemberData(nameof(Ops))]
    public void InferenceRoundsAsTrainingDoes(string name)
    {
        var (x, w, b, _) = Inputs(name);
        foreach (var precision in new[] { Precision.BFloat16, Precision.Float16 })
        {
            using var autocast = MixedPrecision.Autocast(precision);
            var recorded = Case(name).Op(x, w, b).ToArray();
            using var noGrad = Sinapse.Autograd.GradMode.NoGrad();
            Assert.Equal(recorded, Case(name).Op(x, w, b).ToArray());
        }
    }

    [Fact]
    public void WithoutGradientsNothingIsRecorded()
    {
        var x = Expect.Random([2, 3], 1);
        var w = Expect.Random([4, 3], 2);
        using var autocast = MixedPrecision.Autocast(Precision.BFloat16);
        var y = F.Linear(x, w);
        Assert.False(y.RequiresGrad);
    }

    [Fact]
    public void Float16GradientsUnderflowWithoutLossScalingAndSurviveWithIt()
    {
        float tiny = 1e-8f;   // below float16's smallest subnormal, 2^-24 ≈ 6e-8
        float Gradient(LossScaler? scaler)
        {
            var x = Tensor.Ones(1, 4);
            var w = Expect.Parameter([1, 4], 2);
            Tensor y;
            using (MixedPrecision.Autocast(Precision.Float16)) y = F.Linear(x, w);
            y.Backward(Tensor.Full(y.Shape, tiny * (scaler?.Scale ?? 1f)));
            Assert.True(scaler?.Unscale([w]) ?? true);
            return w.Grad!.Span[0];
        }
        Assert.Equal(0f, Gradient(null));
        Expect.Close(tiny, Gradient(new LossScaler()), 1e-3, "unscaled gradient");
    }
}
