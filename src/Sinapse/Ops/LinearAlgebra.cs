using Sinapse.Autograd;
using Sinapse.Kernels;
using Sinapse.Tensors;

namespace Sinapse.Ops;

public static partial class F
{
    /// <summary>
    /// The matrix product with torch.matmul's rules. Two vectors give their dot product, a scalar.
    /// A vector on the left acts as a row [1, k], on the right as a column [k, 1], and that added
    /// dimension is removed from the result. Dimensions before the last two are batch dimensions,
    /// broadcast against each other: [2, 1, 3, 4]·[5, 4, 6] → [2, 5, 3, 6], and [k]·[B, k, n] → [B, n].
    /// Every product runs on the GEMM, with transposes as flags in the backward pass; the gradient
    /// of an operand broadcast over a batch dimension is summed over it.
    /// </summary>
    public static Tensor Matmul(Tensor a, Tensor b) => MatrixProduct.Run("Matmul", a, a.Shape, b, b.Shape);

    /// <summary>[m, k]·[k, n] → [m, n], for two matrices only (torch.mm).</summary>
    public static Tensor Mm(Tensor a, Tensor b)
    {
        RequireRanks("Mm", "two matrices", a, 2, b, 2);
        return MatrixProduct.Run("Mm", a, a.Shape, b, b.Shape);
    }

    /// <summary>[m, k]·[k] → [m], a matrix times a vector (torch.mv).</summary>
    public static Tensor Mv(Tensor matrix, Tensor vector)
    {
        RequireRanks("Mv", "a matrix and a vector", matrix, 2, vector, 1);
        return MatrixProduct.Run("Mv", matrix, matrix.Shape, vector, vector.Shape);
    }

    /// <summary>Σᵢ aᵢ·bᵢ of two vectors of one length, as a scalar tensor (torch.dot).</summary>
    public static Tensor Dot(Tensor a, Tensor b)
    {
        RequireRanks("Dot", "two vectors", a, 1, b, 1);
        return MatrixProduct.Run("Dot", a, a.Shape, b, b.Shape);
    }

    /// <summary>[n]⊗[m] → [n, m] with yᵢⱼ = aᵢ·bⱼ (torch.outer): the product of a column and a row.</summary>
    public static Tensor Outer(Tensor a, Tensor b)
    {
        RequireRanks("Outer", "two vectors", a, 1, b, 1);
        return MatrixProduct.Run("Outer", a, new Shape(a.Length, 1), b, new Shape(1, b.Length));
    }

    /// <summary>[B, m, k]·[B, k, n] → [B, m, n], one batch size on both sides, nothing broadcast
    /// (torch.bmm; <see cref="Matmul"/> broadcasts).</summary>
    public static Tensor Bmm(Tensor a, Tensor b)
    {
        RequireRanks("Bmm", "two 3-D tensors [batch, m, k] and [batch, k, n]", a, 3, b, 3);
        if (a.Shape[0] != b.Shape[0])
            throw new ArgumentException($"Bmm: the batch sizes of {a.Shape} and {b.Shape} differ ({a.Shape[0]} vs {b.Shape[0]}); Matmul broadcasts them.");
        return MatrixProduct.Run("Bmm", a, a.Shape, b, b.Shape);
    }

    private static void RequireRanks(string op, string expected, Tensor a, int aRank, Tensor b, int bRank)
    {
        if (a.Rank != aRank || b.Rank != bRank)
            throw new ArgumentException($"{op}: expected {expected}, got {a.Shape} and {b.Shape}.");
    }
}

public static partial class TensorExtensions
{
    extension(Tensor x)
    {
        /// <summary>x·other with torch.matmul's rules (<see cref="F.Matmul"/>).</summary>
        public Tensor Matmul(Tensor other) => F.Matmul(x, other);

        /// <summary>[m, k]·[k, n] → [m, n] (<see cref="F.Mm"/>).</summary>
        public Tensor Mm(Tensor other) => F.Mm(x, other);

        /// <summary>[m, k]·[k] → [m] (<see cref="F.Mv"/>).</summary>
        public Tensor Mv(Tensor vector) => F.Mv(x, vector);

        /// <summary>The dot product of two vectors, a scalar (<see cref="F.Dot"/>).</summary>
        public Tensor Dot(Tensor other) => F.Dot(x, other);

        /// <summary>[n]⊗[m] → [n, m] (<see cref="F.Outer"/>).</summary>
        public Tensor Outer(Tensor other) => F.Outer(x, other);

        /// <summary>[B, m, k]·[B, k, n] → [B, m, n] (<see cref="F.Bmm"/>).</summary>
        public Tensor Bmm(Tensor other) => F.Bmm(x, other);
    }
}

