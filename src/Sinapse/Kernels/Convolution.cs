using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Sinapse.Kernels;

/// <summary>
/// 2-D convolution (cross-correlation, NCHW, PyTorch's weight layout) forward and backward.
/// Depthwise geometries (one input channel per group, at most 4 outputs each) go to
/// <see cref="DepthwiseConvolution"/>; everything else is im2col + <see cref="Gemm"/>.
/// </summary>
/// <remarks>
/// <para>Images are processed in chunks of B: im2col writes a chunk into a [C_in·kH·kW, B·H_out·W_out]
/// matrix (per-thread scratch that stays in L2), and one GEMM per group multiplies the weight
/// with it. Chunking matters for the small late layers of a CNN: one 6×6 image gives a GEMM only
/// 16 columns wide, half a micro-tile; 32 images give 512. A chunk of one image writes straight
/// into the output; larger chunks go through a scratch [C_out, B·H_out·W_out] and are copied out.
/// A 1×1 kernel with stride 1 and no padding skips im2col (the image already is the matrix). With AVX-512
/// and no padding, forward im2col writes straight into the GEMM's packed B̃ panels
/// (<see cref="PackColumns"/>, <see cref="Gemm.MultiplyPackedB"/>): one pass over the columns
/// instead of writing the matrix and packing it, bitwise the same result; backward's im2col
/// uses the same permutes, writing one panel as wide as the matrix (the row-major matrix).</para>
/// <para>Backward, per chunk and with the chunk still in cache: the bias gradient (row sums of
/// dY), the weight gradient dW += dY·colᵀ (im2col recomputed: cheaper than keeping the whole
/// batch's columns; where the forward pass packs, written transposed straight into the product's
/// packed panels by <see cref="ConvolutionColumnPanels"/>), then dcol = Wᵀ·dY folded back by col2im — as a register gather with
/// AVX-512 at unit horizontal stride, else as a scatter.</para>
/// <para>Rows no wider than 16 (late layers of small CNNs) are moved with masked AVX-512
/// loads and stores, and tiny planes (≤ 16 outputs) with one permute per tap: a copy call per
/// 4–12 floats cost more than the GEMM around it.</para>
/// <para>Threads take fixed contiguous ranges of images (GEMMs inside run on one thread each);
/// weight and bias gradients are summed per thread and the partial sums combined in thread order,
/// so the result depends only on the inputs and <see cref="Workers.Count"/>. With fewer images
/// than threads, the chunks run on the calling thread and the GEMMs parallelise instead.</para>
/// </remarks>
public static unsafe class Convolution
{
    /// <summary>Columns (B·H_out·W_out) a chunk aims for: wide enough for the GEMM to run at speed.</summary>
    internal static int TargetColumns { get; set; } = 512;

    /// <summary>Upper bound on a chunk's im2col matrix, in floats (1 MiB, the L2 of one core).</summary>
    internal static int ColumnBudget { get; set; } = 256 * 1024;

    /// <summary>Whether depthwise geometries use the direct kernel (the tests switch it off to
    /// check it against the im2col path).</summary>
    internal static bool UseDepthwiseKernel { get; set; } = true;

    /// <summary>output = activation(conv(input, weight) + bias). <paramref name="bias"/> may be empty (no bias); the
    /// activation runs on each output row as soon as it is made, while it is in cache.</summary>
    public static void Forward(in ConvGeometry geometry, ReadOnlySpan<float> input, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> bias, Span<float> output, FusedActivation activation = FusedActivation.None)
    {
        geometry.Validate();
        CheckLength("input", input.Length, geometry.InputLength, geometry);
        CheckLength("weight", weight.Length, geometry.WeightLength, geometry);
        if (!bias.IsEmpty) CheckLength("bias", bias.Length, geometry.OutChannels, geometry);
        CheckLength("output", output.Length, geometry.OutputLength, geometry);
        if (geometry.Batch == 0) return;
        fixed (float* x = input, w = weight, b = bias, y = output)
        {
            var job = JobFor(geometry);
            job.Geometry = geometry;
            job.Backward = false;
            job.X = x; job.W = w; job.Bias = bias.IsEmpty ? null : b; job.Y = y;
            job.Activation = activation;
            job.Run();
        }
    }

