using System.Text;

namespace Sinapse.Tests.Support;

/// <summary>
/// "sinapse-hash-uniform-v1", the weights of the stored torchvision ONNX files (written by
/// tools/export_torchvision_onnx.py, whose docstring defines it): element i of the tensor named
/// n is u·s in float32, u = (fmix32(i·0x9E3779B1 + fnv1a32(n)) >> 8)·2^-23 − 1 and
/// s = sqrt(6 / fan_in) for tensors of rank 2 or more, 0.2 for vectors. Every step is exact or
/// one correctly rounded float32 operation, so this gives bitwise the values PyTorch used.
/// </summary>
public static class HashUniformWeights
{
    public const string Name = "sinapse-hash-uniform-v1";

    public static float[] Values(string name, IReadOnlyList<long> dims, float? scale = null)
    {
        long count = dims.Aggregate(1L, (a, b) => a * b);
        long fanIn = dims.Skip(1).Aggregate(1L, (a, b) => a * b);
        float s = scale ?? (dims.Count >= 2 ? MathF.Sqrt(6f / fanIn) : 0.2f);
        uint seed = Fnv1a(name);
        var values = new float[count];
        for (long i = 0; i < count; i++)
        {
            uint h = Fmix32(unchecked((uint)i * 0x9E3779B1u + seed));
            float u = (h >> 8) * (1f / 8388608f) - 1f;
            values[i] = u * s;
        }
        return values;
    }

    static uint Fnv1a(string text)
    {
        uint h = 0x811C9DC5;
        foreach (byte b in Encoding.UTF8.GetBytes(text)) h = unchecked((h ^ b) * 0x01000193u);
        return h;
    }

    /// <summary>MurmurHash3's 32-bit finaliser.</summary>
    static uint Fmix32(uint h)
    {
        h ^= h >> 16;
        h = unchecked(h * 0x85EBCA6Bu);
        h ^= h >> 13;
        h = unchecked(h * 0xC2B2AE35u);
        return h ^ (h >> 16);
    }
}
