using System.Buffers.Binary;
using System.Text;
using Sinapse.IO;

namespace Sinapse.Vision;

/// <summary>A tensor of a TFLite model: its shape (NHWC for images), element type, data buffer and quantisation.</summary>
public sealed record TfLiteTensor(int Index, string Name, int[] Shape, TfLiteType Type, int Buffer, float[] Scale, long[] ZeroPoint, int QuantizedDimension)
{
    public long ElementCount => Shape.Aggregate(1L, (count, dimension) => count * dimension);

    public bool IsQuantized => Scale.Length > 0 && Type is TfLiteType.UInt8 or TfLiteType.Int8 or TfLiteType.Int32 or TfLiteType.Int16;

    public override string ToString() => $"'{Name}' ({Type} [{string.Join(", ", Shape)}])";
}

/// <summary>TFLite's element types (schema.fbs TensorType), the ones with numeric data.</summary>
public enum TfLiteType { Float32 = 0, Float16 = 1, Int32 = 2, UInt8 = 3, Int64 = 4, String = 5, Bool = 6, Int16 = 7, Complex64 = 8, Int8 = 9, Float64 = 10 }

/// <summary>TFLite's fused activations (schema.fbs ActivationFunctionType).</summary>
public enum TfLiteActivation { None = 0, Relu = 1, ReluN1To1 = 2, Relu6 = 3, Tanh = 4, SignBit = 5 }

/// <summary>
/// One operator of the graph: its builtin name ("CONV_2D"), input and output tensor indices, and
/// the options the supported operators have (padding "SAME"/"VALID", strides, fused activation,
/// filter size of pooling, depth multiplier).
/// </summary>
public sealed record TfLiteOperator(string Name, int[] Inputs, int[] Outputs, string Padding, int StrideHeight, int StrideWidth, TfLiteActivation Activation,
    int FilterHeight, int FilterWidth, int DepthMultiplier);

/// <summary>
/// A TensorFlow Lite model read from its FlatBuffer file (schema.fbs): the first subgraph's
/// tensors and operators and the constant data, dequantised on request. A hand-written FlatBuffer
/// reader: every offset is checked against the file's length before it is followed, so a
/// truncated or corrupt file is an <see cref="InvalidDataException"/> naming what was being read.
/// </summary>
public sealed class TfLiteModel
{
    private readonly byte[] data;
    private readonly string source;
    private readonly int[] bufferTables;

