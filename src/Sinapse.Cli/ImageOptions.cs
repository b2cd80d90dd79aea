using System.CommandLine;
using Sinapse.Data;
using Sinapse.Tensors;
using Sinapse.Vision;

namespace Sinapse.Cli;

/// <summary>
/// The options that read an image folder with train/ and test/ (one sub-folder per class), shared by
/// <c>train --images</c> and <c>transfer --images</c>: size, channels and training-time augmentation.
/// </summary>
internal sealed class ImageOptions(string imagesDescription, int? defaultSize)
{
    public Option<string?> Images { get; } = new("--images") { Description = imagesDescription };
    public Option<int?> Size { get; } = new("--image-size")
    {
        Description = "The side the images are resized to (shorter side, then the centre square)" + (defaultSize is int size ? $" (default {size})." : "; default: the first training image's own size."),
        DefaultValueFactory = _ => defaultSize,
    };
    public Option<string> Channels { get; } = new("--channels") { Description = "rgb, gray, or stored (each file's own: colour stays colour, grey stays grey).", DefaultValueFactory = _ => "stored" };
    public Option<string> Augment { get; } = new("--augment")
    {
        Description = "Training-time augmentations, comma-separated: flip (left–right, p = 0.5), crop (shifts of up to an eighth of the side), or none.",
        DefaultValueFactory = _ => "none",
    };

    /// <summary>Every option, for commands that add them all.</summary>
    public Option[] All => [Images, Size, Channels, Augment];

    /// <summary>train/ and test/ of <paramref name="root"/> as --image-size and --channels say (see <see cref="LoadFolder"/>).</summary>
    public (Dataset Train, Dataset Test) Load(ParseResult parse, string root) =>
        LoadFolder(root, parse.GetValue(Size), ParseChannels(parse.GetValue(Channels)!));

    /// <summary>
    /// train/ and test/ of <paramref name="root"/> as raw 0..255 values, both with train/'s classes, size and channels;
    /// <paramref name="size"/> null is the first training image's own size.
    /// </summary>
    public static (Dataset Train, Dataset Test) LoadFolder(string root, int? size, ImageChannels channels)
    {
        foreach (var split in new[] { "train", "test" })
            if (!Directory.Exists(Path.Combine(root, split)))
                throw new DirectoryNotFoundException($"--images {root} has no {split}/ folder; it needs train/ and test/, each with one sub-folder of images per class.");
        int side = size ?? FirstImageSize(Path.Combine(root, "train"));
        if (side < 1) throw new ArgumentException($"--image-size must be at least 1 pixel, got {side}.");
        var train = ImageFolder.Load(Path.Combine(root, "train"), side, normalization: ImageNormalization.None, channels: channels);
        // The test images take train/'s channel count, so a stray grey test file cannot change the input shape.
        var test = ImageFolder.Load(Path.Combine(root, "test"), side, normalization: ImageNormalization.None,
            channels: train.FeatureShape[0] == 1 ? ImageChannels.Grayscale : ImageChannels.Rgb);
        if (train.ClassCount < 2) throw new InvalidDataException($"{Path.Combine(root, "train")} has one class folder ('{train.ClassNames![0]}'); telling classes apart needs at least two.");
        if (!train.ClassNames!.SequenceEqual(test.ClassNames!))
            throw new InvalidDataException($"{root}: train/ has the classes {string.Join(", ", train.ClassNames!)} but test/ has {string.Join(", ", test.ClassNames!)}; they must be the same.");
        return (train, test);
    }

    /// <summary>The --augment steps for images of <paramref name="size"/> pixels; shifted-in pixels get <paramref name="fill"/>. Null for none.</summary>
    public Action<Tensor, Rng>? Augmentation(ParseResult parse, int size, float fill)
    {
        var names = parse.GetValue(Augment)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(n => n.ToLowerInvariant()).ToList();
        if (names is ["none"]) return null;
        var steps = names.Select(name => name switch
        {
            "flip" => Data.Augmentation.HorizontalFlip(),
            "crop" => Data.Augmentation.RandomCrop(Math.Max(1, size / 8), fill),
            _ => throw new ArgumentException($"Unknown --augment '{name}'. Expected flip, crop (comma-separated) or none."),
        }).ToArray();
        if (steps.Length == 0) throw new ArgumentException("--augment is empty; give flip, crop or none.");
        return Data.Augmentation.Compose(steps);
    }

    static ImageChannels ParseChannels(string name) => name.Trim().ToLowerInvariant() switch
    {
        "rgb" => ImageChannels.Rgb,
        "gray" or "grey" or "grayscale" => ImageChannels.Grayscale,
        "stored" => ImageChannels.AsStored,
        _ => throw new ArgumentException($"Unknown --channels '{name}'. Expected rgb, gray or stored."),
    };

    static int FirstImageSize(string root)
    {
        var image = Vision.Images.Load(ImageFolder.Find(root).Files[0].Path);
        return Math.Min(image.Shape[1], image.Shape[2]);
    }
}