    /// <summary>
    /// The gradients of <see cref="Forward"/> given dY = <paramref name="gradOutput"/>. Each of
    /// <paramref name="gradInput"/>, <paramref name="gradWeight"/>, <paramref name="gradBias"/> may be
    /// empty (not wanted); each is combined with its beta: 0 overwrites (the contents may be
    /// garbage), 1 accumulates.
    /// </summary>
    public static void Backward(in ConvGeometry geometry, ReadOnlySpan<float> input, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> gradOutput, Span<float> gradInput, float gradInputBeta,
        Span<float> gradWeight, float gradWeightBeta, Span<float> gradBias, float gradBiasBeta)
    {
        geometry.Validate();
        CheckLength("input", input.Length, geometry.InputLength, geometry);
        CheckLength("weight", weight.Length, geometry.WeightLength, geometry);
        CheckLength("output gradient", gradOutput.Length, geometry.OutputLength, geometry);
        if (!gradInput.IsEmpty) CheckLength("input gradient", gradInput.Length, geometry.InputLength, geometry);
        if (!gradWeight.IsEmpty) CheckLength("weight gradient", gradWeight.Length, geometry.WeightLength, geometry);
        if (!gradBias.IsEmpty) CheckLength("bias gradient", gradBias.Length, geometry.OutChannels, geometry);
        if (geometry.Batch == 0)
        {
            // No images: the parameter gradients are sums over nothing.
            if (gradWeightBeta == 0f) gradWeight.Clear();
            if (gradBiasBeta == 0f) gradBias.Clear();
            return;
        }
        fixed (float* x = input, w = weight, dy = gradOutput, dx = gradInput, dw = gradWeight, db = gradBias)
        {
            var job = JobFor(geometry);
            job.Geometry = geometry;
            job.Backward = true;
            job.X = x; job.W = w; job.DY = dy;
            job.DX = gradInput.IsEmpty ? null : dx; job.DXBeta = gradInputBeta;
            job.DW = gradWeight.IsEmpty ? null : dw; job.DWBeta = gradWeightBeta;
            job.DB = gradBias.IsEmpty ? null : db; job.DBBeta = gradBiasBeta;
            job.Run();
        }
    }

    /// <summary>This thread's job for <paramref name="geometry"/>: the direct depthwise kernel or im2col + GEMM.</summary>
    static ConvolutionJob JobFor(in ConvGeometry geometry) => geometry.IsDepthwise && UseDepthwiseKernel
        ? ParallelJob.ForThisThread<DepthwiseConvolution.Job>()
        : ParallelJob.ForThisThread<Job>();

    static void CheckLength(string what, int length, int expected, in ConvGeometry g)
    {
        if (length != expected)
            throw new ArgumentException($"Conv: the {what} has {length} floats but the geometry (input [{g.Batch}, {g.InChannels}, {g.InputHeight}, {g.InputWidth}], " +
                $"weight [{g.OutChannels}, {g.InChannelsPerGroup}, {g.KernelHeight}, {g.KernelWidth}], output {g.OutputHeight}x{g.OutputWidth}) needs {expected}.");
    }

    /// <summary>im2col + GEMM over fixed ranges of images.</summary>
    sealed class Job : ConvolutionJob
    {
        int chunk;

        public override void Run()
        {
            var g = Geometry;
            int threads = Workers.Count;
            int tasks = threads > 1 && g.Batch >= threads ? threads : 1;
            int imagesPerTask = (g.Batch + tasks - 1) / tasks;
            int outputPixels = g.OutputHeight * g.OutputWidth;
            int columnRows = g.InChannels * g.KernelHeight * g.KernelWidth;
            chunk = Math.Clamp((TargetColumns + outputPixels - 1) / outputPixels, 1, imagesPerTask);
            chunk = Math.Max(1, Math.Min(chunk, ColumnBudget / Math.Max(1, columnRows * outputPixels)));
            // Equal chunks (32 images → 16 + 16, not 28 + 4): a thin last chunk is a slow GEMM.
            int chunks = (imagesPerTask + chunk - 1) / chunk;
            chunk = (imagesPerTask + chunks - 1) / chunks;

            // One task writes the parameter gradients straight into the caller's buffers; several
            // sum into partials, [WeightLength] then [OutChannels] per task.
            if (tasks > 1 && Backward && (DW != null || DB != null))
                Run(tasks, new PartialSum(DW, DWBeta, g.WeightLength), new PartialSum(DB, DBBeta, g.OutChannels));
            else Run(tasks);
        }

