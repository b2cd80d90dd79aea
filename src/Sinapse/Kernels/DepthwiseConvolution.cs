using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Sinapse.Kernels;

/// <summary>
/// Direct convolution for depthwise geometries — one input channel per group, each feeding
/// m = C_out / C_in output channels (m = 1 is MobileNet's depthwise layer; C_in = 1 is a first
/// layer on grey images) — for any kernel size, stride, dilation and padding. Called through
/// <see cref="Convolution"/>, which validates the arguments.
/// </summary>
/// <remarks>
/// <para>Each input plane is copied once into a zero-padded buffer whose rows are split into
/// stride phases: column q·s + r of a padded row lands at phase r, position q. Then every tap
/// (kh, kw) of every output row reads a contiguous run of that buffer, so all the loops run
/// along the output width in whole vectors with no bounds checks, whatever the stride.</para>
/// <para>Forward: per output vector, the k² taps accumulate in a register (one load and one FMA
/// each) and the vector is stored once. The last vector of a row overlaps the one before it
/// instead of falling back to scalars (recomputing a few outputs is harmless when storing).</para>
/// <para>Forward on narrow rows (output width ≤ <see cref="SmallPlaneMaxWidth"/>, multiplier 1, e.g.
/// MobileNet's 7×7, 14×14 and 28×28 layers): a vector per row would be mostly empty and the
/// per-plane padding dominates, so instead 16 (8 without AVX-512) consecutive planes are
/// interleaved into one padded buffer of vectors across planes (8×8 register transposes), each
/// output pixel of the group is one register of k² FMAs — the same operations in the same order
/// as the row loop, so bitwise the same result — and the results are transposed back. The input
/// gradient of such planes runs the same loop once per stride phase of dX: a stride-1 correlation
/// of dY with the taps that reach that phase (see <c>PrepareSmallGradient</c>); their weight gradient is per
/// tap one vector dot product of the interleaved dY and X over the plane (16 planes at once).</para>
/// <para>Input gradient, as a gather too: dX at padded position (ih, iw) sums w[kh, kw]·dY over
/// the taps with ih − kh·dH and iw − kw·dW divisible by the stride. The m dY planes of an input
/// channel are stacked into one zero-margined buffer, and for each (row phase, column phase) the
/// valid taps of all m planes form one tap list — the same register-accumulating row loop as the
/// forward pass, never a scatter (whose overlapping read-modify-writes stall on store forwarding).</para>
/// <para>Weight gradient: per plane, k² vector accumulators of dY·X over the rows, reduced at the
/// end of the plane. Threads take fixed ranges of (image, input channel) planes; weight and bias
/// gradients go to per-thread partial sums added in thread order (bitwise reproducible).</para>
/// </remarks>
internal static unsafe class DepthwiseConvolution
{
    /// <summary>Set false to run the portable (Vector256 or scalar) loops on AVX-512 hardware, for the tests.</summary>
    internal static bool UseVector512 { get; set; } = Vector512.IsHardwareAccelerated;

    /// <summary>Set false to run small planes through the row loops too, for the tests.</summary>
    internal static bool UseSmallPlanes { get; set; } = true;

    /// <summary>Output widths up to this take the plane-interleaved forward loop.</summary>
    internal static int SmallPlaneMaxWidth { get; set; } = 32;

    /// <summary>Forward calls that took the plane-interleaved loop (for the tests).</summary>
    internal static int SmallPlaneCalls;

    /// <summary>Whether the forward pass of <paramref name="g"/> interleaves planes across vector lanes:
    /// one output per input plane (multiplier 1) and rows too narrow to fill a vector.</summary>
    internal static bool TakesSmallPlanePath(in ConvGeometry g) =>
        UseSmallPlanes && Vector256.IsHardwareAccelerated && g.OutChannels == g.InChannels
        && g.OutputWidth <= SmallPlaneMaxWidth;

    /// <summary>The depthwise kernel's job: fixed ranges of (image, input channel) planes.</summary>
    internal sealed class Job : ConvolutionJob
    {
        ConvGeometry g;
        int taps, multiplier;
        bool smallPlanes;
        int[] smallOffsets = [], smallPositions = [];
        bool smallGradient, smallWeights;
        int[] gradientPositions = [];
        // Per stride phase of dX: its taps (indices into the kernel), their offsets into the
        // margined dY buffer, and (rows, columns, tap count).
        int[] phaseTaps = [], phaseOffsets = [], phaseColumnShifts = [], phaseShape = [];
        int gradientHeight, gradientWidth;

        // The padded, phase-split input plane: rows of the padded image, each as StrideWidth
        // phase rows of phaseLength floats.
        int paddedHeight, phaseLength, paddedPlane;
        int[] forwardOffsets = [];

        // The stacked, zero-margined dY planes for the input gradient, and the tap lists per
        // (row phase, column phase): offsets into the stack and the matching weights.
        int marginTop, marginLeft, stackRows, stackColumns, stackPlane;
        int[] gatherOffsets = [];
        float[] gatherWeights = [];
        int[] gatherCounts = [];

