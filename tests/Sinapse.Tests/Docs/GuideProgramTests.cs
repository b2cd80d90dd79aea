using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Sinapse.Cli;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Docs;

/// <summary>
/// docs/guide.md as a user's own program: every C# snippet, in the order the guide shows them,
/// compiled into one console program (usings first, then the statements, then the types, as C#
/// requires) against the library and run in a new process from an empty directory.
/// </summary>
public class GuideProgramTests
{
    /// <summary>The namespaces a new console project imports itself (ImplicitUsings).</summary>
    private static readonly string[] ImplicitUsings = ["System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Net.Http", "System.Threading", "System.Threading.Tasks"];

    /// <summary>The guide's C# snippets joined into one program.</summary>
    internal static string Program(string guide)
    {
        var usings = ImplicitUsings.Select(name => $"global using {name};").ToList();
        var statements = new StringBuilder();
        var types = new StringBuilder();
        foreach (Match block in Regex.Matches(guide, @"^```csharp\n(.*?)^```", RegexOptions.Singleline | RegexOptions.Multiline))
        {
            var root = (CompilationUnitSyntax)CSharpSyntaxTree.ParseText(block.Groups[1].Value).GetRoot();
            usings.AddRange(root.Usings.Select(u => u.ToString()).Where(u => !usings.Contains(u)));
            foreach (var member in root.Members) (member is GlobalStatementSyntax ? statements : types).Append(member.ToFullString()).Append('\n');
        }
        return string.Join('\n', usings) + "\n\n" + statements + "\n" + types;
    }

    [Fact]
    public void TheGuideRunsInSequenceAsOneProgram()
    {
        var program = Program(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Docs", "guide.md")));
        var tree = CSharpSyntaxTree.ParseText(program, new CSharpParseOptions(LanguageVersion.Latest), "Guide.cs");
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator).Select(path => MetadataReference.CreateFromFile(path));
        var compilation = CSharpCompilation.Create("guide", [tree], references,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));

        // The program sits beside the library so the host finds it (an app without deps.json loads what its folder holds); it runs in a directory of its own.
        var name = "guide-" + Guid.NewGuid().ToString("N");
        var assembly = Path.Combine(AppContext.BaseDirectory, name + ".dll");
        var runtimeConfig = Path.Combine(AppContext.BaseDirectory, name + ".runtimeconfig.json");
        using var work = new TempDirectory();
        try
        {
            var emitted = compilation.Emit(assembly);
            var errors = emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            Assert.True(errors.Count == 0, "the guide's snippets do not compile as one program:\n" + string.Join('\n', errors.Take(10).Select(e =>
                $"{e.GetMessage()} at: {program.Split('\n')[e.Location.GetLineSpan().StartLinePosition.Line].Trim()}")));
            var framework = new System.Text.Json.Nodes.JsonObject { ["name"] = "Microsoft.NETCore.App", ["version"] = $"{Environment.Version.Major}.{Environment.Version.Minor}.0" };
            File.WriteAllText(runtimeConfig, new System.Text.Json.Nodes.JsonObject { ["runtimeOptions"] = new System.Text.Json.Nodes.JsonObject { ["framework"] = framework } }.ToJsonString());
            var start = new ProcessStartInfo(SinapseProcess.Host()) { WorkingDirectory = work.Path, RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(assembly);
            var (exitCode, output, error) = SinapseProcess.Run(start, TimeSpan.FromMinutes(3));
            Assert.True(exitCode == 0, $"the guide's program failed:\n{output}\n{error}");
            Assert.Contains("[8, 10]", output);                        // the residual graph's output shape
            Assert.Contains("History: 3 epochs", output);
            Assert.True(File.Exists(Path.Combine(work.Path, "runs", "my-model", "model.json")));
            Assert.True(File.Exists(Path.Combine(work.Path, "model.onnx")));
        }
        finally
        {
            File.Delete(assembly);
            File.Delete(runtimeConfig);
        }
    }
}
