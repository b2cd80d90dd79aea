using System.Text.Json.Nodes;
using Sinapse.Layers;
using Sinapse.Models;
using Sinapse.Tensors;

namespace Sinapse.Serialization;

/// <summary>
/// A model's architecture as JSON, enough to rebuild it without code (Keras's get_config /
/// from_config): each layer is an object with its "type" and its constructor arguments; containers
/// hold their children ("layers" of a Sequential, "body"/"shortcut" of a Residual). Weights are not
/// part of the spec: they live in the safetensors file beside it.
/// </summary>
/// <remarks>
/// One table maps each layer type to a writer (layer → arguments) and a factory (arguments →
/// layer). A layer defined elsewhere becomes saveable with one <see cref="Register{T}"/> call;
/// saving a model with an unregistered layer fails and says so, rather than writing a file that
/// cannot be read back.
/// </remarks>
public static class ModelSpec
{
    private sealed record Entry(string Type, Type ClrType, Func<Module, JsonObject> Write, Func<JsonObject, ModelSpecReader, Module> Create);

    private static readonly Dictionary<string, Entry> byName = new(StringComparer.Ordinal);
    private static readonly Dictionary<Type, Entry> byType = [];
    private static readonly Lock registration = new();

    /// <summary>
    /// Makes layers of type <typeparamref name="T"/> saveable: <paramref name="write"/> gives the
    /// constructor arguments (children as nested specs, through <see cref="ToJson"/>), and
    /// <paramref name="create"/> builds the layer back from them. Registering a type again replaces it.
    /// </summary>
    public static void Register<T>(string type, Func<T, JsonObject> write, Func<JsonObject, ModelSpecReader, T> create) where T : Module
    {
        var entry = new Entry(type, typeof(T), m => write((T)m), (json, reader) => create(json, reader));
        lock (registration)
        {
            byName[type] = entry;
            byType[typeof(T)] = entry;
        }
    }

    internal static Func<JsonObject, ModelSpecReader, Module>? Factory(string type)
    {
        lock (registration) return byName.TryGetValue(type, out var entry) ? entry.Create : null;
    }

    /// <summary>The layer types that can be saved, by their spec name.</summary>
    public static IReadOnlyCollection<string> RegisteredTypes
    {
        get { lock (registration) return byName.Keys.ToList(); }
    }

    /// <summary>The spec of <paramref name="module"/> and everything inside it.</summary>
    public static JsonObject ToJson(Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        Entry? entry;
        lock (registration) byType.TryGetValue(module.GetType(), out entry);
        if (entry == null)
            throw new NotSupportedException($"The layer '{module.Path}' ({module.Describe()}, type {module.GetType().FullName}) has no model-spec entry, so the model cannot be saved without code; "
                + "register it with ModelSpec.Register.");
        var config = entry.Write(module);
        var json = new JsonObject { ["type"] = entry.Type };
        foreach (var (key, value) in config.ToList())
        {
            config.Remove(key);
            json[key] = value;
        }
        return json;
    }

    /// <summary>Builds the model that <paramref name="json"/> describes, with fresh (to be loaded) weights.</summary>
    /// <param name="rng">The generator for layers that draw random numbers (dropout) and for the initial weights; null for <see cref="Rng.Global"/>.</param>
    public static Module FromJson(JsonNode? json, Rng? rng = null, string source = "the model spec") =>
        new ModelSpecReader(rng, source).Build(json, "model");