        void Prepare()
        {
            g = Geometry;
            taps = g.KernelHeight * g.KernelWidth;
            multiplier = g.OutChannels / g.InChannels;
            int strideW = g.StrideWidth;
            paddedHeight = g.InputHeight + g.PadTop + g.PadBottom;
            int paddedWidth = g.InputWidth + g.PadLeft + g.PadRight;
            phaseLength = Convolution.CeilDivide(paddedWidth, strideW);
            paddedPlane = paddedHeight * strideW * phaseLength;
            if (forwardOffsets.Length < taps) forwardOffsets = new int[taps];
            for (int kh = 0; kh < g.KernelHeight; kh++)
                for (int kw = 0; kw < g.KernelWidth; kw++)
                {
                    int column = kw * g.DilationWidth;
                    forwardOffsets[kh * g.KernelWidth + kw] = (kh * g.DilationHeight * strideW + column % strideW) * phaseLength + column / strideW;
                }

            marginTop = Convolution.CeilDivide((g.KernelHeight - 1) * g.DilationHeight, g.StrideHeight);
            marginLeft = Convolution.CeilDivide((g.KernelWidth - 1) * g.DilationWidth, strideW);
            stackRows = marginTop + Math.Max(g.OutputHeight, (paddedHeight - 1) / g.StrideHeight + 1);
            stackColumns = marginLeft + Math.Max(g.OutputWidth, phaseLength);
            stackPlane = stackRows * stackColumns;
        }

        /// <summary>The input gradient's tap lists: for row phase a and column phase r, the taps
        /// (kh, kw) of every stacked plane j with a − kh·dH and r − kw·dW divisible by the strides.</summary>
        void PrepareGather(int tasks)
        {
            // One list per task: the tasks fill theirs for different channels at the same time.
            int phases = g.StrideHeight * g.StrideWidth, most = taps * multiplier;
            if (gatherOffsets.Length < tasks * phases * most) { gatherOffsets = new int[tasks * phases * most]; gatherWeights = new float[tasks * phases * most]; }
            if (gatherCounts.Length < tasks * phases) gatherCounts = new int[tasks * phases];
        }

        /// <summary>Fills the tap list of one input channel (its weights differ per channel).</summary>
        void FillGather(int task, int inputChannel)
        {
            int most = taps * multiplier, phases = g.StrideHeight * g.StrideWidth;
            for (int a = 0; a < g.StrideHeight; a++)
                for (int r = 0; r < g.StrideWidth; r++)
                {
                    int phase = task * phases + a * g.StrideWidth + r, count = 0;
                    for (int j = 0; j < multiplier; j++)
                    {
                        float* w = W + (nint)(inputChannel * multiplier + j) * taps;
                        for (int kh = 0; kh < g.KernelHeight; kh++)
                        {
                            int rowShift = a - kh * g.DilationHeight;
                            if (FloorModulo(rowShift, g.StrideHeight) != 0) continue;
                            for (int kw = 0; kw < g.KernelWidth; kw++)
                            {
                                int columnShift = r - kw * g.DilationWidth;
                                if (FloorModulo(columnShift, g.StrideWidth) != 0) continue;
                                gatherOffsets[phase * most + count] = j * stackPlane
                                    + (rowShift / g.StrideHeight + marginTop) * stackColumns + columnShift / g.StrideWidth + marginLeft;
                                gatherWeights[phase * most + count] = w[kh * g.KernelWidth + kw];
                                count++;
                            }
                        }
                    }
                    gatherCounts[phase] = count;
                }
        }

        static int FloorModulo(int a, int b) => ((a % b) + b) % b;

        public override void Run()
        {
            Prepare();
            int planes = g.Batch * g.InChannels;
            int tasks = Math.Max(1, Math.Min(Workers.Count, planes));
            if (Backward && DX != null) PrepareGather(tasks);
            smallPlanes = !Backward && TakesSmallPlanePath(g);
            if (smallPlanes) PrepareSmallPlanes();
            smallGradient = Backward && DX != null && TakesSmallPlanePath(g) && g.InputWidth <= 2 * SmallPlaneMaxWidth;
            if (smallGradient) PrepareSmallGradient();
            smallWeights = Backward && DW != null && TakesSmallPlanePath(g);
            if (smallWeights) PrepareSmallPlanes();
            // Weight and bias gradients go to per-task partial sums, [WeightLength] then [OutChannels].
            if (Backward && (DW != null || DB != null))
                Run(tasks, new PartialSum(DW, DWBeta, g.WeightLength), new PartialSum(DB, DBBeta, g.OutChannels));
            else Run(tasks);
        }

        protected override void RunTask(int task)
        {
            var (first, last) = Share((long)g.Batch * g.InChannels, task);
            if (!Backward)
            {
                if (smallPlanes) { ForwardSmallPlanes(first, last); return; }
                float* padded = ThreadScratch.Get(0, paddedPlane);
                for (int plane = first; plane < last; plane++) ForwardPlane(plane, padded);
                return;
            }
            float* partialWeights = null, partialBias = null;
            if (DW != null || DB != null)
            {
                float* partial = PartialSums(task);
                new Span<float>(partial, g.WeightLength + g.OutChannels).Clear();
                if (DW != null) partialWeights = partial;
                if (DB != null) partialBias = partial + g.WeightLength;
            }
            int lastChannel = -1;
            for (int plane = first; plane < last; plane++)
            {
                int channel = plane % g.InChannels;
                if (DX != null && !smallGradient && channel != lastChannel) { FillGather(task, channel); lastChannel = channel; }
                BackwardPlane(task, plane, smallWeights ? null : partialWeights, partialBias);
            }
            if (smallWeights) WeightGradientSmallPlanes(first, last, partialWeights);
            if (smallGradient) InputGradientSmallPlanes(first, last);
        }

        int Lanes => UseVector512 ? 16 : 8;

