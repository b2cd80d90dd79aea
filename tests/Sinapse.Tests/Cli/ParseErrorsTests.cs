using Sinapse.Tests.Support;

namespace Sinapse.Tests.Cli;

/// <summary>A command line that does not parse gets one line naming the option, what it expects and what it found: no .NET type names, no help dump.</summary>
public class ParseErrorsTests
{
    [Theory]
    [InlineData(new[] { "train", "--lr", "abc" }, "error: --lr expects a number (such as 0.01 or 1e-3), found 'abc'. (see 'sinapse train --help')")]
    [InlineData(new[] { "train", "--epochs", "2.5" }, "error: --epochs expects a whole number, found '2.5'. (see 'sinapse train --help')")]
    [InlineData(new[] { "train", "--seed", "-1" }, "error: --seed expects a whole number of 0 or more, found '-1'. (see 'sinapse train --help')")]
    [InlineData(new[] { "predict", "--top", "many" }, "error: --top expects a whole number, found 'many'. (see 'sinapse predict --help')")]
    public void AValueOfTheWrongKindIsNamedInPlainWords(string[] arguments, string expected) =>
        Assert.Equal(expected, CliRunner.OneErrorLine(arguments).TrimEnd('\r'));

    [Theory]
    [InlineData(new[] { "train", "--bogus" }, "--bogus")]
    [InlineData(new[] { "train", "--lr" }, "--lr")]
    [InlineData(new[] { "evaluate" }, "--model")]
    public void OtherParseErrorsAreOneLineToo(string[] arguments, string named)
    {
        var line = CliRunner.OneErrorLine(arguments);
        Assert.Contains(named, line);
        Assert.DoesNotContain("System.", line);
    }
}
