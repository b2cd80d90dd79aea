using Sinapse.Losses;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;
using Xunit.Abstractions;

namespace Sinapse.Tests.Ops;

public class CrossEntropyTests(ITestOutputHelper output)
{
    public static TheoryData<Reduction> Reductions => new() { Reduction.Mean, Reduction.Sum, Reduction.None };

    static Tensor Labels => Tensor.FromArray([2f, 0f, 3f, 3f, 1f]);
    static Tensor Weight => Tensor.FromArray([0.5f, 2f, 1f, 1.5f]);
    static Tensor Logits => Expect.Random([5, 4], 35);

    [Theory]
    [MemberData(nameof(Reductions))]
    public void CrossEntropyWithLabelsGradient(Reduction reduction)
    {
        var labels = Labels;
        Expect.GradientsMatch(x => F.CrossEntropy(x[0], labels, reduction), Logits);
    }

    [Theory]
    [MemberData(nameof(Reductions))]
    public void CrossEntropyWithOneHotTargetsGradient(Reduction reduction)
    {
        var oneHot = OneHot(Labels, 4);
        Expect.GradientsMatch(x => F.CrossEntropy(x[0], oneHot, reduction), Logits);
    }

    [Theory]
    [MemberData(nameof(Reductions))]
    public void CrossEntropyWithSoftTargetsGradient(Reduction reduction)
    {
        var soft = F.Softmax(Expect.Random([5, 4], 36));
        Expect.GradientsMatch(x => F.CrossEntropy(x[0], soft, reduction), Logits);
    }

    [Theory]
    [MemberData(nameof(Reductions))]
    public void NllLossGradient(Reduction reduction)
    {
        var labels = Labels;
        Expect.GradientsMatch(x => F.NllLoss(x[0], labels, reduction), Expect.Random([5, 4], 37));
        Expect.GradientsMatch(x => F.NllLoss(F.LogSoftmax(x[0]), labels, reduction), Expect.Random([5, 4], 37));
    }

    /// <summary>Every combination of class weights, an ignored index (hit by two targets, or by none) and label smoothing.</summary>
    public static TheoryData<bool, int, float, Reduction> LabelOptions()
    {
        var data = new TheoryData<bool, int, float, Reduction>();
        foreach (bool weighted in new[] { false, true })
            foreach (int ignoreIndex in new[] { -100, 3, -1 })
                foreach (float smoothing in new[] { 0f, 0.1f, 0.3f })
                    foreach (var reduction in new[] { Reduction.Mean, Reduction.Sum, Reduction.None })
                        data.Add(weighted, ignoreIndex, smoothing, reduction);
        return data;
    }

    [Theory]
    [MemberData(nameof(LabelOptions))]
    public void CrossEntropyOptionsGradient(bool weighted, int ignoreIndex, float smoothing, Reduction reduction)
    {
        // With −1 ignored, the last target is −1; with 3 ignored, the two targets of class 3 are.
        var labels = Tensor.FromArray([2f, 0f, 3f, 3f, ignoreIndex == -1 ? -1f : 1f]);
        var weight = weighted ? Weight : null;
        Expect.GradientsMatch(x => F.CrossEntropy(x[0], labels, reduction, weight, ignoreIndex, smoothing), Logits);
    }

    public static TheoryData<bool, float, Reduction> ProbabilityOptions()
    {
        var data = new TheoryData<bool, float, Reduction>();
        foreach (bool weighted in new[] { false, true })
            foreach (float smoothing in new[] { 0f, 0.1f, 0.3f, 1f })
                foreach (var reduction in new[] { Reduction.Mean, Reduction.Sum, Reduction.None })
                    data.Add(weighted, smoothing, reduction);
        return data;
    }

    [Theory]
    [MemberData(nameof(ProbabilityOptions))]
    public void CrossEntropyWithProbabilitiesOptionsGradient(bool weighted, float smoothing, Reduction reduction)
    {
        // A target whose rows do not sum to one: the gradient is p·Σq − q, not p − q.
        var soft = F.Multiply(F.Softmax(Expect.Random([5, 4], 36)), 1.7f);
        var weight = weighted ? Weight : null;
        Expect.GradientsMatch(x => F.CrossEntropy(x[0], soft, reduction, weight, labelSmoothing: smoothing), Logits);
    }

