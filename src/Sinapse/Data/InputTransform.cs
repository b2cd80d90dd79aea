using System.Globalization;
using System.Text.Json;
using Sinapse.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Sinapse.Data;

public enum InputTransformKind { None, Scale, Standardize, MinMax }

/// <summary>
/// Input normalisation: fitted on the training set, then applied unchanged to every other set, so
/// test data never leaks into the statistics. Every kind is an affine map <c>x·scale + shift</c>
/// per group of values, which is all <see cref="Apply(Tensor)"/> does:
/// <list type="bullet">
/// <item><see cref="Scale"/>: one factor for everything (<c>Scale(1/255f)</c> is the usual X/255).</item>
/// <item><see cref="Standardize"/>: zero mean and unit variance.</item>
/// <item><see cref="MinMax"/>: the training set's range onto [low, high], e.g. [0, 1] or [−1, 1].</item>
/// </list>
/// Groups: per channel for images [N, C, H, W] (and [N, C, L]), as torchvision's
/// <c>Normalize(mean, std)</c> and Keras's channels-last <c>Normalization()</c> do; per feature for
/// tabular [N, F], as scikit-learn's StandardScaler and Keras's <c>Normalization(axis=-1)</c> do;
/// or one group for everything with <c>perChannel: false</c>. Standard deviations are the
/// population ones (divide by N), as in scikit-learn and Keras. A constant group (zero spread, like
/// MNIST's always-black border pixels per feature) is shifted but not scaled, as scikit-learn does,
/// rather than divided by zero.
/// </summary>
public sealed class InputTransform
{
    float[] scale = [1f], shift = [0f];
    // The fitted statistics, per group: mean and std for Standardize, min and max for MinMax.
    float[]? first, second;

    InputTransform(InputTransformKind kind, bool perChannel, float factor = 1f, float low = 0f, float high = 1f)
    {
        Kind = kind;
        PerChannel = perChannel;
        Factor = factor;
        Low = low;
        High = high;
        if (kind == InputTransformKind.Scale) scale = [factor];
    }

    public static InputTransform None() => new(InputTransformKind.None, perChannel: false);

