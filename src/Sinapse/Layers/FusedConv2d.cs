using Sinapse.Kernels;
using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>
/// A convolution with the batch norm after it folded into its weights and bias, and the ReLU,
/// ReLU6 or hard-swish after that applied to its output (either may be missing): what
/// <see cref="Fusion.FuseForInference"/> puts in a model for inference. It computes what the layers
/// computed in evaluation mode, in one convolution instead of a pass over the output per layer.
/// </summary>
internal sealed class FusedConv2d : Module
{
    /// <param name="activation">A <see cref="Relu"/>, <see cref="Relu6"/> or <see cref="HardSwish"/>, or null.</param>
    internal FusedConv2d(Conv2d convolution, Activation? activation)
    {
        if (activation is not (null or Relu or Relu6 or HardSwish)) throw new ArgumentException($"FusedConv2d applies a ReLU, ReLU6 or hard-swish, got {activation.Describe()}.");
        Convolution = RegisterModule("conv", convolution);
        if (activation != null) Activation = RegisterModule("activation", activation);
    }

    /// <summary>The convolution: a new one with the folded weights and bias, or the model's own when no batch norm was folded.</summary>
    public Conv2d Convolution { get; }

    /// <summary>The activation applied to the convolution's output, if any.</summary>
    public Activation? Activation { get; }

    protected override Tensor Forward(Tensor input)
    {
        if (Training)
            throw new InvalidOperationException($"{Describe()} is fused for inference and runs in evaluation mode only (a folded batch norm has no batch statistics): dispose the fusion before training.");
        // ReLU and hard-swish run in the convolution's own pass over each output row; ReLU6 on its own.
        return Activation switch
        {
            null => Convolution.Call(input),
            Relu => Convolution.Forward(input, FusedActivation.Relu),
            HardSwish => Convolution.Forward(input, FusedActivation.HardSwish),
            _ => Activation.Call(Convolution.Call(input)),
        };
    }

    public override Shape OutputShape(Shape input) => Convolution.OutputShape(input);

    public override (int Kernel, int Stride, int Dilation)? Window => Convolution.Window;

    public override string Describe() => $"FusedConv2d({Convolution.Describe()}{(Activation != null ? ", " + Activation.Describe() : "")})";
}
