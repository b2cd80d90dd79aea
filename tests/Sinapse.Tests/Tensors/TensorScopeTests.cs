using Sinapse.Ops;
using Sinapse.Tensors;

namespace Sinapse.Tests.Tensors;

public class TensorScopeTests
{
    [Fact]
    public void TensorsReleasedAtTheEndOfTheScopeSayHowToKeepThem()
    {
        Tensor inside;
        using (TensorScope.Begin()) inside = F.Add(Tensor.Ones(3, 5), 1f);
        var error = Assert.Throws<ObjectDisposedException>(() => inside.ToArray());
        Assert.Contains("TensorScope", error.Message);
        Assert.Contains("Keep", error.Message);
        Assert.Contains("[3, 5]", error.Message);
        Assert.Contains("released", inside.ToString());
    }

    [Fact]
    public void KeptTensorsAndTensorsFromOutsideSurvive()
    {
        var outside = Tensor.Ones(4);
        Tensor kept;
        using (TensorScope.Begin())
        {
            kept = TensorScope.Keep(F.Multiply(outside, 3f));
            using (TensorScope.Begin())
            {
                // Keep finds the tensor in an outer scope too.
                var fromInner = F.Add(outside, 1f);
                Assert.Equal([2f, 2f, 2f, 2f], fromInner.ToArray());
            }
        }
        Assert.Equal([3f, 3f, 3f, 3f], kept.ToArray());
        Assert.Equal([1f, 1f, 1f, 1f], outside.ToArray());
    }

    [Fact]
    public void KeepWorksFromAnInnerScope()
    {
        Tensor kept;
        using (TensorScope.Begin())
        {
            var made = F.Add(Tensor.Ones(2), 4f);
            using (TensorScope.Begin()) kept = TensorScope.Keep(made);
        }
        Assert.Equal([5f, 5f], kept.ToArray());
    }

    [Fact]
    public void KeepingAViewKeepsTheStorageItLooksInto()
    {
        // A mean without keepDim, a slice and a reshape are views of a buffer the scope owns.
        Tensor mean, rows, reshaped;
        using (TensorScope.Begin())
        {
            mean = TensorScope.Keep(F.Mean(Tensor.Ones(3, 4), 1));
            rows = TensorScope.Keep(F.Add(Tensor.Ones(4, 2), 1f)[1..3]);
            reshaped = TensorScope.Keep(F.Reshape(F.Multiply(Tensor.Ones(2, 3), 2f), -1));
        }
        using (TensorScope.Begin()) F.Add(Tensor.Ones(3), 7f);   // would reuse a buffer wrongly returned to the pool
        Assert.Equal([1f, 1f, 1f], mean.ToArray());
        Assert.Equal([2f, 2f, 2f, 2f], rows.ToArray());
        Assert.Equal([2f, 2f, 2f, 2f, 2f, 2f], reshaped.ToArray());
    }

    [Fact]
    public void BuffersAreReusedAcrossScopes()
    {
        // A scope's buffers go back to the pool: a later scope asking for the same size gets one
        // back instead of allocating (the steady state of a training loop).
        var shape = new Shape(37, 41);
        for (int warm = 0; warm < 3; warm++)
            using (TensorScope.Begin()) Tensor.Empty(shape);
        long before = GC.GetAllocatedBytesForCurrentThread();
        using (TensorScope.Begin()) Tensor.Empty(shape);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 37 * 41 * sizeof(float), $"allocated {allocated} bytes");
    }

    [Fact]
    public void ABufferTheLastStepDidNotUseIsLetGo()
    {
        // Step 1 uses two buffers, step 2 only the first: the second is let go when step 2 ends, so asking
        // for it allocates again, while step 2's own buffer, used in the step just ended, is reused.
        // (Sizes no other test uses: the pool is shared by the threads running tests in parallel.)
        var kept = new Shape(7919, 13);
        var dropped = new Shape(7907, 11);
        using (TensorScope.Begin()) { Tensor.Empty(kept); Tensor.Empty(dropped); }
        using (TensorScope.Begin()) Tensor.Empty(kept);
        long before = GC.GetAllocatedBytesForCurrentThread();
        using (TensorScope.Begin()) Tensor.Empty(kept);
        long reused = GC.GetAllocatedBytesForCurrentThread() - before;
        before = GC.GetAllocatedBytesForCurrentThread();
        using (TensorScope.Begin()) Tensor.Empty(dropped);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(reused < kept.Size * sizeof(float), $"reusing took {reused} bytes");
        Assert.True(allocated >= dropped.Size * sizeof(float), $"the let-go buffer came back from the pool ({allocated} bytes allocated)");
    }

    [Fact]
    public void ScopesMustEndInReverseOrder()
    {
        var outer = TensorScope.Begin();
        var inner = TensorScope.Begin();
        Assert.Throws<InvalidOperationException>(() => outer.Dispose());
        inner.Dispose();
        outer.Dispose();
        outer.Dispose();   // a second Dispose is harmless
        Assert.Null(TensorScope.Current);   // the refused Dispose did not leave the thread inside outer
    }
}

