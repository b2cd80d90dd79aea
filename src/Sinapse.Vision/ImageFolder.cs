using Sinapse.Data;
using Sinapse.Tensors;

namespace Sinapse.Vision;

/// <summary>How pixel values 0..255 are mapped before they reach a model.</summary>
public enum ImageNormalization
{
    /// <summary>x/255, then (x − mean)/std per channel with ImageNet's mean [0.485, 0.456, 0.406] and
    /// std [0.229, 0.224, 0.225] (torchvision's pretrained models); one channel uses their averages 0.449, 0.226.</summary>
    ImageNet,

    /// <summary>x/127.5 − 1 onto [−1, 1], as TensorFlow's and TFLite's MobileNets expect.</summary>
    PlusMinusOne,

    /// <summary>x/255 onto [0, 1] (torchvision's ToTensor).</summary>
    UnitRange,

    /// <summary>The raw 0..255 values.</summary>
    None,
}

/// <summary>How many channels the decoded images get.</summary>
public enum ImageChannels
{
    /// <summary>Every image as 3 channels, grey ones repeated (torchvision's ImageFolder converts to RGB too).</summary>
    Rgb,

    /// <summary>Every image as 1 channel of luma (ITU-R BT.601).</summary>
    Grayscale,

    /// <summary>Each file's own: 1 for grey files, 3 for colour ones; mixing the two is an error.</summary>
    AsStored,
}

/// <summary>
/// A folder of images, one sub-folder per class, as torchvision's <c>ImageFolder</c> reads it:
/// <c>root/cat/001.jpg, root/dog/xyz.png …</c>. Classes are the sub-folders sorted by name
/// (ordinal, as Python sorts strings), labelled 0, 1, …; a class's images are its files ending in
/// .png, .jpg, .jpeg or .bmp (any case), also in nested folders, in sorted order. Other files are
/// skipped. Images are decoded, resized so that their shorter side is <c>resize</c>, cropped to
/// <c>size</c>×<c>size</c> around the centre and normalised, all held in memory as one [N, C, size, size]
/// tensor (at 224×224 each RGB image takes 588 KB: this is for sets of hundreds to a few thousand
/// photos). Split with <see cref="Dataset.Split"/>; augment with <see cref="DataLoader.Augmentation"/>.
/// </summary>
public static class ImageFolder
{
    /// <summary>The file endings read as images; others in a class folder are skipped.</summary>
    public static readonly IReadOnlyList<string> Extensions = [".png", ".jpg", ".jpeg", ".bmp"];

    /// <summary>ImageNet's per-channel statistics on 0..1 (torchvision's Normalize for its pretrained models).</summary>
    public static readonly IReadOnlyList<float> ImageNetMean = [0.485f, 0.456f, 0.406f], ImageNetStd = [0.229f, 0.224f, 0.225f];

