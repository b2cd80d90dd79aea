using System.Text.Json;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;
using Xunit.Abstractions;

namespace Sinapse.Tests.Ops;

public class LossesTests(ITestOutputHelper output)
{
    public static TheoryData<Reduction> Reductions => new() { Reduction.Mean, Reduction.Sum, Reduction.None };

    static readonly int[] Shape = [3, 5];
    static Tensor Targets01 => Tensor.FromArray([1, 0, 1, 1, 0, 0, 0, 1, 0, 1, 0.3f, 0.7f, 0, 1, 0.5f], Shape);
    static Tensor Logits => Expect.Random(Shape, 31, -4f, 4f);

    [Theory]
    [MemberData(nameof(Reductions))]
    public void MseGradient(Reduction reduction)
    {
        var target = Expect.Random(Shape, 32);
        Expect.GradientsMatch(x => F.MseLoss(x[0], target, reduction), Expect.Random(Shape, 33));
    }

    [Theory]
    [MemberData(nameof(Reductions))]
    public void BinaryCrossEntropyGradient(Reduction reduction)
    {
        var target = Targets01;
        Expect.GradientsMatch(x => F.BinaryCrossEntropy(x[0], target, reduction), Expect.Random(Shape, 34, 0.1f, 0.9f));
    }

    [Theory]
    [MemberData(nameof(Reductions))]
    public void BinaryCrossEntropyWithLogitsGradient(Reduction reduction)
    {
        var target = Targets01;
        Expect.GradientsMatch(x => F.BinaryCrossEntropyWithLogits(x[0], target, reduction), Logits);
    }

    /// <summary>Weights and positive weights of every broadcasting kind for [3, 5] logits: none, per class [5], one [1], per row [3, 1], full.</summary>
    public static TheoryData<int[]?, int[]?, Reduction> WeightShapes()
    {
        var data = new TheoryData<int[]?, int[]?, Reduction>();
        var shapes = new[] { null, new[] { 5 }, new[] { 1 }, new[] { 3, 1 }, new[] { 3, 5 } };
        foreach (var posWeight in shapes)
            foreach (var weight in shapes)
                foreach (var reduction in new[] { Reduction.Mean, Reduction.Sum, Reduction.None })
                    data.Add(posWeight, weight, reduction);
        return data;
    }

    static Tensor? PositiveWeights(int[]? shape, ulong seed) => shape == null ? null : Tensor.Uniform(new Shape(shape), 0.2f, 4f, new Rng(seed));

    [Theory]
    [MemberData(nameof(WeightShapes))]
    public void BinaryCrossEntropyWithLogitsWeightsGradient(int[]? posWeightShape, int[]? weightShape, Reduction reduction)
    {
        var target = Targets01;
        var posWeight = PositiveWeights(posWeightShape, 51);
        var weight = PositiveWeights(weightShape, 52);
        Expect.GradientsMatch(x => F.BinaryCrossEntropyWithLogits(x[0], target, reduction, weight, posWeight), Logits);
        if (posWeightShape == null)
            Expect.GradientsMatch(x => F.BinaryCrossEntropy(x[0], target, reduction, weight), Expect.Random(Shape, 34, 0.1f, 0.9f));
    }

    [Fact]
    public void PositiveWeightScalesThePositivesTerm()
    {
        // PyTorch's definition: −[p·y·log σ(z) + (1 − y)·log(1 − σ(z))], p per class.
        var z = Logits;
        var y = Targets01;
        var posWeight = Tensor.FromArray([1f, 2f, 3f, 0.5f, 0f]);
        var terms = F.BinaryCrossEntropyWithLogits(z, y, Reduction.None, posWeight: posWeight).ToArray();
        for (int i = 0; i < terms.Length; i++)
        {
            double s = 1 / (1 + Math.Exp(-z.Span[i])), t = y.Span[i];
            Assert.Equal(-(posWeight[i % 5] * t * Math.Log(s) + (1 - t) * Math.Log(1 - s)), terms[i], 5);
        }
        // A positive weight of 1 is no weight at all, to the bit.
        Assert.Equal(F.BinaryCrossEntropyWithLogits(z, y, Reduction.None).ToArray(),
            F.BinaryCrossEntropyWithLogits(z, y, Reduction.None, posWeight: Tensor.Ones(5)).ToArray());
        // The weight scales each term, and the mean still divides by the element count.
        var weight = Tensor.FromArray([2f, 0f, 1f], 3, 1);
        var weighted = F.BinaryCrossEntropyWithLogits(z, y, Reduction.None, weight).ToArray();
        Assert.Equal(terms.Length, weighted.Length);
        Assert.Equal(weighted.Sum() / 15, F.BinaryCrossEntropyWithLogits(z, y, weight: weight).Item(), 5);
        Assert.All(weighted[5..10], v => Assert.Equal(0f, v));
    }

