using Sinapse.Cli;

namespace Sinapse.Tests.Support;

/// <summary>The <c>sinapse</c> command line run as a user runs it, in a new process (<see cref="SinapseProcess"/>).</summary>
internal static class CliRunner
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    public static ProcessResult Run(params string[] arguments) => SinapseProcess.Run(arguments, Timeout);

    /// <summary>Runs a command that must succeed from <paramref name="directory"/> as its working directory; returns its standard output.</summary>
    public static string SucceedIn(string directory, params string[] arguments)
    {
        var start = SinapseProcess.StartInfo(arguments);
        start.WorkingDirectory = directory;
        var (exitCode, output, error) = SinapseProcess.Run(start, Timeout);
        Assert.True(exitCode == 0, $"sinapse {string.Join(' ', arguments)} in {directory} failed:\n{output}\n{error}");
        return output;
    }

    /// <summary>Runs a command that must succeed; returns its standard output.</summary>
    public static string Succeed(params string[] arguments)
    {
        var (exitCode, output, error) = Run(arguments);
        Assert.True(exitCode == 0, $"sinapse {string.Join(' ', arguments)} failed:\n{output}\n{error}");
        return output;
    }

    /// <summary>Runs a command that must fail with one line on stderr (<c>error: …</c>) and no stack trace; returns that line.</summary>
    public static string OneErrorLine(params string[] arguments)
    {
        var (exitCode, _, error) = Run(arguments);
        Assert.NotEqual(0, exitCode);
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one error line, got:\n{error}");
        Assert.DoesNotContain("   at ", error);
        Assert.StartsWith("error:", lines[0]);
        return lines[0];
    }
}
