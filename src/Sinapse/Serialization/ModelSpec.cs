using System.Runtime.ExceptionServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Sinapse.Layers;
using Sinapse.Tensors;

namespace Sinapse.Serialization;

/// <summary>
/// A model's architecture as JSON, enough to rebuild it without code: each module is an object
/// with its registered "type" (<see cref="ModuleRegistry"/>) and the properties of its config
/// record (<see cref="IConfigurable{TSelf, TConfig}"/>) in camelCase. Modules inside a config
/// (a container's children) are nested objects of the same form. Weights are not part of the
/// spec: they live in the safetensors file beside it.
/// </summary>
/// <example><c>{"type":"Sequential","layers":[{"type":"Linear","inFeatures":784,"outFeatures":10,"bias":true},{"type":"Relu"}]}</c></example>
public static class ModelSpec
{
    private static readonly JsonSerializerOptions writing = Options(rng: null);

    /// <summary>The spec of <paramref name="module"/> and everything inside it.</summary>
    /// <exception cref="NotSupportedException">A module in the model is not registered.</exception>
    public static JsonObject ToJson(Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        try
        {
            return (JsonObject)JsonSerializer.SerializeToNode(module, writing)!;
        }
        catch (NotSupportedException e) when (e.GetBaseException() is NotSupportedException unregistered && unregistered != e)
        {
            // The serializer wraps a nested module's error with its JSON path; the module's own path says more.
            ExceptionDispatchInfo.Throw(unregistered);
            throw;
        }
    }

    /// <summary>Builds the model that <paramref name="json"/> describes, with fresh (to be loaded) weights.</summary>
    /// <param name="rng">The generator for layers that draw random numbers (dropout) and for the initial weights; null for <see cref="Rng.Global"/>.</param>
    /// <param name="source">The file the spec came from, named in errors.</param>
    /// <exception cref="InvalidDataException">The spec cannot be built; the message names the source, the module's place in the spec and the problem.</exception>
    public static Module FromJson(JsonNode? json, Rng? rng = null, string source = "the model spec")
    {
        try
        {
            return Build(json, Options(rng), rng);
        }
        catch (SpecError e)
        {
            throw new InvalidDataException($"{source}: at {Join("model", e.Location)}: {e.Problem}.");
        }
    }

    private static JsonSerializerOptions Options(Rng? rng) => new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        Converters = { new ModuleConverter(rng), new PaddingConverter(), new PairConverter(), new JsonStringEnumConverter() },
    };

    /// <summary>The module <paramref name="node"/> describes; its errors are <see cref="SpecError"/>s located relative to <paramref name="node"/>.</summary>
    private static Module Build(JsonNode? node, JsonSerializerOptions options, Rng? rng)
    {
        if (node is not JsonObject json) throw new SpecError("", $"expected a module object, got {Describe(node)}");
        var type = json["type"] is JsonValue value && value.TryGetValue<string>(out var name) ? name : throw new SpecError("", "the module has no \"type\"");
        var entry = ModuleRegistry.Find(type) ?? throw new SpecError("", $"unknown module type '{type}' (registered: {string.Join(", ", ModuleRegistry.Names)})");
        var fields = json.DeepClone().AsObject();
        fields.Remove("type");
        try
        {
            var config = fields.Deserialize(entry.ConfigType, options) ?? throw new SpecError("", $"{type}: the config is null");
            return entry.FromConfig(config, rng);
        }
        catch (SpecError e)
        {
            // A nested module's error: the serializer has set the path to where that module sits in this one.
            throw new SpecError(Join(Relative(e.Path), e.Location), e.Problem);
        }
        catch (JsonException e)
        {
            var message = e.Message;
            int detail = message.IndexOf(" Path: ", StringComparison.Ordinal);
            throw new SpecError(Relative(e.Path), $"{type}: {(detail < 0 ? message : message[..detail]).TrimEnd('.')}");
        }
        catch (ArgumentException e)
        {
            throw new SpecError("", $"{type}: {e.Message.TrimEnd('.')}");
        }
    }

    private static string Relative(string? path) => path is null or "$" ? "" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');

    private static string Join(string outer, string inner) => inner.Length == 0 ? outer : outer.Length == 0 ? inner : inner[0] == '[' ? outer + inner : outer + "." + inner;

    private static string Describe(JsonNode? node) => node == null ? "nothing" : node.ToJsonString();

    /// <summary>A spec that cannot be built: the problem and where it is, relative to the module being built (the serializer fills in the path to a nested one).</summary>
    private sealed class SpecError(string location, string problem) : JsonException(problem)
    {
        public string Location { get; } = location;
        public string Problem { get; } = problem;
    }

    /// <summary>Writes a module as its type name and config, and reads one back through the registry; serves every property typed as a module or a subclass.</summary>
    private sealed class ModuleConverter(Rng? rng) : JsonConverterFactory
    {
        public override bool CanConvert(Type typeToConvert) => typeToConvert.IsAssignableTo(typeof(Module));

        public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
            (JsonConverter)Activator.CreateInstance(typeof(Typed<>).MakeGenericType(typeToConvert), rng)!;

        private sealed class Typed<T>(Rng? rng) : JsonConverter<T> where T : Module
        {
            public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
            {
                var module = Build(JsonNode.Parse(ref reader), options, rng);
                return module as T ?? throw new SpecError("", $"expected a {typeof(T).Name}, got {module.Describe()}");
            }

            public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
            {
                var entry = ModuleRegistry.Find(value.GetType())
                    ?? throw new NotSupportedException($"The module '{value.Path}' ({value.Describe()}, type {value.GetType().FullName}) is not registered, so the model cannot be saved without code: "
                        + $"implement IConfigurable and call ModuleRegistry.Register (registered: {string.Join(", ", ModuleRegistry.Names)}).");
                var fields = JsonSerializer.SerializeToNode(entry.GetConfig(value), entry.ConfigType, options) as JsonObject
                    ?? throw new InvalidOperationException($"{entry.Name}: the config {entry.ConfigType.Name} must be written as a JSON object.");
                writer.WriteStartObject();
                writer.WriteString("type", entry.Name);
                foreach (var (key, field) in fields)
                {
                    if (key == "type") throw new InvalidOperationException($"{entry.Name}: the config {entry.ConfigType.Name} has a property \"type\", which the spec uses for the module's type name.");
                    writer.WritePropertyName(key);
                    if (field is null) writer.WriteNullValue();
                    else field.WriteTo(writer, options);
                }
                writer.WriteEndObject();
            }
        }
    }
}
