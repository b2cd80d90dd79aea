using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Sinapse.Kernels;

/// <summary>
/// The geometry of 2-D pooling over planes of <see cref="Height"/>×<see cref="Width"/> (1-D
/// pooling is the case Height = 1, kernel height 1): a window of the kernel's size, moved by the
/// stride over the input padded on each side. PyTorch's ceil_mode = false: a window never starts
/// in the bottom/right padding, so it always covers the full kernel of the padded input.
/// </summary>
public readonly record struct PoolWindow(int Height, int Width, int KernelHeight, int KernelWidth,
    int StrideHeight, int StrideWidth, int PaddingHeight, int PaddingWidth)
{
    public int OutputHeight => OutputSize(Height, KernelHeight, StrideHeight, PaddingHeight);

    public int OutputWidth => OutputSize(Width, KernelWidth, StrideWidth, PaddingWidth);

    public int InputPlane => Height * Width;

    public int OutputPlane => OutputHeight * OutputWidth;

    /// <summary>
    /// floor((w − f + 2b) / p) + 1 for input size w, window f, padding b, stride p (with dilation
    /// d the window spans d·(f − 1) + 1). Zero or less when the window does not fit the padded input.
    /// </summary>
    public static int OutputSize(int size, int kernel, int stride, int padding, int dilation = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        long span = (long)dilation * (kernel - 1) + 1;
        return (int)Math.Floor((double)(size + 2L * padding - span) / stride) + 1;
    }
}

