using Sinapse.Autograd;
using Sinapse.Tensors;

namespace Sinapse.Ops;

public static partial class F
{
    /// <summary>
    /// Looks up rows of <paramref name="weight"/> [numEmbeddings, dim] by index, as
    /// torch.nn.functional.embedding: an index tensor of any shape S gives S + [dim]. Indices are
    /// whole numbers held as floats (Sinapse tensors are float32; exact up to 2^24). The gradient
    /// of each looked-up row is added back into that row of the weight, except for
    /// <paramref name="paddingIndex"/>'s row (negative: counted from the end), which gets none.
    /// </summary>
    public static Tensor Embedding(Tensor indices, Tensor weight, int? paddingIndex = null)
    {
        if (weight.Rank != 2) throw new ArgumentException($"Embedding: the weight must be [numEmbeddings, dim], got shape {weight.Shape}.");
        int rows = weight.Shape[0], dim = weight.Shape[1];
        // PyTorch accepts a negative padding index counting from the end.
        if (paddingIndex is int p && (p < -rows || p >= rows))
            throw new ArgumentException($"Embedding: the padding index must be in [{-rows}, {rows}) for {rows} rows, got {p}.");
        int? padding = paddingIndex < 0 ? paddingIndex + rows : paddingIndex;
        var index = IndexValues("Embedding", indices, rows, -1, indices.Shape);
        var y = weight.GatherRows(index).View(new Shape([.. indices.Shape.Dimensions, dim]));
        // ONNX gathers by integer indices; Sinapse's are whole floats.
        if (OnnxTrace.Current is { } trace)
            trace.Bind(y, trace.Node("Gather", [trace.Value(weight), trace.Node("Cast", [trace.Value(indices)], OnnxTrace.Int("to", (long)Onnx.TensorProto.Types.DataType.Int64))]));
        if (Tape.NeedsGrad(weight))
            Tape.Record("Embedding", y, dy =>
            {
                var target = Tape.GradientTarget(weight, out float beta);
                if (beta == 0f) target.Clear();
                var gradient = dy.Span;
                for (int i = 0; i < index.Length; i++)
                {
                    if (index[i] == padding) continue;
                    var row = target.Slice(index[i] * dim, dim);
                    System.Numerics.Tensors.TensorPrimitives.Add(row, gradient.Slice(i * dim, dim), row);
                }
            }, weight);
        return y;
    }
}