    static ModelSpec()
    {
        Register<Sequential>("Sequential",
            m => new JsonObject { ["layers"] = new JsonArray(m.Layers.Select(l => (JsonNode)ToJson(l)).ToArray()) },
            (j, r) => new Sequential(r.Array(j, "layers").Select((layer, i) => r.Build(layer, $"layers[{i}]")).ToArray()));
        Register<Linear>("Linear",
            m => new JsonObject { ["inFeatures"] = m.InFeatures, ["outFeatures"] = m.OutFeatures, ["bias"] = m.Bias != null },
            (j, r) => new Linear(r.Int(j, "inFeatures"), r.Int(j, "outFeatures"), r.Bool(j, "bias", true), rng: r.Rng));
        Register<Conv2d>("Conv2d", m => Convolution(m.InChannels, m.OutChannels, m.KernelSize, m.Stride, m.Padding, m.Dilation, m.Groups, m.Bias != null),
            (j, r) => new Conv2d(r.Int(j, "inChannels"), r.Int(j, "outChannels"), r.Int(j, "kernelSize"), r.Int(j, "stride", 1), r.Padding(j),
                r.Int(j, "dilation", 1), r.Int(j, "groups", 1), r.Bool(j, "bias", true), rng: r.Rng));
        Register<Conv1d>("Conv1d", m => Convolution(m.InChannels, m.OutChannels, m.KernelSize, m.Stride, m.Padding, m.Dilation, m.Groups, m.Bias != null),
            (j, r) => new Conv1d(r.Int(j, "inChannels"), r.Int(j, "outChannels"), r.Int(j, "kernelSize"), r.Int(j, "stride", 1), r.Padding(j),
                r.Int(j, "dilation", 1), r.Int(j, "groups", 1), r.Bool(j, "bias", true), rng: r.Rng));
        Register<MaxPool2d>("MaxPool2d", m => Pool(Pair(m.KernelSize), Pair(m.Stride), Pair(m.Padding), Pair(m.Dilation), m.CeilMode, countIncludePad: null),
            (j, r) => new MaxPool2d(r.Pair(j, "kernelSize"), r.Pair(j, "stride"), r.Pair(j, "padding", (0, 0)), r.Pair(j, "dilation", (1, 1)), r.Bool(j, "ceilMode", false)));
        Register<AvgPool2d>("AvgPool2d", m => Pool(Pair(m.KernelSize), Pair(m.Stride), Pair(m.Padding), dilation: null, m.CeilMode, m.CountIncludePad),
            (j, r) => new AvgPool2d(r.Pair(j, "kernelSize"), r.Pair(j, "stride"), r.Pair(j, "padding", (0, 0)), r.Bool(j, "ceilMode", false), r.Bool(j, "countIncludePad", true)));
        Register<MaxPool1d>("MaxPool1d", m => Pool(m.KernelSize, m.Stride, m.Padding, m.Dilation, m.CeilMode, countIncludePad: null),
            (j, r) => new MaxPool1d(r.Int(j, "kernelSize"), r.Int(j, "stride"), r.Int(j, "padding", 0), r.Int(j, "dilation", 1), r.Bool(j, "ceilMode", false)));
        Register<AvgPool1d>("AvgPool1d", m => Pool(m.KernelSize, m.Stride, m.Padding, dilation: null, m.CeilMode, m.CountIncludePad),
            (j, r) => new AvgPool1d(r.Int(j, "kernelSize"), r.Int(j, "stride"), r.Int(j, "padding", 0), r.Bool(j, "ceilMode", false), r.Bool(j, "countIncludePad", true)));
        Register<AdaptiveAvgPool2d>("AdaptiveAvgPool2d", m => new JsonObject { ["outputSize"] = Pair(m.OutputSize) }, (j, r) => new AdaptiveAvgPool2d(r.Pair(j, "outputSize")));
        Register<GlobalAvgPool2d>("GlobalAvgPool2d", _ => [], (_, _) => new GlobalAvgPool2d());
        Register<Flatten>("Flatten", _ => [], (_, _) => new Flatten());
        Register<BatchNorm1d>("BatchNorm1d", BatchNorm,
            (j, r) => new BatchNorm1d(r.Int(j, "numFeatures"), r.Float(j, "eps", 1e-5f), r.NullableFloat(j, "momentum", 0.1f), r.Bool(j, "affine", true), r.Bool(j, "trackRunningStats", true)));
        Register<BatchNorm2d>("BatchNorm2d", BatchNorm,
            (j, r) => new BatchNorm2d(r.Int(j, "numFeatures"), r.Float(j, "eps", 1e-5f), r.NullableFloat(j, "momentum", 0.1f), r.Bool(j, "affine", true), r.Bool(j, "trackRunningStats", true)));
        Register<Dropout>("Dropout", m => new JsonObject { ["p"] = m.P }, (j, r) => new Dropout(r.Float(j, "p", 0.5f), r.Rng));
        Register<Dropout2d>("Dropout2d", m => new JsonObject { ["p"] = m.P }, (j, r) => new Dropout2d(r.Float(j, "p", 0.5f), r.Rng));
        Register<Residual>("Residual",
            m => new JsonObject { ["body"] = ToJson(m.Body), ["shortcut"] = m.Shortcut == null ? null : ToJson(m.Shortcut), ["dropPath"] = m.DropPath },
            (j, r) => new Residual(r.Build(j["body"], "body"), j["shortcut"] is { } shortcut ? r.Build(shortcut, "shortcut") : null, r.Float(j, "dropPath", 0f), r.Rng));
        Register<ConvTranspose2d>("ConvTranspose2d", m => new JsonObject
            {
                ["inChannels"] = m.InChannels, ["outChannels"] = m.OutChannels, ["kernelSize"] = PairOrNumber(m.KernelSize), ["stride"] = PairOrNumber(m.Stride),
                ["padding"] = PairOrNumber((m.Padding.Height, m.Padding.Width)), ["outputPadding"] = PairOrNumber(m.OutputPadding), ["dilation"] = PairOrNumber(m.Dilation),
                ["groups"] = m.Groups, ["bias"] = m.Bias != null,
            },
            (j, r) => new ConvTranspose2d(r.Int(j, "inChannels"), r.Int(j, "outChannels"), r.Pair(j, "kernelSize"), r.Pair(j, "stride", (1, 1)), r.Pair(j, "padding", (0, 0)),
                r.Pair(j, "outputPadding", (0, 0)), r.Pair(j, "dilation", (1, 1)), r.Int(j, "groups", 1), r.Bool(j, "bias", true), rng: r.Rng));
        Register<Upsample>("Upsample", m => new JsonObject { ["scale"] = m.Scale }, (j, r) => new Upsample(r.Int(j, "scale", 2)));
        Register<Unflatten>("Unflatten", m => new JsonObject { ["dimensions"] = new JsonArray(m.Dimensions.Select(d => (JsonNode)d).ToArray()) },
            (j, r) => new Unflatten(r.Ints(j, "dimensions")));
        Register<SqueezeExcitation>("SqueezeExcitation", m => new JsonObject { ["channels"] = m.Channels, ["squeezeChannels"] = m.SqueezeChannels },
            (j, r) => new SqueezeExcitation(r.Int(j, "channels"), r.Int(j, "squeezeChannels"), new ConvNormOptions(Rng: r.Rng)));
        Register<InvertedResidual>("InvertedResidual", m => new JsonObject
            {
                ["inChannels"] = m.InChannels, ["outChannels"] = m.OutChannels, ["stride"] = m.Stride, ["bodyName"] = m.Children[0].Name, ["body"] = ToJson(m.Body),
            },
            (j, r) => new InvertedResidual(r.Sequential(j, "body"), r.Int(j, "inChannels"), r.Int(j, "outChannels"), r.Int(j, "stride"), j.ContainsKey("bodyName") ? r.Text(j, "bodyName") : "block"));
        Register<LeakyRelu>("LeakyRelu", m => new JsonObject { ["negativeSlope"] = m.NegativeSlope }, (j, r) => new LeakyRelu(r.Float(j, "negativeSlope", 0.01f)));
        Register<Elu>("Elu", m => new JsonObject { ["alpha"] = m.Alpha }, (j, r) => new Elu(r.Float(j, "alpha", 1f)));
        // Files written before the tanh form existed have no "approximate": their GELU is the exact one.
        Register<Gelu>("Gelu", m => new JsonObject { ["approximate"] = m.Approximate }, (j, r) => new Gelu(j.ContainsKey("approximate") ? r.Text(j, "approximate") : "none"));
        Register<LayerNorm>("LayerNorm",
            m => new JsonObject { ["normalizedShape"] = new JsonArray(m.NormalizedShape.Select(d => (JsonNode)d).ToArray()), ["eps"] = m.Eps, ["elementwiseAffine"] = m.ElementwiseAffine },
            (j, r) => new LayerNorm(r.Ints(j, "normalizedShape"), r.Float(j, "eps", 1e-5f), r.Bool(j, "elementwiseAffine", true)));
        Register<Embedding>("Embedding", m => new JsonObject { ["numEmbeddings"] = m.NumEmbeddings, ["embeddingDim"] = m.EmbeddingDim, ["paddingIndex"] = m.PaddingIndex },
            (j, r) => new Embedding(r.Int(j, "numEmbeddings"), r.Int(j, "embeddingDim"), j["paddingIndex"] is null ? null : r.Int(j, "paddingIndex"), r.Rng));
        Register<Graph>("Graph", GraphToJson, GraphFromJson);
        Register<Autoencoder>("Autoencoder", m => new JsonObject { ["encoder"] = ToJson(m.Encoder), ["decoder"] = ToJson(m.Decoder) },
            (j, r) => new Autoencoder(r.Sequential(j, "encoder"), r.Sequential(j, "decoder")));
        Plain<Relu>();
        Plain<Selu>();
        Plain<Sigmoid>();
        Plain<Tanh>();
        Plain<HardSigmoid>();
        Plain<HardSwish>();
        Plain<Relu6>();
        Plain<Softmax>();
        Plain<LogSoftmax>();
        Plain<Identity>();
    }

