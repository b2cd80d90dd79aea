using System.CommandLine;
using System.Globalization;
using Sinapse.Losses;
using Sinapse.Tensors;

namespace Sinapse.Cli;

/// <summary>The options of <c>sinapse train</c> that shape its cross-entropy loss: label smoothing and class weights.</summary>
internal sealed class LossOptions
{
    public Option<float> LabelSmoothing { get; } = new("--label-smoothing")
    {
        Description = "Label smoothing ε in [0, 1]: each target becomes (1 - ε)·one-hot + ε/classes, as PyTorch's label_smoothing (0.1 is common).",
        DefaultValueFactory = _ => 0f,
    };
    public Option<string?> ClassWeights { get; } = new("--class-weights")
    {
        Description = "One weight per class, comma-separated in class order (e.g. 1,3 to count the second class three times): "
            + "each example's loss is scaled by its class's weight and the mean divides by the summed weights, as PyTorch's weight.",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(LabelSmoothing);
        command.Options.Add(ClassWeights);
    }

    /// <summary>Every loss option's error that needs no data, before any is loaded.</summary>
    public void Validate(ParseResult parse)
    {
        float smoothing = parse.GetValue(LabelSmoothing);
        if (!(smoothing >= 0f && smoothing <= 1f))
            throw new ArgumentException($"--label-smoothing must be in [0, 1], got {smoothing.ToString(CultureInfo.InvariantCulture)}.");
        Weights(parse);
    }

    /// <summary>The cross-entropy loss for data of <paramref name="classCount"/> classes.</summary>
    public CrossEntropyLoss Build(ParseResult parse, int classCount)
    {
        Validate(parse);
        var weights = Weights(parse);
        if (weights != null && weights.Length != classCount)
            throw new ArgumentException($"--class-weights gives {weights.Length} weights, but the data has {classCount} classes.");
        return new CrossEntropyLoss(weight: weights == null ? null : Tensor.FromArray(weights), labelSmoothing: parse.GetValue(LabelSmoothing));
    }

    /// <summary>The loss's settings for the header line, empty for plain cross-entropy.</summary>
    public static string Describe(Loss loss) => loss is not CrossEntropyLoss crossEntropy ? ""
        : (crossEntropy.LabelSmoothing != 0f ? string.Create(CultureInfo.InvariantCulture, $", label smoothing {crossEntropy.LabelSmoothing}") : "")
          + (crossEntropy.Weight is { } weight ? $", class weights {string.Join(",", weight.ToArray().Select(w => w.ToString(CultureInfo.InvariantCulture)))}" : "");

    private float[]? Weights(ParseResult parse)
    {
        if (parse.GetValue(ClassWeights) is not { } text) return null;
        return text.Split(',', StringSplitOptions.TrimEntries).Select(item =>
            float.TryParse(item, NumberStyles.Float, CultureInfo.InvariantCulture, out var weight) && float.IsFinite(weight) && weight >= 0f ? weight
                : throw new ArgumentException($"--class-weights needs finite weights of 0 or more, comma-separated; '{item}' is not one.")).ToArray();
    }
}
