using Sinapse.Tensors;

namespace Sinapse.Layers;

public static partial class Fusion
{
    /// <summary>
    /// Folds every batch norm in evaluation mode into the convolution before it, as inference
    /// engines do when they optimise a graph: in each <see cref="Sequential"/>, Conv2d → BatchNorm2d
    /// (→ ReLU, ReLU6 or hard-swish) becomes one <see cref="FoldedConv2d"/> whose weights are
    /// w·γ/√(σ² + ε) and whose bias is (b − μ)·γ/√(σ² + ε) + β, per output channel, followed by
    /// <see cref="Identity"/> layers in the places of the batch norm and activation, so the other
    /// layers keep their positions. The outputs equal the unfolded model's to rounding.
    /// </summary>
    /// <returns>
    /// The folding, which puts the original layers back when disposed. While it lasts the model is
    /// for inference only: a folded layer refuses to run in training mode, and the folded weights
    /// are copies, so changes to them are lost and changes to the originals are not seen.
    /// </returns>
    public static IDisposable FoldBatchNorm(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var folding = new Folding();
        foreach (var (_, module) in model.NamedModules().ToList())
            if (module is Sequential sequential) folding.Fold(sequential);
        return folding;
    }

    /// <summary>The layers replaced, in order, so disposing puts each back where it was.</summary>
    private sealed class Folding : IDisposable
    {
        private readonly List<(Sequential Owner, int Index, Module Layer)> replaced = [];

        public void Fold(Sequential sequential)
        {
            for (int i = 0; i + 1 < sequential.Count; i++)
            {
                if (sequential[i] is not Conv2d convolution || sequential[i + 1] is not BatchNorm2d norm || !Foldable(convolution, norm)) continue;
                var activation = i + 2 < sequential.Count && sequential[i + 2] is Relu or Relu6 or HardSwish ? (Activation)sequential[i + 2] : null;
                Replace(sequential, i, new FoldedConv2d(Fold(convolution, norm), activation));
                Replace(sequential, i + 1, new Identity());
                if (activation != null) Replace(sequential, i + 2, new Identity());
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