    private static void Plain<T>() where T : Module, new() => Register<T>(typeof(T).Name, _ => [], (_, _) => new T());

    private static JsonObject Convolution(int inChannels, int outChannels, int kernel, int stride, Padding padding, int dilation, int groups, bool bias) => new()
    {
        ["inChannels"] = inChannels, ["outChannels"] = outChannels, ["kernelSize"] = kernel, ["stride"] = stride,
        ["padding"] = padding.IsTensorFlowSame ? "tf_same" : padding.IsSame ? "same" : padding.Value, ["dilation"] = dilation, ["groups"] = groups, ["bias"] = bias,
    };

    /// <summary>A (height, width) pair as one number when both agree, else [h, w] (<see cref="ModelSpecReader.Pair"/> reads both).</summary>
    private static JsonNode PairOrNumber((int Height, int Width) value) => value.Height == value.Width ? value.Height : new JsonArray(value.Height, value.Width);

    /// <summary>A pooling layer's settings; max pooling has a dilation, average pooling count_include_pad (null: the layer has no such setting).</summary>
    private static JsonObject Pool(JsonNode kernel, JsonNode stride, JsonNode padding, JsonNode? dilation, bool ceilMode, bool? countIncludePad)
    {
        var json = new JsonObject { ["kernelSize"] = kernel, ["stride"] = stride, ["padding"] = padding };
        if (dilation != null) json["dilation"] = dilation;
        json["ceilMode"] = ceilMode;
        if (countIncludePad is bool include) json["countIncludePad"] = include;
        return json;
    }

