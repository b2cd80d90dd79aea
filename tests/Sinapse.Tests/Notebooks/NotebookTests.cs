using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Events;
using Xunit.Abstractions;

namespace Sinapse.Tests.Notebooks;

/// <summary>
/// Runs every notebook in notebooks/ top to bottom in a C# kernel, as Polyglot Notebooks would, and
/// fails on the first cell that does not compile or throws. The only change made to a notebook is to
/// its package references: instead of restoring Sinapse from packages built with `dotnet pack`, the
/// kernel references the assemblies this test was built against.
/// </summary>
public sealed partial class NotebookTests(ITestOutputHelper output)
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Notebooks");

    public static TheoryData<string> Notebooks => [.. Directory.GetFiles(Folder, "*.ipynb").Select(path => Path.GetFileName(path)).Order()];

    [Fact]
    public void Every_topic_of_the_course_has_a_notebook() => Assert.Equal(8, Notebooks.Count);

    [Theory]
    [MemberData(nameof(Notebooks))]
    public async Task Runs_clean_from_top_to_bottom(string notebook)
    {
        var cells = CodeCells(Path.Combine(Folder, notebook));
        using var kernel = new CSharpKernel();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < cells.Count; i++)
        {
            var result = await kernel.SendAsync(new SubmitCode(WithLocalReferences(cells[i])));
            foreach (var e in result.Events)
            {
                if (e is StandardOutputValueProduced printed) output.WriteLine(printed.FormattedValues.First().Value.TrimEnd());
                if (e is CommandFailed failed) Assert.Fail($"{notebook}, code cell {i + 1}: {failed.Message}");
            }
        }
        output.WriteLine($"{notebook}: {cells.Count} code cells in {clock.Elapsed.TotalSeconds:F1} s");
    }

    private static List<string> CodeCells(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return [.. document.RootElement.GetProperty("cells").EnumerateArray()
            .Where(cell => cell.GetProperty("cell_type").GetString() == "code")
            .Select(cell => string.Concat(cell.GetProperty("source").EnumerateArray().Select(line => line.GetString())))];
    }

    /// <summary>
    /// The notebook's `#i "nuget: …"` source goes, each `#r "nuget: NAME, VERSION"` becomes a reference
    /// to NAME's assemblies beside this test, and `#load "helpers.csx"` loads the copy beside them.
    /// </summary>
    private static string WithLocalReferences(string cell)
    {
        cell = PackageSource().Replace(cell, "");
        cell = PackageReference().Replace(cell, match => string.Join('\n', Assemblies(match.Groups["name"].Value).Select(a => $"#r \"{Path.Combine(AppContext.BaseDirectory, a)}\"")));
        return cell.Replace("#load \"helpers.csx\"", $"#load \"{Path.Combine(Folder, "helpers.csx")}\"");
    }

    private static string[] Assemblies(string package) => package switch
    {
        "Sinapse.Vision" => ["Sinapse.dll", "Sinapse.Vision.dll", "SkiaSharp.dll"],
        "ScottPlot" => ["ScottPlot.dll"],
        _ => throw new InvalidOperationException($"The notebooks' tests know no package '{package}'; add its assemblies to NotebookTests.Assemblies."),
    };

    [GeneratedRegex(@"^#i ""nuget:[^""]*""[^\n]*$", RegexOptions.Multiline)]
    private static partial Regex PackageSource();

    [GeneratedRegex(@"^#r ""nuget:\s*(?<name>[A-Za-z0-9.]+)[^""]*""[^\n]*$", RegexOptions.Multiline)]
    private static partial Regex PackageReference();
}
