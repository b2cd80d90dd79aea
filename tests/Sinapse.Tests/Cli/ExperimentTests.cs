using System.Diagnostics;
using Sinapse.Cli.Experiments;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Cli;

/// <summary>
/// Every experiment of <c>sinapse experiment</c> in quick mode: it writes report.md with its
/// plots and CSV embedded or linked, and shows the property it exists to show.
/// </summary>
public class ExperimentTests
{
    public static TheoryData<string> Names()
    {
        var names = new TheoryData<string>();
        foreach (var experiment in ExperimentCatalog.All) names.Add(experiment.Name);
        return names;
    }

    private static Report RunQuick(string name, TempDirectory directory)
    {
        var clock = Stopwatch.StartNew();
        var report = ExperimentCatalog.Find(name).Execute(new ExperimentOptions(directory.Path, Seed: 42, Quick: true));
        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), $"{name} --quick took {clock.Elapsed}");
        return report;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void WritesItsReportPlotsAndNumbers(string name)
    {
        using var directory = new TempDirectory();
        var report = RunQuick(name, directory);
        var markdown = File.ReadAllText(directory.File("report.md"));
        Assert.StartsWith("# ", markdown);
        Assert.Contains("## What the figures show", markdown);
        Assert.Contains(report.Files, f => f.EndsWith(".png"));
        Assert.Contains(report.Files, f => f.EndsWith(".csv"));
        foreach (var file in report.Files)
        {
            Assert.True(new FileInfo(directory.File(file)).Length > 0, $"{name}: {file} is missing or empty");
            Assert.Contains($"({file})", markdown);
        }
        foreach (var png in report.Files.Where(f => f.EndsWith(".png")))
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(directory.File(png))[..4]);

        switch (name)
        {
            case "symmetry":
                Assert.Equal(0, report.Figures["identical.largest_difference"]);
                Assert.True(report.Figures["random.smallest_difference"] > 0);
                // The course's exercise: the random head splits the last convolution's filters, the layers below stay exactly symmetric.
                Assert.True(report.Figures["course.conv3"] > 0);
                Assert.Equal(0, report.Figures["course.conv1"]);
                Assert.Equal(0, report.Figures["course.conv2"]);
                break;
            case "init":
                Assert.True(report.Figures["sigmoid-normal.first_over_last"] <= 0.01, $"first/last = {report.Figures["sigmoid-normal.first_over_last"]}");
                Assert.True(report.Figures["relu-he.first_over_last"] > 0.01);
                Assert.True(report.Figures["tanh-xavier.first_over_last"] > 0.01, $"first/last = {report.Figures["tanh-xavier.first_over_last"]}");
                break;
            case "saddle":
                // Zero gradient at the saddle point: gradient descent from it stays; from the nearby start the other methods leave.
                Assert.Equal(0, report.Figures["saddle.gd-at-saddle.escaped"]);
                Assert.Equal(0, report.Figures["monkey.gd-at-saddle.escaped"]);
                Assert.Equal(1, report.Figures["saddle.noisy-at-saddle.escaped"]);
                foreach (var method in new[] { "gd", "noisy", "momentum", "nesterov", "adam" })
                    Assert.Equal(1, report.Figures[$"saddle.{method}.escaped"]);
                foreach (var method in new[] { "momentum", "nesterov", "adam" })
                {
                    Assert.Equal(1, report.Figures[$"monkey.{method}.escaped"]);
                    Assert.Equal(1, report.Figures[$"plateau.{method}.escaped"]);
                    Assert.True(report.Figures[$"saddle.{method}.steps"] < report.Figures["saddle.gd.steps"], $"{method} took {report.Figures[$"saddle.{method}.steps"]} steps");
                }
                break;
            case "clipping":
                Assert.Equal(1, report.Figures["none.diverged"]);
                Assert.Equal(0, report.Figures["value.diverged"]);
                Assert.Equal(0, report.Figures["norm.diverged"]);
                break;
            case "receptive-field":
                Assert.Equal(0, report.Figures["max.mismatches"]);
                Assert.Equal(1, report.Figures["average.mismatches"]);   // the course's slip: 2 where the window's mean is 1.5
                Assert.Contains("The max pooling matches the course's worked example exactly.", markdown);
                Assert.Contains("the course writes 2, the computed value is 1.5", markdown);
                Assert.Equal(5, report.Figures["stacked.receptive_field"]);
                break;
            case "precision":
                Assert.True(report.Figures["bf16.saved_bytes"] < 0.6 * report.Figures["fp32.saved_bytes"]);
                Assert.Equal(report.Figures["bf16.saved_bytes"], report.Figures["fp16.saved_bytes"]);
                foreach (var key in new[] { "fp32", "bf16", "fp16" }) Assert.True(report.Figures[$"{key}.accuracy"] > 0.5, $"{key}: {report.Figures[$"{key}.accuracy"]}");
                Assert.True(report.Figures["fp16.unscaled.lost_fraction"] > report.Figures["fp16.scaled.lost_fraction"]);
                break;
            case "regularization":
                Assert.True(report.Figures["l1.near_zero"] > report.Figures["none.near_zero"]);
                Assert.True(report.Figures["activity-l1.activation_zeros"] > report.Figures["none.activation_zeros"],
                    $"zeros after ReLU: {report.Figures["activity-l1.activation_zeros"]} with L1 on activations, {report.Figures["none.activation_zeros"]} without");
                Assert.Contains("| residual + stochastic depth 0.2 |", markdown);
                break;
            case "modes":
                Assert.True(report.Figures["online.updates"] > report.Figures["m16.updates"]);
                Assert.Equal(2, report.Figures["full.updates"]);
                break;
            case "transfer":
                foreach (var method in new[] { "(a) new head, frozen features", "(b) fine-tune all layers", "(c) from scratch" })
                    Assert.Contains($"| {method} |", markdown);
                Assert.True(report.Figures["frozen.trainable"] < report.Figures["fine-tune.trainable"]);
                Assert.Equal(report.Figures["fine-tune.trainable"], report.Figures["scratch.trainable"]);
                break;
            case "cnn-vs-dense":
                Assert.Equal(784 * 25_088 + 25_088, report.Figures["dense-same-output.parameters"]);
                Assert.Equal(3 * 3 * 32 + 32, report.Figures["conv.parameters"]);
                Assert.True(report.Figures["cnn.shift6"] < report.Figures["cnn.shift0"] && report.Figures["mlp.shift6"] < report.Figures["mlp.shift0"]);
                break;
            case "resume":
                Assert.Equal(0, report.Figures["largest_weight_difference"]);
                Assert.Equal(1, report.Figures["identical_weight_files"]);
                Assert.Equal(0, report.Figures["largest_loss_difference"]);
                break;
            case "batchnorm":
                // Four configurations × without/with BN: on probabilities at the main seed and in the seeds' mean, on logits at the main seed.
                Assert.Equal(24, report.Figures.Count);
                Assert.Contains("| (1) baseline", markdown);
                Assert.Contains("## Mean test accuracy over seeds 42, 43, 44", markdown);
                Assert.Contains("| configuration | course, no BN | measured, no BN | course, BN | measured, BN | from logits, no BN | from logits, BN |", markdown);
                Assert.Contains("| (3) init uniform(-5, 5) | 0.352 |", markdown);
                Assert.Contains("| configuration | course, no BN | measured, no BN | course, BN | measured, BN |\n", markdown);
                break;
        }
    }

    [Fact]
    public void AnUnknownNameListsTheValidOnes()
    {
        var error = Assert.Throws<ArgumentException>(() => ExperimentCatalog.Find("batchnrom"));
        Assert.Contains("'batchnrom'", error.Message);
        foreach (var experiment in ExperimentCatalog.All) Assert.Contains(experiment.Name, error.Message);
        Assert.Contains("all", error.Message);
    }
}
