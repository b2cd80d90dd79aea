using System.Collections;
using Sinapse.Tensors;

namespace Sinapse.Data;

/// <summary>One batch: features [B, ...] and targets [B] or [B, k].</summary>
public readonly record struct Batch(Tensor Features, Tensor Targets)
{
    public int Count => Features.Shape[0];
}

/// <summary>
/// Serves a <see cref="Dataset"/> in batches, for the three training modes of the course:
/// online (<see cref="Online"/>: one example at a time, reshuffled every epoch), full batch
/// (<see cref="FullBatch"/>: all N examples, one update per epoch) and mini-batch
/// (<c>new DataLoader(dataset, m)</c>: m examples drawn without replacement, ⌈N/m⌉ batches an
/// epoch, ⌊N/m⌋ with <c>dropLast</c>).
/// </summary>
/// <remarks>
/// <para>Each <c>foreach</c> over the loader is one epoch. When it starts, the order of the
/// examples is drawn afresh from <see cref="Rng"/> — from the identity, never from the previous
/// epoch's order — so the order depends on the Rng's state and nothing else: a checkpoint that
/// saves the Rng's state restores the exact order of the next epoch.</para>
/// <para>A batch is valid until the next one is drawn: the loader owns one features tensor and
/// one targets tensor per batch size and refills them in place, so a training loop allocates
/// nothing per step. Keep a batch with <c>Clone()</c>. An unshuffled full batch is the dataset's
/// own tensors, not a copy. Treat batches as read-only.</para>
/// <para>One epoch at a time: starting a new one ends the previous enumeration.</para>
/// <para>An <see cref="Augmentation"/> (random flips, crops: see <see cref="Data.Augmentation"/>)
/// changes each batch's features in the batch buffer after they are gathered, drawing from the
/// same <see cref="Rng"/> right after the epoch's order, so an augmented run is as reproducible
/// and resumable as a plain one; the dataset itself is never changed.</para>
/// </remarks>
public sealed class DataLoader : IEnumerable<Batch>, IStateful<DataLoaderState>
{
    readonly int[] order;
    BatchBuffers? full, last;

