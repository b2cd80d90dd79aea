using Sinapse.Tensors;

namespace Sinapse.Data;

/// <summary>
/// Training-time augmentations for image batches [B, C, H, W], as values for
/// <see cref="DataLoader.Augmentation"/>: each returns an <c>Action&lt;Tensor, Rng&gt;</c> that
/// changes a batch in place, drawing its random choices from the loader's Rng image by image in
/// batch order (so a seed gives the same augmented batches every run). The batch keeps its size:
/// crops are resampled or shifted back to H×W. They run after normalisation, so the fill of a
/// shifted crop (0 by default) is the mean colour rather than black.
/// </summary>
public static class Augmentation
{
    /// <summary>Mirrors each image left–right with probability <paramref name="probability"/> (torchvision's RandomHorizontalFlip).</summary>
    public static Action<Tensor, Rng> HorizontalFlip(float probability = 0.5f)
    {
        CheckProbability(probability);
        return (batch, rng) =>
        {
            var (count, channels, height, width) = ImageBatch(batch, "HorizontalFlip");
            var values = batch.Span;
            for (int image = 0; image < count; image++)
            {
                if (!(rng.NextFloat() < probability)) continue;
                var pixels = values.Slice(image * channels * height * width, channels * height * width);
                for (int row = 0; row < channels * height; row++) pixels.Slice(row * width, width).Reverse();
            }
        };
    }

    /// <summary>Mirrors each image top–bottom with probability <paramref name="probability"/> (torchvision's RandomVerticalFlip).</summary>
    public static Action<Tensor, Rng> VerticalFlip(float probability = 0.5f)
    {
        CheckProbability(probability);
        return (batch, rng) =>
        {
            var (count, channels, height, width) = ImageBatch(batch, "VerticalFlip");
            var values = batch.Span;
            for (int image = 0; image < count; image++)
            {
                if (!(rng.NextFloat() < probability)) continue;
                for (int c = 0; c < channels; c++)
                {
                    var plane = values.Slice((image * channels + c) * height * width, height * width);
                    for (int top = 0, bottom = height - 1; top < bottom; top++, bottom--)
                        for (int x = 0; x < width; x++)
                            (plane[top * width + x], plane[bottom * width + x]) = (plane[bottom * width + x], plane[top * width + x]);
                }
            }
        };
    }

    /// <summary>
    /// A random H×W window of each image padded by <paramref name="padding"/> on every side with
    /// <paramref name="fill"/>: the image shifted by up to ±padding pixels each way
    /// (torchvision's <c>RandomCrop(size, padding)</c>, CIFAR's usual augmentation).
    /// </summary>
    public static Action<Tensor, Rng> RandomCrop(int padding, float fill = 0f)
    {
        if (padding < 1) throw new ArgumentOutOfRangeException(nameof(padding), padding, "a random crop needs a padding of at least 1 pixel");
        float[] scratch = [];
        return (batch, rng) =>
        {
            var (count, channels, height, width) = ImageBatch(batch, "RandomCrop");
            int plane = height * width;
            if (scratch.Length != plane) scratch = new float[plane];
            var values = batch.Span;
            for (int image = 0; image < count; image++)
            {
                // torchvision draws the window's top, then its left, in the padded image.
                int shiftY = rng.NextInt(2 * padding + 1) - padding, shiftX = rng.NextInt(2 * padding + 1) - padding;
                if (shiftY == 0 && shiftX == 0) continue;
                int fromX = Math.Max(0, -shiftX), toX = Math.Min(width, width - shiftX); // output columns whose source lies inside
                for (int c = 0; c < channels; c++)
                {
                    var pixels = values.Slice((image * channels + c) * plane, plane);
                    pixels.CopyTo(scratch);
                    for (int y = 0; y < height; y++)
                    {
                        var row = pixels.Slice(y * width, width);
                        int sourceY = y + shiftY;
                        if ((uint)sourceY >= (uint)height || fromX >= toX)
                        {
                            row.Fill(fill);
                            continue;
                        }
                        row[..fromX].Fill(fill);
                        scratch.AsSpan(sourceY * width + fromX + shiftX, toX - fromX).CopyTo(row[fromX..toX]);
                        row[toX..].Fill(fill);
                    }
                }
            }
        };
    }

