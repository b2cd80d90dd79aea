using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Sinapse.Kernels;

/// <summary>
/// The geometry of 2-D pooling over planes of <see cref="Height"/>×<see cref="Width"/> (1-D
/// pooling is the case Height = 1, kernel height 1): a window of the kernel's size, its taps
/// <see cref="DilationHeight"/>/<see cref="DilationWidth"/> apart (max pooling only), moved by
/// the stride over the input padded on each side. PyTorch's semantics: with
/// <see cref="CeilMode"/> false a window never starts in the bottom/right padding; with it true
/// the output size rounds up, so a last window may hang past the padded input, but it must
/// still start inside the input or the top/left padding. <see cref="CountIncludePad"/> (average
/// pooling) divides by the window's extent within the padded input rather than by the number of
/// input elements it covers.
/// </summary>
public readonly record struct PoolWindow(int Height, int Width, int KernelHeight, int KernelWidth,
    int StrideHeight, int StrideWidth, int PaddingHeight, int PaddingWidth,
    int DilationHeight = 1, int DilationWidth = 1, bool CeilMode = false, bool CountIncludePad = true)
{
    public int OutputHeight => OutputSize(Height, KernelHeight, StrideHeight, PaddingHeight, DilationHeight, CeilMode);

    public int OutputWidth => OutputSize(Width, KernelWidth, StrideWidth, PaddingWidth, DilationWidth, CeilMode);

    public int InputPlane => Height * Width;

    public int OutputPlane => OutputHeight * OutputWidth;

    /// <summary>
    /// floor((w − f + 2b) / p) + 1 for input size w, window f, padding b, stride p (with dilation
    /// d the window spans d·(f − 1) + 1); with <paramref name="ceilMode"/> the division rounds up,
    /// less one window if the last would start in the bottom/right padding (PyTorch's
    /// pooling_output_shape). Zero or less when the window does not fit the padded input.
    /// </summary>
    public static int OutputSize(int size, int kernel, int stride, int padding, int dilation = 1, bool ceilMode = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        long span = (long)dilation * (kernel - 1) + 1;
        long reach = size + 2L * padding - span + (ceilMode ? stride - 1 : 0);
        long output = (reach >= 0 ? reach / stride : -((-reach + stride - 1) / stride)) + 1;
        if (ceilMode && output > 0 && (output - 1) * stride >= size + (long)padding) output--;
        return (int)Math.Clamp(output, int.MinValue, int.MaxValue);
    }
}

/// <summary>
/// The geometry of adaptive average pooling of <see cref="Height"/>×<see cref="Width"/> planes to
/// <see cref="OutputHeight"/>×<see cref="OutputWidth"/>: output row i averages input rows
/// floor(i·H / OH) to ceil((i + 1)·H / OH) − 1 (PyTorch's windows, which overlap when OH does
/// not divide H), and likewise for columns.
/// </summary>
public readonly record struct AdaptivePoolWindow(int Height, int Width, int OutputHeight, int OutputWidth)
{
    public int InputPlane => Height * Width;

    public int OutputPlane => OutputHeight * OutputWidth;

    /// <summary>The first input index of output <paramref name="index"/>'s window: floor(index · size / outputSize).</summary>
    public static int Start(int index, int outputSize, int size) => (int)((long)index * size / outputSize);

    /// <summary>One past the last input index of the window: ceil((index + 1) · size / outputSize).</summary>
    public static int End(int index, int outputSize, int size) => (int)(((long)(index + 1) * size + outputSize - 1) / outputSize);
}

/// <summary>
/// NCHW max, average, adaptive average and global average pooling, forward and backward, over
/// whole planes ([N·C] planes of H×W, contiguous). Planes are independent, so threads split them
/// into fixed contiguous ranges and every result is the same for any thread count.
/// </summary>
/// <remarks>
/// Max pooling follows PyTorch's CPU kernel exactly: padding is −∞ (it never wins), the first
/// maximum in row-major window order wins ties, and a NaN wins over any number. The arg-max of
/// each output is stored as its index within the input plane, in a float (exact below 2^24),
/// so it can live in a pooled tensor. Average pooling divides as PyTorch's does: by the
/// window's extent clipped to the padded input (count_include_pad = true) or by the input
/// elements it covers (false); a window that covers no input element gives 0.
/// </remarks>
public static unsafe class Pooling
{
    /// <summary>Below this many elements touched, a call runs on the calling thread: waking the
    /// workers costs a few microseconds, as much as pooling 32K floats.</summary>
    const long ParallelThreshold = 1L << 15;