/// <summary>
/// NCHW max, average and global average pooling, forward and backward, over whole planes
/// ([N·C] planes of H×W, contiguous). Planes are independent, so threads split them into fixed
/// contiguous ranges and every result is the same for any thread count.
/// </summary>
/// <remarks>
/// Max pooling follows PyTorch's CPU kernel exactly: padding is −∞ (it never wins), the first
/// maximum in row-major window order wins ties, and a NaN wins over any number. The arg-max of
/// each output is stored as its index within the input plane, in a float (exact below 2^24),
/// so it can live in a pooled tensor. Average pooling divides by the full kernel area, padding
/// included (count_include_pad = true).
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
        fixed (float* x = input)
        fixed (float* y = output)
        fixed (float* indices = argmax)
            Run(Kind.MaxForward, x, y, argmax.IsEmpty ? null : indices, 0f, planes, window, 0);
    }

    /// <summary>gradInput = beta·gradInput + the output gradient scattered to each window's arg-max.</summary>
    public static void MaxPool2dBackward(ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> argmax, float beta, Span<float> gradInput, int planes, PoolWindow window)
    {
        Validate("MaxPool2dBackward", gradInput.Length, gradOutput.Length, planes, window);
        if (argmax.Length < planes * window.OutputPlane)
            throw new ArgumentException($"MaxPool2dBackward: the arg-max buffer holds {argmax.Length} values, {planes * window.OutputPlane} needed.");
        fixed (float* dy = gradOutput)
        fixed (float* dx = gradInput)
        fixed (float* indices = argmax)
            Run(Kind.MaxBackward, dx, dy, indices, beta, planes, window, 0);
    }

    /// <summary>output[p, o] = the window's sum / kernel area (padding counts as zeros).</summary>
    public static void AvgPool2d(ReadOnlySpan<float> input, Span<float> output, int planes, PoolWindow window)
    {
        Validate("AvgPool2d", input.Length, output.Length, planes, window);
        fixed (float* x = input)
        fixed (float* y = output)
            Run(Kind.AvgForward, x, y, null, 0f, planes, window, 0);
    }

    /// <summary>gradInput = beta·gradInput + each output gradient / kernel area spread over its window.</summary>
    public static void AvgPool2dBackward(ReadOnlySpan<float> gradOutput, float beta, Span<float> gradInput, int planes, PoolWindow window)
    {
        Validate("AvgPool2dBackward", gradInput.Length, gradOutput.Length, planes, window);
        fixed (float* dy = gradOutput)
        fixed (float* dx = gradInput)
            Run(Kind.AvgBackward, dx, dy, null, beta, planes, window, 0);
    }

    /// <summary>output[p] = the mean of plane p (global average pooling, adaptive pooling to 1×1).</summary>
    public static void GlobalAvgPool(ReadOnlySpan<float> input, Span<float> output, int planes, int planeSize)
    {
        ValidateGlobal("GlobalAvgPool", input.Length, output.Length, planes, planeSize);
        fixed (float* x = input)
        fixed (float* y = output)
            Run(Kind.GlobalForward, x, y, null, 0f, planes, default, planeSize);
    }

    /// <summary>gradInput[p, i] = beta·gradInput[p, i] + gradOutput[p] / planeSize.</summary>
    public static void GlobalAvgPoolBackward(ReadOnlySpan<float> gradOutput, float beta, Span<float> gradInput, int planes, int planeSize)
    {
        ValidateGlobal("GlobalAvgPoolBackward", gradInput.Length, gradOutput.Length, planes, planeSize);
        fixed (float* dy = gradOutput)
        fixed (float* dx = gradInput)
            Run(Kind.GlobalBackward, dx, dy, null, beta, planes, default, planeSize);
    }

    static void Validate(string op, int inputLength, int outputLength, int planes, PoolWindow w)
    {
        if (planes < 0 || w.Height < 1 || w.Width < 1 || w.KernelHeight < 1 || w.KernelWidth < 1 || w.StrideHeight < 1 || w.StrideWidth < 1
            || w.PaddingHeight < 0 || w.PaddingWidth < 0 || 2 * w.PaddingHeight > w.KernelHeight || 2 * w.PaddingWidth > w.KernelWidth
            || w.OutputHeight < 1 || w.OutputWidth < 1)
            throw new ArgumentException($"{op}: invalid geometry for {planes} planes of {w.Height}x{w.Width}: kernel {w.KernelHeight}x{w.KernelWidth}, "
                + $"stride {w.StrideHeight}x{w.StrideWidth}, padding {w.PaddingHeight}x{w.PaddingWidth} (kernel and stride at least 1, padding at most half the kernel, the window inside the padded input).");
        if ((long)w.Height * w.Width > MaxPlaneSize)
            throw new ArgumentException($"{op}: planes of {w.Height}x{w.Width} are larger than {MaxPlaneSize} elements, beyond what a float index holds exactly.");
        if (inputLength < (long)planes * w.InputPlane || outputLength < (long)planes * w.OutputPlane)
            throw new ArgumentException($"{op}: {planes} planes of {w.Height}x{w.Width} -> {w.OutputHeight}x{w.OutputWidth} need {(long)planes * w.InputPlane} input and {(long)planes * w.OutputPlane} output values, got {inputLength} and {outputLength}.");
    }

    static void ValidateGlobal(string op, int inputLength, int outputLength, int planes, int planeSize)
    {
        if (planes < 0 || planeSize < 1 || inputLength < (long)planes * planeSize || outputLength < planes)
            throw new ArgumentException($"{op}: {planes} planes of {planeSize} values need {(long)planes * planeSize} input and {planes} output values, got {inputLength} and {outputLength}.");
    }

    enum Kind { MaxForward, MaxBackward, AvgForward, AvgBackward, GlobalForward, GlobalBackward }

    /// <summary>
    /// Splits the planes into fixed ranges, one per thread. <paramref name="big"/> is the input
    /// side (x or dx), <paramref name="small"/> the output side (y or dy).
    /// </summary>
    static void Run(Kind kind, float* big, float* small, float* indices, float beta, int planes, PoolWindow window, int planeSize)
    {
        if (planes == 0) return;
        var job = Job.ForThisThread();
        job.Kind = kind;
        job.Big = big;
        job.Small = small;
        job.Indices = indices;
        job.Beta = beta;
        job.Planes = planes;
        job.Window = window;
        job.PlaneSize = planeSize;
        long work = kind is Kind.GlobalForward or Kind.GlobalBackward
            ? (long)planes * planeSize
            : (long)planes * (window.InputPlane + (long)window.OutputPlane * window.KernelHeight * window.KernelWidth);
        job.Tasks = work < ParallelThreshold ? 1 : (int)Math.Min(Workers.Count, planes);
        try
        {
            if (job.Tasks == 1) job.RunTask(0);
            else Workers.For(job.Tasks, job.RunTaskDelegate);
        }
        finally
        {
            job.Big = job.Small = job.Indices = null;
        }
    }

    /// <summary>One call's arguments as raw pointers (pinned by the caller while the threads run),
    /// one instance per calling thread with its delegate made once, so a call allocates nothing.</summary>
    sealed class Job
    {
        [ThreadStatic] static Job? current;

        public static Job ForThisThread() => current ??= new Job();

        public readonly Action<int> RunTaskDelegate;
        public Kind Kind;
        public float* Big, Small, Indices;
        public float Beta;
        public int Planes, Tasks, PlaneSize;
        public PoolWindow Window;

        Job() => RunTaskDelegate = RunTask;

        public void RunTask(int task)
        {
            int first = (int)((long)Planes * task / Tasks);
            int end = (int)((long)Planes * (task + 1) / Tasks);
            // The plane sizes once per task: OutputSize is a floating-point division, which cost
            // more than pooling a small plane when it was evaluated per plane (4096 planes 12×12
            // took 0.6 ms).
            bool global = Kind is Kind.GlobalForward or Kind.GlobalBackward;
            var w = global ? new PlaneGeometry(PlaneSize) : new PlaneGeometry(Window);
            bool twoByTwo = !global && IsTwoByTwo(Window);
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
                    case Kind.GlobalForward:
                        *small = TensorPrimitives.Sum(new ReadOnlySpan<float>(big, PlaneSize)) / PlaneSize;
                        break;
                    case Kind.GlobalBackward:
                        var dx = new Span<float>(big, PlaneSize);
                        float share = *small / PlaneSize;
                        if (Beta == 0f) dx.Fill(share);
                        else TensorPrimitives.Add(dx, share, dx);
                        break;
                }
            }
        }
    }

    /// <summary>A <see cref="PoolWindow"/> with its output sizes computed once.</summary>
    readonly struct PlaneGeometry
    {
        public readonly int Height, Width, KernelHeight, KernelWidth, StrideHeight, StrideWidth, PaddingHeight, PaddingWidth,
            OutputHeight, OutputWidth, InputPlane, OutputPlane;

        public PlaneGeometry(PoolWindow w)
        {
            (Height, Width, KernelHeight, KernelWidth) = (w.Height, w.Width, w.KernelHeight, w.KernelWidth);
            (StrideHeight, StrideWidth, PaddingHeight, PaddingWidth) = (w.StrideHeight, w.StrideWidth, w.PaddingHeight, w.PaddingWidth);
            (OutputHeight, OutputWidth) = (w.OutputHeight, w.OutputWidth);
            (InputPlane, OutputPlane) = (Height * Width, OutputHeight * OutputWidth);
        }

        /// <summary>Global pooling: a plane of <paramref name="planeSize"/> values to one.</summary>
        public PlaneGeometry(int planeSize) => (InputPlane, OutputPlane) = (planeSize, 1);
    }

    /// <summary>The course CNN's MaxPool2d(2, 2): no padding, no bounds checks, four loads per output.</summary>
    static bool IsTwoByTwo(PoolWindow w) =>
        w.KernelHeight == 2 && w.KernelWidth == 2 && w.StrideHeight == 2 && w.StrideWidth == 2 && w.PaddingHeight == 0 && w.PaddingWidth == 0;

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
        int height = w.Height, width = w.Width;
        for (int oh = 0, o = 0; oh < w.OutputHeight; oh++)
        {
            int h0 = oh * w.StrideHeight - w.PaddingHeight;
            int h1 = Math.Min(h0 + w.KernelHeight, height);
            h0 = Math.Max(h0, 0);
            for (int ow = 0; ow < w.OutputWidth; ow++, o++)
            {
                int w0 = ow * w.StrideWidth - w.PaddingWidth;
                int w1 = Math.Min(w0 + w.KernelWidth, width);
                w0 = Math.Max(w0, 0);
                // Padding is −∞: only the part of the window inside the input competes.
                int at = h0 * width + w0;
                float best = float.NegativeInfinity;
                for (int ih = h0; ih < h1; ih++)
                {
                    float* row = x + ih * width;
                    for (int iw = w0; iw < w1; iw++)
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

    static void AvgPlane(float* x, float* y, in PlaneGeometry w)
    {
        int height = w.Height, width = w.Width;
        float area = w.KernelHeight * w.KernelWidth;
        for (int oh = 0, o = 0; oh < w.OutputHeight; oh++)
        {
            int h0 = oh * w.StrideHeight - w.PaddingHeight;
            int h1 = Math.Min(h0 + w.KernelHeight, height);
            h0 = Math.Max(h0, 0);
            for (int ow = 0; ow < w.OutputWidth; ow++, o++)
            {
                int w0 = ow * w.StrideWidth - w.PaddingWidth;
                int w1 = Math.Min(w0 + w.KernelWidth, width);
                w0 = Math.Max(w0, 0);
                float sum = 0f;
                for (int ih = h0; ih < h1; ih++)
                {
                    float* row = x + ih * width;
                    for (int iw = w0; iw < w1; iw++) sum += row[iw];
                }
                y[o] = sum / area;
            }
        }
    }

    static void AvgBackwardPlane(float* dx, float* dy, float beta, in PlaneGeometry w)
    {
        int height = w.Height, width = w.Width;
        float area = w.KernelHeight * w.KernelWidth;
        if (beta == 0f) new Span<float>(dx, w.InputPlane).Clear();
        for (int oh = 0, o = 0; oh < w.OutputHeight; oh++)
        {
            int h0 = oh * w.StrideHeight - w.PaddingHeight;
            int h1 = Math.Min(h0 + w.KernelHeight, height);
            h0 = Math.Max(h0, 0);
            for (int ow = 0; ow < w.OutputWidth; ow++, o++)
            {
                int w0 = ow * w.StrideWidth - w.PaddingWidth;
                int w1 = Math.Min(w0 + w.KernelWidth, width);
                w0 = Math.Max(w0, 0);
                float share = dy[o] / area;
                for (int ih = h0; ih < h1; ih++)
                {
                    float* row = dx + ih * width;
                    for (int iw = w0; iw < w1; iw++) row[iw] += share;
                }
            }
        }
    }
}