    /// <summary>
    /// A random window covering <paramref name="minScale"/>..<paramref name="maxScale"/> of each
    /// image's area with an aspect ratio (width/height) log-uniform in
    /// <paramref name="minRatio"/>..<paramref name="maxRatio"/>, resampled bilinearly back to H×W:
    /// torchvision's <c>RandomResizedCrop</c> (ten tries, then the central crop of the nearest allowed ratio).
    /// </summary>
    public static Action<Tensor, Rng> RandomResizedCrop(float minScale = 0.08f, float maxScale = 1f, float minRatio = 3f / 4, float maxRatio = 4f / 3)
    {
        if (!(minScale > 0 && minScale <= maxScale && maxScale <= 1))
            throw new ArgumentException($"RandomResizedCrop needs 0 < minScale <= maxScale <= 1, got {minScale} and {maxScale}.");
        if (!(minRatio > 0 && minRatio <= maxRatio && float.IsFinite(maxRatio)))
            throw new ArgumentException($"RandomResizedCrop needs 0 < minRatio <= maxRatio, got {minRatio} and {maxRatio}.");
        float[] scratch = [];
        return (batch, rng) =>
        {
            var (count, channels, height, width) = ImageBatch(batch, "RandomResizedCrop");
            int size = channels * height * width;
            if (scratch.Length != size) scratch = new float[size];
            var values = batch.Span;
            for (int image = 0; image < count; image++)
            {
                var (top, left, cropHeight, cropWidth) = CropWindow(rng, height, width, minScale, maxScale, minRatio, maxRatio);
                if (cropHeight == height && cropWidth == width) continue;
                var pixels = values.Slice(image * size, size);
                pixels.CopyTo(scratch);
                ImageResize.BilinearRegion(scratch, channels, height, width, top, left, cropHeight, cropWidth, pixels, height, width);
            }
        };
    }

    /// <summary>The augmentations one after another, each drawing from the same Rng.</summary>
    public static Action<Tensor, Rng> Compose(params Action<Tensor, Rng>[] steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        if (steps.Any(s => s == null)) throw new ArgumentException("An augmentation in Compose is null.", nameof(steps));
        var copy = (Action<Tensor, Rng>[])steps.Clone();
        return (batch, rng) =>
        {
            foreach (var step in copy) step(batch, rng);
        };
    }

    static (int Top, int Left, int Height, int Width) CropWindow(Rng rng, int height, int width, float minScale, float maxScale, float minRatio, float maxRatio)
    {
        double area = (double)height * width, logMin = Math.Log(minRatio), logMax = Math.Log(maxRatio);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double targetArea = area * (minScale + (maxScale - minScale) * rng.NextDouble());
            double ratio = Math.Exp(logMin + (logMax - logMin) * rng.NextDouble());
            int w = (int)Math.Round(Math.Sqrt(targetArea * ratio), MidpointRounding.ToEven);
            int h = (int)Math.Round(Math.Sqrt(targetArea / ratio), MidpointRounding.ToEven);
            if (w > 0 && w <= width && h > 0 && h <= height)
                return (rng.NextInt(height - h + 1), rng.NextInt(width - w + 1), h, w);
        }
        double inRatio = (double)width / height;
        var (cropHeight, cropWidth) = inRatio < minRatio ? ((int)Math.Round(width / minRatio, MidpointRounding.ToEven), width)
            : inRatio > maxRatio ? (height, (int)Math.Round(height * maxRatio, MidpointRounding.ToEven))
            : (height, width);
        return ((height - cropHeight) / 2, (width - cropWidth) / 2, cropHeight, cropWidth);
    }

    static (int Count, int Channels, int Height, int Width) ImageBatch(Tensor batch, string name)
    {
        if (batch.Rank != 4)
            throw new ArgumentException($"{name} augments image batches [B, C, H, W], got features of shape {batch.Shape}.");
        return (batch.Shape[0], batch.Shape[1], batch.Shape[2], batch.Shape[3]);
    }

    static void CheckProbability(float probability)
    {
        if (!(probability >= 0 && probability <= 1))
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "a probability lies in [0, 1]");
    }
}
