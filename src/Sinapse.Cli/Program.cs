using System.CommandLine;
using Sinapse.Cli.Commands;
using Sinapse.Vision;

// Commands load saved MobileNets through the core's ModelSpec.
VisionModels.Register();

var root = new RootCommand("Sinapse: build, train, inspect and reuse neural networks from .NET.")
{
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