        /// <summary>Tap offsets (in floats) into the plane-interleaved buffer, whose element
        /// (row, column) of the padded plane is a vector of <see cref="Lanes"/> planes.</summary>
        void PrepareSmallPlanes()
        {
            Interlocked.Increment(ref SmallPlaneCalls);
            int paddedWidth = g.InputWidth + g.PadLeft + g.PadRight, lanes = Lanes;
            if (smallOffsets.Length < taps) smallOffsets = new int[taps];
            for (int kh = 0; kh < g.KernelHeight; kh++)
                for (int kw = 0; kw < g.KernelWidth; kw++)
                    smallOffsets[kh * g.KernelWidth + kw] = (kh * g.DilationHeight * paddedWidth + kw * g.DilationWidth) * lanes;
            // Where each input pixel goes in the interleaved buffer (for the transposing copy).
            int inPixels = g.InputHeight * g.InputWidth;
            if (smallPositions.Length < inPixels) smallPositions = new int[inPixels];
            for (int ih = 0; ih < g.InputHeight; ih++)
                for (int iw = 0; iw < g.InputWidth; iw++)
                    smallPositions[ih * g.InputWidth + iw] = ((ih + g.PadTop) * paddedWidth + iw + g.PadLeft) * lanes;
        }

        /// <summary>
        /// The input gradient split by stride phase: the dX pixels (ih, iw) with ih ≡ a (mod sH)
        /// and iw ≡ b (mod sW) form a grid that only the taps (kh, kw) with a + padTop − kh·dH and
        /// b + padLeft − kw·dW divisible by the strides reach, each as a stride-1 correlation over
        /// dY: dX[a + sH·i, b + sW·j] = Σ w[kh, kw]·dY[i + eₕ, j + e_w] with eₕ = (a + padTop − kh·dH)/sH.
        /// No zeros are inserted between dY's pixels, so no multiply-add is spent on them
        /// (stride 2 would waste three in four). dY sits in a buffer with zero margins wide enough
        /// for every tap of every phase.
        /// </summary>
        void PrepareSmallGradient()
        {
            int lanes = Lanes, strideH = g.StrideHeight, strideW = g.StrideWidth, phases = strideH * strideW;
            if (phaseTaps.Length < phases * taps) { phaseTaps = new int[phases * taps]; phaseOffsets = new int[phases * taps]; phaseColumnShifts = new int[phases * taps]; }
            if (phaseShape.Length < 3 * phases) phaseShape = new int[3 * phases];
            // First the shifts (eₕ, e_w) of each phase's taps, to size the margins.
            int lowRow = 0, highRow = g.OutputHeight - 1, lowColumn = 0, highColumn = g.OutputWidth - 1;
            for (int a = 0; a < strideH; a++)
                for (int b = 0; b < strideW; b++)
                {
                    int phase = a * strideW + b, count = 0;
                    int rows = Convolution.CeilDivide(g.InputHeight - a, strideH), columns = Convolution.CeilDivide(g.InputWidth - b, strideW);
                    for (int kh = 0; kh < g.KernelHeight; kh++)
                        for (int kw = 0; kw < g.KernelWidth; kw++)
                        {
                            int rowShift = a + g.PadTop - kh * g.DilationHeight, columnShift = b + g.PadLeft - kw * g.DilationWidth;
                            if (FloorModulo(rowShift, strideH) != 0 || FloorModulo(columnShift, strideW) != 0) continue;
                            int e = FloorDivide(rowShift, strideH), f = FloorDivide(columnShift, strideW);
                            if (rows > 0 && columns > 0)
                            {
                                lowRow = Math.Min(lowRow, e); highRow = Math.Max(highRow, rows - 1 + e);
                                lowColumn = Math.Min(lowColumn, f); highColumn = Math.Max(highColumn, columns - 1 + f);
                            }
                            phaseTaps[phase * taps + count] = kh * g.KernelWidth + kw;
                            phaseOffsets[phase * taps + count] = e;
                            phaseColumnShifts[phase * taps + count] = f;
                            count++;
                        }
                    (phaseShape[3 * phase], phaseShape[3 * phase + 1], phaseShape[3 * phase + 2]) = (rows, columns, count);
                }
            gradientHeight = highRow - lowRow + 1;
            gradientWidth = highColumn - lowColumn + 1;
            for (int phase = 0; phase < phases; phase++)
                for (int t = phase * taps; t < phase * taps + phaseShape[3 * phase + 2]; t++)
                    phaseOffsets[t] = ((phaseOffsets[t] - lowRow) * gradientWidth + phaseColumnShifts[t] - lowColumn) * lanes;
            int outPixels = g.OutputHeight * g.OutputWidth;
            if (gradientPositions.Length < outPixels) gradientPositions = new int[outPixels];
            for (int oh = 0; oh < g.OutputHeight; oh++)
                for (int ow = 0; ow < g.OutputWidth; ow++)
                    gradientPositions[oh * g.OutputWidth + ow] = ((oh - lowRow) * gradientWidth + ow - lowColumn) * lanes;
        }

        static int FloorDivide(int a, int b) => (a - FloorModulo(a, b)) / b;

        /// <summary>Weight gradient of planes with narrow rows: X and dY interleaved as in the
        /// forward pass, then per tap one vector dot product over the output pixels (two
        /// accumulators, alternate pixels of a row) gives that tap's sum for 16 planes at once;
        /// the sums are added to the task's partial weights in plane order.</summary>
        void WeightGradientSmallPlanes(int first, int last, float* partialWeights)
        {
            int lanes = Lanes, taps = this.taps;
            int inPixels = g.InputHeight * g.InputWidth, paddedWidth = g.InputWidth + g.PadLeft + g.PadRight;
            int outHeight = g.OutputHeight, outWidth = g.OutputWidth, outPixels = outHeight * outWidth, channels = g.InChannels;
            float* padded = ThreadScratch.Get(0, paddedHeight * paddedWidth * lanes);
            float* gradient = ThreadScratch.Get(3, outPixels * lanes);
            float* sums = ThreadScratch.Get(2, taps * lanes);
            new Span<float>(padded, paddedHeight * paddedWidth * lanes).Clear();
            float** planes = stackalloc float*[16];
            nint step = (nint)g.StrideWidth * lanes, rowStep = (nint)g.StrideHeight * paddedWidth * lanes;
            fixed (int* offsets = smallOffsets)
            fixed (int* positions = smallPositions)
            {
                for (int start = first; start < last; start += lanes)
                {
                    int count = Math.Min(lanes, last - start);
                    Interleave(X, inPixels, start, count, lanes, positions, padded, planes);
                    Interleave(DY, outPixels, start, count, lanes, null, gradient, planes);
                    for (int t = 0; t < taps; t++)
                    {
                        if (lanes == 16) TapSums<Simd512, Vector512<float>>(padded + offsets[t], gradient, outHeight, outWidth, step, rowStep, sums + t * lanes);
                        else TapSums<Simd256, Vector256<float>>(padded + offsets[t], gradient, outHeight, outWidth, step, rowStep, sums + t * lanes);
                    }
                    for (int lane = 0; lane < count; lane++)
                    {
                        float* target = partialWeights + (nint)((start + lane) % channels) * taps;
                        for (int t = 0; t < taps; t++) target[t] += sums[t * lanes + lane];
                    }
                }
            }
        }

