using Sinapse.Kernels;
using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>
/// A convolution with the batch norm after it folded into its weights and bias, and the ReLU,
/// ReLU6 or hard-swish after that applied to its output: what <see cref="Fusion.FoldBatchNorm"/>
/// puts in a model for inference. It computes what the three layers computed in evaluation mode,
/// in one convolution instead of three passes over the output.
/// </summary>
public sealed class FoldedConv2d : Module
{
    /// <param name="activation">A <see cref="Relu"/>, <see cref="Relu6"/> or <see cref="HardSwish"/>, or null.</param>
    internal FoldedConv2d(Conv2d convolution, Activation? activation)
    {
        if (activation is not (null or Relu or Relu6 or HardSwish)) throw new ArgumentException($"FoldedConv2d applies a ReLU, ReLU6 or hard-swish, got {activation.Describe()}.");
        Convolution = RegisterModule("conv", convolution);
        if (activation != null) Activation = RegisterModule("activation", activation);
    }

    /// <summary>The convolution with the folded weights and bias.</summary>
    public Conv2d Convolution { get; }

    /// <summary>The activation applied to the convolution's output, if any.</summary>
    public Activation? Activation { get; }

    protected override Tensor Forward(Tensor input)
    {
        if (Training)
            throw new InvalidOperationException($"{Describe()} holds a batch norm's running statistics, not batch statistics: it runs in evaluation mode only (dispose the folding before training).");
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

    public override string Describe() => $"FoldedConv2d({Convolution.Describe()}, batch norm folded{(Activation != null ? ", " + Activation.Describe() : "")})";
}