    /// <summary>x · <paramref name="factor"/>, e.g. <c>Scale(1/255f)</c> for pixels (a multiplier, as Keras's Rescaling).</summary>
    public static InputTransform Scale(float factor)
    {
        if (!float.IsFinite(factor) || factor == 0)
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "the scale factor must be finite and non-zero; use 1/255f for X/255");
        return new(InputTransformKind.Scale, perChannel: false, factor);
    }

    /// <summary>(x − mean) / std with the training set's statistics.</summary>
    public static InputTransform Standardize(bool perChannel = true) => new(InputTransformKind.Standardize, perChannel);

    /// <summary>The training set's [min, max] mapped onto [<paramref name="low"/>, <paramref name="high"/>].</summary>
    public static InputTransform MinMax(float low = 0f, float high = 1f, bool perChannel = true)
    {
        if (!(float.IsFinite(low) && float.IsFinite(high) && low < high))
            throw new ArgumentException($"MinMax needs a finite range with low < high, got [{low}, {high}].");
        return new(InputTransformKind.MinMax, perChannel, low: low, high: high);
    }

    public InputTransformKind Kind { get; }

    /// <summary>Statistics per channel ([N, C, ...]) or per feature ([N, F]) rather than one for everything.</summary>
    public bool PerChannel { get; }

    public float Factor { get; }

    public float Low { get; }

    public float High { get; }

    /// <summary>Whether the transform is ready to apply: fitted, or a kind that needs no statistics.</summary>
    public bool IsFitted => Kind is InputTransformKind.None or InputTransformKind.Scale || first != null;

    /// <summary>Per-group means (Standardize) or minima (MinMax); null before fitting.</summary>
    public IReadOnlyList<float>? Mean => Kind == InputTransformKind.Standardize ? first : null;

    public IReadOnlyList<float>? StandardDeviation => Kind == InputTransformKind.Standardize ? second : null;

    public IReadOnlyList<float>? Min => Kind == InputTransformKind.MinMax ? first : null;

    public IReadOnlyList<float>? Max => Kind == InputTransformKind.MinMax ? second : null;

    /// <summary>Computes the statistics from the training set's features; returns this transform.</summary>
    public InputTransform Fit(Dataset training)
    {
        ArgumentNullException.ThrowIfNull(training);
        return Fit(training.Features);
    }

    public InputTransform Fit(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (Kind is InputTransformKind.None or InputTransformKind.Scale) return this;
        var layout = Layout.Of(features, PerChannel);
        if (layout.Rows == 0) throw new ArgumentException($"Cannot fit {Kind} on an empty set of features {features.Shape}.", nameof(features));
        (first, second) = Kind == InputTransformKind.Standardize ? MeanAndStd(features, layout) : MinAndMax(features, layout);
        Derive();
        return this;
    }

    /// <summary>A transformed copy of <paramref name="features"/> (from the pool inside a TensorScope, like any op's result).</summary>
    public Tensor Apply(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        var result = Tensor.Empty(features.Shape);
        Apply(features, result);
        return result;
    }

    public void ApplyInPlace(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        Apply(features, features);
    }

    /// <summary>The same examples with transformed features (the targets are shared, not copied).</summary>
    public Dataset Apply(Dataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var features = Dataset.NewTensor(dataset.Features.Shape);
        Apply(dataset.Features, features);
        return new Dataset(features, dataset.Targets, dataset.ClassCount, dataset.ClassNames);
    }

    /// <summary>Kind, settings and fitted statistics, as plain values (strings, bools, floats, float arrays) ready for JSON.</summary>
    public Dictionary<string, object> ToConfig()
    {
        var config = new Dictionary<string, object> { ["kind"] = Kind.ToString().ToLowerInvariant() };
        switch (Kind)
        {
            case InputTransformKind.Scale:
                config["factor"] = Factor;
                break;
            case InputTransformKind.Standardize:
                config["perChannel"] = PerChannel;
                if (first != null) (config["mean"], config["std"]) = ((float[])first.Clone(), (float[])second!.Clone());
                break;
            case InputTransformKind.MinMax:
                config["perChannel"] = PerChannel;
                config["low"] = Low;
                config["high"] = High;
                if (first != null) (config["min"], config["max"]) = ((float[])first.Clone(), (float[])second!.Clone());
                break;
        }
        return config;
    }

    /// <summary>Rebuilds a transform from <see cref="ToConfig"/>'s output, or from the same read back from JSON.</summary>
    public static InputTransform FromConfig(IReadOnlyDictionary<string, object> config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var kindName = Read(config, "kind", v => v.ToString()!);
        if (!Enum.TryParse<InputTransformKind>(kindName, ignoreCase: true, out var kind))
            throw new ArgumentException($"Unknown input transform kind '{kindName}'; expected none, scale, standardize or minmax.", nameof(config));
        var transform = kind switch
        {
            InputTransformKind.None => None(),
            InputTransformKind.Scale => Scale(Read(config, "factor", ToFloat)),
            InputTransformKind.Standardize => Standardize(Read(config, "perChannel", ToBool)),
            _ => MinMax(Read(config, "low", ToFloat), Read(config, "high", ToFloat), Read(config, "perChannel", ToBool)),
        };
        var (firstKey, secondKey) = kind == InputTransformKind.Standardize ? ("mean", "std") : ("min", "max");
        if (kind is InputTransformKind.Standardize or InputTransformKind.MinMax && config.ContainsKey(firstKey))
        {
            var a = Read(config, firstKey, ToFloats);
            var b = Read(config, secondKey, ToFloats);
            if (a.Length != b.Length || a.Length == 0)
                throw new ArgumentException($"'{firstKey}' has {a.Length} values and '{secondKey}' {b.Length}; they need one per group.", nameof(config));
            (transform.first, transform.second) = (a, b);
            transform.Derive();
        }
        return transform;
    }

    public override string ToString()
    {
        string groups = PerChannel ? " per channel" : "";
        return Kind switch
        {
            InputTransformKind.None => "None",
            InputTransformKind.Scale => $"Scale(×{Factor.ToString("G6", CultureInfo.InvariantCulture)})",
            InputTransformKind.Standardize when first != null => $"Standardize{groups} (mean {Preview(first)}, std {Preview(second!)})",
            InputTransformKind.MinMax when first != null => $"MinMax{groups} [{Preview(first)}, {Preview(second!)}] → [{Low}, {High}]",
            _ => $"{Kind}{groups} (not fitted)",
        };
    }

    /// <summary>How a tensor's values fall into groups: Rows × Groups × Block, row-major.</summary>
    readonly record struct Layout(int Rows, int Groups, int Block)
    {
        public static Layout Of(Tensor x, bool perChannel)
        {
            if (x.Rank < 1) throw new ArgumentException($"Features need a first (example) axis, got shape {x.Shape}.");
            int rows = x.Shape[0], rowLength = rows == 0 ? x.Shape.Features.Size : x.Length / rows;
            if (!perChannel || x.Rank == 1) return new(rows, 1, rowLength);
            return new(rows, x.Shape[1], rowLength / x.Shape[1]);
        }
    }

    void Apply(Tensor source, Tensor destination)
    {
        if (!IsFitted) throw new InvalidOperationException($"{Kind} must be fitted on the training set (Fit) before it is applied.");
        var layout = Layout.Of(source, PerChannel && first != null);
        if (layout.Groups != scale.Length)
            throw new ArgumentException(
                $"This {Kind} was fitted on {scale.Length} {(layout.Block == 1 ? "features" : "channels")}, but features of shape {source.Shape} have {layout.Groups}.");
        var x = source.Span;
        var y = destination.Span;
        if (layout.Groups == 1)
        {
            Affine(x, scale[0], shift[0], y);
            return;
        }
        int rowLength = layout.Groups * layout.Block;
        for (int row = 0; row < layout.Rows; row++)
        {
            if (layout.Block == 1)
            {
                TensorPrimitives.MultiplyAdd(x.Slice(row * rowLength, rowLength), scale, shift, y.Slice(row * rowLength, rowLength));
                continue;
            }
            for (int g = 0; g < layout.Groups; g++)
            {
                int start = row * rowLength + g * layout.Block;
                Affine(x.Slice(start, layout.Block), scale[g], shift[g], y.Slice(start, layout.Block));
            }
        }
    }

    // TensorPrimitives has no MultiplyAdd with two scalars. (Splitting this into cache-sized pieces
    // was measured on MNIST: no gain, the time goes to first touches of the destination's pages.)
    static void Affine(ReadOnlySpan<float> x, float scale, float shift, Span<float> y)
    {
        TensorPrimitives.Multiply(x, scale, y);
        if (shift != 0) TensorPrimitives.Add(y, shift, y);
    }

    /// <summary>The affine map x·scale + shift from the fitted statistics.</summary>
    /// <summary>The fitted map x·scale + shift, one pair per group (what an ONNX export writes as nodes).</summary>
    internal (float[] Scale, float[] Shift) AffineMap => IsFitted ? (scale, shift)
        : throw new InvalidOperationException($"{Kind} must be fitted on the training set (Fit) before it is exported.");

    void Derive()
    {
        int groups = first!.Length;
        scale = new float[groups];
        shift = new float[groups];
        for (int g = 0; g < groups; g++)
        {
            double spread = Kind == InputTransformKind.Standardize ? second![g] : (double)second![g] - first[g];
            double target = Kind == InputTransformKind.Standardize ? 1 : (double)High - Low;
            double offset = Kind == InputTransformKind.Standardize ? 0 : Low;
            double s = spread > 1e-12 ? target / spread : 1;
            scale[g] = (float)s;
            shift[g] = (float)(offset - first[g] * s);
        }
    }

    // Sums are accumulated in float over at most this many rows, then added into doubles, so that
    // 60000 MNIST rows keep full precision without a scalar loop over every value.
    const int RowsPerPartialSum = 256;

    /// <summary>Two passes (mean, then squared deviations from it), which stay accurate when the mean is large.</summary>
    static (float[] Mean, float[] Std) MeanAndStd(Tensor x, Layout layout)
    {
        var mean = SumPerGroup(x, layout, null);
        for (int g = 0; g < mean.Length; g++) mean[g] /= (double)layout.Rows * layout.Block;
        var squares = SumPerGroup(x, layout, mean);
        var std = new float[mean.Length];
        for (int g = 0; g < std.Length; g++) std[g] = (float)Math.Sqrt(squares[g] / ((double)layout.Rows * layout.Block));
        return (Array.ConvertAll(mean, m => (float)m), std);
    }

    /// <summary>Σx per group, or Σ(x − center)² when <paramref name="center"/> is given.</summary>
    static double[] SumPerGroup(Tensor x, Layout layout, double[]? center)
    {
        var total = new double[layout.Groups];
        var values = x.Span;
        int rowLength = layout.Groups * layout.Block;
        var centerFloat = center == null ? null : Array.ConvertAll(center, c => (float)c);
        var scratch = new float[layout.Block == 1 ? rowLength : layout.Block];
        var partial = new float[layout.Groups];
        for (int row = 0; row < layout.Rows; row++)
        {
            var rowValues = values.Slice(row * rowLength, rowLength);
            if (layout.Block == 1)
            {
                // Per feature: whole rows at a time, vectorised across the features.
                if (centerFloat == null) TensorPrimitives.Add(rowValues, partial, partial);
                else
                {
                    TensorPrimitives.Subtract(rowValues, centerFloat, scratch);
                    TensorPrimitives.MultiplyAdd(scratch, scratch, partial, partial);
                }
                if ((row + 1) % RowsPerPartialSum == 0 || row == layout.Rows - 1)
                {
                    for (int g = 0; g < layout.Groups; g++) total[g] += partial[g];
                    Array.Clear(partial);
                }
                continue;
            }
            for (int g = 0; g < layout.Groups; g++)
            {
                var block = rowValues.Slice(g * layout.Block, layout.Block);
                if (centerFloat == null) total[g] += TensorPrimitives.Sum(block);
                else
                {
                    TensorPrimitives.Subtract(block, centerFloat[g], scratch);
                    total[g] += TensorPrimitives.SumOfSquares<float>(scratch);
                }
            }
        }
        return total;
    }

    static (float[] Min, float[] Max) MinAndMax(Tensor x, Layout layout)
    {
        var values = x.Span;
        int rowLength = layout.Groups * layout.Block;
        var min = new float[layout.Groups];
        var max = new float[layout.Groups];
        min.AsSpan().Fill(float.PositiveInfinity);
        max.AsSpan().Fill(float.NegativeInfinity);
        for (int row = 0; row < layout.Rows; row++)
        {
            var rowValues = values.Slice(row * rowLength, rowLength);
            if (layout.Block == 1)
            {
                TensorPrimitives.Min(rowValues, min, min);
                TensorPrimitives.Max(rowValues, max, max);
                continue;
            }
            for (int g = 0; g < layout.Groups; g++)
            {
                var block = rowValues.Slice(g * layout.Block, layout.Block);
                min[g] = Math.Min(min[g], TensorPrimitives.Min(block));
                max[g] = Math.Max(max[g], TensorPrimitives.Max(block));
            }
        }
        return (min, max);
    }

    static string Preview(float[] values)
    {
        var shown = values.Take(4).Select(v => v.ToString("G5", CultureInfo.InvariantCulture));
        return "[" + string.Join(", ", shown) + (values.Length > 4 ? $", … ({values.Length})" : "") + "]";
    }

    static T Read<T>(IReadOnlyDictionary<string, object> config, string key, Func<object, T> convert)
    {
        if (!config.TryGetValue(key, out var value) || value == null)
            throw new ArgumentException($"The input transform config has no '{key}'.", nameof(config));
        try { return convert(value); }
        catch (Exception e) when (e is FormatException or InvalidCastException or InvalidOperationException)
        {
            throw new ArgumentException($"The input transform config's '{key}' is {value}, which is not the {typeof(T).Name} expected.", nameof(config), e);
        }
    }

    static float ToFloat(object value) => value is JsonElement json ? json.GetSingle() : Convert.ToSingle(value, CultureInfo.InvariantCulture);

    static bool ToBool(object value) => value is JsonElement json ? json.GetBoolean() : Convert.ToBoolean(value, CultureInfo.InvariantCulture);

    static float[] ToFloats(object value) => value switch
    {
        float[] floats => (float[])floats.Clone(),
        JsonElement json => [.. json.EnumerateArray().Select(e => e.GetSingle())],
        System.Collections.IEnumerable items and not string => [.. items.Cast<object>().Select(ToFloat)],
        _ => throw new InvalidCastException(),
    };
}
