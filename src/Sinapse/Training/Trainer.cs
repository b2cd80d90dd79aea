using System.Diagnostics;
using Sinapse.Autograd;
using Sinapse.Data;
using Sinapse.Layers;
using Sinapse.Losses;
using Sinapse.Optimizers;
using Sinapse.Optimizers.Schedules;
using Sinapse.Tensors;

namespace Sinapse.Training;

/// <summary>Training produced a NaN or infinity; the message says where it arose and why, as far as can be told.</summary>
public sealed class TrainingDivergedException(string message) : InvalidOperationException(message);

/// <summary>The result of <see cref="Trainer.Evaluate"/>: mean loss, and accuracy for classification.</summary>
public sealed record Evaluation(double Loss, double? Accuracy, int Count);

/// <summary>
/// Fits a model with a loss and an optimizer, like Keras's fit/evaluate/predict. Every step runs
/// in its own <see cref="TensorScope"/>, so activations and their gradients go back to the pool
/// when the step ends and a steady-state step allocates almost nothing.
/// </summary>
public sealed class Trainer(Module model, Loss loss, Optimizer optimizer)
{
    public Module Model { get; } = model;
    public Loss Loss { get; } = loss;
    public Optimizer Optimizer { get; } = optimizer;
    public List<Callback> Callbacks { get; } = [];

    /// <summary>Moves the learning rate after every update or every epoch, as its unit says.</summary>
    public LearningRateScheduler? Scheduler { get; set; }

    /// <summary>Clips the gradients between the backward pass and the optimizer's step; null for none.</summary>
    public GradientClipping? Clipping { get; set; }

    /// <summary>
    /// L1/L2 penalties on the weights, added to every training step's loss (so the reported training
    /// loss includes them, as in Keras); null for none. Evaluate reports the data loss alone.
    /// </summary>
    public Regularization? Regularization { get; set; }

    /// <summary>
    /// The format linear and convolution layers compute in: Float32, or BFloat16/Float16 under
    /// <see cref="MixedPrecision.Autocast"/> (float32 master weights and updates either way).
    /// </summary>
    public Precision Precision { get; set; } = Precision.Float32;

    /// <summary>
    /// Dynamic loss scaling (GradScaler), which Float16 needs: the loss is scaled before
    /// backpropagation, the gradients unscaled before clipping, and a step whose gradients
    /// overflow is skipped instead of stopping training; null for none.
    /// </summary>
    public LossScaler? LossScaler { get; set; }

    /// <summary>
    /// Print one line per epoch during <see cref="Fit(DataLoader, int, Dataset?, CancellationToken)"/> (a <see cref="ConsoleProgress"/>),
    /// as Keras's fit does; by default on when standard output is a terminal (<see cref="ConsoleProgress.VerboseByDefault"/>).
    /// </summary>
    public bool Verbose { get; set; } = ConsoleProgress.VerboseByDefault;

    /// <summary>Set by a callback (early stopping, say) to end training after the current epoch.</summary>
    public bool StopRequested { get; set; }

    /// <summary>‖∇‖₂ over every parameter's gradient at the last step, before clipping: what clipping by norm limits, and what monitors report.</summary>
    public float GradientNorm { get; private set; } = float.NaN;

    /// <summary>The history of the current (or last) <see cref="Fit(DataLoader, int, Dataset?, CancellationToken)"/>, which callbacks add to.</summary>
    public History History { get; private set; } = new();

    private readonly DivergenceDiagnosis diagnosis = new();
    private int epoch, batch;

    /// <summary>Trains on mini-batches of <paramref name="batchSize"/> drawn without replacement, reshuffled every epoch.</summary>
    public History Fit(Dataset train, int epochs, int batchSize, Dataset? validation = null, Rng? rng = null, CancellationToken cancellation = default) =>
        Fit(new DataLoader(train, batchSize, shuffle: true, dropLast: false, rng: rng), epochs, validation, cancellation);

    /// <summary>
    /// Trains for <paramref name="epochs"/> passes over <paramref name="train"/>: one update per
    /// batch the loader yields (so its batch size picks online, mini-batch or full-batch learning).
    /// </summary>
    public History Fit(DataLoader train, int epochs, Dataset? validation = null, CancellationToken cancellation = default) =>
        Fit(train, epochs, validation, new History(), cancellation);

