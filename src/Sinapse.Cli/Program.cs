using System.CommandLine;
using Sinapse.Cli.Commands;

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
