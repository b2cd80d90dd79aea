using Sinapse.Autograd;
using Sinapse.Data;
using Sinapse.Layers;
using Sinapse.Ops;
using Sinapse.Serialization;
using Sinapse.Tensors;
using static Sinapse.Tests.Serialization.OnnxExportTests;

namespace Sinapse.Tests.Autograd;

/// <summary>
/// Export by tracing: layers written here, in user code, from the ops export to ONNX, run in ONNX
/// Runtime with Sinapse's outputs (1e-4) at two batch sizes (the batch axis stays dynamic), and
/// import back as a graph of ops that gives the same outputs.
/// </summary>
public class OnnxTraceTests
{
    /// <summary>A pre-norm transformer MLP block: x + Linear(GELU(Linear(LayerNorm(x)))).</summary>
    internal sealed class PreNormBlock : Module
    {
        private readonly LayerNorm norm;
        private readonly Linear up, down;

        public PreNormBlock(int features, int hidden, Rng rng)
        {
            norm = RegisterModule("norm", new LayerNorm(features));
            up = RegisterModule("up", new Linear(features, hidden, rng: rng));
            down = RegisterModule("down", new Linear(hidden, features, rng: rng));
            // LayerNorm starts as γ = 1, β = 0: other values check that they are exported.
            Tensor.Uniform(norm.Weight!.Shape, 0.5f, 1.5f, rng).Span.CopyTo(norm.Weight.Span);
            Tensor.Uniform(norm.Bias!.Shape, -0.5f, 0.5f, rng).Span.CopyTo(norm.Bias.Span);
        }

        protected override Tensor Forward(Tensor input) => input + down.Call(F.Gelu(up.Call(norm.Call(input)), "tanh"));

        public override Shape OutputShape(Shape input) => input;
    }

    /// <summary>Multi-head self-attention over [N, T, D]: softmax(QKᵀ/√d)·V per head, heads joined and projected.</summary>
    internal sealed class SelfAttention : Module
    {
        private readonly Linear query, key, value, output;
        private readonly int heads;

        public SelfAttention(int features, int heads, Rng rng)
        {
            this.heads = heads;
            query = RegisterModule("query", new Linear(features, features, rng: rng));
            key = RegisterModule("key", new Linear(features, features, rng: rng));
            value = RegisterModule("value", new Linear(features, features, rng: rng));
            output = RegisterModule("output", new Linear(features, features, rng: rng));
        }

        /// <summary>[N, T, D] → [N, heads, T, D/heads].</summary>
        private Tensor Split(Tensor x) => F.Permute(F.Reshape(x, x.Shape[0], x.Shape[1], heads, x.Shape[2] / heads), 0, 2, 1, 3);

        protected override Tensor Forward(Tensor input)
        {
            int n = input.Shape[0], steps = input.Shape[1], features = input.Shape[2];
            var q = Split(query.Call(input));
            var k = F.Transpose(Split(key.Call(input)), 2, 3);
            var v = Split(value.Call(input));
            var weights = F.Softmax(F.Matmul(q, k) * (1f / MathF.Sqrt(features / heads)), -1);
            var context = F.Reshape(F.Permute(F.Matmul(weights, v), 0, 2, 1, 3), n, steps, features);
            return output.Call(context);
        }

        public override Shape OutputShape(Shape input) => input;
    }

    /// <summary>The tensor ops that have an ONNX form, each once, in one user layer.</summary>
    internal sealed class TensorOps : Module
    {
        private readonly Tensor scale;

        public TensorOps(Rng rng) => scale = RegisterParameter("scale", Tensor.Uniform(new Shape(6), 0.5f, 1.5f, rng));

        protected override Tensor Forward(Tensor x)
        {
            var positive = F.Exp(x) + F.Abs(x);
            var tiled = F.Repeat(F.Slice(x, -1, 1, 6, 2), 1, 1, 2);
            var spread = F.BroadcastTo(F.Mean(x, [1], keepDim: true), -1, x.Shape[1], -1);
            var picked = F.OneHot(F.Argmax(x, -1), x.Shape[^1]) * tiled + spread * F.Argmax(x) / 24f + F.Max(x);
            var a = F.Log1p(positive) - F.Sqrt(positive) / (F.Rsqrt(positive + 1f) + 2f) + picked;
            var b = F.Pow(F.Clamp(x, -0.5f, 0.8f), 2f) * scale + F.Sign(x) * F.Sin(x) - F.Cos(x) * F.Reciprocal(positive);
            var c = F.Where(F.Gt(x, F.Tanh(x)), F.Sigmoid(x), F.Negate(F.Square(x)));
            var joined = F.Concat([a, F.Maximum(b, c), F.Minimum(a, c)], -1);
            var pooled = F.Sum(joined, [1], keepDim: true) + F.Mean(joined, [-1], keepDim: true) - F.Amax(joined, [1], keepDim: true) + F.Amin(joined, -1, keepDim: true);
            var moved = F.Permute(F.Unsqueeze(joined - pooled, 1), 0, 3, 1, 2);
            return F.Flatten(F.Pad(F.LogSoftmax(F.Squeeze(moved, 2), 1), [1, 2]));
        }

