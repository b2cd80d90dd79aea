using Sinapse.Diagnostics;
using Sinapse.Layers;
using Sinapse.Tensors;

namespace Sinapse.Tests.Diagnostics;

public class FilterSymmetryTests
{
    [Fact]
    public void TheLargestDifferenceIsOverEveryPairAndEveryTap()
    {
        var convolution = new Conv2d(2, 3, 3, rng: new Rng(1));
        var weights = convolution.Weight.Span;
        weights.Fill(0.5f);
        Assert.Equal(0f, FilterSymmetry.LargestDifference(convolution));

        int size = 2 * 3 * 3;
        weights[1 * size + 17] = 0.75f;   // filter 1's last tap (second input channel): 0.25 from filter 0
        weights[2 * size + 17] = 0.25f;   // filter 2's: 0.25 from filter 0 the other way, 0.5 from filter 1
        Assert.Equal(0.5f, FilterSymmetry.LargestDifference(convolution));
    }
}