        /// <summary>sums = Σ over the output pixels of dY·X for one tap, every element a vector of
        /// planes (X read from the tap's offset <paramref name="source"/> in the interleaved input):
        /// two accumulators, alternate pixels of a row.</summary>
        static void TapSums<TSimd, TVector>(float* source, float* gradient, int outHeight, int outWidth, nint step, nint rowStep, float* sums)
            where TSimd : struct, ISimd<TVector> where TVector : struct
        {
            int lanes = TSimd.Count;
            TVector s0 = default, s1 = default;
            for (int oh = 0; oh < outHeight; oh++)
            {
                float* x = source + oh * rowStep, d = gradient + (nint)oh * outWidth * lanes;
                int ow = 0;
                for (; ow + 1 < outWidth; ow += 2)
                {
                    s0 = TSimd.FusedMultiplyAdd(TSimd.Load(d + ow * lanes), TSimd.Load(x + ow * step), s0);
                    s1 = TSimd.FusedMultiplyAdd(TSimd.Load(d + ow * lanes + lanes), TSimd.Load(x + ow * step + step), s1);
                }
                if (ow < outWidth) s0 = TSimd.FusedMultiplyAdd(TSimd.Load(d + ow * lanes), TSimd.Load(x + ow * step), s0);
            }
            TSimd.Store(TSimd.Add(s0, s1), sums);
        }

        /// <summary>Copies planes [start, start + count) into the lanes of <paramref name="target"/>:
        /// pixel i of plane start + l to target[positions[i] + l] (or target[i·lanes + l] without
        /// positions); the missing lanes of a last group repeat its last plane.</summary>
        static void Interleave(float* source, int pixels, int start, int count, int lanes, int* positions, float* target, float** planes)
        {
            for (int lane = 0; lane < lanes; lane++) planes[lane] = source + (nint)(start + Math.Min(lane, count - 1)) * pixels;
            if (!Avx.IsSupported || pixels < 8)
            {
                for (int lane = 0; lane < lanes; lane++)
                    for (int i = 0; i < pixels; i++)
                        target[(positions != null ? positions[i] : i * lanes) + lane] = planes[lane][i];
                return;
            }
            for (int half = 0; half < lanes; half += 8)
                for (int i = 0; ; i += 8)
                {
                    if (i > pixels - 8) i = pixels - 8;
                    float** p = planes + half;
                    GemmPacking.Transpose8x8(Vector256.Load(p[0] + i), Vector256.Load(p[1] + i), Vector256.Load(p[2] + i), Vector256.Load(p[3] + i),
                        Vector256.Load(p[4] + i), Vector256.Load(p[5] + i), Vector256.Load(p[6] + i), Vector256.Load(p[7] + i),
                        out var o0, out var o1, out var o2, out var o3, out var o4, out var o5, out var o6, out var o7);
                    float* t = target + half;
                    if (positions != null)
                    {
                        int* position = positions + i;
                        o0.Store(t + position[0]); o1.Store(t + position[1]); o2.Store(t + position[2]); o3.Store(t + position[3]);
                        o4.Store(t + position[4]); o5.Store(t + position[5]); o6.Store(t + position[6]); o7.Store(t + position[7]);
                    }
                    else
                    {
                        t += (nint)i * lanes;
                        o0.Store(t); o1.Store(t + lanes); o2.Store(t + 2 * lanes); o3.Store(t + 3 * lanes);
                        o4.Store(t + 4 * lanes); o5.Store(t + 5 * lanes); o6.Store(t + 6 * lanes); o7.Store(t + 7 * lanes);
                    }
                    if (i == pixels - 8) break;
                }
        }

