using Sinapse.Data;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Optimizers.Schedules;
using Sinapse.Tensors;
using Sinapse.Training;

namespace Sinapse.Tests.Training;

public class CallbacksTests
{
    private static Dataset Noise(int count, ulong seed)
    {
        var rng = new Rng(seed);
        var labels = Tensor.Zeros(count);
        for (int i = 0; i < count; i++) labels.Span[i] = rng.NextInt(3);
        return new Dataset(Tensor.Normal(new Shape(count, 4), 0, 1, rng), labels, classCount: 3);
    }

    [Fact]
    public void EarlyStoppingStopsAfterPatienceEpochsWithoutImprovement()
    {
        var model = Mlp.Create(4, [8], 3, rng: new Rng(1));
        // lr 0: the validation loss never improves after the first epoch.
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), 0f));
        var stopper = new EarlyStopping("val_loss", patience: 2);
        trainer.Callbacks.Add(stopper);
        var history = trainer.Fit(Noise(40, 2), epochs: 20, batchSize: 10, validation: Noise(20, 3));

        Assert.Equal(3, history.Epochs.Count);
        Assert.Equal(1, stopper.BestEpoch);
        Assert.Equal(3, stopper.StoppedEpoch);
    }

    [Fact]
    public void EarlyStoppingRestoresTheBestWeights()
    {
        var model = Mlp.Create(4, [8], 3, rng: new Rng(1));
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), 0f));
        var stopper = new EarlyStopping("val_loss", patience: 0);
        var initial = model.Parameters().Select(p => p.ToArray()).ToArray();
        trainer.Callbacks.Add(stopper);
        trainer.Callbacks.Add(new SpoilWeightsAfterEpoch(1));
        var validation = Noise(30, 3);
        var history = trainer.Fit(Noise(40, 2), epochs: 5, batchSize: 40, validation: validation);

        // Epoch 1 saw the initial weights; the spoiled ones did worse in epoch 2, which stopped the run.
        Assert.True(history.Epochs[1].ValidationLoss > history.Epochs[0].ValidationLoss);
        Assert.Equal(1, stopper.BestEpoch);
        Assert.Equal(2, stopper.StoppedEpoch);
        var final = model.Parameters().Select(p => p.ToArray()).ToArray();
        for (int i = 0; i < final.Length; i++) Assert.Equal(initial[i], final[i]);
    }

    private sealed class SpoilWeightsAfterEpoch(int epoch) : Callback
    {
        public override void OnEpochEnd(Trainer trainer, EpochRecord record)
        {
            if (record.Epoch != epoch) return;
            var rng = new Rng(99);
            foreach (var p in trainer.Model.Parameters())
                for (int i = 0; i < p.Length; i++) p.Span[i] += 10f * rng.NextNormal();
        }
    }

    [Fact]
    public void EarlyStoppingNeedsTheFigureItMonitors()
    {
        var model = Mlp.Create(4, [8], 3);
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), 0.1f));
        trainer.Callbacks.Add(new EarlyStopping("val_accuracy"));
        var error = Assert.Throws<InvalidOperationException>(() => trainer.Fit(Noise(20, 1), epochs: 2, batchSize: 10));
        Assert.Contains("val_accuracy", error.Message);
        Assert.Throws<ArgumentException>(() => new EarlyStopping("val_f1"));
    }

    [Fact]
    public void TheLearningRateLoggerRecordsEveryUpdate()
    {
        var model = Mlp.Create(4, [8], 3);
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), 0.1f));
        trainer.Scheduler = new LearningRateScheduler(trainer.Optimizer, new LinearDecaySchedule(4, 0.5f));
        trainer.Callbacks.Add(new LearningRateLogger());
        var history = trainer.Fit(Noise(60, 1), epochs: 1, batchSize: 10);
        // The rate in effect after each of the 6 updates: (1 − j/4)·0.1 + (j/4)·0.05, then 0.05.
        Assert.Equal([0.0875f, 0.075f, 0.0625f, 0.05f, 0.05f, 0.05f], history.LearningRates.ToArray(), new FloatTolerance(1e-7f));
    }

    [Fact]
    public void RestartsKeepTheBestOfSeveralInitialisations()
    {
        var data = Noise(30, 5);
        var result = Restarts.Run(4,
            run =>
            {
                var model = Mlp.Create(4, [8], 3, rng: new Rng((ulong)run + 10));
                return new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), 0.1f));
            },
            trainer => trainer.Fit(data, epochs: 2, batchSize: 10, rng: new Rng(1)),
            (trainer, history) => -history.Epochs[^1].TrainLoss);

        Assert.Equal(4, result.Scores.Count);
        Assert.Equal(result.Scores.Max(), result.Scores[result.BestRun]);
        Assert.Equal(-result.BestHistory.Epochs[^1].TrainLoss, result.Scores[result.BestRun]);
    }

    private sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(float obj) => 0;
    }
}