/// <summary>
/// How a product of two stacks of matrices becomes GEMMs: the output shape, the size of one
/// product, and for each product the matrix of A and of B it multiplies.
/// </summary>
file sealed class MatmulPlan
{
    public required Shape Output { get; init; }
    /// <summary>One product: [M, K]·[K, N].</summary>
    public int M { get; init; }
    public int N { get; init; }
    public int K { get; init; }
    /// <summary>The products, in the order of the output's matrices; none when the output is empty.</summary>
    public int Products { get; init; }
    /// <summary>For product t, which [M, K] matrix of A and which [K, N] matrix of B it multiplies.</summary>
    public int[] AMatrix { get; init; } = [];
    public int[] BMatrix { get; init; } = [];
    /// <summary>How many matrices A and B hold.</summary>
    public int AMatrices { get; init; }
    public int BMatrices { get; init; }

    /// <summary>The plan for shapes <paramref name="a"/> and <paramref name="b"/> with torch.matmul's
    /// rules; throws, naming <paramref name="op"/>, when they cannot be multiplied.</summary>
    public static MatmulPlan For(string op, Shape a, Shape b)
    {
        if (a.Rank == 0 || b.Rank == 0)
            throw new ArgumentException($"{op}: both operands need at least one dimension, got {a} and {b}.");
        // A vector is a row on the left and a column on the right.
        int m = a.Rank == 1 ? 1 : a[-2], k = a[-1];
        int bk = b.Rank == 1 ? b[0] : b[-2], n = b.Rank == 1 ? 1 : b[-1];
        if (k != bk) throw new ArgumentException($"{op}: shapes {a} and {b} cannot be multiplied ({k} vs {bk}).");

        var aBatch = a.Dimensions[..Math.Max(a.Rank - 2, 0)];
        var bBatch = b.Dimensions[..Math.Max(b.Rank - 2, 0)];
        int rank = Math.Max(aBatch.Length, bBatch.Length);
        int[] aPadded = PadLeft(aBatch, rank), bPadded = PadLeft(bBatch, rank);
        var batch = BroadcastBatch(op, a, b, aPadded, bPadded);
        List<int> outputDimensions = [.. batch];
        if (a.Rank > 1) outputDimensions.Add(m);
        if (b.Rank > 1) outputDimensions.Add(n);
        var output = new Shape([.. outputDimensions]);
        // Nothing to multiply, and the batch could count more matrices than an int holds.
        if (output.Size == 0) return new MatmulPlan { Output = output };

        // Trailing batch dimensions over which B is broadcast fold into the rows of one product:
        // A's matrices there lie one after another, as do the output's, and all use one B, so
        // [B, M, K]·[K, N] is a single [B·M, K]·[K, N] GEMM.
        int kept = rank, fold = 1;
        while (kept > 0 && bPadded[kept - 1] == 1) fold *= batch[--kept];
        var keptBatch = batch.AsSpan(0, kept);
        int products = Product(keptBatch);
        return new MatmulPlan
        {
            Output = output, M = fold * m, N = n, K = k, Products = products,
            AMatrix = MatrixIndices(keptBatch, aPadded.AsSpan(0, kept), products),
            BMatrix = MatrixIndices(keptBatch, bPadded.AsSpan(0, kept), products),
            AMatrices = Product(aPadded.AsSpan(0, kept)),
            BMatrices = Product(bPadded.AsSpan(0, kept)),
        };
    }

    static int[] PadLeft(ReadOnlySpan<int> dimensions, int rank)
    {
        var padded = new int[rank];
        padded.AsSpan().Fill(1);
        dimensions.CopyTo(padded.AsSpan(rank - dimensions.Length));
        return padded;
    }

    /// <summary>The broadcast of two batch shapes of equal rank: each pair equal, or one of them 1.</summary>
    static int[] BroadcastBatch(string op, Shape a, Shape b, int[] aBatch, int[] bBatch)
    {
        var batch = new int[aBatch.Length];
        for (int i = 0; i < batch.Length; i++)
        {
            if (aBatch[i] != bBatch[i] && aBatch[i] != 1 && bBatch[i] != 1)
                throw new ArgumentException(
                    $"{op}: the batch dimensions of {a} and {b} cannot be broadcast together ({aBatch[i]} vs {bBatch[i]} at batch axis {i} of {batch.Length}).");
            batch[i] = aBatch[i] == 1 ? bBatch[i] : aBatch[i];
        }
        return batch;
    }

    static int Product(ReadOnlySpan<int> dimensions)
    {
        int product = 1;
        foreach (int d in dimensions) product *= d;
        return product;
    }

    /// <summary>For each index of <paramref name="batch"/> in row-major order, the index of the
    /// operand's matrix it uses: the operand's own index, with its size-1 (broadcast) axes held at 0.</summary>
    static int[] MatrixIndices(ReadOnlySpan<int> batch, ReadOnlySpan<int> operand, int count)
    {
        int rank = batch.Length;
        var strides = new int[rank];
        for (int axis = rank - 1, stride = 1; axis >= 0; stride *= operand[axis], axis--)
            strides[axis] = operand[axis] == 1 ? 0 : stride;
        var indices = new int[count];
        var position = new int[rank];
        for (int t = 0, index = 0; t < count; t++)
        {
            indices[t] = index;
            // The next position, last axis fastest.
            for (int axis = rank - 1; axis >= 0; axis--)
            {
                index += strides[axis];
                if (++position[axis] < batch[axis]) break;
                index -= strides[axis] * batch[axis];
                position[axis] = 0;
            }
        }
        return indices;
    }
}

