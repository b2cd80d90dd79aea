using Sinapse.Autograd;
using Sinapse.Kernels;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

public class LinearAlgebraTests
{
    /// <summary>Every rule of torch.matmul, as operand shapes: vectors on either side, batches on
    /// either side, broadcast on one side, on both and interleaved, folds (B shared by trailing
    /// batches), size-1 m, n and k, and empty products.</summary>
    public static TheoryData<int[], int[]> MatmulShapes() => new()
    {
        { [7], [7] },
        { [5, 3], [3, 4] },
        { [3], [3, 4] },
        { [5, 3], [3] },
        { [4, 5, 3], [4, 3, 6] },
        { [4, 5, 3], [3, 6] },
        { [5, 3], [4, 3, 6] },
        { [3], [4, 3, 6] },
        { [4, 5, 3], [3] },
        { [2, 1, 3, 4], [5, 4, 6] },
        { [2, 1, 3, 2, 3], [1, 4, 1, 3, 2] },
        { [2, 3, 2, 3], [2, 1, 3, 2] },
        { [2, 1, 2, 3], [2, 3, 3, 2] },
        { [3, 1, 4], [3, 4, 1] },
        { [2, 5, 1], [2, 1, 6] },
        { [1, 1, 1], [1, 1, 1] },
        { [3, 0], [0, 4] },
        { [2, 3, 0], [2, 0, 4] },
        { [0, 3], [3, 4] },
        { [2, 3], [3, 0] },
        { [0, 2, 3], [3, 4] },
        { [1, 2, 3], [0, 3, 4] },
        { [0], [0] },
    };

    [Theory]
    [MemberData(nameof(MatmulShapes))]
    public void MatmulGradient(int[] aShape, int[] bShape) =>
        Expect.GradientsMatch(x => F.Matmul(x[0], x[1]), Expect.Random(aShape, 1), Expect.Random(bShape, 2));

    [Fact]
    public void StrictFormsGradients()
    {
        Expect.GradientsMatch(x => F.Mm(x[0], x[1]), Expect.Random([4, 3], 1), Expect.Random([3, 5], 2));
        Expect.GradientsMatch(x => F.Mv(x[0], x[1]), Expect.Random([4, 3], 1), Expect.Random([3], 2));
        Expect.GradientsMatch(x => F.Dot(x[0], x[1]), Expect.Random([6], 1), Expect.Random([6], 2));
        Expect.GradientsMatch(x => F.Outer(x[0], x[1]), Expect.Random([4], 1), Expect.Random([3], 2));
        Expect.GradientsMatch(x => F.Bmm(x[0], x[1]), Expect.Random([3, 2, 4], 1), Expect.Random([3, 4, 5], 2));
    }

    [Fact]
    public void GradientsAccumulateWhenAnOperandIsUsedTwice()
    {
        // x·x puts both gradients into one buffer; the broadcast w is summed over the batch on top
        // of the gradient its first use left (beta 1 from the start).
        Expect.GradientsMatch(x => F.Matmul(x[0], x[0]), Expect.Random([2, 3, 3], 1));
        Expect.GradientsMatch(x => F.Add(F.Matmul(x[0], x[1]), F.Matmul(x[0], F.Multiply(x[1], 0.5f))),
            Expect.Random([4, 2, 3], 1), Expect.Random([3, 5], 2));
        Expect.GradientsMatch(x => F.Add(F.Matmul(x[1], x[0]), F.Matmul(F.Multiply(x[1], 2f), x[0])),
            Expect.Random([4, 3, 2], 1), Expect.Random([5, 3], 2));
    }

    public static TheoryData<string> FixtureCases()
    {
        var cases = new TheoryData<string>();
        foreach (var c in Fixture.Cases("linalg.json")) cases.Add(c.GetProperty("name").GetString()!);
        return cases;
    }

    [Theory]
    [MemberData(nameof(FixtureCases))]
    public void MatchesPyTorch(string name)
    {
        var c = Fixture.Case("linalg.json", name);
        var a = Tensor.FromArray(c.Floats("a"), c.Ints("a_shape"));
        var b = Tensor.FromArray(c.Floats("b"), c.Ints("b_shape"));
        a.RequiresGrad = b.RequiresGrad = true;
        string op = c.GetProperty("op").GetString()!;
        var y = op switch
        {
            "matmul" => F.Matmul(a, b),
            "mm" => F.Mm(a, b),
            "mv" => F.Mv(a, b),
            "dot" => F.Dot(a, b),
            "outer" => F.Outer(a, b),
            "bmm" => F.Bmm(a, b),
            _ => throw new InvalidDataException($"linalg.json: unknown op {op}"),
        };
        string what = $"{op} '{name}' {a.Shape}·{b.Shape}";
        Assert.Equal(new Shape(c.Ints("output_shape")), y.Shape);
        Expect.Close(c.Floats("output"), y.Span, 1e-5, what + " output");

        // (A scalar output's upstream is one number; FromArray would make it a vector.)
        y.Backward(Tensor.FromArray(c.Floats("upstream")).ReshapedTo(y.Shape.ToArray()));
        Expect.Close(c.Floats("grad_a"), a.Grad!.Span, 1e-5, what + " grad_a");
        Expect.Close(c.Floats("grad_b"), b.Grad!.Span, 1e-5, what + " grad_b");
    }

