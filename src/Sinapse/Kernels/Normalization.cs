using System.Numerics.Tensors;

namespace Sinapse.Kernels;

/// <summary>
/// Batch-normalisation kernels over x viewed as [batch, channels, spatial] (spatial = 1 for
/// [N, C], L for [N, C, L], H·W for [N, C, H, W]): per-channel statistics, the affine
/// normalisation, and the two passes of the backward closed form.
/// </summary>
/// <remarks>
/// <para>Numerics: the mean and the variance are two passes (the variance sums squared deviations
/// from the mean, never E[x²] − E[x]²), accumulated across rows in double; the outputs and the
/// input gradient are formed from x − mean, so a channel whose mean is large against its spread
/// loses nothing to cancellation.</para>
/// <para>Layout: with spatial > 1 each channel is N contiguous runs of <c>spatial</c> floats,
/// processed with TensorPrimitives run by run; with spatial = 1 (dense layers) a channel is a
/// column, so rows are processed whole, vectorised across the channels.</para>
/// <para>Threads split the channels into fixed contiguous blocks. Every channel is computed by
/// one thread in the same order whatever the split, so results are bitwise the same for any
/// thread count.</para>
/// </remarks>
public static unsafe class Normalization
{
    /// <summary>Below this many elements a call runs on the calling thread (waking the workers costs
    /// as much as a pass over 32K floats). Settable for tests; it changes speed, never results.</summary>
    internal static long ParallelThreshold { get; set; } = 1L << 15;

    // Deviations x − mean are formed in stack chunks of this many floats (2 KB).
    const int Chunk = 512;

    /// <summary>
    /// mean[c], the biased variance[c] = Σ(x − mean)² / M and invStd[c] = 1/√(variance + eps)
    /// over the M = batch·spatial values of each channel. The mean is computed in double and
    /// returned as a float, mean[c], plus what the float rounded off, meanResidual[c]: for data
    /// far from zero (pixels 0..255, say) the rounding is not small against the spread, and
    /// callers fold the residual into their per-channel offsets at no cost.
    /// </summary>
    public static void Statistics(ReadOnlySpan<float> x, int batch, int channels, int spatial, float eps,
        Span<float> mean, Span<float> meanResidual, Span<float> variance, Span<float> invStd)
    {
        Validate("Statistics", x.Length, batch, channels, spatial);
        PerChannel("Statistics", channels, mean.Length, variance.Length, invStd.Length);
        PerChannel("Statistics", channels, meanResidual.Length, meanResidual.Length, meanResidual.Length);
        fixed (float* px = x)
        fixed (float* pm = mean)
        fixed (float* pr = meanResidual)
        fixed (float* pv = variance)
        fixed (float* pi = invStd)
        {
            var job = Job.Begin(Kind.Statistics, batch, channels, spatial);
            job.X = px; job.Center = pm; job.Residual = pr; job.Variance = pv; job.InvStd = pi; job.Eps = eps;
            job.Run();
        }
    }

    /// <summary>y = (x − center[c])·scale[c] + shift[c].</summary>
    public static void Normalize(ReadOnlySpan<float> x, int batch, int channels, int spatial,
        ReadOnlySpan<float> center, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<float> y)
    {
        Validate("Normalize", x.Length, batch, channels, spatial);
        PerChannel("Normalize", channels, center.Length, scale.Length, shift.Length);
        if (y.Length < x.Length) throw new ArgumentException($"Normalize: the output holds {y.Length} values, the input {x.Length}.");
        fixed (float* px = x)
        fixed (float* pc = center)
        fixed (float* ps = scale)
        fixed (float* ph = shift)
        fixed (float* py = y)
        {
            var job = Job.Begin(Kind.Normalize, batch, channels, spatial);
            job.X = px; job.Center = pc; job.Scale = ps; job.Shift = ph; job.Y = py;
            job.Run();
        }
    }

