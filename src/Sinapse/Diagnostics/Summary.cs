using System.Globalization;
using System.Text;
using Sinapse.Layers;
using Sinapse.Tensors;

namespace Sinapse.Diagnostics;

/// <summary>One row of a model summary: a layer, the shape it outputs, and its parameters.</summary>
public sealed record LayerSummary(string Name, string Layer, Shape OutputShape, long Parameters, long TrainableParameters);

/// <summary>Keras-style summary, computed from shapes alone: no data runs through the model.</summary>
public sealed record ModelSummary(Shape InputShape, IReadOnlyList<LayerSummary> Layers, long TotalParameters, long TrainableParameters)
{
    /// <summary>Summarises a Sequential layer by layer (any other module as a single row) for an input of shape <paramref name="input"/> (batch first).</summary>
    public static ModelSummary Of(Module model, Shape input)
    {
        var rows = new List<LayerSummary>();
        var shape = input;
        var layers = model is Sequential sequential ? sequential.Children : [("", model)];
        foreach (var (name, layer) in layers)
        {
            shape = layer.OutputShape(shape);
            rows.Add(new LayerSummary(name, layer.Describe(), shape, layer.ParameterCount(), layer.ParameterCount(trainableOnly: true)));
        }
        return new ModelSummary(input, rows, model.ParameterCount(), model.ParameterCount(trainableOnly: true));
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        const string format = "{0,-6} {1,-34} {2,-20} {3,12}\n";
        text.AppendFormat(CultureInfo.InvariantCulture, format, "#", "Layer", "Output shape", "Parameters");
        text.AppendLine(new string('-', 75));
        text.AppendFormat(CultureInfo.InvariantCulture, format, "", "Input", InputShape, "");
        foreach (var row in Layers)
            text.AppendFormat(CultureInfo.InvariantCulture, format, row.Name, row.Layer, row.OutputShape, row.Parameters.ToString("N0", CultureInfo.InvariantCulture));
        text.AppendLine(new string('-', 75));
        text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Total parameters: {TotalParameters:N0}"));
        text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Trainable parameters: {TrainableParameters:N0}"));
        text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Frozen parameters: {TotalParameters - TrainableParameters:N0}"));
        return text.ToString();
    }
}
