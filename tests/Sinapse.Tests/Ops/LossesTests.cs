using System.Text.Json;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

public class LossesTests
{
    public static TheoryData<Reduction> Reductions => new() { Reduction.Mean, Reduction.Sum, Reduction.None };

    static readonly int[] Shape = [3, 5];
    static Tensor Targets01 => Tensor.FromArray([1, 0, 1, 1, 0, 0, 0, 1, 0, 1, 0.3f, 0.7f, 0, 1, 0.5f], Shape);
    static Tensor Logits => Expect.Random(Shape, 31, -4f, 4f);
    static Tensor Labels => Tensor.FromArray([2f, 0f, 3f, 3f, 1f]);

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

    [Theory]
    [MemberData(nameof(Reductions))]
    public void CrossEntropyWithLabelsGradient(Reduction reduction)
    {
        var labels = Labels;
        Expect.GradientsMatch(x => F.CrossEntropy(x[0], labels, reduction), Expect.Random([5, 4], 35));
    }

    [Theory]
    [MemberData(nameof(Reductions))]
    public void CrossEntropyWithOneHotTargetsGradient(Reduction reduction)
    {
        var oneHot = OneHot(Labels, 4);
        Expect.GradientsMatch(x => F.CrossEntropy(x[0], oneHot, reduction), Expect.Random([5, 4], 35));
    }

    [Theory]
    [MemberData(nameof(Reductions))]
    public void CrossEntropyWithSoftTargetsGradient(Reduction reduction)
    {
        var soft = F.Softmax(Expect.Random([5, 4], 36));
        Expect.GradientsMatch(x => F.CrossEntropy(x[0], soft, reduction), Expect.Random([5, 4], 35));
    }

    [Theory]
    [MemberData(nameof(Reductions))]
    public void NllLossGradient(Reduction reduction)
    {
        var labels = Labels;
        Expect.GradientsMatch(x => F.NllLoss(x[0], labels, reduction), Expect.Random([5, 4], 37));
        Expect.GradientsMatch(x => F.NllLoss(F.LogSoftmax(x[0]), labels, reduction), Expect.Random([5, 4], 37));
    }

    [Fact]
    public void LossGradientsAccumulateWhenThePredictionIsUsedTwice()
    {
        var target = Targets01;
        var labels = Labels;
        Expect.GradientsMatch(x => F.Add(F.MseLoss(x[0], target), F.BinaryCrossEntropyWithLogits(x[0], target)), Logits);
        Expect.GradientsMatch(x => F.Add(F.FocalLoss(x[0], target), F.BinaryCrossEntropy(F.Sigmoid(x[0]), target)), Logits);
        Expect.GradientsMatch(x => F.Add(F.CrossEntropy(x[0], labels), F.NllLoss(x[0], labels, Reduction.Sum)), Expect.Random([5, 4], 38));
    }

    [Fact]
    public void CrossEntropyIsLogSoftmaxThenNll()
    {
        var logits = Expect.Random([5, 4], 39);
        var labels = Labels;
        Assert.Equal(F.NllLoss(F.LogSoftmax(logits), labels).Item(), F.CrossEntropy(logits, labels).Item(), 5);
        Assert.Equal(F.CrossEntropy(logits, OneHot(labels, 4)).Item(), F.CrossEntropy(logits, labels).Item(), 6);
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
        int count = 0;
        foreach (var c in Fixture.Cases(file))
        {
            string name = c.GetProperty("name").GetString()!;
            var loss = LossFor(c);
            var target = Tensor.FromArray(c.Floats("target"), c.Ints("target_shape"));
            foreach (var (reduction, key) in new[] { (Reduction.Mean, "mean"), (Reduction.Sum, "sum"), (Reduction.None, "none") })
            {
                var expected = c.GetProperty(key);
                var x = Tensor.FromArray(c.Floats("input"), c.Ints("input_shape"));
                x.RequiresGrad = true;
                var value = loss(x, target, reduction);
                if (reduction == Reduction.None)
                {
                    Expect.Close(expected.Floats("value"), value.Span, 1e-5, $"{name} {key} value");
                    value.Backward(Tensor.FromArray(expected.Floats("upstream"), value.Shape.ToArray()));
                }
                else
                {
                    Expect.Close(expected.Float("value"), value.Item(), 1e-5, $"{name} {key} value");
                    value.Backward();
                }
                Expect.Close(expected.Floats("grad"), x.Grad!.Span, 1e-5, $"{name} {key} grad");
            }
            count++;
        }
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
    public void CrossEntropyOfHugeLogitsStaysFinite()
    {
        var logits = Tensor.FromArray(new float[,] { { 1000f, -1000f, 0f }, { -1000f, 1000f, 999f }, { 1e30f, -1e30f, 0f } });
        var labels = Tensor.FromArray([0f, 2f, 1f]);
        logits.RequiresGrad = true;
        var loss = F.CrossEntropy(logits, labels, Reduction.None);
        Assert.Equal(0f, loss[0], 5);
        // 1000 + log(1 + e^−1) − 999 keeps float32's absolute precision at 1000 (6e-5), as in PyTorch.
        Assert.Equal(1 + Math.Log(1 + Math.Exp(-1)), loss[1], 1e-4);
        Assert.Equal(2e30f, loss[2], 1e24f);
        F.Sum(loss).Backward();
        Assert.All(logits.Grad!.ToArray(), g => Assert.True(float.IsFinite(g), $"CE gradient {g}"));
        Assert.Equal(-1f, logits.Grad![2, 1], 6);
    }

    [Fact]
    public void CrossEntropyOfUniformLogitsIsLogOfTheClassCount()
    {
        Assert.Equal(Math.Log(10), F.CrossEntropy(Tensor.Zeros(4, 10), Tensor.FromArray([0f, 3f, 9f, 5f])).Item(), 6);
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

    [Fact]
    public void LabelsMustBeClassIndices()
    {
        var logits = Tensor.Zeros(2, 3);
        Assert.Throws<ArgumentException>(() => F.CrossEntropy(logits, Tensor.FromArray([0f, 3f])));
        Assert.Throws<ArgumentException>(() => F.CrossEntropy(logits, Tensor.FromArray([0f, -1f])));
        Assert.Throws<ArgumentException>(() => F.CrossEntropy(logits, Tensor.FromArray([0f, 1.5f])));
        Assert.Throws<ArgumentException>(() => F.NllLoss(logits, Tensor.FromArray([0f, 3f])));
        var error = Assert.Throws<ArgumentException>(() => F.CrossEntropy(logits, Tensor.Zeros(3)));
        Assert.Contains("[2, 3]", error.Message);
    }

    static Tensor OneHot(Tensor labels, int classes)
    {
        var t = Tensor.Zeros(labels.Length, classes);
        for (int i = 0; i < labels.Length; i++) t[i, (int)labels[i]] = 1f;
        return t;
    }
}