    /// <summary>sumGrad[c] = Σ dy and sumGradCentered[c] = Σ dy·(x − center[c]) over each channel.</summary>
    public static void GradientSums(ReadOnlySpan<float> x, ReadOnlySpan<float> gradOutput, int batch, int channels, int spatial,
        ReadOnlySpan<float> center, Span<float> sumGrad, Span<float> sumGradCentered)
    {
        Validate("GradientSums", x.Length, batch, channels, spatial);
        PerChannel("GradientSums", channels, center.Length, sumGrad.Length, sumGradCentered.Length);
        if (gradOutput.Length < x.Length) throw new ArgumentException($"GradientSums: the output gradient holds {gradOutput.Length} values, the input {x.Length}.");
        fixed (float* px = x)
        fixed (float* pd = gradOutput)
        fixed (float* pc = center)
        fixed (float* ps = sumGrad)
        fixed (float* pk = sumGradCentered)
        {
            var job = Job.Begin(Kind.GradientSums, batch, channels, spatial);
            job.X = px; job.Dy = pd; job.Center = pc; job.SumGrad = ps; job.SumGradCentered = pk;
            job.Run();
        }
    }

    /// <summary>
    /// dx = beta·dx + gradScale[c]·dy + (x − center[c])·centeredScale[c] + offset[c]: the closed-form
    /// input gradient, dx = (γ/σ)·(dy − Σdy/M − x̂·Σ(dy·x̂)/M), with its per-channel factors folded.
    /// </summary>
    public static void InputGradient(ReadOnlySpan<float> x, ReadOnlySpan<float> gradOutput, int batch, int channels, int spatial,
        ReadOnlySpan<float> center, ReadOnlySpan<float> gradScale, ReadOnlySpan<float> centeredScale, ReadOnlySpan<float> offset,
        float beta, Span<float> gradInput)
    {
        Validate("InputGradient", x.Length, batch, channels, spatial);
        PerChannel("InputGradient", channels, center.Length, gradScale.Length, centeredScale.Length);
        PerChannel("InputGradient", channels, offset.Length, offset.Length, offset.Length);
        if (gradOutput.Length < x.Length || gradInput.Length < x.Length)
            throw new ArgumentException($"InputGradient: the gradients hold {gradOutput.Length} and {gradInput.Length} values, the input {x.Length}.");
        fixed (float* px = x)
        fixed (float* pd = gradOutput)
        fixed (float* pc = center)
        fixed (float* pk = gradScale)
        fixed (float* pp = centeredScale)
        fixed (float* pq = offset)
        fixed (float* pg = gradInput)
        {
            var job = Job.Begin(Kind.InputGradient, batch, channels, spatial);
            job.X = px; job.Dy = pd; job.Center = pc; job.GradScale = pk; job.CenteredScale = pp; job.Offset = pq; job.Dx = pg; job.Beta = beta;
            job.Run();
        }
    }

    static void Validate(string op, int length, int batch, int channels, int spatial)
    {
        if (batch < 0 || channels < 1 || spatial < 1 || length < (long)batch * channels * spatial)
            throw new ArgumentException($"{op}: [{batch}, {channels}, {spatial}] needs {(long)batch * channels * spatial} values (batch >= 0, channels and spatial >= 1), got {length}.");
    }

    static void PerChannel(string op, int channels, int a, int b, int c)
    {
        if (a < channels || b < channels || c < channels)
            throw new ArgumentException($"{op}: every per-channel vector needs {channels} values, got {a}, {b} and {c}.");
    }

    enum Kind { Statistics, Normalize, GradientSums, InputGradient }

    /// <summary>One call's arguments as raw pointers (pinned by the caller while the threads run),
    /// one instance per calling thread with its delegate made once, so a call allocates nothing.</summary>
    sealed class Job
    {
        [ThreadStatic] static Job? current;

