using System.CommandLine;
using System.Diagnostics;
using Sinapse.Cli.Experiments;
using Sinapse.Kernels;

namespace Sinapse.Cli.Commands;

/// <summary><c>sinapse experiment NAME|all</c>: the course's experiments, each a report with tables, plots and CSV.</summary>
internal static class ExperimentCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = $"The experiment: {ExperimentCatalog.Names}." };
        var output = new Option<string?>("--out") { Description = "Directory for report.md, the PNG plots and the CSV numbers (default runs/experiments/NAME; for all, one subdirectory per experiment)." };
        var seed = new Option<ulong>("--seed") { Description = "Seed for initialisation and shuffling.", DefaultValueFactory = _ => 42UL };
        var quick = new Option<bool>("--quick") { Description = "A reduced budget (a few hundred examples, one or two epochs) that finishes in seconds." };
        var data = new Option<string?>("--data") { Description = "Directory with MNIST-layout IDX files for the experiments that train (default: the bundled data/mnist)." };
        var image = new Option<string?>("--image") { Description = "A PNG or JPEG picture for the receptive-field experiment's filters (default: the bundled photo)." };
        var threads = ThreadsOption.Create();
        var command = new Command("experiment", "Run one of the course's experiments (or all) and write a Markdown report with plots and CSV.");
        command.Arguments.Add(name);
        foreach (var option in new Option[] { output, seed, quick, data, image, threads }) command.Options.Add(option);
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            var requested = parse.GetValue(name)!.Trim();
            bool all = requested.Equals("all", StringComparison.OrdinalIgnoreCase);
            var experiments = all ? ExperimentCatalog.All : [ExperimentCatalog.Find(requested)];
            ThreadsOption.Apply(parse, threads);
            if (parse.GetValue(data) is { } directory && !Directory.Exists(directory)) throw new DirectoryNotFoundException($"--data: directory {Path.GetFullPath(directory)} does not exist.");
            if (parse.GetValue(image) is { } picture && !File.Exists(picture)) throw new FileNotFoundException($"--image: file {Path.GetFullPath(picture)} does not exist.");
            var root = OutputDirectory.Prepare(parse.GetValue(output) ?? Path.Combine("runs", "experiments", all ? "" : experiments[0].Name), "--out");
            var timings = new List<(string, double)>();
            foreach (var experiment in experiments)
            {
                var clock = Stopwatch.StartNew();
                var options = new ExperimentOptions(all ? Path.Combine(root, experiment.Name) : root, parse.GetValue(seed), parse.GetValue(quick), parse.GetValue(data), parse.GetValue(image));
                experiment.Execute(options);
                timings.Add((experiment.Name, clock.Elapsed.TotalSeconds));
                Console.WriteLine($"{experiment.Name}: {clock.Elapsed.TotalSeconds:F1} s");
                Console.WriteLine();
            }
            if (all) Console.WriteLine($"all experiments: {timings.Sum(t => t.Item2):F1} s ({string.Join(", ", timings.Select(t => $"{t.Item1} {t.Item2:F1} s"))})");
            return 0;
        }));
        return command;
    }
}