    /// <summary>Largest plane whose indices a float holds exactly.</summary>
    public const int MaxPlaneSize = 1 << 24;

    /// <summary>
    /// output[p, o] = max over the window of o in plane p; argmax[p, o] = the index of that
    /// maximum within the input plane. Pass an empty <paramref name="argmax"/> when no backward
    /// pass will follow (inference).
    /// </summary>
    public static void MaxPool2d(ReadOnlySpan<float> input, Span<float> output, Span<float> argmax, int planes, PoolWindow window)
    {
        Validate("MaxPool2d", input.Length, output.Length, planes, window);
        if (!argmax.IsEmpty && argmax.Length < planes * window.OutputPlane)
            throw new ArgumentException($"MaxPool2d: the arg-max buffer holds {argmax.Length} values, {planes * window.OutputPlane} needed.");
        Run(Kind.MaxForward, input, output, argmax, 0f, planes, new PlaneGeometry(window));
    }

    /// <summary>gradInput = beta·gradInput + the output gradient scattered to each window's arg-max.</summary>
    public static void MaxPool2dBackward(ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> argmax, float beta, Span<float> gradInput, int planes, PoolWindow window)
    {
        Validate("MaxPool2dBackward", gradInput.Length, gradOutput.Length, planes, window);
        if (argmax.Length < planes * window.OutputPlane)
            throw new ArgumentException($"MaxPool2dBackward: the arg-max buffer holds {argmax.Length} values, {planes * window.OutputPlane} needed.");
        Run(Kind.MaxBackward, gradInput, gradOutput, argmax, beta, planes, new PlaneGeometry(window));
    }

    /// <summary>output[p, o] = the window's sum / its divisor (see <see cref="PoolWindow.CountIncludePad"/>).</summary>
    public static void AvgPool2d(ReadOnlySpan<float> input, Span<float> output, int planes, PoolWindow window)
    {
        Validate("AvgPool2d", input.Length, output.Length, planes, window);
        ValidateAverage("AvgPool2d", window);
        Run(Kind.AvgForward, input, output, default, 0f, planes, new PlaneGeometry(window));
    }

    /// <summary>gradInput = beta·gradInput + each output gradient / its window's divisor spread over the window.</summary>
    public static void AvgPool2dBackward(ReadOnlySpan<float> gradOutput, float beta, Span<float> gradInput, int planes, PoolWindow window)
    {
        Validate("AvgPool2dBackward", gradInput.Length, gradOutput.Length, planes, window);
        ValidateAverage("AvgPool2dBackward", window);
        Run(Kind.AvgBackward, gradInput, gradOutput, default, beta, planes, new PlaneGeometry(window));
    }

    /// <summary>output[p, i, j] = the mean of the adaptive window (i, j) of plane p.</summary>
    public static void AdaptiveAvgPool2d(ReadOnlySpan<float> input, Span<float> output, int planes, AdaptivePoolWindow window)
    {
        ValidateAdaptive("AdaptiveAvgPool2d", input.Length, output.Length, planes, window);
        Run(Kind.AdaptiveForward, input, output, default, 0f, planes, new PlaneGeometry(window));
    }

    /// <summary>gradInput = beta·gradInput + each output gradient / its window's area spread over the window (windows may overlap).</summary>
    public static void AdaptiveAvgPool2dBackward(ReadOnlySpan<float> gradOutput, float beta, Span<float> gradInput, int planes, AdaptivePoolWindow window)
    {
        ValidateAdaptive("AdaptiveAvgPool2dBackward", gradInput.Length, gradOutput.Length, planes, window);
        Run(Kind.AdaptiveBackward, gradInput, gradOutput, default, beta, planes, new PlaneGeometry(window));
    }

    /// <summary>output[p] = the mean of plane p (global average pooling, adaptive pooling to 1×1).</summary>
    public static void GlobalAvgPool(ReadOnlySpan<float> input, Span<float> output, int planes, int planeSize)
    {
        ValidateGlobal("GlobalAvgPool", input.Length, output.Length, planes, planeSize);
        Run(Kind.GlobalForward, input, output, default, 0f, planes, new PlaneGeometry(planeSize));
    }

