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
    private bool disposed;

    private TensorScope()
    {
        outer = current;
        current = this;
    }

    public static TensorScope Begin() => new();

    internal static TensorScope? Current => current;

    internal void Adopt(Tensor tensor) => owned.Add(tensor);

    /// <summary>Detaches the tensor from this scope so it survives it (its buffer leaves the pool for good).</summary>
    public static Tensor Keep(Tensor tensor)
    {
        for (var scope = current; scope != null; scope = scope.outer)
            if (scope.owned.Remove(tensor)) break;
        return tensor;
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        if (current != this) throw new InvalidOperationException("TensorScopes must end in the reverse order they began.");
        current = outer;
        foreach (var tensor in owned) tensor.Release();
        owned.Clear();
    }
}

/// <summary>Buffers keyed by exact length: a training step asks for the same sizes every time.</summary>
internal static class TensorPool
{
    private static readonly Dictionary<int, Stack<float[]>> free = [];
    private static readonly Lock gate = new();

    public static float[] Rent(int length)
    {
        lock (gate)
        {
            if (free.TryGetValue(length, out var stack) && stack.Count > 0) return stack.Pop();
        }
        return GC.AllocateUninitializedArray<float>(length);
    }

    public static void Return(float[] buffer)
    {
        lock (gate)
        {
            if (!free.TryGetValue(buffer.Length, out var stack)) free[buffer.Length] = stack = new Stack<float[]>();
            stack.Push(buffer);
        }
    }
}