        readonly Action<int> runTask;
        Kind kind;
        int batch, channels, spatial, tasks;
        public float* X, Y, Dy, Dx;                                   // [batch, channels, spatial]
        public float* Center, Residual, Variance, InvStd, Scale, Shift; // per channel
        public float* SumGrad, SumGradCentered, GradScale, CenteredScale, Offset;
        public float Eps, Beta;

        Job() => runTask = RunTask;

        public static Job Begin(Kind kind, int batch, int channels, int spatial)
        {
            var job = current ??= new Job();
            (job.kind, job.batch, job.channels, job.spatial) = (kind, batch, channels, spatial);
            long work = (long)batch * channels * spatial;
            job.tasks = work < ParallelThreshold ? 1 : Math.Min(Workers.Count, channels);
            return job;
        }

        public void Run()
        {
            try
            {
                if (tasks == 1) RunTask(0);
                else Workers.For(tasks, runTask);
            }
            finally
            {
                X = Y = Dy = Dx = Center = Residual = Variance = InvStd = Scale = Shift = SumGrad = SumGradCentered = GradScale = CenteredScale = Offset = null;
            }
        }

        void RunTask(int task)
        {
            int first = (int)((long)channels * task / tasks);
            int end = (int)((long)channels * (task + 1) / tasks);
            if (first == end) return;
            if (spatial == 1)
            {
                switch (kind)
                {
                    case Kind.Statistics: RowStatistics(first, end); break;
                    case Kind.Normalize: RowNormalize(first, end); break;
                    case Kind.GradientSums: RowGradientSums(first, end); break;
                    case Kind.InputGradient: RowInputGradient(first, end); break;
                }
                return;
            }
            for (int c = first; c < end; c++)
            {
                switch (kind)
                {
                    case Kind.Statistics: PlaneStatistics(c); break;
                    case Kind.Normalize: PlaneNormalize(c); break;
                    case Kind.GradientSums: PlaneGradientSums(c); break;
                    case Kind.InputGradient: PlaneInputGradient(c); break;
                }
            }
        }

        /// <summary>Σ values, each float widened exactly and summed in double, <paramref name="wide"/>.Length at a time.</summary>
        static double SumInDouble(ReadOnlySpan<float> values, Span<double> wide)
        {
            double sum = 0;
            for (int start = 0; start < values.Length; start += wide.Length)
            {
                int length = Math.Min(wide.Length, values.Length - start);
                TensorPrimitives.ConvertChecked(values.Slice(start, length), wide[..length]);
                sum += TensorPrimitives.Sum<double>(wide[..length]);
            }
            return sum;
        }

        ReadOnlySpan<float> ReadRun(float* data, int n, int c) => new(data + ((long)n * channels + c) * spatial, spatial);

        Span<float> WriteRun(float* data, int n, int c) => new(data + ((long)n * channels + c) * spatial, spatial);

        // ---- spatial > 1: channel c is the runs (n, c) of `spatial` contiguous floats ----

        void PlaneStatistics(int c)
        {
            Span<double> wide = stackalloc double[Chunk];
            double sum = 0;
            for (int n = 0; n < batch; n++) sum += SumInDouble(ReadRun(X, n, c), wide);
            long count = (long)batch * spatial;
            double exactMean = count == 0 ? 0 : sum / count;
            float mean = (float)exactMean;
            Span<float> deviation = stackalloc float[Chunk];
            double squares = 0;
            for (int n = 0; n < batch; n++)
            {
                var run = ReadRun(X, n, c);
                for (int start = 0; start < spatial; start += Chunk)
                {
                    var part = run.Slice(start, Math.Min(Chunk, spatial - start));
                    var d = deviation[..part.Length];
                    TensorPrimitives.Subtract(part, mean, d);
                    squares += TensorPrimitives.SumOfSquares(d);
                }
            }
            Center[c] = mean;
            Residual[c] = (float)(exactMean - mean);
            // Σ(x − m)² = Σ(x − μ)² + M·(μ − m)² for the float m near the exact mean μ.
            double variance = count == 0 ? 0 : Math.Max(squares / count - (exactMean - mean) * (exactMean - mean), 0);
            Variance[c] = (float)variance;
            InvStd[c] = (float)(1.0 / Math.Sqrt(variance + Eps));
        }

