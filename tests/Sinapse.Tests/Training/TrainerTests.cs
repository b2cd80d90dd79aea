using Sinapse.Data;
using Sinapse.Kernels;
using Sinapse.Layers;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Training;
using Sinapse.Vision;

namespace Sinapse.Tests.Training;

[Collection(Sinapse.Tests.Support.WorkerPoolCollection.Name)]
public class TrainerTests
{
    /// <summary>Two Gaussian blobs per class in 6-d: separable, so a small MLP must learn it.</summary>
    private static Dataset Blobs(int count, ulong seed)
    {
        var rng = new Rng(seed);
        var features = Tensor.Zeros(count, 6);
        var labels = Tensor.Zeros(count);
        for (int i = 0; i < count; i++)
        {
            int label = i % 3;
            labels.Span[i] = label;
            for (int f = 0; f < 6; f++) features.Span[i * 6 + f] = rng.NextNormal() * 0.5f + (f / 2 == label ? 2f : 0f);
        }
        return new Dataset(features, labels);
    }

    private static Trainer NewTrainer(ulong seed, Optimizer? optimizer = null)
    {
        var model = Mlp.Create(6, [16, 8], 3, "relu", rng: new Rng(seed));
        return new Trainer(model, new CrossEntropyLoss(), optimizer ?? new Sgd(model.Parameters(), 0.1f));
    }

    [Theory]
    [InlineData(1, 90)]    // online: one update per example
    [InlineData(90, 1)]    // full batch: one update per epoch
    [InlineData(16, 6)]    // mini-batch: ⌈90/16⌉ updates
    [InlineData(30, 3)]
    public void EachModeMakesTheExpectedNumberOfUpdatesPerEpoch(int batchSize, int updatesPerEpoch)
    {
        var data = Blobs(90, 1);
        var trainer = NewTrainer(2);
        var history = trainer.Fit(new DataLoader(data, batchSize, rng: new Rng(3)), epochs: 2);

        Assert.Equal(2 * updatesPerEpoch, trainer.Optimizer.StepCount);
        Assert.Equal(updatesPerEpoch, history.Epochs[0].Updates);
        Assert.Equal(2 * updatesPerEpoch, history.StepLosses.Count);
    }

    [Theory]
    [InlineData(Precision.Float32)]
    [InlineData(Precision.BFloat16)]
    public void TheDefaultInferenceBatchKeepsLargeModelsWithinTheMemoryBudget(Precision precision)
    {
        Assert.Equal(1000, InferenceBatch.Measure(Cnn.Course(1, 28, 28, 10), new Shape(1, 28, 28), precision));
        var model = MobileNet.V2(10, 0.5f);
        int batch = InferenceBatch.Measure(model, new Shape(3, 160, 160), precision);
        Assert.InRange(batch, 2, 999);
        Assert.True(model.Training);   // measured in eval mode, and left as it was
        // What the process's pool really had rented out at once while a batch of that size ran.
        var input = Tensor.Zeros(batch, 3, 160, 160);
        TensorScope.ResetPeakBytes();
        long before = TensorScope.PeakBytes;
        model.Eval();
        using (Sinapse.Autograd.GradMode.NoGrad())
        using (MixedPrecision.Autocast(precision))
        using (TensorScope.Begin())
            model.Call(input);
        model.Train();
        Assert.InRange(TensorScope.PeakBytes - before, InferenceBatch.Memory / 8, InferenceBatch.Memory);
    }

