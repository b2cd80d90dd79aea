using Sinapse.Kernels;

namespace Sinapse.Tests.Kernels;

[Collection(Sinapse.Tests.Support.WorkerPoolCollection.Name)]
public class WorkersTests
{
    static void WithCount(int count, Action action)
    {
        int saved = Workers.Count;
        try
        {
            Workers.Count = count;
            action();
        }
        finally
        {
            Workers.Count = saved;
        }
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    [InlineData(2, 2)]
    [InlineData(2, 7)]
    [InlineData(3, 100)]
    public void EveryIndexRunsExactlyOnce(int threads, int count) => WithCount(threads, () =>
    {
        for (int round = 0; round < 200; round++)
        {
            var hits = new int[count];
            Workers.For(count, i => Interlocked.Increment(ref hits[i]));
            Assert.All(hits, h => Assert.Equal(1, h));
        }
    });

    [Fact]
    public void IndexToThreadAssignmentIsFixed() => WithCount(2, () =>
    {
        var first = new int[8];
        var second = new int[8];
        Workers.For(8, i => first[i] = Environment.CurrentManagedThreadId);
        Thread.Sleep(5);   // let the workers fall asleep, so the second call also exercises wake-up
        Workers.For(8, i => second[i] = Environment.CurrentManagedThreadId);
        Assert.Equal(first, second);
        int caller = Environment.CurrentManagedThreadId;
        for (int i = 0; i < 8; i += 2) Assert.Equal(caller, first[i]);   // index i runs on thread i % Count
        for (int i = 1; i < 8; i += 2) Assert.NotEqual(caller, first[i]);
    });

    [Fact]
    public void ExceptionFromABodyIsRethrownOnTheCaller() => WithCount(2, () =>
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            Workers.For(4, i => { if (i == 3) throw new InvalidOperationException("body 3 failed"); }));
        Assert.Equal("body 3 failed", error.Message);
        // The pool still works afterwards.
        int sum = 0;
        Workers.For(4, i => Interlocked.Add(ref sum, i));
        Assert.Equal(6, sum);
    });

    [Fact]
    public void NestedCallRunsInlineWithoutDeadlock() => WithCount(2, () =>
    {
        var hits = new int[4 * 5];
        Workers.For(4, outer => Workers.For(5, inner => Interlocked.Increment(ref hits[outer * 5 + inner])));
        Assert.All(hits, h => Assert.Equal(1, h));
    });

    [Fact]
    public void AvailableIsOneInsideABody() => WithCount(2, () =>
    {
        Assert.Equal(2, Workers.Available);
        var seen = new int[4];
        Workers.For(4, i => seen[i] = Workers.Available);
        Assert.All(seen, s => Assert.Equal(1, s));
        Assert.Equal(2, Workers.Available);
    });

    [Fact]
    public void ConcurrentCallersBothComplete() => WithCount(2, () =>
    {
        var hits = new int[2, 50];
        var threads = Enumerable.Range(0, 2).Select(caller => new Thread(() =>
        {
            for (int round = 0; round < 200; round++)
                Workers.For(50, i => Interlocked.Increment(ref hits[caller, i]));
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        foreach (int h in hits) Assert.Equal(200, h);
    });

    [Fact]
    public void CountRejectsLessThanOne()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Workers.Count = 0);
        Assert.Contains("at least 1", error.Message);
    }

    [Fact]
    public void ResizingKeepsThePoolWorking()
    {
        foreach (int threads in new[] { 3, 1, 2 })
            WithCount(threads, () =>
            {
                Assert.Equal(threads, Workers.Count);
                int sum = 0;
                Workers.For(10, i => Interlocked.Add(ref sum, i));
                Assert.Equal(45, sum);
            });
    }
}

[Collection(Sinapse.Tests.Support.WorkerPoolCollection.Name)]
public class WorkersResizeTests
{
    [Fact]
    public void ResizingFromInsideABodyIsAnErrorNotADeadlock()
    {
        int saved = Workers.Count;
        try
        {
            Workers.Count = 2;
            var error = Assert.Throws<InvalidOperationException>(() => Workers.For(2, _ => Workers.Count = 1));
            Assert.Contains("inside a Workers.For body", error.Message);
            Assert.Equal(2, Workers.Count);
        }
        finally
        {
            Workers.Count = saved;
        }
    }
}
