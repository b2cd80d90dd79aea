using Sinapse.Init;
using Sinapse.Tensors;

namespace Sinapse.Tests.Init;

public class InitializerTests
{
    // A 256×784 layer: fan-in m = 784, fan-out n = 256.
    const int FanIn = 784, FanOut = 256;

    static float[] Fill(Initializer initializer, ulong seed = 17)
    {
        var weights = new float[FanIn * FanOut];
        initializer.Fill(weights, FanIn, FanOut, new Rng(seed));
        return weights;
    }

    static (double Mean, double Std, float Min, float Max) Stats(float[] values)
    {
        double mean = values.Average(v => (double)v);
        double variance = values.Sum(v => (v - mean) * (v - mean)) / values.Length;
        return (mean, Math.Sqrt(variance), values.Min(), values.Max());
    }

    public static TheoryData<string, double> UniformSchemes => new()
    {
        { "glorot_uniform", Math.Sqrt(6.0 / (FanIn + FanOut)) },
        { "he_uniform", Math.Sqrt(6.0 / FanIn) },
        { "lecun_uniform", Math.Sqrt(3.0 / FanIn) },
    };

    [Theory]
    [MemberData(nameof(UniformSchemes))]
    public void UniformSchemesFillUpToTheirBound(string name, double bound)
    {
        var (mean, std, min, max) = Stats(Fill(Initializer.Parse(name)));
        Assert.InRange(max, 0.99 * bound, bound);
        Assert.InRange(min, -bound, -0.99 * bound);
        Assert.InRange(std, 0.98 * bound / Math.Sqrt(3), 1.02 * bound / Math.Sqrt(3));   // U(−r, r) has σ = r/√3
        Assert.InRange(mean, -0.01 * bound, 0.01 * bound);
    }

    public static TheoryData<string, double> NormalSchemes => new()
    {
        { "glorot_normal", Math.Sqrt(2.0 / (FanIn + FanOut)) },
        { "he_normal", Math.Sqrt(2.0 / FanIn) },
        { "lecun_normal", Math.Sqrt(1.0 / FanIn) },
    };

    [Theory]
    [MemberData(nameof(NormalSchemes))]
    public void NormalSchemesHaveTheirStandardDeviation(string name, double sigma)
    {
        var values = Fill(Initializer.Parse(name));
        var (mean, std, _, max) = Stats(values);
        Assert.InRange(std, 0.98 * sigma, 1.02 * sigma);
        Assert.InRange(mean, -0.01 * sigma, 0.01 * sigma);
        // Not truncated: a sample of 200k normals reaches beyond 4σ.
        Assert.True(max > 4 * sigma, $"max {max} vs σ {sigma}");
        double withinOneSigma = values.Count(v => Math.Abs(v) < sigma) / (double)values.Length;
        Assert.InRange(withinOneSigma, 0.673, 0.693);   // 68.3% for a normal
    }

    [Fact]
    public void PlainDistributionsIgnoreTheLayerSize()
    {
        var (mean, std, min, max) = Stats(Fill(Initializer.Uniform(-5f, 5f)));
        Assert.InRange(min, -5f, -4.99f);
        Assert.InRange(max, 4.99f, 5f);
        Assert.InRange(std, 0.98 * 5 / Math.Sqrt(3), 1.02 * 5 / Math.Sqrt(3));
        Assert.InRange(mean, -0.05, 0.05);

        (mean, std, _, _) = Stats(Fill(Initializer.Normal(0f, 1f)));
        Assert.InRange(std, 0.98, 1.02);
        Assert.InRange(mean, -0.01, 0.01);

        (mean, std, _, _) = Stats(Fill(Initializer.Normal(3f, 0.5f)));
        Assert.InRange(std, 0.49, 0.51);
        Assert.InRange(mean, 2.99, 3.01);

        Assert.All(Fill(Initializer.Zeros()), v => Assert.Equal(0f, v));
        Assert.All(Fill(Initializer.Ones()), v => Assert.Equal(1f, v));
        Assert.All(Fill(Initializer.Constant(0.25f)), v => Assert.Equal(0.25f, v));
    }

    [Fact]
    public void TheSameSeedGivesTheSameWeights()
    {
        Assert.Equal(Fill(Initializer.HeNormal(), 3), Fill(Initializer.HeNormal(), 3));
        Assert.NotEqual(Fill(Initializer.HeNormal(), 3), Fill(Initializer.HeNormal(), 4));
    }

    [Theory]
    [InlineData("glorot_uniform", "glorot_uniform")]
    [InlineData("Xavier_Uniform", "glorot_uniform")]
    [InlineData("xavier-normal", "glorot_normal")]
    [InlineData("he_uniform", "he_uniform")]
    [InlineData("kaiming_normal", "he_normal")]
    [InlineData("lecun_uniform", "lecun_uniform")]
    [InlineData("lecun_normal", "lecun_normal")]
    [InlineData("zeros", "zeros")]
    [InlineData("ones", "ones")]
    [InlineData("constant(0.5)", "constant(0.5)")]
    [InlineData("uniform(-5, 5)", "uniform(-5, 5)")]
    [InlineData("uniform( -0.05 , 0.05 )", "uniform(-0.05, 0.05)")]
    [InlineData("normal(0, 1)", "normal(0, 1)")]
    public void ParseReadsEveryNameAndTheNameRoundTrips(string text, string name)
    {
        var initializer = Initializer.Parse(text);
        Assert.Equal(name, initializer.Name);
        Assert.Equal(name, Initializer.Parse(initializer.Name).Name);
    }

    [Theory]
    [InlineData("orthogonal")]
    [InlineData("uniform(1)")]
    [InlineData("normal(0, x)")]
    [InlineData("uniform(5, -5)")]
    [InlineData("normal(0, -1)")]
    public void ParseRejectsBadNamesAndArguments(string text) =>
        Assert.Throws<ArgumentException>(() => Initializer.Parse(text));

    [Fact]
    public void FansMustBePositive() =>
        Assert.Throws<ArgumentException>(() => Initializer.GlorotUniform().Fill(new float[4], 0, 4, new Rng(1)));

    /// <summary>A non-finite argument would fill the weights with NaN or infinity: refused where it is given.</summary>
    [Theory]
    [InlineData("constant(NaN)")]
    [InlineData("normal(NaN, 1)")]
    [InlineData("normal(0, Infinity)")]
    [InlineData("uniform(-1e39, 1e39)")]
    [InlineData("uniform(-3e38, 3e38)")]
    public void NonFiniteArgumentsAreRefused(string name) =>
        Assert.Throws<ArgumentException>(() => Initializer.Parse(name));
}
