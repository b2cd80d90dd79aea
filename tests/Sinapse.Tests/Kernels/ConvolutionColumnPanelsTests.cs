using System.Runtime.InteropServices;
using Sinapse.Kernels;

namespace Sinapse.Tests.Kernels;

public unsafe class ConvolutionColumnPanelsTests
{
    /// <summary>Packable geometries with C_in·kH·kW a multiple of 32 (288, the course CNN's second
    /// layer), of 16 but not 32 (48), and neither (18, 27, 36: a last panel partly or wholly zero).</summary>
    public static IEnumerable<object[]> Geometries()
    {
        yield return [new ConvGeometry(2, 32, 64, 1, 14, 14, 3, 3)];
        yield return [new ConvGeometry(3, 3, 5, 1, 6, 6, 3, 3)];
        yield return [new ConvGeometry(1, 4, 8, 1, 6, 6, 3, 3)];
        yield return [new ConvGeometry(2, 2, 3, 1, 9, 10, 3, 3, 2, 1)];
        yield return [new ConvGeometry(3, 3, 6, 1, 8, 8, 3, 3, DilationHeight: 2, DilationWidth: 2)];
        yield return [new ConvGeometry(2, 3, 4, 1, 7, 7, 4, 4)];
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void PanelsHoldTheTransposedColumnMatrix(ConvGeometry g)
    {
        if (!System.Runtime.Intrinsics.X86.Avx512F.IsSupported || Gemm.Kernel != GemmKernel.Vector512) return;
        Assert.True(ConvolutionColumnPanels.CanPackTransposed(g), $"{g} should be packable");
        int depth = g.InChannels * g.KernelHeight * g.KernelWidth, columns = g.Batch * g.OutputHeight * g.OutputWidth;
        int paddedDepth = (depth + 31) / 32 * 32;
        var x = ConvolutionKernelTests.Random(g.InputLength, 5);
        var matrix = new float[depth * columns];
        var panels = new float[paddedDepth * columns];
        Array.Fill(panels, float.NaN);
        fixed (float* input = x)
        fixed (float* col = matrix)
        fixed (float* packed = panels)
        {
            int imageSize = g.InChannels * g.InputHeight * g.InputWidth;
            for (int n = 0; n < g.Batch; n++)
                Convolution.Unfold(g, input + n * imageSize, col, columns, n * g.OutputHeight * g.OutputWidth, toColumns: true);
            ConvolutionColumnPanels.PackTransposed(g, input, input + x.Length, g.Batch, packed);
        }
        for (int t = 0; t < paddedDepth; t++)
            for (int k = 0; k < columns; k++)
            {
                float expected = t < depth ? matrix[t * columns + k] : 0f;
                float actual = panels[t / 32 * columns * 32 + k * 32 + t % 32];
                Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual),
                    $"{g}: tap {t} of pixel {k} is {actual}, expected {expected}");
            }
    }

    [Fact]
    public void NarrowPaddedOrGroupedGeometriesAreNotPacked()
    {
        // 9 taps fit a narrow panel; padding and groups are outside the packed path.
        Assert.False(ConvolutionColumnPanels.CanPackTransposed(new ConvGeometry(2, 1, 32, 1, 14, 14, 3, 3)));
        Assert.False(ConvolutionColumnPanels.CanPackTransposed(new ConvGeometry(2, 8, 8, 1, 14, 14, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1)));
        Assert.False(ConvolutionColumnPanels.CanPackTransposed(new ConvGeometry(2, 8, 8, 2, 14, 14, 3, 3)));
    }
}
