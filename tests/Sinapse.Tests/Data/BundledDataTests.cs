using Sinapse.Data;

namespace Sinapse.Tests.Data;

public class BundledDataTests
{
    [Fact]
    public void ACopyBesideTheProgramWinsOverTheRepository()
    {
        // The test binaries carry the tool's data (it is copied beside every program that references the CLI), and the checkout above them has its own.
        Assert.True(Directory.Exists(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "data", "mnist")));
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "data", "mnist"), Mnist.FindBundledDirectory());
    }

    [Fact]
    public void FindsWhatOnlyTheRepositoryHolds() =>
        Assert.True(File.Exists(BundledData.Find("tabular/wine.csv", "unused")));

    [Fact]
    public void MissingDataIsOneLineNamingItAndTheFix()
    {
        var error = Assert.Throws<FileNotFoundException>(() => BundledData.Find("no-such-folder", "pass --data DIR"));
        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains("data/no-such-folder", error.Message);
        Assert.EndsWith("pass --data DIR.", error.Message);
    }

    [Fact]
    public void AFolderThatLacksTheRightFilesIsNotFound()
    {
        Assert.NotNull(BundledData.TryFind("mnist"));
        Assert.Null(BundledData.TryFind("mnist", directory => File.Exists(Path.Combine(directory, "no-such-file"))));
    }
}
