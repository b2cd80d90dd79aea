using System.CommandLine;
using System.Globalization;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Training;

namespace Sinapse.Cli;

/// <summary>The options that choose and tune the optimizer, clipping and regularisation of <c>sinapse train</c>.</summary>
internal sealed class OptimizerOptions
{
    public Option<string> Optimizer { get; } = new("--optimizer") { Description = "sgd, momentum, nesterov, adagrad, rmsprop, adam or adamw.", DefaultValueFactory = _ => "adam" };
    public Option<float?> LearningRate { get; } = new("--lr") { Description = "Learning rate (default: 0.001 for adam/adamw/rmsprop, 0.01 otherwise)." };
    public Option<float?> Momentum { get; } = new("--momentum") { Description = "Momentum μ of the momentum and nesterov optimizers (default 0.9) and of rmsprop (default 0)." };
    public Option<float> WeightDecay { get; } = new("--weight-decay") { Description = "Weight decay: added to the gradient (L2) for sgd/adagrad/rmsprop/adam, decoupled for adamw.", DefaultValueFactory = _ => 0f };
    public Option<float?> ClipValue { get; } = new("--clip-value") { Description = "Clip every gradient component to [-c, c] (the course's example: 1)." };
    public Option<float?> ClipNorm { get; } = new("--clip-norm") { Description = "Rescale the gradients when their global L2 norm exceeds this." };
    public Option<float> L1 { get; } = new("--l1") { Description = "L1 penalty λ·Σ|w| on the weights (drives weights to zero).", DefaultValueFactory = _ => 0f };
    public Option<float> L2 { get; } = new("--l2") { Description = "L2 penalty λ·Σw² on the weights.", DefaultValueFactory = _ => 0f };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Optimizer, LearningRate, Momentum, WeightDecay, ClipValue, ClipNorm, L1, L2 }) command.Options.Add(option);
    }

    public string Name(ParseResult parse) => parse.GetValue(Optimizer)!.Trim().ToLowerInvariant();

    public float Rate(ParseResult parse)
    {
        float rate = parse.GetValue(LearningRate) ?? (Name(parse) is "adam" or "adamw" or "rmsprop" ? 1e-3f : 1e-2f);
        if (!(rate > 0) || float.IsInfinity(rate)) throw new ArgumentException($"--lr must be a positive finite number, got {rate.ToString(CultureInfo.InvariantCulture)}.");
        return rate;
    }

    public Optimizer Build(ParseResult parse, IEnumerable<Tensor> parameters)
    {
        float rate = Rate(parse), decay = parse.GetValue(WeightDecay);
        float? momentum = parse.GetValue(Momentum);
        return Name(parse) switch
        {
            "sgd" => new Sgd(parameters, rate, weightDecay: decay),
            "momentum" => new Sgd(parameters, rate, momentum ?? 0.9f, weightDecay: decay),
            "nesterov" => new Sgd(parameters, rate, momentum ?? 0.9f, nesterov: true, weightDecay: decay),
            "adagrad" => new AdaGrad(parameters, rate, weightDecay: decay),
            "rmsprop" => new RmsProp(parameters, rate, weightDecay: decay, momentum: momentum ?? 0f),
            "adam" => new Adam(parameters, rate, weightDecay: decay),
            "adamw" => new Adam(parameters, rate, weightDecay: decay, decoupled: true),
            var other => throw new ArgumentException($"Unknown --optimizer '{other}'. Expected sgd, momentum, nesterov, adagrad, rmsprop, adam or adamw."),
        };
    }

    /// <summary>Sets the trainer's clipping and regularisation from the options.</summary>
    public void Configure(ParseResult parse, Trainer trainer)
    {
        var (value, norm) = (parse.GetValue(ClipValue), parse.GetValue(ClipNorm));
        if (value != null && norm != null) throw new ArgumentException("Give either --clip-value or --clip-norm, not both.");
        if (value is float c) trainer.Clipping = GradientClipping.ByValue(Positive(c, "--clip-value"));
        if (norm is float n) trainer.Clipping = GradientClipping.ByNorm(Positive(n, "--clip-norm"));
        float l1 = parse.GetValue(L1), l2 = parse.GetValue(L2);
        if (!(l1 >= 0) || !(l2 >= 0)) throw new ArgumentException($"--l1 and --l2 must be 0 or more, got {l1} and {l2}.");
        if (l1 > 0 || l2 > 0) trainer.Regularization = new Regularization(l1, l2);
    }

    /// <summary>What the run uses, for the header line.</summary>
    public string Describe(ParseResult parse, Trainer trainer) => string.Create(CultureInfo.InvariantCulture,
        $"{Name(parse)} lr {Rate(parse)}") + (trainer.Clipping is { } clip ? $", clip {clip.Mode.ToString().ToLowerInvariant()} {clip.Limit}" : "")
        + (trainer.Regularization != null ? string.Create(CultureInfo.InvariantCulture, $", l1 {parse.GetValue(L1)} l2 {parse.GetValue(L2)}") : "");

    private static float Positive(float value, string option) =>
        value > 0 && float.IsFinite(value) ? value : throw new ArgumentException($"{option} must be a positive finite number, got {value.ToString(CultureInfo.InvariantCulture)}.");
}