    /// <summary>gradInput[p, i] = beta·gradInput[p, i] + gradOutput[p] / planeSize.</summary>
    public static void GlobalAvgPoolBackward(ReadOnlySpan<float> gradOutput, float beta, Span<float> gradInput, int planes, int planeSize)
    {
        ValidateGlobal("GlobalAvgPoolBackward", gradInput.Length, gradOutput.Length, planes, planeSize);
        Run(Kind.GlobalBackward, gradInput, gradOutput, default, beta, planes, new PlaneGeometry(planeSize));
    }

    static void Validate(string op, int inputLength, int outputLength, int planes, PoolWindow w)
    {
        if (planes < 0 || w.Height < 1 || w.Width < 1 || w.KernelHeight < 1 || w.KernelWidth < 1 || w.StrideHeight < 1 || w.StrideWidth < 1
            || w.DilationHeight < 1 || w.DilationWidth < 1
            || w.PaddingHeight < 0 || w.PaddingWidth < 0 || 2 * w.PaddingHeight > w.KernelHeight || 2 * w.PaddingWidth > w.KernelWidth
            || w.OutputHeight < 1 || w.OutputWidth < 1)
            throw new ArgumentException($"{op}: invalid geometry for {planes} planes of {w.Height}x{w.Width}: kernel {w.KernelHeight}x{w.KernelWidth}, "
                + $"stride {w.StrideHeight}x{w.StrideWidth}, padding {w.PaddingHeight}x{w.PaddingWidth}, dilation {w.DilationHeight}x{w.DilationWidth}{(w.CeilMode ? ", ceil mode" : "")} "
                + "(kernel, stride and dilation at least 1, padding at most half the kernel, the window inside the padded input).");
        CheckSizes(op, inputLength, outputLength, planes, w.Height, w.Width, w.OutputHeight, w.OutputWidth);
    }

    static void ValidateAverage(string op, PoolWindow w)
    {
        if (w.DilationHeight != 1 || w.DilationWidth != 1)
            throw new ArgumentException($"{op}: average pooling has no dilation, got {w.DilationHeight}x{w.DilationWidth}.");
    }

    static void ValidateAdaptive(string op, int inputLength, int outputLength, int planes, AdaptivePoolWindow w)
    {
        if (planes < 0 || w.Height < 1 || w.Width < 1 || w.OutputHeight < 1 || w.OutputWidth < 1)
            throw new ArgumentException($"{op}: invalid geometry for {planes} planes of {w.Height}x{w.Width} to {w.OutputHeight}x{w.OutputWidth} (every size at least 1).");
        CheckSizes(op, inputLength, outputLength, planes, w.Height, w.Width, w.OutputHeight, w.OutputWidth);
    }

    static void CheckSizes(string op, int inputLength, int outputLength, int planes, int height, int width, int outputHeight, int outputWidth)
    {
        if ((long)height * width > MaxPlaneSize)
            throw new ArgumentException($"{op}: planes of {height}x{width} are larger than {MaxPlaneSize} elements, beyond what a float index holds exactly.");
        long inputs = (long)planes * height * width, outputs = (long)planes * outputHeight * outputWidth;
        if (inputLength < inputs || outputLength < outputs)
            throw new ArgumentException($"{op}: {planes} planes of {height}x{width} -> {outputHeight}x{outputWidth} need {inputs} input and {outputs} output values, got {inputLength} and {outputLength}.");
    }

    static void ValidateGlobal(string op, int inputLength, int outputLength, int planes, int planeSize)
    {
        if (planes < 0 || planeSize < 1 || inputLength < (long)planes * planeSize || outputLength < planes)
            throw new ArgumentException($"{op}: {planes} planes of {planeSize} values need {(long)planes * planeSize} input and {planes} output values, got {inputLength} and {outputLength}.");
    }

    enum Kind { MaxForward, MaxBackward, AvgForward, AvgBackward, AdaptiveForward, AdaptiveBackward, GlobalForward, GlobalBackward }

    /// <summary>
    /// Splits the planes into fixed ranges, one per thread. <paramref name="big"/> is the input
    /// side (x or dx), <paramref name="small"/> the output side (y or dy), <paramref name="indices"/>
    /// the arg-max (empty when there is none); the kernel writes into whichever is the output.
    /// </summary>
    static void Run(Kind kind, ReadOnlySpan<float> big, ReadOnlySpan<float> small, ReadOnlySpan<float> indices, float beta, int planes, in PlaneGeometry geometry)
    {
        if (planes == 0) return;
        fixed (float* bigPointer = big, smallPointer = small, indicesPointer = indices)
            Run(kind, bigPointer, smallPointer, indices.IsEmpty ? null : indicesPointer, beta, planes, geometry);
    }

