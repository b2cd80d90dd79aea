using System.Numerics.Tensors;

namespace Sinapse.Kernels;

/// <summary>
/// The scaffold every parallel kernel runs on: the arguments of one call and the code its tasks
/// run, split into <see cref="Tasks"/> tasks on <see cref="Workers"/>, with optional per-task
/// partial sums that are added into their targets afterwards.
/// </summary>
/// <remarks>
/// <para>Bitwise reproducibility lives here. Task t of n always runs on thread t mod
/// <see cref="Workers.Count"/>, takes the same fixed contiguous share of the work
/// (<see cref="Share(long, int)"/>), and the partial sums are added into their targets in task order, so a
/// reduction depends only on its inputs and the task count, never on timing.</para>
/// <para>A call allocates nothing: each kernel keeps one job per calling thread
/// (<see cref="ForThisThread{TJob}"/>) whose task delegate is made once, and the
/// partial sums come from the tensor pool. The caller pins its buffers for the call's duration
/// (the tasks hold raw pointers into them) and the partial sums stay pinned while the tasks run.</para>
/// </remarks>
internal abstract unsafe class ParallelJob
{
    readonly Action<int> runTask;
    float* partials;
    int partialLength;
    bool running;

    protected ParallelJob() => runTask = RunTask;

    /// <summary>This thread's job of type <typeparamref name="TJob"/>, made on first use and
    /// reused (a kernel called from inside a task gets that worker's own; one called from inside
    /// its own task on this thread, a new one, as the running job's fields are in use).</summary>
    public static TJob ForThisThread<TJob>() where TJob : ParallelJob, new()
    {
        var job = PerThread<TJob>.Job ??= new TJob();
        return job.running ? new TJob() : job;
    }

    static class PerThread<TJob> where TJob : ParallelJob
    {
        [ThreadStatic] public static TJob? Job;
    }

    /// <summary>The number of tasks of the running call.</summary>
    protected int Tasks { get; private set; }

    /// <summary>The work of task <paramref name="task"/> of <see cref="Tasks"/>.</summary>
    protected abstract void RunTask(int task);

    /// <summary>Runs tasks [0, <paramref name="tasks"/>) and returns when all have finished; one
    /// task runs on the calling thread without waking the workers.</summary>
    public void Run(int tasks)
    {
        Tasks = tasks;
        running = true;
        try
        {
            if (tasks == 1) RunTask(0);
            else Workers.For(tasks, runTask);
        }
        finally
        {
            running = false;
        }
    }

    /// <summary>
    /// <see cref="Run(int)"/> with per-task partial sums: task t writes its sums of every output
    /// in <paramref name="sums"/> into <see cref="PartialSums"/>(t), laid out one after the other
    /// in the order given (its contents start as garbage); afterwards each wanted output is set
    /// from the tasks' sums in task order, as its beta says.
    /// </summary>
    public void Run(int tasks, params ReadOnlySpan<PartialSum> sums)
    {
        int length = 0;
        foreach (var sum in sums) length += sum.Length;
        float[] buffer = Tensors.TensorPool.Rent(tasks * length);
        try
        {
            fixed (float* pointer = buffer)
            {
                partials = pointer;
                partialLength = length;
                Run(tasks);
                int offset = 0;
                foreach (var sum in sums)
                {
                    if (sum.Target != null) Combine(sum, offset);
                    offset += sum.Length;
                }
            }
        }
        finally
        {
            partials = null;
            Tensors.TensorPool.Return(buffer);
        }
    }

    /// <summary>Task <paramref name="task"/>'s partial sums while <see cref="Run(int, ReadOnlySpan{PartialSum})"/>
    /// runs; null under <see cref="Run(int)"/>.</summary>
    protected float* PartialSums(int task) => partials == null ? null : partials + (nint)task * partialLength;

    /// <summary>Task <paramref name="task"/>'s share [First, End) of <paramref name="count"/> items:
    /// contiguous, and the same on every run.</summary>
    protected (int First, int End) Share(long count, int task) => Share(count, task, Tasks);

    /// <summary>Part <paramref name="part"/> of <paramref name="parts"/> of <paramref name="count"/>
    /// items, [First, End): the split every parallel loop uses.</summary>
    public static (int First, int End) Share(long count, int part, int parts) =>
        ((int)(count * part / parts), (int)(count * (part + 1) / parts));

    /// <summary>target = beta·target + Σ_t partial_t, summed in task order (beta is 0 or 1; 0 means
    /// the target may hold garbage).</summary>
    void Combine(in PartialSum sum, int offset)
    {
        var target = new Span<float>(sum.Target, sum.Length);
        for (int t = 0; t < Tasks; t++)
        {
            var part = new ReadOnlySpan<float>(partials + (nint)t * partialLength + offset, sum.Length);
            if (t == 0 && sum.Beta == 0f) part.CopyTo(target);
            else TensorPrimitives.Add(target, part, target);
        }
    }
}

/// <summary>One output that the tasks of a <see cref="ParallelJob"/> sum into separately:
/// <paramref name="length"/> floats at <paramref name="target"/> (null when not wanted: its
/// place in the partial sums is kept, but nothing is combined), and the beta to combine with.</summary>
internal readonly unsafe struct PartialSum(float* target, float beta, int length)
{
    public readonly float* Target = target;
    public readonly float Beta = beta;
    public readonly int Length = length;
}
