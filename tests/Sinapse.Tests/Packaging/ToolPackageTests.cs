using System.Diagnostics;
using System.IO.Compression;
using System.Reflection;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Packaging;

/// <summary>
/// Packs the solution as a user would, installs the <c>sinapse</c> tool from that local folder into a
/// temporary tool path, and runs it from empty directories: the tool must carry the data its commands
/// use by default. Packing reuses the build the tests run from (--no-build); the install reads only
/// the local folder, so it works offline.
/// </summary>
[Collection(OutOfProcessCollection.Name)]
public sealed class ToolPackageTests(ToolPackageTests.InstalledTool tool) : IClassFixture<ToolPackageTests.InstalledTool>
{
    [Fact]
    public void TrainRunsOnTheBundledMnistFromAnEmptyDirectory()
    {
        using var empty = new TempDirectory();
        var output = tool.Succeed(empty.Path, "train", "--model", "mlp", "--epochs", "1");
        Assert.Contains("test accuracy: 0.9", output);
        Assert.True(File.Exists(Path.Combine(empty.Path, "runs", "train", "history.csv")), output);
    }

    [Fact]
    public void FiltersRunsFromAnEmptyDirectory()
    {
        using var empty = new TempDirectory();
        tool.Succeed(empty.Path, "filters");
        Assert.True(File.Exists(Path.Combine(empty.Path, "runs", "filters", "contact-sheet.png")));
    }

    [Fact]
    public void HelpNamesTheCommandAsInstalled()
    {
        using var empty = new TempDirectory();
        var help = tool.Succeed(empty.Path, "train", "--help");
        Assert.Contains("sinapse train [options]", help);
        Assert.DoesNotContain("Sinapse.Cli", help);
    }

    [Fact]
    public void EachPackageCarriesItsMetadataAndOnlyTheToolCarriesData()
    {
        foreach (var id in new[] { "Sinapse", "Sinapse.Vision", "Sinapse.Cli" })
        {
            using var package = ZipFile.OpenRead(tool.Package(id));
            var nuspec = new StreamReader(package.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open()).ReadToEnd();
            foreach (var element in new[] { "<readme>README.md</readme>", "<license type=\"expression\">MIT</license>", "<description>", "<tags>", "<repository type=\"git\"" })
                Assert.True(nuspec.Contains(element, StringComparison.Ordinal), $"{id}.nuspec lacks {element}:\n{nuspec}");
            Assert.Contains(package.Entries, e => e.FullName == "README.md");
            bool carriesMnist = package.Entries.Any(e => e.FullName.EndsWith("train-images-idx3-ubyte.gz", StringComparison.Ordinal));
            Assert.Equal(id == "Sinapse.Cli", carriesMnist);
        }
    }

    /// <summary>The packages of the solution and the tool installed from them, made once for the class.</summary>
    public sealed class InstalledTool : IDisposable
    {
        private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);
        private readonly TempDirectory root = new();

        public InstalledTool()
        {
            string repository = Repository();
            string configuration = typeof(InstalledTool).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
            Run(repository, "dotnet", "pack", Path.Combine(repository, "Sinapse.slnx"), "--no-build", "-c", configuration, "-o", Packages);
            Run(root.Path, "dotnet", "tool", "install", "--tool-path", Tools, "--source", Packages, "Sinapse.Cli");
        }

        private string Packages => Path.Combine(root.Path, "packages");

        private string Tools => Path.Combine(root.Path, "tools");

        public string Package(string id) =>
            Directory.GetFiles(Packages, id + ".*.nupkg").Single(path => char.IsDigit(Path.GetFileName(path)[id.Length + 1]));

        /// <summary>Runs the installed <c>sinapse ARGS</c> in <paramref name="directory"/>, which must succeed; returns its standard output.</summary>
        public string Succeed(string directory, params string[] arguments) => Run(directory, Path.Combine(Tools, "sinapse"), arguments);

        private static string Run(string directory, string program, params string[] arguments)
        {
            var start = new ProcessStartInfo(program) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in arguments) start.ArgumentList.Add(argument);
            start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            start.Environment["DOTNET_NOLOGO"] = "1";
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Timeout))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not finish within {Timeout.TotalMinutes} minutes.");
            }
            Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{output.Result}\n{error.Result}");
            return output.Result;
        }

        /// <summary>The checkout the tests were built from: the directory above the test binaries holding Sinapse.slnx.</summary>
        private static string Repository()
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory != null; directory = directory.Parent)
                if (File.Exists(Path.Combine(directory.FullName, "Sinapse.slnx"))) return directory.FullName;
            throw new InvalidOperationException($"No Sinapse.slnx above {AppContext.BaseDirectory}: the packaging tests run from a checkout.");
        }

        public void Dispose() => root.Dispose();
    }
}