    static void Run(Kind kind, float* big, float* small, float* indices, float beta, int planes, in PlaneGeometry geometry)
    {
        var job = ParallelJob.ForThisThread<Job>();
        job.Kind = kind;
        job.Big = big;
        job.Small = small;
        job.Indices = indices;
        job.Beta = beta;
        job.Planes = planes;
        job.Geometry = geometry;
        long work = (long)planes * (geometry.InputPlane + (long)geometry.OutputPlane * geometry.KernelHeight * geometry.KernelWidth);
        try
        {
            job.Run(work < ParallelThreshold ? 1 : (int)Math.Min(Workers.Count, planes));
        }
        finally
        {
            job.Big = job.Small = job.Indices = null;
        }
    }

    /// <summary>One call's arguments as raw pointers (pinned by the caller while the tasks run).</summary>
    sealed class Job : ParallelJob
    {
        public Kind Kind;
        public float* Big, Small, Indices;
        public float Beta;
        public int Planes;
        public PlaneGeometry Geometry;

        protected override void RunTask(int task)
        {
            var (first, end) = Share(Planes, task);
            var w = Geometry;
            bool twoByTwo = Kind is Kind.MaxForward or Kind.MaxBackward && IsTwoByTwo(w);
            for (int p = first; p < end; p++)
            {
                float* big = Big + (long)p * w.InputPlane, small = Small + (long)p * w.OutputPlane;
                float* indices = Indices == null ? null : Indices + (long)p * w.OutputPlane;
                switch (Kind)
                {
                    case Kind.MaxForward:
                        if (twoByTwo) MaxPlane2x2(big, small, indices, w);
                        else MaxPlane(big, small, indices, w);
                        break;
                    case Kind.MaxBackward:
                        if (twoByTwo && Beta == 0f && Sse.IsSupported) MaxBackwardPlane2x2(big, small, indices, w);
                        else MaxBackwardPlane(big, small, indices, Beta, w);
                        break;
                    case Kind.AvgForward:
                        AvgPlane(big, small, w);
                        break;
                    case Kind.AvgBackward:
                        AvgBackwardPlane(big, small, Beta, w);
                        break;
                    case Kind.AdaptiveForward:
                        AdaptivePlane(big, small, w);
                        break;
                    case Kind.AdaptiveBackward:
                        AdaptiveBackwardPlane(big, small, Beta, w);
                        break;
                    case Kind.GlobalForward:
                        *small = TensorPrimitives.Sum(new ReadOnlySpan<float>(big, w.InputPlane)) / w.InputPlane;
                        break;
                    case Kind.GlobalBackward:
                        var dx = new Span<float>(big, w.InputPlane);
                        float share = *small / w.InputPlane;
                        if (Beta == 0f) dx.Fill(share);
                        else TensorPrimitives.Add(dx, share, dx);
                        break;
                }
            }
        }
    }

    /// <summary>
    /// A call's geometry with its output sizes computed once per call (they were once a
    /// floating-point division per plane, which cost more than pooling a small plane).
    /// </summary>
    readonly struct PlaneGeometry
    {
        public readonly int Height, Width, KernelHeight, KernelWidth, StrideHeight, StrideWidth, PaddingHeight, PaddingWidth,
            DilationHeight, DilationWidth, OutputHeight, OutputWidth, InputPlane, OutputPlane;
        public readonly bool CountIncludePad;

        public PlaneGeometry(PoolWindow w)
        {
            (Height, Width, KernelHeight, KernelWidth) = (w.Height, w.Width, w.KernelHeight, w.KernelWidth);
            (StrideHeight, StrideWidth, PaddingHeight, PaddingWidth) = (w.StrideHeight, w.StrideWidth, w.PaddingHeight, w.PaddingWidth);
            (DilationHeight, DilationWidth, CountIncludePad) = (w.DilationHeight, w.DilationWidth, w.CountIncludePad);
            (OutputHeight, OutputWidth) = (w.OutputHeight, w.OutputWidth);
            (InputPlane, OutputPlane) = (Height * Width, OutputHeight * OutputWidth);
        }

        /// <summary>Adaptive pooling: the kernel is the largest window, for the cost estimate only.</summary>
        public PlaneGeometry(AdaptivePoolWindow w)
        {
            (Height, Width, OutputHeight, OutputWidth) = (w.Height, w.Width, w.OutputHeight, w.OutputWidth);
            (KernelHeight, KernelWidth) = (Height / OutputHeight + 2, Width / OutputWidth + 2);
            (InputPlane, OutputPlane) = (Height * Width, OutputHeight * OutputWidth);
        }

        /// <summary>Global pooling: a plane of <paramref name="planeSize"/> values to one.</summary>
        public PlaneGeometry(int planeSize) => (InputPlane, OutputPlane) = (planeSize, 1);
    }

