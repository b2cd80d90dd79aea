using System.Globalization;
using System.Text;
using Sinapse.Layers;
using Sinapse.Tensors;

namespace Sinapse.Diagnostics;

/// <summary>
/// One row of a model summary: a layer, the shape it outputs, its parameters, and its receptive
/// field — how many input positions along each spatial axis one of its outputs sees (null once
/// the output is no longer spatial).
/// </summary>
public sealed record LayerSummary(string Name, string Layer, Shape OutputShape, long Parameters, long TrainableParameters, int? ReceptiveField);

/// <summary>Keras-style summary, computed from shapes alone: no data runs through the model.</summary>
public sealed record ModelSummary(Shape InputShape, IReadOnlyList<LayerSummary> Layers, long TotalParameters, long TrainableParameters)
{
    /// <summary>
    /// Summarises <paramref name="model"/> for an input of shape <paramref name="input"/> (batch
    /// first): one row per layer, walking into chains (Sequential, a MobileNet's trunk and head)
    /// at any depth; a block that is not a chain (a residual block) is one row.
    /// </summary>
    public static ModelSummary Of(Module model, Shape input)
    {
        var rows = new List<LayerSummary>();
        var shape = input;
        (long Extent, long Jump) field = (1, 1);
        void Walk(Module module)
        {
            if (module.Stages is { } stages)
            {
                foreach (var stage in stages) Walk(stage);
                return;
            }
            shape = module.OutputShape(shape);
            field = Module.Widen(field, module.Window);
            rows.Add(new LayerSummary(module.Path, module.Describe(), shape, module.ParameterCount(), module.ParameterCount(trainableOnly: true),
                shape.Rank >= 3 ? (int)field.Extent : null));
        }
        Walk(model);
        return new ModelSummary(input, rows, model.ParameterCount(), model.ParameterCount(trainableOnly: true));
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        bool spatial = InputShape.Rank >= 3;
        int nameWidth = Layers.Select(row => row.Name.Length).Append(1).Max(), layerWidth = Layers.Select(row => row.Layer.Length).Append(32).Max();
        string Row(string number, string layer, string shape, string parameters, string field) =>
            string.Format(CultureInfo.InvariantCulture, $"{{0,-{nameWidth}}} {{1,-{layerWidth}}} {{2,-20}} {{3,12}}", number, layer, shape, parameters) +
            (spatial ? string.Format(CultureInfo.InvariantCulture, " {0,16}", field) : "");
        string header = Row("#", "Layer", "Output shape", "Parameters", "Receptive field");
        text.AppendLine(header);
        text.AppendLine(new string('-', header.Length));
        text.AppendLine(Row("", "Input", InputShape.ToString(), "", ""));
        foreach (var row in Layers)
            text.AppendLine(Row(row.Name, row.Layer, row.OutputShape.ToString(), row.Parameters.ToString("N0", CultureInfo.InvariantCulture),
                row.ReceptiveField is int r ? (InputShape.Rank == 3 ? $"{r}" : $"{r}×{r}") : ""));
        text.AppendLine(new string('-', header.Length));
        text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Total parameters: {TotalParameters:N0}"));
        text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Trainable parameters: {TrainableParameters:N0}"));
        text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Frozen parameters: {TotalParameters - TrainableParameters:N0}"));
        return text.ToString();
    }
}
