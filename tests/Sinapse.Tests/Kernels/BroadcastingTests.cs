using Sinapse.Kernels;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Kernels;

/// <summary>
/// The broadcast loop and the sum-to-shape reduction on tensors large enough to be split over the
/// worker pool (more than 32768 elements): the same bits for 1 and 2 threads, and the values the
/// definitions give.
/// </summary>
[Collection(WorkerPoolCollection.Name)]
public class BroadcastingTests
{
    [Fact]
    public void CollapsesAxesEveryOperandWalksContiguously()
    {
        // Equal shapes: one run over everything.
        var loop = new BroadcastLoop(new Shape(2, 3, 4), new Shape(2, 3, 4), new Shape(2, 3, 4));
        Assert.Equal(24, loop.Inner);
        Assert.Equal([true, true], loop.InnerContiguous);
        // [3, 1] + [1, 4]: runs of 4 along which the first operand repeats one value.
        loop = new BroadcastLoop(new Shape(3, 4), new Shape(3, 1), new Shape(1, 4));
        Assert.Equal(4, loop.Inner);
        Assert.Equal([false, true], loop.InnerContiguous);
        // [2, 1, 4, 1] * [3, 1, 5]: the size-1 axes of both are dropped before runs are merged.
        loop = new BroadcastLoop(new Shape(2, 3, 4, 5), new Shape(2, 1, 4, 1), new Shape(3, 1, 5));
        Assert.Equal(5, loop.Inner);
        Assert.Equal([false, true], loop.InnerContiguous);
        // A 0-d operand repeats everywhere.
        loop = new BroadcastLoop(new Shape(), new Shape(), new Shape());
        Assert.Equal(1, loop.Length);
        Assert.Equal([false, false], loop.InnerContiguous);
    }

    [Fact]
    public void RandomShapePairsMatchAnIndexByIndexBroadcast()
    {
        // Ranks 0 to 4, sizes 0 to 3 with many 1s: every way the loop can drop, merge and repeat axes,
        // forward (a − b) and backward (each operand's gradient summed over its broadcast axes).
        var rng = new Rng(151);
        for (int trial = 0; trial < 300; trial++)
        {
            var (aShape, bShape) = RandomPair(rng);
            var a = Expect.Random(aShape, (ulong)(1000 + trial));
            var b = Expect.Random(bShape, (ulong)(2000 + trial));
            a.RequiresGrad = b.RequiresGrad = true;
            var y = F.Subtract(a, b);
            var upstream = Expect.Random(y.Shape.ToArray(), (ulong)(3000 + trial));
            y.Backward(upstream);

            var expectedA = new double[a.Length];
            var expectedB = new double[b.Length];
            var index = new int[y.Rank];
            for (int i = 0; i < y.Length; i++)
            {
                int at = Flat(a.Shape, index), bt = Flat(b.Shape, index);
                Assert.True(a.Span[at] - b.Span[bt] == y.Span[i], $"{a.Shape} - {b.Shape}: element {i} is {y.Span[i]}, not {a.Span[at] - b.Span[bt]}.");
                expectedA[at] += upstream.Span[i];
                expectedB[bt] -= upstream.Span[i];
                for (int axis = y.Rank - 1; axis >= 0 && ++index[axis] == y.Shape[axis]; axis--) index[axis] = 0;
            }
            Expect.Close(expectedA.Select(v => (float)v).ToArray(), a.Grad!.Span, 1e-5, $"{a.Shape} - {b.Shape}: a's gradient");
            Expect.Close(expectedB.Select(v => (float)v).ToArray(), b.Grad!.Span, 1e-5, $"{a.Shape} - {b.Shape}: b's gradient");
        }
    }

    /// <summary>Two shapes that broadcast: a random output shape, each operand keeping a random tail of its axes with some set to 1.</summary>
    static (int[], int[]) RandomPair(Rng rng)
    {
        int rank = rng.NextInt(5);
        var output = new int[rank];
        for (int axis = 0; axis < rank; axis++) output[axis] = rng.NextInt(5) == 0 ? 0 : 1 + rng.NextInt(3);
        int[] Operand()
        {
            var shape = output[(rank - rng.NextInt(rank + 1))..];
            for (int axis = 0; axis < shape.Length; axis++) if (rng.NextInt(3) == 0) shape[axis] = 1;
            return shape;
        }
        return (Operand(), Operand());
    }