    /// <summary>
    /// The course CNN's MaxPool2d(2, 2): no padding, no dilation, every window inside the input
    /// (ceil mode adds a partial window on odd sizes), no bounds checks, four loads per output.
    /// </summary>
    static bool IsTwoByTwo(in PlaneGeometry w) =>
        w.KernelHeight == 2 && w.KernelWidth == 2 && w.StrideHeight == 2 && w.StrideWidth == 2 && w.PaddingHeight == 0 && w.PaddingWidth == 0
        && w.DilationHeight == 1 && w.DilationWidth == 1 && 2 * w.OutputHeight <= w.Height && 2 * w.OutputWidth <= w.Width;

    static void MaxPlane2x2(float* x, float* y, float* indices, in PlaneGeometry w)
    {
        int width = w.Width, outHeight = w.OutputHeight, outWidth = w.OutputWidth;
        for (int oh = 0; oh < outHeight; oh++)
        {
            int top = 2 * oh * width;
            float* row0 = x + top, row1 = row0 + width;
            float* yRow = y + oh * outWidth;
            float* iRow = indices == null ? null : indices + oh * outWidth;
            int ow = Vector256.IsHardwareAccelerated ? MaxRow2x2Vector(row0, row1, yRow, iRow, top, width, outWidth) : 0;
            for (; ow < outWidth; ow++)
            {
                // The same order as the general loop: (0,0), (0,1), (1,0), (1,1); strictly
                // greater (or NaN) replaces, so the first maximum wins.
                int c = 2 * ow;
                float best = row0[c];
                int at = top + c;
                float v = row0[c + 1];
                if (v > best || float.IsNaN(v)) { best = v; at = top + c + 1; }
                v = row1[c];
                if (v > best || float.IsNaN(v)) { best = v; at = top + width + c; }
                v = row1[c + 1];
                if (v > best || float.IsNaN(v)) { best = v; at = top + width + c + 1; }
                yRow[ow] = best;
                if (iRow != null) iRow[ow] = at;
            }
        }
    }

    /// <summary>
    /// A 2×2 stride 2 row, eight (or, in rows narrower than eight outputs, four) outputs at a
    /// time: the even and odd columns of both input rows are separated with a permute, then the
    /// four candidates compete in the scalar loop's order through compare-and-select (no
    /// branches, so random data costs no mispredictions). The last block overlaps the one before
    /// instead of leaving a scalar tail; rewriting an output with the same value is harmless.
    /// Returns how many outputs it wrote (0 for rows under four outputs).
    /// </summary>
    static int MaxRow2x2Vector(float* row0, float* row1, float* y, float* indices, int top, int width, int outWidth)
    {
        if (outWidth >= 8)
        {
            for (int ow = 0; ; ow += 8)
            {
                if (ow + 8 > outWidth) ow = outWidth - 8;
                MaxBlock2x2(row0, row1, y, indices, top, width, ow);
                if (ow + 8 == outWidth) return outWidth;
            }
        }
        if (outWidth >= 4 && Sse.IsSupported)
        {
            for (int ow = 0; ; ow += 4)
            {
                if (ow + 4 > outWidth) ow = outWidth - 4;
                MaxBlock2x2Narrow(row0, row1, y, indices, top, width, ow);
                if (ow + 4 == outWidth) return outWidth;
            }
        }
        return 0;
    }

