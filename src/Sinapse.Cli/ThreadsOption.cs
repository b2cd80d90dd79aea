using System.CommandLine;
using Sinapse.Kernels;

namespace Sinapse.Cli;

/// <summary>The <c>--threads</c> option every training command takes, and its one check.</summary>
internal static class ThreadsOption
{
    public static Option<int> Create() => new("--threads") { Description = "Worker threads (default: all processors).", DefaultValueFactory = _ => Environment.ProcessorCount };

    /// <summary>Sizes the worker pool, naming the option when the count is not usable.</summary>
    public static void Apply(ParseResult parse, Option<int> option)
    {
        int threads = parse.GetValue(option);
        if (threads < 1) throw new ArgumentException($"--threads must be at least 1, got {threads}.");
        Workers.Count = threads;
    }
}
