using ScottPlot;
using Sinapse.Cli.Experiments;

namespace Sinapse.Tests.Cli;

/// <summary>The report plots: whole-number ticks for epochs, the legend beside the data, identical curves both visible.</summary>
public class PlotsTests
{
    private static readonly double[] Epochs = [1, 2, 3, 4, 5];

    [Fact]
    public void WholeNumberXValuesGetWholeNumberTicks()
    {
        var plot = Plots.LinesPlot("accuracy", "epoch", "accuracy", [new Series("a", Epochs, [0.5, 0.7, 0.8, 0.85, 0.9])]);
        plot.RenderInMemory(Plots.Width, Plots.Height);
        var ticks = plot.Axes.Bottom.TickGenerator.Ticks.Where(t => t.IsMajor).Select(t => t.Position).ToList();
        Assert.True(ticks.Count >= 3, $"{ticks.Count} ticks");
        Assert.All(ticks, t => Assert.Equal(Math.Round(t), t));
        // Fractional x values (seconds) keep their fractional ticks.
        var seconds = Plots.LinesPlot("loss", "seconds", "loss", [new Series("a", [0.1, 0.35, 0.6], [3, 2, 1])]);
        seconds.RenderInMemory(Plots.Width, Plots.Height);
        Assert.Contains(seconds.Axes.Bottom.TickGenerator.Ticks.Where(t => t.IsMajor), t => t.Position != Math.Round(t.Position));
    }

    [Fact]
    public void TheLegendStandsBesideTheDataNotOnIt()
    {
        var plot = Plots.LinesPlot("accuracy", "epoch", "accuracy", [new Series("a", Epochs, [0.5, 0.7, 0.8, 0.85, 0.9]), new Series("b", Epochs, [0.4, 0.6, 0.7, 0.8, 0.95])]);
        plot.RenderInMemory(Plots.Width, Plots.Height);
        Assert.False(plot.Legend.IsVisible);   // the legend inside the data area is off …
        Assert.Contains(plot.Axes.GetPanels(), panel => panel is ScottPlot.Panels.LegendPanel);   // … and drawn in a panel at the edge
    }

    [Fact]
    public void ASeriesEqualToAnEarlierOneIsDashedAndSaysSo()
    {
        double[] values = [0.5, 0.7, 0.8, 0.85, 0.9];
        var plot = Plots.LinesPlot("accuracy", "epoch", "accuracy",
            [new Series("plain", Epochs, values), new Series("with batch norm", Epochs, [.. values]), new Series("other", Epochs, [0.1, 0.2, 0.3, 0.4, 0.5])]);
        var lines = plot.GetPlottables<ScottPlot.Plottables.Scatter>().ToList();
        Assert.Equal(["plain", "with batch norm (same as plain)", "other"], lines.Select(l => l.LegendText));
        Assert.Equal([LinePattern.Solid, LinePattern.Dashed, LinePattern.Solid], lines.Select(l => l.LinePattern));
    }
}