    private TfLiteModel(byte[] data, string source)
    {
        this.data = data;
        this.source = source;
        if (data.Length < 8) throw Corrupt($"it is {data.Length} bytes long, too short for a FlatBuffer");
        if (Encoding.ASCII.GetString(data, 4, 4) != "TFL3")
            throw new InvalidDataException($"{source} is not a TFLite model: its file identifier is not 'TFL3'.");
        int model = Table(U32(0, "the root offset"), "the model");
        Version = (int)FieldU32(model, 0, "model.version", 0);
        var codes = Vector(model, 1, "model.operator_codes");
        var opNames = new string[codes.Count];
        for (int i = 0; i < codes.Count; i++)
        {
            int code = TableAt(codes.Start + 4 * i, "operator code");
            int deprecated = (sbyte)FieldU8(code, 0, "operator_code.deprecated_builtin_code", 0);
            int builtin = (int)FieldU32(code, 3, "operator_code.builtin_code", 0);
            int value = Math.Max(deprecated, builtin);
            opNames[i] = value == 32 && HasField(code, 1) ? "CUSTOM " + String(code, 1, "operator_code.custom_code") : BuiltinName(value);
        }
        var subgraphs = Vector(model, 2, "model.subgraphs");
        if (subgraphs.Count < 1) throw Corrupt("it has no subgraph");
        int graph = TableAt(subgraphs.Start, "subgraph 0");
        var buffers = Vector(model, 4, "model.buffers");
        bufferTables = new int[buffers.Count];
        for (int i = 0; i < buffers.Count; i++) bufferTables[i] = TableAt(buffers.Start + 4 * i, $"buffer {i}");

        var tensors = Vector(graph, 0, "subgraph.tensors");
        var list = new List<TfLiteTensor>(tensors.Count);
        for (int i = 0; i < tensors.Count; i++)
        {
            int t = TableAt(tensors.Start + 4 * i, $"tensor {i}");
            var shape = Ints(t, 0, $"tensor {i} shape");
            var type = (TfLiteType)FieldU8(t, 1, $"tensor {i} type", 0);
            int buffer = (int)FieldU32(t, 2, $"tensor {i} buffer", 0);
            if (buffer >= bufferTables.Length) throw Corrupt($"tensor {i} refers to buffer {buffer} of {bufferTables.Length}");
            string name = HasField(t, 3) ? String(t, 3, $"tensor {i} name") : $"tensor {i}";
            float[] scale = [];
            long[] zeroPoint = [];
            int axis = 0;
            if (HasField(t, 4))
            {
                int q = Table(FieldPosition(t, 4), $"tensor {i} quantization");
                scale = Floats(q, 2, $"tensor {i} scale");
                zeroPoint = Longs(q, 3, $"tensor {i} zero_point");
                axis = (int)FieldU32(q, 6, $"tensor {i} quantized_dimension", 0);
            }
            list.Add(new TfLiteTensor(i, name, shape, type, buffer, scale, zeroPoint, axis));
        }
        Tensors = list;
        Inputs = Ints(graph, 1, "subgraph.inputs");
        Outputs = Ints(graph, 2, "subgraph.outputs");

        var operators = Vector(graph, 3, "subgraph.operators");
        var ops = new List<TfLiteOperator>(operators.Count);
        for (int i = 0; i < operators.Count; i++)
        {
            int op = TableAt(operators.Start + 4 * i, $"operator {i}");
            uint opcode = FieldU32(op, 0, $"operator {i} opcode_index", 0);
            if (opcode >= opNames.Length) throw Corrupt($"operator {i} has opcode index {opcode} of {opNames.Length}");
            string name = opNames[opcode];
            var inputs = Ints(op, 1, $"operator {i} ({name}) inputs");
            var outputs = Ints(op, 2, $"operator {i} ({name}) outputs");
            foreach (var index in inputs.Concat(outputs))
                if (index < -1 || index >= list.Count) throw Corrupt($"operator {i} ({name}) refers to tensor {index} of {list.Count}");
            ops.Add(ReadOptions(op, name, inputs, outputs, i));
        }
        Operators = ops;
    }

    /// <summary>The schema version the file was written with (3).</summary>
    public int Version { get; }

    public IReadOnlyList<TfLiteTensor> Tensors { get; }

    /// <summary>The operators in execution order.</summary>
    public IReadOnlyList<TfLiteOperator> Operators { get; }

    public int[] Inputs { get; }

    public int[] Outputs { get; }

    /// <summary>Reads a .tflite file; throws <see cref="InvalidDataException"/> for a truncated or malformed one.</summary>
    public static TfLiteModel Load(string path)
    {
        InputFile.Length(path, "TFLite model", Array.MaxLength);
        return new TfLiteModel(File.ReadAllBytes(path), path);
    }

    /// <summary>Reads a TFLite model from memory; <paramref name="source"/> names it in error messages.</summary>
    public static TfLiteModel Load(byte[] data, string source = "the TFLite model") => new(data, source);

    /// <summary>
    /// A constant tensor's values as float32: float32 as stored, float16 widened, and quantised
    /// integers dequantised as w = scale·(q − zero_point), per channel along the quantised
    /// dimension when the tensor has one scale per channel (int32 biases carry scale =
    /// input scale · weight scale and zero point 0 in the file itself).
    /// </summary>
    public float[] ReadFloats(TfLiteTensor tensor)
    {
        var bytes = BufferData(tensor);
        long count = tensor.ElementCount;
        int size = tensor.Type switch
        {
            TfLiteType.Float32 or TfLiteType.Int32 => 4,
            TfLiteType.Float16 or TfLiteType.Int16 => 2,
            TfLiteType.UInt8 or TfLiteType.Int8 => 1,
            _ => throw new NotSupportedException($"{source}: tensor {tensor} has type {tensor.Type}, which cannot be read as numbers here."),
        };
        if (bytes.Length != count * size)
            throw Corrupt($"tensor {tensor} needs {count * size} bytes of data, its buffer has {bytes.Length}");
        var values = new float[count];
        bool quantized = tensor.Type is not (TfLiteType.Float32 or TfLiteType.Float16);
        if (quantized && tensor.Scale.Length == 0) throw new InvalidDataException($"{source}: the integer tensor {tensor} has no quantisation scale.");
        int channels = tensor.Scale.Length;
        int axis = tensor.QuantizedDimension;
        if (quantized && channels > 1 && (axis < 0 || axis >= tensor.Shape.Length || tensor.Shape[axis] != channels))
            throw Corrupt($"tensor {tensor} has {channels} scales for quantised dimension {axis}");
        long inner = 1;
        for (int d = axis + 1; d < tensor.Shape.Length; d++) inner *= tensor.Shape[d];
        for (long i = 0; i < count; i++)
        {
            var at = bytes[(int)(i * size)..];
            switch (tensor.Type)
            {
                case TfLiteType.Float32: values[i] = BinaryPrimitives.ReadSingleLittleEndian(at); continue;
                case TfLiteType.Float16: values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(at); continue;
            }
            long q = tensor.Type switch
            {
                TfLiteType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(at),
                TfLiteType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(at),
                TfLiteType.UInt8 => at[0],
                _ => (sbyte)at[0],
            };
            int channel = channels > 1 ? (int)(i / inner % channels) : 0;
            long zero = tensor.ZeroPoint.Length > channel ? tensor.ZeroPoint[channel] : 0;
            values[i] = (float)(tensor.Scale[channel] * (double)(q - zero));
        }
        InputFile.CheckFinite(values, source, $"tensor {tensor}");
        return values;
    }