/// <summary>The forward and backward pass of every matrix product in <see cref="F"/>.</summary>
file static class MatrixProduct
{
    /// <summary>
    /// <paramref name="a"/>·<paramref name="b"/> with the operands read as <paramref name="aShape"/>
    /// and <paramref name="bShape"/> (their own shapes, or a column and a row for an outer product).
    /// Backward: dA = dY·Bᵀ and dB = Aᵀ·dY for every product, each summed into the matrix of the
    /// operand the product used.
    /// </summary>
    public static Tensor Run(string op, Tensor a, Shape aShape, Tensor b, Shape bShape)
    {
        var plan = MatmulPlan.For(op, aShape, bShape);
        var y = Tensor.Empty(plan.Output);
        if (plan.Products > 0)
        {
            var one = OnePerTarget(plan.Products);
            BatchedGemm.Multiply(false, false, plan.M, plan.N, plan.K, a.Span, b.Span, 0f, y.Span, plan.AMatrix, plan.BMatrix, one);
        }
        // ONNX's MatMul is numpy.matmul, as torch.matmul: an operand read with another shape (an outer product's column and row) is reshaped first.
        if (OnnxTrace.Current is { } trace)
            trace.Bind(y, trace.Node("MatMul", [ReadAs(trace, a, aShape), ReadAs(trace, b, bShape)]));
        if (Tape.NeedsGrad(a, b))
            Tape.Record(op, y, dy =>
            {
                if (a.RequiresGrad) GradientOfA(plan, a, b, dy);
                if (b.RequiresGrad) GradientOfB(plan, a, b, dy);
            }, a, b);
        return y;
    }

    static string ReadAs(OnnxTrace trace, Tensor operand, Shape shape) => operand.Shape == shape ? trace.Value(operand)
        : trace.Node("Reshape", [trace.Value(operand), trace.Integers("shape", shape.ToArray().Select(d => (long)d).ToArray())]);

    /// <summary>dA_u = Σ dY_t·B_{BMatrix[t]}ᵀ over the products t that used A's matrix u.</summary>
    static void GradientOfA(MatmulPlan plan, Tensor a, Tensor b, Tensor dy)
    {
        var da = Tape.GradientTarget(a, out float beta);
        if (plan.Products == 0)
        {
            ClearUnlessAccumulating(da, beta);
            return;
        }
        var (products, start) = GroupBy(plan.AMatrix, plan.AMatrices);
        var bMatrices = Gather(plan.BMatrix, products);
        BatchedGemm.Multiply(false, true, plan.M, plan.K, plan.N, dy.Span, b.Span, beta, da, products, bMatrices, start);
    }

    /// <summary>dB_v = Σ A_{AMatrix[t]}ᵀ·dY_t over the products t that used B's matrix v.</summary>
    static void GradientOfB(MatmulPlan plan, Tensor a, Tensor b, Tensor dy)
    {
        var db = Tape.GradientTarget(b, out float beta);
        if (plan.Products == 0)
        {
            ClearUnlessAccumulating(db, beta);
            return;
        }
        var (products, start) = GroupBy(plan.BMatrix, plan.BMatrices);
        var aMatrices = Gather(plan.AMatrix, products);
        BatchedGemm.Multiply(true, false, plan.K, plan.N, plan.M, a.Span, dy.Span, beta, db, aMatrices, products, start);
    }

    /// <summary>An empty output contributes nothing: the gradient is zero (beta 0: the buffer is garbage).</summary>
    static void ClearUnlessAccumulating(Span<float> gradient, float beta)
    {
        if (beta == 0f) gradient.Clear();
    }

    /// <summary>Target t's single term is term t: [0, 1, …, count].</summary>
    static int[] OnePerTarget(int count)
    {
        var start = new int[count + 1];
        for (int t = 0; t <= count; t++) start[t] = t;
        return start;
    }

    /// <summary>The products ordered by the matrix they use (a counting sort, stable, so each
    /// matrix's products stay in increasing order): those of matrix u are
    /// Products[Start[u] .. Start[u + 1]).</summary>
    static (int[] Products, int[] Start) GroupBy(int[] matrix, int matrices)
    {
        var start = new int[matrices + 1];
        foreach (int u in matrix) start[u + 1]++;
        for (int u = 0; u < matrices; u++) start[u + 1] += start[u];
        var next = start[..matrices];
        var products = new int[matrix.Length];
        for (int t = 0; t < matrix.Length; t++) products[next[matrix[t]]++] = t;
        return (products, start);
    }

    static int[] Gather(int[] values, int[] indices)
    {
        var gathered = new int[indices.Length];
        for (int i = 0; i < indices.Length; i++) gathered[i] = values[indices[i]];
        return gathered;
    }
}
