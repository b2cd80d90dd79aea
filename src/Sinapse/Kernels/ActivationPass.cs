using System.Numerics.Tensors;

namespace Sinapse.Kernels;

/// <summary>
/// An activation applied in place to values a kernel has just written, while they are still in
/// cache: the epilogue of an inference convolution with the activation after it fused in.
/// </summary>
internal static class ActivationPass
{
    public static void Apply(FusedActivation activation, Span<float> values)
    {
        if (activation == FusedActivation.Relu) TensorPrimitives.Max(values, 0f, values);
        else if (activation == FusedActivation.HardSwish) Elementwise.HardSwish(values, values);
    }
}