    private ReadOnlySpan<byte> BufferData(TfLiteTensor tensor)
    {
        int table = bufferTables[tensor.Buffer];
        if (!HasField(table, 0)) return default;
        var vector = Vector(table, 0, $"buffer {tensor.Buffer} of tensor {tensor}");
        return data.AsSpan(vector.Start, vector.Count);
    }

    private TfLiteOperator ReadOptions(int op, string name, int[] inputs, int[] outputs, int index)
    {
        string padding = "", what = $"operator {index} ({name}) options";
        int strideH = 1, strideW = 1, filterH = 0, filterW = 0, multiplier = 1;
        var activation = TfLiteActivation.None;
        int options = HasField(op, 4) ? Table(FieldPosition(op, 4), what) : -1;
        if (options >= 0)
        {
            string Padding(int field) => FieldU8(options, field, what, 0) == 0 ? "SAME" : "VALID";
            switch (name)
            {
                case "CONV_2D":
                    padding = Padding(0);
                    (strideW, strideH) = ((int)FieldU32(options, 1, what, 1), (int)FieldU32(options, 2, what, 1));
                    activation = (TfLiteActivation)FieldU8(options, 3, what, 0);
                    if (FieldU32(options, 4, what, 1) != 1 || FieldU32(options, 5, what, 1) != 1)
                        throw new NotSupportedException($"{source}: operator {index} (CONV_2D) is dilated, which the importer does not support.");
                    break;
                case "DEPTHWISE_CONV_2D":
                    padding = Padding(0);
                    (strideW, strideH) = ((int)FieldU32(options, 1, what, 1), (int)FieldU32(options, 2, what, 1));
                    multiplier = (int)FieldU32(options, 3, what, 1);
                    activation = (TfLiteActivation)FieldU8(options, 4, what, 0);
                    break;
                case "AVERAGE_POOL_2D" or "MAX_POOL_2D":
                    padding = Padding(0);
                    (strideW, strideH) = ((int)FieldU32(options, 1, what, 1), (int)FieldU32(options, 2, what, 1));
                    (filterW, filterH) = ((int)FieldU32(options, 3, what, 1), (int)FieldU32(options, 4, what, 1));
                    activation = (TfLiteActivation)FieldU8(options, 5, what, 0);
                    break;
                case "ADD":
                    activation = (TfLiteActivation)FieldU8(options, 0, what, 0);
                    break;
            }
        }
        return new TfLiteOperator(name, inputs, outputs, padding, strideH, strideW, activation, filterH, filterW, multiplier);
    }

    // ---- FlatBuffer primitives: every read is bounds-checked against the file ----

    private readonly record struct VectorSpan(int Start, int Count);

    private InvalidDataException Corrupt(string detail) =>
        new($"{source} is truncated or corrupt: {detail} (file length {data.Length} bytes).");

    private void Check(long position, long length, string what)
    {
        if (position < 0 || length < 0 || position + length > data.Length)
            throw Corrupt($"{what} at byte {position} ({length} bytes) lies outside the file");
    }

