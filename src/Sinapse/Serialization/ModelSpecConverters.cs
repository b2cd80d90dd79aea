using System.Text.Json;
using System.Text.Json.Serialization;
using Sinapse.Layers;

namespace Sinapse.Serialization;

/// <summary>A convolution's padding in a model spec: a number, [height, width], "same" (PyTorch's) or "tf_same" (TensorFlow's, which depends on the input size).</summary>
internal sealed class PaddingConverter : JsonConverter<Padding>
{
    public override Padding Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String) return PairConverter.ReadPair(ref reader, "a padding");
        return reader.GetString() switch
        {
            "same" => Padding.Same,
            "tf_same" => Padding.TensorFlowSame,
            var text => throw new JsonException($"a padding must be a number, [height, width], \"same\" or \"tf_same\", got \"{text}\""),
        };
    }

    public override void Write(Utf8JsonWriter writer, Padding value, JsonSerializerOptions options)
    {
        if (value.IsSame) writer.WriteStringValue(value.IsTensorFlowSame ? "tf_same" : "same");
        else PairConverter.WritePair(writer, (value.Height, value.Width));
    }
}

/// <summary>A (height, width) pair in a model spec: one number when both agree, else [height, width]; both forms are read.</summary>
internal sealed class PairConverter : JsonConverter<(int Height, int Width)>
{
    public override (int Height, int Width) Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ReadPair(ref reader, "a size pair");

    public override void Write(Utf8JsonWriter writer, (int Height, int Width) value, JsonSerializerOptions options) => WritePair(writer, value);

    internal static (int Height, int Width) ReadPair(ref Utf8JsonReader reader, string what)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var both)) return (both, both);
        if (reader.TokenType == JsonTokenType.StartArray && reader.Read() && reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var height)
            && reader.Read() && reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var width) && reader.Read() && reader.TokenType == JsonTokenType.EndArray)
            return (height, width);
        throw new JsonException($"{what} must be a whole number or [height, width]");
    }

    internal static void WritePair(Utf8JsonWriter writer, (int Height, int Width) value)
    {
        if (value.Height == value.Width)
        {
            writer.WriteNumberValue(value.Height);
            return;
        }
        writer.WriteStartArray();
        writer.WriteNumberValue(value.Height);
        writer.WriteNumberValue(value.Width);
        writer.WriteEndArray();
    }
}
