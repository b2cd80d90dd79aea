using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Sinapse.Cli;

/// <summary>
/// A command line that does not parse, reported as one line naming the option, what it expects in
/// plain words and what was given, instead of System.CommandLine's type names and the whole help.
/// </summary>
internal static class ParseErrors
{
    /// <summary>Writes the first parse error to stderr as <c>error: …</c> and returns exit code 1.</summary>
    public static int Report(ParseResult parse)
    {
        var command = string.Join(' ', CommandPath(parse.CommandResult));
        // A value of the wrong kind says more than the missing options it hides.
        var error = parse.Errors.FirstOrDefault(e => WrongValue(e) != null) ?? parse.Errors[0];
        Console.Error.WriteLine($"error: {Describe(error)} (see 'sinapse {command}{(command.Length > 0 ? " " : "")}--help')");
        return 1;
    }

    /// <summary>The error in plain words.</summary>
    internal static string Describe(ParseError error) => WrongValue(error) ?? IO.InputFile.OneLine(error.Message);

    /// <summary>"--lr expects a number, found 'abc'." for a value the option's type refuses; null for other errors.</summary>
    private static string? WrongValue(ParseError error)
    {
        var option = error.SymbolResult switch
        {
            OptionResult result => result,
            ArgumentResult { Parent: OptionResult result } => result,
            _ => null,
        };
        // The option's tokens are what was typed after it; none means the value is missing, which the library's message says.
        if (option is not { Tokens.Count: > 0 } || Expected(option.Option.ValueType) is not var (expected, parses)) return null;
        var refused = option.Tokens.FirstOrDefault(t => !parses(t.Value));
        return refused == null ? null : $"{option.Option.Name} expects {expected}, found {IO.InputFile.Quote(refused.Value, 60)}.";
    }

    /// <summary>What a value of <paramref name="type"/> is called on a command line and how to recognise one; null for text, which every token is.</summary>
    private static (string Name, Func<string, bool> Parses)? Expected(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        var culture = CultureInfo.InvariantCulture;
        if (type == typeof(float) || type == typeof(double)) return ("a number (such as 0.01 or 1e-3)", t => double.TryParse(t, NumberStyles.Float, culture, out _));
        if (type == typeof(int)) return ("a whole number", t => int.TryParse(t, NumberStyles.Integer, culture, out _));
        if (type == typeof(ulong)) return ("a whole number of 0 or more", t => ulong.TryParse(t, NumberStyles.None, culture, out _));
        if (type == typeof(bool)) return ("true or false", t => bool.TryParse(t, out _));
        return null;
    }

    private static IEnumerable<string> CommandPath(CommandResult? result)
    {
        var names = new Stack<string>();
        for (var current = result; current?.Parent is CommandResult parent; current = parent) names.Push(current.Command.Name);
        return names;
    }
}
