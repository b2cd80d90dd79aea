using Sinapse.Data;
using Sinapse.Tensors;

namespace Sinapse.Tests.Data;

public class DataLoaderTests
{
    static readonly Dataset Data = DatasetTests.Numbered(10);

    /// <summary>The example ids of each batch of one epoch.</summary>
    static List<int[]> Epoch(DataLoader loader)
    {
        var batches = new List<int[]>();
        foreach (var batch in loader)
        {
            Assert.Equal(batch.Count, batch.Targets.Shape[0]);
            batches.Add(Enumerable.Range(0, batch.Count).Select(i => (int)batch.Features[i, 0]).ToArray());
        }
        return batches;
    }

    [Fact]
    public void OnlineGivesOneExamplePerBatch()
    {
        var loader = DataLoader.Online(Data, new Rng(1));
        Assert.Equal(10, loader.BatchesPerEpoch);
        var epoch = Epoch(loader);
        Assert.Equal(10, epoch.Count);
        Assert.All(epoch, b => Assert.Single(b));
        Assert.Equal(Enumerable.Range(0, 10), epoch.Select(b => b[0]).Order());
    }

    [Fact]
    public void FullBatchIsOneBatchOfEverything()
    {
        var loader = DataLoader.FullBatch(Data);
        Assert.Equal(1, loader.BatchesPerEpoch);
        foreach (var batch in loader) Assert.Same(Data.Features, batch.Features);
        Assert.Equal(Enumerable.Range(0, 10), Epoch(loader).Single());
    }

    [Theory]
    [InlineData(3, false, 4)]
    [InlineData(3, true, 3)]
    [InlineData(5, false, 2)]
    [InlineData(5, true, 2)]
    [InlineData(16, false, 1)]
    public void MiniBatchCount(int batchSize, bool dropLast, int expected)
    {
        var loader = new DataLoader(Data, batchSize, shuffle: true, dropLast, new Rng(3));
        Assert.Equal(expected, loader.BatchesPerEpoch);
        var epoch = Epoch(loader);
        Assert.Equal(expected, epoch.Count);
        Assert.All(epoch.Take(dropLast ? expected : expected - 1), b => Assert.Equal(Math.Min(batchSize, 10), b.Length));
    }

    [Fact]
    public void MiniBatchEpochVisitsEveryExampleOnce()
    {
        var loader = DataLoader.MiniBatch(Data, 3, new Rng(5));
        var ids = Epoch(loader).SelectMany(b => b).ToArray();
        Assert.Equal(Enumerable.Range(0, 10), ids.Order());
        Assert.NotEqual(Enumerable.Range(0, 10), ids);
    }

    [Fact]
    public void EpochsAreShuffledDifferentlyAndReproducibly()
    {
        var loader = DataLoader.MiniBatch(Data, 4, new Rng(11));
        var first = Epoch(loader).SelectMany(b => b).ToArray();
        var second = Epoch(loader).SelectMany(b => b).ToArray();
        Assert.NotEqual(first, second);
        Assert.Equal(2, loader.Epoch);

        var again = DataLoader.MiniBatch(Data, 4, new Rng(11));
        Assert.Equal(first, Epoch(again).SelectMany(b => b));
        Assert.Equal(second, Epoch(again).SelectMany(b => b));
    }

    [Fact]
    public void RestoringTheRngStateRestoresTheNextEpoch()
    {
        var loader = DataLoader.MiniBatch(Data, 4, new Rng(11));
        Epoch(loader);
        var saved = loader.Rng.StateDict();
        var next = Epoch(loader).SelectMany(b => b).ToArray();

        var resumed = DataLoader.MiniBatch(Data, 4, new Rng(99));
        resumed.Rng.LoadStateDict(saved);
        Assert.Equal(next, Epoch(resumed).SelectMany(b => b));
        Assert.Equal(next, resumed.Order.ToArray());
    }

