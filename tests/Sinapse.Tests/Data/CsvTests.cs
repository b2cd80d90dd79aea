using Sinapse.Data;
using Sinapse.IO;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Data;

public class CsvTests
{
    static string Write(TempDirectory dir, string text, string name = "table.csv")
    {
        File.WriteAllText(dir.File(name), text);
        return dir.File(name);
    }

    [Fact]
    public void LabelColumnByNameWithTextClasses()
    {
        using var dir = new TempDirectory();
        var path = Write(dir, "sepal_length,species,petal_length\n5.1,setosa,1.4\n\n7.0,versicolor,4.7\n6.3, \"virginica\" ,6.0\n");
        var data = Csv.Load(path, "species");
        Assert.Equal(new Shape(3, 2), data.Features.Shape);
        Assert.Equal([5.1f, 1.4f, 7.0f, 4.7f, 6.3f, 6.0f], data.Features.ToArray());
        Assert.Equal([0f, 1f, 2f], data.Targets.ToArray());
        Assert.Equal(["setosa", "versicolor", "virginica"], data.ClassNames!);
    }

    [Fact]
    public void LabelColumnByIndexDetectsTheHeader()
    {
        using var dir = new TempDirectory();
        var withHeader = Csv.Load(Write(dir, "a;b;label\n1e3;-2;1\n0.5;4;0\n", "h.csv"), -1, separator: ';');
        Assert.Equal([1000f, -2f, 0.5f, 4f], withHeader.Features.ToArray());
        Assert.Equal([1f, 0f], withHeader.Targets.ToArray());

        var withoutHeader = Csv.Load(Write(dir, "3,1,2\n0,4,5\n", "n.csv"), 0);
        Assert.Equal([1f, 2f, 4f, 5f], withoutHeader.Features.ToArray());
        Assert.Equal(4, withoutHeader.ClassCount);
    }

    [Fact]
    public void RegressionTargetsAreColumns()
    {
        using var dir = new TempDirectory();
        var data = Csv.Load(Write(dir, "x,y\n1,0.5\n2,-1.25\n"), "y", regression: true);
        Assert.Equal(new Shape(2, 1), data.Targets.Shape);
        Assert.Equal([0.5f, -1.25f], data.Targets.ToArray());
    }

    [Fact]
    public void BadFieldNamesLineAndColumn()
    {
        using var dir = new TempDirectory();
        var path = Write(dir, "x1,x2,y\n1,2,0\n\n3,abc,1\n");
        var error = Assert.Throws<InvalidDataException>(() => Csv.Load(path, "y"));
        Assert.Contains("table.csv line 4, column 2 ('x2')", error.Message);
        Assert.Contains("'abc'", error.Message);

        var nan = Write(dir, "1,NaN,0\n", "nan.csv");
        Assert.Contains("line 1, column 2: expected a finite number", Assert.Throws<InvalidDataException>(() => Csv.Load(nan, -1, hasHeader: false)).Message);
    }

    [Fact]
    public void RaggedLinesAndBadLabelsAreExplained()
    {
        using var dir = new TempDirectory();
        var ragged = Write(dir, "x,y\n1,0\n2\n", "ragged.csv");
        Assert.Contains("line 3 has 1 fields, but line 1 has 2", Assert.Throws<InvalidDataException>(() => Csv.Load(ragged, "y")).Message);

        var fractional = Write(dir, "x,y\n1,0\n2,0.5\n", "frac.csv");
        var error = Assert.Throws<InvalidDataException>(() => Csv.Load(fractional, "y"));
        Assert.Contains("line 3, column 2 ('y')", error.Message);
        Assert.Contains("regression: true", error.Message);

        var missing = Assert.Throws<ArgumentException>(() => Csv.Load(fractional, "label"));
        Assert.Contains("no column 'label'", missing.Message);
        Assert.Contains("'x', 'y'", missing.Message);
    }

    [Fact]
    public void ASymlinkToDevZeroIsRefusedBeforeReading()
    {
        using var dir = new TempDirectory();
        var path = dir.File("zero.csv");
        File.CreateSymbolicLink(path, "/dev/zero");
        Assert.Contains("/dev/zero", HostileFiles.RefusedInOneLine(() => Csv.Load(path, -1), path));
    }

    [Fact]
    public void ANamedPipeIsRefusedWithoutBlocking()
    {
        using var dir = new TempDirectory();
        var path = dir.File("pipe.csv");
        HostileFiles.MakeFifo(path);
        HostileFiles.RefusedWithoutBlocking(() => Csv.Load(path, -1), path);
    }

    [Fact]
    public void AnEndlessLineIsRefusedAtTheLineLimitAndNotQuoted()
    {
        using var dir = new TempDirectory();
        var path = Write(dir, "a,b\n" + new string('x', 5_000_000) + ",1\n", "long.csv");
        var message = HostileFiles.RefusedInOneLine(() => Csv.Load(path, "b"), path);
        Assert.Contains("line 2", message);
    }

    [Fact]
    public void AFileLargerThanTheLimitIsRefusedBeforeReading()
    {
        using var dir = new TempDirectory();
        var path = dir.File("huge.csv");
        using (var file = File.Create(path)) file.SetLength(InputFile.MaxCsvBytes + 1); // sparse: no disk used
        Assert.Contains("at most", HostileFiles.RefusedInOneLine(() => Csv.Load(path, -1), path));
    }

    [Fact]
    public void AMissingLabelColumnQuotesALongHeaderBriefly()
    {
        using var dir = new TempDirectory();
        var path = Write(dir, new string('1', 500_000) + ",x\n1,2\n", "wide.csv");
        Assert.Contains("no column 'y'", HostileFiles.RefusedInOneLine(() => Csv.Load(path, "y"), path));
    }
}
