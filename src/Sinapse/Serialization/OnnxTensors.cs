using System.Buffers.Binary;
using Onnx;
using Sinapse.Tensors;

namespace Sinapse.Serialization;

/// <summary>
/// An ONNX constant (an initializer, a Constant node's value or a test's TensorProto) read into
/// floats or 64-bit integers, after checking its dimensions against the data it carries: a
/// truncated or inconsistent tensor is an <see cref="InvalidDataException"/> naming it.
/// </summary>
internal sealed record OnnxConstant(long[] Dims, float[]? Floats, long[]? Integers)
{
    public long Count => Floats?.Length ?? Integers!.Length;

    public string ShapeText => "[" + string.Join(", ", Dims) + "]";

    public int[] Shape => Dims.Select(d => (int)d).ToArray();

    public float[] AsFloats() => Floats ?? Integers!.Select(v => (float)v).ToArray();

    public long[] AsIntegers(string where) => Integers ?? throw new InvalidDataException($"{where} must hold integers, but it holds floats.");

    public Tensor ToTensor() => Tensor.FromArray(AsFloats(), Shape);

    public static OnnxConstant Read(TensorProto tensor, string where)
    {
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External)
            throw new InvalidDataException($"{where} keeps its data in an external file, which the importer does not read (save the model with its weights inside).");
        if (tensor.Segment != null) throw new InvalidDataException($"{where} is a segment of a larger tensor, which the importer does not read.");
        long count = 1;
        foreach (var dim in tensor.Dims)
        {
            if (dim < 0) throw new InvalidDataException($"{where} has a negative dimension in [{string.Join(", ", tensor.Dims)}].");
            if (dim > int.MaxValue || (count *= dim) > int.MaxValue) throw new InvalidDataException($"{where} has too many elements: [{string.Join(", ", tensor.Dims)}].");
        }
        var dims = tensor.Dims.ToArray();
        var raw = tensor.RawData.Span;
        bool hasRaw = tensor.HasRawData;
        int n = (int)count;

        int rawLength = raw.Length;
        void CheckLength(long found, int elementSize, string field)
        {
            if (found != n)
                throw new InvalidDataException($"{where} has shape [{string.Join(", ", dims)}] ({n} values) but carries {(found < 0 ? "a partial value" : found)} in {field}" +
                    (hasRaw && elementSize > 0 ? $" ({rawLength} bytes, {elementSize} per value)" : "") + ": the file is truncated or inconsistent.");
        }

        switch ((TensorProto.Types.DataType)tensor.DataType)
        {
            case TensorProto.Types.DataType.Float:
                if (hasRaw)
                {
                    CheckLength(raw.Length % 4 == 0 ? raw.Length / 4 : -1, 4, "raw_data");
                    var values = new float[n];
                    for (int i = 0; i < n; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(4 * i)..]);
                    return new(dims, values, null);
                }
                CheckLength(tensor.FloatData.Count, 0, "float_data");
                return new(dims, tensor.FloatData.ToArray(), null);
            case TensorProto.Types.DataType.Double:
                if (hasRaw)
                {
                    CheckLength(raw.Length % 8 == 0 ? raw.Length / 8 : -1, 8, "raw_data");
                    var values = new float[n];
                    for (int i = 0; i < n; i++) values[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(raw[(8 * i)..]);
                    return new(dims, values, null);
                }
                CheckLength(tensor.DoubleData.Count, 0, "double_data");
                return new(dims, tensor.DoubleData.Select(v => (float)v).ToArray(), null);
            case TensorProto.Types.DataType.Float16:
                if (hasRaw)
                {
                    CheckLength(raw.Length % 2 == 0 ? raw.Length / 2 : -1, 2, "raw_data");
                    var values = new float[n];
                    for (int i = 0; i < n; i++) values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(raw[(2 * i)..]);
                    return new(dims, values, null);
                }
                CheckLength(tensor.Int32Data.Count, 0, "int32_data");
                return new(dims, tensor.Int32Data.Select(bits => (float)BitConverter.UInt16BitsToHalf((ushort)bits)).ToArray(), null);
            case TensorProto.Types.DataType.Int64:
                if (hasRaw)
                {
                    CheckLength(raw.Length % 8 == 0 ? raw.Length / 8 : -1, 8, "raw_data");
                    var values = new long[n];
                    for (int i = 0; i < n; i++) values[i] = BinaryPrimitives.ReadInt64LittleEndian(raw[(8 * i)..]);
                    return new(dims, null, values);
                }
                CheckLength(tensor.Int64Data.Count, 0, "int64_data");
                return new(dims, null, tensor.Int64Data.ToArray());
            case TensorProto.Types.DataType.Int32:
                if (hasRaw)
                {
                    CheckLength(raw.Length % 4 == 0 ? raw.Length / 4 : -1, 4, "raw_data");
                    var values = new long[n];
                    for (int i = 0; i < n; i++) values[i] = BinaryPrimitives.ReadInt32LittleEndian(raw[(4 * i)..]);
                    return new(dims, null, values);
                }
                CheckLength(tensor.Int32Data.Count, 0, "int32_data");
                return new(dims, null, tensor.Int32Data.Select(v => (long)v).ToArray());
            case TensorProto.Types.DataType.Bool:
                if (hasRaw)
                {
                    CheckLength(raw.Length, 1, "raw_data");
                    return new(dims, null, raw.ToArray().Select(b => (long)(b != 0 ? 1 : 0)).ToArray());
                }
                CheckLength(tensor.Int32Data.Count, 0, "int32_data");
                return new(dims, null, tensor.Int32Data.Select(v => (long)(v != 0 ? 1 : 0)).ToArray());
            default:
                throw new InvalidDataException($"{where} has the element type {(TensorProto.Types.DataType)tensor.DataType}; the importer reads float, float16, double, int32, int64 and bool tensors.");
        }
    }
}