        protected override void RunTask(int task)
        {
            var g = Geometry;
            var (first, last) = Share(g.Batch, task);
            if (!Backward)
            {
                for (int n = first; n < last; n += chunk) ForwardChunk(g, n, Math.Min(chunk, last - n));
                return;
            }
            // Parameter gradients: straight into the caller's buffers when one task runs them all,
            // else into this task's partial sums.
            float* dw = DW, db = DB;
            float dwBeta = DWBeta, dbBeta = DBBeta;
            float* partial = PartialSums(task);
            if (partial != null)
            {
                if (dw != null) { dw = partial; dwBeta = 0f; }
                if (db != null) { db = partial + g.WeightLength; dbBeta = 0f; }
            }
            for (int n = first; n < last; n += chunk)
            {
                BackwardChunk(g, n, Math.Min(chunk, last - n), dw, dwBeta, db, dbBeta);
                dwBeta = 1f;
                dbBeta = 1f;
            }
        }

        void ForwardChunk(in ConvGeometry g, int image, int count)
        {
            int outputPixels = g.OutputHeight * g.OutputWidth, inputPixels = g.InputHeight * g.InputWidth;
            int columns = count * outputPixels;
            int depth = g.InChannelsPerGroup * g.KernelHeight * g.KernelWidth;
            int outPerGroup = g.OutChannelsPerGroup;
            float* columnScratch = ThreadScratch.Get(0, g.InChannels * g.KernelHeight * g.KernelWidth * columns);
            float* rowScratch = count > 1 ? ThreadScratch.Get(1, g.OutChannels * columns) : null;

            // One image writes straight into its output, [C_out, H_out·W_out]; a chunk goes through scratch.
            float* result = count == 1 ? Y + (nint)image * g.OutChannels * outputPixels : rowScratch;
            const float beta = 0f;
            bool packed = UsePackedColumns && CanPackColumns(g) && !(g.IsPointwise && count == 1) && Workers.Available == 1;
            float* col = null;
            if (packed)
            {
                // im2col straight into the GEMM's B̃ panels: one pass over the columns instead of
                // writing the matrix and then packing it.
                int nr = Gemm.PackedPanelWidth(columns);
                int panels = (columns + nr - 1) / nr;
                float* panelsBuffer = ThreadScratch.Get(0, panels * nr * depth);
                PackColumns(g, X + (nint)image * g.InChannels * inputPixels, X + (nint)g.InputLength, count, panelsBuffer, nr);
                Gemm.MultiplyPackedB(outPerGroup, columns, depth, 1f, W, depth, panelsBuffer, beta, result, columns);
            }
            else if (g.IsPointwise && count == 1) col = X + (nint)image * g.InChannels * inputPixels;
            else
            {
                col = columnScratch;
                for (int b = 0; b < count; b++) Unfold(g, X + (nint)(image + b) * g.InChannels * inputPixels, col, columns, b * outputPixels, toColumns: true);
            }

            for (int group = 0; !packed && group < g.Groups; group++)
            {
                Gemm.Multiply(false, false, outPerGroup, columns, depth, 1f,
                    new ReadOnlySpan<float>(W + (nint)group * outPerGroup * depth, outPerGroup * depth), depth,
                    new ReadOnlySpan<float>(col + (nint)group * depth * columns, depth * columns), columns,
                    beta, new Span<float>(result + (nint)group * outPerGroup * columns, outPerGroup * columns), columns);
            }
            if (count == 1)
            {
                // The bias added to the product in cache, not filled in first for a beta = 1 GEMM:
                // that measured twice as slow on a first layer (K = 9), where C traffic dominates.
                if (Bias != null || Activation != FusedActivation.None) ActivationPass.Apply(result, outputPixels, g.OutChannels, Bias, Activation);
                return;
            }
            for (int b = 0; b < count; b++)
            {
                for (int oc = 0; oc < g.OutChannels; oc++)
                {
                    var source = new ReadOnlySpan<float>(result + (nint)oc * columns + b * outputPixels, outputPixels);
                    var destination = new Span<float>(Y + ((nint)(image + b) * g.OutChannels + oc) * outputPixels, outputPixels);
                    if (Bias != null) TensorPrimitives.Add(source, Bias[oc], destination);
                    else source.CopyTo(destination);
                    ActivationPass.Apply(Activation, destination);
                }
            }
        }

