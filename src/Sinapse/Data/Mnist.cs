using Sinapse.Tensors;

namespace Sinapse.Data;

/// <summary>
/// Loads a directory in the MNIST layout: the four IDX files of MNIST, Fashion-MNIST, KMNIST and
/// the like, plain or gzip. Images come back as raw 0..255 floats of shape [N, 1, H, W];
/// normalisation is an <see cref="InputTransform"/>, fitted on the training set.
/// </summary>
public static class Mnist
{
    public const string TrainImages = "train-images-idx3-ubyte";
    public const string TrainLabels = "train-labels-idx1-ubyte";
    public const string TestImages = "t10k-images-idx3-ubyte";
    public const string TestLabels = "t10k-labels-idx1-ubyte";

    /// <summary>Where Sinapse keeps its bundled copy, relative to the repository's root and to the tool's directory.</summary>
    public const string BundledDirectory = "data/mnist";

    /// <summary>Reads the training and test sets from <paramref name="directory"/>.</summary>
    public static (Dataset Train, Dataset Test) Load(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"The MNIST directory {Path.GetFullPath(directory)} does not exist.");
        // Resolve all four names first, so a directory missing a file fails before reading 50 MB.
        var files = Array.ConvertAll([TrainImages, TrainLabels, TestImages, TestLabels], stem => Find(directory, stem));
        var train = LoadPair(files[0], files[1]);
        var test = LoadPair(files[2], files[3]);
        return (train, test);
    }

    /// <summary>Reads the bundled MNIST found by <see cref="FindBundledDirectory"/>.</summary>
    public static (Dataset Train, Dataset Test) LoadBundled() => Load(FindBundledDirectory());

    /// <summary>
    /// The bundled data/mnist, found as <see cref="BundledData"/> finds data: beside the program (the
    /// <c>sinapse</c> tool carries a copy), then in a Sinapse repository around the current directory
    /// or the program. The Sinapse package itself carries no data: elsewhere this is a one-line
    /// error saying to call <see cref="Load"/> with a directory holding the four IDX files.
    /// </summary>
    public static string FindBundledDirectory() =>
        BundledData.Find("mnist", $"load a copy with Mnist.Load(directory), a directory holding the four IDX files such as {TrainImages}.gz (in the sinapse tool: --data DIR)",
            directory => Candidates(directory, TrainImages).Any(File.Exists));

    static Dataset LoadPair(string imagesPath, string labelsPath)
    {
        var labels = Idx.Read(labelsPath);
        var images = Idx.Read(imagesPath);
        string imagesName = Path.GetFileName(imagesPath), labelsName = Path.GetFileName(labelsPath);
        if (images.Rank != 3)
            throw new InvalidDataException($"{imagesName} should hold images of shape [N, height, width], but holds shape {images.Shape}.");
        if (labels.Rank != 1)
            throw new InvalidDataException($"{labelsName} should hold labels of shape [N], but holds shape {labels.Shape}.");
        if (images.Shape[0] != labels.Shape[0])
            throw new InvalidDataException(
                $"{imagesName} holds {images.Shape[0]} images but {labelsName} holds {labels.Shape[0]} labels; " +
                "the two files must pair one label with each image (are they from the same dataset and split?).");
        // [N, H, W] → [N, 1, H, W]: the data is contiguous, so adding the channel axis is only a new shape.
        var withChannel = new Tensor(new Shape(images.Shape[0], 1, images.Shape[1], images.Shape[2]), images.Buffer);
        return new Dataset(withChannel, labels);
    }

    static string Find(string directory, string stem)
    {
        var candidates = Candidates(directory, stem);
        foreach (var path in candidates)
            if (File.Exists(path)) return path;
        throw new FileNotFoundException(
            $"The MNIST directory {Path.GetFullPath(directory)} has no {stem} file. Looked for: " +
            $"{string.Join(", ", candidates.Select(Path.GetFileName))}.", Path.Combine(directory, stem));
    }

    /// <summary>The standard name, the dotted variant some mirrors use ("train-images.idx3-ubyte"), each plain or .gz.</summary>
    static string[] Candidates(string directory, string stem)
    {
        var dotted = stem.Replace("-idx", ".idx", StringComparison.Ordinal);
        return [.. new[] { stem, stem + ".gz", dotted, dotted + ".gz" }.Select(name => Path.Combine(directory, name))];
    }
}
