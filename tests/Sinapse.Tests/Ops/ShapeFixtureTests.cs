using System.Text.Json;
using Sinapse.Autograd;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

/// <summary>The shape and indexing ops against PyTorch 1.13 on random shapes (Fixtures/shape_ops.json, written by tools/make_shape_fixtures.py).</summary>
public class ShapeFixtureTests
{
    const string File = "shape_ops.json";

    public static TheoryData<string> Cases() => Fixture.CaseNames(File);

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string name)
    {
        var c = Fixture.Case(File, name);
        string op = c.GetProperty("op").GetString()!;
        var inputs = c.GetProperty("inputs").EnumerateArray().Select(Load).ToArray();
        if (op != "one_hot") foreach (var input in inputs) input.RequiresGrad = true;
        var outputs = Run(op, inputs, c);
        var expected = c.GetProperty("outputs").EnumerateArray().ToArray();
        Assert.Equal(expected.Length, outputs.Length);
        for (int k = 0; k < outputs.Length; k++)
        {
            Assert.Equal(new Shape(expected[k].Ints("shape")), outputs[k].Shape);
            Expect.Close(expected[k].Floats("values"), outputs[k].Span, 1e-5, $"{name} output {k}");
        }
        if (op == "one_hot")
        {
            Assert.False(outputs[0].RequiresGrad);
            return;
        }

        // The loss Σ_k sum(upstream_k ⊙ output_k) has gradient upstream_k at output k.
        var loss = F.Sum(F.Multiply(outputs[0], Load(expected[0], "upstream")));
        for (int k = 1; k < outputs.Length; k++) loss = F.Add(loss, F.Sum(F.Multiply(outputs[k], Load(expected[k], "upstream"))));
        Tape.Backward(loss);
        var grads = c.GetProperty("inputs").EnumerateArray().ToArray();
        for (int n = 0; n < inputs.Length; n++)
            Expect.Close(grads[n].Floats("grad"), inputs[n].Grad?.ToArray() ?? new float[inputs[n].Length], 1e-5, $"{name} grad of input {n}");
    }

    [Fact]
    public void EveryOpIsCovered()
    {
        var ops = Fixture.Cases(File).Select(c => c.GetProperty("op").GetString()).ToHashSet();
        Assert.Equal(["chunk", "flatten", "flatten_batch", "gather", "index", "index_select", "movedim", "one_hot", "pad", "permute",
            "repeat", "reshape", "scatter_add", "slice", "squeeze", "stack", "transpose", "unsqueeze"], ops.Order());
    }

    static Tensor[] Run(string op, Tensor[] inputs, JsonElement c)
    {
        var p = c.GetProperty("parameters");
        var x = inputs[0];
        int Int(string key) => p.GetProperty(key).GetInt32();
        int? Bound(string key) => p.GetProperty(key).ValueKind == JsonValueKind.Null ? null : Int(key);
        Tensor Index() => Load(c.GetProperty("index"));
        return op switch
        {
            "reshape" => [F.Reshape(x, p.Ints("shape"))],
            "squeeze" => [F.Squeeze(x, p.Ints("dims"))],
            "unsqueeze" => [F.Unsqueeze(x, Int("dim"))],
            "flatten" => [F.Flatten(x, Int("start"), Int("end"))],
            "flatten_batch" => [F.Flatten(x)],
            "permute" => [F.Permute(x, p.Ints("dims"))],
            "transpose" => [F.Transpose(x, Int("dim0"), Int("dim1"))],
            "movedim" => [F.MoveDim(x, p.Ints("source"), p.Ints("destination"))],
            "slice" => [F.Slice(x, Int("dim"), Bound("start") ?? 0, Bound("end") ?? int.MaxValue, Int("step"))],
            "index" => [x[p.GetProperty("items").EnumerateArray().Select(IndexItem).ToArray()]],
            "index_select" => [F.IndexSelect(x, Int("dim"), Index())],
            "gather" => [F.Gather(x, Int("dim"), Index())],
            "scatter_add" => [F.ScatterAdd(x, Int("dim"), Index(), inputs[1])],
            "stack" => [F.Stack(inputs, Int("dim"))],
            "chunk" => F.Chunk(x, Int("chunks"), Int("dim")),
            "pad" => [F.Pad(x, p.Ints("pad"), p.Float("value"))],
            "repeat" => [F.Repeat(x, p.Ints("repeats"))],
            "one_hot" => [F.OneHot(x, Int("num_classes"))],
            _ => throw new ArgumentException($"no runner for op {op}"),
        };
    }

    /// <summary>{"int": i} is a position, {"start", "end"} a Python slice without step (null bounds left out; negative ones from the end).</summary>
    static TensorIndex IndexItem(JsonElement item)
    {
        if (item.TryGetProperty("int", out var position)) return position.GetInt32();
        static Index Bound(JsonElement bound, Index open) =>
            bound.ValueKind == JsonValueKind.Null ? open : bound.GetInt32() < 0 ? Index.FromEnd(-bound.GetInt32()) : Index.FromStart(bound.GetInt32());
        return new Range(Bound(item.GetProperty("start"), Index.Start), Bound(item.GetProperty("end"), Index.End));
    }

    static Tensor Load(JsonElement tensor) => Load(tensor, "values");

    static Tensor Load(JsonElement tensor, string values)
    {
        var shape = tensor.Ints("shape");
        var data = tensor.GetProperty(values).EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
        return shape.Length == 0 ? Tensor.Scalar(data[0]) : Tensor.FromArray(data, shape);
    }
}