        void BackwardChunk(in ConvGeometry g, int image, int count, float* dw, float dwBeta, float* db, float dbBeta)
        {
            int outputPixels = g.OutputHeight * g.OutputWidth, inputPixels = g.InputHeight * g.InputWidth;
            int columns = count * outputPixels;
            int depth = g.InChannelsPerGroup * g.KernelHeight * g.KernelWidth;
            int outPerGroup = g.OutChannelsPerGroup;
            bool direct = g.IsPointwise && count == 1;
            // Room for the column matrix, or for the weight gradient's 32-wide panels of it (taps rounded
            // up to 32), which are done with before dcol is written here.
            float* columnScratch = ThreadScratch.Get(0, ((g.InChannels * g.KernelHeight * g.KernelWidth + 31) & ~31) * columns);
            float* rowScratch = count > 1 ? ThreadScratch.Get(1, g.OutChannels * columns) : null;

            // dY of the chunk as one [C_out, B·H_out·W_out] matrix.
            float* gradient;
            if (count == 1) gradient = DY + (nint)image * g.OutChannels * outputPixels;
            else
            {
                gradient = rowScratch;
                for (int b = 0; b < count; b++)
                    for (int oc = 0; oc < g.OutChannels; oc++)
                        new ReadOnlySpan<float>(DY + ((nint)(image + b) * g.OutChannels + oc) * outputPixels, outputPixels)
                            .CopyTo(new Span<float>(gradient + (nint)oc * columns + b * outputPixels, outputPixels));
            }

            if (db != null)
            {
                for (int oc = 0; oc < g.OutChannels; oc++)
                {
                    float sum = TensorPrimitives.Sum(new ReadOnlySpan<float>(gradient + (nint)oc * columns, columns));
                    db[oc] = dbBeta == 0f ? sum : db[oc] + sum;
                }
            }

            // dW (+)= dY·colᵀ with colᵀ gathered straight into the product's packed panels; bitwise
            // the product below (the same kernel calls, in the same order per element).
            bool transposedColumns = dw != null && !direct && UsePackedColumns && Workers.Available == 1
                && depth >= outPerGroup && outPerGroup > 1 && ConvolutionColumnPanels.CanPackTransposed(g);
            if (transposedColumns)
            {
                ConvolutionColumnPanels.PackTransposed(g, X + (nint)image * g.InChannels * inputPixels, X + (nint)g.InputLength, count, columnScratch);
                Gemm.MultiplyPackedB(outPerGroup, depth, columns, 1f, gradient, columns, columnScratch, dwBeta, dw, depth);
            }
            else if (dw != null)
            {
                float* col;
                if (direct) col = X + (nint)image * g.InChannels * inputPixels;
                else if (UsePackedColumns && CanPackColumns(g))
                {
                    // One panel as wide as the matrix is the row-major matrix itself.
                    col = columnScratch;
                    PackColumns(g, X + (nint)image * g.InChannels * inputPixels, X + (nint)g.InputLength, count, col, columns);
                }
                else
                {
                    col = columnScratch;
                    for (int b = 0; b < count; b++) Unfold(g, X + (nint)(image + b) * g.InChannels * inputPixels, col, columns, b * outputPixels, toColumns: true);
                }
                // dW_g (+)= dY_g · col_gᵀ. When the depth is the smaller side (a first layer: 9 taps,
                // 32 filters) the product is computed transposed, col_g · dY_gᵀ, so that the wide side
                // fills the micro-kernel's columns (2× faster there), and added in transposed.
                bool transposed = depth < outPerGroup;
                float* product = transposed ? ThreadScratch.Get(2, depth * outPerGroup) : null;
                for (int group = 0; group < g.Groups; group++)
                {
                    var dyGroup = new ReadOnlySpan<float>(gradient + (nint)group * outPerGroup * columns, outPerGroup * columns);
                    var colGroup = new ReadOnlySpan<float>(col + (nint)group * depth * columns, depth * columns);
                    float* dwGroup = dw + (nint)group * outPerGroup * depth;
                    if (!transposed)
                    {
                        Gemm.Multiply(false, true, outPerGroup, depth, columns, 1f, dyGroup, columns, colGroup, columns,
                            dwBeta, new Span<float>(dwGroup, outPerGroup * depth), depth);
                        continue;
                    }
                    Gemm.Multiply(false, true, depth, outPerGroup, columns, 1f, colGroup, columns, dyGroup, columns,
                        0f, new Span<float>(product, depth * outPerGroup), outPerGroup);
                    for (int o = 0; o < outPerGroup; o++)
                        for (int d = 0; d < depth; d++)
                            dwGroup[o * depth + d] = dwBeta == 0f ? product[d * outPerGroup + o] : dwGroup[o * depth + d] + product[d * outPerGroup + o];
                }
            }

            if (DX != null)
            {
                // dcol_g = W_gᵀ · dY_g; for a pointwise image that already is dX.
                float* gradColumns = direct ? DX + (nint)image * g.InChannels * inputPixels : columnScratch;
                float beta = direct ? DXBeta : 0f;
                for (int group = 0; group < g.Groups; group++)
                {
                    Gemm.Multiply(true, false, depth, columns, outPerGroup, 1f,
                        new ReadOnlySpan<float>(W + (nint)group * outPerGroup * depth, outPerGroup * depth), depth,
                        new ReadOnlySpan<float>(gradient + (nint)group * outPerGroup * columns, outPerGroup * columns), columns,
                        beta, new Span<float>(gradColumns + (nint)group * depth * columns, depth * columns), columns);
                }
                if (!direct)
                {
                    for (int b = 0; b < count; b++)
                    {
                        float* dx = DX + (nint)(image + b) * g.InChannels * inputPixels;
                        if (CanGatherFold(g))
                        {
                            GatherFold(g, dx, gradColumns, columns, b * outputPixels, accumulate: DXBeta != 0f);
                            continue;
                        }
                        if (DXBeta == 0f) new Span<float>(dx, g.InChannels * inputPixels).Clear();
                        Unfold(g, dx, gradColumns, columns, b * outputPixels, toColumns: false);
                    }
                }
            }
        }
    }