    [Fact]
    public void TheFixturesCoverBroadcastingAndEmptyProducts()
    {
        var cases = Fixture.Cases("linalg.json").ToList();
        int[] Batch(System.Text.Json.JsonElement c, string shape) => c.Ints(shape).SkipLast(2).ToArray();
        // Both sides broadcast in one case: each has a size-1 batch dimension where the other's is larger.
        Assert.Contains(cases, c =>
        {
            int[] a = Batch(c, "a_shape"), b = Batch(c, "b_shape");
            int rank = Math.Min(a.Length, b.Length);
            var pairs = a[^rank..].Zip(b[^rank..]).ToList();
            return pairs.Any(p => p.First == 1 && p.Second > 1) && pairs.Any(p => p.First > 1 && p.Second == 1);
        });
        Assert.Contains(cases, c => c.Ints("a_shape").Contains(0) && c.Ints("output_shape").Length > 0 && !c.Ints("output_shape").Contains(0));
        Assert.Contains(cases, c => c.Ints("output_shape").Contains(0) && c.Floats("grad_b").Length > 0);
        Assert.Contains(cases, c => c.Ints("a_shape").Length == 1 && c.Ints("b_shape").Length > 2);
        Assert.Contains(cases, c => c.Ints("b_shape").Length == 1 && c.Ints("a_shape").Length > 2);
        Assert.True(cases.Count(c => c.GetProperty("name").GetString()!.StartsWith("random")) >= 20);
    }

