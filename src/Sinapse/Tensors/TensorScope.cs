namespace Sinapse.Tensors;

/// <summary>
/// Returns the buffers of the tensors created inside it to a pool when it ends, so a training
/// loop that opens one scope per step stops allocating once the pool has warmed up. Tensors made
/// outside any scope are ordinary garbage-collected objects: users never have to dispose anything.
/// A tensor that must outlive the scope is kept with <see cref="Keep"/>.
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

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        if (current != this) throw new InvalidOperationException("TensorScopes must end in the reverse order they began.");
        current = outer;
        foreach (var tensor in owned)
        {
            demand?.Give(tensor.Length);
            tensor.Release();
        }
        owned.Clear();
        foreach (var buffer in owned16) TensorPool.Return(buffer);
        owned16.Clear();
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
/// </summary>
internal static class TensorPool
{
    private static long rentedBytes, peakBytes;

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

    private static void Count(long bytes)
    {
        long now = Interlocked.Add(ref rentedBytes, bytes), seen;
        while (now > (seen = Volatile.Read(ref peakBytes)) && Interlocked.CompareExchange(ref peakBytes, now, seen) != seen) { }
    }

    private static class Pool<T> where T : unmanaged
    {
        private static readonly Dictionary<int, Stack<T[]>> free = [];
        private static readonly Lock gate = new();

        public static unsafe T[] Rent(int length)
        {
            Count((long)length * sizeof(T));
            lock (gate)
            {
                if (free.TryGetValue(length, out var stack) && stack.Count > 0) return stack.Pop();
            }
            return GC.AllocateUninitializedArray<T>(length);
        }

        public static unsafe void Return(T[] buffer)
        {
            Count(-(long)buffer.Length * sizeof(T));
            lock (gate)
            {
                if (!free.TryGetValue(buffer.Length, out var stack)) free[buffer.Length] = stack = new Stack<T[]>();
                stack.Push(buffer);
            }
        }
    }
}