        void PlaneNormalize(int c)
        {
            float center = Center[c], scale = Scale[c], shift = Shift[c];
            // Three passes over a chunk that stays in L1 (TensorPrimitives has no a·s + t for scalars s, t).
            for (int n = 0; n < batch; n++)
            {
                var x = ReadRun(X, n, c);
                var y = WriteRun(Y, n, c);
                for (int start = 0; start < spatial; start += Chunk)
                {
                    int length = Math.Min(Chunk, spatial - start);
                    var part = y.Slice(start, length);
                    TensorPrimitives.Subtract(x.Slice(start, length), center, part);
                    TensorPrimitives.Multiply(part, scale, part);
                    TensorPrimitives.Add(part, shift, part);
                }
            }
        }

        void PlaneGradientSums(int c)
        {
            float center = Center[c];
            Span<float> deviation = stackalloc float[Chunk];
            Span<double> wide = stackalloc double[Chunk];
            double sumGrad = 0, sumGradCentered = 0;
            for (int n = 0; n < batch; n++)
            {
                var x = ReadRun(X, n, c);
                var dy = ReadRun(Dy, n, c);
                sumGrad += SumInDouble(dy, wide);
                for (int start = 0; start < spatial; start += Chunk)
                {
                    int length = Math.Min(Chunk, spatial - start);
                    var d = deviation[..length];
                    TensorPrimitives.Subtract(x.Slice(start, length), center, d);
                    sumGradCentered += TensorPrimitives.Dot(dy.Slice(start, length), d);
                }
            }
            SumGrad[c] = (float)sumGrad;
            SumGradCentered[c] = (float)sumGradCentered;
        }

        void PlaneInputGradient(int c)
        {
            float center = Center[c], gradScale = GradScale[c], centeredScale = CenteredScale[c], offset = Offset[c];
            Span<float> term = stackalloc float[Chunk];
            for (int n = 0; n < batch; n++)
            {
                var x = ReadRun(X, n, c);
                var dy = ReadRun(Dy, n, c);
                var dx = WriteRun(Dx, n, c);
                for (int start = 0; start < spatial; start += Chunk)
                {
                    int length = Math.Min(Chunk, spatial - start);
                    InputGradientChunk(x.Slice(start, length), dy.Slice(start, length), dx.Slice(start, length), term[..length],
                        center, gradScale, centeredScale, offset);
                }
            }
        }

        void InputGradientChunk(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, Span<float> term,
            float center, float gradScale, float centeredScale, float offset)
        {
            var target = Beta == 0f ? dx : term;
            TensorPrimitives.Subtract(x, center, target);
            TensorPrimitives.Multiply(target, centeredScale, target);
            TensorPrimitives.MultiplyAdd(dy, gradScale, target, target);
            TensorPrimitives.Add(target, offset, target);
            if (Beta != 0f) TensorPrimitives.Add(dx, term, dx);
        }

        // ---- spatial = 1: channel c is column c of the [batch, channels] matrix ----

