using System.Globalization;

namespace Sinapse.Cli.Experiments;

/// <summary>What every experiment is given: where to write, the seed, the budget, and optional inputs.</summary>
/// <param name="Quick">A reduced budget (a few hundred examples, one or two epochs) that finishes in seconds; false runs the course's protocol.</param>
/// <param name="Data">A directory with MNIST-layout IDX files; null for the bundled MNIST.</param>
/// <param name="Image">A picture for the receptive-field experiment's filters; null for the bundled one.</param>
internal sealed record ExperimentOptions(string Output, ulong Seed = 42, bool Quick = false, string? Data = null, string? Image = null);

/// <summary>
/// One of the course's experiments: runs, prints its table, and fills a <see cref="Report"/>
/// (report.md, PNG plots, CSV numbers) in its output directory.
/// </summary>
internal abstract class Experiment
{
    /// <summary>The command-line name: <c>sinapse experiment NAME</c>.</summary>
    public abstract string Name { get; }

    /// <summary>The report's title.</summary>
    public abstract string Title { get; }

    /// <summary>Whether it trains on a dataset (and so takes <c>--data</c>).</summary>
    public virtual bool UsesData => true;

    public abstract void Run(ExperimentOptions options, Report report);

    /// <summary>Runs the experiment into <see cref="ExperimentOptions.Output"/> and writes report.md.</summary>
    public Report Execute(ExperimentOptions options)
    {
        var report = new Report(options.Output, Title);
        Run(options, report);
        report.Save();
        return report;
    }

    protected static string F4(double? value) => value is double v ? v.ToString("F4", CultureInfo.InvariantCulture) : "—";

    protected static string Percent(double? value) => value is double v ? (100 * v).ToString("F2", CultureInfo.InvariantCulture) + "%" : "—";

    protected static string G3(double value) => value.ToString("G3", CultureInfo.InvariantCulture);

    protected static string Budget(ExperimentOptions options) => options.Quick ? "quick budget (--quick)" : "the course's protocol";
}

/// <summary>Every experiment, by name.</summary>
internal static class ExperimentCatalog
{
    public static IReadOnlyList<Experiment> All { get; } =
    [
        new BatchNormExperiment(),
        new SymmetryExperiment(),
        new InitExperiment(),
        new OptimizersExperiment(),
        new SaddleExperiment(),
        new ModesExperiment(),
        new SchedulesExperiment(),
        new RegularizationExperiment(),
        new ClippingExperiment(),
        new TransferExperiment(),
        new ResumeExperiment(),
        new ReceptiveFieldExperiment(),
        new ConvolutionVsDenseExperiment(),
        new AutoencoderExperiment(),
        new PrecisionExperiment(),
    ];

    public static string Names => string.Join(", ", All.Select(e => e.Name)) + " or all";

    public static Experiment Find(string name) =>
        All.FirstOrDefault(e => string.Equals(e.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown experiment '{name}'. Expected one of: {Names}.");
}