    [Fact]
    public void WeightsMustBroadcastToTheInputWithoutGrowingIt()
    {
        var z = Logits;
        var y = Targets01;
        var error = Assert.Throws<ArgumentException>(() => F.BinaryCrossEntropyWithLogits(z, y, posWeight: Tensor.Ones(4)));
        Assert.Contains("posWeight of shape [4] does not broadcast to the input's shape [3, 5]", error.Message);
        error = Assert.Throws<ArgumentException>(() => F.BinaryCrossEntropyWithLogits(z, y, weight: Tensor.Ones(2, 3, 5)));
        Assert.Contains("weight of shape [2, 3, 5] does not broadcast", error.Message);
        Assert.Throws<ArgumentException>(() => F.BinaryCrossEntropy(F.Sigmoid(z), y, weight: Tensor.Ones(3)));
    }

    [Fact]
    public void TheMeanOfNoTermsIsNaNAsInPyTorch()
    {
        Assert.True(float.IsNaN(F.MseLoss(Tensor.Zeros(0, 3), Tensor.Zeros(0, 3)).Item()));
        Assert.True(float.IsNaN(F.BinaryCrossEntropyWithLogits(Tensor.Zeros(0, 3), Tensor.Zeros(0, 3), posWeight: Tensor.Ones(3)).Item()));
        Assert.Equal(0f, F.BinaryCrossEntropyWithLogits(Tensor.Zeros(0, 3), Tensor.Zeros(0, 3), Reduction.Sum).Item());
    }

    public static TheoryData<float, float, Reduction> FocalSettings()
    {
        var data = new TheoryData<float, float, Reduction>();
        foreach (var (gamma, alpha) in new[] { (2f, 0.25f), (0f, 0.25f), (2f, -1f), (0f, -1f), (0.5f, 0.75f), (1f, 0.5f), (3f, -1f) })
            foreach (var reduction in new[] { Reduction.Mean, Reduction.Sum, Reduction.None })
                data.Add(gamma, alpha, reduction);
        return data;
    }

    [Theory]
    [MemberData(nameof(FocalSettings))]
    public void FocalLossGradient(float gamma, float alpha, Reduction reduction)
    {
        var target = Targets01;
        Expect.GradientsMatch(x => F.FocalLoss(x[0], target, gamma, alpha, reduction), Logits);
    }

    [Fact]
    public void LossGradientsAccumulateWhenThePredictionIsUsedTwice()
    {
        var target = Targets01;
        Expect.GradientsMatch(x => F.Add(F.MseLoss(x[0], target), F.BinaryCrossEntropyWithLogits(x[0], target)), Logits);
        Expect.GradientsMatch(x => F.Add(F.FocalLoss(x[0], target), F.BinaryCrossEntropy(F.Sigmoid(x[0]), target)), Logits);
        Expect.GradientsMatch(x => F.Add(F.BinaryCrossEntropyWithLogits(x[0], target, posWeight: Tensor.FromArray([1f, 2f, 3f, 0.5f, 1f])),
            F.BinaryCrossEntropyWithLogits(x[0], target, Reduction.Sum, Tensor.FromArray([0.5f, 2f, 1f], 3, 1))), Logits);
    }

    // ---- against PyTorch

    static Func<Tensor, Tensor, Reduction, Tensor> LossFor(JsonElement c) => c.GetProperty("name").GetString()! switch
    {
        "mse" => F.MseLoss,
        "bce" => (x, t, r) => F.BinaryCrossEntropy(x, t, r),
        "bce_with_logits" => (x, t, r) => F.BinaryCrossEntropyWithLogits(x, t, r),
        var focal when focal.StartsWith("focal") => (x, t, r) => F.FocalLoss(x, t, c.Parameter("gamma", float.NaN), c.Parameter("alpha", float.NaN), r),
        var crossEntropy when crossEntropy.StartsWith("cross_entropy") => (x, t, r) => F.CrossEntropy(x, t, r),
        "nll" => (x, t, r) => F.NllLoss(x, t, r),
        var other => throw new ArgumentException($"No Sinapse loss for fixture '{other}'."),
    };