    public static TheoryData<int[], Reduction> SpatialShapes()
    {
        var data = new TheoryData<int[], Reduction>();
        foreach (var shape in new[] { new[] { 2, 4, 3 }, new[] { 2, 3, 2, 2 }, new[] { 1, 4, 1, 3 }, new[] { 4 } })
            foreach (var reduction in new[] { Reduction.Mean, Reduction.Sum, Reduction.None })
                data.Add(shape, reduction);
        return data;
    }

    /// <summary>Labels for the positions of logits of <paramref name="shape"/> (class axis 1, or 0 for one example), one of them ignored.</summary>
    static Tensor SpatialLabels(int[] shape)
    {
        int classes = shape.Length == 1 ? shape[0] : shape[1];
        var positions = shape.Length == 1 ? Array.Empty<int>() : [shape[0], .. shape[2..]];
        var labels = Tensor.Zeros(positions);
        for (int i = 0; i < labels.Length; i++) labels.Span[i] = i == 1 ? -100f : (i * 7 + 1) % classes;
        return labels;
    }

    [Theory]
    [MemberData(nameof(SpatialShapes))]
    public void CrossEntropyOverASpatialMapGradient(int[] shape, Reduction reduction)
    {
        var labels = SpatialLabels(shape);
        var probabilities = F.Softmax(Expect.Random(shape, 41), shape.Length == 1 ? 0 : 1);
        var weight = Tensor.Uniform(new Shape(shape.Length == 1 ? shape[0] : shape[1]), 0.5f, 2f, new Rng(3));
        var logits = Expect.Random(shape, 42);
        Expect.GradientsMatch(x => F.CrossEntropy(x[0], labels, reduction), logits);
        Expect.GradientsMatch(x => F.CrossEntropy(x[0], labels, reduction, weight, labelSmoothing: 0.2f), logits);
        Expect.GradientsMatch(x => F.CrossEntropy(x[0], probabilities, reduction, weight, labelSmoothing: 0.2f), logits);
        Expect.GradientsMatch(x => F.NllLoss(x[0], labels, reduction, weight), logits);
    }

    [Fact]
    public void GradientsAccumulateWhenTheLogitsAreUsedTwice()
    {
        var labels = Labels;
        var spatial = SpatialLabels([2, 4, 3]);
        Expect.GradientsMatch(x => F.Add(F.CrossEntropy(x[0], labels), F.NllLoss(x[0], labels, Reduction.Sum)), Expect.Random([5, 4], 38));
        Expect.GradientsMatch(x => F.Add(F.CrossEntropy(x[0], labels, weight: Weight, labelSmoothing: 0.1f),
            F.CrossEntropy(x[0], labels, Reduction.Sum, ignoreIndex: 3)), Expect.Random([5, 4], 38));
        // The class axis is not last: the rows are gathered, and their gradients scattered back onto what is there.
        Expect.GradientsMatch(x => F.Add(F.CrossEntropy(x[0], spatial, labelSmoothing: 0.1f), F.CrossEntropy(x[0], spatial, Reduction.Sum)), Expect.Random([2, 4, 3], 39));
        Expect.GradientsMatch(x => F.Add(F.NllLoss(x[0], spatial), F.NllLoss(x[0], spatial, weight: Weight)), Expect.Random([2, 4, 3], 39));
    }

    [Fact]
    public void CrossEntropyIsLogSoftmaxThenNll()
    {
        var logits = Expect.Random([5, 4], 39);
        var labels = Labels;
        Assert.Equal(F.NllLoss(F.LogSoftmax(logits), labels).Item(), F.CrossEntropy(logits, labels).Item(), 5);
        Assert.Equal(F.CrossEntropy(logits, OneHot(labels, 4)).Item(), F.CrossEntropy(logits, labels).Item(), 6);
        var spatial = Expect.Random([2, 4, 3], 40);
        var spatialLabels = SpatialLabels([2, 4, 3]);
        Expect.Close(F.NllLoss(F.LogSoftmax(spatial, 1), spatialLabels, Reduction.None, Weight).Span,
            F.CrossEntropy(spatial, spatialLabels, Reduction.None, Weight).Span, 1e-5, "spatial");
    }

