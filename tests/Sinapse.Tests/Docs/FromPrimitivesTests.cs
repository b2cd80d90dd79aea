using Sinapse.Autograd;
using Sinapse.Layers;
using Sinapse.Ops;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Docs;

// The examples of docs/guide.md's "From primitives" chapter, as user code: each class and each
// test body below is the guide's snippet, compiled and trained. Keep the two in step.

// guide: layer-norm
sealed class MyLayerNorm : Module
{
    private readonly Tensor gamma, beta;

    public MyLayerNorm(int features)
    {
        gamma = RegisterParameter("weight", Tensor.Ones(features));
        beta = RegisterParameter("bias", Tensor.Zeros(features));
    }

    protected override Tensor Forward(Tensor x)
    {
        var centered = x - x.Mean(-1, keepDim: true);
        var variance = centered.Square().Mean(-1, keepDim: true);
        return centered * (variance + 1e-5f).Rsqrt() * gamma + beta;
    }

    public override Shape OutputShape(Shape input) => input;
}
// end

// guide: attention
sealed class SelfAttention : Module
{
    private readonly Linear query, key, value;

    public SelfAttention(int features, Rng rng)
    {
        query = RegisterModule("query", new Linear(features, features, rng: rng));
        key = RegisterModule("key", new Linear(features, features, rng: rng));
        value = RegisterModule("value", new Linear(features, features, rng: rng));
    }

    protected override Tensor Forward(Tensor x)            // x: [batch, time, features]
    {
        var q = query.Call(x);
        var k = key.Call(x);
        var v = value.Call(x);
        var scores = q.Matmul(k.Transpose(-2, -1)) / MathF.Sqrt(x.Shape[^1]);
        return scores.Softmax(-1).Matmul(v);           // [batch, time, features]
    }

    public override Shape OutputShape(Shape input) => input;
}
// end

// guide: elman
sealed class ElmanCell : Module
{
    private readonly Tensor inputWeight, hiddenWeight, bias;

    public ElmanCell(int inputs, int hidden, Rng rng)
    {
        float bound = 1f / MathF.Sqrt(hidden);
        inputWeight = RegisterParameter("weight_ih", Tensor.Uniform(new Shape(inputs, hidden), -bound, bound, rng));
        hiddenWeight = RegisterParameter("weight_hh", Tensor.Uniform(new Shape(hidden, hidden), -bound, bound, rng));
        bias = RegisterParameter("bias", Tensor.Zeros(hidden));
        Hidden = hidden;
    }

    public int Hidden { get; }

    protected override Tensor Forward(Tensor x)            // x: [batch, time, inputs] → the last state [batch, hidden]
    {
        var h = Tensor.Zeros(x.Shape[0], Hidden);
        for (int t = 0; t < x.Shape[1]; t++)
            h = (x[.., t, ..].Matmul(inputWeight) + h.Matmul(hiddenWeight) + bias).Tanh();
        return h;
    }

    public override Shape OutputShape(Shape input) => new(input[0], Hidden);
}
// end

// guide: function
sealed class Swish : Function                          // x·σ(x)
{
    protected override Tensor Forward(FunctionContext context, Tensor[] inputs)
    {
        var x = inputs[0];
        var sigmoid = x.Sigmoid();
        context.SaveForBackward(x, sigmoid);
        return x * sigmoid;
    }

    protected override Tensor?[] Backward(FunctionContext context, Tensor gradOutput)
    {
        var (x, sigmoid) = (context.SavedTensors[0], context.SavedTensors[1]);
        return [gradOutput * sigmoid * (1f + x * (1f - sigmoid))];   // σ(x)·(1 + x·(1 − σ(x)))
    }
}
// end

public class FromPrimitivesTests
{
    /// <summary>Trains <paramref name="model"/> with Adam on (x, target) by mean squared error; the first and last losses.</summary>
    static (float First, float Last) Fit(Module model, Tensor x, Tensor target, int steps, float learningRate = 0.01f)
    {
        var optimizer = new Adam(model.Parameters(), learningRate);
        float first = 0, last = 0;
        for (int step = 0; step < steps; step++)
        {
            optimizer.ZeroGrad();
            var loss = F.MseLoss(model.Call(x), target);
            loss.Backward();
            optimizer.Step();
            if (step == 0) first = loss.Item();
            last = loss.Item();
        }
        return (first, last);
    }

    [Fact]
    public void TheCoursesNetworkAndItsCostWrittenByHandLearnXor()
    {
        // guide: omega
        var rng = new Rng(1);
        var x = Tensor.FromArray(new float[,] { { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 } });
        var y = Tensor.FromArray(new float[,] { { 0 }, { 1 }, { 1 }, { 0 } });
        var w1 = Tensor.Randn(new Shape(2, 4), rng);
        var b1 = Tensor.Zeros(4);
        var w2 = Tensor.Randn(new Shape(4, 1), rng);
        var b2 = Tensor.Zeros(1);
        Tensor[] theta = [w1, b1, w2, b2];
        foreach (var parameter in theta) parameter.RequiresGrad = true;

        Tensor Omega(Tensor input) => ((input.Matmul(w1) + b1).Sigmoid().Matmul(w2) + b2).Sigmoid();
        Tensor J(Tensor prediction, Tensor target) =>
            -(target * prediction.Log() + (1f - target) * (1f - prediction).Log()).Mean();

        var optimizer = new Sgd(theta, learningRate: 2f);
        for (int step = 0; step < 2000; step++)
        {
            optimizer.ZeroGrad();
            J(Omega(x), y).Backward();
            optimizer.Step();
        }
        // end

        var prediction = Omega(x);
        Assert.Equal([0f, 1f, 1f, 0f], prediction.ToArray().Select(p => MathF.Round(p)));
        Expect.Close(F.BinaryCrossEntropy(prediction, y).Item(), J(prediction, y).Item(), 1e-6, "J(θ) against BinaryCrossEntropy");
        Assert.True(J(prediction, y).Item() < 0.1f, $"J = {J(prediction, y).Item()}");
    }