    /// <summary>Whether the forward pass writes its im2col matrix straight into the GEMM's packed
    /// B̃ panels (the tests switch it off to compare with the unpacked path).</summary>
    internal static bool UsePackedColumns { get; set; } = true;

    /// <summary>
    /// Geometries <see cref="PackColumns"/> handles: AVX-512 micro-kernels, one group, no padding
    /// (every tap of every output reads inside the image), output planes a whole number of
    /// 16-wide pieces (so a piece never straddles two images), and each piece's 16 inputs for one
    /// tap within a 32-float window (one two-register permute builds it).
    /// </summary>
    internal static bool CanPackColumns(in ConvGeometry g)
    {
        if (!Avx512F.IsSupported || Gemm.Kernel != GemmKernel.Vector512) return false;
        if (g.Groups != 1 || g.PadTop != 0 || g.PadBottom != 0 || g.PadLeft != 0 || g.PadRight != 0) return false;
        int outputPixels = g.OutputHeight * g.OutputWidth;
        if (outputPixels % 16 != 0 || outputPixels / 16 > MaxPackedPieces) return false;
        for (int piece = 0; piece < outputPixels / 16; piece++)
            if (ConvolutionColumnPanels.PieceOffset(g, piece * 16 + 15) - ConvolutionColumnPanels.PieceOffset(g, piece * 16) >= 32) return false;
        return true;
    }

    const int MaxPackedPieces = 256;

    /// <summary>
    /// im2col of <paramref name="count"/> images straight into ceil(columns/nr) B̃ panels of
    /// depth×nr floats (element (p, j) of panel J at J·depth·nr + p·nr + j), the layout
    /// <see cref="GemmPacking.PackB"/> makes of the [C_in·kH·kW, count·H_out·W_out] matrix, zero
    /// past the last column. Each 16-wide piece of a panel row is two loads and a permute.
    /// </summary>
    internal static void PackColumns(in ConvGeometry g, float* images, float* inputEnd, int count, float* panels, int nr)
    {
        int outputPixels = g.OutputHeight * g.OutputWidth, planeSize = g.InputHeight * g.InputWidth;
        int piecesPerImage = outputPixels / 16, pieces = count * piecesPerImage;
        int depth = g.InChannels * g.KernelHeight * g.KernelWidth;
        int halves = nr / 16;
        nint imageSize = (nint)g.InChannels * planeSize;
        int* starts = stackalloc int[piecesPerImage];
        var indices = stackalloc Vector512<int>[piecesPerImage];
        // Tap p's offset from a piece's first input: c·H·W + i·dH·W + j·dW.
        bool tapTable = depth <= ConvolutionColumnPanels.MaxTabulatedTaps;
        int* taps = stackalloc int[Math.Min(depth, ConvolutionColumnPanels.MaxTabulatedTaps)];
        ConvolutionColumnPanels.FillTables(g, starts, indices, tapTable ? taps : null);
        int panelCount = (pieces + halves - 1) / halves;
        for (int panel = 0; panel < panelCount; panel++)
        {
            float* destination = panels + (nint)panel * depth * nr;
            for (int half = 0; half < halves; half++)
            {
                int piece = panel * halves + half;
                float* target = destination + half * 16;
                if (piece >= pieces)
                {
                    for (int p = 0; p < depth; p++) Vector512<float>.Zero.Store(target + (nint)p * nr);
                    continue;
                }
                int inImage = piece % piecesPerImage;
                float* source = images + (piece / piecesPerImage) * imageSize + starts[inImage];
                var index = indices[inImage];
                for (int c = 0, p = 0; c < g.InChannels; c++)
                    for (int i = 0; i < g.KernelHeight; i++)
                        for (int j = 0; j < g.KernelWidth; j++, p++)
                        {
                            float* window = source + (tapTable ? taps[p] : c * planeSize + i * g.DilationHeight * g.InputWidth + j * g.DilationWidth);
                            ConvolutionColumnPanels.LoadPiece(window, inputEnd, index).Store(target + (nint)p * nr);
                        }
            }
        }
    }

