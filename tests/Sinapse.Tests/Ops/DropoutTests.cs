using Sinapse.Autograd;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

public class DropoutTests
{
    [Fact]
    public void GradientIsTheMaskOverTheKeepProbability()
    {
        // The same seed gives the same mask, so the mask is that of a dropout of ones.
        const float p = 0.3f;
        var mask = F.Dropout(Tensor.Ones(6, 7), p, training: true, new Rng(5)).ToArray();
        Assert.All(mask, m => Assert.True(m == 0f || m == 1f / (1f - p)));

        var x = Expect.Random([6, 7], 1);
        x.RequiresGrad = true;
        var y = F.Dropout(x, p, training: true, new Rng(5));
        F.Sum(y).Backward();
        Assert.Equal(mask, x.Grad!.ToArray());
        for (int i = 0; i < x.Length; i++) Assert.Equal(x.Span[i] * mask[i], y.Span[i]);
    }

    [Fact]
    public void GradientMatchesFiniteDifferencesWithAFixedMask()
    {
        Expect.GradientsMatch(x => F.Dropout(x[0], 0.4f, training: true, new Rng(9)), Expect.Random([5, 4], 2));
        Expect.GradientsMatch(x => F.Dropout2d(x[0], 0.4f, training: true, new Rng(9)), Expect.Random([3, 4, 2, 3], 3));
    }

    [Fact]
    public void GradientAccumulatesWhenTheInputIsUsedTwice() =>
        Expect.GradientsMatch(x => F.Add(F.Dropout(x[0], 0.5f, training: true, new Rng(4)), F.Dropout2d(x[0], 0.5f, training: true, new Rng(6))),
            Expect.Random([2, 3, 2, 2], 4));

    [Fact]
    public void KeepsAboutOneMinusPAndPreservesTheExpectation()
    {
        const float p = 0.2f;
        var x = Tensor.Full(new Shape(200, 500), 3f);
        var y = F.Dropout(x, p, training: true, new Rng(1)).Span;
        int kept = 0;
        double sum = 0;
        foreach (var v in y)
        {
            if (v != 0f) { kept++; Assert.Equal(3f / (1f - p), v, 5); }
            sum += v;
        }
        // 100 000 Bernoulli(0.8) draws: the standard deviation of the share is 0.0013.
        Assert.InRange(kept / 100_000.0, 0.8 - 0.006, 0.8 + 0.006);
        Assert.InRange(sum / 100_000.0, 3 * 0.99, 3 * 1.01);
    }

    [Fact]
    public void IsTheIdentityInEvaluationModeOrWithPZero()
    {
        var x = Expect.Random([4, 5], 7);
        Assert.Same(x, F.Dropout(x, 0.5f, training: false, new Rng(1)));
        Assert.Same(x, F.Dropout(x, 0f, training: true, new Rng(1)));
        var image = Expect.Random([2, 3, 2, 2], 8);
        Assert.Same(image, F.Dropout2d(image, 0.5f, training: false, new Rng(1)));
    }

    [Fact]
    public void PEqualToOneDropsEverything()
    {
        var y = F.Dropout(Expect.Random([3, 3], 9), 1f, training: true, new Rng(1));
        Assert.All(y.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void TheSameSeedGivesTheSameMaskAndAnotherSeedAnother()
    {
        var x = Tensor.Ones(1000);
        var a = F.Dropout(x, 0.5f, training: true, new Rng(123)).ToArray();
        var b = F.Dropout(x, 0.5f, training: true, new Rng(123)).ToArray();
        var c = F.Dropout(x, 0.5f, training: true, new Rng(124)).ToArray();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        // Successive calls on one generator draw fresh masks.
        var rng = new Rng(123);
        Assert.Equal(a, F.Dropout(x, 0.5f, training: true, rng).ToArray());
        Assert.NotEqual(a, F.Dropout(x, 0.5f, training: true, rng).ToArray());
    }

    [Fact]
    public void Dropout2dZeroesWholeChannels()
    {
        const float p = 0.5f;
        var x = Expect.Random([8, 16, 3, 4], 10, 0.5f, 1.5f); // no zeros of its own
        var y = F.Dropout2d(x, p, training: true, new Rng(2)).Span;
        int dropped = 0;
        for (int plane = 0; plane < 8 * 16; plane++)
        {
            var values = y.Slice(plane * 12, 12).ToArray();
            var inputs = x.Span.Slice(plane * 12, 12).ToArray();
            if (values[0] == 0f)
            {
                dropped++;
                Assert.All(values, v => Assert.Equal(0f, v));
            }
            else
                for (int i = 0; i < 12; i++) Assert.Equal(inputs[i] * 2f, values[i]);
        }
        Assert.InRange(dropped, 40, 88); // 128 channels at p = 0.5: mean 64, standard deviation 5.7
    }

    [Fact]
    public void RejectsBadArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => F.Dropout(Tensor.Ones(3), 1.5f, training: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => F.Dropout(Tensor.Ones(3), -0.1f, training: false));
        Assert.Throws<ArgumentOutOfRangeException>(() => F.Dropout(Tensor.Ones(3), float.NaN, training: true));
        var error = Assert.Throws<ArgumentException>(() => F.Dropout2d(Tensor.Ones(4, 3), 0.5f, training: true));
        Assert.Contains("[4, 3]", error.Message);
    }

    [Fact]
    public void DrawsNothingAndRecordsNothingInEvaluation()
    {
        var rng = new Rng(77);
        var before = rng.StateDict();
        var x = Expect.Random([3, 3], 11);
        x.RequiresGrad = true;
        using (GradMode.NoGrad()) F.Dropout(x, 0.5f, training: false, rng);
        Assert.Equal(before, rng.StateDict());
    }
}