        /// <summary>The inverse of <see cref="Interleave"/> without positions: lane l of the
        /// <paramref name="pixels"/> vectors at <paramref name="source"/> to plane start + l of
        /// <paramref name="target"/>, for l &lt; count; with <paramref name="accumulate"/>, added to it.</summary>
        static void Deinterleave(float* source, int pixels, int start, int count, int lanes, float* target, bool accumulate)
        {
            if (!Avx.IsSupported || pixels < 8 || accumulate)
            {
                for (int lane = 0; lane < count; lane++)
                {
                    float* plane = target + (nint)(start + lane) * pixels, values = source + lane;
                    if (accumulate) for (int i = 0; i < pixels; i++) plane[i] += values[i * lanes];
                    else for (int i = 0; i < pixels; i++) plane[i] = values[i * lanes];
                }
                return;
            }
            for (int half = 0; half < count; half += 8)
                for (int i = 0; ; i += 8)
                {
                    if (i > pixels - 8) i = pixels - 8;
                    float* r = source + (nint)i * lanes + half;
                    GemmPacking.Transpose8x8(Vector256.Load(r), Vector256.Load(r + lanes), Vector256.Load(r + 2 * lanes), Vector256.Load(r + 3 * lanes),
                        Vector256.Load(r + 4 * lanes), Vector256.Load(r + 5 * lanes), Vector256.Load(r + 6 * lanes), Vector256.Load(r + 7 * lanes),
                        out var o0, out var o1, out var o2, out var o3, out var o4, out var o5, out var o6, out var o7);
                    float* plane = target + (nint)(start + half) * pixels + i;
                    int stored = count - half;
                    o0.Store(plane);
                    if (stored > 1) o1.Store(plane + pixels);
                    if (stored > 2) o2.Store(plane + 2 * pixels);
                    if (stored > 3) o3.Store(plane + 3 * pixels);
                    if (stored > 4) o4.Store(plane + 4 * pixels);
                    if (stored > 5) o5.Store(plane + 5 * pixels);
                    if (stored > 6) o6.Store(plane + 6 * pixels);
                    if (stored > 7) o7.Store(plane + 7 * pixels);
                    if (i == pixels - 8) break;
                }
        }

        void InputGradientSmallPlanes(int first, int last)
        {
            int lanes = Lanes, taps = this.taps;
            int height = g.InputHeight, width = g.InputWidth, inPixels = height * width;
            int outPixels = g.OutputHeight * g.OutputWidth, channels = g.InChannels;
            int strideH = g.StrideHeight, strideW = g.StrideWidth, phases = strideH * strideW;
            int phasePixels = Convolution.CeilDivide(height, strideH) * Convolution.CeilDivide(width, strideW);
            float* stack = ThreadScratch.Get(1, gradientHeight * gradientWidth * lanes);
            float* result = ThreadScratch.Get(3, inPixels * lanes);
            float* weights = ThreadScratch.Get(2, (2 * taps + 1 + phasePixels) * lanes);
            float* bias = weights + taps * lanes, phaseWeights = bias + lanes, phaseResult = phaseWeights + taps * lanes;
            new Span<float>(stack, gradientHeight * gradientWidth * lanes).Clear();
            new Span<float>(bias, lanes).Clear();
            float** planes = stackalloc float*[16];
            fixed (int* offsets = phaseOffsets)
            fixed (int* positions = gradientPositions)
            {
                for (int start = first; start < last; start += lanes)
                {
                    int count = Math.Min(lanes, last - start);
                    for (int lane = 0; lane < lanes; lane++)
                    {
                        float* laneWeights = weights + lane;
                        if (lane >= count) { for (int t = 0; t < taps; t++) laneWeights[t * lanes] = 0f; continue; }
                        float* source = W + (nint)((start + lane) % channels) * taps;
                        for (int t = 0; t < taps; t++) laneWeights[t * lanes] = source[t];
                    }
                    Interleave(DY, outPixels, start, count, lanes, positions, stack, planes);
                    for (int phase = 0; phase < phases; phase++)
                    {
                        int rows = phaseShape[3 * phase], columns = phaseShape[3 * phase + 1], phaseTapCount = phaseShape[3 * phase + 2];
                        if (rows <= 0 || columns <= 0) continue;
                        // Stride 1 is one phase with every tap in kernel order: the weights as they are, dX directly.
                        float* tapWeights = weights, target = result;
                        if (phases > 1)
                        {
                            tapWeights = phaseWeights;
                            target = phaseResult;
                            for (int t = 0; t < phaseTapCount; t++)
                                new ReadOnlySpan<float>(weights + phaseTaps[phase * taps + t] * lanes, lanes).CopyTo(new Span<float>(phaseWeights + t * lanes, lanes));
                        }
                        if (lanes == 16) Interleaved<Simd512, Vector512<float>>(stack, gradientWidth, offsets + phase * taps, tapWeights, phaseTapCount, bias, target, rows, columns, 1, 1);
                        else Interleaved<Simd256, Vector256<float>>(stack, gradientWidth, offsets + phase * taps, tapWeights, phaseTapCount, bias, target, rows, columns, 1, 1);
                        if (phases == 1) continue;
                        int a = phase / strideW, b = phase % strideW;
                        for (int i = 0; i < rows; i++)
                            for (int j = 0; j < columns; j++)
                                new ReadOnlySpan<float>(phaseResult + (nint)(i * columns + j) * lanes, lanes)
                                    .CopyTo(new Span<float>(result + (nint)((a + strideH * i) * width + b + strideW * j) * lanes, lanes));
                    }
                    Deinterleave(result, inPixels, start, count, lanes, DX, accumulate: DXBeta != 0f);
                }
            }
        }

