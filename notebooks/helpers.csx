// What every notebook shares, as the course's helper modules do: pictures and plots shown inline.
// A notebook loads it after referencing Sinapse.Vision and ScottPlot (see its first cell).
using System.IO;
using Microsoft.DotNet.Interactive.Formatting;
using ScottPlot;
using Sinapse.Vision;
using Sinapse.Tensors;

/// <summary>A PNG to show in the notebook, at <paramref name="Width"/> pixels on screen.</summary>
public sealed record Picture(byte[] Png, int Width);

/// <summary>An image tensor ([H, W], [1, H, W] or [3, H, W]) as a picture, mapped to 0..255 from its own range unless given one.</summary>
Picture Show(Tensor image, int width = 160, float? low = null, float? high = null) => new(Images.EncodePng(image, low, high), width);

/// <summary>Several images as one labelled-by-position grid, each enlarged <paramref name="scale"/> times.</summary>
Picture ShowGrid(IReadOnlyList<Tensor> tiles, int columns = 8, int scale = 4, int width = 640) =>
    new(Images.EncodeGrid(tiles, columns, scale), width);

/// <summary>Lines against a tensor of x values.</summary>
Plot LinePlot(string title, string xLabel, string yLabel, params (string Label, Tensor X, Tensor Y)[] series) =>
    LinePlot(title, xLabel, yLabel, series.Select(s => (s.Label, Array.ConvertAll(s.X.ToArray(), v => (double)v), Array.ConvertAll(s.Y.ToArray(), v => (double)v))));

/// <summary>Lines against their index (a loss per step, an accuracy per epoch).</summary>
Plot LinePlot(string title, string xLabel, string yLabel, params (string Label, IReadOnlyList<float> Y)[] series) =>
    LinePlot(title, xLabel, yLabel, series.Select(s => (s.Label, Enumerable.Range(1, s.Y.Count).Select(i => (double)i).ToArray(), s.Y.Select(v => (double)v).ToArray())));

Plot LinePlot(string title, string xLabel, string yLabel, IEnumerable<(string Label, double[] X, double[] Y)> series)
{
    var plot = new Plot();
    foreach (var (label, xs, ys) in series)
        plot.Add.Scatter(xs, ys).LegendText = label;
    plot.Title(title);
    plot.XLabel(xLabel);
    plot.YLabel(yLabel);
    plot.ShowLegend(Alignment.UpperRight);
    return plot;
}


/// <summary>A file or folder under the repository's data/ folder, looked for from the current folder (the notebook's) upwards.</summary>
string DataPath(string relative)
{
    for (var folder = new DirectoryInfo(Environment.CurrentDirectory); folder != null; folder = folder.Parent)
    {
        var candidate = Path.Combine(folder.FullName, "data", relative);
        if (File.Exists(candidate) || Directory.Exists(candidate)) return candidate;
    }
    throw new FileNotFoundException($"data/{relative} is not in {Environment.CurrentDirectory} or above it: open the notebook from the Sinapse repository's notebooks/ folder.");
}

static string ImageTag(byte[] png, int width) => $"<img src=\"data:image/png;base64,{Convert.ToBase64String(png)}\" width=\"{width}\"/>";

Formatter.Register<Picture>((picture, writer) => writer.Write(ImageTag(picture.Png, picture.Width)), "text/html");
Formatter.Register<Plot>((plot, writer) => writer.Write(ImageTag(plot.GetImageBytes(640, 400, ImageFormat.Png), 640)), "text/html");
