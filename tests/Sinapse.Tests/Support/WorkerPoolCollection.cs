namespace Sinapse.Tests.Support;

/// <summary>
/// Tests that resize the process-wide worker pool (Workers.Count) or count the bytes a kernel
/// allocates: they run alone, after the parallel tests, so no other test's kernels share the pool
/// with them and their figures are their own.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class WorkerPoolCollection
{
    public const string Name = "Global worker pool";
}
