using Sinapse.Data;
using Sinapse.Tensors;

namespace Sinapse.Tests.Data;

public class AugmentationTests
{
    /// <summary>[B, C, H, W] holding 1000·b + 100·c + 10·y + x, so every value says where it came from.</summary>
    static Tensor Numbered(int count, int channels, int height, int width)
    {
        var batch = Tensor.Zeros(count, channels, height, width);
        for (int b = 0; b < count; b++) for (int c = 0; c < channels; c++) for (int y = 0; y < height; y++) for (int x = 0; x < width; x++)
            batch[b, c, y, x] = 1000 * b + 100 * c + 10 * y + x;
        return batch;
    }

    [Fact]
    public void FlipsMirrorEachImage()
    {
        var batch = Numbered(2, 3, 4, 5);
        Augmentation.HorizontalFlip(1f)(batch, new Rng(1));
        Assert.Equal(1000 + 200 + 30 + 4, batch[1, 2, 3, 0]);
        Assert.Equal(10 + 0, batch[0, 0, 1, 4]);
        Augmentation.VerticalFlip(1f)(batch, new Rng(1));
        Assert.Equal(1000 + 200 + 0 + 4, batch[1, 2, 3, 0]);

        var untouched = Numbered(2, 3, 4, 5);
        Augmentation.HorizontalFlip(0f)(untouched, new Rng(1));
        Assert.Equal(Numbered(2, 3, 4, 5).ToArray(), untouched.ToArray());
    }

    [Fact]
    public void HalfTheImagesAreFlippedOnAverage()
    {
        var batch = Numbered(400, 1, 1, 2);
        Augmentation.HorizontalFlip()(batch, new Rng(7));
        int flipped = Enumerable.Range(0, 400).Count(b => batch[b, 0, 0, 0] > batch[b, 0, 0, 1]);
        Assert.InRange(flipped, 160, 240);
    }

    [Fact]
    public void RandomCropShiftsWithinThePaddingAndFills()
    {
        var batch = Numbered(50, 2, 6, 6);
        Augmentation.RandomCrop(2, fill: -1f)(batch, new Rng(3));
        int shifted = 0;
        for (int b = 0; b < 50; b++)
        {
            // Each image is the original moved by one (dy, dx) in [-2, 2]², with -1 where the source lies outside.
            var found = from dy in Enumerable.Range(-2, 5) from dx in Enumerable.Range(-2, 5)
                        where Enumerable.Range(0, 72).All(i =>
                        {
                            int c = i / 36, y = i / 6 % 6, x = i % 6, sy = y + dy, sx = x + dx;
                            float expected = sy is >= 0 and < 6 && sx is >= 0 and < 6 ? 1000 * b + 100 * c + 10 * sy + sx : -1f;
                            return batch[b, c, y, x] == expected;
                        })
                        select (dy, dx);
            var shift = Assert.Single(found);
            if (shift != (0, 0)) shifted++;
        }
        Assert.InRange(shifted, 40, 50);
    }

    [Fact]
    public void RandomResizedCropResamplesAWindowAndIsSeeded()
    {
        var first = Numbered(8, 3, 16, 16);
        var second = Numbered(8, 3, 16, 16);
        Augmentation.RandomResizedCrop(0.2f, 0.5f)(first, new Rng(9));
        Augmentation.RandomResizedCrop(0.2f, 0.5f)(second, new Rng(9));
        Assert.Equal(first.ToArray(), second.ToArray());
        for (int b = 0; b < 8; b++)
        {
            // Bilinear samples stay within the image's own range, and the channels keep their offsets.
            Assert.InRange(first[b, 1, 5, 5], 1000 * b + 100, 1000 * b + 100 + 155);
            Assert.Equal(100f, first[b, 1, 7, 3] - first[b, 0, 7, 3], 3);
        }

        var whole = Numbered(2, 1, 8, 8);
        Augmentation.RandomResizedCrop(1f, 1f, 1f, 1f)(whole, new Rng(1));
        Assert.Equal(Numbered(2, 1, 8, 8).ToArray(), whole.ToArray());
    }

    [Fact]
    public void ComposeRunsInOrderAndBadInputIsExplained()
    {
        var batch = Numbered(1, 1, 2, 3);
        Augmentation.Compose(Augmentation.HorizontalFlip(1f), Augmentation.VerticalFlip(1f))(batch, new Rng(1));
        Assert.Equal(12f, batch[0, 0, 0, 0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => Augmentation.HorizontalFlip(1.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Augmentation.RandomCrop(0));
        Assert.Throws<ArgumentException>(() => Augmentation.RandomResizedCrop(0.5f, 0.2f));
        var error = Assert.Throws<ArgumentException>(() => Augmentation.HorizontalFlip()(Tensor.Zeros(4, 10), new Rng(1)));
        Assert.Contains("[B, C, H, W]", error.Message);
    }
}
