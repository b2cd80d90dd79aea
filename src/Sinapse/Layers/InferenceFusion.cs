using Sinapse.Tensors;

namespace Sinapse.Layers;

public static partial class Fusion
{
    /// <summary>
    /// Prepares a model in evaluation mode for inference as engines do when they optimise a graph:
    /// in each <see cref="Sequential"/>, Conv2d → BatchNorm2d → ReLU, ReLU6 or hard-swish (the batch
    /// norm or the activation may be missing, not both) becomes one <see cref="FusedConv2d"/>. The
    /// batch norm is folded into the convolution's weights, w·γ/√(σ² + ε), and bias,
    /// (b − μ)·γ/√(σ² + ε) + β, per output channel; the ReLU or hard-swish runs inside the
    /// convolution's pass over its output. <see cref="Identity"/> layers take the places of the
    /// batch norm and activation, so the other layers keep their positions. The outputs equal the
    /// model's to rounding.
    /// </summary>
    /// <returns>
    /// The fusion, which puts the original layers back when disposed. While it lasts the model is
    /// for inference only: a fused layer refuses to run in training mode, and folded weights are
    /// copies, so changes to the convolution or batch norm behind them are not seen. Batch norms in
    /// training mode are left alone.
    /// </returns>
    public static IDisposable FuseForInference(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Training) throw new InvalidOperationException($"FuseForInference needs a model in evaluation mode, got {model.Describe()} in training mode: call Eval() first.");
        var fusion = new InferenceFusion();
        foreach (var (_, module) in model.NamedModules().ToList())
            if (module is Sequential sequential) fusion.Fuse(sequential);
        return fusion;
    }

    /// <summary>The layers replaced, in order, so disposing puts each back where it was.</summary>
    private sealed class InferenceFusion : IDisposable
    {
        private readonly List<(Sequential Owner, int Index, Module Layer)> replaced = [];

        public void Fuse(Sequential sequential)
        {
            for (int i = 0; i < sequential.Count; i++)
            {
                if (sequential[i] is not Conv2d convolution) continue;
                var norm = i + 1 < sequential.Count && sequential[i + 1] is BatchNorm2d n && Foldable(convolution, n) ? n : null;
                int next = norm != null ? i + 2 : i + 1;
                var activation = next < sequential.Count && sequential[next] is Relu or Relu6 or HardSwish ? (Activation)sequential[next] : null;
                if (norm == null && activation == null) continue;
                int last = activation != null ? next : i + 1;
                // Detached first, so that the fused layer can take the convolution and activation as its children.
                for (int j = i; j <= last; j++) Replace(sequential, j, new Identity());
                Replace(sequential, i, new FusedConv2d(norm != null ? Fold(convolution, norm) : convolution, activation));
                i = last;
            }
        }

        /// <summary>A batch norm that normalises with running statistics over the convolution's channels.</summary>
        private static bool Foldable(Conv2d convolution, BatchNorm2d norm) =>
            !norm.Training && norm.RunningMean != null && norm.NumFeatures == convolution.OutChannels;

        private static Conv2d Fold(Conv2d convolution, BatchNorm2d norm)
        {
            // Its initial values are overwritten; a generator of its own leaves Rng.Global's stream as it was.
            var folded = new Conv2d(convolution.InChannels, convolution.OutChannels, convolution.KernelSize, convolution.Stride, convolution.Padding,
                convolution.Dilation, convolution.Groups, useBias: true, rng: new Rng(0));
            var weight = convolution.Weight.Span;
            var foldedWeight = folded.Weight.Span;
            var foldedBias = folded.Bias!.Span;
            int perChannel = weight.Length / convolution.OutChannels;
            var mean = norm.RunningMean!.Span;
            var variance = norm.RunningVar!.Span;
            for (int c = 0; c < convolution.OutChannels; c++)
            {
                double scale = (norm.Weight?.Span[c] ?? 1f) / Math.Sqrt(variance[c] + (double)norm.Eps);
                double bias = convolution.Bias?.Span[c] ?? 0f;
                foldedBias[c] = (float)((bias - mean[c]) * scale + (norm.Bias?.Span[c] ?? 0f));
                for (int k = c * perChannel; k < (c + 1) * perChannel; k++) foldedWeight[k] = (float)(weight[k] * scale);
            }
            return folded;
        }

        private void Replace(Sequential owner, int index, Module layer)
        {
            layer.Train(false);
            replaced.Add((owner, index, owner.Replace(index, layer)));
        }

        /// <summary>In reverse order: a place replaced twice gets its original layer last.</summary>
        public void Dispose()
        {
            for (int i = replaced.Count - 1; i >= 0; i--)
            {
                var (owner, index, layer) = replaced[i];
                owner.Replace(index, layer);
            }
            replaced.Clear();
        }
    }
}