        /// <summary>Forward pass for planes with narrow rows (multiplier 1): groups of
        /// <see cref="Lanes"/> consecutive planes are interleaved into one zero-padded buffer whose
        /// elements are vectors across planes, so every output pixel of the group is one vector of
        /// k² FMAs (the same operations, in the same order, as <see cref="Row"/>: bitwise the same
        /// result), whatever the width, stride or dilation; the result is de-interleaved.</summary>
        void ForwardSmallPlanes(int first, int last)
        {
            int lanes = Lanes;
            int height = g.InputHeight, width = g.InputWidth, inPixels = height * width;
            int paddedWidth = width + g.PadLeft + g.PadRight;
            int outHeight = g.OutputHeight, outWidth = g.OutputWidth, outPixels = outHeight * outWidth;
            int channels = g.InChannels;
            float* padded = ThreadScratch.Get(0, paddedHeight * paddedWidth * lanes);
            float* result = ThreadScratch.Get(1, outPixels * lanes);
            float* weights = ThreadScratch.Get(2, (taps + 1) * lanes);
            float* bias = weights + taps * lanes;
            // The margins stay zero: only the interior is overwritten, group after group.
            new Span<float>(padded, paddedHeight * paddedWidth * lanes).Clear();
            float** planes = stackalloc float*[16];
            fixed (int* offsets = smallOffsets)
            fixed (int* positions = smallPositions)
            {
                for (int start = first; start < last; start += lanes)
                {
                    int count = Math.Min(lanes, last - start);
                    Interleave(X, inPixels, start, count, lanes, positions, padded, planes);
                    for (int lane = 0; lane < lanes; lane++)
                    {
                        float* laneWeights = weights + lane;
                        if (lane >= count)
                        {
                            for (int t = 0; t < taps; t++) laneWeights[t * lanes] = 0f;
                            bias[lane] = 0f;
                            continue;
                        }
                        int channel = (start + lane) % channels;
                        float* source = W + (nint)channel * taps;
                        for (int t = 0; t < taps; t++) laneWeights[t * lanes] = source[t];
                        bias[lane] = Bias != null ? Bias[channel] : 0f;
                    }
                    if (lanes == 16) Interleaved<Simd512, Vector512<float>>(padded, paddedWidth, offsets, weights, taps, bias, result, outHeight, outWidth, g.StrideHeight, g.StrideWidth);
                    else Interleaved<Simd256, Vector256<float>>(padded, paddedWidth, offsets, weights, taps, bias, result, outHeight, outWidth, g.StrideHeight, g.StrideWidth);
                    ActivationPass.Apply(Activation, new Span<float>(result, outPixels * lanes));
                    Deinterleave(result, outPixels, start, count, lanes, Y, accumulate: false);
                }
            }
        }

        /// <summary>result[oh, ow] = bias + Σ_t weights[t]·padded[oh·sH, ow·sW + offsets[t]] where every
        /// element is a vector of planes: four output pixels at a time in registers, the last four
        /// of a row overlapping the ones before.</summary>
        static void Interleaved<TSimd, TVector>(float* padded, int paddedWidth, int* offsets, float* weights, int taps, float* bias, float* result,
            int outHeight, int outWidth, int strideHeight, int strideWidth)
            where TSimd : struct, ISimd<TVector> where TVector : struct
        {
            int lanes = TSimd.Count;
            nint step = (nint)strideWidth * lanes;
            var b = TSimd.Load(bias);
            for (int oh = 0; oh < outHeight; oh++)
            {
                float* rowBase = padded + (nint)oh * strideHeight * paddedWidth * lanes;
                float* output = result + (nint)oh * outWidth * lanes;
                int ow = 0;
                if (outWidth >= 4)
                {
                    for (; ; ow += 4)
                    {
                        if (ow > outWidth - 4) ow = outWidth - 4;
                        float* p = rowBase + ow * step;
                        TVector s0 = b, s1 = b, s2 = b, s3 = b;
                        for (int t = 0; t < taps; t++)
                        {
                            var w = TSimd.Load(weights + t * lanes);
                            float* q = p + offsets[t];
                            s0 = TSimd.FusedMultiplyAdd(w, TSimd.Load(q), s0);
                            s1 = TSimd.FusedMultiplyAdd(w, TSimd.Load(q + step), s1);
                            s2 = TSimd.FusedMultiplyAdd(w, TSimd.Load(q + 2 * step), s2);
                            s3 = TSimd.FusedMultiplyAdd(w, TSimd.Load(q + 3 * step), s3);
                        }
                        float* o = output + ow * lanes;
                        TSimd.Store(s0, o); TSimd.Store(s1, o + lanes); TSimd.Store(s2, o + 2 * lanes); TSimd.Store(s3, o + 3 * lanes);
                        if (ow == outWidth - 4) break;
                    }
                    continue;
                }
                for (; ow < outWidth; ow++)
                {
                    float* p = rowBase + ow * step;
                    var s = b;
                    for (int t = 0; t < taps; t++)
                        s = TSimd.FusedMultiplyAdd(TSimd.Load(weights + t * lanes), TSimd.Load(p + offsets[t]), s);
                    TSimd.Store(s, output + ow * lanes);
                }
            }
        }

        /// <summary>Copies input plane <paramref name="plane"/> into the padded phase-split buffer.</summary>
        void Pad(int plane, float* padded)
        {
            int height = g.InputHeight, width = g.InputWidth, strideW = g.StrideWidth;
            float* source = X + (nint)plane * height * width;
            new Span<float>(padded, paddedPlane).Clear();
            for (int ih = 0; ih < height; ih++)
            {
                float* row = padded + (nint)(ih + g.PadTop) * strideW * phaseLength;
                float* sourceRow = source + (nint)ih * width;
                if (strideW == 1) new ReadOnlySpan<float>(sourceRow, width).CopyTo(new Span<float>(row + g.PadLeft, width));
                else
                    for (int r = 0; r < strideW; r++)
                    {
                        int first = FirstColumnOfPhase(r, g.PadLeft, strideW);
                        float* phase = row + r * phaseLength + (first + g.PadLeft) / strideW;
                        for (int iw = first; iw < width; iw += strideW) *phase++ = sourceRow[iw];
                    }
            }
        }

        /// <summary>The first input column iw ≥ 0 whose padded column iw + padLeft is at phase r
        /// (the next ones are every stride columns: walking them needs no division per pixel).</summary>
        static int FirstColumnOfPhase(int r, int padLeft, int stride) => FloorModulo(r - padLeft, stride);