    static void MaxBlock2x2(float* row0, float* row1, float* y, float* indices, int top, int width, int ow)
    {
        var evenFirst = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
        int c = 2 * ow;
        var a = Vector256.Shuffle(Vector256.Load(row0 + c), evenFirst);
        var b = Vector256.Shuffle(Vector256.Load(row0 + c + 8), evenFirst);
        var e0 = Vector256.Create(a.GetLower(), b.GetLower());
        var o0 = Vector256.Create(a.GetUpper(), b.GetUpper());
        a = Vector256.Shuffle(Vector256.Load(row1 + c), evenFirst);
        b = Vector256.Shuffle(Vector256.Load(row1 + c + 8), evenFirst);
        var e1 = Vector256.Create(a.GetLower(), b.GetLower());
        var o1 = Vector256.Create(a.GetUpper(), b.GetUpper());

        var replace = Vector256.GreaterThan(o0, e0) | ~Vector256.Equals(o0, o0);
        var best = Vector256.ConditionalSelect(replace, o0, e0);
        var at = Vector256.Create((float)(top + c)) + Vector256.Create(0f, 2, 4, 6, 8, 10, 12, 14);
        var index = Vector256.ConditionalSelect(replace, at + Vector256<float>.One, at);
        replace = Vector256.GreaterThan(e1, best) | ~Vector256.Equals(e1, e1);
        best = Vector256.ConditionalSelect(replace, e1, best);
        index = Vector256.ConditionalSelect(replace, at + Vector256.Create((float)width), index);
        replace = Vector256.GreaterThan(o1, best) | ~Vector256.Equals(o1, o1);
        best = Vector256.ConditionalSelect(replace, o1, best);
        best.Store(y + ow);
        if (indices == null) return;
        index = Vector256.ConditionalSelect(replace, at + Vector256.Create((float)(width + 1)), index);
        index.Store(indices + ow);
    }

    /// <summary><see cref="MaxBlock2x2"/> at half the width, for rows of four to seven outputs (12×12 → 6×6).</summary>
    static void MaxBlock2x2Narrow(float* row0, float* row1, float* y, float* indices, int top, int width, int ow)
    {
        // shufps picks the even (0b10_00_10_00) or odd (0b11_01_11_01) columns of two vectors in
        // one instruction; assembling halves with GetLower/GetUpper went through the stack and
        // stalled on store forwarding (3x slower).
        int c = 2 * ow;
        var a = Vector128.Load(row0 + c);
        var b = Vector128.Load(row0 + c + 4);
        var e0 = Sse.Shuffle(a, b, 0b10_00_10_00);
        var o0 = Sse.Shuffle(a, b, 0b11_01_11_01);
        a = Vector128.Load(row1 + c);
        b = Vector128.Load(row1 + c + 4);
        var e1 = Sse.Shuffle(a, b, 0b10_00_10_00);
        var o1 = Sse.Shuffle(a, b, 0b11_01_11_01);

        var replace = Vector128.GreaterThan(o0, e0) | ~Vector128.Equals(o0, o0);
        var best = Vector128.ConditionalSelect(replace, o0, e0);
        var at = Vector128.Create((float)(top + c)) + Vector128.Create(0f, 2, 4, 6);
        var index = Vector128.ConditionalSelect(replace, at + Vector128<float>.One, at);
        replace = Vector128.GreaterThan(e1, best) | ~Vector128.Equals(e1, e1);
        best = Vector128.ConditionalSelect(replace, e1, best);
        index = Vector128.ConditionalSelect(replace, at + Vector128.Create((float)width), index);
        replace = Vector128.GreaterThan(o1, best) | ~Vector128.Equals(o1, o1);
        best = Vector128.ConditionalSelect(replace, o1, best);
        best.Store(y + ow);
        if (indices == null) return;
        index = Vector128.ConditionalSelect(replace, at + Vector128.Create((float)(width + 1)), index);
        index.Store(indices + ow);
    }

    static void MaxPlane(float* x, float* y, float* indices, in PlaneGeometry w)
    {
        int width = w.Width;
        for (int oh = 0, o = 0; oh < w.OutputHeight; oh++)
        {
            var (h0, h1) = MaxRange(oh, w.StrideHeight, w.PaddingHeight, w.KernelHeight, w.DilationHeight, w.Height);
            for (int ow = 0; ow < w.OutputWidth; ow++, o++)
            {
                var (w0, w1) = MaxRange(ow, w.StrideWidth, w.PaddingWidth, w.KernelWidth, w.DilationWidth, width);
                // Padding is −∞: only the taps inside the input compete.
                int at = h0 * width + w0;
                float best = float.NegativeInfinity;
                for (int ih = h0; ih < h1; ih += w.DilationHeight)
                {
                    float* row = x + ih * width;
                    for (int iw = w0; iw < w1; iw += w.DilationWidth)
                    {
                        float v = row[iw];
                        if (v > best || float.IsNaN(v)) { best = v; at = ih * width + iw; }
                    }
                }
                y[o] = best;
                if (indices != null) indices[o] = at;
            }
        }
    }

