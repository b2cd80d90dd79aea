using Sinapse.Kernels;
using Sinapse.Tensors;

namespace Sinapse.Tests.Kernels;

public class ElementwiseTests
{
    /// <summary>Random values in [−5, 5] with the kinks ±3 (and 0) planted, at a length that leaves a scalar tail.</summary>
    static float[] Inputs()
    {
        var x = new float[1003];
        new Rng(4).FillUniform(x, -5f, 5f);
        (x[0], x[1], x[2], x[17], x[1001]) = (-3f, 3f, 0f, 3f, -3f);
        return x;
    }

    [Fact]
    public void HardSwishMatchesTheScalarDefinitionBitwise()
    {
        var x = Inputs();
        var dy = new float[x.Length];
        new Rng(5).FillUniform(dy, -1f, 1f);
        var y = new float[x.Length];
        var dx = new float[x.Length];
        Elementwise.HardSwish(x, y);
        Elementwise.HardSwishBackward(x, dy, dx);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(x[i] * Math.Clamp(x[i] + 3f, 0f, 6f) / 6f, y[i]);
            Assert.Equal(x[i] < -3f ? 0f : x[i] <= 3f ? dy[i] * (x[i] / 3f + 0.5f) : dy[i], dx[i]);
        }
        Assert.Equal(dy[0] * -0.5f, dx[0]);    // x/3 + 1/2 from −3 inclusive, as PyTorch
        Assert.Equal(dy[1] * 1.5f, dx[1]);     // x/3 + 1/2 at +3
    }

    [Fact]
    public void HardSigmoidMatchesTheScalarDefinitionBitwise()
    {
        var x = Inputs();
        var dy = new float[x.Length];
        new Rng(6).FillUniform(dy, -1f, 1f);
        var y = new float[x.Length];
        var dx = new float[x.Length];
        Elementwise.HardSigmoid(x, y);
        Elementwise.HardSigmoidBackward(x, dy, dx);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(Math.Clamp(x[i] + 3f, 0f, 6f) / 6f, y[i]);
            Assert.Equal(x[i] > -3f && x[i] < 3f ? dy[i] / 6f : 0f, dx[i]);
        }
        Assert.Throws<ArgumentException>(() => Elementwise.HardSigmoid(x, new float[3]));
    }
}
