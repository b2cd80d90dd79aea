using System.Globalization;
using System.Text;
using Spectre.Console;

namespace Sinapse.Cli.Experiments;

/// <summary>
/// An experiment's report: Markdown (report.md) with the tables, the plots embedded and the
/// paragraphs that read them, the CSV files of raw numbers beside it, and the key figures for
/// tests and docs. Tables also go to the terminal as they are added.
/// </summary>
internal sealed class Report
{
    private readonly StringBuilder markdown = new();

    public Report(string directory, string title)
    {
        Directory = directory;
        Title = title;
        System.IO.Directory.CreateDirectory(directory);
        markdown.Append("# ").AppendLine(title).AppendLine();
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(title)}[/]");
    }

    public string Directory { get; }
    public string Title { get; }

    /// <summary>The numbers that matter, by name (tests and docs read them).</summary>
    public Dictionary<string, double> Figures { get; } = [];

    /// <summary>Every file written, relative to <see cref="Directory"/>.</summary>
    public List<string> Files { get; } = [];

    public string PathOf(string file) => System.IO.Path.Combine(Directory, file);

    public void Heading(string text) => markdown.Append("## ").AppendLine(text).AppendLine();

    /// <summary>A paragraph of Markdown, also printed.</summary>
    public void Text(string text)
    {
        markdown.AppendLine(text).AppendLine();
        Console.WriteLine(text);
        Console.WriteLine();
    }

    /// <summary>A preformatted block (matrices), also printed.</summary>
    public void Code(string text)
    {
        markdown.AppendLine("```").AppendLine(text.TrimEnd()).AppendLine("```").AppendLine();
        Console.WriteLine(text.TrimEnd());
        Console.WriteLine();
    }

    public void Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        var list = rows.ToList();
        var table = new Table().AddColumns(header.Select(h => Markup.Escape(h)).ToArray());
        foreach (var row in list) table.AddRow(row.Select(c => Markup.Escape(c)).ToArray());
        AnsiConsole.Write(table);
        markdown.Append("| ").AppendJoin(" | ", header).AppendLine(" |");
        markdown.Append('|').AppendJoin("", header.Select(_ => "---|")).AppendLine();
        foreach (var row in list) markdown.Append("| ").AppendJoin(" | ", row).AppendLine(" |");
        markdown.AppendLine();
    }

    /// <summary>Embeds a PNG already written to <paramref name="file"/> in the report.</summary>
    public void Image(string file, string caption)
    {
        Files.Add(file);
        markdown.Append("![").Append(caption).Append("](").Append(file).AppendLine(")").AppendLine();
    }

    /// <summary>Writes raw numbers as CSV (invariant culture) and links them from the report.</summary>
    public void Csv(string file, string header, IEnumerable<IEnumerable<object?>> rows)
    {
        var text = new StringBuilder(header).Append('\n');
        foreach (var row in rows) text.AppendJoin(',', row.Select(Format)).Append('\n');
        File.WriteAllText(PathOf(file), text.ToString());
        Files.Add(file);
        markdown.Append("Raw numbers: [").Append(file).Append("](").Append(file).AppendLine(").").AppendLine();
    }

    public void Save()
    {
        File.WriteAllText(PathOf("report.md"), markdown.ToString());
        Console.WriteLine($"report: {PathOf("report.md")}");
    }

    private static string Format(object? value) => value switch
    {
        null => "",
        double d => d.ToString("G7", CultureInfo.InvariantCulture),
        float f => f.ToString("G7", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString()!.Contains(',') ? $"\"{value}\"" : value.ToString()!,
    };
}