    public DataLoader(Dataset dataset, int batchSize, bool shuffle = true, bool dropLast = false, Rng? rng = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (dataset.Count == 0) throw new ArgumentException("The dataset is empty: there is nothing to load.", nameof(dataset));
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "the batch size must be at least 1");
        if (dropLast && batchSize > dataset.Count)
            throw new ArgumentException(
                $"A batch size of {batchSize} with dropLast leaves no batch at all from {dataset.Count} examples; " +
                "use a smaller batch or keep the last, partial batch.", nameof(batchSize));
        Dataset = dataset;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
        Rng = rng ?? Rng.Global;
        order = new int[dataset.Count];
        ResetOrder();
    }

    /// <summary>Online learning: one example per update, in a new random order every epoch.</summary>
    public static DataLoader Online(Dataset dataset, Rng? rng = null) => new(dataset, 1, shuffle: true, rng: rng);

    /// <summary>Batch (full-batch) learning: every example in one batch, one update per epoch. The order of a
    /// single batch does not change the averaged gradient, so it is not shuffled and costs no copy.</summary>
    public static DataLoader FullBatch(Dataset dataset) => new(dataset, dataset.Count, shuffle: false);

    /// <summary>Mini-batch learning: <paramref name="batchSize"/> examples drawn at random without replacement.</summary>
    public static DataLoader MiniBatch(Dataset dataset, int batchSize, Rng? rng = null, bool dropLast = false) =>
        new(dataset, batchSize, shuffle: true, dropLast, rng);

    public Dataset Dataset { get; }

    public int BatchSize { get; }

    public bool Shuffle { get; }

    public bool DropLast { get; }

    /// <summary>The generator that orders each epoch; save its state to resume with the same orders.</summary>
    public Rng Rng { get; }

    /// <summary>
    /// Applied to every batch's features [B, ...] in place (the loader's own buffer, never the
    /// dataset's tensor) with this loader's <see cref="Rng"/>; null for none. Set it for the
    /// training loader only.
    /// </summary>
    public Action<Tensor, Rng>? Augmentation { get; set; }

    public int BatchesPerEpoch => DropLast ? Dataset.Count / BatchSize : (Dataset.Count + BatchSize - 1) / BatchSize;

    /// <summary>How many epochs have started (enumerations begun).</summary>
    public int Epoch { get; private set; }

    /// <summary>The order of the examples in the current epoch (the identity before the first one when shuffling).</summary>
    public ReadOnlySpan<int> Order => order;

    /// <summary>Where the loader is: the epochs started and the state of its <see cref="Rng"/>, which draws the next epoch's order.</summary>
    public DataLoaderState StateDict() => new(Epoch, Rng.StateDict());

    /// <summary>Puts the loader back where it was, so its next epoch draws the order the uninterrupted run would have.</summary>
    public void LoadStateDict(DataLoaderState state)
    {
        if (state.Epoch < 0) throw new ArgumentException($"A data loader has started 0 or more epochs, got {state.Epoch}.");
        Rng.LoadStateDict(state.Rng);
        Epoch = state.Epoch;
    }

    /// <summary>Starts an epoch: draws its order, then yields its batches.</summary>
    public Enumerator GetEnumerator()
    {
        ResetOrder();
        if (Shuffle) Rng.Shuffle(order.AsSpan());
        Epoch++;
        return new Enumerator(this, Epoch);
    }

    IEnumerator<Batch> IEnumerable<Batch>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    void ResetOrder()
    {
        for (int i = 0; i < order.Length; i++) order[i] = i;
    }

    Batch Fill(int batchIndex)
    {
        int start = batchIndex * BatchSize;
        int count = Math.Min(BatchSize, Dataset.Count - start);
        if (!Shuffle && count == Dataset.Count && Augmentation == null) return new Batch(Dataset.Features, Dataset.Targets);
        ref var buffers = ref count == BatchSize ? ref full : ref last;
        buffers ??= new BatchBuffers(Dataset, count);
        var rows = order.AsSpan(start, count);
        Dataset.Features.GatherRows(rows, buffers.Features);
        Dataset.Targets.GatherRows(rows, buffers.Targets);
        Augmentation?.Invoke(buffers.Features, Rng);
        return new Batch(buffers.Features, buffers.Targets);
    }

    /// <summary>Made outside the tensor pool (see Dataset.NewTensor): they live as long as the loader.</summary>
    sealed class BatchBuffers(Dataset dataset, int count)
    {
        public readonly Tensor Features = Dataset.NewTensor(dataset.Features.Shape.WithBatch(count));
        public readonly Tensor Targets = Dataset.NewTensor(dataset.Targets.Shape.WithBatch(count));
    }

    /// <summary>A struct, so <c>foreach</c> over a loader allocates nothing.</summary>
    public struct Enumerator : IEnumerator<Batch>
    {
        readonly DataLoader loader;
        readonly int epoch;
        int next;

        internal Enumerator(DataLoader loader, int epoch)
        {
            this.loader = loader;
            this.epoch = epoch;
            next = 0;
            Current = default;
        }

        public Batch Current { get; private set; }

        readonly object IEnumerator.Current => Current;

        public bool MoveNext()
        {
            if (loader.Epoch != epoch)
                throw new InvalidOperationException(
                    $"Epoch {epoch} of this DataLoader was abandoned: epoch {loader.Epoch} has started since, and the two share the batch buffers.");
            if (next >= loader.BatchesPerEpoch) return false;
            Current = loader.Fill(next++);
            return true;
        }

        public void Reset() => throw new NotSupportedException("Start a new epoch with a new foreach instead.");

        public readonly void Dispose() { }
    }
}

/// <summary>A <see cref="DataLoader"/>'s position: epochs started, and its Rng's state.</summary>
public readonly record struct DataLoaderState(int Epoch, RngState Rng);
