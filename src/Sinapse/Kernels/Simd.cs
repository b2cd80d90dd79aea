using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Sinapse.Kernels;

/// <summary>
/// The vector operations of the kernels written once for every vector width: a body generic
/// over <c>TSimd : ISimd&lt;TVector&gt;</c> runs as <see cref="Simd512"/> or <see cref="Simd256"/>.
/// </summary>
/// <remarks>
/// The JIT compiles a generic method separately for each struct type argument and inlines these
/// static members, so each instantiation is the same machine code as the body written out for
/// that width (check with <c>DOTNET_JitDisasm</c> after editing a body). Callers check the
/// hardware (<see cref="Vector512.IsHardwareAccelerated"/> and so on) before choosing a width.
/// </remarks>
internal unsafe interface ISimd<TVector> where TVector : struct
{
    /// <summary>Floats per vector.</summary>
    static abstract int Count { get; }

    static abstract TVector Load(float* source);

    static abstract void Store(TVector value, float* destination);

    /// <summary>Every lane <paramref name="value"/>.</summary>
    static abstract TVector Create(float value);

    static abstract TVector Add(TVector left, TVector right);

    static abstract TVector Multiply(TVector left, TVector right);

    /// <summary>left·right + addend, rounded once.</summary>
    static abstract TVector FusedMultiplyAdd(TVector left, TVector right, TVector addend);
}

/// <summary><see cref="ISimd{TVector}"/> over 16 floats (AVX-512).</summary>
internal readonly unsafe struct Simd512 : ISimd<Vector512<float>>
{
    public static int Count => 16;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(float* source) => Vector512.Load(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<float> value, float* destination) => value.Store(destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Create(float value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> left, Vector512<float> right) => left + right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Multiply(Vector512<float> left, Vector512<float> right) => left * right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> FusedMultiplyAdd(Vector512<float> left, Vector512<float> right, Vector512<float> addend) =>
        Vector512.FusedMultiplyAdd(left, right, addend);
}

/// <summary><see cref="ISimd{TVector}"/> over 8 floats (AVX2/FMA).</summary>
internal readonly unsafe struct Simd256 : ISimd<Vector256<float>>
{
    public static int Count => 8;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(float* source) => Vector256.Load(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> value, float* destination) => value.Store(destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Create(float value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> left, Vector256<float> right) => left + right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Multiply(Vector256<float> left, Vector256<float> right) => left * right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> FusedMultiplyAdd(Vector256<float> left, Vector256<float> right, Vector256<float> addend) =>
        Vector256.FusedMultiplyAdd(left, right, addend);
}
