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
    /// <summary>Summarises a Sequential layer by layer (any other module as a single row) for an input of shape <paramref name="input"/> (batch first).</summary>
    public static ModelSummary Of(Module model, Shape input)
    {
        var rows = new List<LayerSummary>();
        var shape = input;
        // Receptive field r and jump j (input positions between neighbouring outputs):
        // a window of k taps with dilation d and stride s gives r += (k − 1)·d·j and j *= s.
        long receptiveField = 1, jump = 1;
        var layers = model is Sequential sequential ? sequential.Children : [("", model)];
        foreach (var (name, layer) in layers)
        {
            shape = layer.OutputShape(shape);
            if (layer.Window is var (kernel, stride, dilation))
            {
                receptiveField += (kernel - 1) * dilation * jump;
                jump *= stride;
            }
            int? field = shape.Rank >= 3 ? (int)receptiveField : null;
            rows.Add(new LayerSummary(name, layer.Describe(), shape, layer.ParameterCount(), layer.ParameterCount(trainableOnly: true), field));
        }
        return new ModelSummary(input, rows, model.ParameterCount(), model.ParameterCount(trainableOnly: true));
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        bool spatial = InputShape.Rank >= 3;
        string Row(string number, string layer, string shape, string parameters, string field) =>
            string.Format(CultureInfo.InvariantCulture, "{0,-4} {1,-44} {2,-20} {3,12}", number, layer, shape, parameters) +
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
