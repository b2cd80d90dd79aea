using Sinapse.Data;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Cli;

/// <summary><c>sinapse train --csv FILE --target COLUMN</c> and <c>sinapse experiment</c>'s bad input: one clear line, never a stack trace.</summary>
public class TabularTrainingTests
{
    internal static string BundledTable(string name) => BundledData.Find("tabular/" + name, "the tests run inside the repository");

    [Fact]
    public void TheShippedTablesLoadWithNamedClasses()
    {
        var wine = Csv.Load(BundledTable("wine.csv"), "class");
        Assert.Equal((178, 13, 3), (wine.Count, wine.FeatureShape[0], wine.ClassCount));
        Assert.Equal(["class_0", "class_1", "class_2"], wine.ClassNames!);
        var cancer = Csv.Load(BundledTable("breast-cancer.csv"), "class");
        Assert.Equal((569, 30), (cancer.Count, cancer.FeatureShape[0]));
        Assert.Equal(["benign", "malignant"], cancer.ClassNames!);
        var (train, test) = wine.Split(0.75, 42);
        Assert.Equal((134, 44), (train.Count, test.Count));
        Assert.Equal(new Sinapse.Tensors.Shape(134, 3), train.WithOneHotTargets().Targets.Shape);
        var standardized = InputTransform.Standardize().Fit(train).Apply(train).Features.ToArray();
        Assert.True(Math.Abs(standardized.Where((_, i) => i % 13 == 12).Average()) < 1e-4);   // proline: mean 0 on the training part
    }

    [Fact]
    public void TrainsAnMlpOnTheWineTable()
    {
        using var directory = new TempDirectory();
        var output = CliRunner.Succeed("train", "--csv", BundledTable("wine.csv"), "--target", "class", "--epochs", "20", "--batch-size", "16", "--out", directory.Path);
        Assert.Contains("134 examples", output);
        var accuracy = double.Parse(output.Split('\n').Last(l => l.StartsWith("test accuracy:"))["test accuracy:".Length..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(accuracy >= 0.85, $"test accuracy {accuracy}");
    }

    [Fact]
    public void BadTablesGetOneClearLine()
    {
        using var directory = new TempDirectory();
        File.WriteAllText(directory.File("t.csv"), "x1,x2,y\n1,2,a\n3,oops,b\n");
        File.WriteAllText(directory.File("empty.csv"), "");

        var missing = CliRunner.OneErrorLine("train", "--csv", directory.File("t.csv"), "--target", "label");
        Assert.Contains("no column 'label'", missing);
        Assert.Contains("'x1', 'x2', 'y'", missing);

        var cell = CliRunner.OneErrorLine("train", "--csv", directory.File("t.csv"), "--target", "y");
        Assert.Contains("line 3, column 2 ('x2')", cell);
        Assert.Contains("'oops'", cell);

        Assert.Contains("empty.csv holds no data rows", CliRunner.OneErrorLine("train", "--csv", directory.File("empty.csv"), "--target", "y"));
        Assert.Contains("--csv needs --target", CliRunner.OneErrorLine("train", "--csv", directory.File("t.csv")));
    }

    [Fact]
    public void AnUnknownExperimentListsTheValidNames()
    {
        var line = CliRunner.OneErrorLine("experiment", "batchnrom", "--quick");
        Assert.Contains("Unknown experiment 'batchnrom'", line);
        Assert.Contains("batchnorm, symmetry, init", line);
    }
}
