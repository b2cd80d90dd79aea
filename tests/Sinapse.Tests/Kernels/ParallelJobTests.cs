using Sinapse.Kernels;

namespace Sinapse.Tests.Kernels;

[Collection(Sinapse.Tests.Support.WorkerPoolCollection.Name)]
public unsafe class ParallelJobTests
{
    /// <summary>Each task writes its own partial sums of two outputs: task t adds 1/(t + 3) to
    /// every element of the first and t to the second; a nested call of the same job type from
    /// inside task 0 must not disturb the running job.</summary>
    sealed class SummingJob : ParallelJob
    {
        public int Length;
        public bool Nest;
        public int[] Hits = new int[64];

        protected override void RunTask(int task)
        {
            Interlocked.Increment(ref Hits[task]);
            if (Nest && task == 0)
            {
                var inner = ForThisThread<SummingJob>();
                Assert.NotSame(this, inner);
                inner.Length = 1;
                var target = new float[1];
                fixed (float* pointer = target) inner.Run(1, new PartialSum(pointer, 0f, 1));
                Assert.Equal(1f / 3, target[0]);
            }
            float* partial = PartialSums(task);
            for (int i = 0; i < Length; i++)
            {
                partial[i] = 1f / (task + 3);
                partial[Length + i] = task;
            }
        }
    }

    /// <summary>Runs a <see cref="SummingJob"/> on <paramref name="tasks"/> tasks into a first output
    /// that starts at <paramref name="firstStart"/> (null when <paramref name="wantFirst"/> is false)
    /// and a second one overwritten with beta 0.</summary>
    static (float[] First, float[] Second, SummingJob Job) RunSumming(int tasks, int length, bool nest, bool wantFirst, float firstBeta, float firstStart)
    {
        var job = ParallelJob.ForThisThread<SummingJob>();
        (job.Length, job.Nest) = (length, nest);
        Array.Clear(job.Hits);
        var first = new float[length];
        var second = new float[length];
        Array.Fill(first, firstStart);
        Array.Fill(second, float.NaN);    // beta = 0: garbage that must be overwritten
        fixed (float* a = first, b = second)
            job.Run(tasks, new PartialSum(wantFirst ? a : null, firstBeta, length), new PartialSum(b, 0f, length));
        return (first, second, job);
    }

    [Theory]
    [InlineData(1, 0f)]
    [InlineData(3, 0f)]
    [InlineData(7, 1f)]
    public void PartialSumsAreAddedInTaskOrder(int tasks, float beta)
    {
        var (first, second, job) = RunSumming(tasks, 5, nest: false, wantFirst: true, beta, beta == 0f ? float.NaN : 2f);
        float expected = beta == 0f ? 0f : 2f;
        for (int t = 0; t < tasks; t++) expected += 1f / (t + 3);    // the same additions in the same order
        Assert.All(first, value => Assert.Equal(expected, value));
        Assert.All(second, value => Assert.Equal(tasks * (tasks - 1) / 2, value));
        Assert.All(job.Hits.Take(tasks), hits => Assert.Equal(1, hits));
    }

    [Fact]
    public void AnUnwantedOutputKeepsItsPlaceButIsNotCombined()
    {
        var (first, second, _) = RunSumming(3, 4, nest: false, wantFirst: false, 0f, 5f);
        Assert.All(first, value => Assert.Equal(5f, value));
        Assert.All(second, value => Assert.Equal(3f, value));
    }

    [Fact]
    public void ANestedCallOfTheSameJobGetsAJobOfItsOwn()
    {
        var (first, second, job) = RunSumming(2, 2, nest: true, wantFirst: true, 0f, float.NaN);
        Assert.All(first, value => Assert.Equal(1f / 3 + 1f / 4, value));
        Assert.All(second, value => Assert.Equal(1f, value));
        Assert.Same(job, ParallelJob.ForThisThread<SummingJob>());
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(3, 8)]
    [InlineData(1000, 6)]
    public void SharesAreContiguousAndCoverEverything(int count, int parts)
    {
        int next = 0;
        for (int part = 0; part < parts; part++)
        {
            var (first, end) = ParallelJob.Share(count, part, parts);
            Assert.Equal(next, first);
            Assert.InRange(end - first, count / parts, count / parts + 1);
            next = end;
        }
        Assert.Equal(count, next);
    }
}