    // ---- from the definitions

    [Fact]
    public void WeightedMeanDividesByTheSumOfTheTargetsWeights()
    {
        var logits = Expect.Random([5, 4], 43);
        var labels = Labels;
        var terms = F.CrossEntropy(logits, labels, Reduction.None).ToArray();
        double weighted = 0, total = 0;
        for (int i = 0; i < 5; i++)
        {
            float w = Weight[(int)labels[i]];
            weighted += w * terms[i];
            total += w;
        }
        Assert.Equal(weighted / total, F.CrossEntropy(logits, labels, weight: Weight).Item(), 5);
        Assert.Equal(weighted, F.CrossEntropy(logits, labels, Reduction.Sum, Weight).Item(), 4);
    }

    [Fact]
    public void IgnoredTargetsAreLeftOutOfTheMeanAndAllIgnoredIsNaN()
    {
        var logits = Expect.Random([5, 4], 44);
        var labels = Tensor.FromArray([2f, -100f, 3f, -100f, 1f]);
        var kept = Tensor.FromArray([2f, 3f, 1f]);
        var keptLogits = Tensor.FromArray(logits.ToArray().Where((_, i) => i / 4 is 0 or 2 or 4).ToArray(), 3, 4);
        Assert.Equal(F.CrossEntropy(keptLogits, kept, weight: Weight, labelSmoothing: 0.2f).Item(), F.CrossEntropy(logits, labels, weight: Weight, labelSmoothing: 0.2f).Item(), 6);

        var ignored = Tensor.Full([5], 7f);
        foreach (float smoothing in new[] { 0f, 0.3f })
        {
            logits.RequiresGrad = true;
            var mean = F.CrossEntropy(logits, ignored, ignoreIndex: 7, labelSmoothing: smoothing);
            Assert.True(float.IsNaN(mean.Item()), $"the mean over no targets is 0/0, got {mean.Item()}");
            mean.Backward();
            Assert.All(logits.Grad!.ToArray(), g => Assert.Equal(0f, g));
            Assert.Equal(0f, F.CrossEntropy(logits, ignored, Reduction.Sum, ignoreIndex: 7, labelSmoothing: smoothing).Item());
            Assert.All(F.CrossEntropy(logits, ignored, Reduction.None, ignoreIndex: 7).ToArray(), v => Assert.Equal(0f, v));
            logits.Grad = null;
        }
        Assert.True(float.IsNaN(F.NllLoss(logits, ignored, ignoreIndex: 7).Item()));
    }

    [Fact]
    public void LabelSmoothingMixesTheTargetWithTheUniformDistribution()
    {
        // PyTorch: (1 − ε)·CE(target) + ε·mean over classes of −log p, each term weighted by its class.
        var logits = Expect.Random([5, 4], 45);
        var labels = Labels;
        var logProbabilities = F.LogSoftmax(logits).ToArray();
        double expected = 0;
        for (int r = 0; r < 5; r++)
        {
            double uniform = 0;
            for (int c = 0; c < 4; c++) uniform -= Weight[c] * logProbabilities[r * 4 + c];
            expected += 0.7 * -Weight[(int)labels[r]] * logProbabilities[r * 4 + (int)labels[r]] + 0.3 / 4 * uniform;
        }
        Assert.Equal(expected, F.CrossEntropy(logits, labels, Reduction.Sum, Weight, labelSmoothing: 0.3f).Item(), 4);
        // A smoothed one-hot target as probabilities gives the same sum (the means differ: PyTorch divides those by N).
        var smoothed = F.Add(F.Multiply(OneHot(labels, 4), 0.7f), 0.3f / 4);
        Assert.Equal(expected, F.CrossEntropy(logits, smoothed, Reduction.Sum, Weight).Item(), 4);
        Assert.Equal(expected / 5, F.CrossEntropy(logits, OneHot(labels, 4), weight: Weight, labelSmoothing: 0.3f).Item(), 5);
    }