    [Fact]
    public void OutputShapesFollowTorchMatmul()
    {
        Shape Of(int[] a, int[] b) => F.Matmul(Tensor.Zeros(a), Tensor.Zeros(b)).Shape;
        Assert.Equal(new Shape(), Of([4], [4]));
        Assert.Equal(new Shape(6), Of([4], [4, 6]));
        Assert.Equal(new Shape(3), Of([3, 4], [4]));
        Assert.Equal(new Shape(2, 5, 3, 6), Of([2, 1, 3, 4], [5, 4, 6]));
        Assert.Equal(new Shape(7, 6), Of([4], [7, 4, 6]));
        Assert.Equal(new Shape(7, 3), Of([7, 3, 4], [4]));
        Assert.Equal(new Shape(0, 5, 2, 4), Of([0, 1, 2, 3], [5, 3, 4]));
        Assert.Equal(new Shape(3, 4), Of([3, 0], [0, 4]));
        Assert.All(F.Matmul(Tensor.Ones(3, 0), Tensor.Ones(0, 4)).ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void TensorMethodsComputeTheProducts()
    {
        var a = Tensor.FromArray(new float[,] { { 1, 2 }, { 3, 4 } });
        var b = Tensor.FromArray(new float[,] { { 5, 6 }, { 7, 8 } });
        var u = Tensor.FromArray([1f, -1f]);
        var v = Tensor.FromArray([2f, 3f, 4f]);
        Assert.Equal([19f, 22f, 43f, 50f], a.Matmul(b).ToArray());
        Assert.Equal([19f, 22f, 43f, 50f], a.Mm(b).ToArray());
        Assert.Equal([-1f, -1f], a.Mv(u).ToArray());
        Assert.Equal(-1f, u.Dot(Tensor.FromArray([2f, 3f])).Item());
        Assert.Equal([2f, 3f, 4f, -2f, -3f, -4f], u.Outer(v).ToArray());
        Assert.Equal([19f, 22f, 43f, 50f], a.ReshapedTo(1, 2, 2).Bmm(b.ReshapedTo(1, 2, 2)).ToArray());
    }

    [Fact]
    public void MismatchedShapesAreNamedLikeTorch()
    {
        static string Error(Func<Tensor> product) => Assert.Throws<ArgumentException>(() => product()).Message;

        Assert.Equal("Matmul: shapes [128, 784] and [512, 10] cannot be multiplied (784 vs 512).",
            Error(() => F.Matmul(Tensor.Zeros(128, 784), Tensor.Zeros(512, 10))));
        Assert.Contains("shapes [3] and [4] cannot be multiplied (3 vs 4)", Error(() => F.Matmul(Tensor.Zeros(3), Tensor.Zeros(4))));
        Assert.Contains("shapes [2, 5, 3] and [4] cannot be multiplied (3 vs 4)", Error(() => F.Matmul(Tensor.Zeros(2, 5, 3), Tensor.Zeros(4))));
        Assert.Equal("Matmul: the batch dimensions of [2, 3, 4, 5] and [4, 5, 6] cannot be broadcast together (3 vs 4 at batch axis 1 of 2).",
            Error(() => F.Matmul(Tensor.Zeros(2, 3, 4, 5), Tensor.Zeros(4, 5, 6))));
        Assert.Contains("both operands need at least one dimension, got [] and [3]", Error(() => F.Matmul(Tensor.Scalar(2f), Tensor.Zeros(3))));

        Assert.Equal("Mm: expected two matrices, got [2, 3, 4] and [4, 5].", Error(() => F.Mm(Tensor.Zeros(2, 3, 4), Tensor.Zeros(4, 5))));
        Assert.Contains("Mm: shapes [2, 3] and [4, 5] cannot be multiplied (3 vs 4)", Error(() => F.Mm(Tensor.Zeros(2, 3), Tensor.Zeros(4, 5))));
        Assert.Contains("Mv: expected a matrix and a vector, got [3] and [3]", Error(() => F.Mv(Tensor.Zeros(3), Tensor.Zeros(3))));
        Assert.Contains("Dot: expected two vectors, got [1, 3] and [3]", Error(() => F.Dot(Tensor.Zeros(1, 3), Tensor.Zeros(3))));
        Assert.Contains("Dot: shapes [3] and [5] cannot be multiplied (3 vs 5)", Error(() => F.Dot(Tensor.Zeros(3), Tensor.Zeros(5))));
        Assert.Contains("Outer: expected two vectors, got [2, 2] and [3]", Error(() => F.Outer(Tensor.Zeros(2, 2), Tensor.Zeros(3))));
        Assert.Contains("Bmm: expected two 3-D tensors", Error(() => F.Bmm(Tensor.Zeros(2, 3), Tensor.Zeros(3, 2))));
        Assert.Equal("Bmm: the batch sizes of [2, 3, 4] and [1, 4, 5] differ (2 vs 1); Matmul broadcasts them.",
            Error(() => F.Bmm(Tensor.Zeros(2, 3, 4), Tensor.Zeros(1, 4, 5))));
    }

    [Fact]
    public void GradientsOverwriteRecycledBuffers()
    {
        // An intermediate's new gradient buffer comes from the pool unwashed (beta 0): the backward
        // pass must overwrite it, with zeros when the output is empty, never add to it.
        var p = Expect.Parameter([1, 2, 3], 3);
        var r = Expect.Parameter([1, 2, 3], 4);
        var q = Expect.Random([4, 3, 5], 5);
        using (TensorScope.Begin())
            for (int i = 0; i < 4; i++) Tensor.Empty(1, 2, 3).Span.Fill(float.NaN);
        using var scope = TensorScope.Begin();

        Tape.Backward(F.Sum(F.Matmul(F.Multiply(p, 1f), Tensor.Zeros(0, 3, 5))));
        Assert.All(p.Grad!.ToArray(), v => Assert.Equal(0f, v));

        // Broadcast over the 4 matrices of q: each element's gradient sums a row of every one.
        Tape.Backward(F.Sum(F.Matmul(F.Multiply(r, 1f), q)));
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
            {
                float expected = 0f;
                for (int t = 0; t < 4; t++)
                    for (int n = 0; n < 5; n++) expected += q[t, j, n];
                Expect.Close(expected, r.Grad![0, i, j], 1e-5, $"dr[0, {i}, {j}]");
            }
    }
}

/// <summary>Matrix products on 1 and 2 worker threads: they resize the shared pool, so they run alone.</summary>
[Collection(WorkerPoolCollection.Name)]
public class LinearAlgebraThreadingTests
{
    /// <summary>Products split by batch (many small), products each split by the GEMM (few large),
    /// a fold, and broadcast operands whose gradients sum over batches.</summary>
    public static TheoryData<int[], int[]> Shapes() => new()
    {
        { [16, 24, 20], [16, 20, 28] },
        { [3, 130, 140], [3, 140, 120] },
        { [4, 100, 150], [150, 120] },
        { [48, 40], [6, 40, 56] },
        { [2, 1, 30, 20], [1, 5, 20, 30] },
        { [5, 1, 300], [5, 300, 200] },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ResultsAndGradientsAreBitwiseTheSameOnOneAndTwoThreads(int[] aShape, int[] bShape)
    {
        int saved = Workers.Count;
        try
        {
            Workers.Count = 1;
            var single = Run(aShape, bShape);
            Workers.Count = 2;
            var first = Run(aShape, bShape);
            var second = Run(aShape, bShape);
            string[] parts = ["output", "grad_a", "grad_b"];
            for (int i = 0; i < parts.Length; i++)
            {
                Assert.True(first[i].AsSpan().SequenceEqual(second[i]), $"{parts[i]} differs between two runs on 2 threads");
                Assert.True(first[i].AsSpan().SequenceEqual(single[i]), $"{parts[i]} differs between 1 and 2 threads");
            }
        }
        finally
        {
            Workers.Count = saved;
        }
    }

    static float[][] Run(int[] aShape, int[] bShape)
    {
        var a = Expect.Parameter(aShape, 5);
        var b = Expect.Parameter(bShape, 6);
        var y = F.Matmul(a, b);
        y.Backward(Expect.Random(y.Shape.ToArray(), 7));
        return [y.ToArray(), a.Grad!.ToArray(), b.Grad!.ToArray()];
    }
}
