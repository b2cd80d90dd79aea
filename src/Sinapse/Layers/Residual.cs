using System.Globalization;
using Sinapse.Ops;
using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>
/// A residual block, y = shortcut(x) + body(x), with the identity as the default shortcut (a
/// projection such as a 1×1 convolution when the shapes change), and optional stochastic depth.
/// </summary>
/// <remarks>
/// Stochastic depth (Huang et al., 2016) with inverted scaling, as torchvision's
/// StochasticDepth(p, mode="batch"): in training, with probability <see cref="DropPath"/> the
/// body is skipped for the whole batch and the block returns shortcut(x); otherwise it returns
/// shortcut(x) + body(x)/(1 − p). In evaluation the body always runs, unscaled, so inference
/// costs nothing extra (the paper instead scales the body by 1 − p at test time; the expected
/// output is the same). A skipped body does not run at all — it costs no time, its parameters get
/// no gradient, and batch norm inside it does not update its running statistics. One draw from
/// the Rng per training forward pass, so a seed fixes which passes skip.
/// </remarks>
/// <summary>The arguments of a <see cref="Residual"/>: its body, its shortcut (null: identity) and the drop-path probability.</summary>
public sealed record ResidualConfig(Module Body, Module? Shortcut = null, float DropPath = 0f);

public sealed class Residual : Module, IConfigurable<Residual, ResidualConfig>, IStochastic
{
    public ResidualConfig GetConfig() => new(Body, Shortcut, DropPath);
    public static Residual FromConfig(ResidualConfig c, Rng? rng) => new(c.Body, c.Shortcut, c.DropPath, rng);

    private readonly Rng? rng;

    public Residual(Module body, Module? shortcut = null, float dropPath = 0f, Rng? rng = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (!(dropPath >= 0f && dropPath <= 1f)) throw new ArgumentOutOfRangeException(nameof(dropPath), dropPath, "Residual: the drop-path probability must be in [0, 1].");
        Body = RegisterModule("body", body);
        if (shortcut != null) Shortcut = RegisterModule("shortcut", shortcut);
        DropPath = dropPath;
        this.rng = rng;
    }

    public Module Body { get; }

    /// <summary>The shortcut branch, or null for the identity.</summary>
    public Module? Shortcut { get; }

    /// <summary>The probability of skipping the body in a training pass (stochastic depth).</summary>
    public float DropPath { get; }

    public Rng Rng => rng ?? Rng.Global;

    protected override Tensor Forward(Tensor input)
    {
        var skip = Shortcut?.Call(input) ?? input;
        bool stochastic = Training && DropPath > 0f;
        if (stochastic && Rng.NextFloat() < DropPath) return skip;
        var body = Body.Call(input);
        if (body.Shape != skip.Shape) throw ShapeMismatch(input.Shape, body.Shape, skip.Shape);
        return F.Add(skip, stochastic ? F.Multiply(body, 1f / (1f - DropPath)) : body);
    }

    public override Shape OutputShape(Shape input)
    {
        var body = Body.OutputShape(input);
        var skip = Shortcut?.OutputShape(input) ?? input;
        if (body != skip) throw ShapeMismatch(input, body, skip);
        return body;
    }

    private ArgumentException ShapeMismatch(Shape input, Shape body, Shape skip) =>
        new($"{Describe()}: for the input {input} the body gives {body} but the shortcut {(Shortcut == null ? "(identity)" : Shortcut.Describe())} gives {skip}; "
            + "they must match to be added (use a projection shortcut when the body changes the shape).");

    /// <summary>The body's: the shortcut sees no more than the body does.</summary>
    public override (int Kernel, int Stride, int Dilation)? Window => Body.Window;

    public override string Describe() =>
        DropPath > 0f ? string.Create(CultureInfo.InvariantCulture, $"Residual(dropPath={DropPath})") : "Residual";
}
