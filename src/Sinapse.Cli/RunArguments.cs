using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.Json.Nodes;
using Sinapse.Serialization;

namespace Sinapse.Cli;

/// <summary>
/// A training run's command line, kept in its checkpoints so that <c>--resume</c> continues the
/// run with exactly the options it started with (only the total number of epochs may change).
/// </summary>
internal static class RunArguments
{
    /// <summary>
    /// Without <paramref name="resume"/>, the given arguments; with it, the checkpoint's arguments
    /// (and a new --epochs if one is given) and the checkpoint to restore.
    /// </summary>
    public static (ParseResult Parse, Checkpoint? Resumed) Resolve(Command command, ParseResult given, Option<string?> resume, Option<int> epochs)
    {
        if (given.GetValue(resume) is not string path) return (given, null);
        var others = given.Tokens.Where(t => t.Type == TokenType.Option && t.Value is not ("--resume" or "--epochs" or "--threads" or "--stop-after")).Select(t => t.Value).ToList();
        if (others.Count > 0)
            throw new ArgumentException($"--resume continues the run with its own options; only --epochs, --threads and --stop-after can be given with it, not {string.Join(", ", others)}.");
        var checkpoint = Checkpoint.FindLatest(path);
        var stored = (checkpoint.Extra?["arguments"] as JsonArray)?.Select(a => a!.GetValue<string>()).ToList()
            ?? throw new InvalidDataException($"{checkpoint.Directory} was not written by 'sinapse train' (its manifest has no command line to resume with).");
        foreach (var option in new[] { "--epochs", "--threads", "--stop-after" })
            if (given.Tokens.Any(t => t.Type == TokenType.Option && t.Value == option))
            {
                int at = stored.IndexOf(option);
                if (at >= 0) stored.RemoveRange(at, 2);
                stored.AddRange([option, given.Tokens.SkipWhile(t => t.Value != option).Skip(1).First().Value]);
            }
        var parse = command.Parse(stored);
        if (parse.Errors.Count > 0)
            throw new InvalidDataException($"{checkpoint.Directory}: its command line no longer parses: {parse.Errors[0].Message}");
        return (parse, checkpoint);
    }

    /// <summary>
    /// The arguments to store in a checkpoint: everything but what belongs to one session
    /// (--resume, --stop-after), with each path made absolute, and <paramref name="output"/> as
    /// --out when it was left to its default, so that a resumed run writes where the run began.
    /// </summary>
    public static JsonObject ToJson(ParseResult parse, string output)
    {
        var arguments = new List<string>();
        var tokens = parse.Tokens.Where(t => t.Type != TokenType.Command).ToList();
        for (int i = 0; i < tokens.Count; i++)
        {
            if (tokens[i].Type == TokenType.Option && tokens[i].Value is "--resume" or "--stop-after") { i++; continue; }
            // Absolute, so the run resumes from any working directory.
            bool path = i > 0 && tokens[i].Type == TokenType.Argument && tokens[i - 1].Value is "--data" or "--csv" or "--out";
            arguments.Add(path ? Path.GetFullPath(tokens[i].Value) : tokens[i].Value);
        }
        if (!arguments.Contains("--out")) arguments.AddRange(["--out", Path.GetFullPath(output)]);
        return new JsonObject { ["arguments"] = new JsonArray(arguments.Select(a => (JsonNode)a).ToArray()) };
    }
}