    /// <summary>
    /// Continues a run (Keras's initial_epoch): trains epochs <c>resumed.Epochs.Count + 1</c> to
    /// <paramref name="epochs"/>, adding to <paramref name="resumed"/>, the history a checkpoint
    /// restored along with the weights, optimizer, schedule and Rng states.
    /// </summary>
    public History Fit(DataLoader train, int epochs, Dataset? validation, History resumed, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(resumed);
        if (epochs <= 0) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "Training needs at least one epoch.");
        if (resumed.Epochs.Count >= epochs)
            throw new ArgumentException($"The run has already trained {resumed.Epochs.Count} epochs; ask for more than that to continue it (got {epochs}).", nameof(epochs));
        CheckCompatible(train.Dataset, "training");
        if (validation != null) CheckCompatible(validation, "validation");

        using var printer = ConsoleProgress.Attach(this);
        var history = History = resumed;
        StopRequested = false;
        foreach (var callback in Callbacks) callback.OnTrainBegin(this);
        for (epoch = resumed.Epochs.Count + 1; epoch <= epochs && !StopRequested; epoch++)
        {
            foreach (var callback in Callbacks) callback.OnEpochBegin(this, epoch);
            Model.Train();
            var clock = Stopwatch.StartNew();
            double lossSum = 0;
            long correct = 0, seen = 0;
            bool classification = true;
            batch = 0;
            foreach (var (features, targets) in train)
            {
                cancellation.ThrowIfCancellationRequested();
                var (stepLoss, stepCorrect) = TrainStep(features, targets);
                int count = features.Shape[0];
                lossSum += stepLoss * (double)count;
                seen += count;
                if (stepCorrect is int c) correct += c; else classification = false;
                history.StepLosses.Add(stepLoss);
                Scheduler?.Step(ScheduleUnit.Iteration);
                batch++;
                var progress = new BatchProgress(epoch, epochs, batch, train.BatchesPerEpoch, stepLoss, lossSum / seen,
                    classification ? (double)correct / seen : null, seen / clock.Elapsed.TotalSeconds);
                foreach (var callback in Callbacks) callback.OnBatchEnd(this, progress);
            }
            double seconds = clock.Elapsed.TotalSeconds;
            float epochRate = Optimizer.LearningRate;
            Scheduler?.Step(ScheduleUnit.Epoch);
            var validationResult = validation == null ? null : Evaluate(validation);
            var record = new EpochRecord(epoch, lossSum / seen, classification ? (double)correct / seen : null,
                validationResult?.Loss, validationResult?.Accuracy, seconds, seen / seconds, epochRate, Optimizer.StepCount);
            history.Epochs.Add(record);
            foreach (var callback in Callbacks) callback.OnEpochEnd(this, record);
        }
        foreach (var callback in Callbacks) callback.OnTrainEnd(this, history);
        return history;
    }

    /// <summary>
    /// One update: forward (under <see cref="Precision"/>), loss, backward, optimizer step. Returns
    /// the loss and, for classification, the number right. A NaN or infinity in the loss or the
    /// gradients stops training before the update with a <see cref="TrainingDivergedException"/> —
    /// except gradients that overflowed a <see cref="LossScaler"/>'s scale: that step is skipped.
    /// </summary>
    public (float Loss, int? Correct) TrainStep(Tensor features, Tensor targets)
    {
        using var scope = TensorScope.Begin();
        diagnosis.BeginStep(Model);
        Optimizer.ZeroGrad();
        Tensor output, value;
        using (MixedPrecision.Autocast(Precision))
        {
            output = Model.Call(features);
            value = Loss.Forward(output, targets);
            if (Regularization != null) value = Ops.F.Add(value, Regularization.Penalty(Model));
        }
        // Scaling the seed gradient scales every gradient exactly as backpropagating scale × loss would.
        if (LossScaler == null) value.Backward();
        else value.Backward(Tensor.Full(value.Shape, LossScaler.Scale));
        float lossValue = value.Item();
        var parameters = Optimizer.Groups.SelectMany(g => g.Parameters);
        bool overflowed = LossScaler != null && !LossScaler.Unscale(parameters);
        // Measured once, before clipping, for the history, the divergence check and clipping by norm.
        double gradientNorm = GradientClipping.GlobalNorm(parameters);
        GradientNorm = (float)gradientNorm;
        History.GradientNorms.Add(GradientNorm);
        // A norm beyond float's range means finite gradients that have exploded: the update would overflow the weights.
        if (!float.IsFinite(lossValue) || (!overflowed && !(gradientNorm <= float.MaxValue)))
            throw diagnosis.Diagnose(Model, Loss, Precision, features, targets, lossValue, gradientNorm, epoch > 0 ? $" at epoch {epoch}, batch {batch + 1}" : "");
        if (overflowed) LossScaler!.Update(foundNonFinite: true);
        else
        {
            diagnosis.Updated(gradientNorm);
            Clipping?.Apply(parameters, gradientNorm);
            Optimizer.Step();
            LossScaler?.Update(foundNonFinite: false);
        }
        return (lossValue, Metrics.CountCorrect(output, targets));
    }

    /// <summary>
    /// Mean loss and accuracy over a dataset, in eval mode with convolutions fused for inference
    /// (<see cref="Fusion.FuseForInference"/>), under <see cref="Precision"/> and without recording gradients; in batches of <paramref name="batchSize"/> (default: <see cref="InferenceBatch.Measure"/>).
    /// </summary>
    public Evaluation Evaluate(Dataset data, int? batchSize = null)
    {
        CheckCompatible(data, "evaluation");
        int batch = batchSize ?? InferenceBatch.For(Model, data.FeatureShape, Precision, data.Count);
        bool wasTraining = Model.Training;
        Model.Eval();
        try
        {
            double lossSum = 0;
            long correct = 0;
            bool classification = true;
            using var noGrad = GradMode.NoGrad();
            using var autocast = MixedPrecision.Autocast(Precision);
            using var fusion = Fusion.FuseForInference(Model);
            foreach (var (features, targets) in new DataLoader(data, Math.Min(batch, data.Count), shuffle: false))
            {
                using var scope = TensorScope.Begin();
                var output = Model.Call(features);
                lossSum += Loss.Forward(output, targets).Item() * (double)features.Shape[0];
                if (Metrics.CountCorrect(output, targets) is int c) correct += c; else classification = false;
            }
            return new Evaluation(lossSum / data.Count, classification ? (double)correct / data.Count : null, data.Count);
        }
        finally
        {
            Model.Train(wasTraining);
        }
    }

    /// <summary>The model's outputs for every row of <paramref name="inputs"/>, in eval mode with convolutions fused for inference (<see cref="Fusion.FuseForInference"/>), in batches of <paramref name="batchSize"/> (default: <see cref="InferenceBatch.Measure"/>).</summary>
    public Tensor Predict(Tensor inputs, int? batchSize = null) => Predict(Model, inputs, batchSize);

    public static Tensor Predict(Module model, Tensor inputs, int? batchSize = null)
    {
        if (inputs.Rank < 1 || inputs.Shape[0] == 0) throw new ArgumentException($"Predict needs a batch of inputs, got shape {inputs.Shape}.");
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be positive.");
        var outputShape = model.OutputShape(inputs.Shape);
        int batch = batchSize ?? InferenceBatch.For(model, new Shape(inputs.Shape.ToArray()[1..]), Precision.Float32, inputs.Shape[0]);
        var result = new Tensor(outputShape, new float[outputShape.Size]);
        int rowLength = outputShape.Size / inputs.Shape[0];
        bool wasTraining = model.Training;
        model.Eval();
        try
        {
            using var noGrad = GradMode.NoGrad();
            using var fusion = Fusion.FuseForInference(model);
            for (int start = 0; start < inputs.Shape[0]; start += batch)
            {
                using var scope = TensorScope.Begin();
                int count = Math.Min(batch, inputs.Shape[0] - start);
                model.Call(inputs.Slice(start, count)).Span.CopyTo(result.Span.Slice(start * rowLength, count * rowLength));
            }
            return result;
        }
        finally
        {
            model.Train(wasTraining);
        }
    }

    /// <summary>Fails before any kernel runs when the data does not fit the model or the loss.</summary>
    private void CheckCompatible(Dataset data, string role)
    {
        Shape output;
        try
        {
            output = Model.OutputShape(data.Features.Shape.WithBatch(1));
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"The {role} data does not fit the model: examples of shape {data.FeatureShape} — {e.Message}", e);
        }
        if (data.HasLabels && output.Rank == 2 && output[1] > 1 && output[1] < data.ClassCount)
            throw new ArgumentException($"The model outputs {output[1]} classes but the {role} labels go up to {data.ClassCount - 1}.");
    }
}