    [Fact]
    public void BatchStatisticsInEvaluationDoNotStopTheDefaultBatch()
    {
        // Batch norm without running statistics normalises with the batch's, which needs two examples.
        var model = new Sequential(new Linear(4, 8, rng: new Rng(1)), new BatchNorm1d(8, trackRunningStats: false), new Relu(), new Linear(8, 2, rng: new Rng(2)));
        var data = new Dataset(Tensor.Uniform(new Shape(20, 4), -1, 1, new Rng(3)), Tensor.FromArray(Enumerable.Range(0, 20).Select(i => (float)(i % 2)).ToArray()), 2);
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), 0.1f));
        Assert.Equal(trainer.Evaluate(data, 20).Loss, trainer.Evaluate(data).Loss);
        trainer.Fit(data, 1, 10, validation: data);
    }

    [Fact]
    public void LearnsASeparableProblem()
    {
        var train = Blobs(300, 4);
        var test = Blobs(150, 5);
        var trainer = NewTrainer(6);
        var history = trainer.Fit(train, epochs: 30, batchSize: 16, validation: test, rng: new Rng(7));

        Assert.True(history.Epochs[^1].TrainLoss < history.Epochs[0].TrainLoss / 4, $"loss went from {history.Epochs[0].TrainLoss} to {history.Epochs[^1].TrainLoss}");
        Assert.True(trainer.Evaluate(test).Accuracy > 0.95);
        Assert.Equal(test.Count, trainer.Predict(test.Features).Shape[0]);
    }

    [Fact]
    public void TheSameSeedGivesBitwiseIdenticalWeights()
    {
        float[][] Train()
        {
            var model = Mlp.Create(6, [32, 16], 3, "tanh", rng: new Rng(11));
            var trainer = new Trainer(model, new CrossEntropyLoss(), new Adam(model.Parameters(), 0.01f));
            trainer.Fit(Blobs(200, 12), epochs: 3, batchSize: 32, rng: new Rng(13));
            return model.Parameters().Select(p => p.ToArray()).ToArray();
        }

        int threads = Workers.Count;
        try
        {
            Workers.Count = 2;
            var first = Train();
            var second = Train();
            for (int i = 0; i < first.Length; i++) Assert.Equal(first[i], second[i]);
        }
        finally
        {
            Workers.Count = threads;
        }
    }

    [Fact]
    public void AModelThatDoesNotFitTheDataFailsBeforeTrainingWithBothShapes()
    {
        var data = Blobs(30, 1);
        var model = new Sequential(new Linear(5, 3));
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), 0.1f));

        var error = Assert.Throws<ArgumentException>(() => trainer.Fit(data, epochs: 1, batchSize: 10));
        Assert.Contains("Linear(5 -> 3)", error.Message);
        Assert.Contains("[1, 6]", error.Message);
        Assert.Equal(0, trainer.Optimizer.StepCount);
    }

    [Fact]
    public void TooFewOutputsForTheLabelsIsAnError()
    {
        var model = Mlp.Create(6, [4], 2);
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), 0.1f));
        var error = Assert.Throws<ArgumentException>(() => trainer.Fit(Blobs(30, 1), epochs: 1, batchSize: 10));
        Assert.Contains("2 classes", error.Message);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(-0.1f)]
    [InlineData(float.PositiveInfinity)]
    public void ABadLearningRateIsRejected(float learningRate)
    {
        var model = Mlp.Create(6, [4], 3);
        var error = Assert.Throws<ArgumentException>(() => new Sgd(model.Parameters(), learningRate));
        Assert.Contains("learning rate", error.Message);
    }

    [Fact]
    public void ZeroEpochsOrBatchSizeAreRejected()
    {
        var trainer = NewTrainer(1);
        var data = Blobs(30, 1);
        Assert.Contains("at least one epoch", Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Fit(data, epochs: 0, batchSize: 10)).Message);
        Assert.ThrowsAny<ArgumentException>(() => trainer.Fit(data, epochs: 1, batchSize: 0));
    }

    [Fact]
    public void ADivergingRunStopsWithAnErrorNamingTheEpoch()
    {
        var data = Blobs(60, 1);
        var model = Mlp.Create(6, [16], 3, "relu", rng: new Rng(1));
        var trainer = new Trainer(model, new MseLoss(), new Sgd(model.Parameters(), 1e6f));
        var targets = Dataset.OneHot(data.Targets, 3);
        var error = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(new Dataset(data.Features, targets), epochs: 5, batchSize: 60));
        Assert.Contains("epoch", error.Message);
        Assert.Contains("pass of layer '", error.Message);
        Assert.Contains("exploding", error.Message);
    }

    /// <summary>A layer that turns values at or below zero into NaN: log of a ReLU output.</summary>
    private sealed class LogLayer : Module
    {
        protected override Tensor Forward(Tensor input)
        {
            var output = Tensor.Empty(input.Shape);
            System.Numerics.Tensors.TensorPrimitives.Log(input.Span, output.Span);
            return output;
        }

        public override Shape OutputShape(Shape input) => input;
    }

    [Fact]
    public void TheFirstLayerToProduceANaNIsNamedWithItsPass()
    {
        var model = new Sequential(new Linear(6, 4, rng: new Rng(1)), new LogLayer(), new Linear(4, 3, rng: new Rng(2)));
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), 0.1f));
        var error = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(Blobs(30, 1), epochs: 1, batchSize: 30));

        Assert.Contains("forward pass of layer '1'", error.Message);
        Assert.Contains("NaN", error.Message);
        Assert.Contains("epoch 1, batch 1", error.Message);
        Assert.All(model.Parameters(), p => Assert.True(p.ToArray().All(float.IsFinite)));   // the bad step was not applied
    }

    /// <summary>
    /// A NaN that only some dropout masks produce: the replay that locates it must draw the failing
    /// step's mask again (not a fresh one, which would most likely drop the culprit), and must not
    /// update batch norm's running statistics a second time.
    /// </summary>
    [Fact]
    public void TheReplayReproducesANaNThatComesFromDropout()
    {
        var norm = new BatchNorm1d(6);
        var widen = new Linear(6, 4, rng: new Rng(1));
        widen.Weight.Span[0] = 3e37f;   // output 0 is ~1e38 after batch norm: ×20 for a kept element overflows
        var model = new Sequential(norm, widen, new Dropout(0.95f, new Rng(3)), new Linear(4, 3, rng: new Rng(2)));
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), 0f));
        var data = Blobs(8, 1);
        int steps = 0;
        TrainingDivergedException? error = null;
        while (error == null && steps < 200)
        {
            steps++;
            error = Record.Exception(() => trainer.TrainStep(data.Features, data.Targets)) as TrainingDivergedException;
        }

        Assert.NotNull(error);
        Assert.True(steps > 1, "the first step diverged: the mask must matter");
        Assert.Contains("forward pass of layer '2' (Dropout(p=0.95))", error.Message);
        Assert.Equal(steps, norm.NumBatchesTracked!.Item());
    }

    [Fact]
    public void ANaNBornInTheBackwardPassIsNamedAsSuch()
    {
        // sqrt has an infinite slope at 0: the forward value is finite, its gradient is not.
        var weight = Tensor.Zeros(1, 1);
        weight.RequiresGrad = true;
        var input = Tensor.Ones(1, 1);
        using var detection = Sinapse.Autograd.AnomalyDetection.Enable();
        var output = Sinapse.Ops.F.Linear(input, weight);
        var root = Sinapse.Ops.F.Unary("Sqrt", output, (x, y) => System.Numerics.Tensors.TensorPrimitives.Sqrt(x, y),
            (x, y, dy, dx) => { for (int i = 0; i < x.Length; i++) dx[i] = dy[i] * 0.5f / y[i]; });
        var error = Assert.Throws<Sinapse.Autograd.NonFiniteValueException>(() => Sinapse.Ops.F.Sum(root).Backward());
        Assert.Equal(Sinapse.Autograd.Pass.Backward, error.Pass);
        Assert.Equal("Sqrt", error.Op);
    }

    [Fact]
    public void ASteadyStateStepAllocatesLessThan64KB()
    {
        // The course MLP at batch 128: activations and gradients come from the pool once it is warm.
        var model = Mlp.Create(784, [256, 128, 64], 10, rng: new Rng(1));
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), 0.01f));
        var x = Tensor.Uniform(new Shape(128, 784), 0f, 1f, new Rng(2));
        var y = Tensor.Zeros(128);
        for (int i = 0; i < 128; i++) y.Span[i] = i % 10;
        for (int i = 0; i < 5; i++) trainer.TrainStep(x, y);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) trainer.TrainStep(x, y);
        double perStep = (GC.GetAllocatedBytesForCurrentThread() - before) / 100.0;

        Assert.True(perStep < 64 * 1024, $"a training step allocated {perStep:F0} bytes");
    }
}

