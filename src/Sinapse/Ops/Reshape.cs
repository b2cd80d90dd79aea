using Sinapse.Autograd;
using Sinapse.Tensors;

namespace Sinapse.Ops;

public static partial class F
{
    /// <summary>The same values with another shape (no copy); one dimension may be −1 and is inferred.</summary>
    public static Tensor Reshape(Tensor x, params int[] shape)
    {
        var target = InferShape(x, shape);
        var y = x.View(target);
        y.Node = null;
        if (Tape.NeedsGrad(x)) Tape.Record("Reshape", y, dy => Tape.Accumulate(x, dy.Span), x);
        return y;
    }

    /// <summary>Keeps the batch axis and flattens the rest: [N, C, H, W] → [N, C·H·W].</summary>
    public static Tensor Flatten(Tensor x)
    {
        if (x.Rank < 1) throw new ArgumentException($"Flatten needs a batch axis, got a scalar.");
        return x.Rank == 2 ? x : Reshape(x, x.Shape[0], -1);
    }

    private static Shape InferShape(Tensor x, int[] shape)
    {
        int inferred = Array.IndexOf(shape, -1);
        if (inferred >= 0 && Array.LastIndexOf(shape, -1) != inferred) throw new ArgumentException($"Reshape: only one dimension can be -1, got [{string.Join(", ", shape)}].");
        var dims = (int[])shape.Clone();
        if (inferred >= 0)
        {
            long known = 1;
            for (int i = 0; i < dims.Length; i++) if (i != inferred) known *= dims[i];
            if (known == 0 || x.Length % known != 0) throw new ArgumentException($"Reshape: cannot infer -1 in [{string.Join(", ", shape)}] for {x.Length} elements (shape {x.Shape}).");
            dims[inferred] = (int)(x.Length / known);
        }
        var result = new Shape(dims);
        if (result.Size != x.Length) throw new ArgumentException($"Reshape: shape {x.Shape} ({x.Length} elements) cannot become {result} ({result.Size} elements).");
        return result;
    }
}
