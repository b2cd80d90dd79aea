using Sinapse.Tests.Support;

namespace Sinapse.Tests.Cli;

/// <summary>Runs without --out are numbered runs/train, runs/train2 … instead of overwriting each other.</summary>
public class OutputDirectoryTests
{
    [Fact]
    public void EachTrainWithoutOutGetsTheNextNumberedDirectory()
    {
        using var data = TrainResumeTests.SyntheticIdx(60, 20);
        using var work = new TempDirectory();
        string[] train = ["train", "--data", data.Path, "--model", "mlp", "--hidden", "8", "--epochs", "1", "--validation", "0", "--threads", "2"];
        Assert.Contains($"model: {Path.Combine("runs", "train", "model")}", CliRunner.SucceedIn(work.Path, train));
        Assert.Contains($"model: {Path.Combine("runs", "train2", "model")}", CliRunner.SucceedIn(work.Path, train));
        Assert.Contains($"model: {Path.Combine("runs", "train3", "model")}", CliRunner.SucceedIn(work.Path, train));
        Assert.True(File.Exists(Path.Combine(work.Path, "runs", "train", "model", "model.json")));
        Assert.Contains($"model: {Path.Combine(work.Path, "mine", "model")}", CliRunner.SucceedIn(work.Path, [.. train, "--out", Path.Combine(work.Path, "mine")]));
        Assert.False(Directory.Exists(Path.Combine(work.Path, "runs", "train4")));
    }

    /// <summary>A resumed run continues in the directory the run began in, not in the next numbered one.</summary>
    [Fact]
    public void AResumedRunWritesWhereItBegan()
    {
        using var data = TrainResumeTests.SyntheticIdx(60, 20);
        using var work = new TempDirectory();
        CliRunner.SucceedIn(work.Path, "train", "--data", data.Path, "--model", "mlp", "--hidden", "8", "--epochs", "2", "--validation", "0", "--threads", "2",
            "--save-every", "1", "--stop-after", "1");
        var output = CliRunner.SucceedIn(work.Path, "train", "--resume", Path.Combine("runs", "train"));
        Assert.Contains($"model: {Path.Combine(work.Path, "runs", "train", "model")}", output);   // a checkpoint stores --out as an absolute path
        Assert.False(Directory.Exists(Path.Combine(work.Path, "runs", "train2")));
        Assert.Equal(2, File.ReadAllLines(Path.Combine(work.Path, "runs", "train", "history.csv")).Length - 1);
    }

    /// <summary>The other commands that write under runs/ by default number their runs through the same helper.</summary>
    [Fact]
    public void FiltersNumbersItsRunsToo()
    {
        using var work = new TempDirectory();
        Assert.Contains($"contact sheet      {Path.Combine("runs", "filters", "contact-sheet.png")}", CliRunner.SucceedIn(work.Path, "filters"));
        Assert.Contains($"contact sheet      {Path.Combine("runs", "filters2", "contact-sheet.png")}", CliRunner.SucceedIn(work.Path, "filters"));
    }
}
