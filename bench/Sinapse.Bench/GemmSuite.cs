using Sinapse.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace Sinapse.Bench;

/// <summary>SGEMM: big squares, and the products of an MLP 784-256-128-64-10 at batch 128
/// (forward X·Wᵀ, input gradient dY·W, weight gradient dYᵀ·X), and the first layer at batch 1.</summary>
public static class GemmSuite
{
    public static IEnumerable<BenchRecord> Run(BenchOptions options)
    {
        foreach (int size in new[] { 256, 512, 1024, 2048 })
            yield return Case(options, $"square {size}", false, false, size, size, size);

        const int batch = 128;
        int[] widths = [784, 256, 128, 64, 10];
        for (int layer = 0; layer + 1 < widths.Length; layer++)
        {
            int input = widths[layer], output = widths[layer + 1];
            string name = $"mlp {input}->{output}";
            yield return Case(options, $"{name} fwd", false, true, batch, output, input);   // X·Wᵀ
            yield return Case(options, $"{name} dX", false, false, batch, input, output);   // dY·W
            yield return Case(options, $"{name} dW", true, false, output, input, batch);    // dYᵀ·X
        }

        // Batch-1 online learning on the first layer: a vector-matrix product each way and an
        // outer product for the weight gradient (the direct paths, no packing).
        yield return Case(options, "mlp 784->256 fwd b1", false, true, 1, 256, 784);
        yield return Case(options, "mlp 784->256 dX b1", false, false, 1, 784, 256);
        yield return Case(options, "mlp 784->256 dW b1", true, false, 256, 784, 1);
    }

    /// <summary>C(m×n) = op(A)·op(B) with beta = 0 on both sides, on preallocated buffers.</summary>
    static BenchRecord Case(BenchOptions options, string name, bool transposeA, bool transposeB, int m, int n, int k)
    {
        var random = new Random(42);
        // Stored shapes: A m×k (k×m when transposed), B k×n (n×k when transposed).
        var a = RandomArray(random, m * k);
        var b = RandomArray(random, k * n);
        var c = new float[m * n];
        int lda = transposeA ? m : k, ldb = transposeB ? k : n;

        using var scope = NewDisposeScope();
        var aTensor = tensor(a, transposeA ? [k, m] : [m, k]);
        var bTensor = tensor(b, transposeB ? [n, k] : [k, n]);
        var cTensor = zeros(m, n);
        // Views made once, outside the timed loop: torch handles the transposes in the BLAS call.
        var aOperand = transposeA ? aTensor.t() : aTensor;
        var bOperand = transposeB ? bTensor.t() : bTensor;

        var (sinapseMs, torchMs) = BenchTiming.Compare(options,
            () => Gemm.Multiply(transposeA, transposeB, m, n, k, 1f, a, lda, b, ldb, 0f, c, n),
            () => cTensor.addmm_(aOperand, bOperand, beta: 0f, alpha: 1f));

        double flops = 2.0 * m * n * k;
        return new BenchRecord("gemm", name, sinapseMs, torchMs)
        {
            SinapseGflops = flops / (sinapseMs * 1e6),
            TorchGflops = flops / (torchMs * 1e6),
        };
    }

    static float[] RandomArray(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
