using System.Globalization;
using ScottPlot;

namespace Sinapse.Cli.Experiments;

/// <summary>A named curve for <see cref="Plots"/>; a <paramref name="Wide"/> one is drawn broad and pale, without markers, as a reference that other curves can lie on and stay visible.</summary>
internal sealed record Series(string Label, double[] X, double[] Y, bool Wide = false);

/// <summary>The few plot kinds the reports use, drawn with ScottPlot and saved as PNG.</summary>
internal static class Plots
{
    public const int Width = 800, Height = 500;

    /// <summary>Lines, one per series, with a legend; <paramref name="logY"/> plots log10 of the
    /// positive values and labels the axis with powers of ten.</summary>
    public static void Lines(string path, string title, string xLabel, string yLabel, IEnumerable<Series> series, bool logY = false, bool markers = false) =>
        LinesPlot(title, xLabel, yLabel, series, logY, markers).SavePng(path, Width, Height);

    /// <summary>
    /// The plot <see cref="Lines"/> saves. A series equal to an earlier one would hide under it: it is
    /// drawn dashed, so the earlier colour shows between the dashes, and its legend entry says so. X
    /// values that are all whole numbers (epochs) get whole-number ticks only.
    /// </summary>
    internal static Plot LinesPlot(string title, string xLabel, string yLabel, IEnumerable<Series> series, bool logY = false, bool markers = false)
    {
        var plot = new Plot();
        var list = series.ToList();
        // More lines than the palette has colours (a deep network's layers): a colour ramp from first to last.
        Func<int, Color> colour = list.Count <= 10 ? new ScottPlot.Palettes.Category10().GetColor : i => new ScottPlot.Colormaps.Turbo().GetColor(i / (double)(list.Count - 1));
        int index = 0;
        foreach (var s in list)
        {
            var points = Enumerable.Range(0, s.X.Length).Where(i => double.IsFinite(s.Y[i]) && (!logY || s.Y[i] > 0)).ToArray();
            if (points.Length == 0) { index++; continue; }
            var xs = points.Select(i => s.X[i]).ToArray();
            var ys = points.Select(i => logY ? Math.Log10(s.Y[i]) : s.Y[i]).ToArray();
            var scatter = plot.Add.Scatter(xs, ys);
            var same = list.Take(list.IndexOf(s)).FirstOrDefault(earlier => earlier.X.SequenceEqual(s.X) && earlier.Y.SequenceEqual(s.Y));
            scatter.LegendText = same == null ? s.Label : $"{s.Label} (same as {same.Label})";
            if (same != null) scatter.LinePattern = LinePattern.Dashed;
            scatter.Color = s.Wide ? colour(index++).WithAlpha(0.45) : colour(index++);
            scatter.LineWidth = s.Wide ? 9 : 2;
            scatter.MarkerSize = !s.Wide && (markers || xs.Length < 30) ? 5 : 0;
        }
        if (logY) LogAxis(plot);
        if (list.All(s => s.X.All(x => x == Math.Round(x))))
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        Decorate(plot, title, xLabel, yLabel, legend: index > 1);
        return plot;
    }

    /// <summary>Points coloured by group (a scatter plot of codes coloured by class).</summary>
    public static void Points(string path, string title, string xLabel, string yLabel, IEnumerable<Series> groups)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        int index = 0;
        foreach (var g in groups)
        {
            var scatter = plot.Add.Scatter(g.X, g.Y);
            scatter.LegendText = g.Label;
            scatter.Color = palette.GetColor(index++);
            scatter.LineWidth = 0;
            scatter.MarkerSize = 4;
        }
        Decorate(plot, title, xLabel, yLabel, legend: true);
        plot.SavePng(path, Width, Height);
    }

    /// <summary>
    /// Contour lines of <paramref name="surface"/> over [x0, x1] × [y0, y1] at <paramref name="levels"/>, in grey, with
    /// paths drawn over them (each a line from its first point, which gets a marker, to its last).
    /// </summary>
    public static void Contours(string path, string title, Func<double, double, double> surface, (double Low, double High) x, (double Low, double High) y,
        double[] levels, IEnumerable<Series> paths)
    {
        const int points = 121;
        var plot = new Plot();
        var grid = new Coordinates3d[points, points];
        for (int i = 0; i < points; i++)
            for (int j = 0; j < points; j++)
            {
                double a = x.Low + (x.High - x.Low) * j / (points - 1), b = y.Low + (y.High - y.Low) * i / (points - 1);
                grid[i, j] = new Coordinates3d(a, b, surface(a, b));
            }
        var contours = plot.Add.ContourLines(grid);
        contours.ContourLineLevels = levels;
        contours.Update(grid);
        contours.LineColor = Colors.Gray.WithAlpha(0.6);
        contours.LabelStyle.IsVisible = false;
        var palette = new ScottPlot.Palettes.Category10();
        int index = 0;
        foreach (var s in paths)
        {
            var line = plot.Add.Scatter(s.X, s.Y);
            line.LegendText = s.Label;
            line.Color = palette.GetColor(index++);
            line.LineWidth = 2;
            line.MarkerSize = 0;
            var start = plot.Add.Marker(s.X[0], s.Y[0]);
            start.Color = line.Color;
        }
        plot.Axes.SetLimits(x.Low, x.High, y.Low, y.High);
        Decorate(plot, title, "x", "y", legend: true);
        plot.SavePng(path, Width, Height);
    }

    /// <summary>Histograms as step lines over shared bins (log10 counts), so several overlay readably.</summary>
    public static void Histograms(string path, string title, string xLabel, IEnumerable<(string Label, float[] Values)> sets, int bins = 80)
    {
        var list = sets.ToList();
        double low = list.Min(s => s.Values.Min()), high = list.Max(s => s.Values.Max());
        if (high <= low) high = low + 1;
        double width = (high - low) / bins;
        var centers = Enumerable.Range(0, bins).Select(i => low + (i + 0.5) * width).ToArray();
        var series = list.Select(s =>
        {
            var counts = new double[bins];
            foreach (var v in s.Values) counts[Math.Clamp((int)((v - low) / width), 0, bins - 1)]++;
            return new Series(s.Label, centers, counts);
        });
        Lines(path, title, xLabel, "count (log scale)", series, logY: true);
    }

    private static void LogAxis(Plot plot)
    {
        var ticks = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => "1e" + ((int)Math.Round(y)).ToString(CultureInfo.InvariantCulture),
        };
        plot.Axes.Left.TickGenerator = ticks;
    }

    /// <summary>Title, axis labels and, with <paramref name="legend"/>, the legend to the right of the data, where it covers none of it.</summary>
    private static void Decorate(Plot plot, string title, string xLabel, string yLabel, bool legend)
    {
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        if (legend) plot.ShowLegend(Edge.Right);
    }
}
