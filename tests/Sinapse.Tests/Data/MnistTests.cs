using Sinapse.Data;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Data;

/// <summary>Reads the bundled MNIST once for all the tests that need it.</summary>
public sealed class BundledMnist
{
    public BundledMnist() => (Train, Test) = Mnist.LoadBundled();

    public Dataset Train { get; }

    public Dataset Test { get; }
}

public class MnistTests(BundledMnist mnist) : IClassFixture<BundledMnist>
{
    [Fact]
    public void ReadsTheBundledMnist()
    {
        Assert.Equal(60000, mnist.Train.Count);
        Assert.Equal(10000, mnist.Test.Count);
        Assert.Equal(new Shape(60000, 1, 28, 28), mnist.Train.Features.Shape);
        Assert.Equal(new Shape(10000, 1, 28, 28), mnist.Test.Features.Shape);
        Assert.Equal(new Shape(60000), mnist.Train.Targets.Shape);
        Assert.Equal(10, mnist.Train.ClassCount);
        Assert.Equal(10, mnist.Test.ClassCount);
        Assert.Equal(5f, mnist.Train.Targets.Span[0]);
        Assert.Equal(7f, mnist.Test.Targets.Span[0]);
        var pixels = mnist.Train.Features.Span;
        Assert.Equal(0f, System.Numerics.Tensors.TensorPrimitives.Min(pixels));
        Assert.Equal(255f, System.Numerics.Tensors.TensorPrimitives.Max(pixels));
    }

    [Fact]
    public void TransferLearningSplitOfTheDigits()
    {
        var low = mnist.Test.FilterClasses([0, 1, 2, 3, 4], relabel: true);
        var high = mnist.Test.FilterClasses([5, 6, 7, 8, 9], relabel: true);
        Assert.Equal(10000, low.Count + high.Count);
        Assert.Equal(5, high.ClassCount);
        Assert.Equal(4f, System.Numerics.Tensors.TensorPrimitives.Max(high.Targets.Span));
    }

    [Fact]
    public void FindsTheBundledDirectoryFromTheTestBinaries() =>
        Assert.True(File.Exists(Path.Combine(Mnist.FindBundledDirectory(), Mnist.TrainLabels + ".gz")));

    [Fact]
    public void MissingFileListsWhatWasLookedFor()
    {
        using var dir = new TempDirectory();
        WriteSet(dir, "train", 3, 3);
        Idx.Write(dir.File(Mnist.TestImages + ".gz"), Tensor.Zeros(2, 28, 28));
        var error = Assert.Throws<FileNotFoundException>(() => Mnist.Load(dir.Path));
        Assert.Contains(dir.Path, error.Message);
        Assert.Contains("t10k-labels-idx1-ubyte, t10k-labels-idx1-ubyte.gz, t10k-labels.idx1-ubyte, t10k-labels.idx1-ubyte.gz", error.Message);
    }

    [Fact]
    public void ImageAndLabelCountsMustAgree()
    {
        using var dir = new TempDirectory();
        WriteSet(dir, "train", 3, 3);
        WriteSet(dir, "t10k", 4, 2);
        var error = Assert.Throws<InvalidDataException>(() => Mnist.Load(dir.Path));
        Assert.Contains("t10k-images-idx3-ubyte holds 4 images but t10k-labels-idx1-ubyte.gz holds 2 labels", error.Message);
    }

    [Fact]
    public void ReadsPlainAndDottedNamesToo()
    {
        using var dir = new TempDirectory();
        WriteSet(dir, "train", 3, 3);
        Idx.Write(dir.File("t10k-images.idx3-ubyte"), Tensor.Full(new Shape(2, 28, 28), 7f));
        Idx.Write(dir.File("t10k-labels.idx1-ubyte"), Tensor.FromArray([9f, 1f]));
        var (train, test) = Mnist.Load(dir.Path);
        Assert.Equal(new Shape(3, 1, 28, 28), train.Features.Shape);
        Assert.Equal([9f, 1f], test.Targets.ToArray());
        Assert.Equal(10, test.ClassCount);
    }

    [Fact]
    public void MissingDirectoryIsNamed()
    {
        var error = Assert.Throws<DirectoryNotFoundException>(() => Mnist.Load("/no/such/mnist"));
        Assert.Contains("/no/such/mnist", error.Message);
    }

    /// <summary>Plain images and gzip labels, so both spellings are exercised.</summary>
    static void WriteSet(TempDirectory dir, string split, int images, int labels)
    {
        Idx.Write(dir.File($"{split}-images-idx3-ubyte"), Tensor.Zeros(images, 28, 28));
        Idx.Write(dir.File($"{split}-labels-idx1-ubyte.gz"), Tensor.FromArray(Enumerable.Range(0, labels).Select(i => (float)i).ToArray()));
    }
}
