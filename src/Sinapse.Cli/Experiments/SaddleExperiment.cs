using System.Globalization;
using Sinapse.Ops;
using Sinapse.Optimizers;
using Sinapse.Tensors;

namespace Sinapse.Cli.Experiments;

/// <summary>
/// Gradient descent, SGD with gradient noise, momentum, Nesterov and Adam on three 2-D surfaces —
/// the saddle x² − y², the monkey saddle x³ − 3xy² and a plateau — from the same start, written
/// with Sinapse tensors and optimizers: which methods leave the saddle or cross the plateau, and
/// how fast.
/// </summary>
internal sealed class SaddleExperiment : Experiment
{
    public override string Name => "saddle";
    public override string Title => "Saddle points and plateaus: which optimizers escape";
    public override bool UsesData => false;

    /// <summary>A point has escaped once f(x, y) ≤ this: well below the saddle's f = 0 and the plateau's f ≈ 0.25.</summary>
    public const double EscapeLevel = -0.5;

    private const float LearningRate = 0.05f, Momentum = 0.9f, NoiseStandardDeviation = 0.05f;

    private sealed record Surface(string Key, string Label, Func<Tensor, Tensor, Tensor> Loss, Func<double, double, double> Value,
        (float X, float Y) Start, (float X, float Y)? Saddle, (double, double) XRange, (double, double) YRange, double[] Levels);

    private sealed record Method(string Key, string Label, Func<Tensor[], Optimizer> Create, bool Noisy = false);

    private sealed record Trajectory(double[] X, double[] Y, double[] F, int? EscapeStep);

    private static double[] Levels(double low, double high, double step) =>
        Enumerable.Range(0, (int)Math.Round((high - low) / step) + 1).Select(i => low + i * step).ToArray();

    private static readonly Surface[] Surfaces =
    [
        new("saddle", "x² − y²", (x, y) => x * x - y * y, (x, y) => x * x - y * y,
            (0.5f, 0.01f), (0f, 0f), (-1.2, 1.2), (-1.2, 1.2), Levels(-1.5, 1.5, 0.25)),
        new("monkey", "monkey saddle x³ − 3xy²", (x, y) => x * x * x - 3f * x * y * y, (x, y) => x * x * x - 3 * x * y * y,
            (0.3f, 0.01f), (0f, 0f), (-1.2, 1.2), (-1.2, 1.2), Levels(-1.5, 1.5, 0.1)),
        new("plateau", "plateau x² − exp(−(y − 2)²)", (x, y) => x * x - (-((y - 2f) * (y - 2f))).Exp(), (x, y) => x * x - Math.Exp(-(y - 2) * (y - 2)),
            (0.5f, -0.5f), null, (-1, 1), (-1, 3), Levels(-1, 1, 0.1)),
    ];

    private static readonly Method[] Methods =
    [
        new("gd", $"gradient descent (α {LearningRate})", p => new Sgd(p, LearningRate)),
        new("noisy", $"SGD, gradient noise σ {NoiseStandardDeviation}", p => new Sgd(p, LearningRate), Noisy: true),
        new("momentum", $"momentum {Momentum}", p => new Sgd(p, LearningRate, Momentum)),
        new("nesterov", $"Nesterov {Momentum}", p => new Sgd(p, LearningRate, Momentum, nesterov: true)),
        new("adam", $"Adam (α {LearningRate})", p => new Adam(p, LearningRate)),
    ];

