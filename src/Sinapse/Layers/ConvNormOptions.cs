using Sinapse.Init;
using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>
/// How the MobileNet family builds its convolution blocks (torchvision's Conv2dNormActivation):
/// Conv2d without bias → BatchNorm2d → activation, padded (k − 1)/2 on each side. Two variants
/// run weights trained elsewhere: <see cref="FoldedBatchNorm"/> (BN folded into the convolution,
/// which then has a bias and no BN after it — how TFLite stores a trained model) and
/// <see cref="TensorFlowPadding"/> (TensorFlow's "SAME", which pads a stride-2 convolution on an
/// even input 0 before and 1 after instead of 1 and 1).
/// </summary>
/// <param name="BatchNormEps">BN's ε; null for the model's default (torchvision: 1e-5 for MobileNetV2, 1e-3 for V3).</param>
/// <param name="BatchNormMomentum">BN's running-statistics momentum; null for the model's default (0.1 for V2, 0.01 for V3).</param>
/// <param name="Rng">The generator for the initial weights (<see cref="Tensors.Rng.Global"/> when null).</param>
public sealed record ConvNormOptions(float? BatchNormEps = null, float? BatchNormMomentum = null, bool FoldedBatchNorm = false, bool TensorFlowPadding = false, Rng? Rng = null)
{
    /// <summary>Defaults for a model whose BN uses <paramref name="eps"/> and <paramref name="momentum"/> unless these options say otherwise.</summary>
    public ConvNormOptions WithDefaults(float eps, float momentum) =>
        this with { BatchNormEps = BatchNormEps ?? eps, BatchNormMomentum = BatchNormMomentum ?? momentum };

    /// <summary>
    /// A convolution initialised as torchvision's MobileNets do: weights from Kaiming's normal in
    /// "fan_out" mode, σ = √(2 / (C_out·k·k)) (PyTorch does not divide fan-out by the groups),
    /// biases zero. It has a bias only when <paramref name="bias"/> or when BN is folded.
    /// </summary>
    public Conv2d Conv(int inChannels, int outChannels, int kernelSize = 1, int stride = 1, int groups = 1, bool bias = false)
    {
        var padding = TensorFlowPadding ? Padding.TensorFlowSame : new Padding((kernelSize - 1) / 2);
        var init = Initializer.Normal(0f, MathF.Sqrt(2f / (outChannels * kernelSize * kernelSize)));
        return new Conv2d(inChannels, outChannels, kernelSize, stride, padding, groups: groups, useBias: bias || FoldedBatchNorm,
            weightInit: init, biasInit: Initializer.Zeros(), rng: Rng);
    }

    /// <summary>
    /// Conv2d → BatchNorm2d → activation as a Sequential, so its parameters are named "0.weight",
    /// "1.weight", "1.running_mean"… as in torchvision; with folded BN, Conv2d (with bias) →
    /// activation. A null <paramref name="activation"/> leaves the block linear (the projection of
    /// an inverted residual).
    /// </summary>
    public Sequential ConvNormActivation(int inChannels, int outChannels, int kernelSize = 3, int stride = 1, int groups = 1, string? activation = "relu")
    {
        var block = new Sequential(Conv(inChannels, outChannels, kernelSize, stride, groups));
        if (!FoldedBatchNorm) block.Add(Norm(outChannels));
        if (activation != null) block.Add(Activation.Parse(activation));
        return block;
    }

    /// <summary>BatchNorm2d with these options' ε and momentum (PyTorch's defaults when unset).</summary>
    public BatchNorm2d Norm(int channels) => new(channels, BatchNormEps ?? 1e-5f, BatchNormMomentum ?? 0.1f);
}
