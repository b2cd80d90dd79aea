namespace Sinapse.Tensors;

/// <summary>
/// Returns the buffers of the tensors created inside it to a pool when it ends, so a training
/// loop that opens one scope per step stops allocating once the pool has warmed up. Tensors made
/// outside any scope are ordinary garbage-collected objects: users never have to dispose anything.
/// A tensor that must outlive the scope is kept with <see cref="Keep"/>.
/// The pool stays bounded: when a thread's outermost scope (a training step, an evaluation batch)
/// ends, the buffers that thread gave back before it and that the scope did not use again are let
/// go, so sizes of the past (another batch size, an earlier evaluation, another model) are not kept
/// for good; and it never holds more than <see cref="PoolLimitBytes"/> of free buffers.
/// </summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? current;

    private readonly TensorScope? outer;
    private readonly List<Tensor> owned = [];
    private readonly List<ushort[]> owned16 = [];
    private bool disposed;
    // Set inside a measuring scope (and the scopes within it): what the pool supplies for them.
    private readonly PoolDemand? demand;

    private TensorScope(PoolDemand? measure = null)
    {
        outer = current;
        current = this;
        demand = measure ?? outer?.demand;
    }

    public static TensorScope Begin() => new();

    /// <summary>A scope that adds up, in <paramref name="demand"/>, the storage the pool supplies for everything made inside it.</summary>
    internal static TensorScope Measure(out PoolDemand demand) => new(demand = new PoolDemand());

    internal static TensorScope? Current => current;

    internal void Adopt(Tensor tensor)
    {
        owned.Add(tensor);
        demand?.Take(tensor.Length);
    }

    /// <summary>16-bit storage (mixed precision's saved copies): from the pool inside a scope, else a new array.</summary>
    internal static ushort[] Rent16(int length)
    {
        if (current == null) return new ushort[length];
        var buffer = TensorPool.Rent16(length);
        current.owned16.Add(buffer);
        current.demand?.Take16(length);
        return buffer;
    }

    /// <summary>
    /// Detaches the tensor from this scope so it survives it (its buffer leaves the pool for good).
    /// A view (a reshape, a slice, a reduction without keepDim) keeps the storage it looks into,
    /// and with it every other view of that storage.
    /// </summary>
    public static Tensor Keep(Tensor tensor)
    {
        var storage = tensor.Storage;
        for (var scope = current; scope != null; scope = scope.outer)
            if (scope.owned.Remove(storage))
            {
                TensorPool.Forget(tensor.Buffer);
                break;
            }
        return tensor;
    }

    /// <summary>
    /// Returns <paramref name="tensor"/>'s buffer to the pool now rather than when the current
    /// scope ends, if the scope owns it; false (and nothing happens) otherwise. For a value nothing
    /// can read any more: an intermediate of inference, where no recorded op keeps its inputs.
    /// </summary>
    internal static bool ReleaseEarly(Tensor tensor)
    {
        if (current == null) return false;
        int index = current.owned.LastIndexOf(tensor);
        if (index < 0) return false;
        current.owned.RemoveAt(index);
        current.demand?.Give(tensor.Length);
        tensor.Release();
        return true;
    }

    /// <summary>
    /// The most bytes of pooled tensor storage in use at once since <see cref="ResetPeakBytes"/>,
    /// like torch.cuda.max_memory_allocated: in a training loop, a step's working memory
    /// (activations, their gradients, saved 16-bit copies, kernel scratch), without the
    /// parameters and optimizer state, which live outside any scope.
    /// </summary>
    public static long PeakBytes => TensorPool.PeakBytes;

    public static void ResetPeakBytes() => TensorPool.ResetPeak();

    /// <summary>The bytes of free buffers the pool holds for reuse now (not rented out).</summary>
    public static long PooledBytes => TensorPool.HeldBytes;

    /// <summary>
    /// The most bytes of free buffers the pool keeps (default 1 GiB); a buffer given back beyond it is
    /// left to the garbage collector. Lowering it lets go of the excess at once.
    /// </summary>
    public static long PoolLimitBytes
    {
        get => TensorPool.LimitBytes;
        set => TensorPool.LimitBytes = value >= 0 ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "the pool's limit is a number of bytes, 0 or more");
    }

    public void Dispose()
    {
        if (disposed) return;
        // Checked before the scope counts as ended, so that ending it again in the right order still restores the outer scope.
        if (current != this) throw new InvalidOperationException("TensorScopes must end in the reverse order they began.");
        disposed = true;
        current = outer;
        foreach (var tensor in owned)
        {
            demand?.Give(tensor.Length);
            tensor.Release();
        }
        owned.Clear();
        foreach (var buffer in owned16) TensorPool.Return(buffer);
        owned16.Clear();
        if (outer == null) TensorPool.EndStep();
    }
}

/// <summary>
/// The storage the pool supplies for a pass, which it then keeps for the next one: a buffer given
/// back (early, or when an inner scope ends) is taken again by the next tensor of its length, as
/// the pool hands it out; any other tensor needs a buffer of its own.
/// </summary>
internal sealed class PoolDemand
{
    private readonly Dictionary<int, int> returned = [];

    public long Bytes { get; private set; }

    public void Take(int length)
    {
        if (returned.TryGetValue(length, out int count) && count > 0) returned[length] = count - 1;
        else Bytes += length * (long)sizeof(float);
    }

