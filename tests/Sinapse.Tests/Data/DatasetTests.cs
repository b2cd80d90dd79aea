using Sinapse.Data;
using Sinapse.Tensors;

namespace Sinapse.Tests.Data;

public class DatasetTests
{
    /// <summary>N examples of two features; example i has features (i, −i) and label i % classes.</summary>
    internal static Dataset Numbered(int count, int classes = 3)
    {
        var features = new float[count, 2];
        for (int i = 0; i < count; i++) (features[i, 0], features[i, 1]) = (i, -i);
        return Dataset.FromArrays(features, Enumerable.Range(0, count).Select(i => i % classes).ToArray());
    }

    [Fact]
    public void FromArraysKeepsRowsAndCountsClasses()
    {
        var data = Numbered(10, classes: 4);
        Assert.Equal(10, data.Count);
        Assert.Equal(4, data.ClassCount);
        Assert.True(data.HasLabels);
        Assert.Equal(new Shape(2), data.FeatureShape);
        Assert.Equal(7f, data.Features[7, 0]);
    }

    [Fact]
    public void RowCountsMustAgree()
    {
        var error = Assert.Throws<ArgumentException>(() => new Dataset(Tensor.Zeros(5, 3), Tensor.Zeros(4)));
        Assert.Contains("features [5, 3] have 5 rows", error.Message);
        Assert.Contains("targets [4] have 4", error.Message);
    }

    [Fact]
    public void NonFiniteFeaturesNameTheRow()
    {
        var features = Tensor.Zeros(6, 4);
        features[4, 2] = float.NegativeInfinity;
        var error = Assert.Throws<ArgumentException>(() => new Dataset(features, Tensor.Zeros(6)));
        Assert.Contains("example (row) 4", error.Message);
        Assert.Contains("position 2", error.Message);

        features[4, 2] = 0;
        features[3, 1] = float.NaN;
        Assert.Contains("example (row) 3", Assert.Throws<ArgumentException>(() => new Dataset(features, Tensor.Zeros(6))).Message);
    }

    [Fact]
    public void LabelsMustBeClassIndices()
    {
        var error = Assert.Throws<ArgumentException>(() => new Dataset(Tensor.Zeros(2, 1), Tensor.FromArray([1f, 0.5f])));
        Assert.Contains("label 1 is 0.5", error.Message);
        Assert.Contains("[N, 1]", error.Message);
    }

    [Fact]
    public void SubsetGathersInOrderAndKeepsTheClassCount()
    {
        var data = Numbered(10, classes: 5);
        var subset = data.Subset([7, 2, 2]);
        Assert.Equal([7f, -7f, 2f, -2f, 2f, -2f], subset.Features.ToArray());
        Assert.Equal([2f, 2f, 2f], subset.Targets.ToArray());
        Assert.Equal(5, subset.ClassCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Subset([10]));
    }

    [Fact]
    public void SplitIsReproducibleDisjointAndComplete()
    {
        var data = Numbered(100);
        var (train, test) = data.Split(0.75, seed: 7);
        var (train2, _) = data.Split(0.75, seed: 7);
        var (train3, _) = data.Split(0.75, seed: 8);
        Assert.Equal(75, train.Count);
        Assert.Equal(25, test.Count);
        Assert.Equal(train.Features.ToArray(), train2.Features.ToArray());
        Assert.NotEqual(train.Features.ToArray(), train3.Features.ToArray());
        var ids = Ids(train).Concat(Ids(test)).ToArray();
        Assert.Equal(Enumerable.Range(0, 100), ids.Order());
        Assert.Empty(Ids(train).Intersect(Ids(test)));
    }

    [Fact]
    public void ASplitOfFewExamplesMayLeaveAPartEmpty()
    {
        var (first, second) = Numbered(2, classes: 2).Split(0.9, seed: 1);
        Assert.Equal(2, first.Count);
        Assert.Equal(0, second.Count);
        Assert.Equal(2, second.ClassCount);
    }

    [Fact]
    public void FilterClassesRelabelsInTheGivenOrder()
    {
        var data = Numbered(10, classes: 5); // labels 0..4, 0..4
        var kept = data.FilterClasses([3, 1], relabel: true);
        Assert.Equal([1f, 3f, 6f, 8f], Ids(kept).Select(i => (float)i));
        Assert.Equal([1f, 0f, 1f, 0f], kept.Targets.ToArray());
        Assert.Equal(2, kept.ClassCount);

        var unchanged = data.FilterClasses([3, 1], relabel: false);
        Assert.Equal([1f, 3f, 1f, 3f], unchanged.Targets.ToArray());
        Assert.Equal(5, unchanged.ClassCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => data.FilterClasses([5], relabel: true));
    }

    [Fact]
    public void OneHotEncodesLabels()
    {
        var oneHot = Dataset.OneHot(Tensor.FromArray([2f, 0f]), 3);
        Assert.Equal(new Shape(2, 3), oneHot.Shape);
        Assert.Equal([0f, 0f, 1f, 1f, 0f, 0f], oneHot.ToArray());
        Assert.Contains("Label 0 is 3", Assert.Throws<ArgumentException>(() => Dataset.OneHot(Tensor.FromArray([3f]), 3)).Message);

        var data = Numbered(4).WithOneHotTargets();
        Assert.False(data.HasLabels);
        Assert.Equal(new Shape(4, 3), data.Targets.Shape);
        Assert.Equal(3, data.ClassCount);
    }

    static IEnumerable<int> Ids(Dataset data) => Enumerable.Range(0, data.Count).Select(i => (int)data.Features[i, 0]);

    [Fact]
    public void LabelsImplyingABillionClassesAreRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => new Dataset(Tensor.Zeros(2, 3), Tensor.FromArray([0f, 1e9f], 2)));
        Assert.Contains("classes", error.Message);
        Assert.Contains("1E+09", error.Message);
        Assert.Throws<ArgumentException>(() => new Dataset(Tensor.Zeros(2, 3), Tensor.FromArray([0f, 1f], 2), classCount: Dataset.MaxClassCount + 1));
        Assert.Equal(Dataset.MaxClassCount, new Dataset(Tensor.Zeros(2, 3), Tensor.FromArray([0f, Dataset.MaxClassCount - 1], 2)).ClassCount);
    }
}
