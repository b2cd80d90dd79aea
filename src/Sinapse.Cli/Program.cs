using System.CommandLine;
using System.CommandLine.Help;
using Sinapse.Cli;
using Sinapse.Cli.Commands;
using Sinapse.Vision;

// Commands load saved MobileNets through the core's ModelSpec.
VisionModels.Register();

// Named as the installed command: a RootCommand takes the running assembly's name, which under `dotnet tool` is "Sinapse.Cli".
var root = new Command("sinapse", "Sinapse: build, train, inspect and reuse neural networks from .NET.")
{
    new HelpOption(),
    new VersionOption(),
    TrainCommand.Create(),
    SummaryCommand.Create(),
    FiltersCommand.Create(),
    EvaluateCommand.Create(),
    PredictCommand.Create(),
    TransferCommand.Create(),
    ExperimentCommand.Create(),
    ExportCommand.Create(),
    ImportCommand.Create(),
};
// The commands show their own progress; experiments train many small models whose epochs are not news.
Sinapse.Training.ConsoleProgress.VerboseByDefault = false;
var parse = root.Parse(args);
// With no arguments at all, the root command shows its help.
return parse.Errors.Count > 0 && args.Length > 0 ? ParseErrors.Report(parse) : parse.Invoke();