    private static JsonArray Pair((int Height, int Width) size) => new(size.Height, size.Width);

    private static JsonObject GraphToJson(Graph m) => new()
    {
        ["input"] = m.Input, ["output"] = m.Output,
        ["constants"] = new JsonArray(m.ConstantNames.Select(name => (JsonNode)new JsonObject
            { ["name"] = name, ["shape"] = new JsonArray(m.Constant(name).Shape.ToArray().Select(d => (JsonNode)d).ToArray()) }).ToArray()),
        ["steps"] = new JsonArray(m.Steps.Select(step =>
        {
            var json = new JsonObject
            {
                ["operation"] = step.Operation.ToString(), ["inputs"] = new JsonArray(step.Inputs.Select(i => (JsonNode)i).ToArray()), ["output"] = step.Output,
                ["layer"] = step.Layer == null ? null : ToJson(step.Layer),
            };
            if (step.Operation == GraphOperation.Concat) json["axis"] = step.Axis;
            return (JsonNode)json;
        }).ToArray()),
    };

    /// <summary>A graph's constants come back as zeros of their shapes: their values are buffers, loaded with the weights.</summary>
    private static Graph GraphFromJson(JsonObject j, ModelSpecReader r)
    {
        string Text(JsonNode? node, string what) => node is JsonValue v && v.TryGetValue<string>(out var text) ? text : throw r.Error($"{what} must be a string");
        var constants = r.Array(j, "constants").Select((c, i) => c is JsonObject o
            ? (Text(o["name"], $"constants[{i}].name"), Tensors.Tensor.Zeros(r.Array(o, "shape").Select(d => d is JsonValue v && v.TryGetValue<int>(out var n) && n >= 0 ? n : throw r.Error($"constants[{i}].shape must hold sizes")).ToArray()))
            : throw r.Error($"constants[{i}] must be an object")).ToList();
        var steps = r.Array(j, "steps").Select((s, i) =>
        {
            if (s is not JsonObject o) throw r.Error($"steps[{i}] must be an object");
            var operation = Enum.TryParse<GraphOperation>(Text(o["operation"], $"steps[{i}].operation"), out var op) && Enum.IsDefined(op) ? op
                : throw r.Error($"steps[{i}].operation must be one of {string.Join(", ", Enum.GetNames<GraphOperation>())}");
            var inputs = r.Array(o, "inputs").Select((n, k) => Text(n, $"steps[{i}].inputs[{k}]")).ToList();
            return new GraphStep(operation, inputs, Text(o["output"], $"steps[{i}].output"), o["layer"] is { } layer ? r.Build(layer, $"steps[{i}].layer") : null, r.Int(o, "axis", 1));
        }).ToList();
        return new Graph(Text(j["input"], "\"input\""), Text(j["output"], "\"output\""), constants, steps);
    }