/// <summary>The pool's byte counts are process-wide: these run alone, so the figures are their own.</summary>
[Collection(Sinapse.Tests.Support.WorkerPoolCollection.Name)]
public class TensorScopePeakBytesTests
{
    [Fact]
    public void PeakBytesCountWhatScopesHoldAtOnce()
    {
        TensorScope.ResetPeakBytes();
        long start = TensorScope.PeakBytes;
        using (TensorScope.Begin())
        {
            Tensor.Empty(1000);
            TensorScope.Rent16(500);
            using (TensorScope.Begin()) Tensor.Empty(250);
            Assert.Equal(start + 1000 * 4 + 500 * 2 + 250 * 4, TensorScope.PeakBytes);
        }
        // Everything went back: a new peak starts from where it started.
        TensorScope.ResetPeakBytes();
        Assert.Equal(start, TensorScope.PeakBytes);
        using (TensorScope.Begin()) Tensor.Empty(10);
        Assert.Equal(start + 40, TensorScope.PeakBytes);
    }

    [Fact]
    public void ThePoolHoldsNoMoreThanItsLimit()
    {
        long limit = TensorScope.PoolLimitBytes;
        try
        {
            TensorScope.PoolLimitBytes = TensorScope.PooledBytes + 1000 * sizeof(float);
            long allowed = TensorScope.PoolLimitBytes;
            using (TensorScope.Begin())
                for (int i = 0; i < 5; i++) Tensor.Empty(400);
            Assert.InRange(TensorScope.PooledBytes, 1, allowed);
            TensorScope.PoolLimitBytes = 0;   // lowering the limit lets go of the excess at once
            Assert.Equal(0, TensorScope.PooledBytes);
        }
        finally
        {
            TensorScope.PoolLimitBytes = limit;
        }
    }

    [Fact]
    public void StepsOfEverChangingSizesKeepOnlyTheLastOnesBuffers()
    {
        // A long run whose sizes change (batch sizes, evaluations, models) holds what its last step used, not every size seen.
        using (TensorScope.Begin()) { }
        long start = TensorScope.PooledBytes;
        // Sizes no other test uses, so that no buffer another thread left in the pool is taken.
        int last = 0;
        for (int size = 12_347; size < 12_547; size += 2)
            using (TensorScope.Begin()) Tensor.Empty(last = size);
        Assert.Equal(start + last * sizeof(float), TensorScope.PooledBytes);
    }

    [Fact]
    public void ANegativeLimitIsRefused()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => TensorScope.PoolLimitBytes = -1);
        Assert.Contains("0 or more", error.Message);
    }

    [Fact]
    public void AKeptTensorLeavesThePoolsCount()
    {
        TensorScope.ResetPeakBytes();
        long start = TensorScope.PeakBytes;
        Tensor kept;
        using (TensorScope.Begin()) kept = TensorScope.Keep(Tensor.Empty(1000));
        TensorScope.ResetPeakBytes();
        Assert.Equal(start, TensorScope.PeakBytes);
        Assert.Equal(1000, kept.Span.Length);
    }

    [Fact]
    public void AMeasuringScopeCountsWhatThePoolSuppliesWithReuse()
    {
        using var scope = TensorScope.Measure(out var demand);
        var a = Tensor.Empty(100);
        TensorScope.ReleaseEarly(a);
        Tensor.Empty(100);                                 // takes a's buffer again
        using (TensorScope.Begin()) Tensor.Empty(30);      // an inner scope's buffer, given back when it ends
        Tensor.Empty(30);
        Tensor.Empty(50);
        TensorScope.Rent16(8);
        Assert.Equal(100 * 4 + 30 * 4 + 50 * 4 + 8 * 2, demand.Bytes);
    }
}
