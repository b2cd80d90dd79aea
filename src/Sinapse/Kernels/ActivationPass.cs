using System.Numerics;
using System.Numerics.Tensors;

namespace Sinapse.Kernels;

/// <summary>
/// The tail of an inference convolution with the activation after it fused in, run on values the
/// kernel has just written: the bias and the ReLU or hard-swish in one sweep per output channel.
/// </summary>
internal static unsafe class ActivationPass
{
    /// <summary>Below this many values the rows are not worth a second thread.</summary>
    const int ParallelThreshold = 1 << 14;

    /// <summary>values = activation(values) in place.</summary>
    public static void Apply(FusedActivation activation, Span<float> values)
    {
        if (activation == FusedActivation.Relu) TensorPrimitives.Max(values, 0f, values);
        else if (activation == FusedActivation.HardSwish) Elementwise.HardSwish(values, values);
    }

    /// <summary>
    /// Row r of <paramref name="rows"/> (<paramref name="rowCount"/> rows of <paramref name="rowLength"/>)
    /// = activation(row + bias[r]), bias null for none. The rows are split across the workers: a
    /// convolution of one image writes them on one thread.
    /// </summary>
    public static void Apply(float* rows, int rowLength, int rowCount, float* bias, FusedActivation activation)
    {
        var job = Job.ForThisThread();
        job.Rows = rows;
        job.Bias = bias;
        (job.RowLength, job.RowCount, job.Activation) = (rowLength, rowCount, activation);
        job.Parts = (long)rowLength * rowCount < ParallelThreshold ? 1 : Math.Min(Workers.Available, rowCount);
        if (job.Parts == 1) job.RunPart(0);
        else Workers.For(job.Parts, job.RunPartDelegate);
    }

    private sealed class Job
    {
        [ThreadStatic] static Job? current;
        public static Job ForThisThread() => current ??= new Job();

        public float* Rows, Bias;
        public int RowLength, RowCount, Parts;
        public FusedActivation Activation;
        public readonly Action<int> RunPartDelegate;

        Job() => RunPartDelegate = RunPart;

        public void RunPart(int part)
        {
            int first = (int)((long)RowCount * part / Parts), last = (int)((long)RowCount * (part + 1) / Parts);
            for (int r = first; r < last; r++)
            {
                float* row = Rows + (nint)r * RowLength;
                float bias = Bias != null ? Bias[r] : 0f;
                if (Activation == FusedActivation.Relu) Sweep<Relu>(row, RowLength, bias);
                else if (Activation == FusedActivation.HardSwish) Sweep<HardSwish>(row, RowLength, bias);
                else if (Bias != null) TensorPrimitives.Add(new Span<float>(row, RowLength), bias, new Span<float>(row, RowLength));
            }
        }
    }

    /// <summary>row[i] = activation(row[i] + bias): the same operations as adding the bias and then applying the activation.</summary>
    static void Sweep<TActivation>(float* row, int length, float bias) where TActivation : struct, IActivation
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var b = new Vector<float>(bias);
            for (; i <= length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var v = Vector.Load(row + i) + b;
                default(TActivation).Invoke(v).Store(row + i);
            }
        }
        for (; i < length; i++) row[i] = default(TActivation).Invoke(row[i] + bias);
    }

    interface IActivation
    {
        Vector<float> Invoke(Vector<float> x);
        float Invoke(float x);
    }

    readonly struct Relu : IActivation
    {
        public Vector<float> Invoke(Vector<float> x) => Vector.Max(x, Vector<float>.Zero);
        public float Invoke(float x) => MathF.Max(x, 0f);
    }

    readonly struct HardSwish : IActivation
    {
        public Vector<float> Invoke(Vector<float> x) => default(Elementwise.HardSwishOperator).Invoke(x, x);
        public float Invoke(float x) => default(Elementwise.HardSwishOperator).Invoke(x, x);
    }
}
