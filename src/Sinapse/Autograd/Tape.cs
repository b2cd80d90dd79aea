using Sinapse.Tensors;

namespace Sinapse.Autograd;

/// <summary>One recorded op: its inputs and the closure that pushes the output's gradient back into them.</summary>
internal sealed class Node(Tensor[] inputs, Action<Tensor> backward, string op, string? layer)
{
    public Tensor[] Inputs { get; } = inputs;
    public Action<Tensor> Backward { get; } = backward;
    public string Op { get; } = op;
    /// <summary>The layer whose forward pass recorded the op, for error messages.</summary>
    public string? Layer { get; } = layer;
    /// <summary>The bytes of activations the op keeps for its backward pass (set by linear and convolution).</summary>
    public long SavedBytes { get; set; }
}

/// <summary>
/// Define-by-run reverse-mode differentiation, as in micrograd and PyTorch: every op that runs
/// with gradients enabled links its output to its inputs and a backward closure; Backward sorts
/// that graph topologically and walks it in reverse.
/// </summary>
public static class Tape
{
    /// <summary>Whether an op on these inputs must record itself.</summary>
    public static bool NeedsGrad(Tensor a) => GradMode.Enabled && a.RequiresGrad;

    public static bool NeedsGrad(Tensor a, Tensor? b) => GradMode.Enabled && (a.RequiresGrad || (b?.RequiresGrad ?? false));

    public static bool NeedsGrad(Tensor a, Tensor? b, Tensor? c) => GradMode.Enabled && (a.RequiresGrad || (b?.RequiresGrad ?? false) || (c?.RequiresGrad ?? false));

    /// <summary>Links <paramref name="output"/> to its inputs when any of them needs a gradient.</summary>
    public static void Record(string op, Tensor output, Action<Tensor> backward, params Tensor?[] inputs)
    {
        if (!GradMode.Enabled) return;
        bool any = false;
        foreach (var input in inputs) any |= input?.RequiresGrad ?? false;
        if (!any) return;
        output.RequiresGrad = true;
        output.Node = new Node(Array.FindAll(inputs, i => i != null)!, backward, op, AnomalyDetection.CurrentLayer);
    }

    /// <summary>
    /// The gradient buffer of <paramref name="tensor"/> to accumulate into, and the factor to
    /// scale its current contents by: 0 when it is new (its contents are garbage and must be
    /// overwritten, which saves clearing it), 1 when a gradient is already there.
    /// </summary>
    public static Span<float> GradientTarget(Tensor tensor, out float beta)
    {
        if (tensor.Grad != null)
        {
            beta = 1f;
            return tensor.Grad.Span;
        }
        beta = 0f;
        // A parameter's gradient outlives the step that made it; an intermediate one is scratch.
        if (tensor.IsLeaf)
        {
            tensor.Grad = tensor.SpareGrad ?? new Tensor(tensor.Shape, new float[tensor.Length]);
            tensor.SpareGrad = null;
        }
        else tensor.Grad = Tensor.Empty(tensor.Shape);
        return tensor.Grad.Span;
    }

    /// <summary>
    /// Clears a gradient the way PyTorch's zero_grad(set_to_none=True) does — Grad becomes null —
    /// but keeps the buffer for the next backward pass, so steady-state training allocates nothing.
    /// </summary>
    public static void ZeroGrad(Tensor tensor)
    {
        if (tensor.Grad == null) return;
        if (tensor.IsLeaf) tensor.SpareGrad = tensor.Grad;
        tensor.Grad = null;
    }

    /// <summary>Adds <paramref name="gradient"/> into the gradient of <paramref name="tensor"/>.</summary>
    public static void Accumulate(Tensor tensor, ReadOnlySpan<float> gradient)
    {
        var target = GradientTarget(tensor, out float beta);
        if (beta == 0f) gradient.CopyTo(target);
        else System.Numerics.Tensors.TensorPrimitives.Add(target, gradient, target);
    }

    [ThreadStatic] private static List<Tensor>? order;
    [ThreadStatic] private static HashSet<Tensor>? visited;
    [ThreadStatic] private static Stack<(Tensor, int)>? pending;

