using Sinapse.Serialization;
using Sinapse.Vision;

namespace Sinapse.Tests.Vision;

public class TfLiteTests
{
    static byte[] V1Bytes()
    {
        using var stream = typeof(TfLiteModel).Assembly.GetManifestResourceStream("Sinapse.Pretrained.mobilenet_v1_0.25_224_float.tflite")!;
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }

    [Fact]
    public void ReadsTheGraphOfMobileNetV1()
    {
        var model = TfLiteModel.Load(V1Bytes());
        Assert.Equal(31, model.Operators.Count);
        Assert.Equal(["CONV_2D", "DEPTHWISE_CONV_2D"], model.Operators.Take(2).Select(o => o.Name));
        Assert.Equal(["AVERAGE_POOL_2D", "CONV_2D", "SQUEEZE", "SOFTMAX"], model.Operators.Skip(27).Select(o => o.Name));
        var first = model.Operators[0];
        Assert.Equal(("SAME", 2, TfLiteActivation.Relu6), (first.Padding, first.StrideHeight, first.Activation));
        Assert.Equal([8, 3, 3, 3], model.Tensors[first.Inputs[1]].Shape);
        Assert.Equal([1, 224, 224, 3], model.Tensors[model.Inputs[0]].Shape);
    }

    [Fact]
    public void DequantisesUInt8Weights()
    {
        var model = TfLiteModel.Load(QuantBytes());
        var conv = model.Operators[0];
        var weight = model.Tensors[conv.Inputs[1]];
        Assert.Equal(TfLiteType.UInt8, weight.Type);
        var values = model.ReadFloats(weight);
        // Every value is scale·(q − zero point) for an integer q in 0..255.
        foreach (var v in values)
        {
            double q = v / weight.Scale[0] + weight.ZeroPoint[0];
            Assert.InRange(q, -1e-3, 255.001);
            Assert.True(Math.Abs(q - Math.Round(q)) < 1e-3, $"{v} is not on the quantisation grid");
        }
        Assert.Equal(TfLiteType.Int32, model.Tensors[conv.Inputs[2]].Type);
    }

    static byte[] QuantBytes()
    {
        using var stream = typeof(TfLiteModel).Assembly.GetManifestResourceStream("Sinapse.Pretrained.mobilenet_v2_1.0_224_quant.tflite")!;
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }

    [Theory]
    [InlineData(6)]
    [InlineData(100)]
    [InlineData(5000)]
    [InlineData(1_000_000)]
    public void TruncatedFilesAreClearErrors(int length)
    {
        var bytes = V1Bytes()[..length];
        var error = Assert.Throws<InvalidDataException>(() => TfLiteImport.Load(TfLiteModel.Load(bytes, "cut.tflite"), "cut.tflite"));
        Assert.Contains("cut.tflite", error.Message);
    }

    [Fact]
    public void OtherFilesAreRejected()
    {
        Assert.Contains("not a TFLite model", Assert.Throws<InvalidDataException>(() => TfLiteModel.Load(new byte[64], "zeros.bin")).Message);
        Assert.Throws<FileNotFoundException>(() => TfLiteModel.Load("/nonexistent/model.tflite"));
    }

    [Fact]
    public void AnUnsupportedOperatorIsNamed()
    {
        // MobileNetV1 with its AVERAGE_POOL_2D (builtin 1) turned into MAX_POOL_2D (17), which the importer does not compute.
        var bytes = V1Bytes();
        int Int(int at) => BitConverter.ToInt32(bytes, at);
        int Field(int table, int field)   // a FlatBuffer table's field position, or -1 when absent
        {
            int vtable = table - Int(table), slot = 4 + 2 * field;
            int offset = slot < BitConverter.ToUInt16(bytes, vtable) ? BitConverter.ToUInt16(bytes, vtable + slot) : 0;
            return offset == 0 ? -1 : table + offset;
        }
        int model = Int(0), codes = Field(model, 1) + Int(Field(model, 1)), patched = 0;
        for (int i = 0; i < Int(codes); i++)
        {
            int entry = codes + 4 + 4 * i, code = entry + Int(entry);
            int deprecated = Field(code, 0), builtin = Field(code, 3);
            if (Math.Max(deprecated < 0 ? 0 : bytes[deprecated], builtin < 0 ? 0 : Int(builtin)) != 1) continue;
            if (deprecated >= 0) bytes[deprecated] = 17;
            if (builtin >= 0) BitConverter.GetBytes(17).CopyTo(bytes, builtin);
            patched++;
        }
        Assert.Equal(1, patched);

        var file = TfLiteModel.Load(bytes, "patched.tflite");
        Assert.Equal("MAX_POOL_2D", file.Operators[27].Name);
        var error = Assert.Throws<NotSupportedException>(() => TfLiteImport.Load(file, "patched.tflite"));
        Assert.Contains("patched.tflite: operator 27 is MAX_POOL_2D", error.Message);
        Assert.Contains("AVERAGE_POOL_2D", error.Message);   // the supported ones are listed
    }

    [Fact]
    public void ANaNWeightIsRefusedNamingTheTensor()
    {
        var bytes = V1Bytes();
        var model = TfLiteModel.Load(bytes);
        var weight = model.Tensors[model.Operators[0].Inputs[1]];
        // The weight's little-endian floats appear once in the file; the first becomes NaN.
        var stored = System.Runtime.InteropServices.MemoryMarshal.AsBytes(model.ReadFloats(weight).AsSpan()).ToArray();
        int at = bytes.AsSpan().IndexOf(stored);
        Assert.True(at > 0);
        BitConverter.TryWriteBytes(bytes.AsSpan(at, 4), float.NaN);
        var error = Assert.Throws<InvalidDataException>(() => TfLiteImport.Load(TfLiteModel.Load(bytes, "nan.tflite"), "nan.tflite"));
        Assert.Contains("nan.tflite", error.Message);
        Assert.Contains(weight.Name, error.Message);
        Assert.Contains("NaN", error.Message);
    }
}
