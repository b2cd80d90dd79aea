using System.Globalization;
using System.Text;
using Sinapse.Cli.Commands;
using Sinapse.Data;
using Sinapse.Diagnostics;
using Sinapse.Layers;
using Sinapse.Models;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Vision;

namespace Sinapse.Cli.Experiments;

/// <summary>
/// The course's worked examples computed by the framework and printed as matrices — cross-correlation
/// with and without padding, max and average pooling, the moving average, output sizes, two
/// stacked 3×3 convolutions seeing 5×5 — and the classic filters applied to a photograph.
/// </summary>
internal sealed class ReceptiveFieldExperiment : Experiment
{
    public override string Name => "receptive-field";
    public override string Title => "Convolution by hand: the course's worked examples and receptive fields";
    public override bool UsesData => false;

    private static readonly float[,] X = { { 1, 3, 6, 4 }, { 2, 2, 0, 4 }, { 5, 0, 1, 4 }, { 4, 4, 1, 3 } };
    private static readonly float[,] Filter = { { -1, 1 }, { -1, 1 } };
    private static readonly float[,] CourseMax = { { 3, 6, 6 }, { 5, 2, 4 }, { 5, 4, 4 } };
    private static readonly float[,] CourseAverage = { { 2, 2.75f, 3.5f }, { 2.25f, 0.75f, 2.25f }, { 3.25f, 2, 2.25f } };

    public override void Run(ExperimentOptions options, Report report)
    {
        var x = Image(X);
        report.Text("Every matrix below is computed by Sinapse's own ops (F.Conv2d, F.MaxPool2d, F.AvgPool2d, F.Conv1d) on the course's examples; nothing is typed in except the inputs.");
        report.Heading("Cross-correlation of the 4×4 X with the 2×2 filter F");
        report.Code("X =\n" + Matrix(x) + "\nF =\n" + Matrix(Image(Filter)));
        var valid = F.Conv2d(x, Image(Filter));
        var padded = F.Conv2d(x, Image(Filter), padding: 1);
        report.Code("valid, stride 1 (3×3):\n" + Matrix(valid) + "\nzero padding 1, stride 1 (the 6×6 padded X gives 5×5):\n" + Matrix(padded));
        report.Figures["valid.sum"] = valid.ToArray().Sum();

        report.Heading("2×2 pooling with stride 1");
        var max = F.MaxPool2d(x, 2, stride: 1);
        var average = F.AvgPool2d(x, 2, stride: 1);
        report.Code("max pooling:\n" + Matrix(max) + "\naverage pooling:\n" + Matrix(average));
        report.Text(Compare("max pooling", max, CourseMax) + " " + Compare("average pooling", average, CourseAverage));
        report.Figures["max.mismatches"] = Mismatches(max, CourseMax).Count;
        report.Figures["average.mismatches"] = Mismatches(average, CourseAverage).Count;

        report.Heading("A 1-D convolution as a moving average");
        float[] series = [100, 120, 115, 200, 135, 130, 140];
        var moving = F.Conv1d(Tensor.FromArray(series, 1, 1, series.Length), Tensor.Full(new Shape(1, 1, 4), 0.25f));
        report.Code($"series          [{Join(series)}]\nfilter          [1/4, 1/4, 1/4, 1/4]\nmoving average  [{Join(moving.ToArray())}]");

        report.Heading("Output sizes: r = ⌊(w − f + 2b)/p⌋ + 1");
        var sizes = new (int W, int F, int B, int P)[] { (4, 2, 0, 1), (4, 2, 1, 1), (28, 3, 1, 1), (28, 3, 0, 1), (28, 5, 2, 2), (32, 5, 0, 1), (224, 3, 1, 2), (7, 3, 0, 2) };
        report.Table(["input w", "filter f", "padding b", "stride p", "r (Sinapse)", "(w − f + 2b)/p, the slide's formula without +1"],
            sizes.Select(s => (IReadOnlyList<string>)[I(s.W), I(s.F), I(s.B), I(s.P),
                I(new Conv2d(1, 1, s.F, stride: s.P, padding: s.B).OutputShape(new Shape(1, 1, s.W, s.W))[2]),
                ((s.W - s.F + 2 * s.B) / (double)s.P).ToString("0.##", CultureInfo.InvariantCulture)]));

        report.Heading("Two stacked 3×3 convolutions see a 5×5 window");
        var input = Tensor.Ones(1, 1, 7, 7);
        input.RequiresGrad = true;
        var ones = Tensor.Ones(1, 1, 3, 3);
        var output = F.Conv2d(F.Conv2d(input, ones), ones);
        var pick = Tensor.Zeros(output.Shape.ToArray());
        pick.Span[output.Length / 2] = 1f;   // the centre output only
        output.Backward(pick);
        var field = input.Grad!;
        int seen = field.ToArray().Count(v => v != 0);
        report.Code("∂(centre output)/∂input for two 3×3 convolutions of ones on a 7×7 input — the non-zero entries are the receptive field,\n" +
                    "each counting the paths from that pixel to the output:\n" + Matrix(field));
        report.Figures["stacked.receptive_field"] = Math.Sqrt(seen);
        report.Text($"{seen} input pixels reach the centre output: a {Math.Sqrt(seen)}×{Math.Sqrt(seen)} window, with two layers' 2·9 = 18 weights instead of the 25 of one 5×5 filter.");
        report.Code("The course CNN's receptive fields, from the model summary:\n" + ModelSummary.Of(Cnn.Course(1, 28, 28, 10), new Shape(1, 1, 28, 28)));

        report.Heading("The classic filters on a photograph");
        var path = options.Image ?? BundledData.Find("images/china.jpg", "give a picture with --image FILE");
        var picture = Images.Load(path, grayscale: true);
        var tiles = ImageFilters.All.Select(f => FiltersCommand.Apply(picture, f.Kernel)).ToList();
        Images.SaveGrid(report.PathOf("filters.png"), tiles, columns: 3, low: 0f, high: 255f);
        report.Image("filters.png", string.Join(", ", ImageFilters.All.Select(f => f.Name)) + " (left to right, top to bottom)");
        report.Csv("filters.csv", "filter,kernel", ImageFilters.All.Select(f => (IEnumerable<object?>)[f.Name, "\"" + string.Join(" ", f.Kernel.Cast<float>().Select(v => v.ToString("G4", CultureInfo.InvariantCulture))) + "\""]));
        report.Heading("What the figures show");
        report.Text($"The picture ({Path.GetFileName(path)}, {picture.Shape[2]}×{picture.Shape[1]}, grey) cross-correlated with each 3×3 kernel, zero padding 1, values clamped to 0..255: " +
                    "the identity returns the picture, the edge detectors (whose weights sum to 0) are black on flat regions and bright on edges of their orientation, " +
                    "sharpen (weights summing to 1) boosts the edges over the original, and the blurs (positive weights summing to 1) average away fine detail. " +
                    "A CNN's first layer learns filters of this kind from data instead of having them designed.");
    }

