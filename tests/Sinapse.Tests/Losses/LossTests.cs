using Sinapse.Losses;
using Sinapse.Ops;
using Sinapse.Tensors;

namespace Sinapse.Tests.Losses;

public class LossTests
{
    [Theory]
    [InlineData("cross_entropy", typeof(CrossEntropyLoss), "cross_entropy")]
    [InlineData("categorical_crossentropy", typeof(CrossEntropyLoss), "cross_entropy")]
    [InlineData("cross_entropy(0.1)", typeof(CrossEntropyLoss), "cross_entropy(0.1)")]
    [InlineData("MSE", typeof(MseLoss), "mse")]
    [InlineData("bce", typeof(BinaryCrossEntropyLoss), "bce")]
    [InlineData("bce-with-logits", typeof(BinaryCrossEntropyWithLogitsLoss), "bce_with_logits")]
    [InlineData("focal", typeof(FocalLoss), "focal(2, 0.25)")]
    [InlineData("focal(0.5, -1)", typeof(FocalLoss), "focal(0.5, -1)")]
    [InlineData("nll", typeof(NllLoss), "nll")]
    [InlineData("probability_cross_entropy", typeof(ProbabilityCrossEntropyLoss), "probability_cross_entropy")]
    [InlineData("probability_cross_entropy(0.001)", typeof(ProbabilityCrossEntropyLoss), "probability_cross_entropy(0.001)")]
    public void ParseKnowsEveryNameAndRoundTrips(string text, Type type, string name)
    {
        var loss = Loss.Parse(text);
        Assert.IsType(type, loss);
        Assert.Equal(name, loss.Name);
        Assert.Equal(name, Loss.Parse(loss.Name).Name);
    }

    [Fact]
    public void ParseRejectsUnknownNamesAndBadArguments()
    {
        Assert.Contains("cross_entropy", Assert.Throws<ArgumentException>(() => Loss.Parse("hinge")).Message);
        Assert.Contains("not a number", Assert.Throws<ArgumentException>(() => Loss.Parse("focal(a, 1)")).Message);
        Assert.Throws<ArgumentException>(() => Loss.Parse("focal(2)"));
    }

    [Fact]
    public void LossesCallTheirOpsWithTheirReduction()
    {
        var logits = Tensor.FromArray([1f, -2f, 0.5f, 3f], 2, 2);
        var target = Tensor.FromArray([1f, 0f, 0f, 1f], 2, 2);
        Assert.Equal(F.FocalLoss(logits, target, 1f, 0.5f, Reduction.Sum).Item(), new FocalLoss(1f, 0.5f, Reduction.Sum).Forward(logits, target).Item());
        Assert.Equal(F.MseLoss(logits, target, Reduction.None).ToArray(), Loss.Parse("mse", Reduction.None).Forward(logits, target).ToArray());
        Assert.Equal(F.CrossEntropy(logits, target).Item(), new CrossEntropyLoss().Forward(logits, target).Item());
    }

    [Fact]
    public void LossesPassTheirWeightsIgnoredIndexAndSmoothing()
    {
        var logits = Tensor.FromArray([1f, -2f, 0.5f, 3f, 0f, -1f], 2, 3);
        var labels = Tensor.FromArray([2f, 1f]);
        var weight = Tensor.FromArray([0.5f, 2f, 1f]);
        var crossEntropy = new CrossEntropyLoss(Reduction.Sum, weight, ignoreIndex: 1, labelSmoothing: 0.2f);
        Assert.Equal(F.CrossEntropy(logits, labels, Reduction.Sum, weight, 1, 0.2f).Item(), crossEntropy.Forward(logits, labels).Item());
        Assert.Equal(0.2f, ((CrossEntropyLoss)Loss.Parse("cross_entropy(0.2)")).LabelSmoothing);
        Assert.Equal(F.NllLoss(logits, labels, Reduction.None, weight, 2).ToArray(), new NllLoss(Reduction.None, weight, 2).Forward(logits, labels).ToArray());
        var binary = Tensor.FromArray([1f, 0f, 0f, 1f, 1f, 0f], 2, 3);
        Assert.Equal(F.BinaryCrossEntropyWithLogits(logits, binary, weight: weight, posWeight: weight).Item(),
            new BinaryCrossEntropyWithLogitsLoss(weight: weight, posWeight: weight).Forward(logits, binary).Item());
        Assert.Equal(F.BinaryCrossEntropy(F.Sigmoid(logits), binary, weight: weight).Item(), new BinaryCrossEntropyLoss(weight: weight).Forward(F.Sigmoid(logits), binary).Item());
        Assert.Contains("labelSmoothing must be in [0, 1], got 2", Assert.Throws<ArgumentException>(() => Loss.Parse("cross_entropy(2)")).Message);
    }
}
