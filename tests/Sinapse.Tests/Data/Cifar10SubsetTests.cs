using System.Security.Cryptography;
using Sinapse.Vision;
using Sinapse.Data;

namespace Sinapse.Tests.Data;

/// <summary>The bundled data/cifar10-subset is exactly what its manifest and README say.</summary>
public class Cifar10SubsetTests
{
    static readonly string Root = Path.Combine(Path.GetDirectoryName(Mnist.FindBundledDirectory())!, "cifar10-subset");

    static readonly string[] Classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    [Fact]
    public void EveryFileMatchesTheManifestAndNoneIsMissingOrExtra()
    {
        var manifest = File.ReadAllLines(Path.Combine(Root, "SHA256SUMS"))
            .Select(line => (Hash: line[..64], Path: line[66..]))
            .ToDictionary(entry => entry.Path, entry => entry.Hash);
        var files = Directory.GetFiles(Root, "*", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(Root, path).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(path => path is not ("SHA256SUMS" or "README.md"))
            .ToHashSet();
        Assert.Equal(manifest.Keys.Order(StringComparer.Ordinal), files.Order(StringComparer.Ordinal));
        foreach (var (path, hash) in manifest)
            Assert.True(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(Root, path)))) == hash, $"{path} differs from its SHA-256 in SHA256SUMS");
    }

    [Theory]
    [InlineData("train", 500)]
    [InlineData("test", 100)]
    public void EachSplitHoldsTheFirstImagesOfEveryClass(string split, int perClass)
    {
        var (classes, files) = ImageFolder.Find(Path.Combine(Root, split));
        Assert.Equal(Classes, classes);
        for (int label = 0; label < Classes.Length; label++)
            Assert.Equal(Enumerable.Range(0, perClass).Select(i => $"{i:D4}.jpg"), files.Where(f => f.Label == label).Select(f => Path.GetFileName(f.Path)));
    }

    [Fact]
    public void ImagesAreColourPhotosOf32By32()
    {
        var image = Images.Load(Path.Combine(Root, "test", "cat", "0000.jpg"));
        Assert.Equal(new Sinapse.Tensors.Shape(3, 32, 32), image.Shape);
        var span = image.Span;
        // A colour photo: its red and blue planes differ somewhere.
        Assert.False(span[..1024].SequenceEqual(span[2048..]));
    }
}