    private static Tensor Image(float[,] values) => Tensor.FromArray(values.Cast<float>().ToArray(), 1, 1, values.GetLength(0), values.GetLength(1));

    private static string Matrix(Tensor t)
    {
        int rows = t.Shape[^2], columns = t.Shape[^1];
        var cells = t.ToArray().Select(v => v.ToString("0.##", CultureInfo.InvariantCulture)).ToArray();
        int width = cells.Max(c => c.Length);
        var text = new StringBuilder();
        for (int r = 0; r < rows; r++)
            text.Append("  [").AppendJoin("  ", cells.Skip(r * columns).Take(columns).Select(c => c.PadLeft(width))).AppendLine("]");
        return text.ToString().TrimEnd();
    }

    private static List<(int Row, int Column, float Course, float Computed)> Mismatches(Tensor computed, float[,] course)
    {
        var list = new List<(int, int, float, float)>();
        int columns = course.GetLength(1);
        for (int i = 0; i < computed.Length; i++)
            if (computed.Span[i] != course[i / columns, i % columns]) list.Add((i / columns + 1, i % columns + 1, course[i / columns, i % columns], computed.Span[i]));
        return list;
    }

    private static string Compare(string what, Tensor computed, float[,] course)
    {
        var mismatches = Mismatches(computed, course);
        return mismatches.Count == 0
            ? $"The {what} matches the course's worked example exactly."
            : $"The {what} differs from the course's worked example at " + string.Join("; ", mismatches.Select(m =>
                $"row {m.Row}, column {m.Column}: the course writes {m.Course.ToString(CultureInfo.InvariantCulture)}, the computed value is {m.Computed.ToString(CultureInfo.InvariantCulture)}")) +
              " — a slip in the course's example (that window holds " + string.Join(", ", Window(mismatches[0].Row - 1, mismatches[0].Column - 1)) + ").";
    }

    private static IEnumerable<string> Window(int row, int column) =>
        new[] { X[row, column], X[row, column + 1], X[row + 1, column], X[row + 1, column + 1] }.Select(v => v.ToString(CultureInfo.InvariantCulture));

    private static string Join(IEnumerable<float> values) => string.Join(", ", values.Select(v => v.ToString("0.##", CultureInfo.InvariantCulture)));

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);
}
