using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Sinapse.Tensors;

namespace Sinapse.Training;

/// <summary>One epoch's figures. Validation figures are null without validation data; accuracies are null for non-classification targets.</summary>
public sealed record EpochRecord(
    int Epoch,
    double TrainLoss,
    double? TrainAccuracy,
    double? ValidationLoss,
    double? ValidationAccuracy,
    double Seconds,
    double SamplesPerSecond,
    float LearningRate,
    long Updates);

/// <summary>What <see cref="Trainer.Fit(Data.DataLoader, int, Data.Dataset?, CancellationToken)"/> returns, like Keras's History: per-epoch records and every step's loss.</summary>
public sealed class History : IStateful<JsonObject>
{
    public List<EpochRecord> Epochs { get; } = [];

    /// <summary>The loss of every update, in order (the per-iteration curve).</summary>
    public List<float> StepLosses { get; } = [];

    /// <summary>‖∇‖₂ over all trainable parameters at every update, before any clipping.</summary>
    public List<float> GradientNorms { get; } = [];

    /// <summary>The learning rate at every update, recorded by a <see cref="LearningRateLogger"/>.</summary>
    public List<float> LearningRates { get; } = [];

    /// <summary>Per-layer gradient and weight norms, recorded by a <see cref="GradientMonitor"/>.</summary>
    public List<LayerNorms> LayerNorms { get; } = [];

    public EpochRecord? Last => Epochs.Count == 0 ? null : Epochs[^1];

    public string ToCsv()
    {
        var text = new StringBuilder("epoch,train_loss,train_accuracy,val_loss,val_accuracy,seconds,samples_per_second,learning_rate,updates\n");
        foreach (var e in Epochs)
            text.AppendLine(string.Join(',', e.Epoch, F(e.TrainLoss), F(e.TrainAccuracy), F(e.ValidationLoss), F(e.ValidationAccuracy),
                F(e.Seconds), F(e.SamplesPerSecond), F(e.LearningRate), e.Updates));
        return text.ToString();
    }

    public void SaveCsv(string path) => File.WriteAllText(path, ToCsv());

    /// <summary>The epochs and the per-update curves as JSON (what a checkpoint keeps; the per-layer norms are not kept).</summary>
    public JsonObject StateDict() => new()
    {
        ["epochs"] = new JsonArray(Epochs.Select(e => (JsonNode)new JsonObject
        {
            ["epoch"] = e.Epoch, ["trainLoss"] = e.TrainLoss, ["trainAccuracy"] = e.TrainAccuracy, ["validationLoss"] = e.ValidationLoss,
            ["validationAccuracy"] = e.ValidationAccuracy, ["seconds"] = e.Seconds, ["samplesPerSecond"] = e.SamplesPerSecond,
            ["learningRate"] = e.LearningRate, ["updates"] = e.Updates,
        }).ToArray()),
        ["stepLosses"] = Floats(StepLosses),
        ["gradientNorms"] = Floats(GradientNorms),
        ["learningRates"] = Floats(LearningRates),
    };

    /// <summary>Replaces the epochs and curves with <see cref="StateDict"/>'s; the epochs must be numbered 1, 2, … in order.</summary>
    public void LoadStateDict(JsonObject state)
    {
        var epochs = state["epochs"]!.AsArray().Select(e => new EpochRecord(e!["epoch"]!.GetValue<int>(), e["trainLoss"]!.GetValue<double>(), e["trainAccuracy"]?.GetValue<double>(),
            e["validationLoss"]?.GetValue<double>(), e["validationAccuracy"]?.GetValue<double>(), e["seconds"]!.GetValue<double>(),
            e["samplesPerSecond"]!.GetValue<double>(), e["learningRate"]!.GetValue<float>(), e["updates"]!.GetValue<long>())).ToList();
        for (int i = 0; i < epochs.Count; i++)
            if (epochs[i].Epoch != i + 1) throw new ArgumentException($"A history's epochs are numbered 1, 2, … in order; record {i + 1} says epoch {epochs[i].Epoch}.");
        var (losses, norms, rates) = (ReadFloats(state["stepLosses"]), ReadFloats(state["gradientNorms"]), ReadFloats(state["learningRates"]));
        Epochs.Clear();
        Epochs.AddRange(epochs);
        foreach (var (list, values) in new[] { (StepLosses, losses), (GradientNorms, norms), (LearningRates, rates) })
        {
            list.Clear();
            list.AddRange(values);
        }
    }

    // JSON has no NaN or infinity: those are written as strings.
    private static JsonArray Floats(List<float> values) =>
        new(values.Select(v => float.IsFinite(v) ? (JsonNode)v : (JsonNode)v.ToString(CultureInfo.InvariantCulture)).ToArray());

    private static List<float> ReadFloats(JsonNode? node) => node is not JsonArray array ? [] :
        [.. array.Select(value => value is JsonValue v && v.TryGetValue<string>(out var text) ? float.Parse(text, CultureInfo.InvariantCulture) : value!.GetValue<float>())];

    private static string F(double? value) => value?.ToString("G6", CultureInfo.InvariantCulture) ?? "";
}