    /// <summary>
    /// Backpropagates from <paramref name="root"/>, seeded with <paramref name="seed"/> (ones for
    /// a scalar loss). The graph is freed afterwards unless <paramref name="retainGraph"/>.
    /// </summary>
    public static void Backward(Tensor root, Tensor? seed = null, bool retainGraph = false)
    {
        if (!root.RequiresGrad) throw new InvalidOperationException($"Backward() on a tensor {root.Shape} that does not require a gradient: no parameter that requires one took part in computing it (or it was computed under GradMode.NoGrad).");
        if (seed == null && root.Length != 1) throw new InvalidOperationException($"Backward() without a seed gradient needs a scalar, got shape {root.Shape}; pass the gradient of the output.");
        if (seed != null && seed.Shape != root.Shape) throw new ArgumentException($"The seed gradient has shape {seed.Shape}, the output {root.Shape}.");
        if (root.GraphFreed) throw GraphFreedError();

        var sorted = TopologicalOrder(root);
        try
        {
            // Gradients left in intermediate tensors by an earlier pass over a retained graph
            // belong to that pass: accumulating onto them would count it again.
            foreach (var tensor in sorted) tensor.Grad = null;
            if (seed == null) Accumulate(root, [1f]);
            // An op's backward only reads its output's gradient, so the seed serves as the root's
            // gradient as it is (as in PyTorch), without a copy; a leaf keeps a gradient of its own.
            else if (root.IsLeaf) Accumulate(root, seed.Span);
            else root.Grad = seed;
            for (int i = sorted.Count - 1; i >= 0; i--)
            {
                var tensor = sorted[i];
                var node = tensor.Node!;
                if (tensor.Grad != null)
                {
                    node.Backward(tensor.Grad);
                    if (AnomalyDetection.Enabled)
                        foreach (var input in node.Inputs)
                            if (input.Grad != null) AnomalyDetection.Check(input.Grad, Pass.Backward, node.Layer, node.Op);
                }
                if (!retainGraph)
                {
                    tensor.Node = null;
                    tensor.GraphFreed = true;
                }
            }
        }
        finally
        {
            // The list is reused by the thread's next pass, even after an op's backward threw.
            sorted.Clear();
        }
    }

    /// <summary>
    /// The bytes the linear and convolution ops of <paramref name="root"/>'s graph keep for
    /// backward: their input in float32 — or, under <see cref="Tensors.MixedPrecision.Autocast"/>,
    /// the 16-bit copies of their input and weight. Measured before the backward pass frees the graph.
    /// </summary>
    public static long SavedBytes(Tensor root)
    {
        if (root.GraphFreed) throw GraphFreedError();
        long bytes = 0;
        try
        {
            foreach (var tensor in TopologicalOrder(root)) bytes += tensor.Node!.SavedBytes;
        }
        finally
        {
            order!.Clear();
        }
        return bytes;
    }

    private static InvalidOperationException GraphFreedError() => new(
        "Backward() through a graph that is already freed: a backward pass frees it (pass retainGraph: true to run backward twice), and so does the end of the TensorScope its tensors were made in.");

    // Iterative depth-first search, so a deep graph cannot overflow the stack.
    private static List<Tensor> TopologicalOrder(Tensor root)
    {
        order ??= [];
        visited ??= new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        pending ??= new Stack<(Tensor, int)>();
        order.Clear();
        pending.Clear();
        visited.Clear();
        pending.Push((root, 0));
        visited.Add(root);
        while (pending.Count > 0)
        {
            var (tensor, next) = pending.Pop();
            var inputs = tensor.Node?.Inputs ?? [];
            if (next < inputs.Length)
            {
                pending.Push((tensor, next + 1));
                var input = inputs[next];
                if (input.GraphFreed) throw GraphFreedError();
                if (input.Node != null && visited.Add(input)) pending.Push((input, 0));
            }
            else if (tensor.Node != null) order.Add(tensor);
        }
        return order;
    }
}