    private uint U32(int position, string what)
    {
        Check(position, 4, what);
        return BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(position));
    }

    /// <summary>The table at <paramref name="position"/>, after checking its vtable.</summary>
    private int Table(long position, string what)
    {
        Check(position, 4, what);
        int table = (int)position;
        long vtable = table - (long)BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(table));
        Check(vtable, 4, what + "'s vtable");
        int vtableSize = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan((int)vtable));
        if (vtableSize < 4 || vtableSize % 2 != 0) throw Corrupt($"{what} has a vtable of {vtableSize} bytes");
        Check(vtable, vtableSize, what + "'s vtable");
        return table;
    }

    /// <summary>The table an offset at <paramref name="position"/> points to (elements of a vector of tables).</summary>
    private int TableAt(int position, string what) => Table(position + (long)U32(position, what), what);

    /// <summary>The absolute position of a field's value, or −1 when the field is absent.</summary>
    private int FieldOffset(int table, int field)
    {
        int vtable = table - BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(table));
        int vtableSize = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(vtable));
        int entry = 4 + 2 * field;
        if (entry + 2 > vtableSize) return -1;
        int offset = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(vtable + entry));
        return offset == 0 ? -1 : table + offset;
    }

    private bool HasField(int table, int field) => FieldOffset(table, field) >= 0;

    /// <summary>Where the offset stored in a reference field (table, vector, string) points.</summary>
    private long FieldPosition(int table, int field)
    {
        int at = FieldOffset(table, field);
        return at < 0 ? -1 : at + (long)U32(at, "a field offset");
    }

    private uint FieldU32(int table, int field, string what, uint fallback)
    {
        int at = FieldOffset(table, field);
        return at < 0 ? fallback : U32(at, what);
    }

    private byte FieldU8(int table, int field, string what, byte fallback)
    {
        int at = FieldOffset(table, field);
        if (at < 0) return fallback;
        Check(at, 1, what);
        return data[at];
    }

    private VectorSpan Vector(int table, int field, string what, int elementSize = 1)
    {
        long position = FieldPosition(table, field);
        if (position < 0) return new VectorSpan(0, 0);
        uint count = U32((int)Math.Min(position, int.MaxValue), what + "'s length");
        Check(position + 4, (long)count * elementSize, what);
        return new VectorSpan((int)position + 4, (int)count);
    }

    private string String(int table, int field, string what)
    {
        var vector = Vector(table, field, what);
        return Encoding.UTF8.GetString(data, vector.Start, vector.Count);
    }

    private int[] Ints(int table, int field, string what)
    {
        var vector = Vector(table, field, what, 4);
        var values = new int[vector.Count];
        for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(vector.Start + 4 * i));
        return values;
    }

    private float[] Floats(int table, int field, string what)
    {
        var vector = Vector(table, field, what, 4);
        var values = new float[vector.Count];
        for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(data.AsSpan(vector.Start + 4 * i));
        return values;
    }

    private long[] Longs(int table, int field, string what)
    {
        var vector = Vector(table, field, what, 8);
        var values = new long[vector.Count];
        for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadInt64LittleEndian(data.AsSpan(vector.Start + 8 * i));
        return values;
    }

    /// <summary>schema.fbs BuiltinOperator names, for the operators a vision model commonly has (others by number).</summary>
    private static string BuiltinName(int code) => code switch
    {
        0 => "ADD", 1 => "AVERAGE_POOL_2D", 2 => "CONCATENATION", 3 => "CONV_2D", 4 => "DEPTHWISE_CONV_2D", 5 => "DEPTH_TO_SPACE",
        6 => "DEQUANTIZE", 9 => "FULLY_CONNECTED", 11 => "L2_NORMALIZATION", 14 => "LOGISTIC", 17 => "MAX_POOL_2D", 18 => "MUL",
        19 => "RELU", 21 => "RELU6", 22 => "RESHAPE", 23 => "RESIZE_BILINEAR", 25 => "SOFTMAX", 26 => "SPACE_TO_DEPTH", 28 => "TANH",
        34 => "PAD", 39 => "TRANSPOSE", 40 => "MEAN", 41 => "SUB", 42 => "DIV", 43 => "SQUEEZE", 45 => "STRIDED_SLICE", 49 => "SPLIT",
        53 => "CAST", 54 => "PRELU", 55 => "MAXIMUM", 57 => "MINIMUM", 67 => "TRANSPOSE_CONV", 74 => "SUM", 83 => "PACK",
        97 => "RESIZE_NEAREST_NEIGHBOR", 98 => "LEAKY_RELU", 114 => "QUANTIZE", 117 => "HARD_SWISH",
        _ => $"builtin operator {code}",
    };
}