    [Fact]
    public void AConfidentPredictionKeepsItsDigits()
    {
        // log(1 + 2e^−20) and 1 − p at the target: a float sum 1 + 4e−9 would round both to nothing.
        var logits = Tensor.FromArray([20f, 0f, 0f], 1, 3);
        logits.RequiresGrad = true;
        var loss = F.CrossEntropy(logits, Tensor.FromArray([0f]));
        double rest = 2 * Math.Exp(-20);
        Assert.Equal(Math.Log(1 + rest), loss.Item(), Math.Log(1 + rest) * 1e-6);
        loss.Backward();
        Assert.Equal(-rest / (1 + rest), logits.Grad![0, 0], rest * 1e-6);
        Assert.Equal(Math.Exp(-20) / (1 + rest), logits.Grad![0, 1], rest * 1e-6);
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
        Assert.Equal(Math.Log(10), F.CrossEntropy(Tensor.Zeros(2, 10, 3), Tensor.Zeros(2, 3), labelSmoothing: 0.5f).Item(), 6);
    }

    [Fact]
    public void OneExampleHasAScalarLoss()
    {
        var logits = Expect.Random([4], 46);
        var loss = F.CrossEntropy(logits, Tensor.Scalar(2f), Reduction.None);
        Assert.Equal(0, loss.Rank);
        Assert.Equal(F.CrossEntropy(Tensor.FromArray(logits.ToArray(), 1, 4), Tensor.FromArray([2f])).Item(), loss.Item());
    }

    [Fact]
    public void AnEmptyBatchHasANaNMeanAndAZeroSum()
    {
        var logits = Tensor.Zeros(0, 3);
        Assert.True(float.IsNaN(F.CrossEntropy(logits, Tensor.Zeros(0)).Item()));
        Assert.Equal(0f, F.CrossEntropy(logits, Tensor.Zeros(0), Reduction.Sum).Item());
        Assert.Equal(new Shape(0, 2), F.CrossEntropy(Tensor.Zeros(0, 3, 2), Tensor.Zeros(0, 2), Reduction.None).Shape);
        Assert.True(float.IsNaN(F.CrossEntropy(logits, Tensor.Zeros(0, 3)).Item()));
        // No classes: probability targets give terms of 0 (a sum over nothing) and, as PyTorch's, a NaN mean.
        var noClasses = Tensor.Zeros(2, 0);
        noClasses.RequiresGrad = true;
        var mean = F.CrossEntropy(noClasses, Tensor.Zeros(2, 0));
        Assert.True(float.IsNaN(mean.Item()));
        mean.Backward();
        Assert.Equal([0f, 0f], F.CrossEntropy(noClasses, Tensor.Zeros(2, 0), Reduction.None).ToArray());
    }

    // ---- bad arguments: one clear line, before any arithmetic

    [Fact]
    public void LabelsMustBeClassIndicesOrTheIgnoredIndex()
    {
        var logits = Tensor.Zeros(2, 3);
        Assert.Throws<ArgumentException>(() => F.CrossEntropy(logits, Tensor.FromArray([0f, 3f])));
        Assert.Throws<ArgumentException>(() => F.CrossEntropy(logits, Tensor.FromArray([0f, 1.5f])));
        Assert.Throws<ArgumentException>(() => F.NllLoss(logits, Tensor.FromArray([0f, 3f])));
        var error = Assert.Throws<ArgumentException>(() => F.CrossEntropy(logits, Tensor.FromArray([0f, -1f])));
        Assert.Contains("target -1 at position 1 is not a class index in [0, 3) nor the ignore index -100", error.Message);
        Assert.Equal(0f, F.CrossEntropy(logits, Tensor.FromArray([0f, -1f]), Reduction.None, ignoreIndex: -1)[1]);
        error = Assert.Throws<ArgumentException>(() => F.CrossEntropy(Tensor.Zeros(2, 3, 4), Tensor.FromArray([0f, 5f, 1f, 1f, 2f, 2f, 0f, 0f], 2, 4)));
        Assert.Contains("target 5 at position 1", error.Message);
    }