    [Fact]
    public void TheLoadersStateDictRestoresItsPositionAndNextEpoch()
    {
        var loader = DataLoader.MiniBatch(Data, 4, new Rng(11));
        Epoch(loader);
        Epoch(loader);
        var saved = loader.StateDict();
        var next = Epoch(loader).SelectMany(b => b).ToArray();

        var resumed = DataLoader.MiniBatch(Data, 4, new Rng(99));
        resumed.LoadStateDict(saved);
        Assert.Equal(2, resumed.Epoch);
        Assert.Equal(next, Epoch(resumed).SelectMany(b => b));
        Assert.Equal(3, resumed.Epoch);
        Assert.Throws<ArgumentException>(() => resumed.LoadStateDict(saved with { Epoch = -1 }));
    }

    [Fact]
    public void WithoutShuffleTheOrderIsKept()
    {
        var loader = new DataLoader(Data, 4, shuffle: false);
        Assert.Equal(Enumerable.Range(0, 10), Epoch(loader).SelectMany(b => b));
        Assert.Equal(Enumerable.Range(0, 10), Epoch(loader).SelectMany(b => b));
    }

    [Fact]
    public void BatchesReuseTheirBuffersAndTheEnumeratorDoesNotAllocate()
    {
        var features = Tensor.Zeros(1000, 784);
        var data = new Dataset(features, Tensor.Zeros(1000));
        var loader = DataLoader.MiniBatch(data, 128, new Rng(1));
        Tensor? firstBuffer = null;
        foreach (var batch in loader) firstBuffer ??= batch.Features; // warm up: buffers made
        foreach (var batch in loader)
            if (batch.Count == 128) Assert.Same(firstBuffer, batch.Features);

        long before = GC.GetAllocatedBytesForCurrentThread();
        int batches = 0;
        foreach (var batch in loader) batches += batch.Count > 0 ? 1 : 0;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(8, batches);
        Assert.True(allocated < 1024, $"An epoch allocated {allocated} bytes.");
    }

    [Fact]
    public void AugmentationChangesTheBatchBufferReproduciblyWithoutAllocating()
    {
        var images = Tensor.Zeros(64, 1, 2, 3);
        for (int i = 0; i < images.Length; i++) images.Span[i] = i;
        var data = new Dataset(images, Tensor.Zeros(64));
        var original = images.ToArray();

        List<float[]> Run(ulong seed)
        {
            var loader = DataLoader.MiniBatch(data, 16, new Rng(seed));
            loader.Augmentation = Augmentation.Compose(Augmentation.HorizontalFlip(), Augmentation.RandomCrop(1));
            var batches = new List<float[]>();
            for (int epoch = 0; epoch < 2; epoch++)
                foreach (var batch in loader) batches.Add(batch.Features.ToArray());
            foreach (var batch in loader) { }
            long before = GC.GetAllocatedBytesForCurrentThread();
            foreach (var batch in loader) { }
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1024, "an augmented epoch allocates");
            return batches;
        }

        var first = Run(5);
        Assert.Equal(first, Run(5));
        Assert.NotEqual(first, Run(6));
        Assert.Equal(original, images.ToArray());

        // An unshuffled full batch is normally the dataset's own tensor; augmented, it is a copy.
        var full = DataLoader.FullBatch(data);
        full.Augmentation = Augmentation.HorizontalFlip(1f);
        foreach (var batch in full)
        {
            Assert.NotSame(images, batch.Features);
            Assert.Equal(2f, batch.Features[0, 0, 0, 0]);
        }
        Assert.Equal(original, images.ToArray());
    }

    [Fact]
    public void AbandonedEpochCannotContinue()
    {
        var loader = DataLoader.MiniBatch(Data, 2, new Rng(1));
        var first = loader.GetEnumerator();
        first.MoveNext();
        var second = loader.GetEnumerator();
        Assert.Contains("abandoned", Assert.Throws<InvalidOperationException>(() => first.MoveNext()).Message);
        Assert.True(second.MoveNext());
    }

    [Fact]
    public void BadArgumentsAreExplained()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(Data, 0));
        var error = Assert.Throws<ArgumentException>(() => new DataLoader(Data, 11, dropLast: true));
        Assert.Contains("no batch at all from 10 examples", error.Message);
    }
}