    /// <summary>
    /// im2col (<paramref name="toColumns"/>): writes one image into columns
    /// [columnOffset, columnOffset + H_out·W_out) of the [C_in·kH·kW, <paramref name="columns"/>]
    /// matrix, zeros where the kernel overlaps the padding. col2im (otherwise): adds those
    /// columns back into the image — the two are each other's transpose, so they share the loops.
    /// </summary>
    internal static void Unfold(in ConvGeometry g, float* image, float* matrix, int columns, int columnOffset, bool toColumns)
    {
        int height = g.InputHeight, width = g.InputWidth, outHeight = g.OutputHeight, outWidth = g.OutputWidth;
        int strideH = g.StrideHeight, strideW = g.StrideWidth;
        int outputPixels = outHeight * outWidth;
        // Tiny planes (a 6×6 image, 4×4 output): a tap's whole output plane is at most 16 values
        // drawn from a 32-float window of the input, so one permute builds it.
        bool tiny = Avx512F.IsSupported && strideW == 1 && outputPixels <= 16 && (outHeight - 1) * strideH * width + outWidth <= 32;
        Vector512<int> tinyIndex = default;
        Vector512<float> tinyMask = default;
        if (tiny)
        {
            var lanes = Vector512<int>.Indices;
            Span<int> index = stackalloc int[16];
            for (int l = 0; l < 16; l++) index[l] = l < outputPixels ? l / outWidth * strideH * width + l % outWidth : 0;
            tinyIndex = Vector512.Create((ReadOnlySpan<int>)index);
            tinyMask = Vector512.LessThan(lanes, Vector512.Create(outputPixels)).AsSingle();
        }
        int row = 0;
        for (int c = 0; c < g.InChannels; c++)
        {
            float* plane = image + (nint)c * height * width;
            for (int i = 0; i < g.KernelHeight; i++)
            {
                int rowOffset = i * g.DilationHeight - g.PadTop;
                for (int j = 0; j < g.KernelWidth; j++, row++)
                {
                    int columnShift = j * g.DilationWidth - g.PadLeft;
                    // Output columns whose input column ow·stride + shift lies inside the image.
                    int low = Math.Clamp(CeilDivide(-columnShift, strideW), 0, outWidth);
                    int high = Math.Clamp(CeilDivide(width - columnShift, strideW), low, outWidth);
                    float* target = matrix + (nint)row * columns + columnOffset;
                    if (toColumns && tiny && low == 0 && high == outWidth && rowOffset >= 0 && (outHeight - 1) * strideH + rowOffset < height)
                    {
                        // The whole output plane is one vector: two loads and a permute.
                        float* start = plane + (nint)rowOffset * width + columnShift;
                        int available = (int)(plane + (nint)height * width - start);
                        var lanes = Vector512<int>.Indices;
                        var low16 = Avx512F.MaskLoad(start, Vector512.LessThan(lanes, Vector512.Create(available)).AsSingle(), Vector512<float>.Zero);
                        var high16 = Avx512F.MaskLoad(start + 16, Vector512.LessThan(lanes, Vector512.Create(available - 16)).AsSingle(), Vector512<float>.Zero);
                        var values = Avx512F.PermuteVar16x32x2(low16, tinyIndex, high16);
                        if (outputPixels == 16) values.Store(target);
                        else Avx512F.MaskStore(target, tinyMask, values);
                        continue;
                    }
                    if (strideW == 1 && outWidth <= 16 && Avx512F.IsSupported)
                    {
                        NarrowRows(plane, height, width, outHeight, outWidth, strideH, rowOffset, columnShift, low, high, target, toColumns);
                        continue;
                    }
                    for (int oh = 0; oh < outHeight; oh++, target += outWidth)
                    {
                        int ih = oh * strideH + rowOffset;
                        bool inside = (uint)ih < (uint)height;
                        if (toColumns && !inside)
                        {
                            new Span<float>(target, outWidth).Clear();
                            continue;
                        }
                        if (!inside) continue;
                        float* source = plane + (nint)ih * width + low * strideW + columnShift;
                        int count = high - low;
                        if (toColumns)
                        {
                            new Span<float>(target, low).Clear();
                            new Span<float>(target + high, outWidth - high).Clear();
                            if (strideW == 1) new ReadOnlySpan<float>(source, count).CopyTo(new Span<float>(target + low, count));
                            else if (strideW == 2 && Avx512F.IsSupported) GatherEven(source, target + low, count);
                            else for (int k = 0; k < count; k++) target[low + k] = source[k * strideW];
                        }
                        else
                        {
                            if (strideW == 1)
                            {
                                var sum = new Span<float>(source, count);
                                TensorPrimitives.Add(sum, new ReadOnlySpan<float>(target + low, count), sum);
                            }
                            else for (int k = 0; k < count; k++) source[k * strideW] += target[low + k];
                        }
                    }
                }
            }
        }
    }