    [Fact]
    public void AHandWrittenLayerNormMatchesTheLibrarysAndTrains()
    {
        var x = Tensor.Randn(new Shape(6, 8), new Rng(3));
        Expect.Close(new LayerNorm(8).Call(x).ToArray(), new MyLayerNorm(8).Call(x).ToArray(), 1e-5, "LayerNorm");
        Expect.GradientsMatch(v => new MyLayerNorm(5).Call(v[0]), Expect.Random(3, 5));

        var rng = new Rng(4);
        var inputs = Tensor.Randn(new Shape(64, 8), rng);
        var target = inputs.Sum(-1, keepDim: true);
        var model = new Sequential(new Linear(8, 32, rng: rng), new MyLayerNorm(32), new Relu(), new Linear(32, 1, rng: rng));
        var (first, last) = Fit(model, inputs, target, 300);
        Assert.True(last < first / 20, $"loss {first} -> {last}");
    }

    [Fact]
    public void SelfAttentionWrittenFromPrimitivesTrains()
    {
        var rng = new Rng(5);
        var sequences = Tensor.Randn(new Shape(32, 6, 4), rng);
        // Each sequence's target: the mean over time of its first feature.
        var target = sequences[.., .., 0].Mean(-1, keepDim: true);
        var attention = new SelfAttention(4, rng);
        var head = new Linear(4, 1, rng: rng);
        var model = new Sequential(attention, new MeanOverTime(), head);
        Expect.GradientsMatch(v => attention.Call(v[0]), Expect.Random(2, 3, 4));
        var (first, last) = Fit(model, sequences, target, 400);
        Assert.True(last < first / 20, $"loss {first} -> {last}");
    }

    [Fact]
    public void AnElmanCellLearnsToSumASequence()
    {
        var rng = new Rng(6);
        var sequences = Tensor.Uniform(new Shape(64, 5, 1), -0.5f, 0.5f, rng);
        var target = sequences.Sum([1, 2]).Unsqueeze(-1);
        var model = new Sequential(new ElmanCell(1, 16, rng), new Linear(16, 1, rng: rng));
        Expect.GradientsMatch(v => new ElmanCell(2, 3, new Rng(1)).Call(v[0]), Expect.Random(2, 4, 2));
        var (first, last) = Fit(model, sequences, target, 400);
        Assert.True(last < first / 20, $"loss {first} -> {last}");
    }

    [Fact]
    public void AUserFunctionPassesGradCheckAndTrains()
    {
        // guide: function-use
        var x = Tensor.Randn(new Shape(3, 4), new Rng(7));
        var check = GradCheck.Check(inputs => new Swish().Apply(inputs[0]), [x]);
        // end
        Assert.True(check.Passed, check.ToString());
        var input = Tensor.Randn(new Shape(3, 4), new Rng(8));
        Expect.Close((input * input.Sigmoid()).ToArray(), new Swish().Apply(input).ToArray(), 1e-6, "Swish");
    }

    /// <summary>[batch, time, features] → [batch, features].</summary>
    sealed class MeanOverTime : Module
    {
        protected override Tensor Forward(Tensor x) => x.Mean(1);
        public override Shape OutputShape(Shape input) => new(input[0], input[2]);
    }
}

/// <summary>The guide shows the snippets word for word: each "// guide: name" block of this file and of YourOwnLayerTests.cs appears in docs/guide.md.</summary>
public class GuideSnippetsTests
{
    [Fact]
    public void EveryMarkedBlockOfThisFileIsInTheGuide()
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "Docs");
        var guide = File.ReadAllText(Path.Combine(directory, "guide.md"));
        foreach (var (file, count) in new[] { ("FromPrimitivesTests.cs", 6), ("YourOwnLayerTests.cs", 2) })
        {
            var source = File.ReadAllText(Path.Combine(directory, file + ".txt"));
            var blocks = System.Text.RegularExpressions.Regex.Matches(source, @"^[ \t]*// guide: ([\w-]+)\n(.*?)^[ \t]*// end\n",
                System.Text.RegularExpressions.RegexOptions.Singleline | System.Text.RegularExpressions.RegexOptions.Multiline);
            Assert.Equal(count, blocks.Count);
            foreach (System.Text.RegularExpressions.Match block in blocks)
                Assert.True(guide.Contains(Dedent(block.Groups[2].Value)), $"docs/guide.md does not show the '{block.Groups[1].Value}' block of {file} as it is compiled.");
        }
    }

    /// <summary>The lines without their common leading whitespace, and without the final newline.</summary>
    static string Dedent(string text)
    {
        var lines = text.TrimEnd('\n').Split('\n');
        int indent = lines.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart().Length);
        return string.Join("\n", lines.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart()));
    }
}