        // Double accumulators for up to Chunk channels at a time live on the stack.
        void RowStatistics(int first, int end)
        {
            Span<double> accumulators = stackalloc double[2 * Chunk];
            for (int block = first; block < end; block += Chunk)
            {
                int width = Math.Min(Chunk, end - block);
                var sum = accumulators[..width];
                var residual = accumulators.Slice(Chunk, width);
                sum.Clear();
                for (int n = 0; n < batch; n++)
                {
                    float* row = X + (long)n * channels + block;
                    for (int j = 0; j < width; j++) sum[j] += row[j];
                }
                for (int j = 0; j < width; j++)
                {
                    double exactMean = batch == 0 ? 0 : sum[j] / batch;
                    Center[block + j] = (float)exactMean;
                    residual[j] = exactMean - Center[block + j];
                    Residual[block + j] = (float)residual[j];
                }
                var squares = sum;
                squares.Clear();
                for (int n = 0; n < batch; n++)
                {
                    float* row = X + (long)n * channels + block;
                    for (int j = 0; j < width; j++)
                    {
                        double d = row[j] - Center[block + j];
                        squares[j] += d * d;
                    }
                }
                for (int j = 0; j < width; j++)
                {
                    // Σ(x − m)² = Σ(x − μ)² + M·(μ − m)² for the float m near the exact mean μ.
                    double variance = batch == 0 ? 0 : Math.Max(squares[j] / batch - residual[j] * residual[j], 0);
                    Variance[block + j] = (float)variance;
                    InvStd[block + j] = (float)(1.0 / Math.Sqrt(variance + Eps));
                }
            }
        }

        void RowNormalize(int first, int end)
        {
            int width = end - first;
            var center = new ReadOnlySpan<float>(Center + first, width);
            var scale = new ReadOnlySpan<float>(Scale + first, width);
            var shift = new ReadOnlySpan<float>(Shift + first, width);
            for (int n = 0; n < batch; n++)
            {
                var x = new ReadOnlySpan<float>(X + (long)n * channels + first, width);
                var y = new Span<float>(Y + (long)n * channels + first, width);
                TensorPrimitives.Subtract(x, center, y);
                TensorPrimitives.MultiplyAdd(y, scale, shift, y);
            }
        }

        void RowGradientSums(int first, int end)
        {
            Span<double> sums = stackalloc double[2 * Chunk];
            for (int block = first; block < end; block += Chunk)
            {
                int width = Math.Min(Chunk, end - block);
                var sumGrad = sums[..width];
                var sumGradCentered = sums.Slice(Chunk, width);
                sumGrad.Clear();
                sumGradCentered.Clear();
                for (int n = 0; n < batch; n++)
                {
                    float* x = X + (long)n * channels + block;
                    float* dy = Dy + (long)n * channels + block;
                    for (int j = 0; j < width; j++)
                    {
                        sumGrad[j] += dy[j];
                        sumGradCentered[j] += (double)dy[j] * (x[j] - Center[block + j]);
                    }
                }
                for (int j = 0; j < width; j++)
                {
                    SumGrad[block + j] = (float)sumGrad[j];
                    SumGradCentered[block + j] = (float)sumGradCentered[j];
                }
            }
        }

        void RowInputGradient(int first, int end)
        {
            Span<float> term = stackalloc float[Chunk];
            for (int block = first; block < end; block += Chunk)
            {
                int width = Math.Min(Chunk, end - block);
                var center = new ReadOnlySpan<float>(Center + block, width);
                var gradScale = new ReadOnlySpan<float>(GradScale + block, width);
                var centeredScale = new ReadOnlySpan<float>(CenteredScale + block, width);
                var offset = new ReadOnlySpan<float>(Offset + block, width);
                var t = term[..width];
                for (int n = 0; n < batch; n++)
                {
                    long at = (long)n * channels + block;
                    var x = new ReadOnlySpan<float>(X + at, width);
                    var dy = new ReadOnlySpan<float>(Dy + at, width);
                    var dx = new Span<float>(Dx + at, width);
                    var target = Beta == 0f ? dx : t;
                    TensorPrimitives.Subtract(x, center, target);
                    TensorPrimitives.MultiplyAdd(target, centeredScale, offset, target);
                    TensorPrimitives.MultiplyAdd(dy, gradScale, target, target);
                    if (Beta != 0f) TensorPrimitives.Add(dx, t, dx);
                }
            }
        }
    }
}
