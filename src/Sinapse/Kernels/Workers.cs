using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Sinapse.Kernels;

/// <summary>
/// The process-wide worker pool every parallel kernel runs on: <see cref="Count"/> threads in
/// total, the calling thread plus <c>Count - 1</c> persistent workers.
/// </summary>
/// <remarks>
/// <para><see cref="For"/> assigns index <c>i</c> to thread <c>i % Count</c> (thread 0 is the
/// caller), always, so a caller that maps indices to fixed slices of work gets the same
/// partition and therefore bitwise the same reductions on every run with the same
/// <see cref="Count"/>.</para>
/// <para>Dispatch is built for many tiny calls per second (batch-1 training steps): the workers
/// spin for a few microseconds after a job before they block, and a call allocates nothing
/// beyond the caller's delegate.</para>
/// <para>Re-entrancy: a <see cref="For"/> called from inside a body, or while another thread
/// is using the pool, runs its indices inline on the calling thread, in order. That is always
/// correct (every index still runs exactly once) but not parallel, so the pool is meant to be
/// driven by one thread at a time.</para>
/// </remarks>
public static class Workers
{
    // How long a worker polls for the next job before it blocks, and how long the caller polls
    // for the workers to finish: 100 µs, longer than the gap between the kernels of one training
    // step, short enough not to hold a shared machine's cores for long. While polling, a thread
    // yields its core every few microseconds so that, on an oversubscribed machine, the peer it
    // waits for can run.
    static readonly long SpinTicks = Stopwatch.Frequency / 10_000;

    static readonly object resizeLock = new();
    static volatile Pool pool = new(Environment.ProcessorCount);

    [ThreadStatic] static bool insideBody;

    /// <summary>Total threads a parallel kernel uses (the caller included). Default:
    /// <see cref="Environment.ProcessorCount"/>. Setting it replaces the pool.</summary>
    public static int Count
    {
        get => pool.ThreadCount;
        set
        {
            if (value < 1)
                throw new ArgumentOutOfRangeException(nameof(value), value,
                    $"Workers.Count must be at least 1 (1 runs everything on the calling thread), got {value}.");
            // Resizing waits for the running For to finish: from inside one of its bodies it would wait for itself.
            if (insideBody) throw new InvalidOperationException("Workers.Count cannot change inside a Workers.For body.");
            lock (resizeLock)
            {
                if (value == pool.ThreadCount) return;
                var old = pool;
                old.AcquireExclusive();          // wait for a running For to finish
                pool = new Pool(value);
                old.Shutdown();
            }
        }
    }

    /// <summary>Threads a kernel called from here can use: <see cref="Count"/>, or 1 inside a
    /// body, where a nested <see cref="For"/> runs inline — splitting work there only adds
    /// overhead (a GEMM inside a convolution's task would pack its operands once per part).</summary>
    public static int Available => insideBody ? 1 : pool.ThreadCount;

    /// <summary>Runs <paramref name="body"/>(i) for every i in [0, count) on the pool and returns
    /// when all have finished. Index i always runs on thread <c>i % Count</c>. The first exception
    /// a body throws is rethrown here (the thread that threw skips its remaining indices; the
    /// other threads finish theirs).</summary>
    public static void For(int count, Action<int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (count <= 0) return;
        var current = pool;
        if (count == 1 || current.ThreadCount == 1 || insideBody || !current.TryAcquire())
        {
            RunInline(count, body);
            return;
        }
        try
        {
            current.Run(count, body);
        }
        finally
        {
            current.Release();
        }
    }

    static void RunInline(int count, Action<int> body)
    {
        bool wasInside = insideBody;
        insideBody = true;
        try
        {
            for (int i = 0; i < count; i++) body(i);
        }
        finally
        {
            insideBody = wasInside;
        }
    }

    /// <summary>One generation of worker threads; replaced as a whole when Count changes.</summary>
    sealed class Pool
    {
        public readonly int ThreadCount;
        readonly Thread[] threads;

        // The job. Written by the caller before it bumps `generation`, read by workers after
        // they see the new generation (Interlocked/Volatile give the ordering).
        Action<int>? body;
        int count;
        Exception? error;

        long generation;        // bumped once per job; workers wait for it to change
        int pending;            // workers still running the current job
        int busy;               // 1 while a caller owns the pool
        volatile bool stopping;

