using System.CommandLine;
using System.CommandLine.Help;
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
return root.Parse(args).Invoke();
