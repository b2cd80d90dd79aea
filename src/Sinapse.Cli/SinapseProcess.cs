using System.Diagnostics;

namespace Sinapse.Cli;

/// <summary>What a finished <c>sinapse</c> child process left: its exit code, stdout and stderr.</summary>
internal sealed record ProcessResult(int ExitCode, string Output, string Error);

/// <summary>
/// The command line run as a new process (<c>dotnet Sinapse.Cli.dll ARGS</c>): the resume experiment
/// restarts training this way so nothing survives in memory between sessions, and the tests drive the
/// commands exactly as a user would.
/// </summary>
internal static class SinapseProcess
{
    /// <summary>The start information for <c>sinapse ARGS</c>, stdout and stderr redirected.</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Host()) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(typeof(SinapseProcess).Assembly.Location);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        return start;
    }

    /// <summary>Runs <c>sinapse ARGS</c> to the end; a run that outlasts <paramref name="timeout"/> is killed and reported.</summary>
    public static ProcessResult Run(IEnumerable<string> arguments, TimeSpan timeout) => Run(StartInfo(arguments), timeout);

    /// <summary>Runs the process <paramref name="start"/> describes (from <see cref="StartInfo"/>, a working directory set, say) to the end.</summary>
    public static ProcessResult Run(ProcessStartInfo start, TimeSpan timeout)
    {
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.FileName}.");
        // Both streams drain while the process runs: a full pipe would otherwise block it.
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"sinapse {string.Join(' ', start.ArgumentList.Skip(1))} did not finish within {timeout.TotalSeconds:F0} s.");
        }
        return new ProcessResult(process.ExitCode, output.Result, error.Result);
    }

    /// <summary>The dotnet host running this process when it is one (so the child gets the same runtime), else the one on PATH.</summary>
    internal static string Host() =>
        Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path).Equals("dotnet", StringComparison.OrdinalIgnoreCase)
            ? path
            : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
}