    private static JsonObject BatchNorm(BatchNormBase m) => new()
    {
        ["numFeatures"] = m.NumFeatures, ["eps"] = m.Eps, ["momentum"] = m.Momentum, ["affine"] = m.Affine, ["trackRunningStats"] = m.TrackRunningStats,
    };
}

/// <summary>Reads a layer's arguments from its spec, with errors that name the layer's place in the spec and the field.</summary>
public sealed class ModelSpecReader
{
    private readonly string source;
    private readonly Stack<string> path = new();

    internal ModelSpecReader(Rng? rng, string source)
    {
        Rng = rng;
        this.source = source;
    }

    /// <summary>The generator for the layers' initial weights and dropout masks (null: <see cref="Rng.Global"/>).</summary>
    public Rng? Rng { get; }

    /// <summary>Builds a nested layer (a container's child), <paramref name="field"/> naming where it sits.</summary>
    public Module Build(JsonNode? node, string field)
    {
        path.Push(field);
        try
        {
            if (node is not JsonObject json) throw Error($"expected a layer object, got {Describe(node)}");
            var type = json["type"] is JsonValue value && value.TryGetValue<string>(out var name) ? name : throw Error("the layer has no \"type\"");
            var entry = Find(type);
            try
            {
                return entry(json, this);
            }
            catch (ArgumentException e)
            {
                throw Error($"{type}: {e.Message}");
            }
        }
        finally
        {
            path.Pop();
        }
    }

    private Func<JsonObject, ModelSpecReader, Module> Find(string type)
    {
        return ModelSpec.Factory(type) ?? throw Error($"unknown layer type '{type}' (known: {string.Join(", ", ModelSpec.RegisteredTypes.Order())})");
    }

