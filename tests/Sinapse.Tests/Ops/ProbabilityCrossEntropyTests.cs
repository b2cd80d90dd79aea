using Sinapse.Losses;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;
using Xunit.Abstractions;

namespace Sinapse.Tests.Ops;

public class ProbabilityCrossEntropyTests(ITestOutputHelper output)
{
    [Fact]
    public void MatchesPyTorchOnRandomConfigurations()
    {
        var (count, worst, worstAt) = LossFixture.Run("probability_cross_entropy.json", _ => true, (c, x, target, reduction) =>
            F.ProbabilityCrossEntropy(x, target, c.Parameter("eps", 1e-7f), reduction, LossFixture.Optional(c, "weight"), (int)c.Parameter("ignore_index", -100)));
        output.WriteLine($"{count} cases, worst relative error {worst:G3} at {worstAt}");
        Assert.Equal(20, count);
    }

    [Theory]
    [InlineData(Reduction.Mean)]
    [InlineData(Reduction.Sum)]
    [InlineData(Reduction.None)]
    public void GradientMatchesFiniteDifferencesInsideTheClip(Reduction reduction)
    {
        // Positive rows that do not sum to 1, all inside [ε, 1 − ε] after rescaling: the gradient runs through the rescale.
        var probabilities = Expect.Random([3, 4], 71, 0.2f, 1.5f);
        var labels = Tensor.FromArray([2f, 0f, 3f], 3);
        Expect.GradientsMatch(x => F.ProbabilityCrossEntropy(x[0], labels, 1e-3f, reduction), probabilities);
    }

    [Fact]
    public void GradientMatchesFiniteDifferencesOnImagesWithWeights()
    {
        var probabilities = Expect.Random([2, 3, 2], 72, 0.2f, 1.5f);
        var labels = Tensor.FromArray([0f, 2f, 1f, 1f], 2, 2);
        var weight = Tensor.FromArray([0.5f, 2f, 1f], 3);
        Expect.GradientsMatch(x => F.ProbabilityCrossEntropy(x[0], labels, 1e-7f, Reduction.Mean, weight), probabilities);
    }

    [Fact]
    public void ATargetBelowTheClipGetsNoGradientWhileLogitsStillWould()
    {
        // The softmax of these logits gives the target class about e^-40: clipped to ε, so nothing flows back.
        var logits = Tensor.FromArray([20f, -20f, 0f], 1, 3);
        logits.RequiresGrad = true;
        var labels = Tensor.FromArray([1f], 1);
        var loss = F.ProbabilityCrossEntropy(F.Softmax(logits, 1), labels);
        loss.Backward();
        Expect.Close(-MathF.Log(1e-7f), loss.Item());
        Assert.All(logits.Grad!.ToArray(), g => Assert.Equal(0f, g));

        var fromLogits = Tensor.FromArray([20f, -20f, 0f], 1, 3);
        fromLogits.RequiresGrad = true;
        F.CrossEntropy(fromLogits, labels).Backward();
        Expect.Close(-1f, fromLogits.Grad!.ToArray()[1], 1e-4);
    }

    [Fact]
    public void EqualsTheLogitLossWhereNothingIsClipped()
    {
        var logits = Expect.Random([4, 5], 73);
        var labels = Tensor.FromArray([4f, 0f, 2f, 1f], 4);
        Expect.Close(F.CrossEntropy(logits, labels).Item(), F.ProbabilityCrossEntropy(F.Softmax(logits, 1), labels).Item(), 1e-5);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(0.5f)]
    [InlineData(-1e-7f)]
    [InlineData(float.NaN)]
    public void RefusesAnEpsThatLeavesNoRange(float eps)
    {
        var message = Assert.Throws<ArgumentException>(() => F.ProbabilityCrossEntropy(Tensor.Ones(2, 3), Tensor.Zeros(2), eps)).Message;
        Assert.Contains("eps must be in (0, 0.5)", message);
        Assert.Throws<ArgumentException>(() => new ProbabilityCrossEntropyLoss(eps));
    }

    [Fact]
    public void RefusesTargetsThatAreNotClassIndicesBeforeComputing()
    {
        Assert.Contains("probabilities [2, 3] need class indices [2]", Assert.Throws<ArgumentException>(() => F.ProbabilityCrossEntropy(Tensor.Ones(2, 3), Tensor.Zeros(2, 3))).Message);
        Assert.Contains("not a class index", Assert.Throws<ArgumentException>(() => F.ProbabilityCrossEntropy(Tensor.Ones(2, 3), Tensor.FromArray([0f, 3f], 2))).Message);
        Assert.Contains("scalar", Assert.Throws<ArgumentException>(() => F.ProbabilityCrossEntropy(Tensor.Scalar(1f), Tensor.Scalar(0f))).Message);
    }
}
