using System.Diagnostics;
using System.Globalization;

namespace Sinapse.Cli;

/// <summary>The process's peak resident memory, which <c>train</c> and <c>transfer</c> print when they finish.</summary>
internal static class PeakMemory
{
    /// <summary>The most physical memory the process has held at once (Linux's VmHWM), in megabytes.</summary>
    public static long Megabytes
    {
        get
        {
            using var process = Process.GetCurrentProcess();
            return process.PeakWorkingSet64 >> 20;
        }
    }

    public static string Describe() => string.Create(CultureInfo.InvariantCulture, $"peak resident memory: {Megabytes:N0} MB");
}