    [Theory]
    [InlineData("losses.json", 3)]
    [InlineData("focal.json", 5)]
    [InlineData("cross_entropy.json", 4)]
    public void MatchesPyTorch(string file, int cases)
    {
        var (count, _, _) = LossFixture.Run(file, _ => true, (c, x, target, reduction) => LossFor(c)(x, target, reduction));
        Assert.Equal(cases, count);
    }

    [Theory]
    [InlineData("bce_with_logits", 90)]
    [InlineData("bce", 30)]
    public void WeightedBinaryLossesMatchPyTorchOnRandomConfigurations(string family, int cases)
    {
        var (count, worst, worstAt) = LossFixture.Run(family, (c, x, target, reduction) => family == "bce"
            ? F.BinaryCrossEntropy(x, target, reduction, LossFixture.Optional(c, "weight"))
            : F.BinaryCrossEntropyWithLogits(x, target, reduction, LossFixture.Optional(c, "weight"), LossFixture.Optional(c, "pos_weight")));
        output.WriteLine($"{family}: {count} cases, worst relative error {worst:G3} at {worstAt}");
        Assert.Equal(cases, count);
    }

    // ---- from the definitions

    [Fact]
    public void BinaryCrossEntropyClampsTheLogAtMinus100LikePyTorch()
    {
        // log(0) would be −∞: PyTorch clamps each log term at −100, so a confident miss costs 100.
        var p = Tensor.FromArray([0f, 1f, 0f, 1f]);
        var y = Tensor.FromArray([1f, 0f, 0f, 1f]);
        Assert.Equal([100f, 100f, 0f, 0f], F.BinaryCrossEntropy(p, y, Reduction.None).ToArray());
        Assert.Equal(50f, F.BinaryCrossEntropy(p, y).Item());
        p.RequiresGrad = true;
        F.BinaryCrossEntropy(p, y, Reduction.Sum).Backward();
        Assert.All(p.Grad!.ToArray(), g => Assert.True(float.IsFinite(g), $"BCE gradient {g}"));
    }

    [Fact]
    public void BinaryCrossEntropyIsMinusYLogPMinusOneMinusYLogOneMinusP()
    {
        var p = Tensor.FromArray([0.9f, 0.2f, 0.6f]);
        var y = Tensor.FromArray([1f, 0f, 0.25f]);
        double expected = (-Math.Log(0.9) - Math.Log(0.8) - (0.25 * Math.Log(0.6) + 0.75 * Math.Log(0.4))) / 3;
        Assert.Equal(expected, F.BinaryCrossEntropy(p, y).Item(), 6);
        Assert.Equal(expected * 3, F.BinaryCrossEntropy(p, y, Reduction.Sum).Item(), 5);
    }

    [Fact]
    public void BinaryCrossEntropyRejectsValuesOutsideZeroOne()
    {
        var error = Assert.Throws<ArgumentException>(() => F.BinaryCrossEntropy(Tensor.FromArray([0.5f, 1.5f]), Tensor.FromArray([1f, 0f])));
        Assert.Contains("1.5", error.Message);
        Assert.Contains("WithLogits", error.Message);
    }

    [Fact]
    public void BinaryCrossEntropyWithLogitsIsStableForHugeLogits()
    {
        var z = Tensor.FromArray([1000f, -1000f, 1000f, -1000f, 0f]);
        var y = Tensor.FromArray([1f, 0f, 0f, 1f, 1f]);
        var terms = F.BinaryCrossEntropyWithLogits(z, y, Reduction.None).ToArray();
        Assert.Equal([0f, 0f, 1000f, 1000f], terms[..4]);
        Assert.Equal(Math.Log(2), terms[4], 6);
        // It agrees with BCE of the sigmoid where the sigmoid is representable.
        var moderate = Expect.Random([2, 5], 40, -5f, 5f);
        var target = Expect.Random([2, 5], 41, 0f, 1f);
        Assert.Equal(F.BinaryCrossEntropy(F.Sigmoid(moderate), target).Item(), F.BinaryCrossEntropyWithLogits(moderate, target).Item(), 5);
    }

    [Fact]
    public void FocalLossWithGammaZeroAndNoAlphaIsBinaryCrossEntropy()
    {
        var z = Logits;
        var y = Targets01;
        Assert.Equal(F.BinaryCrossEntropyWithLogits(z, y).Item(), F.FocalLoss(z, y, gamma: 0f, alpha: -1f).Item(), 6);
        // And the modulating factor only ever shrinks the loss.
        Assert.True(F.FocalLoss(z, y, gamma: 2f, alpha: -1f).Item() < F.BinaryCrossEntropyWithLogits(z, y).Item());
    }
}
