using Sinapse.Data;

namespace Sinapse.Cli;

/// <summary>Turns the library's errors about bad input into one readable line and exit code 1, without a stack trace.</summary>
internal static class CommandErrors
{
    public static int Run(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or IOException or UnauthorizedAccessException or InvalidOperationException or FormatException or NotSupportedException)
        {
            Console.Out.Flush();
            // One bounded line whatever the message quotes: an argument can be megabytes long.
            Console.Error.WriteLine($"error: {Sinapse.IO.InputFile.OneLine(e.Message)}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("cancelled");
            return 130;
        }
    }
}
