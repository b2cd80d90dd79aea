namespace Sinapse.Kernels;

/// <summary>
/// The shape of one 2-D convolution over an NCHW batch, with the weight laid out as PyTorch's
/// [OutChannels, InChannels/Groups, KernelHeight, KernelWidth]. Padding may differ on each side
/// (TensorFlow's "SAME" pads one more at the bottom/right when the total is odd). A 1-D
/// convolution is the same thing with height 1.
/// </summary>
public readonly record struct ConvGeometry(
    int Batch, int InChannels, int OutChannels, int Groups,
    int InputHeight, int InputWidth, int KernelHeight, int KernelWidth,
    int StrideHeight = 1, int StrideWidth = 1,
    int PadTop = 0, int PadLeft = 0, int PadBottom = 0, int PadRight = 0,
    int DilationHeight = 1, int DilationWidth = 1)
{
    /// <summary>floor((in + padBegin + padEnd − dilation·(k − 1) − 1) / stride) + 1; may be ≤ 0
    /// for an invalid geometry (see <see cref="Validate()"/>).</summary>
    public int OutputHeight => OutputSize(InputHeight, PadTop + PadBottom, KernelHeight, StrideHeight, DilationHeight);

    public int OutputWidth => OutputSize(InputWidth, PadLeft + PadRight, KernelWidth, StrideWidth, DilationWidth);

    public int InChannelsPerGroup => InChannels / Groups;

    public int OutChannelsPerGroup => OutChannels / Groups;

    /// <summary>Floats in the weight: OutChannels·(InChannels/Groups)·kH·kW.</summary>
    public int WeightLength => OutChannels * InChannelsPerGroup * KernelHeight * KernelWidth;

    public int InputLength => Batch * InChannels * InputHeight * InputWidth;

    public int OutputLength => Batch * OutChannels * OutputHeight * OutputWidth;

    /// <summary>The kernel's extent on the input, dilation included: dilation·(k − 1) + 1.</summary>
    public int EffectiveKernelHeight => DilationHeight * (KernelHeight - 1) + 1;

    public int EffectiveKernelWidth => DilationWidth * (KernelWidth - 1) + 1;

    static int OutputSize(int input, int padding, int kernel, int stride, int dilation) =>
        stride < 1 ? 0 : (int)Math.Floor((input + padding - dilation * (kernel - 1) - 1) / (double)stride) + 1;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the shapes unless this is a
    /// convolution that can run (positive sizes, groups dividing both channel counts, stride and
    /// dilation ≥ 1, padding ≥ 0, and a kernel no larger than the padded input).</summary>
    public void Validate()
    {
        if (!IsValid) Validate("Conv2d",
        $"[{Batch}, {InChannels}, {InputHeight}, {InputWidth}]",
            $"[{OutChannels}, {(Groups > 0 ? InChannels / Groups : InChannels)}, {KernelHeight}, {KernelWidth}]");
    }

    /// <summary>Whether <see cref="Validate()"/> would pass (checked without building any message).</summary>
    public bool IsValid =>
        Batch >= 0 && InChannels >= 1 && OutChannels >= 1 && InputHeight >= 1 && InputWidth >= 1 && KernelHeight >= 1 && KernelWidth >= 1
        && Groups >= 1 && InChannels % Groups == 0 && OutChannels % Groups == 0
        && StrideHeight >= 1 && StrideWidth >= 1 && DilationHeight >= 1 && DilationWidth >= 1
        && PadTop >= 0 && PadLeft >= 0 && PadBottom >= 0 && PadRight >= 0
        && EffectiveKernelHeight <= InputHeight + PadTop + PadBottom && EffectiveKernelWidth <= InputWidth + PadLeft + PadRight;

    /// <summary>As <see cref="Validate()"/>, with the messages starting with <paramref name="op"/>
    /// and naming the shapes as the caller wrote them (a Conv1d names its 3-D shapes).</summary>
    public void Validate(string op, string inputShape, string weightShape)
    {
        string shapes = $"input {inputShape}, weight {weightShape}";
        if (Batch < 0 || InChannels < 1 || OutChannels < 1 || InputHeight < 1 || InputWidth < 1 || KernelHeight < 1 || KernelWidth < 1)
            throw new ArgumentException($"{op}: sizes must be positive (batch may be 0), got {shapes}.");
        if (Groups < 1)
            throw new ArgumentException($"{op}: groups must be at least 1, got {Groups} ({shapes}).");
        if (InChannels % Groups != 0 || OutChannels % Groups != 0)
            throw new ArgumentException($"{op}: groups {Groups} must divide both the input channels ({InChannels}) and the output channels ({OutChannels}); {shapes}.");
        if (StrideHeight < 1 || StrideWidth < 1)
            throw new ArgumentException($"{op}: stride must be at least 1, got ({StrideHeight}, {StrideWidth}); {shapes}.");
        if (DilationHeight < 1 || DilationWidth < 1)
            throw new ArgumentException($"{op}: dilation must be at least 1, got ({DilationHeight}, {DilationWidth}); {shapes}.");
        if (PadTop < 0 || PadLeft < 0 || PadBottom < 0 || PadRight < 0)
            throw new ArgumentException($"{op}: padding must be non-negative, got (top {PadTop}, left {PadLeft}, bottom {PadBottom}, right {PadRight}); {shapes}.");
        int paddedHeight = InputHeight + PadTop + PadBottom, paddedWidth = InputWidth + PadLeft + PadRight;
        if (EffectiveKernelHeight > paddedHeight || EffectiveKernelWidth > paddedWidth)
            throw new ArgumentException(
                $"{op}: the kernel spans {EffectiveKernelHeight}x{EffectiveKernelWidth} (dilation included) but the padded input is only " +
                $"{paddedHeight}x{paddedWidth}, so the output would be empty; {shapes}. Pad the input or use a smaller kernel.");
    }

    /// <summary>Depthwise with a small channel multiplier (≤ 4 outputs per input channel): these
    /// run on the direct kernel. With many outputs per input channel (a first layer on grey
    /// images, 1→32) the work is a proper matrix product again and im2col + GEMM measured 2–3×
    /// faster for forward + backward.</summary>
    internal bool IsDepthwise => InChannelsPerGroup == 1 && OutChannelsPerGroup <= 4;

    /// <summary>A 1×1 kernel with stride 1 and no padding: the convolution is a plain product of
    /// the weight with each image's [C, H·W] matrix.</summary>
    internal bool IsPointwise => KernelHeight == 1 && KernelWidth == 1 && StrideHeight == 1 && StrideWidth == 1
        && PadTop == 0 && PadLeft == 0 && PadBottom == 0 && PadRight == 0;
}
