using System.Globalization;
using Sinapse.Tensors;

namespace Sinapse.Init;

/// <summary>
/// How a layer's weights start. The fan-based schemes follow the course's table, for a layer
/// with m inputs (fan-in) and n outputs (fan-out): Xavier/Glorot for linear, tanh, logistic and
/// softmax units; He for ReLU and its variants; LeCun for SELU.
/// </summary>
public sealed class Initializer
{
    private readonly Action<Span<float>, int, int, Rng> fill;

    private Initializer(string name, Action<Span<float>, int, int, Rng> fill)
    {
        Name = name;
        this.fill = fill;
    }

    /// <summary>The Keras-style name that <see cref="Parse"/> reads back ("he_uniform", "uniform(-5, 5)").</summary>
    public string Name { get; }

    public override string ToString() => Name;

    public void Fill(Span<float> weights, int fanIn, int fanOut, Rng rng)
    {
        if (fanIn <= 0 || fanOut <= 0) throw new ArgumentException($"Initializer {Name} needs positive fan-in and fan-out, got {fanIn} and {fanOut}.");
        fill(weights, fanIn, fanOut, rng);
    }

    /// <summary>Xavier/Glorot uniform: U(−r, r) with r = √(6/(m+n)). The default for weights.</summary>
    public static Initializer GlorotUniform() => new("glorot_uniform", (w, m, n, rng) => Symmetric(w, MathF.Sqrt(6f / (m + n)), rng));

    /// <summary>Xavier/Glorot normal: N(0, 2/(m+n)).</summary>
    public static Initializer GlorotNormal() => new("glorot_normal", (w, m, n, rng) => rng.FillNormal(w, 0f, MathF.Sqrt(2f / (m + n))));

    /// <summary>He uniform: U(−r, r) with r = √(6/m).</summary>
    public static Initializer HeUniform() => new("he_uniform", (w, m, n, rng) => Symmetric(w, MathF.Sqrt(6f / m), rng));

    /// <summary>He normal: N(0, 2/m).</summary>
    public static Initializer HeNormal() => new("he_normal", (w, m, n, rng) => rng.FillNormal(w, 0f, MathF.Sqrt(2f / m)));

    /// <summary>LeCun uniform: U(−r, r) with r = √(3/m).</summary>
    public static Initializer LeCunUniform() => new("lecun_uniform", (w, m, n, rng) => Symmetric(w, MathF.Sqrt(3f / m), rng));

    /// <summary>LeCun normal: N(0, 1/m).</summary>
    public static Initializer LeCunNormal() => new("lecun_normal", (w, m, n, rng) => rng.FillNormal(w, 0f, MathF.Sqrt(1f / m)));

    public static Initializer Constant(float value)
    {
        if (!float.IsFinite(value)) throw new ArgumentException($"constant(value) needs a finite value, got {value}.");
        return new(Invariant($"constant({value})"), (w, m, n, rng) => w.Fill(value));
    }

    public static Initializer Zeros() => new("zeros", (w, m, n, rng) => w.Clear());

    public static Initializer Ones() => new("ones", (w, m, n, rng) => w.Fill(1f));

    /// <summary>U(low, high), whatever the layer's size (the course's bad example is U(−5, 5)).</summary>
    public static Initializer Uniform(float low, float high)
    {
        if (!(low <= high)) throw new ArgumentException($"uniform(low, high) needs low <= high, got ({low}, {high}).");
        // An infinite bound, or a width beyond float's range, would fill the weights with NaN.
        if (!float.IsFinite(high - low)) throw new ArgumentException($"uniform(low, high) needs finite bounds less than float's range apart, got ({low}, {high}).");
        return new(Invariant($"uniform({low}, {high})"), (w, m, n, rng) => rng.FillUniform(w, low, high));
    }

    /// <summary>N(mean, σ²), whatever the layer's size (the course's bad example is N(0, 1) with sigmoid).</summary>
    public static Initializer Normal(float mean, float standardDeviation)
    {
        if (!(standardDeviation >= 0) || !float.IsFinite(standardDeviation) || !float.IsFinite(mean))
            throw new ArgumentException($"normal(mean, std) needs a finite mean and a finite std >= 0, got ({mean}, {standardDeviation}).");
        return new(Invariant($"normal({mean}, {standardDeviation})"), (w, m, n, rng) => rng.FillNormal(w, mean, standardDeviation));
    }

    /// <summary>
    /// Reads a name as the CLI and model files write it: glorot_uniform, glorot_normal (also
    /// xavier_*), he_uniform, he_normal, lecun_uniform, lecun_normal, zeros, ones, constant(v),
    /// uniform(a, b), normal(mean, std).
    /// </summary>
    public static Initializer Parse(string text)
    {
        var name = text.Trim().ToLowerInvariant();
        int open = name.IndexOf('(');
        var arguments = open < 0 ? [] : ParseArguments(text, name[(open + 1)..].TrimEnd(')'));
        // Only the name's dashes become underscores: an argument may be negative ("uniform(-5, 5)").
        var head = (open < 0 ? name : name[..open].Trim()).Replace('-', '_');
        return (head, arguments.Length) switch
        {
            ("glorot_uniform" or "xavier_uniform", 0) => GlorotUniform(),
            ("glorot_normal" or "xavier_normal", 0) => GlorotNormal(),
            ("he_uniform" or "kaiming_uniform", 0) => HeUniform(),
            ("he_normal" or "kaiming_normal", 0) => HeNormal(),
            ("lecun_uniform", 0) => LeCunUniform(),
            ("lecun_normal", 0) => LeCunNormal(),
            ("zeros", 0) => Zeros(),
            ("ones", 0) => Ones(),
            ("constant", 1) => Constant(arguments[0]),
            ("uniform", 2) => Uniform(arguments[0], arguments[1]),
            ("normal", 2) => Normal(arguments[0], arguments[1]),
            _ => throw new ArgumentException($"Unknown initializer '{text}'. Expected one of: glorot_uniform, glorot_normal, he_uniform, he_normal, lecun_uniform, lecun_normal, zeros, ones, constant(v), uniform(a, b), normal(mean, std)."),
        };
    }

    private static float[] ParseArguments(string text, string arguments) =>
        arguments.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(a => float.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
                : throw new ArgumentException($"Initializer '{text}': '{a}' is not a number."))
            .ToArray();

    private static void Symmetric(Span<float> weights, float limit, Rng rng) => rng.FillUniform(weights, -limit, limit);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