    /// <summary>
    /// The classes (sorted sub-folder names) and every image file with its label, without decoding
    /// anything — torchvision's <c>find_classes</c> and <c>make_dataset</c>.
    /// </summary>
    public static (IReadOnlyList<string> Classes, IReadOnlyList<(string Path, int Label)> Files) Find(string root)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException($"The image folder {Path.GetFullPath(root)} does not exist.");
        var classes = Directory.GetDirectories(root).Select(Path.GetFileName).Select(name => name!).ToList();
        classes.Sort(StringComparer.Ordinal);
        if (classes.Count == 0)
            throw new InvalidDataException(
                $"The image folder {Path.GetFullPath(root)} has no class folders. Put each class's images in a sub-folder named after it: " +
                "root/cat/1.jpg, root/dog/2.png …");
        var files = new List<(string, int)>();
        for (int label = 0; label < classes.Count; label++)
        {
            int before = files.Count;
            foreach (var path in ImagesUnder(Path.Combine(root, classes[label]))) files.Add((path, label));
            if (files.Count == before)
                throw new InvalidDataException(
                    $"The class folder '{classes[label]}' in {Path.GetFullPath(root)} holds no images ({string.Join(", ", Extensions)}). " +
                    "Add images or remove the folder.");
        }
        return (classes, files);
    }

    /// <summary>
    /// Decodes every image under <paramref name="root"/> into a <see cref="Dataset"/> of
    /// [N, C, <paramref name="size"/>, <paramref name="size"/>] features, [N] labels and the class
    /// names. <paramref name="resize"/> is the shorter side before the centre crop (default
    /// <paramref name="size"/>: no more is cut than the square needs; 256 for 224 is ImageNet's
    /// evaluation convention). Resizing is bilinear with half-pixel centres and, like PyTorch's
    /// tensor resize without antialias, does not blur before shrinking.
    /// </summary>
    public static Dataset Load(string root, int size = 224, int? resize = null, ImageNormalization normalization = ImageNormalization.ImageNet,
        ImageChannels channels = ImageChannels.Rgb)
    {
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), size, "the crop size must be at least 1 pixel");
        int shorter = resize ?? size;
        if (shorter < size)
            throw new ArgumentOutOfRangeException(nameof(resize), resize, $"the shorter side after resizing must be at least the crop size {size}");
        var (classes, files) = Find(root);
        int channelCount = channels switch
        {
            ImageChannels.Rgb => 3,
            ImageChannels.Grayscale => 1,
            _ => StoredChannels(files),
        };

        var features = Dataset.NewTensor(new Shape(files.Count, channelCount, size, size));
        var labels = Dataset.NewTensor(new Shape(files.Count));
        var errors = new Exception?[files.Count];
        int plane = channelCount * size * size;
        // Each file fills its own row, so the result does not depend on the order the workers take them in.
        Parallel.For(0, files.Count, new ParallelOptions { MaxDegreeOfParallelism = Kernels.Workers.Count }, i =>
        {
            try
            {
                var image = Images.Load(files[i].Path, grayscale: channelCount == 1);
                CropCentre(ResizeShorterSide(image, shorter), size).Span.CopyTo(features.Span.Slice(i * plane, plane));
            }
            catch (Exception error) when (error is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                errors[i] = error;
            }
        });
        if (Array.FindIndex(errors, e => e != null) is int bad and >= 0)
            throw new InvalidDataException($"{files[bad].Path} (class '{classes[files[bad].Label]}') could not be read: {errors[bad]!.Message}", errors[bad]);
        for (int i = 0; i < files.Count; i++) labels.Span[i] = files[i].Label;
        Normalize(features, normalization);
        return new Dataset(features, labels, classes.Count, classes);
    }

    /// <summary>Maps 0..255 values in place as <paramref name="normalization"/> says; [N, C, H, W] or [C, H, W].</summary>
    public static void Normalize(Tensor images, ImageNormalization normalization)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Rank is not (3 or 4)) throw new ArgumentException($"Normalize takes images [N, C, H, W] or [C, H, W], got {images.Shape}.", nameof(images));
        var values = images.Span;
        switch (normalization)
        {
            case ImageNormalization.None:
                return;
            case ImageNormalization.UnitRange:
                System.Numerics.Tensors.TensorPrimitives.Multiply(values, 1f / 255f, values);
                return;
            case ImageNormalization.PlusMinusOne:
                System.Numerics.Tensors.TensorPrimitives.Multiply(values, 1f / 127.5f, values);
                System.Numerics.Tensors.TensorPrimitives.Add(values, -1f, values);
                return;
        }
        int channels = images.Shape[images.Rank - 3];
        if (channels is not (1 or 3))
            throw new ArgumentException($"ImageNet normalisation is defined for 1 or 3 channels, got {channels} in {images.Shape}.", nameof(images));
        int planeSize = images.Shape[images.Rank - 2] * images.Shape[images.Rank - 1];
        for (int start = 0, c = 0; start < values.Length; start += planeSize, c = (c + 1) % channels)
        {
            float mean = channels == 3 ? ImageNetMean[c] : 0.449f, std = channels == 3 ? ImageNetStd[c] : 0.226f;
            // (x/255 − mean)/std as one multiply and one add.
            var plane = values.Slice(start, planeSize);
            System.Numerics.Tensors.TensorPrimitives.Multiply(plane, 1f / (255f * std), plane);
            System.Numerics.Tensors.TensorPrimitives.Add(plane, -mean / std, plane);
        }
    }

    /// <summary>
    /// [C, H, W] resized so that its shorter side is <paramref name="shorter"/>, the longer one
    /// scaled in proportion and truncated, as torchvision's Resize(int) does; unchanged when it already fits.
    /// </summary>
    public static Tensor ResizeShorterSide(Tensor image, int shorter)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Rank != 3) throw new ArgumentException($"ResizeShorterSide needs an image [C, H, W], got {image.Shape}.", nameof(image));
        if (shorter < 1) throw new ArgumentOutOfRangeException(nameof(shorter), shorter, "the shorter side must be at least 1 pixel");
        int height = image.Shape[1], width = image.Shape[2];
        var (newHeight, newWidth) = height <= width
            ? (shorter, (int)((long)shorter * width / height))
            : ((int)((long)shorter * height / width), shorter);
        return newHeight == height && newWidth == width ? image : ImageResize.Bilinear(image, newHeight, newWidth);
    }

    /// <summary>The <paramref name="size"/>×<paramref name="size"/> square at the centre of [C, H, W] (torchvision's CenterCrop rounding).</summary>
    public static Tensor CropCentre(Tensor image, int size)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Rank != 3) throw new ArgumentException($"CropCentre needs an image [C, H, W], got {image.Shape}.", nameof(image));
        int channels = image.Shape[0], height = image.Shape[1], width = image.Shape[2];
        if (size < 1 || size > height || size > width)
            throw new ArgumentOutOfRangeException(nameof(size), size, $"the crop must fit inside the {height}x{width} image");
        if (size == height && size == width) return image;
        int top = (int)Math.Round((height - size) / 2.0, MidpointRounding.ToEven), left = (int)Math.Round((width - size) / 2.0, MidpointRounding.ToEven);
        var crop = new Tensor(new Shape(channels, size, size), new float[channels * size * size]);
        var source = image.Span;
        var target = crop.Span;
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < size; y++)
                source.Slice((c * height + top + y) * width + left, size).CopyTo(target.Slice((c * size + y) * size, size));
        return crop;
    }

    /// <summary>Image files under a class folder and its sub-folders: folders in sorted path order, each one's files sorted
    /// (torchvision's <c>sorted(os.walk(...))</c>).</summary>
    static IEnumerable<string> ImagesUnder(string directory)
    {
        var directories = Directory.GetDirectories(directory, "*", SearchOption.AllDirectories).Prepend(directory).ToList();
        directories.Sort(StringComparer.Ordinal);
        foreach (var folder in directories)
        {
            var names = Directory.GetFiles(folder).Where(IsImage).ToList();
            names.Sort(StringComparer.Ordinal);
            foreach (var name in names) yield return name;
        }
    }

    static bool IsImage(string path) => Extensions.Any(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase));

    /// <summary>The channel count all files share when kept as stored; the first disagreeing pair is named.</summary>
    static int StoredChannels(IReadOnlyList<(string Path, int Label)> files)
    {
        int first = Images.StoredChannels(files[0].Path);
        for (int i = 1; i < files.Count; i++)
        {
            int channels = Images.StoredChannels(files[i].Path);
            if (channels != first)
                throw new InvalidDataException(
                    $"Images differ in their channels: {files[0].Path} has {first}, {files[i].Path} has {channels}. " +
                    "Load with ImageChannels.Rgb or ImageChannels.Grayscale to convert them all.");
        }
        return first;
    }
}