public class GradientNormTests
{
    [Fact]
    public void FiniteGradientsWhoseSquaresOverflowFloatAreNotMistakenForNaN()
    {
        // MSE against targets of 1e19: each gradient is finite, but their squares sum past float's range.
        var model = new Sinapse.Layers.Sequential(new Sinapse.Layers.Linear(6, 3, rng: new Rng(1)));
        var trainer = new Trainer(model, new MseLoss(), new Sgd(model.Parameters(), 0f));
        var x = Tensor.Ones(30, 6);
        var y = Tensor.Full(new Shape(30, 3), 1e19f);
        var (loss, _) = trainer.TrainStep(x, y);

        Assert.True(float.IsFinite(loss));
        Assert.True(trainer.History.GradientNorms[^1] > 1e19f && float.IsFinite(trainer.History.GradientNorms[^1]));
    }
    [Fact]
    public void PredictAndEvaluateFuseForInferenceAndLeaveTheModelAsTheyFoundIt()
    {
        var model = new Sequential(new Conv2d(1, 4, 3, useBias: false, rng: new Rng(1)), new BatchNorm2d(4), new Relu(), new Flatten(), new Linear(64, 2, rng: new Rng(2)));
        var norm = (BatchNorm2d)model[1];
        new[] { 0.3f, -0.2f, 0.1f, 0.5f }.CopyTo(norm.RunningMean!.Span);
        new[] { 2f, 0.5f, 1.5f, 0.8f }.CopyTo(norm.RunningVar!.Span);
        var data = new Dataset(Tensor.Uniform(new Shape(6, 1, 6, 6), -1, 1, new Rng(3)), Tensor.FromArray([0f, 1f, 0f, 1f, 1f, 0f]), 2);
        var layers = model.Layers.ToArray();
        model.Eval();
        float[] expected;
        using (Sinapse.Autograd.GradMode.NoGrad()) expected = model.Call(data.Features).ToArray();
        double expectedLoss;
        using (Sinapse.Autograd.GradMode.NoGrad()) expectedLoss = new CrossEntropyLoss().Forward(model.Call(data.Features), data.Targets).Item();
        model.Train();

        var trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), 0.1f));
        Support.Expect.Close(expected, trainer.Predict(data.Features).ToArray(), 1e-5, "Predict");
        Support.Expect.Close((float)expectedLoss, (float)trainer.Evaluate(data).Loss, 1e-5, "Evaluate's loss");
        Assert.Equal(layers, model.Layers);
        Assert.True(model.Training && norm.Training);
    }
}