    /// <summary>A nested layer that must be a Sequential (a MobileNet's trunk, a block's body).</summary>
    public Sequential Sequential(JsonObject json, string key) =>
        Build(json[key], key) as Sequential ?? throw Error($"\"{key}\" must be a Sequential");

    public string Text(JsonObject json, string key) =>
        json[key] is JsonValue value && value.TryGetValue<string>(out var text) ? text : throw Error($"\"{key}\" must be a string, got {Describe(json[key])}");

    public JsonArray Array(JsonObject json, string key) =>
        json[key] as JsonArray ?? throw Error($"\"{key}\" must be an array, got {Describe(json[key])}");

    public int[] Ints(JsonObject json, string key) =>
        Array(json, key).Select(n => n is JsonValue v && v.TryGetValue<int>(out var d) ? d : throw Error($"\"{key}\" must hold whole numbers")).ToArray();

    public int Int(JsonObject json, string key, int? fallback = null)
    {
        var node = json[key];
        if (node == null) return fallback ?? throw Error($"\"{key}\" is missing");
        return node is JsonValue value && value.TryGetValue<int>(out var result) ? result
            : node is JsonValue d && d.TryGetValue<double>(out var number) && number == Math.Floor(number) && number is >= int.MinValue and <= int.MaxValue ? (int)number
            : throw Error($"\"{key}\" must be a whole number, got {Describe(node)}");
    }

    public float Float(JsonObject json, string key, float? fallback = null) =>
        NullableFloat(json, key, fallback) ?? throw Error($"\"{key}\" must be a number, got null");

    /// <summary>A number or null (as batch norm's cumulative momentum); <paramref name="fallback"/> when the key is absent.</summary>
    public float? NullableFloat(JsonObject json, string key, float? fallback = null)
    {
        if (!json.ContainsKey(key)) return fallback ?? throw Error($"\"{key}\" is missing");
        var node = json[key];
        if (node == null) return null;
        return node is JsonValue value && value.TryGetValue<double>(out var number) ? (float)number : throw Error($"\"{key}\" must be a number, got {Describe(node)}");
    }

    public bool Bool(JsonObject json, string key, bool? fallback = null)
    {
        var node = json[key];
        if (node == null) return fallback ?? throw Error($"\"{key}\" is missing");
        return node is JsonValue value && value.TryGetValue<bool>(out var result) ? result : throw Error($"\"{key}\" must be true or false, got {Describe(node)}");
    }

    /// <summary>A convolution's padding: a number, "same" (PyTorch's) or "tf_same" (TensorFlow's, which depends on the input size).</summary>
    public Padding Padding(JsonObject json, string key = "padding")
    {
        var node = json[key];
        if (node == null) return Layers.Padding.Valid;
        if (node is JsonValue value && value.TryGetValue<string>(out var text))
            return text switch
            {
                "same" => Layers.Padding.Same,
                "tf_same" => Layers.Padding.TensorFlowSame,
                _ => throw Error($"\"{key}\" must be a number, \"same\" or \"tf_same\", got \"{text}\""),
            };
        return Int(json, key);
    }

    /// <summary>A (height, width) pair, written [h, w] (or one number for both).</summary>
    public (int Height, int Width) Pair(JsonObject json, string key, (int, int)? fallback = null)
    {
        var node = json[key];
        if (node == null) return fallback ?? throw Error($"\"{key}\" is missing");
        if (node is JsonArray { Count: 2 } array && array[0] is JsonValue h && h.TryGetValue<int>(out var height) && array[1] is JsonValue w && w.TryGetValue<int>(out var width))
            return (height, width);
        int both = Int(json, key);
        return (both, both);
    }

    /// <summary>A spec that cannot be built: the message names the file, the layer's place in the spec and the problem.</summary>
    public InvalidDataException Error(string problem) =>
        new InvalidDataException($"{source}: at {string.Join(".", path.Reverse())}: {problem}.");

    private static string Describe(JsonNode? node) => node == null ? "nothing" : node.ToJsonString();
}