    /// <summary>The taps of max-pooling window <paramref name="index"/> along one axis: from its first tap inside the input, up to (not including) the end, every dilation-th.</summary>
    static (int Begin, int End) MaxRange(int index, int stride, int padding, int kernel, int dilation, int size)
    {
        int begin = index * stride - padding;
        int end = Math.Min(begin + dilation * (kernel - 1) + 1, size);
        while (begin < 0) begin += dilation;
        return (begin, end);
    }

    /// <summary>
    /// <see cref="MaxBackwardPlane"/> for 2×2 stride 2 onto a new gradient (beta = 0): the windows
    /// do not overlap, so each input element is written once — the output gradient where the
    /// window's arg-max points, zero elsewhere — four outputs (two 8-float input row pieces) per
    /// step, instead of clearing the plane and then scattering into it (which wrote the
    /// largest activation of the course CNN twice). Rows and columns no window covers (odd
    /// sizes) are zeroed.
    /// </summary>
    static void MaxBackwardPlane2x2(float* dx, float* dy, float* indices, in PlaneGeometry w)
    {
        int width = w.Width, outHeight = w.OutputHeight, outWidth = w.OutputWidth;
        var offsets = Vector128.Create(0f, 2, 4, 6);
        for (int oh = 0; oh < outHeight; oh++)
        {
            int top = 2 * oh * width;
            float* row0 = dx + top, row1 = row0 + width;
            float* dyRow = dy + oh * outWidth, indexRow = indices + oh * outWidth;
            int ow = 0;
            if (outWidth >= 4)
            {
                for (; ; ow += 4)
                {
                    // The last block overlaps the one before rather than leaving a scalar tail;
                    // it writes the same values again (beta = 0 only).
                    if (ow + 4 > outWidth) ow = outWidth - 4;
                    var gradient = Vector128.Load(dyRow + ow);
                    var index = Vector128.Load(indexRow + ow);
                    var at = Vector128.Create((float)(top + 2 * ow)) + offsets;
                    var even0 = Vector128.Equals(index, at) & gradient;
                    var odd0 = Vector128.Equals(index, at + Vector128<float>.One) & gradient;
                    var even1 = Vector128.Equals(index, at + Vector128.Create((float)width)) & gradient;
                    var odd1 = Vector128.Equals(index, at + Vector128.Create((float)(width + 1))) & gradient;
                    int c = 2 * ow;
                    Interleave(even0, odd0, row0 + c);
                    Interleave(even1, odd1, row1 + c);
                    if (ow + 4 == outWidth) break;
                }
                ow = outWidth;
            }
            for (; ow < outWidth; ow++)
            {
                int c = 2 * ow, at = (int)indexRow[ow];
                float g = dyRow[ow];
                row0[c] = at == top + c ? g : 0f;
                row0[c + 1] = at == top + c + 1 ? g : 0f;
                row1[c] = at == top + width + c ? g : 0f;
                row1[c + 1] = at == top + width + c + 1 ? g : 0f;
            }
            if (width > 2 * outWidth)
            {
                row0[width - 1] = 0f;
                row1[width - 1] = 0f;
            }
        }
        if (w.Height > 2 * outHeight) new Span<float>(dx + 2 * outHeight * width, width).Clear();
    }

    /// <summary>Stores [even0, odd0, even1, odd1, …]: the two columns of four windows, back in row order.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    static void Interleave(Vector128<float> even, Vector128<float> odd, float* destination)
    {
        Sse.UnpackLow(even, odd).Store(destination);
        Sse.UnpackHigh(even, odd).Store(destination + 4);
    }

    static void MaxBackwardPlane(float* dx, float* dy, float* indices, float beta, in PlaneGeometry w)
    {
        int inputPlane = w.InputPlane;
        if (beta == 0f) new Span<float>(dx, inputPlane).Clear();
        for (int o = 0; o < w.OutputPlane; o++)
        {
            int at = (int)indices[o];
            if ((uint)at >= (uint)inputPlane) throw new InvalidOperationException($"MaxPool2dBackward: arg-max {indices[o]} is outside the input plane of {inputPlane}.");
            dx[at] += dy[o];
        }
    }