    public override void Run(ExperimentOptions options, Report report)
    {
        int maxSteps = options.Quick ? 400 : 2000;
        report.Text($"Each method minimises f(x, y) from the same start, one Sinapse optimizer step per gradient of f (computed by autograd on two one-element tensors), " +
                    $"for at most {maxSteps} steps ({Budget(options)}, seed {options.Seed} for the gradient noise). Learning rate α = {LearningRate} for all; momentum μ = {Momentum}; " +
                    $"SGD with gradient noise adds N(0, {NoiseStandardDeviation}²) to each gradient component, as a minibatch's sampling error does. " +
                    $"A run has escaped at the first step where f(x, y) ≤ {EscapeLevel.ToString(CultureInfo.InvariantCulture)} " +
                    "(the saddles' f is 0 at the saddle point; on the plateau f ≈ 0.25 at the start, and f ≤ −0.5 means inside the well around y = 2); the paths stop there.");
        var rows = new List<string[]>();
        var csv = new List<object?[]>();
        foreach (var surface in Surfaces)
        {
            var runs = Methods.Select(m => (Label: m.Label, Key: m.Key, Start: surface.Start, Run: Descend(surface, m, surface.Start, maxSteps, options.Seed))).ToList();
            if (surface.Saddle is { } saddle)
                foreach (var method in new[] { Methods[0], Methods[1] })
                    runs.Add(($"{method.Label}, from the saddle point", $"{method.Key}-at-saddle", saddle, Descend(surface, method, saddle, maxSteps, options.Seed)));
            foreach (var (label, key, start, run) in runs)
            {
                report.Figures[$"{surface.Key}.{key}.escaped"] = run.EscapeStep != null ? 1 : 0;
                report.Figures[$"{surface.Key}.{key}.steps"] = run.EscapeStep ?? double.NaN;
                rows.Add([surface.Label, label, $"({G3(start.X)}, {G3(start.Y)})", run.EscapeStep?.ToString(CultureInfo.InvariantCulture) ?? $"not in {maxSteps}",
                          $"({G3(run.X[^1])}, {G3(run.Y[^1])})", G3(run.F[^1])]);
                for (int i = 0; i < run.X.Length; i++) csv.Add([surface.Key, key, i, run.X[i], run.Y[i], run.F[i]]);
            }
            Plots.Contours(report.PathOf($"paths-{surface.Key}.png"), $"{surface.Label}: paths from ({G3(surface.Start.X)}, {G3(surface.Start.Y)})", surface.Value,
                surface.XRange, surface.YRange, surface.Levels, runs.Take(Methods.Length).Select(r => new Series(r.Label, r.Run.X, r.Run.Y)));
        }
        report.Heading("Steps to escape (first step with f ≤ −0.5)");
        report.Table(["surface", "method", "start", "steps to escape", "last point", "last f"], rows);
        foreach (var surface in Surfaces) report.Image($"paths-{surface.Key}.png", $"{surface.Label}: contour lines of f and each method's path");
        report.Csv("paths.csv", "surface,method,step,x,y,f", csv);
        report.Heading("What the figures show");
        string Steps(string surface, string method) =>
            report.Figures[$"{surface}.{method}.escaped"] == 1 ? report.Figures[$"{surface}.{method}.steps"].ToString(CultureInfo.InvariantCulture) + " steps" : $"not within {maxSteps} steps";
        report.Text($"At a saddle point the gradient is exactly zero, so gradient descent started there never moves (x² − y²: {Steps("saddle", "gd-at-saddle")}; " +
                    $"monkey saddle: {Steps("monkey", "gd-at-saddle")}), and neither would momentum, Nesterov or Adam, whose steps are built from that zero gradient; " +
                    $"gradient noise is what moves it off (x² − y²: {Steps("saddle", "noisy-at-saddle")}; monkey saddle: {Steps("monkey", "noisy-at-saddle")}). " +
                    $"From a start {G3(Surfaces[0].Start.Y)} off the saddle's attracting line y = 0, gradient descent first runs towards the saddle and then leaves along y, " +
                    $"its distance from the line growing by a factor 1 + 2α per step on x² − y² (gradient descent: {Steps("saddle", "gd")}; momentum: {Steps("saddle", "momentum")}; " +
                    $"Nesterov: {Steps("saddle", "nesterov")}; Adam: {Steps("saddle", "adam")}). " +
                    "The monkey saddle is flatter: its gradient is quadratic in the distance from the origin, so gradient descent slows down as it nears it " +
                    $"(gradient descent: {Steps("monkey", "gd")}; momentum: {Steps("monkey", "momentum")}; Adam: {Steps("monkey", "adam")}). " +
                    "On the plateau the gradient carries the factor e^(−(y − 2)²), small far from the well. Momentum accumulates a small but consistent gradient " +
                    $"into up to 1/(1 − μ) = {1 / (1 - Momentum):0.#} times the step, and Adam's step is about α whatever the gradient's size " +
                    $"(gradient descent: {Steps("plateau", "gd")}; momentum: {Steps("plateau", "momentum")}; Adam: {Steps("plateau", "adam")}).");
    }

    /// <summary>Minimises the surface from <paramref name="start"/>; stops at the first point with f ≤ <see cref="EscapeLevel"/>.</summary>
    private static Trajectory Descend(Surface surface, Method method, (float X, float Y) start, int maxSteps, ulong seed)
    {
        var x = Tensor.FromArray([start.X], 1);
        var y = Tensor.FromArray([start.Y], 1);
        x.RequiresGrad = y.RequiresGrad = true;
        var optimizer = method.Create([x, y]);
        var rng = new Rng(seed);
        var (xs, ys, fs) = (new List<double>(), new List<double>(), new List<double>());
        for (int step = 0; ; step++)
        {
            optimizer.ZeroGrad();
            var f = surface.Loss(x, y).Sum();
            (double value, double a, double b) = (f.Item(), x.Item(), y.Item());
            xs.Add(a);
            ys.Add(b);
            fs.Add(value);
            if (value <= EscapeLevel) return new Trajectory([.. xs], [.. ys], [.. fs], step);
            if (step == maxSteps || !double.IsFinite(value)) return new Trajectory([.. xs], [.. ys], [.. fs], null);
            f.Backward();
            if (method.Noisy)
                foreach (var parameter in new[] { x, y }) parameter.Grad!.Span[0] += NoiseStandardDeviation * rng.NextNormal();
            optimizer.Step();
        }
    }
}
