using Sinapse.Kernels;
using Sinapse.Tensors;

namespace Sinapse.Tests.Kernels;

/// <summary>The reductions split their work over the worker pool: no result may depend on how, and long sums must stay accurate.</summary>
[Collection(Sinapse.Tests.Support.WorkerPoolCollection.Name)]
public class ReductionsTests
{
    public static TheoryData<int, int, int> Layouts => new()
    {
        { 5, 9_000, 1 },     // contiguous rows, split by rows
        { 1, 40_000, 1 },    // one long row: one thread
        { 1, 3_000, 53 },    // one outer row: split by column ranges, with a ragged last one
        { 7, 300, 41 },      // split by rows, vector lines and a scalar tail
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void SelectionsAreBitwiseTheSameOnAnyNumberOfThreads(int outer, int size, int inner)
    {
        var layout = new AxisLayout(outer, size, inner);
        var source = new float[outer * size * inner + 3];
        new Rng(31).FillUniform(source, -3f, 3f);
        for (int i = 0; i < source.Length; i++) source[i] = MathF.Round(source[i] * 2f);   // ties everywhere
        for (int i = 17; i < source.Length; i += 4_999) source[i] = float.NaN;

        (float[] Values, float[] Indices, float[] Extremes) Run(int threads)
        {
            int saved = Workers.Count;
            try
            {
                Workers.Count = threads;
                var values = new float[outer * inner + 2];
                var indices = new float[outer * inner + 2];
                var extremes = new float[outer * inner + 1];
                // Offsets, as tensors that are views into larger buffers have.
                Reductions.Select<Smallest>(source, 3, layout, values, 2, indices, 2);
                Reductions.Extreme<Smallest>(source, 3, layout, extremes, 1);
                return (values, indices, extremes);
            }
            finally
            {
                Workers.Count = saved;
            }
        }

        var one = Run(1);
        foreach (var threads in new[] { 2, 3 })
        {
            var many = Run(threads);
            Assert.Equal(one.Values, many.Values);
            Assert.Equal(one.Indices, many.Indices);
            Assert.Equal(one.Extremes, many.Extremes);
        }
        Assert.Equal(one.Values[2..], one.Extremes[1..]);
        // Every index points at its value, and nothing before it is smaller (or NaN).
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int at = o * inner + i, index = (int)one.Indices[2 + at];
                Assert.Equal(one.Values[2 + at], source[3 + (o * size + index) * inner + i]);
                for (int s = 0; s < index; s++)
                {
                    float earlier = source[3 + (o * size + s) * inner + i];
                    Assert.False(float.IsNaN(earlier) || earlier <= one.Values[2 + at], $"row {o}, column {i}: element {s} ({earlier}) comes before index {index} ({one.Values[2 + at]}).");
                }
            }
    }

    [Fact]
    public void ScatterSendsEachGradientToItsIndex()
    {
        var layout = new AxisLayout(2, 3, 2);
        float[] gradient = [1f, 2f, 3f, 4f], indices = [2f, 0f, 1f, 1f];
        var target = Enumerable.Repeat(float.NaN, 12).ToArray();
        Reductions.ScatterAlong(gradient, 0, indices, 0, layout, target, 0, beta: 0f);
        Assert.Equal([0f, 2f, 0f, 0f, 1f, 0f, 0f, 0f, 3f, 4f, 0f, 0f], target);
        Reductions.ScatterAlong(gradient, 0, indices, 0, layout, target, 0, beta: 1f);
        Assert.Equal([0f, 4f, 0f, 0f, 2f, 0f, 0f, 0f, 6f, 8f, 0f, 0f], target);
    }

    [Fact]
    public void LongSumsKeepTheirAccuracyAndDoNotDependOnTheThreadCount()
    {
        // Added straight through in float32, 4·10⁶ values of 0.1 come to 399039 (0.24% off); PyTorch's
        // cascade sum gives 400000.03. Rows summed down a column are added in halves the same way.
        var values = Tensor.Full(new Shape(4_000_000), 0.1f);
        var columns = Tensor.Full(new Shape(2_000_000, 2), 0.1f);
        int saved = Workers.Count;
        try
        {
            var results = new List<float[]>();
            foreach (int threads in new[] { 1, 2, 3 })
            {
                Workers.Count = threads;
                float total = Sinapse.Ops.F.Sum(values).Item();
                var down = Sinapse.Ops.F.Sum(columns, 0).ToArray();
                Assert.InRange(total, 399_996f, 400_004f);
                Assert.All(down, v => Assert.InRange(v, 199_998f, 200_002f));
                results.Add([total, .. down]);
            }
            Assert.All(results, r => Assert.Equal(results[0], r));
        }
        finally
        {
            Workers.Count = saved;
        }
    }
}