    /// <summary>
    /// Average-pooling window <paramref name="index"/> along one axis: its input elements
    /// [Begin, End) and its extent within the padded input (what count_include_pad divides by;
    /// in ceil mode the last window may reach past the padding, and that part never counts).
    /// </summary>
    static (int Begin, int End, int Padded) AvgRange(int index, int stride, int padding, int kernel, int size)
    {
        int begin = index * stride - padding;
        int end = Math.Min(begin + kernel, size + padding);
        return (Math.Max(begin, 0), Math.Min(end, size), end - begin);
    }

    static void AvgPlane(float* x, float* y, in PlaneGeometry w)
    {
        int width = w.Width;
        for (int oh = 0, o = 0; oh < w.OutputHeight; oh++)
        {
            var (h0, h1, paddedHeight) = AvgRange(oh, w.StrideHeight, w.PaddingHeight, w.KernelHeight, w.Height);
            for (int ow = 0; ow < w.OutputWidth; ow++, o++)
            {
                var (w0, w1, paddedWidth) = AvgRange(ow, w.StrideWidth, w.PaddingWidth, w.KernelWidth, width);
                if (h0 >= h1 || w0 >= w1)
                {
                    y[o] = 0f;
                    continue;
                }
                float sum = 0f;
                for (int ih = h0; ih < h1; ih++)
                {
                    float* row = x + ih * width;
                    for (int iw = w0; iw < w1; iw++) sum += row[iw];
                }
                y[o] = sum / (w.CountIncludePad ? paddedHeight * paddedWidth : (h1 - h0) * (w1 - w0));
            }
        }
    }

    static void AvgBackwardPlane(float* dx, float* dy, float beta, in PlaneGeometry w)
    {
        int width = w.Width;
        if (beta == 0f) new Span<float>(dx, w.InputPlane).Clear();
        for (int oh = 0, o = 0; oh < w.OutputHeight; oh++)
        {
            var (h0, h1, paddedHeight) = AvgRange(oh, w.StrideHeight, w.PaddingHeight, w.KernelHeight, w.Height);
            for (int ow = 0; ow < w.OutputWidth; ow++, o++)
            {
                var (w0, w1, paddedWidth) = AvgRange(ow, w.StrideWidth, w.PaddingWidth, w.KernelWidth, width);
                if (h0 >= h1 || w0 >= w1) continue;
                float share = dy[o] / (w.CountIncludePad ? paddedHeight * paddedWidth : (h1 - h0) * (w1 - w0));
                for (int ih = h0; ih < h1; ih++)
                {
                    float* row = dx + ih * width;
                    for (int iw = w0; iw < w1; iw++) row[iw] += share;
                }
            }
        }
    }

    static void AdaptivePlane(float* x, float* y, in PlaneGeometry w)
    {
        int width = w.Width;
        for (int oh = 0, o = 0; oh < w.OutputHeight; oh++)
        {
            int h0 = AdaptivePoolWindow.Start(oh, w.OutputHeight, w.Height), h1 = AdaptivePoolWindow.End(oh, w.OutputHeight, w.Height);
            for (int ow = 0; ow < w.OutputWidth; ow++, o++)
            {
                int w0 = AdaptivePoolWindow.Start(ow, w.OutputWidth, width), w1 = AdaptivePoolWindow.End(ow, w.OutputWidth, width);
                float sum = 0f;
                for (int ih = h0; ih < h1; ih++) sum += TensorPrimitives.Sum(new ReadOnlySpan<float>(x + ih * width + w0, w1 - w0));
                y[o] = sum / ((h1 - h0) * (w1 - w0));
            }
        }
    }

    static void AdaptiveBackwardPlane(float* dx, float* dy, float beta, in PlaneGeometry w)
    {
        int width = w.Width;
        if (beta == 0f) new Span<float>(dx, w.InputPlane).Clear();
        for (int oh = 0, o = 0; oh < w.OutputHeight; oh++)
        {
            int h0 = AdaptivePoolWindow.Start(oh, w.OutputHeight, w.Height), h1 = AdaptivePoolWindow.End(oh, w.OutputHeight, w.Height);
            for (int ow = 0; ow < w.OutputWidth; ow++, o++)
            {
                int w0 = AdaptivePoolWindow.Start(ow, w.OutputWidth, width), w1 = AdaptivePoolWindow.End(ow, w.OutputWidth, width);
                float share = dy[o] / ((h1 - h0) * (w1 - w0));
                for (int ih = h0; ih < h1; ih++)
                {
                    var row = new Span<float>(dx + ih * width + w0, w1 - w0);
                    TensorPrimitives.Add(row, share, row);
                }
            }
        }
    }
}