    /// <summary>target[k] = source[2k] for k &lt; count (stride-2 rows: a first layer's 224 → 112):
    /// one two-register permute per 16 outputs; the vector loop reads no further than the
    /// scalar one would (source[2·count − 1]).</summary>
    static void GatherEven(float* source, float* target, int count)
    {
        var even = Vector512<int>.Indices * 2;
        int k = 0;
        for (; k + 16 <= count; k += 16)
            Avx512F.PermuteVar16x32x2(Vector512.Load(source + 2 * k), even, Vector512.Load(source + 2 * k + 16)).Store(target + k);
        for (; k < count; k++) target[k] = source[2 * k];
    }

    /// <summary>
    /// The rows of <see cref="Unfold"/> for narrow outputs (≤ 16 wide, stride 1 — the late layers
    /// of a small CNN, 12 or 4 wide): one masked AVX-512 load and store per row instead of a
    /// copy call per few floats, which cost more than the copying. Lanes outside [low, high)
    /// are masked off, so they are neither read (no fault past the image) nor written.
    /// </summary>
    static void NarrowRows(float* plane, int height, int width, int outHeight, int outWidth, int strideH, int rowOffset,
        int columnShift, int low, int high, float* target, bool toColumns)
    {
        var lanes = Vector512<int>.Indices;
        var valid = (Vector512.GreaterThanOrEqual(lanes, Vector512.Create(low)) & Vector512.LessThan(lanes, Vector512.Create(high))).AsSingle();
        var row = Vector512.LessThan(lanes, Vector512.Create(outWidth)).AsSingle();
        for (int oh = 0; oh < outHeight; oh++, target += outWidth)
        {
            int ih = oh * strideH + rowOffset;
            bool inside = (uint)ih < (uint)height;
            // Lane ow of the image row is column ow + shift.
            float* imageRow = plane + (nint)ih * width + columnShift;
            if (toColumns)
            {
                var values = inside ? Avx512F.MaskLoad(imageRow, valid, Vector512<float>.Zero) : Vector512<float>.Zero;
                // Rows of one image are adjacent in the matrix, so a full store's spill past this
                // row is overwritten by the rows after it; only the stores that would spill past
                // the image's last row are masked. (Masked stores cost more than plain ones.)
                if ((outHeight - oh) * outWidth >= 16) values.Store(target);
                else Avx512F.MaskStore(target, row, values);
            }
            else if (inside)
            {
                var sum = Avx512F.MaskLoad(imageRow, valid, Vector512<float>.Zero) + Avx512F.MaskLoad(target, valid, Vector512<float>.Zero);
                Avx512F.MaskStore(imageRow, valid, sum);
            }
        }
    }

    /// <summary>Unit horizontal stride and rows up to 1024 wide (64 vectors): col2im runs as a gather.</summary>
    static bool CanGatherFold(in ConvGeometry g) =>
        Avx512F.IsSupported && g.StrideWidth == 1 && g.InputWidth <= 1024;