        void ForwardPlane(int plane, float* padded)
        {
            Pad(plane, padded);
            int image = plane / g.InChannels, channel = plane % g.InChannels;
            int outHeight = g.OutputHeight, outWidth = g.OutputWidth;
            nint rowStep = (nint)g.StrideHeight * g.StrideWidth * phaseLength;
            fixed (int* offsets = forwardOffsets)
            {
                for (int j = 0; j < multiplier; j++)
                {
                    int oc = channel * multiplier + j;
                    float* weights = W + (nint)oc * taps;
                    float bias = Bias != null ? Bias[oc] : 0f;
                    float* output = Y + ((nint)image * g.OutChannels + oc) * outHeight * outWidth;
                    for (int oh = 0; oh < outHeight; oh++)
                        Row(padded + oh * rowStep, offsets, weights, taps, bias, output + (nint)oh * outWidth, outWidth);
                    ActivationPass.Apply(Activation, new Span<float>(output, outHeight * outWidth));
                }
            }
        }

        void BackwardPlane(int task, int plane, float* partialWeights, float* partialBias)
        {
            int image = plane / g.InChannels, channel = plane % g.InChannels;
            int outHeight = g.OutputHeight, outWidth = g.OutputWidth, outPixels = outHeight * outWidth;
            float* gradient = DY + ((nint)image * g.OutChannels + channel * multiplier) * outPixels;   // m planes, consecutive

            if (partialBias != null)
                for (int j = 0; j < multiplier; j++)
                    partialBias[channel * multiplier + j] += TensorPrimitives.Sum(new ReadOnlySpan<float>(gradient + (nint)j * outPixels, outPixels));

            if (partialWeights != null)
            {
                float* padded = ThreadScratch.Get(0, paddedPlane);
                Pad(plane, padded);
                nint rowStep = (nint)g.StrideHeight * g.StrideWidth * phaseLength;
                float* sums = ThreadScratch.Get(2, taps * 17);
                fixed (int* offsets = forwardOffsets)
                {
                    for (int j = 0; j < multiplier; j++)
                    {
                        new Span<float>(sums, taps).Clear();
                        float* dy = gradient + (nint)j * outPixels;
                        DotRows(padded, rowStep, dy, outHeight, outWidth, offsets, taps, sums, sums + taps);
                        float* target = partialWeights + (nint)(channel * multiplier + j) * taps;
                        TensorPrimitives.Add(new ReadOnlySpan<float>(target, taps), new ReadOnlySpan<float>(sums, taps), new Span<float>(target, taps));
                    }
                }
            }

            if (DX != null && !smallGradient) InputGradientPlane(task, plane, gradient);
        }

        void InputGradientPlane(int task, int plane, float* gradient)
        {
            int outHeight = g.OutputHeight, outWidth = g.OutputWidth;
            int height = g.InputHeight, width = g.InputWidth, strideH = g.StrideHeight, strideW = g.StrideWidth;
            // Stack the m dY planes with zero margins, so every tap reads inside the buffer.
            float* stack = ThreadScratch.Get(1, multiplier * stackPlane);
            new Span<float>(stack, multiplier * stackPlane).Clear();
            for (int j = 0; j < multiplier; j++)
                for (int oh = 0; oh < outHeight; oh++)
                    new ReadOnlySpan<float>(gradient + ((nint)j * outHeight + oh) * outWidth, outWidth)
                        .CopyTo(new Span<float>(stack + (nint)j * stackPlane + (nint)(oh + marginTop) * stackColumns + marginLeft, outWidth));

            float* phaseRows = ThreadScratch.Get(3, strideW * phaseLength);
            float* dx = DX + (nint)plane * height * width;
            int most = taps * multiplier;
            fixed (int* offsets = gatherOffsets)
            fixed (float* weights = gatherWeights)
            {
                for (int ih = 0; ih < height; ih++)
                {
                    int paddedRow = ih + g.PadTop, a = paddedRow % strideH;
                    float* source = stack + (nint)(paddedRow / strideH) * stackColumns;
                    for (int r = 0; r < strideW; r++)
                    {
                        int phase = task * strideH * strideW + a * strideW + r;
                        Row(source, offsets + phase * most, weights + phase * most, gatherCounts[phase], 0f, phaseRows + r * phaseLength, phaseLength);
                    }
                    float* dxRow = dx + (nint)ih * width;
                    if (strideW == 1)
                    {
                        var values = new ReadOnlySpan<float>(phaseRows + g.PadLeft, width);
                        var target = new Span<float>(dxRow, width);
                        if (DXBeta == 0f) values.CopyTo(target);
                        else TensorPrimitives.Add(target, values, target);
                        continue;
                    }
                    bool accumulate = DXBeta != 0f;
                    for (int r = 0; r < strideW; r++)
                    {
                        int first = FirstColumnOfPhase(r, g.PadLeft, strideW);
                        float* phase = phaseRows + r * phaseLength + (first + g.PadLeft) / strideW;
                        for (int iw = first; iw < width; iw += strideW, phase++) dxRow[iw] = accumulate ? dxRow[iw] + *phase : *phase;
                    }
                }
            }
        }
    }

    /// <summary>destination[i] = bias + Σ_t weights[t]·source[offsets[t] + i] for i in [0, width):
    /// one register accumulator per output vector; the last vector overlaps the previous one.</summary>
    static void Row(float* source, int* offsets, float* weights, int taps, float bias, float* destination, int width)
    {
        if (UseVector512 && width >= 16)
        {
            RowVectors<Simd512, Vector512<float>>(source, offsets, weights, taps, bias, destination, width);
            return;
        }
        if (Vector256.IsHardwareAccelerated && width >= 8)
        {
            RowVectors<Simd256, Vector256<float>>(source, offsets, weights, taps, bias, destination, width);
            return;
        }
        for (int i = 0; i < width; i++)
        {
            float sum = bias;
            for (int t = 0; t < taps; t++) sum = MathF.FusedMultiplyAdd(weights[t], source[offsets[t] + i], sum);
            destination[i] = sum;
        }
    }

