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
    public Option<float?> WeightDecay { get; } = new("--weight-decay") { Description = "Weight decay: added to the gradient (L2) for sgd/momentum/nesterov/adagrad/rmsprop/adam (default 0), decoupled for adamw (default 0.01, as PyTorch's AdamW)." };
    public Option<float?> Dampening { get; } = new("--dampening") { Description = "Dampening d of the momentum optimizer: every gradient after the first enters the momentum as (1 - d)·g (default 0; nesterov needs 0)." };
    public Option<string?> MomentumForm { get; } = new("--momentum-form") { Description = "How momentum and nesterov keep their momentum: pytorch (b ← μb + g; w ← w − α·b, the default) or course (v ← μv − αg; w ← w + v). The same steps at a constant rate; they differ once a schedule changes α." };
    public Option<bool> Amsgrad { get; } = new("--amsgrad") { Description = "AMSGrad for adam and adamw: divide by the largest second-moment estimate so far, so the step never grows back." };
    public Option<float?> ClipValue { get; } = new("--clip-value") { Description = "Clip every gradient component to [-c, c] (the course's example: 1)." };
    public Option<float?> ClipNorm { get; } = new("--clip-norm") { Description = "Rescale the gradients when their global L2 norm exceeds this." };
    public Option<float> L1 { get; } = new("--l1") { Description = "L1 penalty λ·Σ|w| on the weights (drives weights to zero).", DefaultValueFactory = _ => 0f };
    public Option<float> L2 { get; } = new("--l2") { Description = "L2 penalty λ·Σw² on the weights.", DefaultValueFactory = _ => 0f };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Optimizer, LearningRate, Momentum, MomentumForm, WeightDecay, Dampening, Amsgrad, ClipValue, ClipNorm, L1, L2 }) command.Options.Add(option);
    }

    public string Name(ParseResult parse) => parse.GetValue(Optimizer)!.Trim().ToLowerInvariant();

    public float Rate(ParseResult parse)
    {
        float rate = parse.GetValue(LearningRate) ?? (Name(parse) is "adam" or "adamw" or "rmsprop" ? 1e-3f : 1e-2f);
        if (!(rate > 0) || float.IsInfinity(rate)) throw new ArgumentException($"--lr must be a positive finite number, got {rate.ToString(CultureInfo.InvariantCulture)}.");
        return rate;
    }

    /// <summary>The optimizer the options ask for. Without --weight-decay each takes PyTorch's default (0.01 for adamw, 0 for the others).</summary>
    public Optimizer Build(ParseResult parse, IEnumerable<Tensor> parameters)
    {
        float rate = Rate(parse);
        float? decay = parse.GetValue(WeightDecay), momentum = parse.GetValue(Momentum), dampening = parse.GetValue(Dampening);
        bool amsgrad = parse.GetValue(Amsgrad);
        string name = Name(parse);
        if (dampening != null && name is not ("momentum" or "nesterov"))
            throw new ArgumentException($"--dampening damps the momentum of the momentum and nesterov optimizers; --optimizer {name} has none.");
        var form = ParseMomentumForm(parse.GetValue(MomentumForm));
        if (form != null && name is not ("momentum" or "nesterov"))
            throw new ArgumentException($"--momentum-form chooses how the momentum and nesterov optimizers keep their momentum; --optimizer {name} has none.");
        if (amsgrad && name is not ("adam" or "adamw")) throw new ArgumentException($"--amsgrad is a variant of adam and adamw, not of --optimizer {name}.");
        return name switch
        {
            "sgd" => new Sgd(parameters, rate, weightDecay: decay ?? 0f),
            "momentum" => new Sgd(parameters, rate, momentum ?? 0.9f, weightDecay: decay ?? 0f, form: form ?? Optimizers.MomentumForm.PyTorch, dampening: dampening ?? 0f),
            "nesterov" => new Sgd(parameters, rate, momentum ?? 0.9f, nesterov: true, weightDecay: decay ?? 0f, form: form ?? Optimizers.MomentumForm.PyTorch, dampening: dampening ?? 0f),
            "adagrad" => new AdaGrad(parameters, rate, weightDecay: decay ?? 0f),
            "rmsprop" => new RmsProp(parameters, rate, weightDecay: decay ?? 0f, momentum: momentum ?? 0f),
            "adam" => new Adam(parameters, rate, weightDecay: decay, amsgrad: amsgrad),
            "adamw" => new Adam(parameters, rate, weightDecay: decay, decoupled: true, amsgrad: amsgrad),
            _ => throw new ArgumentException($"Unknown --optimizer '{name}'. Expected sgd, momentum, nesterov, adagrad, rmsprop, adam or adamw."),
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

    /// <summary>What the run uses, for the header line: the optimizer's own weight decay, dampening and AMSGrad, defaults included.</summary>
    public string Describe(ParseResult parse, Trainer trainer) => string.Create(CultureInfo.InvariantCulture,
        $"{Name(parse)} lr {Rate(parse)}") + (trainer.Optimizer.Groups[0].WeightDecay is > 0f and var decay ? string.Create(CultureInfo.InvariantCulture, $", weight decay {decay}") : "")
        + (trainer.Optimizer is Sgd { Dampening: not 0f } sgd ? string.Create(CultureInfo.InvariantCulture, $", dampening {sgd.Dampening}") : "")
        + (trainer.Optimizer is Sgd { Momentum: > 0f, Form: Optimizers.MomentumForm.Course } ? ", course momentum form" : "")
        + (trainer.Optimizer is Adam { Amsgrad: true } ? ", amsgrad" : "")
        + (trainer.Clipping is { } clip ? $", clip {clip.Mode.ToString().ToLowerInvariant()} {clip.Limit}" : "")
        + (trainer.Regularization != null ? string.Create(CultureInfo.InvariantCulture, $", l1 {parse.GetValue(L1)} l2 {parse.GetValue(L2)}") : "");

    private static MomentumForm? ParseMomentumForm(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        null => null,
        "pytorch" => Optimizers.MomentumForm.PyTorch,
        "course" => Optimizers.MomentumForm.Course,
        _ => throw new ArgumentException($"Unknown --momentum-form '{name}'. Expected course or pytorch."),
    };

    private static float Positive(float value, string option) =>
        value > 0 && float.IsFinite(value) ? value : throw new ArgumentException($"{option} must be a positive finite number, got {value.ToString(CultureInfo.InvariantCulture)}.");
}
