using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Sinapse.Kernels;

/// <summary>An activation that <see cref="Normalization"/> applies in the same pass as the
/// normalisation (and whose slope it applies in the backward passes), saving the activation's
/// own passes over memory.</summary>
public enum FusedActivation { None, Relu, HardSwish }

/// <summary>
/// Batch-normalisation kernels over x viewed as [batch, channels, spatial] (spatial = 1 for
/// [N, C], L for [N, C, L], H·W for [N, C, H, W]): per-channel statistics, the affine
/// normalisation, and the two passes of the backward closed form.
/// </summary>
/// <remarks>
/// <para>Numerics: the variance sums squared deviations from a mean, never E[x²] − E[x]²
/// (accumulated across rows or runs in double); the outputs and the input gradient are formed
/// from x − mean, so a channel whose mean is large against its spread loses nothing to
/// cancellation.</para>
/// <para>Layout: with spatial > 1 each channel is N contiguous runs of <c>spatial</c> floats,
/// processed run by run in one vectorised loop per pass (each run's two statistics passes read
/// it from memory once); with spatial = 1 (dense layers) a channel is a column, so rows are
/// processed whole with TensorPrimitives, vectorised across the channels.</para>
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
        fixed (float* px = x, pm = mean, pr = meanResidual, pv = variance, pi = invStd)
        {
            var job = Job.Begin(Kind.Statistics, batch, channels, spatial);
            job.X = px; job.Center = pm; job.Residual = pr; job.Variance = pv; job.InvStd = pi; job.Eps = eps;
            job.Run();
        }
    }

    /// <summary>y = act((x − center[c])·scale[c] + shift[c]), act being the identity unless <paramref name="activation"/> says otherwise.</summary>
    public static void Normalize(ReadOnlySpan<float> x, int batch, int channels, int spatial,
        ReadOnlySpan<float> center, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<float> y,
        FusedActivation activation = FusedActivation.None)
    {
        Validate("Normalize", x.Length, batch, channels, spatial, activation);
        PerChannel("Normalize", channels, center.Length, scale.Length, shift.Length);
        if (y.Length < x.Length) throw new ArgumentException($"Normalize: the output holds {y.Length} values, the input {x.Length}.");
        fixed (float* px = x, pc = center, ps = scale, ph = shift, py = y)
        {
            var job = Job.Begin(Kind.Normalize, batch, channels, spatial, activation);
            job.X = px; job.Center = pc; job.Scale = ps; job.Shift = ph; job.Y = py;
            job.Run();
        }
    }

    /// <summary>
    /// sumGrad[c] = Σ g and sumGradCentered[c] = Σ g·(x − center[c]) over each channel, g being
    /// gradOutput or, with an <paramref name="activation"/>, gradOutput·act'(y) for the
    /// y = (x − center)·<paramref name="scale"/> + <paramref name="shift"/> that
    /// <see cref="Normalize"/> activated (recomputed, never stored).
    /// </summary>
    public static void GradientSums(ReadOnlySpan<float> x, ReadOnlySpan<float> gradOutput, int batch, int channels, int spatial,
        ReadOnlySpan<float> center, Span<float> sumGrad, Span<float> sumGradCentered,
        FusedActivation activation = FusedActivation.None, ReadOnlySpan<float> scale = default, ReadOnlySpan<float> shift = default)
    {
        Validate("GradientSums", x.Length, batch, channels, spatial, activation);
        PerChannel("GradientSums", channels, center.Length, sumGrad.Length, sumGradCentered.Length);
        if (activation != FusedActivation.None) PerChannel("GradientSums", channels, scale.Length, shift.Length, shift.Length);
        if (gradOutput.Length < x.Length) throw new ArgumentException($"GradientSums: the output gradient holds {gradOutput.Length} values, the input {x.Length}.");
        fixed (float* px = x, pd = gradOutput, pc = center, ps = sumGrad, pk = sumGradCentered, pa = scale, ph = shift)
        {
            var job = Job.Begin(Kind.GradientSums, batch, channels, spatial, activation);
            job.X = px; job.Dy = pd; job.Center = pc; job.SumGrad = ps; job.SumGradCentered = pk; job.Scale = pa; job.Shift = ph;
            job.Run();
        }
    }

    /// <summary>
    /// dx = beta·dx + gradScale[c]·dy + (x − center[c])·centeredScale[c] + offset[c]: the closed-form
    /// input gradient, dx = (γ/σ)·(dy − Σdy/M − x̂·Σ(dy·x̂)/M), with its per-channel factors folded.
    /// With an <paramref name="activation"/>, dy is gradOutput·act'(y) as in <see cref="GradientSums"/>.
    /// </summary>
    public static void InputGradient(ReadOnlySpan<float> x, ReadOnlySpan<float> gradOutput, int batch, int channels, int spatial,
        ReadOnlySpan<float> center, ReadOnlySpan<float> gradScale, ReadOnlySpan<float> centeredScale, ReadOnlySpan<float> offset,
        float beta, Span<float> gradInput,
        FusedActivation activation = FusedActivation.None, ReadOnlySpan<float> scale = default, ReadOnlySpan<float> shift = default)
    {
        Validate("InputGradient", x.Length, batch, channels, spatial, activation);
        if (activation != FusedActivation.None) PerChannel("InputGradient", channels, scale.Length, shift.Length, shift.Length);
        PerChannel("InputGradient", channels, center.Length, gradScale.Length, centeredScale.Length);
        PerChannel("InputGradient", channels, offset.Length, offset.Length, offset.Length);
        if (gradOutput.Length < x.Length || gradInput.Length < x.Length)
            throw new ArgumentException($"InputGradient: the gradients hold {gradOutput.Length} and {gradInput.Length} values, the input {x.Length}.");
        fixed (float* px = x, pd = gradOutput, pc = center, pk = gradScale, pp = centeredScale, pq = offset, pg = gradInput, pa = scale, ph = shift)
        {
            var job = Job.Begin(Kind.InputGradient, batch, channels, spatial, activation);
            job.X = px; job.Dy = pd; job.Center = pc; job.GradScale = pk; job.CenteredScale = pp; job.Offset = pq; job.Dx = pg; job.Beta = beta;
            job.Scale = pa; job.Shift = ph;
            job.Run();
        }
    }

    /// <summary>
    /// The whole forward pass, channel by channel (so a channel's second read comes from cache
    /// rather than memory): with <paramref name="batchStatistics"/>, <see cref="Statistics"/> into
    /// mean, meanResidual, variance and invStd; else those (variance aside) are given, e.g. from the
    /// running statistics. Then scale[c] = γ[c]·invStd[c] and shift[c] = β[c] − meanResidual[c]·scale[c]
    /// (γ = 1 and β = 0 where <paramref name="weight"/> or <paramref name="bias"/> is empty) and
    /// y = act((x − mean[c])·scale[c] + shift[c]) as <see cref="Normalize"/>.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> x, int batch, int channels, int spatial, float eps, bool batchStatistics,
        ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> mean, Span<float> meanResidual, Span<float> variance,
        Span<float> invStd, Span<float> scale, Span<float> shift, Span<float> y, FusedActivation activation = FusedActivation.None)
    {
        Validate("Forward", x.Length, batch, channels, spatial, activation);
        PerChannel("Forward", channels, mean.Length, meanResidual.Length, variance.Length);
        PerChannel("Forward", channels, invStd.Length, scale.Length, shift.Length);
        PerChannel("Forward", channels, weight.IsEmpty ? channels : weight.Length, bias.IsEmpty ? channels : bias.Length, channels);
        if (y.Length < x.Length) throw new ArgumentException($"Forward: the output holds {y.Length} values, the input {x.Length}.");
        fixed (float* px = x, pw = weight, pb = bias, pm = mean, pr = meanResidual, pv = variance, pi = invStd, ps = scale, ph = shift, py = y)
        {
            var job = Job.Begin(Kind.Forward, batch, channels, spatial, activation);
            job.X = px; job.Weight = weight.IsEmpty ? null : pw; job.Bias = bias.IsEmpty ? null : pb;
            job.Center = pm; job.Residual = pr; job.Variance = pv; job.InvStd = pi; job.Scale = ps; job.Shift = ph; job.Y = py;
            job.Eps = eps; job.BatchStatistics = batchStatistics;
            job.Run();
        }
    }

    /// <summary>
    /// The whole backward pass of <see cref="Forward"/>, channel by channel: g = gradOutput (times
    /// act'(y) with an activation), sumGrad[c] = Σ g and sumGradCentered[c] = Σ g·(x − μ) with
    /// μ = mean + meanResidual (both skipped when empty, allowed without batch statistics), then
    /// dx = beta·dx + scale·g + (x − mean)·centeredScale + offset (skipped when gradInput is empty):
    /// the closed form dx = (γ/σ)·(g − Σg/M − x̂·Σ(g·x̂)/M) with batch statistics (which depend on x),
    /// dx = (γ/σ)·g without. The per-channel factors are written to centeredScale and offset.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> gradOutput, int batch, int channels, int spatial, bool batchStatistics,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> meanResidual, ReadOnlySpan<float> invStd, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift,
        Span<float> sumGrad, Span<float> sumGradCentered, Span<float> centeredScale, Span<float> offset, float beta, Span<float> gradInput,
        FusedActivation activation = FusedActivation.None)
    {
        Validate("Backward", x.Length, batch, channels, spatial, activation);
        PerChannel("Backward", channels, mean.Length, meanResidual.Length, invStd.Length);
        PerChannel("Backward", channels, scale.Length, shift.Length, Math.Min(centeredScale.Length, offset.Length));
        bool sums = !sumGrad.IsEmpty || !sumGradCentered.IsEmpty;
        if (sums) PerChannel("Backward", channels, sumGrad.Length, sumGradCentered.Length, channels);
        else if (batchStatistics && !gradInput.IsEmpty) throw new ArgumentException("Backward: the input gradient with batch statistics needs the gradient sums.");
        if (gradOutput.Length < x.Length || (!gradInput.IsEmpty && gradInput.Length < x.Length))
            throw new ArgumentException($"Backward: the gradients hold {gradOutput.Length} and {gradInput.Length} values, the input {x.Length}.");
        fixed (float* px = x, pd = gradOutput, pm = mean, pr = meanResidual, pi = invStd, pa = scale, ph = shift, ps = sumGrad, pk = sumGradCentered, pp = centeredScale, pq = offset, pg = gradInput)
        {
            var job = Job.Begin(Kind.Backward, batch, channels, spatial, activation);
            job.X = px; job.Dy = pd; job.Center = pm; job.Residual = pr; job.InvStd = pi; job.Scale = pa; job.GradScale = pa; job.Shift = ph;
            job.SumGrad = sums ? ps : null; job.SumGradCentered = pk; job.CenteredScale = pp; job.Offset = pq;
            job.Dx = gradInput.IsEmpty ? null : pg; job.Beta = beta; job.BatchStatistics = batchStatistics;
            job.Run();
        }
    }

    static void Validate(string op, int length, int batch, int channels, int spatial, FusedActivation activation = FusedActivation.None)
    {
        if (batch < 0 || channels < 1 || spatial < 1 || length < (long)batch * channels * spatial)
            throw new ArgumentException($"{op}: [{batch}, {channels}, {spatial}] needs {(long)batch * channels * spatial} values (batch >= 0, channels and spatial >= 1), got {length}.");
        if (activation != FusedActivation.None && spatial == 1)
            throw new ArgumentException($"{op}: a fused activation needs planes (spatial > 1), got [{batch}, {channels}, 1]; apply the activation separately.");
    }

    static void PerChannel(string op, int channels, int a, int b, int c)
    {
        if (a < channels || b < channels || c < channels)
            throw new ArgumentException($"{op}: every per-channel vector needs {channels} values, got {a}, {b} and {c}.");
    }

    enum Kind { Statistics, Normalize, GradientSums, InputGradient, Forward, Backward }

    /// <summary>An activation applied in the normalisation's own pass: its value, and its slope
    /// at y times the incoming gradient.</summary>
    interface IActivation
    {
        Vector<float> Forward(Vector<float> y);
        float Forward(float y);
        Vector<float> Backward(Vector<float> y, Vector<float> gradOutput);
        float Backward(float y, float gradOutput);
    }

    readonly struct NoActivation : IActivation
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector<float> Forward(Vector<float> y) => y;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Forward(float y) => y;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector<float> Backward(Vector<float> y, Vector<float> gradOutput) => gradOutput;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Backward(float y, float gradOutput) => gradOutput;
    }

    // Like TensorPrimitives.Max(y, 0): NaN stays NaN, so the anomaly checks still see it.
    readonly struct ReluActivation : IActivation
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector<float> Forward(Vector<float> y) => Vector.ConditionalSelect(Vector.LessThan(y, Vector<float>.Zero), Vector<float>.Zero, y);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Forward(float y) => y < 0f ? 0f : y;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector<float> Backward(Vector<float> y, Vector<float> gradOutput) => Vector.ConditionalSelect(Vector.GreaterThan(y, Vector<float>.Zero), gradOutput, Vector<float>.Zero);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Backward(float y, float gradOutput) => y > 0f ? gradOutput : 0f;
    }

    readonly struct HardSwishActivation : IActivation
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector<float> Forward(Vector<float> y) => default(Elementwise.HardSwishOperator).Invoke(y, y);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Forward(float y) => default(Elementwise.HardSwishOperator).Invoke(y, y);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector<float> Backward(Vector<float> y, Vector<float> gradOutput) => default(Elementwise.HardSwishBackwardOperator).Invoke(y, gradOutput);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Backward(float y, float gradOutput) => default(Elementwise.HardSwishBackwardOperator).Invoke(y, gradOutput);
    }

    /// <summary>One call's arguments as raw pointers (pinned by the caller while the tasks run);
    /// the tasks take fixed ranges of channels.</summary>
    sealed class Job : ParallelJob
    {
        Kind kind;
        int batch, channels, spatial, tasks;
        public float* X, Y, Dy, Dx;                                   // [batch, channels, spatial]
        public float* Center, Residual, Variance, InvStd, Scale, Shift; // per channel
        public float* SumGrad, SumGradCentered, GradScale, CenteredScale, Offset, Weight, Bias;
        public float Eps, Beta;
        public bool BatchStatistics;
        FusedActivation Activation;

        public static Job Begin(Kind kind, int batch, int channels, int spatial, FusedActivation activation = FusedActivation.None)
        {
            var job = ForThisThread<Job>();
            (job.kind, job.batch, job.channels, job.spatial, job.Activation) = (kind, batch, channels, spatial, activation);
            long work = (long)batch * channels * spatial;
            job.tasks = work < ParallelThreshold ? 1 : Math.Min(Workers.Count, channels);
            return job;
        }

        public void Run()
        {
            try
            {
                Run(tasks);
            }
            finally
            {
                X = Y = Dy = Dx = Center = Residual = Variance = InvStd = Scale = Shift = SumGrad = SumGradCentered = GradScale = CenteredScale = Offset = Weight = Bias = null;
            }
        }

        protected override void RunTask(int task)
        {
            var (first, end) = Share(channels, task);
            if (first == end) return;
            if (spatial == 1)
            {
                switch (kind)
                {
                    case Kind.Statistics: RowStatistics(first, end); break;
                    case Kind.Normalize: RowNormalize(first, end); break;
                    case Kind.GradientSums: RowGradientSums(first, end); break;
                    case Kind.InputGradient: RowInputGradient(first, end); break;
                    case Kind.Forward:
                        if (BatchStatistics) RowStatistics(first, end);
                        for (int c = first; c < end; c++) Affine(c);
                        RowNormalize(first, end);
                        break;
                    case Kind.Backward:
                        if (SumGrad != null) RowGradientSums(first, end);
                        for (int c = first; c < end; c++) InputGradientFactors(c);
                        if (Dx != null) RowInputGradient(first, end);
                        break;
                }
                return;
            }
            switch (Activation)
            {
                case FusedActivation.None: Planes<NoActivation>(first, end); break;
                case FusedActivation.Relu: Planes<ReluActivation>(first, end); break;
                case FusedActivation.HardSwish: Planes<HardSwishActivation>(first, end); break;
            }
        }

        // ---- spatial > 1: channel c is the runs (n, c) of `spatial` contiguous floats ----

        void Planes<TActivation>(int first, int end) where TActivation : struct, IActivation
        {
            for (int c = first; c < end; c++)
            {
                switch (kind)
                {
                    case Kind.Statistics: PlaneStatistics(c); break;
                    case Kind.Normalize: PlaneNormalize<TActivation>(c); break;
                    case Kind.GradientSums: PlaneGradientSums<TActivation>(c); break;
                    case Kind.InputGradient: PlaneInputGradient<TActivation>(c); break;
                    case Kind.Forward:
                        if (BatchStatistics) PlaneStatistics(c);
                        Affine(c);
                        PlaneNormalize<TActivation>(c);
                        break;
                    case Kind.Backward:
                        if (SumGrad != null) PlaneGradientSums<TActivation>(c);
                        InputGradientFactors(c);
                        if (Dx != null) PlaneInputGradient<TActivation>(c);
                        break;
                }
            }
        }

        /// <summary>scale = γ/σ and shift = β − residual·scale: (x − μ)·γ/σ + β = (x − center)·scale + shift.</summary>
        void Affine(int c)
        {
            float scale = (Weight != null ? Weight[c] : 1f) * InvStd[c];
            Scale[c] = scale;
            Shift[c] = (Bias != null ? Bias[c] : 0f) - Residual[c] * scale;
        }

        /// <summary>
        /// Σ g·(x − μ) from the sum about the float center, then dx's factors: with k = γ/σ,
        /// p = −k·Σ(g·x̂)/(M·σ) and q = −k·Σg/M with batch statistics, p = q = 0 without;
        /// (x − μ)·p + q = (x − center)·p + (q − residual·p).
        /// </summary>
        void InputGradientFactors(int c)
        {
            if (SumGrad != null) SumGradCentered[c] -= Residual[c] * SumGrad[c];
            if (!BatchStatistics)
            {
                CenteredScale[c] = Offset[c] = 0f;
                return;
            }
            double count = (double)batch * spatial, k = Scale[c], s = InvStd[c];
            double p = -k * SumGradCentered[c] * s * s / count;
            CenteredScale[c] = (float)p;
            Offset[c] = (float)(-k * SumGrad[c] / count - Residual[c] * p);
        }

        float* Run(float* data, int n, int c) => data + ((long)n * channels + c) * spatial;

        /// <summary>
        /// One read of the channel from memory: each run's mean (summed in double) and its squared
        /// deviations (read again while the run is still in cache), merged run by run with Chan,
        /// Golub and LeVeque's update, M2 += M2ᵣ + δ²·count·countᵣ/(count + countᵣ).
        /// </summary>
        void PlaneStatistics(int c)
        {
            double count = 0, mean = 0, squares = 0;
            for (int n = 0; n < batch; n++)
            {
                float* run = Run(X, n, c);
                double runMean = SumInDouble(run, spatial) / spatial;
                float runCenter = (float)runMean;
                double offCenter = runMean - runCenter;
                // Σ(x − μᵣ)² = Σ(x − m)² − countᵣ·(μᵣ − m)² for the float m near the exact run mean μᵣ.
                double runSquares = Math.Max(SumOfSquaredDeviations(run, spatial, runCenter) - spatial * offCenter * offCenter, 0);
                double total = count + spatial, delta = runMean - mean;
                mean += delta * spatial / total;
                squares += runSquares + delta * delta * (count * spatial / total);
                count = total;
            }
            float center = (float)mean;
            Center[c] = center;
            Residual[c] = (float)(mean - center);
            double variance = squares / count;
            Variance[c] = (float)variance;
            InvStd[c] = (float)(1.0 / Math.Sqrt(variance + Eps));
        }

        /// <summary>Σ values, each float widened to double (exact) before it is added.</summary>
        static double SumInDouble(float* values, int length)
        {
            var low = Vector<double>.Zero;
            var high = Vector<double>.Zero;
            int i = 0;
            for (; i <= length - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector.Widen(Vector.Load(values + i), out var lower, out var upper);
                low += lower;
                high += upper;
            }
            double sum = Vector.Sum(low + high);
            for (; i < length; i++) sum += values[i];
            return sum;
        }

        /// <summary>Σ(x − center)²: float sums over Chunk values (all terms positive, so a float
        /// sum of a few dozen per lane loses nothing that matters), added up in double.</summary>
        static double SumOfSquaredDeviations(float* values, int length, float center)
        {
            var centers = new Vector<float>(center);
            double sum = 0;
            for (int start = 0; start < length; start += Chunk)
            {
                int end = Math.Min(length, start + Chunk), i = start;
                var squares = Vector<float>.Zero;
                for (; i <= end - Vector<float>.Count; i += Vector<float>.Count)
                {
                    var deviation = Vector.Load(values + i) - centers;
                    squares += deviation * deviation;
                }
                float part = Vector.Sum(squares);
                for (; i < end; i++)
                {
                    float deviation = values[i] - center;
                    part += deviation * deviation;
                }
                sum += part;
            }
            return sum;
        }

        // The backward passes recompute y = (x − center)·scale + shift for the activation's slope
        // with the forward pass's operations (never fused into an FMA), so the slope is the one the
        // forward pass saw, bitwise. Without an activation y is not needed (scale and shift may be absent).
        (float Center, float Scale, float Shift) Recomputed<TActivation>(int c) where TActivation : struct, IActivation =>
            typeof(TActivation) == typeof(NoActivation) ? (Center[c], 0f, 0f) : (Center[c], Scale[c], Shift[c]);

        void PlaneNormalize<TActivation>(int c) where TActivation : struct, IActivation
        {
            var activation = default(TActivation);
            float center = Center[c], scale = Scale[c], shift = Shift[c];
            Vector<float> centers = new(center), scales = new(scale), shifts = new(shift);
            for (int n = 0; n < batch; n++)
            {
                float* x = Run(X, n, c), y = Run(Y, n, c);
                int i = 0;
                for (; i <= spatial - Vector<float>.Count; i += Vector<float>.Count)
                    activation.Forward((Vector.Load(x + i) - centers) * scales + shifts).Store(y + i);
                for (; i < spatial; i++) y[i] = activation.Forward((x[i] - center) * scale + shift);
            }
        }

        /// <summary>Σ g and Σ g·(x − center) with g = the gradient reaching the normalised value
        /// (dy, or dy·act'(y) with an activation), as float sums over Chunk values added up in double.</summary>
        void PlaneGradientSums<TActivation>(int c) where TActivation : struct, IActivation
        {
            var activation = default(TActivation);
            var (center, scale, shift) = Recomputed<TActivation>(c);
            Vector<float> centers = new(center), scales = new(scale), shifts = new(shift);
            double sumGrad = 0, sumGradCentered = 0;
            for (int n = 0; n < batch; n++)
            {
                float* x = Run(X, n, c), dy = Run(Dy, n, c);
                for (int start = 0; start < spatial; start += Chunk)
                {
                    int end = Math.Min(spatial, start + Chunk), i = start;
                    var grads = Vector<float>.Zero;
                    var gradsCentered = Vector<float>.Zero;
                    for (; i <= end - Vector<float>.Count; i += Vector<float>.Count)
                    {
                        var deviation = Vector.Load(x + i) - centers;
                        var grad = activation.Backward(deviation * scales + shifts, Vector.Load(dy + i));
                        grads += grad;
                        gradsCentered += grad * deviation;
                    }
                    float partGrad = Vector.Sum(grads), partGradCentered = Vector.Sum(gradsCentered);
                    for (; i < end; i++)
                    {
                        float deviation = x[i] - center;
                        float grad = activation.Backward(deviation * scale + shift, dy[i]);
                        partGrad += grad;
                        partGradCentered += grad * deviation;
                    }
                    sumGrad += partGrad;
                    sumGradCentered += partGradCentered;
                }
            }
            SumGrad[c] = (float)sumGrad;
            SumGradCentered[c] = (float)sumGradCentered;
        }

        void PlaneInputGradient<TActivation>(int c) where TActivation : struct, IActivation
        {
            var activation = default(TActivation);
            var (center, scale, shift) = Recomputed<TActivation>(c);
            float gradScale = GradScale[c], centeredScale = CenteredScale[c], offset = Offset[c];
            Vector<float> centers = new(center), scales = new(scale), shifts = new(shift);
            Vector<float> gradScales = new(gradScale), centeredScales = new(centeredScale), offsets = new(offset);
            bool accumulate = Beta != 0f;
            for (int n = 0; n < batch; n++)
            {
                float* x = Run(X, n, c), dy = Run(Dy, n, c), dx = Run(Dx, n, c);
                int i = 0;
                for (; i <= spatial - Vector<float>.Count; i += Vector<float>.Count)
                {
                    var deviation = Vector.Load(x + i) - centers;
                    var grad = activation.Backward(deviation * scales + shifts, Vector.Load(dy + i));
                    var result = grad * gradScales + deviation * centeredScales + offsets;
                    (accumulate ? Vector.Load(dx + i) + result : result).Store(dx + i);
                }
                for (; i < spatial; i++)
                {
                    float deviation = x[i] - center;
                    float grad = activation.Backward(deviation * scale + shift, dy[i]);
                    float result = grad * gradScale + deviation * centeredScale + offset;
                    dx[i] = accumulate ? dx[i] + result : result;
                }
            }
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