    /// <summary><see cref="Row"/> in whole vectors, for a width of at least one vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void RowVectors<TSimd, TVector>(float* source, int* offsets, float* weights, int taps, float bias, float* destination, int width)
        where TSimd : struct, ISimd<TVector> where TVector : struct
    {
        int lanes = TSimd.Count;
        for (int i = 0; ; i += lanes)
        {
            if (i > width - lanes) i = width - lanes;
            var sum = TSimd.Create(bias);
            for (int t = 0; t < taps; t++)
                sum = TSimd.FusedMultiplyAdd(TSimd.Create(weights[t]), TSimd.Load(source + offsets[t] + i), sum);
            TSimd.Store(sum, destination + i);
            if (i == width - lanes) return;
        }
    }

    /// <summary><see cref="DotRows"/> for 3×3 kernels on AVX-512: the nine accumulators stay in
    /// registers for the whole plane (the general loop keeps them in memory, a store-forwarded
    /// read-modify-write per tap and vector).</summary>
    static void DotRows3x3(float* source, nint rowStep, float* dy, int rows, int width, int* offsets, float* sums)
    {
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default, s8 = default;
        nint o0 = offsets[0], o1 = offsets[1], o2 = offsets[2], o3 = offsets[3], o4 = offsets[4], o5 = offsets[5], o6 = offsets[6], o7 = offsets[7], o8 = offsets[8];
        int whole = width / 16 * 16;
        for (int row = 0; row < rows; row++, source += rowStep, dy += width)
        {
            for (int i = 0; i < whole; i += 16)
            {
                var d = Vector512.Load(dy + i);
                float* p = source + i;
                s0 = Vector512.FusedMultiplyAdd(d, Vector512.Load(p + o0), s0);
                s1 = Vector512.FusedMultiplyAdd(d, Vector512.Load(p + o1), s1);
                s2 = Vector512.FusedMultiplyAdd(d, Vector512.Load(p + o2), s2);
                s3 = Vector512.FusedMultiplyAdd(d, Vector512.Load(p + o3), s3);
                s4 = Vector512.FusedMultiplyAdd(d, Vector512.Load(p + o4), s4);
                s5 = Vector512.FusedMultiplyAdd(d, Vector512.Load(p + o5), s5);
                s6 = Vector512.FusedMultiplyAdd(d, Vector512.Load(p + o6), s6);
                s7 = Vector512.FusedMultiplyAdd(d, Vector512.Load(p + o7), s7);
                s8 = Vector512.FusedMultiplyAdd(d, Vector512.Load(p + o8), s8);
            }
            for (int i = whole; i < width; i++)
            {
                float d = dy[i];
                for (int t = 0; t < 9; t++) sums[t] = MathF.FusedMultiplyAdd(d, source[offsets[t] + i], sums[t]);
            }
        }
        sums[0] += Vector512.Sum(s0); sums[1] += Vector512.Sum(s1); sums[2] += Vector512.Sum(s2);
        sums[3] += Vector512.Sum(s3); sums[4] += Vector512.Sum(s4); sums[5] += Vector512.Sum(s5);
        sums[6] += Vector512.Sum(s6); sums[7] += Vector512.Sum(s7); sums[8] += Vector512.Sum(s8);
    }

    /// <summary>sums[t] += Σ_rows Σ_i dy[row, i]·source[row·rowStep + offsets[t] + i]: the weight
    /// gradient of one plane, with a vector accumulator per tap (in <paramref name="vectors"/>,
    /// 16 floats each) reduced once at the end.</summary>
    static void DotRows(float* source, nint rowStep, float* dy, int rows, int width, int* offsets, int taps, float* sums, float* vectors)
    {
        if (taps == 9 && UseVector512 && width >= 16)
        {
            DotRows3x3(source, rowStep, dy, rows, width, offsets, sums);
            return;
        }
        int vectorWidth = UseVector512 ? 16 : Vector256.IsHardwareAccelerated ? 8 : 1;
        int whole = vectorWidth == 1 ? 0 : width / vectorWidth * vectorWidth;
        new Span<float>(vectors, taps * 16).Clear();
        for (int row = 0; row < rows; row++, source += rowStep, dy += width)
        {
            if (vectorWidth == 16) DotRow<Simd512, Vector512<float>>(source, dy, whole, offsets, taps, vectors);
            else if (vectorWidth == 8) DotRow<Simd256, Vector256<float>>(source, dy, whole, offsets, taps, vectors);
            for (int i = whole; i < width; i++)
            {
                float d = dy[i];
                for (int t = 0; t < taps; t++) sums[t] = MathF.FusedMultiplyAdd(d, source[offsets[t] + i], sums[t]);
            }
        }
        for (int t = 0; t < taps; t++)
            sums[t] += TensorPrimitives.Sum(new ReadOnlySpan<float>(vectors + t * 16, vectorWidth == 1 ? 0 : vectorWidth));
    }

    /// <summary>The vector part of one row of <see cref="DotRows"/>: accumulator t (at vectors + 16t)
    /// += dy[i..]·source[offsets[t] + i..] for i &lt; <paramref name="whole"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void DotRow<TSimd, TVector>(float* source, float* dy, int whole, int* offsets, int taps, float* vectors)
        where TSimd : struct, ISimd<TVector> where TVector : struct
    {
        for (int i = 0; i < whole; i += TSimd.Count)
        {
            var d = TSimd.Load(dy + i);
            for (int t = 0; t < taps; t++)
            {
                float* accumulator = vectors + t * 16;
                TSimd.Store(TSimd.FusedMultiplyAdd(d, TSimd.Load(source + offsets[t] + i), TSimd.Load(accumulator)), accumulator);
            }
        }
    }
}
