using System.Text.Json;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

/// <summary>
/// The broadcasting arithmetic, elementwise math, comparisons, axis reductions, broadcasts and
/// softmaxes against PyTorch 1.13 (Fixtures/tensor_ops.json, written by
/// tools/make_tensor_ops_fixtures.py): forward values and the gradients of sum(upstream · y) with
/// respect to every float input, at 1e-5 relative. Non-finite values (the fixture's "inf", "-inf"
/// and "nan") must match exactly.
/// </summary>
public class TensorOpsFixtureTests
{
    const string File = "tensor_ops.json";

    public static TheoryData<string> Cases() => Fixture.CaseNames(File);

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string name)
    {
        var c = Fixture.Case(File, name);
        string op = c.GetProperty("op").GetString()!;
        var inputs = c.GetProperty("inputs").EnumerateArray().Select(input =>
        {
            var t = Build(Values(input.GetProperty("values")), input.Ints("shape"));
            // Comparisons take operands that require a gradient, to show they pass none on.
            t.RequiresGrad = input.GetProperty("grad").GetBoolean() || !c.TryGetProperty("upstream", out _);
            return t;
        }).ToArray();

        var y = Run(op, inputs, c.GetProperty("parameters"));
        Assert.Equal(new Shape(c.Ints("output_shape")), y.Shape);
        Matches(Values(c.GetProperty("output")), y.ToArray(), name + " output");

        if (!c.TryGetProperty("upstream", out var upstream))
        {
            Assert.False(y.RequiresGrad, $"{name}: a comparison must not record a gradient.");
            return;
        }
        y.Backward(Build(Values(upstream), y.Shape.ToArray()));
        var grads = c.GetProperty("grads").EnumerateArray().ToArray();
        for (int i = 0; i < inputs.Length; i++)
        {
            if (grads[i].ValueKind == JsonValueKind.Null) continue;
            Assert.True(inputs[i].Grad != null, $"{name}: input {i} got no gradient.");
            Matches(Values(grads[i]), inputs[i].Grad!.ToArray(), $"{name} grad {i}");
        }
    }

    [Fact]
    public void EveryOpIsCovered()
    {
        var ops = Fixture.Cases(File).Select(c => c.GetProperty("op").GetString()!).ToHashSet();
        string[] expected =
        [
            "add", "sub", "mul", "div", "pow", "maximum", "minimum",
            "add_scalar", "sub_scalar", "mul_scalar", "div_scalar", "pow_scalar",
            "exp", "log", "log1p", "sqrt", "rsqrt", "abs", "sign", "square", "sin", "cos", "neg", "reciprocal", "erf",
            "where", "clamp", "gt", "ge", "lt", "le", "eq", "ne",
            "sum", "mean", "broadcast_to", "expand", "masked_fill", "softmax", "log_softmax",
        ];
        Assert.Equal(expected.Order(), ops.Order());
    }

    static Tensor Run(string op, Tensor[] x, JsonElement parameters) => op switch
    {
        "add" => F.Add(x[0], x[1]),
        "sub" => F.Subtract(x[0], x[1]),
        "mul" => F.Multiply(x[0], x[1]),
        "div" => F.Divide(x[0], x[1]),
        "pow" => F.Pow(x[0], x[1]),
        "maximum" => F.Maximum(x[0], x[1]),
        "minimum" => F.Minimum(x[0], x[1]),
        "add_scalar" => WithScalar(x[0], parameters, (t, s) => t + s, (s, t) => s + t, F.Add),
        "sub_scalar" => WithScalar(x[0], parameters, (t, s) => t - s, (s, t) => s - t, null),
        "mul_scalar" => WithScalar(x[0], parameters, (t, s) => t * s, (s, t) => s * t, F.Multiply),
        "div_scalar" => WithScalar(x[0], parameters, (t, s) => t / s, (s, t) => s / t, null),
        "pow_scalar" => F.Pow(x[0], parameters.Float("scalar")),
        "exp" => F.Exp(x[0]),
        "log" => F.Log(x[0]),
        "log1p" => F.Log1p(x[0]),
        "sqrt" => F.Sqrt(x[0]),
        "rsqrt" => F.Rsqrt(x[0]),
        "abs" => F.Abs(x[0]),
        "sign" => F.Sign(x[0]),
        "square" => F.Square(x[0]),
        "sin" => F.Sin(x[0]),
        "cos" => F.Cos(x[0]),
        "neg" => -x[0],
        "reciprocal" => F.Reciprocal(x[0]),
        "erf" => F.Erf(x[0]),
        "where" => F.Where(x[0], x[1], x[2]),
        "clamp" => F.Clamp(x[0], OptionalFloat(parameters, "min"), OptionalFloat(parameters, "max")),
        "gt" => F.Gt(x[0], x[1]),
        "ge" => F.Ge(x[0], x[1]),
        "lt" => F.Lt(x[0], x[1]),
        "le" => F.Le(x[0], x[1]),
        "eq" => F.Eq(x[0], x[1]),
        "ne" => F.Ne(x[0], x[1]),
        "sum" => F.Sum(x[0], parameters.Ints("dims"), parameters.GetProperty("keepdim").GetBoolean()),
        "mean" => F.Mean(x[0], parameters.Ints("dims"), parameters.GetProperty("keepdim").GetBoolean()),
        "broadcast_to" => F.BroadcastTo(x[0], parameters.Ints("shape")),
        "expand" => x[0].Expand(parameters.Ints("shape")),
        "masked_fill" => F.MaskedFill(x[0], x[1], Number(parameters.GetProperty("value"))),
        "softmax" => F.Softmax(x[0], parameters.GetProperty("dim").GetInt32()),
        "log_softmax" => F.LogSoftmax(x[0], parameters.GetProperty("dim").GetInt32()),
        _ => throw new ArgumentException($"The fixture names an op this test does not know: {op}."),
    };

    /// <summary>
    /// The operator with the scalar on the side the case names; where F has a float overload for
    /// the tensor-first form, it must give the same bits (run outside the tape, so the graph checked is the operator's).
    /// </summary>
    static Tensor WithScalar(Tensor x, JsonElement parameters, Func<Tensor, float, Tensor> after, Func<float, Tensor, Tensor> before, Func<Tensor, float, Tensor>? function)
    {
        float scalar = parameters.Float("scalar");
        if (parameters.GetProperty("scalar_first").GetBoolean()) return before(scalar, x);
        var y = after(x, scalar);
        if (function != null)
        {
            using var noGrad = Sinapse.Autograd.GradMode.NoGrad();
            Assert.Equal(y.ToArray(), function(x, scalar).ToArray());
        }
        return y;
    }

    static float? OptionalFloat(JsonElement parameters, string name) =>
        parameters.TryGetProperty(name, out var value) ? (float)value.GetDouble() : null;

    static Tensor Build(float[] values, int[] shape) => shape.Length == 0 ? Tensor.Scalar(values[0]) : Tensor.FromArray(values, shape);

    /// <summary>A fixture number: JSON numbers, and "inf", "-inf", "nan" for what JSON cannot hold.</summary>
    static float Number(JsonElement value) => value.ValueKind == JsonValueKind.String
        ? value.GetString() switch
        {
            "inf" => float.PositiveInfinity,
            "-inf" => float.NegativeInfinity,
            "nan" => float.NaN,
            var text => throw new FormatException($"Not a fixture number: {text}."),
        }
        : (float)value.GetDouble();

    static float[] Values(JsonElement array) => array.EnumerateArray().Select(Number).ToArray();

    /// <summary>Non-finite references matched exactly, finite ones to 1e-5 relative (Expect.Close).</summary>
    static void Matches(float[] expected, float[] actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: expected {expected.Length} values, got {actual.Length}.");
        for (int i = 0; i < expected.Length; i++)
        {
            if (float.IsFinite(expected[i])) continue;
            Assert.True(float.IsNaN(expected[i]) ? float.IsNaN(actual[i]) : expected[i] == actual[i],
                $"{what}[{i}]: expected {expected[i]}, got {actual[i]}.");
            expected[i] = actual[i] = 0f;
        }
        Expect.Close(expected, actual, 1e-5, what);
    }
}
