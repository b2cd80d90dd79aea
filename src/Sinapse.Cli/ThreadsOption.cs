using System.CommandLine;
using Sinapse.Kernels;

namespace Sinapse.Cli;

/// <summary>The <c>--threads</c> option every training command takes, and its one check.</summary>
internal static class ThreadsOption
{
    /// <summary>More threads than this per processor only wait for one another: each kernel's work is split that many ways.</summary>
    public const int MaxPerProcessor = 4;

    public static Option<int> Create() => new("--threads") { Description = $"Worker threads (default: all processors; at most {MaxPerProcessor} per processor).", DefaultValueFactory = _ => Environment.ProcessorCount };

    /// <summary>Sizes the worker pool, naming the option when the count is not usable.</summary>
    public static void Apply(ParseResult parse, Option<int> option)
    {
        int threads = parse.GetValue(option);
        int most = MaxPerProcessor * Environment.ProcessorCount;
        if (threads < 1 || threads > most)
            throw new ArgumentException($"--threads must be 1 to {most} ({MaxPerProcessor} per processor on this machine's {Environment.ProcessorCount}), got {threads}.");
        Workers.Count = threads;
    }
}
