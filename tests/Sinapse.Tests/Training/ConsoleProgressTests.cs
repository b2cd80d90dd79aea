using Sinapse.Data;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Training;

namespace Sinapse.Tests.Training;

/// <summary>Fit's progress lines (Keras's verbose=2) and History's summary.</summary>
public class ConsoleProgressTests
{
    private static Dataset Noise(int count, ulong seed)
    {
        var rng = new Rng(seed);
        var labels = Tensor.Zeros(count);
        for (int i = 0; i < count; i++) labels.Span[i] = rng.NextInt(3);
        return new Dataset(Tensor.Normal(new Shape(count, 4), 0, 1, rng), labels, classCount: 3);
    }

    private static Trainer NewTrainer()
    {
        var model = Mlp.Create(4, [8], 3, rng: new Rng(1));
        return new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), 0.1f)) { Verbose = false };
    }

    [Fact]
    public void PrintsOneLinePerEpochAsKerasVerboseTwo()
    {
        var trainer = NewTrainer();
        var lines = new StringWriter();
        trainer.Callbacks.Add(new ConsoleProgress(lines));
        var history = trainer.Fit(Noise(40, 2), epochs: 3, batchSize: 10, validation: Noise(20, 3));

        var printed = lines.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, printed.Length);
        Assert.Matches(@"^Epoch 2/3 - \d+\.\ds - loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}\r?$", printed[1]);
        Assert.Contains(history.Epochs[2].TrainLoss.ToString("F4", System.Globalization.CultureInfo.InvariantCulture), printed[2]);
    }

    /// <summary>A verbose trainer prints through a ConsoleProgress of its own during Fit, and leaves its callbacks as they were.</summary>
    [Fact]
    public void AVerboseTrainerAddsAPrinterForTheLengthOfFit()
    {
        foreach (bool verbose in new[] { true, false })
        {
            var trainer = NewTrainer();
            trainer.Verbose = verbose;
            var seen = new CallbacksSeen();
            trainer.Callbacks.Add(seen);
            trainer.Fit(Noise(20, 2), epochs: 1, batchSize: 10);
            Assert.Equal(verbose, seen.Printing);
            Assert.Equal([seen], trainer.Callbacks);
        }
        Assert.Equal(ConsoleProgress.VerboseByDefault, new Trainer(Mlp.Create(4, [8], 3), new CrossEntropyLoss(), new Sgd(Array.Empty<Tensor>(), 0.1f)).Verbose);
    }

    private sealed class CallbacksSeen : Callback
    {
        public bool Printing { get; private set; }

        public override void OnTrainBegin(Trainer trainer) => Printing = trainer.Callbacks.Any(c => c is ConsoleProgress);
    }

    [Fact]
    public void HistoryToStringSummarisesTheRun()
    {
        Assert.Equal("History: no epochs yet", new History().ToString());
        var history = NewTrainer().Fit(Noise(40, 2), epochs: 2, batchSize: 10, validation: Noise(20, 3));
        var text = history.ToString();
        Assert.StartsWith("History: 2 epochs, 8 updates; last: loss: ", text);
        Assert.Contains(" - val_accuracy: ", text);
        var best = history.Epochs.MinBy(e => e.ValidationLoss)!;
        Assert.EndsWith(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"; best val_loss {best.ValidationLoss:F4} at epoch {best.Epoch}"), text);
    }
}