    /// <summary>The flat position in <paramref name="shape"/> of an output index, aligned at the last axis, size-1 axes read at 0.</summary>
    static int Flat(Shape shape, int[] index)
    {
        int at = 0;
        for (int axis = 0; axis < shape.Rank; axis++)
            at = at * shape[axis] + (shape[axis] == 1 ? 0 : index[index.Length - shape.Rank + axis]);
        return at;
    }

    /// <summary>
    /// Each case's inputs and function. Runs of 17 split 3 + 14 at the two-thread boundary of
    /// [1945, 17], so the short piece takes TensorPrimitives' scalar path and the rest its vector one.
    /// </summary>
    static readonly (string Name, int[][] Shapes, Func<Tensor[], Tensor> Function)[] Large =
    [
        ("Add [1945, 17] + [17]", [[1945, 17], [17]], x => F.Add(x[0], x[1])),
        ("Subtract [17] - [1945, 17]", [[17], [1945, 17]], x => F.Subtract(x[0], x[1])),
        ("Multiply [40, 1, 900] * [1, 37, 1]", [[40, 1, 900], [1, 37, 1]], x => F.Multiply(x[0], x[1])),
        ("Divide [1945, 17] / [1945, 1]", [[1945, 17], [1945, 1]], x => F.Divide(x[0], x[1])),
        ("Pow [1945, 17] ^ [17]", [[1945, 17], [17]], x => F.Pow(x[0], x[1])),
        ("Pow [1945, 1] ^ [1945, 17]", [[1945, 1], [1945, 17]], x => F.Pow(x[0], x[1])),
        ("Maximum [3000, 11] [3000, 11]", [[3000, 11], [3000, 11]], x => F.Maximum(x[0], x[1])),
        ("Minimum [1945, 17] []", [[1945, 17], []], x => F.Minimum(x[0], x[1])),
        ("Where [1945, 17] [17]", [[1945, 17], [17]], x => F.Where(F.Gt(x[0], Tensor.Scalar(1.2f)), x[0], x[1])),
        ("Clamp [300, 111]", [[300, 111]], x => F.Clamp(x[0], 0.8f, 1.6f)),
        ("Exp [300, 111]", [[300, 111]], x => F.Exp(x[0])),
        ("Log1p [300, 111]", [[300, 111]], x => F.Log1p(x[0])),
        ("Sin [300, 111]", [[300, 111]], x => F.Sin(x[0])),
        ("Rsqrt [300, 111]", [[300, 111]], x => F.Rsqrt(x[0])),
        ("Sum [300, 120] over 1", [[300, 120]], x => F.Sum(x[0], 1)),
        ("Sum [300, 120] over 0", [[300, 120]], x => F.Sum(x[0], 0)),
        ("Mean [20, 30, 60] over 0, 2", [[20, 30, 60]], x => F.Mean(x[0], [0, 2])),
        ("Sum [1945, 17] over all", [[1945, 17]], x => F.Sum(x[0])),
        ("BroadcastTo [17] to [1945, 17]", [[17]], x => F.BroadcastTo(x[0], 1945, 17)),
        ("MaskedFill [1945, 17] [1945, 1]", [[1945, 17]], x => F.MaskedFill(x[0], F.Lt(F.Sum(x[0], 1, keepDim: true), Tensor.Scalar(21f)), -1f)),
        ("Softmax [40, 30, 30] over 1", [[40, 30, 30]], x => F.Softmax(x[0], 1)),
        // Softmax along an inner axis works on blocks of 512 neighbouring slices: two whole blocks and a part.
        ("Softmax [5, 7, 1100] over 1", [[5, 7, 1100]], x => F.Softmax(x[0], 1)),
        ("LogSoftmax [1, 40, 1100] over 1", [[1, 40, 1100]], x => F.LogSoftmax(x[0], 1)),
        ("LogSoftmax [40, 30, 30] over -1", [[40, 30, 30]], x => F.LogSoftmax(x[0], -1)),
        ("Ge [1945, 17] [17]", [[1945, 17], [17]], x => F.Ge(x[0], x[1])),
    ];