    /// <summary>
    /// col2im as a gather (<see cref="CanGatherFold"/>): each 16-column block of an input row
    /// sums its kH·kW contributions in one register — masked loads of the matching dcol rows,
    /// shifted by the tap's column offset — and is stored once. The scatter form adds every tap
    /// into the image in turn: a call per few floats, and on narrow images each masked
    /// read-modify-write waits for the previous store to an overlapping, shifted row (store
    /// forwarding fails) — 3× slower on 6×6 images, 2× on 28×28.
    /// </summary>
    static void GatherFold(in ConvGeometry g, float* image, float* matrix, int columns, int columnOffset, bool accumulate)
    {
        int height = g.InputHeight, width = g.InputWidth, outHeight = g.OutputHeight, outWidth = g.OutputWidth;
        int kernelH = g.KernelHeight, kernelW = g.KernelWidth, blocks = (width + 15) / 16;
        int strideH = g.StrideHeight, padTop = g.PadTop, dilationH = g.DilationHeight;
        var lanes = Vector512<int>.Indices;
        // Per column block and tap column j: lane iw takes dcol column ow = iw − shift, valid when
        // 0 ≤ ow < W_out and iw < W.
        var tapMasks = stackalloc Vector512<float>[blocks * kernelW];
        var rowMasks = stackalloc Vector512<float>[blocks];
        var shifts = stackalloc int[kernelW];
        for (int j = 0; j < kernelW; j++) shifts[j] = j * g.DilationWidth - g.PadLeft;
        for (int block = 0; block < blocks; block++)
        {
            var columnsHere = lanes + Vector512.Create(block * 16);
            var inside = Vector512.LessThan(columnsHere, Vector512.Create(width));
            rowMasks[block] = inside.AsSingle();
            for (int j = 0; j < kernelW; j++)
            {
                var source = columnsHere - Vector512.Create(shifts[j]);
                tapMasks[block * kernelW + j] = (Vector512.GreaterThanOrEqual(source, Vector512<int>.Zero)
                    & Vector512.LessThan(source, Vector512.Create(outWidth)) & inside).AsSingle();
            }
        }
        for (int c = 0; c < g.InChannels; c++)
        {
            float* plane = image + (nint)c * height * width;
            for (int ih = 0; ih < height; ih++)
            {
                float* destination = plane + (nint)ih * width;
                for (int block = 0; block < blocks; block++)
                {
                    var sum = Vector512<float>.Zero;
                    var masks = tapMasks + block * kernelW;
                    for (int i = 0; i < kernelH; i++)
                    {
                        int oh = ih + padTop - i * dilationH;
                        if (oh < 0) continue;
                        if (strideH != 1)
                        {
                            // (An integer division costs tens of cycles: only strided layers pay it.)
                            if (oh % strideH != 0) continue;
                            oh /= strideH;
                        }
                        if (oh >= outHeight) continue;
                        float* rows = matrix + (nint)((c * kernelH + i) * kernelW) * columns + columnOffset + oh * outWidth + block * 16;
                        // A partial sum per kernel row: independent add chains instead of one of kH·kW.
                        var part = Avx512F.MaskLoad(rows - shifts[0], masks[0], Vector512<float>.Zero);
                        for (int j = 1; j < kernelW; j++)
                            part += Avx512F.MaskLoad(rows + (nint)j * columns - shifts[j], masks[j], Vector512<float>.Zero);
                        sum += part;
                    }
                    float* target = destination + block * 16;
                    if (accumulate) sum += Avx512F.MaskLoad(target, rowMasks[block], Vector512<float>.Zero);
                    if (block * 16 + 16 <= width) sum.Store(target);
                    else Avx512F.MaskStore(target, rowMasks[block], sum);
                }
            }
        }
    }

    /// <summary>⌈a / b⌉ for b > 0 and any sign of a.</summary>
    internal static int CeilDivide(int a, int b) => a >= 0 ? (a + b - 1) / b : -(-a / b);

}

/// <summary>The arguments of one convolution call (raw pointers, pinned by the caller while the
/// tasks run), as both convolution kernels receive them.</summary>
internal abstract unsafe class ConvolutionJob : ParallelJob
{
    public ConvGeometry Geometry;
    public bool Backward;
    public float* X, W, Bias, Y, DY, DX, DW, DB;
    public float DXBeta, DWBeta, DBBeta;
    /// <summary>What the forward pass applies to each output as it is made (inference only).</summary>
    public FusedActivation Activation;

    /// <summary>Runs the call the fields describe.</summary>
    public abstract void Run();
}

/// <summary>Per-thread scratch for the convolution kernels: a few numbered slots, each grown when
/// too small and then reused for the life of the thread (the workers are persistent, so steady
/// state allocates nothing). Pinned and 64-byte aligned: the kernels hold raw pointers into it.</summary>
internal static unsafe class ThreadScratch
{
    [ThreadStatic] static float[]?[]? slots;

    public static float* Get(int slot, int length)
    {
        var all = slots ??= new float[]?[4];
        var storage = all[slot];
        if (storage == null || storage.Length < length + 16)
            all[slot] = storage = GC.AllocateUninitializedArray<float>(Math.Max(length + 16, 1024), pinned: true);
        float* start = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(storage));
        return (float*)(((nint)start + 63) & ~(nint)63);
    }
}
