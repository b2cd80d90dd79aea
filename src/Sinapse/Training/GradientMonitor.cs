using System.Globalization;
using Sinapse.Kernels;
using Sinapse.Layers;

namespace Sinapse.Training;

/// <summary>One layer's norms at one update: ‖∇W‖₂ over its own parameters' gradients, and ‖W‖₂.</summary>
public sealed record LayerNorms(long Step, int Epoch, string Layer, double GradientNorm, double WeightNorm);

/// <summary>
/// Records every <c>every</c>-th update each layer's gradient and weight norms into
/// <see cref="History.LayerNorms"/>, so vanishing (early layers' norms collapsing towards zero)
/// and exploding gradients can be seen and plotted. Optionally prints a compact line per record,
/// which starts with the step's global gradient norm as the trainer measured it (<see cref="Trainer.GradientNorm"/>).
/// </summary>
public sealed class GradientMonitor(int every = 10, TextWriter? print = null) : Callback
{
    private readonly List<(string Name, Module Layer)> layers = [];
    private long step;

    public int Every { get; } = every > 0 ? every : throw new ArgumentOutOfRangeException(nameof(every), every, "Record every k >= 1 updates.");

    public override void OnTrainBegin(Trainer trainer)
    {
        layers.Clear();
        layers.AddRange(trainer.Model.NamedModules().Where(m => m.Module.OwnParameters.Count > 0));
        step = 0;
    }

    public override void OnBatchEnd(Trainer trainer, in BatchProgress progress)
    {
        if (++step % Every != 0) return;
        var line = print == null ? null : new System.Text.StringBuilder(string.Create(CultureInfo.InvariantCulture, $"step {step,6} ‖∇‖={trainer.GradientNorm:0.##E+0} |∇W|:"));
        foreach (var (name, layer) in layers)
        {
            double gradient = 0, weight = 0;
            foreach (var (_, p) in layer.OwnParameters)
            {
                weight += SumOfSquares.Of(p.Buffer, p.Offset, p.Length);
                if (p.Grad is { } g) gradient += SumOfSquares.Of(g.Buffer, g.Offset, g.Length);
            }
            var record = new LayerNorms(step, progress.Epoch, name, Math.Sqrt(gradient), Math.Sqrt(weight));
            trainer.History.LayerNorms.Add(record);
            line?.Append(string.Create(CultureInfo.InvariantCulture, $"  {name}={record.GradientNorm:0.##E+0}"));
        }
        if (line != null) print!.WriteLine(line);
    }

    /// <summary>The records as CSV: step, epoch, layer, gradient_norm, weight_norm.</summary>
    public static string ToCsv(IEnumerable<LayerNorms> records)
    {
        var text = new System.Text.StringBuilder("step,epoch,layer,gradient_norm,weight_norm\n");
        foreach (var r in records)
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{r.Step},{r.Epoch},{r.Layer},{r.GradientNorm:G6},{r.WeightNorm:G6}"));
        return text.ToString();
    }
}