    /// <summary>16-bit storage, counted without reuse (a bound from above).</summary>
    public void Take16(int length) => Bytes += length * (long)sizeof(ushort);

    public void Give(int length) => returned[length] = returned.GetValueOrDefault(length) + 1;
}

/// <summary>
/// Buffers keyed by exact length: a training step asks for the same sizes every time. It also
/// counts the bytes rented out, whose peak is a training step's working memory (activations,
/// their gradients, saved 16-bit copies and kernel scratch; not parameters or optimizer state).
/// Each free buffer remembers the thread that gave it back and that thread's step number then:
/// <see cref="EndStep"/> lets go of the thread's buffers that sat unused through the step just ended.
/// </summary>
internal static class TensorPool
{
    private static long rentedBytes, peakBytes, heldBytes, limitBytes = 1L << 30, letGoBytes;
    private static readonly Lock gate = new();
    [ThreadStatic] private static long step;

    public static float[] Rent(int length) => Pool<float>.Rent(length);

    public static void Return(float[] buffer) => Pool<float>.Return(buffer);

    /// <summary>bfloat16/float16 bit patterns, for mixed precision.</summary>
    public static ushort[] Rent16(int length) => Pool<ushort>.Rent(length);

    public static void Return(ushort[] buffer) => Pool<ushort>.Return(buffer);

    /// <summary>A kept buffer leaves the pool for good: it no longer counts as rented out.</summary>
    public static void Forget(float[] buffer) => Count(-(long)buffer.Length * sizeof(float));

    /// <summary>The most bytes rented out at once since <see cref="ResetPeak"/>.</summary>
    public static long PeakBytes => Volatile.Read(ref peakBytes);

    /// <summary>Starts a new peak from the bytes rented out now.</summary>
    public static void ResetPeak() => Volatile.Write(ref peakBytes, Volatile.Read(ref rentedBytes));

    /// <summary>The bytes of the free buffers held for reuse.</summary>
    public static long HeldBytes => Volatile.Read(ref heldBytes);

    public static long LimitBytes
    {
        get => Volatile.Read(ref limitBytes);
        set
        {
            lock (gate)
            {
                limitBytes = value;
                Pool<float>.Evict(entry => heldBytes > limitBytes);
                Pool<ushort>.Evict(entry => heldBytes > limitBytes);
            }
        }
    }

    /// <summary>
    /// Once this many bytes have been let go, the pool runs the garbage collector: buffers of that
    /// size live on the large-object heap, which is collected only in full collections, so without
    /// one the memory let go would stay resident long after the pool dropped it.
    /// </summary>
    public const long CollectAfterBytes = 256L << 20;

    /// <summary>Ends the calling thread's step: its free buffers that the step did not use go.</summary>
    public static void EndStep()
    {
        int thread = Environment.CurrentManagedThreadId;
        long ended = step++;
        bool collect;
        lock (gate)
        {
            Pool<float>.Evict(entry => entry.Thread == thread && entry.Step < ended);
            Pool<ushort>.Evict(entry => entry.Thread == thread && entry.Step < ended);
            collect = letGoBytes >= CollectAfterBytes;
            if (collect) letGoBytes = 0;
        }
        if (collect) GC.Collect();
    }

    private static void Count(long bytes)
    {
        long now = Interlocked.Add(ref rentedBytes, bytes), seen;
        while (now > (seen = Volatile.Read(ref peakBytes)) && Interlocked.CompareExchange(ref peakBytes, now, seen) != seen) { }
    }

    /// <summary>A free buffer, the thread that gave it back and that thread's step number at the time.</summary>
    private readonly record struct Entry<T>(T[] Buffer, int Thread, long Step);

    private static class Pool<T> where T : unmanaged
    {
        // Per length, the free buffers oldest first: Rent takes the newest, the most likely still in cache.
        private static readonly Dictionary<int, List<Entry<T>>> free = [];

        public static unsafe T[] Rent(int length)
        {
            Count((long)length * sizeof(T));
            lock (gate)
            {
                if (free.TryGetValue(length, out var entries) && entries.Count > 0)
                {
                    var buffer = entries[^1].Buffer;
                    entries.RemoveAt(entries.Count - 1);
                    heldBytes -= (long)length * sizeof(T);
                    return buffer;
                }
            }
            return GC.AllocateUninitializedArray<T>(length);
        }

        public static unsafe void Return(T[] buffer)
        {
            long bytes = (long)buffer.Length * sizeof(T);
            Count(-bytes);
            lock (gate)
            {
                if (heldBytes + bytes > limitBytes)
                {
                    letGoBytes += bytes;   // beyond the limit: the garbage collector takes it
                    return;
                }
                if (!free.TryGetValue(buffer.Length, out var entries)) free[buffer.Length] = entries = [];
                entries.Add(new Entry<T>(buffer, Environment.CurrentManagedThreadId, step));
                heldBytes += bytes;
            }
        }

        /// <summary>Drops the free buffers <paramref name="drop"/> picks, oldest first; the caller holds the gate.</summary>
        public static unsafe void Evict(Func<Entry<T>, bool> drop)
        {
            foreach (var entries in free.Values)
                for (int i = 0; i < entries.Count;)
                    if (drop(entries[i]))
                    {
                        heldBytes -= (long)entries[i].Buffer.Length * sizeof(T);
                        letGoBytes += (long)entries[i].Buffer.Length * sizeof(T);
                        entries.RemoveAt(i);
                    }
                    else i++;
        }
    }
}