        /// <summary>[N, R, C] → [N, 3C, R + 3], flattened.</summary>
        public override Shape OutputShape(Shape input) => new(input[0], 3 * input[2] * (input[1] + 3));
    }

    public static TheoryData<string> Layers => [.. UserLayers.Keys];

    private static readonly Dictionary<string, Func<(Module Model, Shape Example)>> UserLayers = new()
    {
        ["pre-norm block"] = () => (new Sequential(new PreNormBlock(8, 16, new Rng(1)), new PreNormBlock(8, 12, new Rng(2))), new Shape(5, 8)),
        ["self-attention"] = () => (new Sequential(new SelfAttention(8, 2, new Rng(3)), new LayerNorm(8), new Linear(8, 3, rng: new Rng(4))), new Shape(5, 8)),
        ["embedding + attention"] = () => (new Sequential(new Embedding(11, 8, rng: new Rng(5)), new SelfAttention(8, 4, new Rng(6)), new Flatten(), new Linear(32, 2, rng: new Rng(7))), new Shape(4)),
    };

    private static Tensor ExampleInput(string name, Shape shape, ulong seed) => name.StartsWith("embedding", StringComparison.Ordinal)
        ? Tensor.FromArray(Tensor.Uniform(shape, 0f, 10.99f, new Rng(seed)).ToArray().Select(MathF.Floor).ToArray()).View(shape)
        : Tensor.Uniform(shape, -1f, 1f, new Rng(seed));

    [Theory, MemberData(nameof(Layers))]
    public void UserLayersRunInOnnxRuntimeAndImportBackWithTheSameOutputs(string name)
    {
        var (model, example) = UserLayers[name]();
        model.Eval();
        var bytes = OnnxExport.ToBytes(model, example);
        var imported = OnnxImport.Load(bytes, name);
        foreach (int batch in new[] { 2, 3 })
        {
            var input = ExampleInput(name, new Shape([batch, .. example.Dimensions]), (ulong)batch);
            var expected = Run(model, input).ToArray();
            Close(expected, RunOnnxRuntime(bytes, input));
            Close(expected, Run(imported, input).ToArray());
        }
    }

    [Fact]
    public void EveryTensorOpWithAnOnnxFormRunsInOnnxRuntime()
    {
        var model = new Sequential(new TensorOps(new Rng(8)));
        var bytes = OnnxExport.ToBytes(model, new Shape(4, 6));
        var input = Tensor.Uniform(new Shape(3, 4, 6), -2f, 2f, new Rng(9));
        Close(Run(model, input).ToArray(), RunOnnxRuntime(bytes, input));
    }

    [Fact]
    public void ParametersAreInitializersUnderTheirStateDictNames()
    {
        var model = new Sequential(new SelfAttention(8, 2, new Rng(3)), new Linear(8, 3, rng: new Rng(4)));
        var proto = Onnx.ModelProto.Parser.ParseFrom(OnnxExport.ToBytes(model, new Shape(5, 8)));
        var initializers = proto.Graph.Initializer.Select(i => i.Name).ToHashSet();
        // The 3-D input makes each Linear a MatMul by its transposed weight, which carries the weight's name.
        foreach (var (path, _) in model.NamedParameters())
            Assert.Contains(path.EndsWith(".weight", StringComparison.Ordinal) ? path + "_transposed" : path, initializers);
        Assert.Contains(proto.Graph.Node, node => node.OpType == "Softmax" && node.Name.StartsWith("0/", StringComparison.Ordinal));
    }

    [Fact]
    public void NothingIsRecordedWithoutATrace()
    {
        Assert.Null(OnnxTrace.Current);
        using (var trace = new OnnxTrace([], 1))
        {
            var x = Tensor.Ones(2, 3);
            trace.Bind(x, "x");
            F.Relu(x);
            Assert.Single(trace.Graph.Node);
        }
        Assert.Null(OnnxTrace.Current);
    }
}