    [Fact]
    public void TheTargetMustHaveThePositionsOrTheLogitsShape()
    {
        var error = Assert.Throws<ArgumentException>(() => F.CrossEntropy(Tensor.Zeros(2, 3), Tensor.Zeros(3)));
        Assert.Contains("logits [2, 3] need class indices [2] or class probabilities [2, 3], got a target of shape [3]", error.Message);
        error = Assert.Throws<ArgumentException>(() => F.CrossEntropy(Tensor.Zeros(2, 3, 4), Tensor.Zeros(2, 3)));
        Assert.Contains("class indices [2, 4]", error.Message);
        error = Assert.Throws<ArgumentException>(() => F.NllLoss(Tensor.Zeros(2, 3), Tensor.Zeros(2, 3)));
        Assert.Contains("log-probabilities [2, 3] need class indices [2]", error.Message);
        Assert.Contains("got a scalar", Assert.Throws<ArgumentException>(() => F.CrossEntropy(Tensor.Scalar(1f), Tensor.Scalar(0f))).Message);
    }

    [Fact]
    public void TheWeightNeedsOneValuePerClass()
    {
        var logits = Tensor.Zeros(2, 3);
        var labels = Tensor.FromArray([0f, 1f]);
        var error = Assert.Throws<ArgumentException>(() => F.CrossEntropy(logits, labels, weight: Tensor.Ones(4)));
        Assert.Contains("weight must hold one value per class, [3], got [4]", error.Message);
        Assert.Throws<ArgumentException>(() => F.CrossEntropy(logits, labels, weight: Tensor.Ones(1, 3)));
        Assert.Contains("[3], got [2]", Assert.Throws<ArgumentException>(() => F.NllLoss(logits, labels, weight: Tensor.Ones(2))).Message);
        Assert.Contains("[C], got [1, 3]", Assert.Throws<ArgumentException>(() => new CrossEntropyLoss(weight: Tensor.Ones(1, 3))).Message);
    }

    [Theory]
    [InlineData(-0.1f)]
    [InlineData(1.5f)]
    [InlineData(float.NaN)]
    public void LabelSmoothingMustLieInZeroOne(float smoothing)
    {
        var error = Assert.Throws<ArgumentException>(() => F.CrossEntropy(Tensor.Zeros(2, 3), Tensor.FromArray([0f, 1f]), labelSmoothing: smoothing));
        Assert.Contains($"labelSmoothing must be in [0, 1], got {smoothing}", error.Message);
        Assert.Contains("CrossEntropyLoss", Assert.Throws<ArgumentException>(() => new CrossEntropyLoss(labelSmoothing: smoothing)).Message);
    }

    [Fact]
    public void ProbabilityTargetsTakeNoIgnoredIndex()
    {
        var error = Assert.Throws<ArgumentException>(() => F.CrossEntropy(Tensor.Zeros(2, 3), Tensor.Zeros(2, 3), ignoreIndex: 1));
        Assert.Contains("ignoreIndex applies to class-index targets", error.Message);
        Assert.Equal(0f, F.CrossEntropy(Tensor.Zeros(2, 3), Tensor.Zeros(2, 3), ignoreIndex: -1).Item());
    }

    // ---- against PyTorch

    [Theory]
    [InlineData("cross_entropy", 160)]
    [InlineData("cross_entropy_probabilities", 60)]
    [InlineData("nll", 60)]
    public void MatchesPyTorchOnRandomConfigurations(string family, int cases)
    {
        var (count, worst, worstAt) = LossFixture.Run(family, (c, x, target, reduction) =>
        {
            var weight = LossFixture.Optional(c, "weight");
            int ignoreIndex = (int)c.Parameter("ignore_index", -100);
            return family == "nll"
                ? F.NllLoss(x, target, reduction, weight, ignoreIndex)
                : F.CrossEntropy(x, target, reduction, weight, ignoreIndex, c.Parameter("label_smoothing", 0f));
        });
        output.WriteLine($"{family}: {count} cases, worst relative error {worst:G3} at {worstAt}");
        Assert.Equal(cases, count);
    }

    static Tensor OneHot(Tensor labels, int classes)
    {
        var t = Tensor.Zeros(labels.Length, classes);
        for (int i = 0; i < labels.Length; i++) t[i, (int)labels[i]] = 1f;
        return t;
    }
}
