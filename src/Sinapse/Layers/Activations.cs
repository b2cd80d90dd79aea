using System.Globalization;
using Sinapse.Ops;
using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>A parameter-free layer that applies a function elementwise (or per row, for softmax).</summary>
public abstract class Activation : Module
{
    public override Shape OutputShape(Shape input) => input;

    /// <summary>
    /// An activation by the name the CLI and model files use: relu, leaky_relu or leaky_relu(0.2),
    /// elu or elu(α), selu, sigmoid, tanh, gelu, gelu_tanh (GELU's tanh approximation), hard_sigmoid, hard_swish, relu6, softmax,
    /// log_softmax, identity (also linear).
    /// </summary>
    public static Activation Parse(string text)
    {
        var name = text.Trim().ToLowerInvariant();
        int open = name.IndexOf('(');
        float? argument = open < 0 ? null
            : float.TryParse(name[(open + 1)..].TrimEnd(')'), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
            : throw new ArgumentException($"Activation '{text}': the argument is not a number.");
        // Only the name's dashes become underscores: the argument may be negative.
        return ((open < 0 ? name : name[..open].Trim()).Replace('-', '_'), argument) switch
        {
            ("relu", null) => new Relu(),
            ("leaky_relu" or "leakyrelu", _) => new LeakyRelu(argument ?? 0.01f),
            ("elu", _) => new Elu(argument ?? 1f),
            ("selu", null) => new Selu(),
            ("sigmoid" or "logistic", null) => new Sigmoid(),
            ("tanh", null) => new Tanh(),
            ("gelu", null) => new Gelu(),
            ("gelu_tanh", null) => new Gelu("tanh"),
            ("hard_sigmoid" or "hardsigmoid", null) => new HardSigmoid(),
            ("hard_swish" or "hardswish", null) => new HardSwish(),
            ("relu6", null) => new Relu6(),
            ("softmax", null) => new Softmax(),
            ("log_softmax" or "logsoftmax", null) => new LogSoftmax(),
            ("identity" or "linear", null) => new Identity(),
            _ => throw new ArgumentException($"Unknown activation '{text}'. Expected one of: relu, leaky_relu(slope), elu(alpha), selu, sigmoid, tanh, gelu, gelu_tanh, hard_sigmoid, hard_swish, relu6, softmax, log_softmax, identity."),
        };
    }
}

public sealed class Relu : Activation, IConfigless<Relu> { protected override Tensor Forward(Tensor input) => F.Relu(input); }

public sealed record LeakyReluConfig(float NegativeSlope = 0.01f);

public sealed class LeakyRelu(float negativeSlope = 0.01f) : Activation, IConfigurable<LeakyRelu, LeakyReluConfig>
{
    public LeakyReluConfig GetConfig() => new(NegativeSlope);
    public static LeakyRelu FromConfig(LeakyReluConfig config, Rng? rng) => new(config.NegativeSlope);
    public float NegativeSlope { get; } = float.IsFinite(negativeSlope) ? negativeSlope
        : throw new ArgumentException($"LeakyRelu needs a finite negative slope, got {negativeSlope}.", nameof(negativeSlope));
    protected override Tensor Forward(Tensor input) => F.LeakyRelu(input, NegativeSlope);
    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"LeakyRelu({NegativeSlope})");
}

public sealed record EluConfig(float Alpha = 1f);

public sealed class Elu(float alpha = 1f) : Activation, IConfigurable<Elu, EluConfig>
{
    public EluConfig GetConfig() => new(Alpha);
    public static Elu FromConfig(EluConfig config, Rng? rng) => new(config.Alpha);
    public float Alpha { get; } = float.IsFinite(alpha) ? alpha
        : throw new ArgumentException($"Elu needs a finite alpha, got {alpha}.", nameof(alpha));
    protected override Tensor Forward(Tensor input) => F.Elu(input, Alpha);
    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"Elu({Alpha})");
}

public sealed class Selu : Activation, IConfigless<Selu> { protected override Tensor Forward(Tensor input) => F.Selu(input); }

public sealed class Sigmoid : Activation, IConfigless<Sigmoid> { protected override Tensor Forward(Tensor input) => F.Sigmoid(input); }

public sealed class Tanh : Activation, IConfigless<Tanh> { protected override Tensor Forward(Tensor input) => F.Tanh(input); }

/// <param name="Approximate">"none" or "tanh"; files written before the tanh form existed name none, so their GELU is the exact one.</param>
public sealed record GeluConfig(string Approximate = "none");

/// <summary>GELU: the exact x·Φ(x) ("none", PyTorch's default) or its tanh approximation ("tanh").</summary>
public sealed class Gelu(string approximate = "none") : Activation, IConfigurable<Gelu, GeluConfig>
{
    public GeluConfig GetConfig() => new(Approximate);
    public static Gelu FromConfig(GeluConfig config, Rng? rng) => new(config.Approximate);
    public string Approximate { get; } = F.CheckGeluApproximation(approximate);
    protected override Tensor Forward(Tensor input) => F.Gelu(input, Approximate);
    public override string Describe() => Approximate == "none" ? "Gelu" : $"Gelu(approximate='{Approximate}')";
}

public sealed class HardSigmoid : Activation, IConfigless<HardSigmoid> { protected override Tensor Forward(Tensor input) => F.HardSigmoid(input); }

public sealed class HardSwish : Activation, IConfigless<HardSwish> { protected override Tensor Forward(Tensor input) => F.HardSwish(input); }

public sealed class Relu6 : Activation, IConfigless<Relu6> { protected override Tensor Forward(Tensor input) => F.Relu6(input); }

/// <summary>Softmax over the last axis; for training, prefer logits with the fused cross-entropy loss.</summary>
public sealed class Softmax : Activation, IConfigless<Softmax> { protected override Tensor Forward(Tensor input) => F.Softmax(input); }

public sealed class LogSoftmax : Activation, IConfigless<LogSoftmax> { protected override Tensor Forward(Tensor input) => F.LogSoftmax(input); }

public sealed class Identity : Activation, IConfigless<Identity> { protected override Tensor Forward(Tensor input) => input; }