        // Blocking after the spin: workers sleep on `wakeLock` (counted in `sleepingWorkers`),
        // the caller sleeps on `doneLock`. Sleeper counts are updated with Interlocked before
        // the condition is re-checked, and the waker changes the condition before it reads the
        // count, so a wake-up cannot be lost between the check and the wait.
        readonly object wakeLock = new();
        readonly object doneLock = new();
        int sleepingWorkers;
        int callerSleeping;

        public Pool(int threadCount)
        {
            ThreadCount = threadCount;
            threads = new Thread[threadCount - 1];
            for (int t = 0; t < threads.Length; t++)
            {
                int slot = t + 1;
                threads[t] = new Thread(() => WorkerLoop(slot))
                {
                    IsBackground = true,
                    Name = $"Sinapse worker {slot}",
                };
                threads[t].Start();
            }
        }

        public bool TryAcquire() => Interlocked.CompareExchange(ref busy, 1, 0) == 0;

        public void Release() => Volatile.Write(ref busy, 0);

        public void AcquireExclusive()
        {
            var spinner = new SpinWait();
            while (!TryAcquire()) spinner.SpinOnce();
        }

        public void Run(int jobCount, Action<int> jobBody)
        {
            body = jobBody;
            count = jobCount;
            error = null;
            Volatile.Write(ref pending, threads.Length);
            Interlocked.Increment(ref generation);
            if (Volatile.Read(ref sleepingWorkers) > 0)
                lock (wakeLock) Monitor.PulseAll(wakeLock);

            RunShare(0);

            if (Volatile.Read(ref pending) != 0) WaitForWorkers();
            body = null;
            var failure = error;
            error = null;
            if (failure != null) ExceptionDispatchInfo.Throw(failure);
        }

        void RunShare(int slot)
        {
            var jobBody = body!;
            int jobCount = count;
            bool wasInside = insideBody;
            insideBody = true;
            try
            {
                for (int i = slot; i < jobCount; i += ThreadCount) jobBody(i);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref error, e, null);
            }
            finally
            {
                insideBody = wasInside;
            }
        }

        void WaitForWorkers()
        {
            long deadline = Stopwatch.GetTimestamp() + SpinTicks;
            for (int spin = 1; ; spin++)
            {
                if (Volatile.Read(ref pending) == 0) return;
                if (!Pause(spin, deadline)) break;
            }
            lock (doneLock)
            {
                Interlocked.Exchange(ref callerSleeping, 1);
                while (Volatile.Read(ref pending) != 0) Monitor.Wait(doneLock);
                Interlocked.Exchange(ref callerSleeping, 0);
            }
        }

        /// <summary>One step of a polling loop: a short pause, and every 64th step a yield and a
        /// look at the clock. False once the deadline has passed (time to block).</summary>
        static bool Pause(int spin, long deadline)
        {
            if ((spin & 63) != 0)
            {
                Thread.SpinWait(1);
                return true;
            }
            Thread.Yield();
            return Stopwatch.GetTimestamp() < deadline;
        }

        void WorkerLoop(int slot)
        {
            long seen = 0;
            while (true)
            {
                long next = WaitForJob(seen);
                if (stopping) return;
                seen = next;
                RunShare(slot);
                if (Interlocked.Decrement(ref pending) == 0 && Volatile.Read(ref callerSleeping) != 0)
                    lock (doneLock) Monitor.PulseAll(doneLock);
            }
        }

        long WaitForJob(long seen)
        {
            long deadline = Stopwatch.GetTimestamp() + SpinTicks;
            for (int spin = 1; ; spin++)
            {
                long g = Volatile.Read(ref generation);
                if (g != seen || stopping) return g;
                if (!Pause(spin, deadline)) break;
            }
            lock (wakeLock)
            {
                Interlocked.Increment(ref sleepingWorkers);
                long g;
                while ((g = Interlocked.Read(ref generation)) == seen && !stopping)
                    Monitor.Wait(wakeLock);
                Interlocked.Decrement(ref sleepingWorkers);
                return g;
            }
        }

        public void Shutdown()
        {
            stopping = true;
            Interlocked.Increment(ref generation);
            lock (wakeLock) Monitor.PulseAll(wakeLock);
            foreach (var thread in threads) thread.Join();
        }
    }
}
