using Sinapse.Layers;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Layers;

public class StochasticDepthTests
{
    public static TheoryData<string> CaseNames => Fixture.CaseNames("stochastic_depth.json");

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void MatchesTorchvision(string name)
    {
        var c = Fixture.Case("stochastic_depth.json", name);
        var shape = c.Ints("input_shape");
        var x = Tensor.FromArray(c.Floats("input"), shape);
        float p = c.Parameter("p", 0f);
        string mode = c.GetProperty("parameters").GetProperty("mode").GetString()!;
        bool training = c.Flag("training");
        var layer = new StochasticDepth(p, mode, new Rng(5));
        if (!training) layer.Eval();
        var y = layer.Call(x).ToArray();
        var expected = c.Floats("output");
        if (!training || p == 0f || p == 1f)
        {
            Expect.Close(expected, y, what: name);
            return;
        }
        // Random draws: each group (a sample, or the whole batch) is either dropped or scaled as torchvision scales it.
        var scaled = c.Floats("scaled");
        int group = mode == "row" ? x.Length / shape[0] : x.Length;
        for (int start = 0; start < y.Length; start += group)
        {
            var part = y.AsSpan(start, group);
            if (part.ToArray().All(v => v == 0f)) continue;
            Expect.Close(scaled.AsSpan(start, group), part, what: $"{name} group at {start}");
        }
    }

    [Fact]
    public void RowModeDropsAboutPOfTheSamplesAndKeepsTheMeanInExpectation()
    {
        var x = Tensor.Ones(4000, 3);
        var y = F.StochasticDepth(x, 0.25f, "row", training: true, new Rng(11)).ToArray();
        var rows = Enumerable.Range(0, 4000).Select(r => y.AsSpan(r * 3, 3).ToArray()).ToList();
        Assert.All(rows, row => Assert.True(row.All(v => v == 0f) || row.All(v => v == 1f / 0.75f), $"a row mixes values: {string.Join(", ", row)}"));
        double dropped = rows.Count(row => row[0] == 0f) / 4000.0;
        Assert.InRange(dropped, 0.22, 0.28);
        Assert.InRange(y.Average(), 0.95, 1.05);
    }

    [Fact]
    public void BatchModeDropsAllOrNothing()
    {
        for (ulong seed = 0; seed < 20; seed++)
        {
            var y = F.StochasticDepth(Tensor.Ones(5, 2), 0.5f, "batch", training: true, new Rng(seed)).ToArray();
            Assert.True(y.All(v => v == 0f) || y.All(v => v == 2f), $"seed {seed}: {string.Join(", ", y)}");
        }
    }

    [Fact]
    public void GradientMatchesFiniteDifferences()
    {
        Expect.GradientsMatch(x => F.StochasticDepth(x[0], 0.4f, "row", training: true, new Rng(9)), Expect.Random([6, 2, 3], 2));
        Expect.GradientsMatch(x => F.StochasticDepth(x[0], 0.4f, "batch", training: true, new Rng(3)), Expect.Random([3, 4], 3));
    }

    [Fact]
    public void AnEmptyBatchPassesThrough()
    {
        Assert.Equal([0, 3], F.StochasticDepth(Tensor.Zeros(0, 3), 0.5f, "row", training: true, new Rng(1)).Shape.ToArray());
    }

    [Fact]
    public void RefusesABadModeProbabilityOrScalar()
    {
        Assert.Contains("mode must be \"row\" or \"batch\", got \"sample\"", Assert.Throws<ArgumentException>(() => new StochasticDepth(0.1f, "sample")).Message);
        Assert.Contains("mode must be", Assert.Throws<ArgumentException>(() => F.StochasticDepth(Tensor.Ones(2), 0.1f, "Row", true)).Message);
        Assert.Contains("[0, 1]", Assert.Throws<ArgumentOutOfRangeException>(() => new StochasticDepth(1.5f)).Message);
        Assert.Contains("scalar", Assert.Throws<ArgumentException>(() => F.StochasticDepth(Tensor.Scalar(1f), 0.1f, "row", true)).Message);
        Assert.Equal("StochasticDepth(p=0.2, mode=row)", new StochasticDepth(0.2f).Describe());
    }
}