    [Fact]
    public void ResultsAndGradientsAreBitwiseTheSameForOneAndTwoThreads()
    {
        var saved = Workers.Count;
        try
        {
            Workers.Count = 1;
            var single = Large.Select(Run).ToArray();
            Workers.Count = 2;
            var dual = Large.Select(Run).ToArray();
            for (int c = 0; c < Large.Length; c++)
            {
                Assert.True(single[c].Length == dual[c].Length, $"{Large[c].Name}: {single[c].Length} arrays against {dual[c].Length}.");
                for (int k = 0; k < single[c].Length; k++)
                    Assert.True(single[c][k].AsSpan().SequenceEqual(dual[c][k]), $"{Large[c].Name}: {(k == 0 ? "the output" : $"input {k - 1}'s gradient")} differs between 1 and 2 threads.");
            }
        }
        finally
        {
            Workers.Count = saved;
        }
    }

    /// <summary>The output, then every input's gradient for a random upstream gradient (none for a comparison).</summary>
    static float[][] Run((string Name, int[][] Shapes, Func<Tensor[], Tensor> Function) c)
    {
        var inputs = c.Shapes.Select((shape, k) => Expect.Random(shape, (ulong)(111 + k), 0.5f, 2f)).ToArray();
        foreach (var input in inputs) input.RequiresGrad = true;
        var y = c.Function(inputs);
        Assert.True(y.Length > 32768 || inputs.Any(x => x.Length > 32768), $"{c.Name} is too small to run in parallel.");
        if (!y.RequiresGrad) return [y.ToArray()];
        y.Backward(Expect.Random(y.Shape.ToArray(), 121));
        return [y.ToArray(), .. inputs.Select(x => x.Grad!.ToArray())];
    }

    [Fact]
    public void LargeBroadcastsAndTheirGradientsMatchTheDefinitions()
    {
        var saved = Workers.Count;
        try
        {
            Workers.Count = 2;
            int rows = 1945, columns = 17;
            var a = Expect.Random([rows, columns], 131);
            var b = Expect.Random([columns], 132);
            a.RequiresGrad = b.RequiresGrad = true;
            var y = F.Multiply(a, b);
            var upstream = Expect.Random([rows, columns], 133);
            y.Backward(upstream);
            var expectedB = new double[columns];
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < columns; j++)
                {
                    int i = r * columns + j;
                    Assert.Equal(a.Span[i] * b.Span[j], y.Span[i]);
                    Assert.Equal(upstream.Span[i] * b.Span[j], a.Grad!.Span[i]);
                    expectedB[j] += (double)upstream.Span[i] * a.Span[i];
                }
            Expect.Close(expectedB.Select(v => (float)v).ToArray(), b.Grad!.Span, 1e-5, "b's gradient");

            // Each parallel path of the sum: independent row sums, column blocks, and the general walk.
            var x = Expect.Random([20, 30, 60], 134, 0.5f, 2f);
            Expect.Close(Reference(x, [1, 2]), F.Sum(x, [1, 2]).Span, 1e-5, "rows");
            Expect.Close(Reference(x, [0]), F.Sum(x, 0).Span, 1e-5, "columns");
            Expect.Close(Reference(x, [0, 2]), F.Sum(x, [0, 2]).Span, 1e-5, "general");
        }
        finally
        {
            Workers.Count = saved;
        }
    }

    /// <summary>Σ over the axes <paramref name="dims"/> of a 3-D tensor in double, keeping the others in order.</summary>
    static float[] Reference(Tensor x, int[] dims)
    {
        var shape = x.Shape;
        var kept = Enumerable.Range(0, 3).Where(axis => !dims.Contains(axis)).ToArray();
        var sums = new double[kept.Aggregate(1, (n, axis) => n * shape[axis])];
        for (int i = 0; i < shape[0]; i++)
            for (int j = 0; j < shape[1]; j++)
                for (int k = 0; k < shape[2]; k++)
                {
                    int[] index = [i, j, k];
                    int at = 0;
                    foreach (var axis in kept) at = at * shape[axis] + index[axis];
                    sums[at] += x.Span[(i * shape[1] + j) * shape[2] + k];
                }
        return sums.Select(v => (float)v).ToArray();
    }
}
