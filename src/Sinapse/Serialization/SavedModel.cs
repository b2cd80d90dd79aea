using System.Text.Json;
using System.Text.Json.Nodes;
using Sinapse.Data;
using Sinapse.IO;
using Sinapse.Layers;
using Sinapse.Tensors;

namespace Sinapse.Serialization;

/// <summary>
/// A model directory: <c>model.json</c> (the architecture as a <see cref="ModelSpec"/>, the
/// shape of one input example, the class names, the input transform, and the weights file's
/// length and XxHash64) and <c>weights.safetensors</c> (parameters and buffers under PyTorch's
/// names). Each file is written atomically, weights first; loading verifies the weights against
/// model.json before reading them.
/// </summary>
public sealed class SavedModel
{
    public const string SpecFile = "model.json";
    public const string WeightsFile = "weights.safetensors";
    public const string Format = "sinapse-model";

    /// <summary>The longest class name model.json may hold; names are printed with every prediction.</summary>
    public const int MaxClassNameLength = 256;

    public SavedModel(Module model, Shape exampleShape, InputTransform? transform = null, IReadOnlyList<string>? classNames = null)
    {
        Model = model;
        ExampleShape = exampleShape;
        Transform = transform;
        ClassNames = classNames;
    }

    public Module Model { get; }

    /// <summary>The shape of one input example, without the batch axis ([1, 28, 28]).</summary>
    public Shape ExampleShape { get; }

    /// <summary>The normalisation the model was trained behind; apply it to raw inputs before the model.</summary>
    public InputTransform? Transform { get; }

    public IReadOnlyList<string>? ClassNames { get; }

    /// <summary>Writes <paramref name="directory"/>/model.json and weights.safetensors.</summary>
    public void Save(string directory)
    {
        var spec = ModelSpec.ToJson(Model);
        Model.OutputShape(new Shape([1, .. ExampleShape.Dimensions]));
        Directory.CreateDirectory(directory);
        var weights = StateDict.Save(Model, Path.Combine(directory, WeightsFile));
        var json = new JsonObject
        {
            ["format"] = Format,
            ["version"] = 1,
            ["architecture"] = spec,
            ["inputShape"] = new JsonArray(ExampleShape.ToArray().Select(d => (JsonNode)d).ToArray()),
            ["classNames"] = ClassNames == null ? null : new JsonArray(ClassNames.Select(n => (JsonNode)n).ToArray()),
            ["inputTransform"] = Transform == null ? null : JsonSerializer.SerializeToNode(Transform.ToConfig()),
            ["weights"] = new JsonObject { ["file"] = WeightsFile, ["length"] = weights.Length, ["xxhash64"] = weights.XxHash64 },
        };
        AtomicFile.WriteAllText(Path.Combine(directory, SpecFile), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    public static bool IsModelDirectory(string path) => Directory.Exists(path) && File.Exists(Path.Combine(path, SpecFile));

    /// <summary>Rebuilds the model of <paramref name="directory"/> and loads its weights, after checking them against model.json.</summary>
    /// <param name="rng">For the rebuilt layers' dropout (null: <see cref="Rng.Global"/>).</param>
    public static SavedModel Load(string directory, Rng? rng = null)
    {
        var specPath = Path.Combine(directory, SpecFile);
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Model directory not found: {directory}");
        if (!File.Exists(specPath)) throw new FileNotFoundException($"{directory} is not a model directory: it has no {SpecFile}.", specPath);
        return InputFile.Guard(specPath, () => Load(directory, specPath, rng));
    }

    private static SavedModel Load(string directory, string specPath, Rng? rng)
    {
        var json = JsonNode.Parse(InputFile.ReadJsonText(specPath, "model spec (JSON)")) as JsonObject
            ?? throw InputFile.Error(specPath, "the document", "a JSON object", "another JSON value");
        if (json["format"]?.GetValue<string>() != Format) throw InputFile.Error(specPath, "\"format\"", $"\"{Format}\"", Describe(json["format"]));
        InvalidDataException Error(string problem) => new($"{specPath}: {problem}.");
        var model = ModelSpec.FromJson(json["architecture"], rng, specPath);
        var shape = (json["inputShape"] as JsonArray)?.Select(d => d is JsonValue v && v.TryGetValue<int>(out var n) && n > 0 ? n : throw Error("\"inputShape\" must hold positive whole numbers")).ToArray()
            ?? throw Error("\"inputShape\" is missing");
        var classNames = json["classNames"] is JsonArray names ? names.Select(n => n is JsonValue v && v.TryGetValue<string>(out var name) && name.Length <= MaxClassNameLength ? name
            : throw InputFile.Error(specPath, "\"classNames\"", $"strings of at most {MaxClassNameLength} characters", InputFile.Quote(Describe(n)))).ToList() : null;
        InputTransform? transform = null;
        if (json["inputTransform"] is JsonObject config)
        {
            try
            {
                transform = InputTransform.FromConfig(config.ToDictionary(p => p.Key, p => ToPlain(p.Value)));
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"{specPath}: the input transform is invalid: {e.Message}");
            }
        }
        var weights = json["weights"] as JsonObject ?? throw Error("\"weights\" is missing");
        var weightsPath = Path.Combine(directory, weights["file"]?.GetValue<string>() ?? WeightsFile);
        new FileChecksum(weights["length"]?.GetValue<long>() ?? -1, weights["xxhash64"]?.GetValue<string>() ?? "").Verify(weightsPath, specPath);
        StateDict.Load(model, weightsPath);
        try
        {
            model.OutputShape(new Shape([1, .. shape]));
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{specPath}: the model does not accept its own input shape {new Shape(shape)}: {e.Message}");
        }
        return new SavedModel(model, new Shape(shape), transform, classNames);
    }

    private static string Describe(JsonNode? node) => node?.ToJsonString() ?? "nothing";

    /// <summary>JSON values as the plain objects <see cref="InputTransform.FromConfig"/> reads (strings, bools, doubles, float arrays).</summary>
    internal static object ToPlain(JsonNode? node) => node switch
    {
        JsonArray array => array.Select(v => (float)v!.GetValue<double>()).ToArray(),
        JsonValue value when value.TryGetValue<bool>(out var flag) => flag,
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        JsonValue value => value.GetValue<double>(),
        _ => throw new InvalidDataException($"Unexpected input transform value {node?.ToJsonString() ?? "null"}."),
    };
}
