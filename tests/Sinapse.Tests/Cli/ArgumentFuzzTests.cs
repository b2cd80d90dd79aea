using System.CommandLine;
using Sinapse.Cli.Commands;
using Sinapse.Models;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Tests.Support;
using Xunit.Abstractions;

namespace Sinapse.Tests.Cli;

/// <summary>
/// Seeded hostile values for the options of cheap command lines, run in this process: each must end
/// within 5 s with exit code 0 or with one error line and exit code 1, never a stack trace. They run
/// alone (the worker-pool collection), because a command sets the process-wide pool and console.
/// </summary>
[Collection(WorkerPoolCollection.Name)]
public class ArgumentFuzzTests(ITestOutputHelper output)
{
    const int Mutants = 60;
    static readonly TimeSpan CaseLimit = TimeSpan.FromSeconds(5);

    static readonly string[] HostileValues =
        ["", "-1", "0", "99999999999", "2147483648", "NaN", "-Infinity", "1e39", "x", "1,,2", "0,-3", "/nope", "/dev/null", "/dev/zero", new('9', 5000)];

    /// <summary>Options a mutant may add with a hostile value, beside those the command line already has.</summary>
    static readonly Dictionary<string, string[]> ExtraOptions = new()
    {
        ["train"] = ["--threads", "--hidden", "--lr", "--batch-size", "--validation", "--dropout", "--epochs", "--out", "--save-every", "--minmax-range", "--momentum"],
        ["summary"] = ["--hidden", "--input-shape", "--classes", "--width"],
        ["export"] = ["--hidden", "--input-shape", "--classes", "--output"],
        ["predict"] = ["--top", "--output", "--input"],
        ["filters"] = ["--image", "--out"],
    };

    [Fact]
    public void HostileOptionValuesEndInOneErrorLineOrSucceed()
    {
        using var directory = new TempDirectory();
        var modelDirectory = directory.File("model");
        new SavedModel(Mlp.Create(4, [3], 2), new Shape(4)).Save(modelDirectory);
        var batch = directory.File("batch.npy");
        Npy.Write(batch, Tensor.Ones(2, 4));
        var picture = directory.File("picture.png");
        Sinapse.Vision.Images.SavePng(picture, Tensor.Ones(1, 6, 6), 0f, 1f);
        var commandLines = new Dictionary<string, string[]>
        {
            ["train"] = ["--csv", TabularTrainingTests.BundledTable("wine.csv"), "--target", "class", "--epochs", "1", "--batch-size", "64", "--out", directory.File("run")],
            ["summary"] = ["--model", "mlp", "--input-shape", "4", "--classes", "3"],
            ["export"] = ["--model", "mlp", "--input-shape", "4", "--output", directory.File("model.onnx")],
            ["predict"] = ["--model", modelDirectory, "--input", batch, "--top", "1"],
            ["filters"] = ["--image", picture, "--out", directory.File("filters")],
        };

        var random = new Random(18);
        int succeeded = 0, refused = 0;
        var failures = new List<string>();
        var (savedOut, savedError) = (Console.Out, Console.Error);
        int savedThreads = Sinapse.Kernels.Workers.Count;
        try
        {
            for (int index = 0; index < Mutants; index++)
            {
                var name = commandLines.Keys.ElementAt(index % commandLines.Count);
                var arguments = commandLines[name].ToList();
                var value = HostileValues[random.Next(HostileValues.Length)];
                // Half the mutants change a value the command line has, half add an option.
                if (random.Next(2) == 0) arguments[2 * random.Next(arguments.Count / 2) + 1] = value;
                else arguments.AddRange([ExtraOptions[name][random.Next(ExtraOptions[name].Length)], value]);
                string label = $"sinapse {name} {string.Join(' ', arguments.Select(a => a.Length > 40 ? a[..40] + "…" : a))}";

                var (exitCode, error, finished) = Invoke(name, arguments);
                if (!finished) { failures.Add($"{label}: still running after {CaseLimit.TotalSeconds} s"); continue; }
                var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                if (exitCode == 0) succeeded++;
                else if (exitCode == 1 && lines.Length == 1 && !error.Contains("   at ", StringComparison.Ordinal) && lines[0].Length < 2000) refused++;
                else failures.Add($"{label}: exit code {exitCode}, stderr: {error[..Math.Min(error.Length, 600)]}");
            }
        }
        finally
        {
            Console.SetOut(savedOut);
            Console.SetError(savedError);
            Sinapse.Kernels.Workers.Count = savedThreads;
        }
        output.WriteLine($"fuzz command-line options: {Mutants} mutants: {succeeded} ran, {refused} refused in one line");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>Runs one command in this process with its output captured; a run past the limit is reported unfinished.</summary>
    static (int ExitCode, string Error, bool Finished) Invoke(string name, List<string> arguments)
    {
        Command command = name switch
        {
            "train" => TrainCommand.Create(),
            "summary" => SummaryCommand.Create(),
            "export" => ExportCommand.Create(),
            "predict" => PredictCommand.Create(),
            _ => FiltersCommand.Create(),
        };
        var error = new StringWriter();
        Console.SetOut(TextWriter.Null);
        Console.SetError(error);
        var run = Task.Run(() => command.Parse(arguments).Invoke(new InvocationConfiguration { Output = TextWriter.Null, Error = error }));
        if (!run.Wait(CaseLimit)) return (-1, error.ToString(), false);
        return (run.Result, error.ToString(), true);
    }
}
